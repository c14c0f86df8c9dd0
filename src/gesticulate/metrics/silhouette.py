"""Silhouette integrity of rendered frames: is the person one whole piece with no holes?

A warp renderer that tears an arm off leaves a separate *piece* of person; one that cuts an
arm out of the torso and never fills it leaves a *hole* inside the silhouette. Both are
measured on MediaPipe's person segmentation of each frame, as fractions of the person's area,
and compared with the same figures on the real footage (a real person has holes too, e.g.
between a hand on the hip and the waist).
"""

from __future__ import annotations

from typing import Iterable

import cv2
import numpy as np

# Pieces and holes smaller than this fraction of the frame are segmentation noise (a speck of
# hair, a gap between fingers), not tears.
MIN_AREA = 0.0015


def mask_integrity(mask: np.ndarray, *, min_area: float = MIN_AREA) -> tuple[float, float]:
    """``(pieces, holes)`` of one person mask ``(H, W)`` bool.

    pieces : area of the person outside its largest 8-connected component (components of at
        least ``min_area`` of the frame), over the person's area.
    holes : area of background regions enclosed by the person (4-connected, not touching the
        frame border, at least ``min_area`` of the frame), over the filled silhouette's area.
    Both are 0 for an empty mask.
    """
    h, w = mask.shape
    floor = min_area * h * w
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    areas = areas[areas >= floor]
    if not len(areas):
        return 0.0, 0.0
    pieces = float((areas.sum() - areas.max()) / areas.sum())
    count, _, stats, _ = cv2.connectedComponentsWithStats((~mask).astype(np.uint8), connectivity=4)
    x, y, bw, bh, area = (stats[1:, i] for i in range(5))
    enclosed = (x > 0) & (y > 0) & (x + bw < w) & (y + bh < h) & (area >= floor)
    hole_area = float(area[enclosed].sum())
    return pieces, hole_area / (float(mask.sum()) + hole_area)


def silhouette_integrity(frames: Iterable[np.ndarray], *, threshold: float = 0.5
                         ) -> dict[str, float]:
    """Mean pieces and holes (see :func:`mask_integrity`) over RGB uint8 frames.

    Returns ``{"pieces": ..., "holes": ..., "pieces_max": ..., "holes_max": ...}``.
    """
    from gesticulate.segmentation import SelfieSegmenter

    pieces, holes = [], []
    with SelfieSegmenter() as seg:
        for frame in frames:
            p, h = mask_integrity(seg.probability(frame) > threshold)
            pieces.append(p)
            holes.append(h)
    if not pieces:
        return {"pieces": float("nan"), "holes": float("nan"),
                "pieces_max": float("nan"), "holes_max": float("nan")}
    return {"pieces": float(np.mean(pieces)), "holes": float(np.mean(holes)),
            "pieces_max": float(np.max(pieces)), "holes_max": float(np.max(holes))}
