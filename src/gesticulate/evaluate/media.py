"""Videos of the evaluation: every row's video at one size and frame rate.

Ground truth, rendered rows and submitted videos all go through here, so the video metrics see
the same resolution, frame rate and codec (H.264 at the same settings) everywhere: a metric
difference is then a difference of content, not of encoding.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gesticulate.errors import InputError


def eval_size(width: int, height: int, *, size: int) -> tuple[int, int]:
    """(width, height) with the longer side ``size``, aspect kept, both even."""
    from gesticulate.image import output_size

    return output_size(width, height, size=size)


def scale_keypoints(kp: np.ndarray, src_size: tuple[int, int], dst_size: tuple[int, int]) -> np.ndarray:
    """Keypoints ``(..., 133, 3)`` from pixels of ``src_size`` to pixels of ``dst_size`` (w, h)."""
    out = np.array(kp, dtype=np.float32, copy=True)
    out[..., 0] *= dst_size[0] / src_size[0]
    out[..., 1] *= dst_size[1] / src_size[1]
    return out


def first_frame(path: str | os.PathLike) -> np.ndarray:
    """The first RGB frame of a video."""
    from gesticulate.video import iter_frames

    for frame in iter_frames(path):
        return frame
    raise InputError(f"{path} has no decodable frame; rebuild the dataset with write_video")


def normalise_video(src: str | os.PathLike, dst: str | os.PathLike, *, fps: float,
                    size: tuple[int, int], num_frames: int | None, audio: np.ndarray | None,
                    sr: int | None) -> int:
    """Re-encode ``src`` at ``fps`` and ``size`` (w, h) into ``dst``; returns the frame count.

    Frames are resampled by time (:func:`gesticulate.video.iter_frames`) and cut at
    ``num_frames``; a shorter video stays shorter (the metrics compare up to the shorter one).
    """
    from gesticulate.image import resize_to
    from gesticulate.video import VideoWriter, iter_frames

    n = 0
    with VideoWriter(dst, fps=fps, size=size, audio=audio, sr=sr) as writer:
        for frame in iter_frames(src, fps=fps):
            if num_frames is not None and n >= num_frames:
                break
            writer.write(resize_to(frame, size))
            n += 1
    if n == 0:
        Path(dst).unlink(missing_ok=True)
        raise InputError(f"{src} has no decodable frames")
    return n


def render_video(motion: np.ndarray, dst: str | os.PathLike, *, photo: np.ndarray,
                 reference: np.ndarray, fps: float, audio: np.ndarray | None, sr: int | None,
                 seed: int = 0) -> None:
    """Render ``motion`` ``(T, 133, 3)`` (pixels of ``photo``) with the warp renderer into ``dst``.

    The same pieces as ``gesticulate generate`` (:class:`gesticulate.pipeline.GeneratePipeline`
    with ``renderer="warp"``: ``.frames(photo, reference, motion)`` into ``.write_video``).
    """
    from gesticulate.pipeline import GeneratePipeline
    from gesticulate.skeleton.sequence import SkeletonSequence

    pipe = GeneratePipeline(renderer="warp", seed=seed, fps=fps)
    h, w = photo.shape[:2]
    seq = SkeletonSequence(motion, fps, (w, h))
    pipe.write_video(pipe.frames(photo, reference, seq), output=dst, num_frames=len(seq),
                     size=(w, h), audio=audio, sr=sr, progress=False)


def grab_frames(path: str | os.PathLike, indices: list[int]) -> list[np.ndarray | None]:
    """RGB frames at ``indices`` of a video (None past its end)."""
    from gesticulate.video import iter_frames

    want = {int(i): None for i in indices}
    last = max(want) if want else -1
    for i, frame in enumerate(iter_frames(path)):
        if i in want:
            want[i] = frame
        if i >= last:
            break
    return [want[int(i)] for i in indices]
