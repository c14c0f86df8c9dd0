"""EchoMimicV2 / DWPose per-frame pose dicts (``0.npy``, ``1.npy``, ... in one folder).

The format, as EchoMimicV2's ``demo.ipynb`` preprocessing writes it and ``infer.py`` reads it
(``np.load(path, allow_pickle=True).tolist()`` then ``draw_pose_select_v2``)::

    {"bodies": {"candidate": (18N, 2), "subset": (N, 18), "score": (N, 18)},
     "hands": (2N, 21, 2), "hands_score": (2N, 21),
     "faces": (N, 68, 2), "faces_score": (N, 68),
     "num": frame index, "draw_pose_params": [imh, imw, rb, re, cb, ce]}

* It is DWPose's 134-point whole body split into parts: the body in OpenPose-18 order (neck =
  mid-shoulder, score 1 when both shoulders are seen), ``hands[n]`` the person's *left* hand
  (COCO-WholeBody 91–111) and ``hands[N + n]`` the right (112–132), faces the 68 iBUG points.
  COCO-WholeBody's six foot points are not stored.
* ``subset[n, j]`` is the row of ``candidate`` for point ``j`` when ``score > 0.3``, else -1.
* Scores are DWPose's raw SimCC confidences and can exceed 1 (the sample reaches 1.19).
* Coordinates are normalised to a crop: EchoMimicV2 draws the pose on an ``imh x imw`` canvas
  (``x * imw``, ``y * imh``) and pastes it at rows ``rb:re``, columns ``cb:ce`` of its square
  output (768 x 768 in the released configs), so pixel = ``(x * imw + cb, y * imh + rb)`` in an
  ``S x S`` frame with ``S = max(re, ce)``. Values slightly outside 0..1 occur (off-canvas).
* controlnet_aux's DWPose dicts are the same without scores and ``draw_pose_params``; unseen
  points there have coordinates -1.

Pickle: the files are NumPy object arrays, i.e. pickles, and ``np.load(allow_pickle=True)``
would run any code a crafted file names. We never do that: :func:`read_pose_file` parses the
``.npy`` header and unpickles with an unpickler that resolves only NumPy's array/dtype
reconstructors, so a file can build numbers, strings, lists, dicts and arrays and nothing else.
Writing uses ``np.save`` (a pickle, because that is what EchoMimicV2 reads).
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import numpy as np

from gesticulate.errors import InputError, OptionError
from gesticulate.atomic import atomic_dir
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.openpose_body import from_openpose_body, to_openpose18
from gesticulate.skeleton.sequence import SkeletonSequence

DWPOSE_VISIBLE = 0.3  # DWPose marks a body point seen (subset >= 0) when its score is > 0.3
ECHOMIMIC_SIZE = 768  # EchoMimicV2's output is 768 x 768 in its released configs
FPS = 24.0            # EchoMimicV2 resamples its driving videos to 24 fps

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
}


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can rebuild NumPy arrays and plain containers, and nothing else."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def read_pose_file(path: str | os.PathLike) -> dict:
    """Read one EchoMimicV2/DWPose ``.npy`` pose dict safely (see the module docstring)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read_header(f)
            if dtype != np.dtype(object) or shape != ():
                raise InputError(f"{path} is not an EchoMimicV2/DWPose pose file (it holds a "
                                 f"{dtype} array of shape {shape}, not a dict); give the .npy "
                                 "files EchoMimicV2's pose preprocessing writes")
            obj = _ArraysOnlyUnpickler(f).load()
    except FileNotFoundError:
        raise InputError(f"pose file {path} not found; check the path") from None
    except (OSError, ValueError, EOFError, pickle.UnpicklingError, AttributeError,
            TypeError, IndexError) as e:
        raise InputError(f"{path} is not an EchoMimicV2/DWPose pose file ({e}); "
                         "give the .npy files EchoMimicV2's pose preprocessing writes") from None
    obj = obj.item() if isinstance(obj, np.ndarray) else obj
    if not isinstance(obj, dict) or "bodies" not in obj:
        raise InputError(f"{path} holds no DWPose pose dict (no 'bodies'); give EchoMimicV2 pose files")
    return obj


def _field(d: dict, key: str, path: Path, shape_tail: tuple[int, ...]) -> np.ndarray:
    try:
        arr = np.asarray(d[key], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{path}: missing or non-numeric '{key}'; the file is not a DWPose dict") from None
    if arr.shape[len(arr.shape) - len(shape_tail):] != shape_tail:
        raise InputError(f"{path}: '{key}' has shape {arr.shape}, expected (..., {shape_tail})")
    return arr


def _seen(xy: np.ndarray) -> np.ndarray:
    """Confidence for score-less controlnet_aux dicts: 1 unless the point is marked (-1, -1)."""
    return (~np.all(xy == -1, axis=-1)).astype(np.float64)


def pose_dict_to_frame(d: dict, *, image_size: tuple[int, int] | None = None,
                       where: str | Path = "pose dict") -> tuple[np.ndarray, tuple[int, int]]:
    """A DWPose dict → ``(133, 3)`` float64 pixel keypoints of its most confident person, and
    the frame size ``(w, h)``. ``image_size`` is used only when there is no ``draw_pose_params``.
    """
    where = Path(str(where))
    bodies = d["bodies"] if isinstance(d.get("bodies"), dict) else {}
    cand = _field(bodies, "candidate", where, (2,)).reshape(-1, 18, 2)
    subset = _field(bodies, "subset", where, (18,)).reshape(-1, 18)
    score = (_field(bodies, "score", where, (18,)).reshape(-1, 18) if "score" in bodies
             else (subset >= 0).astype(np.float64))
    n_people = len(subset)
    n = int(np.argmax(score.mean(axis=1))) if n_people > 1 else 0
    out = np.zeros((L.NUM_KEYPOINTS, 3), dtype=np.float64)
    if n_people:
        from_openpose_body(np.concatenate([cand[n], score[n][:, None]], axis=1), out)
        hands = _field(d, "hands", where, (21, 2)).reshape(-1, 21, 2)
        hs = (_field(d, "hands_score", where, (21,)).reshape(-1, 21) if "hands_score" in d
              else _seen(hands))
        if len(hands) >= 2 * n_people:  # detector order: all left hands, then all right hands
            out[L.LEFT_HAND] = np.concatenate([hands[n], hs[n][:, None]], axis=1)
            out[L.RIGHT_HAND] = np.concatenate([hands[n_people + n], hs[n_people + n][:, None]], axis=1)
        faces = _field(d, "faces", where, (68, 2)).reshape(-1, 68, 2)
        fs = (_field(d, "faces_score", where, (68,)).reshape(-1, 68) if "faces_score" in d
              else _seen(faces))
        if len(faces) > n:
            out[L.FACE] = np.concatenate([faces[n], fs[n][:, None]], axis=1)
    params = d.get("draw_pose_params")
    if params is not None:
        imh, imw, rb, re_, cb, ce = (int(v) for v in params)
        out[:, 0] = out[:, 0] * imw + cb
        out[:, 1] = out[:, 1] * imh + rb
        side = max(re_, ce)
        return out, (side, side)
    if image_size is None:
        raise OptionError(f"{where} has no draw_pose_params; pass image_size=(width, height) "
                          "of the video the poses were extracted from")
    out[:, :2] *= np.asarray(image_size, dtype=np.float64)
    return out, (int(image_size[0]), int(image_size[1]))


def _frame_files(folder: Path) -> list[Path]:
    files = [p for p in folder.glob("*.npy") if re.fullmatch(r"\d+", p.stem)]
    files.sort(key=lambda p: int(p.stem))
    if not files:
        raise InputError(f"{folder} holds no 0.npy, 1.npy, ... pose files; give an EchoMimicV2 pose folder")
    nums = [int(p.stem) for p in files]
    if nums != list(range(len(nums))):
        missing = sorted(set(range(nums[-1] + 1)) - set(nums))[:5]
        raise InputError(f"{folder}: pose frames are not numbered 0..{len(nums) - 1} "
                         f"(missing e.g. {missing}); EchoMimicV2 needs every frame")
    return files


def load_echomimic_dir(folder: str | os.PathLike, *, fps: float = FPS,
                       clip_confidence: bool = True,
                       image_size: tuple[int, int] | None = None) -> SkeletonSequence:
    """Read an EchoMimicV2 pose folder (``0.npy`` ... ``N-1.npy``) into a skeleton sequence.

    Parameters
    ----------
    folder : the pose folder.
    fps : frames per second of the poses (EchoMimicV2 uses 24).
    clip_confidence : clip DWPose's raw scores (up to ~1.2) to the project's 0..1; with False
        they are kept as they are, so :func:`save_echomimic_dir` writes them back unchanged.
    image_size : (w, h) used only for controlnet_aux dicts without ``draw_pose_params``.

    Returns
    -------
    SkeletonSequence with keypoints (T, 133, 3) in pixels of EchoMimicV2's ``S x S`` output
    frame (S = 768 for its demo poses); the feet, absent from the format, have confidence 0.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"pose folder {folder} not found; give the folder holding 0.npy, 1.npy, ...")
    frames, size = [], None
    for f in _frame_files(folder):
        kp, s = pose_dict_to_frame(read_pose_file(f), image_size=image_size, where=f)
        if size is not None and s != size:
            raise InputError(f"{f}: canvas {s} differs from the first frame's {size}; "
                             "all frames of one sequence must share draw_pose_params")
        size = s
        frames.append(kp)
    kp = np.stack(frames)
    if clip_confidence:
        kp[..., 2] = np.clip(kp[..., 2], 0.0, 1.0)
    return SkeletonSequence(kp.astype(np.float32), fps, size,
                            {"all": "the EchoMimicV2 file's DWPose scores"})


def canvas_params(image_size: tuple[int, int], *, size: int = ECHOMIMIC_SIZE) -> list[int]:
    """``draw_pose_params`` [imh, imw, rb, re, cb, ce] placing a ``(w, h)`` frame, scaled to fit
    and centred, in EchoMimicV2's ``size x size`` output (its ``resize_and_pad_param``)."""
    w, h = image_size
    half = size // 2
    if h > w:
        imh, imw = size, int(round(w / h * size))
        rb, re_ = 0, size
        cb = half - imw // 2
        ce = cb + imw
    else:
        imw, imh = size, int(round(h / w * size))
        cb, ce = 0, size
        rb = half - imh // 2
        re_ = rb + imh
    return [imh, imw, rb, re_, cb, ce]


def _xy_conf(points: np.ndarray, image_size: tuple[int, int]) -> tuple:
    """Pixels of the source frame → normalised crop coordinates; unseen points become -1."""
    w, h = image_size
    xy = points[:, :2].astype(np.float64) / np.array([w, h], dtype=np.float64)
    conf = points[:, 2].astype(np.float64)
    xy[conf <= 0] = -1.0
    return xy, conf


def frame_to_pose_dict(keypoints: np.ndarray, *, image_size: tuple[int, int],
                       params: list[int], num: int) -> dict:
    """One frame ``(133, 3)`` in pixels of an ``image_size`` frame → an EchoMimicV2 pose dict."""
    kp = np.asarray(keypoints, dtype=np.float32)
    body = to_openpose18(kp).astype(np.float64)
    # DWPose's neck: mid-shoulder, score 1 when both shoulders are seen (> 0.3), else 0.
    body[1, 2] = float(kp[L.LEFT_SHOULDER, 2] > DWPOSE_VISIBLE and kp[L.RIGHT_SHOULDER, 2] > DWPOSE_VISIBLE)
    cand, bscore = _xy_conf(body, image_size)
    subset = np.where(bscore > DWPOSE_VISIBLE, np.arange(18), -1).astype(np.float64)
    lh, lhs = _xy_conf(kp[L.LEFT_HAND], image_size)
    rh, rhs = _xy_conf(kp[L.RIGHT_HAND], image_size)
    face, fs = _xy_conf(kp[L.FACE], image_size)
    return {
        "bodies": {"candidate": cand, "subset": subset[None], "score": bscore[None]},
        "hands": np.stack([lh, rh]), "hands_score": np.stack([lhs, rhs]),
        "faces": face[None], "faces_score": fs[None],
        "num": int(num), "draw_pose_params": [int(v) for v in params],
    }


def save_echomimic_dir(seq: SkeletonSequence, folder: str | os.PathLike, *,
                       size: int = ECHOMIMIC_SIZE, overwrite: bool = True) -> Path:
    """Write ``seq`` as an EchoMimicV2 pose folder (``0.npy`` ...), atomically.

    The sequence's frame is scaled to fit and centred in EchoMimicV2's ``size x size`` output
    (768 by default, as its configs generate), the way its own preprocessing places a crop.
    Feet are dropped (the format has none). Returns the folder.
    """
    if not 16 <= int(size) <= 8192:
        raise OptionError(f"EchoMimicV2 canvas size {size} is out of range; use its output size (768)")
    params = canvas_params(seq.image_size, size=int(size))
    with atomic_dir(folder, overwrite=overwrite, what="EchoMimicV2 pose folder") as tmp:
        for i, kp in enumerate(seq.keypoints):
            d = frame_to_pose_dict(kp, image_size=seq.image_size, params=params, num=i)
            np.save(tmp / f"{i}.npy", np.array(d, dtype=object), allow_pickle=True)
    return Path(folder)
