"""The warp renderer's per-frame loops, compiled by Numba (BSD-2-Clause; also a librosa
dependency).

Each frame's backward map is rasterised triangle by triangle (:func:`mesh.rasterise_backward`)
and the photo's ring of backdrop is restored pixel by pixel (:class:`renderer.WarpRenderer`);
in NumPy both were repeats and gathers over every candidate pixel. A loop is compiled the first
time a process asks for it and kept on disk (0.9 s the first time on this machine, 0.3 s from
the cache); the renderer compiles them while it sets up (:func:`mesh.warm_up`,
``renderer._compile_loops``), so the render workers it forks inherit the compiled code instead
of each compiling it. Numba checks no bounds: the loops' callers keep every index inside.
"""

from __future__ import annotations

from typing import Callable

_COMPILED: dict[Callable, Callable] = {}


def compiled(fn: Callable) -> Callable:
    """``fn`` compiled in nopython mode, once per process."""
    got = _COMPILED.get(fn)
    if got is None:
        import numba
        try:
            got = numba.njit(cache=True, nogil=True)(fn)
        except RuntimeError:    # nowhere to cache (a read-only install, no home): compile
            got = numba.njit(nogil=True)(fn)
        _COMPILED[fn] = got
    return got
