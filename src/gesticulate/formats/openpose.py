"""OpenPose body orders (COCO-18, BODY_25) and OpenPose JSON files.

Body orders
-----------
OpenPose-18 ("COCO-18", the order DWPose/controlnet_aux draw and EchoMimicV2 stores):
nose, neck, r-shoulder, r-elbow, r-wrist, l-shoulder, l-elbow, l-wrist, r-hip, r-knee, r-ankle,
l-hip, l-knee, l-ankle, r-eye, l-eye, r-ear, l-ear. The neck is not a COCO point: it is the
mid-shoulder point, as DWPose computes it.

BODY_25 (OpenPose's default model) is OpenPose-18 with a mid-hip after l-wrist and the six
foot points (l-big-toe, l-small-toe, l-heel, r-big-toe, r-small-toe, r-heel) at the end —
the same foot order as COCO-WholeBody's 17–22.

JSON
----
One file per frame, as the OpenPose demo writes them (``<name>_<12-digit frame>_keypoints.json``)::

    {"version": 1.3, "canvas_width": W, "canvas_height": H,
     "people": [{"pose_keypoints_2d": [x, y, c, ...], "face_keypoints_2d": [...],
                 "hand_left_keypoints_2d": [...], "hand_right_keypoints_2d": [...]}]}

We write COCO-18 bodies and 68 face points by default, because that is what the ControlNet
tools read and write (sd-webui-controlnet's ``encode_poses_as_dict``, the openpose editor,
comfyui_controlnet_aux's ``POSE_KEYPOINT``); ``body="body25"`` writes OpenPose's own BODY_25.
Coordinates are pixels of the ``canvas_width`` x ``canvas_height`` frame; a missing point is
``0, 0, 0``. The reader takes COCO-18 or BODY_25 bodies, 68 or 70 face points (the two pupils
of OpenPose's face model are dropped) and pixel or normalised (all values <= 1) coordinates.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from gesticulate.errors import InputError, OptionError
from gesticulate.atomic import atomic_dir
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.sequence import SkeletonSequence

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


# ---------------------------------------------------------------------------------- JSON


def _flat(points: np.ndarray) -> list[float]:
    """(N, 3) float32 → flat list; float32 values printed at their shortest exact form."""
    pts = np.where(points[:, 2:3] > 0, points, 0).astype(np.float32)
    return [float(str(v)) for v in pts.reshape(-1)]


def frame_to_openpose(keypoints: np.ndarray, *, image_size: tuple[int, int],
                      body: str = "coco18") -> dict:
    """One frame ``(133, 3)`` in pixels → an OpenPose JSON dict with one person."""
    if body not in BODY_ORDERS:
        raise OptionError(f"OpenPose body order {body!r} is unknown; use 'coco18' or 'body25'")
    kp = np.asarray(keypoints, dtype=np.float32)
    person = {
        "person_id": [-1],
        "pose_keypoints_2d": _flat(to_openpose_body(kp, order=body)),
        "face_keypoints_2d": _flat(kp[L.FACE]),
        "hand_left_keypoints_2d": _flat(kp[L.LEFT_HAND]),
        "hand_right_keypoints_2d": _flat(kp[L.RIGHT_HAND]),
    }
    return {"version": 1.3, "canvas_width": int(image_size[0]),
            "canvas_height": int(image_size[1]), "people": [person]}


def _points(person: dict, key: str, n_allowed: tuple[int, ...], where: str) -> np.ndarray | None:
    values = person.get(key)
    if not values:
        return None
    arr = np.asarray(values, dtype=np.float32)
    if arr.ndim == 2 and arr.shape[1] == 3:  # comfyui_controlnet_aux writes [[x, y, c], ...]
        arr = arr.reshape(-1)
    if arr.ndim != 1 or arr.size % 3 or arr.size // 3 not in n_allowed:
        raise InputError(f"{where}: {key} has {arr.size} values; expected 3 x {n_allowed}")
    return arr.reshape(-1, 3)


def _person_score(person: dict) -> float:
    pose = person.get("pose_keypoints_2d") or []
    return float(np.sum(np.asarray(pose, dtype=np.float32).reshape(-1)[2::3])) if pose else 0.0


def openpose_to_frame(data: dict, *, image_size: tuple[int, int] | None = None,
                      where: str = "OpenPose JSON") -> tuple[np.ndarray, tuple[int, int] | None]:
    """An OpenPose JSON dict → ``(133, 3)`` pixel keypoints of its most confident person.

    Returns the keypoints and the canvas size ``(w, h)`` read from the file (or ``image_size``).
    A frame with no person gives all-zero keypoints (confidence 0).
    """
    if not isinstance(data, dict) or not isinstance(data.get("people", []), list):
        raise InputError(f"{where} is not an OpenPose keypoint file (no 'people' list)")
    size = image_size
    if "canvas_width" in data and "canvas_height" in data:
        size = (int(data["canvas_width"]), int(data["canvas_height"]))
    out = np.zeros((L.NUM_KEYPOINTS, 3), dtype=np.float32)
    people = data.get("people", [])
    if not people:
        return out, size
    person = max(people, key=_person_score)
    parts = {"pose_keypoints_2d": (18, 25), "face_keypoints_2d": (68, 70),
             "hand_left_keypoints_2d": (21,), "hand_right_keypoints_2d": (21,)}
    pts = {k: _points(person, k, n, where) for k, n in parts.items()}
    coords = [p[:, :2] for p in pts.values() if p is not None]
    if coords and size is not None and np.abs(np.concatenate(coords)).max() <= 1.0:
        for p in pts.values():  # normalised coordinates (ControlNet tools may write these)
            if p is not None:
                p[:, :2] *= np.asarray(size, dtype=np.float32)
    if pts["pose_keypoints_2d"] is not None:
        from_openpose_body(pts["pose_keypoints_2d"], out)
    if pts["face_keypoints_2d"] is not None:
        out[L.FACE] = pts["face_keypoints_2d"][:68]  # 68, 69 are OpenPose's pupils
    if pts["hand_left_keypoints_2d"] is not None:
        out[L.LEFT_HAND] = pts["hand_left_keypoints_2d"]
    if pts["hand_right_keypoints_2d"] is not None:
        out[L.RIGHT_HAND] = pts["hand_right_keypoints_2d"]
    return out, size


def save_openpose_json_dir(seq: SkeletonSequence, folder: str | os.PathLike, *,
                           body: str = "coco18", name: str = "pose",
                           overwrite: bool = True) -> Path:
    """Write ``seq`` as one OpenPose JSON per frame, ``<name>_000000000000_keypoints.json`` ...

    The folder is written atomically. Returns its path.
    """
    if body not in BODY_ORDERS:
        raise OptionError(f"OpenPose body order {body!r} is unknown; use 'coco18' or 'body25'")
    with atomic_dir(folder, overwrite=overwrite) as tmp:
        for i, kp in enumerate(seq.keypoints):
            data = frame_to_openpose(kp, image_size=seq.image_size, body=body)
            (tmp / f"{name}_{i:012d}_keypoints.json").write_text(json.dumps(data))
    return Path(folder)


def _frame_number(path: Path) -> int:
    nums = re.findall(r"\d+", path.stem)
    return int(nums[-1]) if nums else -1


def load_openpose_json_dir(folder: str | os.PathLike, *, fps: float = 25.0,
                           image_size: tuple[int, int] | None = None) -> SkeletonSequence:
    """Read a folder of per-frame OpenPose JSON files (ordered by the last number in each name).

    ``image_size`` (w, h) is needed only when the files carry no ``canvas_width/height``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"OpenPose folder {folder} not found; give the folder of *_keypoints.json files")
    files = sorted(folder.glob("*.json"), key=lambda p: (_frame_number(p), p.name))
    if not files:
        raise InputError(f"{folder} holds no .json files; give a folder of OpenPose keypoint files")
    frames, size = [], image_size
    for f in files:
        try:
            data = json.loads(f.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputError(f"{f} is not readable JSON ({e}); re-export it") from None
        kp, size = openpose_to_frame(data, image_size=size, where=str(f))
        frames.append(kp)
    if size is None:
        raise OptionError(f"{folder}: the JSON files do not give the canvas size; pass "
                          "image_size=(width, height) of the video the poses came from")
    return SkeletonSequence(np.stack(frames), fps, size)
