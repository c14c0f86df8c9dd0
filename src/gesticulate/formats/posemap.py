"""Pose-map frames (DWPose style, black background) as an mp4 or a folder of PNGs.

These drive off-the-shelf pose-to-video models: MimicMotion, StableAnimator, AnimateAnyone,
ControlNet (pick the drawing ``style`` the model was trained with; see
:mod:`gesticulate.skeleton.draw`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
from tqdm import tqdm

from gesticulate.errors import OptionError, OutputError
from gesticulate.atomic import atomic_dir
from gesticulate.skeleton.draw import STYLES, draw_pose_map
from gesticulate.skeleton.sequence import SkeletonSequence


def resolve_size(image_size: tuple[int, int], size: int | tuple[int, int] | None) -> tuple[int, int]:
    """Output (w, h): ``None`` keeps ``image_size``; an int is the longer side (aspect kept,
    both even, as ``--size`` everywhere); a pair is taken as is."""
    if size is None:
        return int(image_size[0]), int(image_size[1])
    if isinstance(size, (int, np.integer)):
        from gesticulate.image import output_size
        return output_size(int(image_size[0]), int(image_size[1]), size=int(size))
    w, h = (int(v) for v in size)
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise OptionError(f"output size {size} is out of range; use 16..8192 pixels per side")
    return w, h


def fit_to_size(seq: SkeletonSequence, size: tuple[int, int]) -> SkeletonSequence:
    """Rescale ``seq`` into a ``size`` (w, h) frame: uniform scale to fit, centred (letterbox),
    so the body is never stretched."""
    w0, h0 = seq.image_size
    w, h = size
    if (w0, h0) == (w, h):
        return seq
    s = min(w / w0, h / h0)
    kp = seq.keypoints.copy()
    kp[..., 0] = kp[..., 0] * s + (w - w0 * s) / 2
    kp[..., 1] = kp[..., 1] * s + (h - h0 * s) / 2
    return SkeletonSequence(kp, seq.fps, (w, h))


def iter_pose_maps(seq: SkeletonSequence, *, threshold: float = 0.3, style: str = "dwpose",
                   progress: bool = False, desc: str = "pose maps") -> Iterator[np.ndarray]:
    """Yield one RGB uint8 pose map ``(h, w, 3)`` per frame of ``seq``, in its frame size."""
    if style not in STYLES:
        raise OptionError(f"pose-map style {style!r} is unknown; use one of {STYLES}")
    for kp in tqdm(seq.keypoints, desc=desc, unit="frame", disable=not progress):
        yield draw_pose_map(kp, size=seq.image_size, threshold=threshold, style=style)


def write_posemap_video(seq: SkeletonSequence, path: str | os.PathLike, *,
                        threshold: float = 0.3, style: str = "dwpose",
                        progress: bool = True) -> Path:
    """Write the pose maps as an H.264 yuv420p mp4 at ``seq.fps``, atomically.

    H.264 with yuv420p needs even sizes: an odd width or height loses its last column/row.
    """
    from gesticulate.video import VideoWriter
    path = Path(path)
    if path.suffix.lower() != ".mp4":
        raise OptionError(f"pose-map video {path} must be an .mp4 file; e.g. {path.with_suffix('.mp4')}")
    with VideoWriter(path, fps=seq.fps, size=seq.image_size) as writer:
        for frame in iter_pose_maps(seq, threshold=threshold, style=style, progress=progress):
            writer.write(frame)
    return path


def write_posemap_pngs(seq: SkeletonSequence, folder: str | os.PathLike, *,
                       threshold: float = 0.3, style: str = "dwpose", progress: bool = True,
                       overwrite: bool = True) -> Path:
    """Write the pose maps as ``00000.png``, ``00001.png``, ... in ``folder``, atomically."""
    digits = max(5, len(str(len(seq) - 1)))
    with atomic_dir(folder, overwrite=overwrite, what="pose-map folder") as tmp:
        frames = iter_pose_maps(seq, threshold=threshold, style=style, progress=progress)
        for i, frame in enumerate(frames):
            name = tmp / f"{i:0{digits}d}.png"
            # Level 1: pose maps are mostly black, so fast compression costs little size.
            if not cv2.imwrite(str(name), np.ascontiguousarray(frame[..., ::-1]),
                               [cv2.IMWRITE_PNG_COMPRESSION, 1]):
                raise OutputError(f"could not write {name}; free some disk space or choose "
                                  "another folder")
    return Path(folder)
