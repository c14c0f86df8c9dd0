"""Stage 2: skeleton sequence → frames. ``warp`` (training-free, CPU) is the default;
``pose`` draws DWPose-style maps.

Imports are lazy so that ``gesticulate.render.pose`` does not pull in the warp renderer.
"""

from __future__ import annotations


def __getattr__(name: str):
    if name == "WarpRenderer":
        from gesticulate.render.warp import WarpRenderer

        return WarpRenderer
    raise AttributeError(name)


__all__ = ["WarpRenderer"]
