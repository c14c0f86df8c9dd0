"""The training-free ``warp`` renderer (stage 2 default): a layered 2.5D puppet of the photo."""

from gesticulate.render.warp.renderer import WarpRenderer

__all__ = ["WarpRenderer"]
