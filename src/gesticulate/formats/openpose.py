"""OpenPose JSON files (the body orders, COCO-18 and BODY_25, are in
:mod:`gesticulate.skeleton.openpose_body`).

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
from gesticulate.skeleton.openpose_body import BODY_ORDERS, from_openpose_body, to_openpose_body
from gesticulate.skeleton.sequence import SkeletonSequence

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
    with atomic_dir(folder, overwrite=overwrite, what="OpenPose folder") as tmp:
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
    return SkeletonSequence(np.stack(frames), fps, size, {"all": "the OpenPose files' scores"})
