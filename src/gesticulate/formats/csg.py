"""CSG-405 pose files (Democratizing-CSG): plain ``.npy`` arrays, global or local coordinates.

What we support was read from the public Democratizing-CSG code (``2d_kp_generation/
data_loaders/audio_to_2dkp/dataset.py``, ``data_loaders/dataset_utils.py`` ``global_to_local``
/ ``local_to_global``, ``pose2video/Stableanimator/utils/preprocess_kp.py``); the released pose
archive itself could not be inspected here, so the reader checks shapes and says what it found.

A clip is one ``<clip>.npy`` (no pickle; read with ``allow_pickle=False``) holding

``(T, P, K, C)`` or ``(T, K, C)``
    frames, persons (the first is taken, as the CSG loader does), keypoints, and ``C = 3``
    (x, y, confidence) or ``C = 2`` (x, y; confidence 1, except points at exactly (0, 0),
    which the CSG renderer treats as missing).

with ``K`` one of

``134`` — the local representation (``global_to_local``)
    index 0 is the neck root (mid-shoulder, absolute, confidence 1); indices 1–133 are the
    DWPose COCO-WholeBody points relative to the neck, except that the face (iBUG 0–67) is
    relative to the nose and multiplied by ``face_scale`` (the mouth, iBUG 48–67, by
    ``mouth_scale``), and each hand is relative to its wrist (COCO 9 / 10).
``133`` — global DWPose COCO-WholeBody points.
``123`` — global points with the legs and feet (COCO 13–22) dropped: the model's output
    (``sample_poses/*.npy``), 133 minus 10, as the paper's "123 points".

Coordinates are in a square frame (CSG-405 clips are 512 x 512) in one of three spaces:
``"minus1_1"`` (-1..1, what the CSG model outputs and its renderer maps with ``(v + 1) / 2``),
``"unit"`` (0..1, DWPose's normalised output) or ``"pixels"``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import numpy as np

from gesticulate.errors import InputError, OptionError
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.sequence import SkeletonSequence

FPS = 25.0               # CSG-405 clips are 25 fps
IMAGE_SIZE = (512, 512)  # and 512 x 512
SPACES = ("minus1_1", "unit", "pixels")
LEGS = np.arange(13, 23)  # knees, ankles and feet: what the 123-point "no legs" layout drops
NO_LEGS = np.setdiff1d(np.arange(L.NUM_KEYPOINTS), LEGS)
MOUTH = slice(L.face(48), L.face(68))  # iBUG 48–67, which CSG can scale separately


def from_csg_local(local: np.ndarray, *, face_scale: float = 1.0,
                   mouth_scale: float = 1.0) -> np.ndarray:
    """CSG local representation ``(T, 134, C)`` → global ``(T, 133, C)`` (inverse of
    :func:`to_csg_local`). Confidence, if present, is copied."""
    local = np.asarray(local, dtype=np.float64)
    root, pts = local[:, 0, :2], local[:, 1:].copy()
    xy = pts[..., :2]  # a view: edits land in pts
    xy[:, MOUTH] /= mouth_scale / face_scale
    xy[:, L.FACE] = xy[:, L.FACE] / face_scale + xy[:, L.NOSE][:, None]
    xy[:, L.LEFT_HAND] += xy[:, L.LEFT_WRIST][:, None]
    xy[:, L.RIGHT_HAND] += xy[:, L.RIGHT_WRIST][:, None]
    xy += root[:, None]
    return pts


def to_csg_local(keypoints: np.ndarray, *, face_scale: float = 1.0,
                 mouth_scale: float = 1.0) -> np.ndarray:
    """Global ``(T, 133, C)`` → CSG local representation ``(T, 134, C)`` (``global_to_local``)."""
    kp = np.asarray(keypoints, dtype=np.float64)
    root = 0.5 * (kp[:, L.LEFT_SHOULDER, :2] + kp[:, L.RIGHT_SHOULDER, :2])
    pts = kp.copy()
    xy = pts[..., :2]
    xy -= root[:, None]
    xy[:, L.FACE] = (xy[:, L.FACE] - xy[:, L.NOSE][:, None]) * face_scale
    xy[:, MOUTH] *= mouth_scale / face_scale
    xy[:, L.LEFT_HAND] -= xy[:, L.LEFT_WRIST][:, None]
    xy[:, L.RIGHT_HAND] -= xy[:, L.RIGHT_WRIST][:, None]
    neck = np.ones((len(kp), 1, kp.shape[-1]))
    neck[:, 0, :2] = root
    return np.concatenate([neck, pts], axis=1)


def _to_pixels(xy: np.ndarray, space: str, image_size: tuple[int, int]) -> np.ndarray:
    size = np.asarray(image_size, dtype=np.float64)
    if space == "minus1_1":
        return (xy + 1.0) / 2.0 * size
    if space == "unit":
        return xy * size
    return xy


def csg_array_to_sequence(arr: np.ndarray, *, fps: float = FPS,
                          image_size: tuple[int, int] = IMAGE_SIZE, space: str = "minus1_1",
                          face_scale: float = 1.0, mouth_scale: float = 1.0,
                          where: str = "CSG pose array") -> SkeletonSequence:
    """One CSG-405 pose array (module docstring) → a 133-point pixel sequence."""
    if space not in SPACES:
        raise OptionError(f"coordinate space {space!r} is unknown; use one of {SPACES}")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 4:
        arr = arr[:, 0]  # the first person, as the CSG data loader does
    if arr.ndim != 3 or arr.shape[1] not in (123, 133, 134) or arr.shape[2] not in (2, 3):
        raise InputError(f"{where}: array of shape {arr.shape} is not a CSG-405 pose array; "
                         "expected (T, [P,] 134|133|123, 3|2)")
    if arr.shape[2] == 2:
        conf = (~np.all(arr == 0, axis=-1)).astype(np.float64)
        arr = np.concatenate([arr, conf[..., None]], axis=-1)
    if arr.shape[1] == 134:
        arr = from_csg_local(arr, face_scale=face_scale, mouth_scale=mouth_scale)
    elif arr.shape[1] == 123:
        full = np.zeros((len(arr), L.NUM_KEYPOINTS, 3))
        full[:, NO_LEGS] = arr
        arr = full
    out = arr.copy()
    out[..., :2] = _to_pixels(arr[..., :2], space, image_size)
    out[..., 2] = np.clip(out[..., 2], 0.0, 1.0)
    bad = ~np.isfinite(out).all(axis=-1)
    out[bad] = 0.0
    return SkeletonSequence(out.astype(np.float32), fps, image_size,
                            {"all": "the CSG-405 file's scores (DWPose), or 1 where it has none"})


def load_csg_file(path: str | os.PathLike, **kwargs) -> SkeletonSequence:
    """Read one CSG-405 ``<clip>.npy`` (never unpickles). Keyword arguments as
    :func:`csg_array_to_sequence` (``fps``, ``image_size``, ``space``, ``face_scale``,
    ``mouth_scale``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"CSG pose file {path} not found; check the path")
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise InputError(f"{path} is not a plain .npy array ({e}); CSG-405 pose files are "
                         "float arrays (pickled files are refused)") from None
    return csg_array_to_sequence(arr, where=str(path), **kwargs)


def iter_csg_dir(folder: str | os.PathLike, **kwargs) -> Iterator[tuple[str, SkeletonSequence]]:
    """Yield ``(clip name, sequence)`` for each ``*.npy`` in ``folder``, sorted by name.

    One clip at a time, so memory is bounded by the longest clip. Keyword arguments as
    :func:`load_csg_file`.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"CSG pose folder {folder} not found; give the folder of <clip>.npy files")
    files = sorted(folder.glob("*.npy"))
    if not files:
        raise InputError(f"{folder} holds no .npy files; give a CSG-405 pose folder")
    for f in files:
        yield f.stem, load_csg_file(f, **kwargs)
