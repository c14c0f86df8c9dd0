"""BEAT2 motion capture (SMPL-X ``.npz``, as EMAGE / SynTalker ship it) → 2D whole-body skeletons.

BEAT2 is the largest co-speech mocap set with aligned speech. Its files hold, per frame, the
SMPL-X pose as 55 axis-angle rotations (``poses``, ``(T, 165)``: root, 21 body joints, jaw,
two eyes, 15 + 15 finger joints, in SMPL-X's joint order), the root translation (``trans``,
metres, y up) and ``mocap_frame_rate``. The SMPL-X model itself (its mesh and joint
regressor) is licensed and not installable here, so joint positions come from forward
kinematics over :data:`REST`, a rest skeleton we wrote from average adult proportions: bone
*lengths* differ a little from the person's, bone *rotations* are the captured ones. Since
training works in the shoulder-width-normalised local frame, what matters — arm and finger
motion, head turns, jaw opening — carries over.

Projection is orthographic from the front (the speaker's average facing direction is turned
towards the camera), 400 pixels per metre in a square frame. Points SMPL-X has no joint for are
placed rigidly: fingertips beyond the last finger joint, toes and heels, the nose, eyes and
ears on the head, and the 68 iBUG face points from :func:`face_template` (their jaw and lower
lip turn with the jaw joint; brows, lids and lip shape stay those of the template). Body,
hands and the head's nose, eyes and ears get confidence 1. The 68 face points get
:data:`FACE_CONFIDENCE`, at or below CSG's 0.7 training threshold: BEAT2 captures the mouth mostly
in FLAME expression coefficients, whose basis ships with the licensed model, and its jaw
rotation alone opens the lips by a few millimetres, so a model should not learn lips from them.

Files are read with ``allow_pickle=False``: a crafted file cannot run code.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gesticulate.errors import InputError
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.sequence import SkeletonSequence

SIZE = 1024            # output frame, pixels
# Template face: above quality control's "seen" (QCThresholds.confidence, 0.5), so takes pass
# the face check, and at or below the training mask (normalize.CONFIDENCE_THRESHOLD, 0.7).
FACE_CONFIDENCE = 0.6
PIXELS_PER_METRE = 400.0
NUM_JOINTS = 55

# SMPL-X joint order and tree (public in the smplx package): 0 pelvis, 1/2 hips, 3 spine1,
# 4/5 knees, 6 spine2, 7/8 ankles, 9 spine3, 10/11 feet, 12 neck, 13/14 collars, 15 head,
# 16/17 shoulders, 18/19 elbows, 20/21 wrists, 22 jaw, 23/24 eyes, then per hand (left from
# 25, right from 40) index1-3, middle1-3, pinky1-3, ring1-3, thumb1-3. Odd = left below 22.
PARENTS = np.array([-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19,
                    15, 15, 15]
                   + [p for wrist in (20, 21) for f in range(5)
                      for p in (wrist, 25 + 15 * (wrist - 20) + 3 * f,
                                26 + 15 * (wrist - 20) + 3 * f)])
_FINGER_ORDER = ("index", "middle", "pinky", "ring", "thumb")  # SMPL-X's order per hand


def _rest() -> np.ndarray:
    """Offsets ``(55, 3)`` of each joint from its parent in the rest (T) pose, metres; x is the
    person's left, y up, z forward. Average adult proportions (not SMPL-X's template)."""
    r = np.zeros((NUM_JOINTS, 3))
    for side, s in ((0, 1.0), (1, -1.0)):          # 0 = left (+x), 1 = right
        r[1 + side] = (0.06 * s, -0.09, 0.0)       # hip
        r[4 + side] = (0.0, -0.38, 0.0)            # knee
        r[7 + side] = (0.0, -0.40, -0.03)          # ankle
        r[10 + side] = (0.0, -0.05, 0.12)          # foot (ball)
        r[13 + side] = (0.07 * s, 0.12, -0.01)     # collar
        r[16 + side] = (0.11 * s, 0.03, -0.01)     # shoulder
        r[18 + side] = (0.26 * s, 0.0, 0.0)        # elbow
        r[20 + side] = (0.25 * s, 0.0, 0.0)        # wrist
        r[23 + side] = (0.032 * s, 0.045, 0.085)   # eye
        base = 25 + 15 * side
        # (knuckle offset from the wrist, three phalanx lengths) per finger, palm down.
        fingers = {"index": ((0.090, 0.0, 0.025), (0.038, 0.025, 0.022)),
                   "middle": ((0.095, 0.0, 0.002), (0.042, 0.028, 0.024)),
                   "ring": ((0.088, 0.0, -0.019), (0.038, 0.026, 0.022)),
                   "pinky": ((0.078, 0.0, -0.038), (0.028, 0.020, 0.019)),
                   "thumb": ((0.025, -0.012, 0.030), (0.034, 0.030, 0.026))}
        for f, name in enumerate(_FINGER_ORDER):
            knuckle, lengths = fingers[name]
            direction = np.array((1.0, 0.0, 0.55 if name == "thumb" else 0.0))
            direction /= np.linalg.norm(direction)
            r[base + 3 * f] = (knuckle[0] * s, knuckle[1], knuckle[2])
            for k in (1, 2):
                r[base + 3 * f + k] = lengths[k - 1] * direction * (s, 1.0, 1.0)
    r[3] = (0.0, 0.11, -0.01)                      # spine1
    r[6] = (0.0, 0.13, 0.0)                        # spine2
    r[9] = (0.0, 0.055, 0.0)                       # spine3
    r[12] = (0.0, 0.21, -0.02)                     # neck
    r[15] = (0.0, 0.09, 0.05)                      # head
    r[22] = (0.0, -0.02, 0.02)                     # jaw
    return r


REST = _rest()


def _tip_length(finger: str) -> float:
    return {"thumb": 0.024, "index": 0.022, "middle": 0.024, "ring": 0.022, "pinky": 0.019}[finger]


def face_template() -> tuple[np.ndarray, np.ndarray]:
    """The 68 iBUG points in head coordinates (metres, from the head joint) and, per point, how
    much it follows the jaw (1 chin and lower lip, 0.5 mouth corners, 0 the rest)."""
    pts = np.zeros((68, 3))
    a = np.linspace(-0.5 * np.pi, 0.5 * np.pi, 17)          # jaw line: right ear, chin, left ear
    pts[0:17] = np.stack([0.072 * np.sin(a), 0.030 - 0.115 * np.cos(a),
                          0.020 + 0.070 * np.cos(a)], 1)
    for i in range(5):                                       # brows, each from right to left
        arch = 0.070 + 0.008 * np.sin(np.pi * i / 4)
        pts[17 + i] = (-0.055 + 0.010 * i, arch, 0.095)
        pts[22 + i] = (0.015 + 0.010 * i, arch, 0.095)
    for i in range(4):                                       # nose bridge down to the tip
        pts[27 + i] = (0.0, 0.045 - 0.013 * i, 0.100 + 0.005 * i)
    for i in range(5):                                       # nostrils, right to left
        pts[31 + i] = (-0.016 + 0.008 * i, -0.002, 0.105)
    t = np.pi - np.arange(6) * np.pi / 3                      # eye: corner, 2 top, corner, 2 bottom
    for first, cx in ((36, -0.032), (42, 0.032)):
        pts[first:first + 6] = np.stack([cx + 0.014 * np.cos(t), 0.045 + 0.005 * np.sin(t),
                                         np.full(6, 0.088)], 1)
    for first, n, rx, ry, z in ((48, 12, 0.025, 0.009, 0.095), (60, 8, 0.018, 0.003, 0.094)):
        t = np.pi - np.arange(n) * 2 * np.pi / n              # lips from the right corner, over the top
        pts[first:first + n] = np.stack([rx * np.cos(t), -0.040 + ry * np.sin(t),
                                         np.full(n, z)], 1)
    jaw = np.zeros(68)
    jaw[4:13] = 1.0
    jaw[[48, 54, 60, 64]] = 0.5
    jaw[55:60] = 1.0
    jaw[65:68] = 1.0
    return pts, jaw


def rodrigues(aa: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` of axis-angle vectors ``(..., 3)``."""
    theta = np.linalg.norm(aa, axis=-1, keepdims=True)
    k = aa / np.maximum(theta, 1e-12)
    kx, ky, kz = k[..., 0], k[..., 1], k[..., 2]
    zero = np.zeros_like(kx)
    kmat = np.stack([zero, -kz, ky, kz, zero, -kx, -ky, kx, zero], -1).reshape(*aa.shape[:-1], 3, 3)
    s, c = np.sin(theta)[..., None], np.cos(theta)[..., None]
    return np.eye(3) + s * kmat + (1 - c) * kmat @ kmat


def forward_kinematics(poses: np.ndarray, trans: np.ndarray | None = None):
    """Joint positions ``(T, 55, 3)`` and global rotations ``(T, 55, 3, 3)`` of SMPL-X poses
    ``(T, 165)`` over :data:`REST`."""
    rot = rodrigues(poses.reshape(len(poses), NUM_JOINTS, 3).astype(np.float64))
    pos = np.zeros((len(poses), NUM_JOINTS, 3))
    glob = np.zeros_like(rot)
    for j in range(NUM_JOINTS):
        p = PARENTS[j]
        if p < 0:
            glob[:, j] = rot[:, j]
            pos[:, j] = 0.0 if trans is None else trans
        else:
            glob[:, j] = glob[:, p] @ rot[:, j]
            pos[:, j] = pos[:, p] + glob[:, p] @ REST[j]
    return pos, glob


def _attach(pos, glob, joint: int, offsets: np.ndarray) -> np.ndarray:
    """Points rigidly fixed to ``joint``: ``(T, N, 3)`` for offsets ``(N, 3)`` in its frame."""
    return pos[:, joint, None] + np.einsum("tij,nj->tni", glob[:, joint], offsets)


def to_coco133(poses: np.ndarray, trans: np.ndarray | None = None) -> np.ndarray:
    """World points ``(T, 133, 3)`` (metres, y up) of SMPL-X poses, COCO-WholeBody order."""
    pos, glob = forward_kinematics(poses, trans)
    out = np.zeros((len(poses), L.NUM_KEYPOINTS, 3))
    for coco, j in ((L.LEFT_SHOULDER, 16), (L.RIGHT_SHOULDER, 17), (L.LEFT_ELBOW, 18),
                    (L.RIGHT_ELBOW, 19), (L.LEFT_WRIST, 20), (L.RIGHT_WRIST, 21),
                    (L.LEFT_HIP, 1), (L.RIGHT_HIP, 2), (L.LEFT_KNEE, 4), (L.RIGHT_KNEE, 5),
                    (L.LEFT_ANKLE, 7), (L.RIGHT_ANKLE, 8), (L.LEFT_EYE, 23), (L.RIGHT_EYE, 24)):
        out[:, coco] = pos[:, j]
    head = _attach(pos, glob, 15, np.array([(0.0, 0.0, 0.115), (0.075, 0.02, -0.01),
                                            (-0.075, 0.02, -0.01)]))
    out[:, L.NOSE], out[:, L.LEFT_EAR], out[:, L.RIGHT_EAR] = head[:, 0], head[:, 1], head[:, 2]
    for side, (ankle, foot) in enumerate(((7, 10), (8, 11))):
        s = 1.0 if side == 0 else -1.0
        feet = _attach(pos, glob, foot, np.array([(0.02 * s, 0.0, 0.06), (0.06 * s, 0.0, 0.04)]))
        heel = _attach(pos, glob, ankle, np.array([(0.0, -0.06, -0.05)]))
        out[:, 17 + 3 * side:19 + 3 * side] = feet
        out[:, 19 + 3 * side] = heel[:, 0]
    face, jaw_weight = face_template()
    rigid = _attach(pos, glob, 15, face)
    # The same points carried by the jaw: from the jaw joint, in the jaw's frame.
    opened = _attach(pos, glob, 22, face - REST[22])
    w = jaw_weight[None, :, None]
    out[:, L.FACE] = (1 - w) * rigid + w * opened
    for side, (wrist, start) in enumerate(((20, L.LEFT_HAND_START), (21, L.RIGHT_HAND_START))):
        out[:, start] = pos[:, wrist]
        base = 25 + 15 * side
        for f, name in enumerate(_FINGER_ORDER):
            coco = L.HAND_FINGERS[("thumb", "index", "middle", "ring", "pinky").index(name)]
            joints = [base + 3 * f + k for k in range(3)]
            for k, j in enumerate(joints):
                out[:, start + coco[k]] = pos[:, j]
            d = REST[joints[2]] / np.linalg.norm(REST[joints[2]])
            tip = _attach(pos, glob, joints[2], (d * _tip_length(name))[None])
            out[:, start + coco[3]] = tip[:, 0]
    return out


def load_beat2(path: str | os.PathLike) -> SkeletonSequence:
    """A BEAT2 / SMPL-X ``.npz`` as a 2D skeleton sequence at its mocap frame rate."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as d:
            poses = np.asarray(d["poses"], np.float64)
            trans = np.asarray(d["trans"], np.float64) if "trans" in d.files else None
            fps = float(d["mocap_frame_rate"]) if "mocap_frame_rate" in d.files else 30.0
    except (OSError, ValueError, KeyError) as e:
        raise InputError(f"{path} is not a BEAT2 / SMPL-X .npz ({e}); expected arrays 'poses' "
                         "(T, 165) and 'trans' (T, 3)") from None
    if poses.ndim != 2 or poses.shape[1] != 3 * NUM_JOINTS or len(poses) == 0:
        raise InputError(f"{path}: 'poses' has shape {poses.shape}; BEAT2 SMPL-X poses are "
                         f"(frames, {3 * NUM_JOINTS}) axis-angle values")
    if not np.isfinite(poses).all() or not 1 <= fps <= 240:
        raise InputError(f"{path}: poses hold NaN/inf or the frame rate {fps} is absurd; "
                         "re-export the file")
    if trans is not None and trans.shape != (len(poses), 3):
        trans = None
    world = to_coco133(*_face_camera(poses, trans))
    xy = world[..., :2] * np.array([1.0, -1.0]) * PIXELS_PER_METRE   # image y points down
    neck = 0.5 * (xy[:, L.LEFT_SHOULDER] + xy[:, L.RIGHT_SHOULDER]).mean(0)
    xy += np.array([SIZE / 2, SIZE * 0.4]) - neck
    conf = np.ones(xy.shape[:2] + (1,))
    conf[:, L.FACE] = FACE_CONFIDENCE
    kp = np.concatenate([xy, conf], -1).astype(np.float32)
    return SkeletonSequence(kp, fps, (SIZE, SIZE),
                            {"body": "1: motion capture (BEAT2 SMPL-X)", "hands": "1: motion capture",
                             "face": f"{FACE_CONFIDENCE}: a template face, not captured"})


def _face_camera(poses: np.ndarray, trans: np.ndarray | None):
    """Poses and translations turned about the vertical so the mean facing direction is +z
    (towards the camera)."""
    from scipy.spatial.transform import Rotation

    root = Rotation.from_rotvec(poses[:, :3])
    forward = root.apply([0.0, 0.0, 1.0])                    # the body's z axis in the world
    yaw = np.arctan2(forward[:, 0].mean(), forward[:, 2].mean())
    turn = Rotation.from_rotvec([0.0, -yaw, 0.0])
    out = poses.copy()
    out[:, :3] = (turn * root).as_rotvec()
    return out, (None if trans is None else turn.apply(trans))
