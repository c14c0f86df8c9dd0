"""Outputs of another system (``--generated DIR``), matched to the evaluated clips by clip id.

A file belongs to a clip when its name (without extension) is the clip id, or contains it
(``<clip_id>.mp4``, ``peer_<clip_id>_seed0.npz``); an exact name wins over a contained one,
and among contained ones the shortest name. Accepted files:

* ``*.npz`` — a skeleton sequence as written by :meth:`SkeletonSequence.save` (COCO-WholeBody
  133, pixels + confidence). Scored with the motion metrics, after scaling its pixels from its
  ``image_size`` to the clip's frame and resampling it (nearest frame) to the clip's fps.
* ``*.mp4`` (also ``.mov``, ``.mkv``, ``.avi``, ``.webm``) — a video of the clip's speech.
  Scored with the video metrics after re-encoding at the evaluation size and fps; when no
  ``.npz`` is given for the clip, its motion is the MediaPipe skeleton re-detected on it
  (marked ``motion_from: redetected`` in ``metrics.json``).

The video is assumed to show the clip's speaker framed like the clip's video (PSNR/SSIM and
PCK compare pixel positions); a different framing lowers those numbers, not the others.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gesticulate.errors import InputError
from gesticulate.skeleton.sequence import SkeletonSequence

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm")


@dataclass
class Submission:
    """What ``--generated`` holds for one clip."""

    skeleton: Path | None = None
    video: Path | None = None


def _best(stems: dict[str, Path], clip_id: str) -> Path | None:
    if clip_id in stems:
        return stems[clip_id]
    hits = sorted((p for s, p in stems.items() if clip_id in s), key=lambda p: (len(p.stem), p.name))
    return hits[0] if hits else None


def match_generated(folder: str | os.PathLike, clip_ids: list[str]) -> dict[str, Submission]:
    """Map each clip id to the files of ``folder`` that belong to it (clips with none left out).

    Raises InputError when the folder does not exist or matches no clip at all.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"--generated {folder} is not a folder; give the folder holding the "
                         "other system's .mp4 or .npz files, one per clip, named by clip id")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    skel = {p.stem: p for p in files if p.suffix.lower() == ".npz"}
    vids = {p.stem: p for p in files if p.suffix.lower() in VIDEO_SUFFIXES}
    out = {}
    for cid in clip_ids:
        sub = Submission(_best(skel, cid), _best(vids, cid))
        if sub.skeleton or sub.video:
            out[cid] = sub
    if not out:
        example = clip_ids[0] if clip_ids else "CLIP_ID"
        raise InputError(f"no file in {folder} is named after a clip of the evaluated split "
                         f"(e.g. {example}.mp4 or {example}.npz); name each file by its clip id")
    return out


def conform_skeleton(seq: SkeletonSequence, *, fps: float, image_size: tuple[int, int],
                     num_frames: int) -> np.ndarray:
    """A submitted skeleton in the clip's frame and frame rate: ``(num_frames, 133, 3)``.

    Pixels are scaled from ``seq.image_size`` to ``image_size``; frames are resampled by
    nearest time to ``fps``; a short sequence is held on its last frame.
    """
    kp = seq.keypoints.astype(np.float32).copy()
    kp[..., 0] *= image_size[0] / seq.image_size[0]
    kp[..., 1] *= image_size[1] / seq.image_size[1]
    idx = np.round(np.arange(num_frames) / fps * seq.fps).astype(np.int64)
    return kp[np.clip(idx, 0, len(kp) - 1)]


def load_submitted_skeleton(path: Path, **kw) -> np.ndarray:
    try:
        seq = SkeletonSequence.load(path)
    except (KeyError, ValueError, OSError) as e:
        raise InputError(f"{path} is not a skeleton .npz ({e}); write it with "
                         "SkeletonSequence.save (keypoints, fps, image_size)") from None
    return conform_skeleton(seq, **kw)
