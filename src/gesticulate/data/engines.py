"""Where per-source tasks run: in this process, a local process pool, or a Ray cluster.

All engines call the same function on the same arguments, so they produce the same clips and
manifest; results come back in completion order (the manifest is sorted afterwards).

A worker is one core: each pool worker is pinned to its own CPU (round-robin over the CPUs this
process may use) with its numeric libraries limited to one thread, and a single worker runs in
this process restricted to one CPU for the duration. So ``--workers N`` uses N cores, never
more (MediaPipe's and the decoder's helper threads would otherwise spread over idle cores, and
N such workers would fight over N cores), and memory grows with N, not with video length
(frames are streamed). Ray workers are limited to one thread but not pinned (Ray places them).
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from gesticulate.errors import OptionError

ENGINES = ("local", "ray")
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "NUMEXPR_NUM_THREADS")


def _die_with_parent() -> None:
    """Linux: a pool worker is killed when the build process dies (even by ``kill -9``), so
    no orphan keeps writing clips while a resumed build redoes the same source."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # not Linux: orphans finish their task and exit on the closed queue
        pass


def usable_cpus() -> list[int]:
    """The CPUs this process may run on (its affinity mask; all CPUs where there is none)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def _set_cpus(cpus) -> None:
    """Restrict the calling thread, and the threads it starts from now on, to ``cpus``."""
    try:
        os.sched_setaffinity(0, set(cpus))
    except (AttributeError, OSError):  # not Linux, or a mask the system refuses: run unpinned
        pass


@contextmanager
def _restricted_to(n: int):
    """This process's thread runs on ``n`` of its CPUs inside the block, as before after it."""
    before = usable_cpus()
    _set_cpus(before[:n])
    try:
        yield
    finally:
        _set_cpus(before)


def _init_pool_worker(counter, cpus: list[int]) -> None:
    _die_with_parent()
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    _set_cpus([cpus[index % len(cpus)]])
    limit_threads()


def limit_threads() -> None:
    """One thread for numeric libraries in this worker process (workers, not threads, scale)."""
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    try:
        import torch
        torch.set_num_threads(1)
    except Exception:  # torch is optional here; a failure only costs speed
        pass
    try:
        import cv2
        cv2.setNumThreads(1)
    except Exception:
        pass


def _call(fn: Callable, args: tuple) -> Any:
    return fn(*args)


def run_tasks(fn: Callable, tasks: list[tuple], *, workers: int = 1, engine: str = "local",
              ray_address: str | None = None) -> Iterator[Any]:
    """Run ``fn(*task)`` for every task; yield results as they finish.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled to the workers).
    tasks : list of tuple
        Positional arguments of each call, longest task first for good packing.
    workers : int
        Parallel workers; 1 with ``engine="local"`` runs in this process.
    engine : {"local", "ray"}
        Local process pool or Ray.
    ray_address : str or None
        Address of a running Ray cluster (``"auto"``, ``"ray://host:10001"``); None starts
        a local Ray instance with ``workers`` CPUs, shut down at the end.
    """
    if engine not in ENGINES:
        raise OptionError(f"engine {engine!r} is unknown; use one of {', '.join(ENGINES)}")
    if workers < 1:
        raise OptionError(f"workers={workers}; use 1 or more")
    if ray_address is not None and engine != "ray":
        raise OptionError("ray_address is only used with engine='ray'; add --engine ray")
    if engine == "ray":
        yield from _run_ray(fn, tasks, workers=workers, address=ray_address)
    elif workers == 1 or len(tasks) <= 1:
        with _restricted_to(workers):
            for t in tasks:
                yield fn(*t)
    else:
        yield from _run_pool(fn, tasks, workers=workers)


def _run_pool(fn: Callable, tasks: list[tuple], *, workers: int) -> Iterator[Any]:
    import multiprocessing as mp

    # spawn: MediaPipe and torch are not fork-safe once their threads have started.
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx,
                             initializer=_init_pool_worker,
                             initargs=(ctx.Value("i", 0), usable_cpus())) as pool:
        pending = {pool.submit(_call, fn, t) for t in tasks}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield f.result()
        finally:
            for f in pending:
                f.cancel()


def _ray_call(fn: Callable, args: tuple) -> Any:
    limit_threads()
    return fn(*args)


def _run_ray(fn: Callable, tasks: list[tuple], *, workers: int,
             address: str | None) -> Iterator[Any]:
    from gesticulate.extras import require
    ray = require("ray", extra="ray", what="--engine ray")
    started = False
    if not ray.is_initialized():
        if address is None:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False)
        started = True
    try:
        # Tasks are idempotent (clips are replaced atomically), so a lost worker's task is re-run.
        remote = ray.remote(num_cpus=1, max_retries=2)(_ray_call)
        fn_ref = ray.put(fn)
        pending = [remote.remote(fn_ref, t) for t in tasks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield ray.get(ref)
    finally:
        if started:
            ray.shutdown()
