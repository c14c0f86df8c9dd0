"""MediaPipe Holistic landmarks → the COCO-WholeBody 133 layout (DWPose order).

Holistic returns four landmark sets, all normalised to the image (x / width, y / height):

* pose, 33 points (BlazePose topology) with a ``visibility`` per point,
* face mesh, 468 points (478 with ``refine_face_landmarks=True``: + 10 iris points),
* left hand and right hand, 21 points each, already in DWPose order (wrist, then thumb, index,
  middle, ring and little finger, base to tip).

Holistic's ``left_hand_landmarks`` is the *person's* left hand (checked on
``desk_host_body.png``: it lies on the image's right, next to pose point 15, the person's left
wrist), which is also the COCO convention of :mod:`gesticulate.skeleton.layout`, so no swap is
needed.

Confidences: body points take the pose ``visibility``. The solutions API gives no score for
a face or a hand, so theirs are graded from how well the two models agree
(:func:`part_confidence`): a hand whose wrist lies where the pose model puts the wrist, which
it sees clearly, scores near 1; a hand found a palm or more away from it, or at a wrist the
pose model hardly sees, under the 0.7 that training masks at (CSG-405) — but never under
:data:`PART_FLOOR`, so that what the renderer draws (confidence ≥ 0.3) is the same as before.
The face likewise, from its nose tip against the pose nose. Parts not detected are 0, and so is
a hand Holistic returned as both hands (:data:`SAME_HAND`) where it agrees worse. A point
outside the image keeps its coordinates, and its confidence is capped at
:data:`OUTSIDE_CONFIDENCE`. :data:`CONFIDENCE_SOURCE` says all this in the skeleton files.
"""

from __future__ import annotations

import numpy as np

from gesticulate.skeleton.layout import (
    FACE_START, LEFT_HAND_START, NUM_KEYPOINTS, RIGHT_HAND_START,
)

# Highest confidence of the points of a detected face / hand (the models agree fully).
DETECTED_CONFIDENCE = 1.0
# Lowest confidence of a detected face / hand: above the renderer's 0.3 ("seen").
PART_FLOOR = 0.35
# A detected part the pose model says nothing about (no pose, or its joint unseen): trusted,
# above training's 0.7 mask (a portrait's face must train the lips).
UNCHECKED = 0.8
# How far (in palm lengths for a hand, face widths for the face) the part's anchor may lie
# from the pose model's before the agreement falls to 1/e.
HAND_REACH = 1.5
FACE_REACH = 0.25
CONFIDENCE_SOURCE = {
    "body": "MediaPipe pose visibility",
    "hands": "MediaPipe hand detected, graded by its wrist's agreement with the pose wrist and "
             "that wrist's visibility",
    "face": "MediaPipe face mesh detected, graded by its nose tip's agreement with the pose "
            "nose and that nose's visibility",
}
# Highest confidence of a point outside the image (below the 0.3 drawing threshold of DWPose).
OUTSIDE_CONFIDENCE = 0.1
# Holistic crops each hand's region from its pose wrist; when one hand lies over the other
# wrist's region (a hand across the chest, the other arm under the frame's edge), both crops
# hold the same hand and it comes back twice. Two hands whose finger points (past the
# knuckles: FINGER_POINTS) lie this close (median distance, in palm lengths) are one hand:
# avspeech_sample1's right hand, returned as her left too, its fingers 0.16 apart at 256 px
# and 0.20 at 512. The copy's wrist and palm follow the other crop (1.4 palms apart at 512),
# so over all 21 points the pair was 0.31 apart there, past the 0.3 this was once taken
# over, and the render drew a second left hand on her right one. Two real hands held
# together came 0.39 apart (hbr_speaker7, fingers laced in the lap), 0.50
# (ted_lia_driving3) and 0.90 (avspeech_sample2, on a desk); two hands steepled, fingertips
# together, come as close over their fingers, but as a left and a right hand they are each
# other's mirror image (:func:`_mirrored`), and a copy is not.
SAME_HAND = 0.3
MIRROR_SURE = 0.3          # ... unless mirror images of each other, each turned at least this
FINGER_POINTS = np.array([2, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15, 16, 18, 19, 20])

# BlazePose index of each COCO body point 0–16 (nose, eyes, ears, shoulders, elbows, wrists,
# hips, knees, ankles). BlazePose's eye points are the pupil centres (2 and 5).
POSE_TO_BODY = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)

# BlazePose index of each foot point 17–22 (left big toe, small toe, heel, then right). BlazePose
# has one toe point ("foot index", the tip of the foot), used for the big toe; it has no small
# toe, so the small toe copies the foot-index coordinates with confidence 0 ("not seen").
POSE_TO_FEET = (31, 31, 29, 32, 32, 30)
FEET_MISSING = (1, 4)  # positions within POSE_TO_FEET whose confidence is forced to 0

# Face-mesh indices of the 68 iBUG points, in iBUG order (jaw from the image-left side, brows,
# nose bridge and bottom, eyes, outer lips clockwise from the image-left corner, inner lips).
# A point with two mesh indices is their mean. Correspondence from Peizhi Yan's
# "Mediapipe_2_Dlib_Landmarks" (2024), checked visually on real photos.
FACE_MESH_TO_IBUG68: tuple[tuple[int, ...], ...] = (
    # jaw 0–16
    (127,), (234,), (93,), (132, 58), (58, 172), (136,), (150,), (176,), (152,),
    (400,), (379,), (365,), (397, 288), (361,), (323,), (454,), (356,),
    # right brow 17–21 (person's right), left brow 22–26
    (70,), (63,), (105,), (66,), (107,),
    (336,), (296,), (334,), (293,), (300,),
    # nose bridge 27–30, nose bottom 31–35
    (168, 6), (197, 195), (5,), (4,),
    (75,), (97,), (2,), (326,), (305,),
    # right eye 36–41, left eye 42–47
    (33,), (160,), (158,), (133,), (153,), (144,),
    (362,), (385,), (387,), (263,), (373,), (380,),
    # outer lips 48–59
    (61,), (39,), (37,), (0,), (267,), (269,), (291,), (321,), (314,), (17,), (84,), (91,),
    # inner lips 60–67
    (78,), (82,), (13,), (312,), (308,), (317,), (14,), (87,),
)


def _face_mesh_matrix() -> np.ndarray:
    """(68, 468) averaging matrix: row i is the mean over the mesh points of iBUG point i."""
    m = np.zeros((68, 468), dtype=np.float32)
    for i, idx in enumerate(FACE_MESH_TO_IBUG68):
        m[i, list(idx)] = 1.0 / len(idx)
    return m


_FACE_MATRIX = _face_mesh_matrix()


def landmarks_to_coco133(*, pose: np.ndarray | None, face: np.ndarray | None,
                         left_hand: np.ndarray | None, right_hand: np.ndarray | None,
                         image_size: tuple[int, int]) -> np.ndarray:
    """Map Holistic landmark arrays (normalised coordinates) to one 133-point frame.

    Parameters
    ----------
    pose : np.ndarray, shape (33, 3), or None
        BlazePose x, y (normalised to 0..1 of width and height) and visibility.
    face : np.ndarray, shape (468, 2) or (478, 2), or None
        Face-mesh x, y, normalised.
    left_hand, right_hand : np.ndarray, shape (21, 2), or None
        The person's left / right hand, normalised.
    image_size : tuple of int
        (width, height) in pixels of the frame the output refers to.

    Returns
    -------
    np.ndarray, shape (133, 3), float32
        x, y in pixels and confidence in 0..1; parts not detected are all zeros.
    """
    w, h = image_size
    out = np.zeros((NUM_KEYPOINTS, 3), dtype=np.float32)
    if pose is not None:
        pose = np.asarray(pose, dtype=np.float32)
        out[0:17] = pose[list(POSE_TO_BODY)]
        out[17:23] = pose[list(POSE_TO_FEET)]
        out[[17 + i for i in FEET_MISSING], 2] = 0.0
        np.clip(out[0:23, 2], 0.0, 1.0, out=out[0:23, 2])
    body = out[0:17].copy() if pose is not None else None
    aspect = np.array([w, h], np.float32) / max(w, h)       # normalised → isotropic units
    if face is not None:
        xy = _FACE_MATRIX @ np.asarray(face, dtype=np.float32)[:468, :2]
        out[FACE_START:FACE_START + 68, :2] = xy
        width = float(np.linalg.norm((xy[16] - xy[0]) * aspect))
        out[FACE_START:FACE_START + 68, 2] = part_confidence(
            xy[30], body, 0, size=width, reach=FACE_REACH, aspect=aspect)
    for start, hand, wrist in ((LEFT_HAND_START, left_hand, 9), (RIGHT_HAND_START, right_hand, 10)):
        if hand is not None:
            xy = np.asarray(hand, dtype=np.float32)[:, :2]
            out[start:start + 21, :2] = xy
            palm = float(np.linalg.norm((xy[9] - xy[0]) * aspect))
            out[start:start + 21, 2] = part_confidence(xy[0], body, wrist, size=palm,
                                                       reach=HAND_REACH, aspect=aspect)
    if left_hand is not None and right_hand is not None:
        _drop_twice_found_hand(out, aspect)
    # Points outside the image keep their coordinates but are not trusted.
    outside = (out[:, 0] < 0) | (out[:, 0] > 1) | (out[:, 1] < 0) | (out[:, 1] > 1)
    out[outside, 2] = np.minimum(out[outside, 2], OUTSIDE_CONFIDENCE)
    out[:, 0] *= w
    out[:, 1] *= h
    return out


def _drop_twice_found_hand(out: np.ndarray, aspect: np.ndarray) -> None:
    """One hand detected as both hands (:data:`SAME_HAND`): keep it where its wrist agrees
    better with the pose wrist (the higher confidence) and clear the other, in place."""
    left = out[LEFT_HAND_START:LEFT_HAND_START + 21]
    right = out[RIGHT_HAND_START:RIGHT_HAND_START + 21]
    palm = max(float(np.linalg.norm((right[9, :2] - right[0, :2]) * aspect)),
               float(np.linalg.norm((left[9, :2] - left[0, :2]) * aspect)), 1e-6)
    gap = float(np.median(np.linalg.norm((left[FINGER_POINTS, :2] - right[FINGER_POINTS, :2])
                                         * aspect, axis=1)))
    if gap < SAME_HAND * palm and not _mirrored(left[:, :2] * aspect, right[:, :2] * aspect):
        (left if left[0, 2] < right[0, 2] else right)[:] = 0.0


def _turn(hand: np.ndarray) -> float:
    """Which way a hand's fingers lie about the middle one (-1..1): the sine of the angle from
    the index-to-little line across the middle knuckles (6 to 18) to the middle finger's last
    bone (10 to 12); near 0 where the fingers give no side."""
    u, v = hand[6] - hand[18], hand[12] - hand[10]
    n = float(np.linalg.norm(u) * np.linalg.norm(v))
    return float(u[0] * v[1] - u[1] * v[0]) / n if n > 1e-9 else 0.0


def _mirrored(a: np.ndarray, b: np.ndarray) -> bool:
    """Two hands that are each other's mirror image (a left and a right, the same side to the
    camera), as real hands held together are: a hand returned twice repeats itself as it is.
    Two hands steepled, fingertips together, lie as close as a copy over their fingers."""
    ta, tb = _turn(a), _turn(b)
    return ta * tb < 0 and min(abs(ta), abs(tb)) > MIRROR_SURE


def part_confidence(anchor: np.ndarray, body: np.ndarray | None, joint: int, *, size: float,
                    reach: float, aspect: np.ndarray) -> float:
    """Confidence of a detected face or hand: its ``anchor`` (normalised x, y) against the pose
    model's ``body[joint]`` (x, y, visibility): ``(0.4 + 0.6 agreement) (0.6 + 0.4
    visibility)``, the agreement ``exp(-(d / (reach size))²)`` for a distance ``d`` in units of
    the part's ``size``; within [:data:`PART_FLOOR`, 1]. Without a pose to check it against,
    the part's own detection: :data:`UNCHECKED`."""
    if body is None or body[joint, 2] <= 0:
        return UNCHECKED
    d = float(np.linalg.norm((anchor - body[joint, :2]) * aspect))
    agree = float(np.exp(-(d / max(reach * size, 1e-6)) ** 2))
    vis = float(np.clip(body[joint, 2], 0.0, 1.0))
    return float(np.clip((0.4 + 0.6 * agree) * (0.6 + 0.4 * vis), PART_FLOOR, DETECTED_CONFIDENCE))


def _landmark_array(landmarks, *, with_visibility: bool = False) -> np.ndarray | None:
    """A MediaPipe ``NormalizedLandmarkList`` as (N, 2) or (N, 3) floats, or None."""
    if landmarks is None:
        return None
    if with_visibility:
        return np.array([(p.x, p.y, p.visibility) for p in landmarks.landmark], dtype=np.float32)
    return np.array([(p.x, p.y) for p in landmarks.landmark], dtype=np.float32)


def results_to_coco133(results, *, image_size: tuple[int, int]) -> np.ndarray:
    """Map the result of ``mediapipe.solutions.holistic.Holistic.process`` to (133, 3).

    Parameters
    ----------
    results : NamedTuple
        With ``pose_landmarks``, ``face_landmarks``, ``left_hand_landmarks`` and
        ``right_hand_landmarks`` (each None when not detected).
    image_size : tuple of int
        (width, height) in pixels of the frame the output refers to; may differ from the
        size of the image Holistic saw, as its coordinates are normalised.

    Returns
    -------
    np.ndarray, shape (133, 3), float32
        See :func:`landmarks_to_coco133`.
    """
    return landmarks_to_coco133(
        pose=_landmark_array(results.pose_landmarks, with_visibility=True),
        face=_landmark_array(results.face_landmarks),
        left_hand=_landmark_array(results.left_hand_landmarks),
        right_hand=_landmark_array(results.right_hand_landmarks),
        image_size=image_size,
    )
