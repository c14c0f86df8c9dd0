"""Bones of the 2.5D puppet and the keypoints that define them.

Every mesh vertex is skinned to a few of these bones; each frame every bone gets one 2x3 affine
transform (photo pixels → output pixels), computed in :mod:`pose`.
"""

from __future__ import annotations

import cv2
import numpy as np

from gesticulate.skeleton import layout as L

FIXED, TORSO, HEAD = 0, 1, 2
L_UPPER, L_FORE, L_HAND = 3, 4, 5
R_UPPER, R_FORE, R_HAND = 6, 7, 8
LOWER = 9             # the hips (translation only): a walking speaker carries the whole body
FACE = 10             # the inner face (eyes, nose, mouth): the skull's, shifted by a turn's parallax
L_FINGERS = (11, 12, 13, 14, 15)      # thumb, index, middle, ring, little: each turns about its
R_FINGERS = (16, 17, 18, 19, 20)      # knuckle and stretches along itself (pose.Poser._fingers)
NUM_BONES = 21

# Per arm: bone ids and keypoints (shoulder, elbow, wrist, hand start). "left" is the person's.
ARMS = {
    "left": dict(upper=L_UPPER, fore=L_FORE, hand=L_HAND, fingers=L_FINGERS,
                 shoulder=L.LEFT_SHOULDER, elbow=L.LEFT_ELBOW, wrist=L.LEFT_WRIST,
                 hand_start=L.LEFT_HAND_START),
    "right": dict(upper=R_UPPER, fore=R_FORE, hand=R_HAND, fingers=R_FINGERS,
                  shoulder=L.RIGHT_SHOULDER, elbow=L.RIGHT_ELBOW, wrist=L.RIGHT_WRIST,
                  hand_start=L.RIGHT_HAND_START),
}
# Each finger bone's landmarks in its hand (0 the wrist): from its knuckle to its tip. The
# thumb's starts at its MCP, not at its base by the wrist, which lies inside the palm.
FINGER_CHAINS = ((2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))

# Face points that move rigidly with the skull (nose, eye corners, the jaw line by the ears):
# they drive the head transform. Lids, brows, lips and chin are left out, so that a blink, a
# raised brow or an open mouth does not move the head.
# Of those, the inner face's and the contour's by the ears: a head turning sideways (or
# nodding) moves the first across the second (parallax), and the skull with its hair goes with
# the contour, the eyes, nose and mouth with the inner face.
FACE_INNER = np.array(L.NOSE_BRIDGE + L.NOSE_BOTTOM + tuple(L.face(i) for i in (36, 39, 42, 45)))
FACE_OUTER = np.array([L.face(i) for i in (0, 1, 15, 16)])
HEAD_RIGID = np.concatenate([FACE_INNER, FACE_OUTER])
HEAD_BODY = np.array([L.NOSE, L.LEFT_EYE, L.RIGHT_EYE, L.LEFT_EAR, L.RIGHT_EAR])
# The inner face's outline: brows, nose, eyes and the mouth's outer lip; the face's: the jaw,
# and the brows lifted by FOREHEAD times the nose's length (the forehead turns with the face).
_INNER_OUTLINE = np.array([L.face(i) for i in range(17, 60)])
_JAW = np.array([L.face(i) for i in range(17)])
_BROWS = np.array([L.face(i) for i in range(17, 27)])
FOREHEAD = 0.6


def face_outlines(ref: np.ndarray, valid: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray] | None:
    """Convex outlines ``(K, 1, 2)`` float32 of the inner face and of the whole face (for
    ``cv2.pointPolygonTest``), or None unless the jaw, the brows and most of the inner face
    are seen."""
    if not (valid[_JAW].all() and valid[_BROWS].all()) or valid[_INNER_OUTLINE].sum() < 30:
        return None
    pts = ref[:, :2].astype(np.float64)
    up = pts[L.face(27)] - pts[L.face(33)]            # from the nose's base to its bridge
    brows = pts[_BROWS] + FOREHEAD * up
    inner = pts[_INNER_OUTLINE[valid[_INNER_OUTLINE]]]
    outer = np.vstack([pts[_JAW], brows])
    return (cv2.convexHull(inner.astype(np.float32)), cv2.convexHull(outer.astype(np.float32)))

MIN_CONFIDENCE = 0.3
# Rigging a limb needs more than "seen": detectors guess hidden elbows and wrists at 0.3–0.4
# (e.g. behind a helmet), and a rigged guess drags the torso texture around with it.
RIG_CONFIDENCE = 0.5


def valid_points(keypoints: np.ndarray, size: tuple[int, int], *,
                 margin: float = 0.0) -> np.ndarray:
    """Which keypoints are usable: confidence >= 0.3 and inside the image.

    Parameters
    ----------
    keypoints : np.ndarray
        ``(133, 3)`` x, y in pixels and confidence.
    size : tuple
        ``(w, h)`` image size in pixels.
    margin : float
        Pixels a point must stay inside the border.

    Returns
    -------
    np.ndarray
        ``(133,)`` bool.
    """
    w, h = size
    x, y, c = keypoints[:, 0], keypoints[:, 1], keypoints[:, 2]
    finite = np.isfinite(x) & np.isfinite(y) & np.isfinite(c)
    inside = (x >= margin) & (x <= w - 1 - margin) & (y >= margin) & (y <= h - 1 - margin)
    return finite & inside & (np.nan_to_num(c) >= MIN_CONFIDENCE)


def hand_center(keypoints: np.ndarray, start: int) -> np.ndarray:
    """Middle of the index, middle and little knuckles of the hand at ``start`` ``(2,)``."""
    idx = [start + L.HAND_INDEX[0], start + L.HAND_MIDDLE[0], start + L.HAND_LITTLE[0]]
    return keypoints[idx, :2].mean(axis=0)


def hand_valid(valid: np.ndarray, start: int) -> bool:
    """Whether a hand's wrist and knuckles are all usable."""
    idx = [start, start + L.HAND_INDEX[0], start + L.HAND_MIDDLE[0], start + L.HAND_LITTLE[0]]
    return bool(valid[idx].all())
