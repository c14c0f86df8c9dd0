"""COCO-WholeBody 133-keypoint layout in DWPose order — the one skeleton format of the project.

Index ranges (DESIGN.md, "The skeleton"):

* body 0–16 (COCO-17): nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles
* feet 17–22: left big toe, left small toe, left heel, right big toe, right small toe, right heel
* face 23–90: the 68 iBUG points (jaw 0–16, brows 17–26, nose 27–35, eyes 36–47,
  outer lips 48–59, inner lips 60–67), so iBUG point ``i`` is keypoint ``23 + i``
* left hand 91–111 and right hand 112–132: wrist, then thumb, index, middle, ring and
  little finger, four joints each (base to tip)

"Left" and "right" are the person's own sides (the person's left shoulder appears on the image's
right in a frontal photo), as in COCO.

An array of keypoints is ``(T, 133, 3)`` (or ``(133, 3)`` for one frame): x and y in pixels of
the frame they belong to, and a confidence in 0..1 where 0 means "not seen".
"""

from __future__ import annotations

import numpy as np

LAYOUT_NAME = "coco_wholebody_133"
NUM_KEYPOINTS = 133

BODY_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)
FOOT_NAMES = (
    "left_big_toe", "left_small_toe", "left_heel",
    "right_big_toe", "right_small_toe", "right_heel",
)

# Named body points.
NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR = 0, 1, 2, 3, 4
LEFT_SHOULDER, RIGHT_SHOULDER = 5, 6
LEFT_ELBOW, RIGHT_ELBOW = 7, 8
LEFT_WRIST, RIGHT_WRIST = 9, 10
LEFT_HIP, RIGHT_HIP = 11, 12
LEFT_KNEE, RIGHT_KNEE = 13, 14
LEFT_ANKLE, RIGHT_ANKLE = 15, 16

# Ranges (Python slices) of each part.
BODY = slice(0, 17)
FEET = slice(17, 23)
FACE = slice(23, 91)
LEFT_HAND = slice(91, 112)
RIGHT_HAND = slice(112, 133)
HANDS = slice(91, 133)

FACE_START = 23
LEFT_HAND_START = 91
RIGHT_HAND_START = 112


def face(i: int) -> int:
    """Keypoint index of iBUG-68 face point ``i`` (0-based)."""
    return FACE_START + i


# iBUG-68 groups, as 133-layout indices.
JAW = tuple(face(i) for i in range(0, 17))
RIGHT_BROW = tuple(face(i) for i in range(17, 22))
LEFT_BROW = tuple(face(i) for i in range(22, 27))
NOSE_BRIDGE = tuple(face(i) for i in range(27, 31))
NOSE_BOTTOM = tuple(face(i) for i in range(31, 36))
RIGHT_EYE_CONTOUR = tuple(face(i) for i in range(36, 42))  # person's right eye
LEFT_EYE_CONTOUR = tuple(face(i) for i in range(42, 48))
OUTER_LIPS = tuple(face(i) for i in range(48, 60))
INNER_LIPS = tuple(face(i) for i in range(60, 68))
LIPS = OUTER_LIPS + INNER_LIPS
MOUTH_LEFT_CORNER = face(48)   # image-left corner in a frontal photo (iBUG 49)
MOUTH_RIGHT_CORNER = face(54)  # iBUG 55
INNER_LIP_TOP = face(62)       # iBUG 63
INNER_LIP_BOTTOM = face(66)    # iBUG 67
CHIN = face(8)

# Hand joints within one hand (0..20), as in DWPose / MediaPipe.
HAND_WRIST = 0
HAND_THUMB = (1, 2, 3, 4)
HAND_INDEX = (5, 6, 7, 8)
HAND_MIDDLE = (9, 10, 11, 12)
HAND_RING = (13, 14, 15, 16)
HAND_LITTLE = (17, 18, 19, 20)
HAND_FINGERS = (HAND_THUMB, HAND_INDEX, HAND_MIDDLE, HAND_RING, HAND_LITTLE)

# Bones for drawing and for bone-length checks: (parent, child) pairs of 133-layout indices.
BODY_BONES = (
    (LEFT_SHOULDER, RIGHT_SHOULDER),
    (LEFT_SHOULDER, LEFT_ELBOW), (LEFT_ELBOW, LEFT_WRIST),
    (RIGHT_SHOULDER, RIGHT_ELBOW), (RIGHT_ELBOW, RIGHT_WRIST),
    (LEFT_SHOULDER, LEFT_HIP), (RIGHT_SHOULDER, RIGHT_HIP), (LEFT_HIP, RIGHT_HIP),
    (LEFT_HIP, LEFT_KNEE), (LEFT_KNEE, LEFT_ANKLE),
    (RIGHT_HIP, RIGHT_KNEE), (RIGHT_KNEE, RIGHT_ANKLE),
    (NOSE, LEFT_EYE), (NOSE, RIGHT_EYE), (LEFT_EYE, LEFT_EAR), (RIGHT_EYE, RIGHT_EAR),
)
FOOT_BONES = ((LEFT_ANKLE, 17), (LEFT_ANKLE, 18), (LEFT_ANKLE, 19),
              (RIGHT_ANKLE, 20), (RIGHT_ANKLE, 21), (RIGHT_ANKLE, 22))


def hand_bones(start: int) -> tuple[tuple[int, int], ...]:
    """Bones of the hand whose wrist is keypoint ``start``: wrist→base→…→tip per finger."""
    bones = []
    for finger in HAND_FINGERS:
        chain = (HAND_WRIST,) + finger
        bones.extend((start + a, start + b) for a, b in zip(chain[:-1], chain[1:]))
    return tuple(bones)


LEFT_HAND_BONES = hand_bones(LEFT_HAND_START)
RIGHT_HAND_BONES = hand_bones(RIGHT_HAND_START)

# Upper body for learning (DESIGN.md: legs and feet dropped): body 0–10, face, hands.
UPPER_BODY_INDICES = np.array(list(range(0, 11)) + list(range(23, 133)), dtype=np.int64)



def _mirror() -> np.ndarray:
    """``(133,)`` the point each point becomes in a left-right mirrored picture: body pairs
    (eyes, ears, shoulders, elbows, wrists, hips, knees, ankles, feet), the 68 face points
    (iBUG order: jaw, brows, nose, eyes and lips reversed across the face's midline) and the
    two hands swapped."""
    m = np.arange(NUM_KEYPOINTS)
    pairs = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16),
             (17, 20), (18, 21), (19, 22)]
    face = [(i, 16 - i) for i in range(8)] + [(17 + i, 26 - i) for i in range(5)]
    face += [(31, 35), (32, 34), (36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]
    face += [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58), (60, 64), (61, 63), (65, 67)]
    pairs += [(FACE_START + a, FACE_START + b) for a, b in face]
    pairs += [(LEFT_HAND_START + i, RIGHT_HAND_START + i) for i in range(21)]
    for a, b in pairs:
        m[a], m[b] = b, a
    return m


MIRROR = _mirror()

# Region index sets (MMGT motion masks; EMO2 hands as end effectors).
REGIONS: dict[str, np.ndarray] = {
    "body": np.arange(0, 23),
    "face": np.arange(23, 91),
    "lips": np.array(LIPS),
    "left_hand": np.arange(91, 112),
    "right_hand": np.arange(112, 133),
    "hands": np.arange(91, 133),
}


def neck(keypoints: np.ndarray) -> np.ndarray:
    """Mid-shoulder point ``(..., 2)`` — the root of the local representation (CSG-405)."""
    return 0.5 * (keypoints[..., LEFT_SHOULDER, :2] + keypoints[..., RIGHT_SHOULDER, :2])


def shoulder_width(keypoints: np.ndarray) -> np.ndarray:
    """Distance between the shoulders ``(...)`` in the keypoints' units."""
    d = keypoints[..., LEFT_SHOULDER, :2] - keypoints[..., RIGHT_SHOULDER, :2]
    return np.linalg.norm(d, axis=-1)


HAND_FOUND = 5          # of its 21 points seen: the hand was found, its wrist not guessed


def hand_found(keypoints: np.ndarray, hand: slice, min_confidence: float = 0.3) -> np.ndarray:
    """``(...,)`` bool: the hand ``hand`` (:data:`LEFT_HAND` or :data:`RIGHT_HAND`) of
    ``keypoints (..., 133, 3)`` was found, :data:`HAND_FOUND` of its points at least
    ``min_confidence``. A wrist without its hand is a tracker's guess (under the frame's edge,
    behind a lectern)."""
    return (keypoints[..., hand, 2] >= min_confidence).sum(axis=-1) >= HAND_FOUND


def inside(points: np.ndarray, size: tuple[int, int], margin: float = 0.0) -> np.ndarray:
    """``(...,)`` bool: points ``(..., >=2)`` (x, y in pixels) lying inside a picture of ``size``
    ``(w, h)`` at least ``margin`` (a share of its width and height) from its edge."""
    w, h = size
    x, y = points[..., 0], points[..., 1]
    return (x >= margin * w) & (x <= (1 - margin) * w) & (y >= margin * h) & (y <= (1 - margin) * h)
