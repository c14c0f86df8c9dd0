"""The ``pose`` renderer: DWPose-style pose maps instead of pixels of the photo.

It drives any off-the-shelf pose-to-video model (DESIGN.md, Stage 2 "pose") with our stage 1:
the frames it yields are what `gesticulate export --format posemap-video` writes, rendered
in the photo's frame so they line up with the reference image.
"""

from __future__ import annotations

import numpy as np

from gesticulate.skeleton.draw import draw_pose_map


class PoseRenderer:
    """Same interface as :class:`~gesticulate.render.warp.WarpRenderer`: ``render(kp) -> frame``."""

    def __init__(self, image: np.ndarray, reference: np.ndarray, *, style: str = "dwpose",
                 threshold: float = 0.3) -> None:
        self.size = (image.shape[1], image.shape[0])
        self.style, self.threshold = style, threshold

    def render(self, keypoints: np.ndarray) -> np.ndarray:
        """(133, 3) keypoints in the photo's pixels → RGB uint8 pose map (H, W, 3)."""
        return draw_pose_map(keypoints, size=self.size, threshold=self.threshold, style=self.style)
