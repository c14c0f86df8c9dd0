"""Shared helpers of the motion metrics: normalised local coordinates by region.

All motion metrics work in the project's local representation (DESIGN.md "For learning",
:mod:`gesticulate.skeleton.normalize`): root at the neck, one unit = one shoulder width, so
numbers are comparable across people, crops and video sizes. Unit used in every docstring:
"sw" = shoulder widths, "sw/s" = shoulder widths per second.
"""

from __future__ import annotations

import numpy as np

from gesticulate.errors import InputError, OptionError
from gesticulate.skeleton import layout
from gesticulate.skeleton.normalize import LOCAL_ROW, to_local

# Confidence under which a detected point counts as "not seen" in the metrics. Lower than the
# training mask (0.7, CSG-405) because MediaPipe's pose visibility for wrists is often 0.5–0.9
# on real footage and the metrics must not drop the gesturing joints.
MIN_CONFIDENCE = 0.3


# Regions the motion metrics report (legs and feet are not part of the local representation).
METRIC_REGIONS: dict[str, np.ndarray] = {
    "upper_body": np.arange(0, 11),
    "face": np.arange(23, 91),
    "hands": np.arange(91, 133),
    "left_hand": np.arange(91, 112),
    "right_hand": np.arange(112, 133),
    "lips": np.array(layout.LIPS),
    "all": layout.UPPER_BODY_INDICES,
}


def as_keypoints(x) -> np.ndarray:
    """``SkeletonSequence`` or array → float32 ``(T, 133, 3)``; raises InputError otherwise."""
    kp = np.asarray(getattr(x, "keypoints", x), dtype=np.float32)
    if kp.ndim != 3 or kp.shape[1:] != (layout.NUM_KEYPOINTS, 3):
        raise InputError(f"expected keypoints of shape (T, 133, 3), got {kp.shape}; convert the "
                         "skeleton to the coco_wholebody_133 layout first")
    if len(kp) < 2:
        raise InputError("a skeleton sequence needs at least 2 frames for motion metrics")
    return kp


def region_indices(region: str) -> np.ndarray:
    """133-layout indices of a metric region (``upper_body``, ``face``, ``hands``, …)."""
    if region not in METRIC_REGIONS:
        raise OptionError(f"unknown region {region!r}; use one of {', '.join(METRIC_REGIONS)}")
    return METRIC_REGIONS[region]


def local_region(keypoints: np.ndarray, region: str) -> tuple[np.ndarray, np.ndarray]:
    """Local coordinates ``(T, K, 2)`` in sw and confidence ``(T, K)`` of one region.

    The root (median neck) and scale (median shoulder width) are per-clip constants, as in
    :func:`gesticulate.skeleton.normalize.to_local`, so head and torso motion survive.
    """
    local, conf = to_local(as_keypoints(keypoints))
    rows = LOCAL_ROW[region_indices(region)]
    return local[:, rows], conf[:, rows]
