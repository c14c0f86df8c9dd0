"""OpenPose body orders (COCO-18, BODY_25) and conversion to and from the 133-point layout.

OpenPose-18 ("COCO-18", the order DWPose/controlnet_aux draw and EchoMimicV2 stores):
nose, neck, r-shoulder, r-elbow, r-wrist, l-shoulder, l-elbow, l-wrist, r-hip, r-knee, r-ankle,
l-hip, l-knee, l-ankle, r-eye, l-eye, r-ear, l-ear. The neck is not a COCO point: it is the
mid-shoulder point, as DWPose computes it.

BODY_25 (OpenPose's default model) is OpenPose-18 with a mid-hip after l-wrist and the six
foot points (l-big-toe, l-small-toe, l-heel, r-big-toe, r-small-toe, r-heel) at the end —
the same foot order as COCO-WholeBody's 17–22.

The drawing (:mod:`gesticulate.skeleton.draw`) and the OpenPose and EchoMimicV2 formats
(:mod:`gesticulate.formats`) both use these conversions, so they live in the lower layer.
"""

from __future__ import annotations

import numpy as np

from gesticulate.errors import InputError
from gesticulate.skeleton import layout as L

NECK, MID_HIP = -1, -2  # markers for points that COCO-WholeBody does not have

OPENPOSE18_NAMES = ("nose", "neck", "right_shoulder", "right_elbow", "right_wrist",
                    "left_shoulder", "left_elbow", "left_wrist", "right_hip", "right_knee",
                    "right_ankle", "left_hip", "left_knee", "left_ankle", "right_eye",
                    "left_eye", "right_ear", "left_ear")
# COCO-17 index of each OpenPose-18 point (NECK = mid-shoulder).
OPENPOSE18_FROM_COCO = np.array([0, NECK, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3])
# COCO-WholeBody index of each BODY_25 point (MID_HIP = mid-hip; 19–24 are the feet 17–22).
BODY25_FROM_COCO = np.array([0, NECK, 6, 8, 10, 5, 7, 9, MID_HIP, 12, 14, 16, 11, 13, 15,
                             2, 1, 4, 3, 17, 18, 19, 20, 21, 22])

BODY_ORDERS = {"coco18": OPENPOSE18_FROM_COCO, "body25": BODY25_FROM_COCO}


def _midpoint(kp: np.ndarray, a: int, b: int) -> np.ndarray:
    """Mid-point of keypoints ``a`` and ``b`` ``(..., 3)``; confidence = the smaller of the two."""
    out = 0.5 * (kp[..., a, :] + kp[..., b, :])
    out[..., 2] = np.minimum(kp[..., a, 2], kp[..., b, 2])
    return out


def to_openpose_body(keypoints: np.ndarray, *, order: str = "coco18") -> np.ndarray:
    """133-layout keypoints ``(..., 133, 3)`` → OpenPose body ``(..., 18 or 25, 3)``.

    The neck (and BODY_25's mid-hip) is the mid-point of the shoulders (hips) with the smaller of
    their two confidences, so it is shown only when both shoulders are.
    """
    idx = BODY_ORDERS[order]
    kp = np.asarray(keypoints, dtype=np.float32)
    out = kp[..., np.maximum(idx, 0), :].copy()
    out[..., idx == NECK, :] = _midpoint(kp, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)[..., None, :]
    if (idx == MID_HIP).any():
        out[..., idx == MID_HIP, :] = _midpoint(kp, L.LEFT_HIP, L.RIGHT_HIP)[..., None, :]
    return out


def to_openpose18(keypoints: np.ndarray) -> np.ndarray:
    """133-layout ``(..., 133, 3)`` → OpenPose-18 ``(..., 18, 3)`` (neck = mid-shoulder)."""
    return to_openpose_body(keypoints, order="coco18")


def from_openpose_body(body: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write an OpenPose body ``(..., 18 or 25, 3)`` into 133-layout ``out`` ``(..., 133, 3)``.

    Neck and mid-hip have no place in the 133 layout and are dropped. Returns ``out``.
    """
    body = np.asarray(body)  # no cast: out keeps its own precision
    idx = {18: OPENPOSE18_FROM_COCO, 25: BODY25_FROM_COCO}.get(body.shape[-2])
    if idx is None:
        raise InputError(f"an OpenPose body has 18 (COCO-18) or 25 (BODY_25) points, not "
                         f"{body.shape[-2]}; export it with one of those models")
    keep = idx >= 0
    out[..., idx[keep], :] = body[..., keep, :]
    return out
