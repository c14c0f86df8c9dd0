"""Self-reenactment: does stage 2 hold real people's motion? (``gesticulate reenact``)

For each real clip: extract its skeleton, render it onto the clip's own first frame with the
clip's sound (or silence), and hold the render against the real frames — the ideal output is
the clip itself (RENDERING.md, "Three checks", 4). Scored next to the **still** baseline (the
first frame held still): a renderer that does not beat it is not animating the person.

With ``drive``, each clip's first frame (or a photo) is driven by another clip's motion,
retargeted; there is no ground truth, so only pose fidelity, silhouette integrity and limb
lengths are scored.

Everything goes through :class:`gesticulate.pipeline.GeneratePipeline` (``prepare_photo``,
``fit_motion``, ``frames``, ``write_video``), so what is measured is what ``render`` does.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gesticulate.audio.io import AUDIO_SR
from gesticulate.errors import InputError, OptionError, input_file
from gesticulate.evaluate import reenact_scores as S
from gesticulate.skeleton.sequence import SkeletonSequence

log = logging.getLogger("gesticulate")

MAX_FPS = 60.0           # the video's limit: faster clips are resampled
MAX_SECONDS = 180.0      # every frame is held in memory: longer clips need --max-seconds


@dataclass
class Clip:
    """A real clip at the evaluation size: frames, their skeletons, frame rate and sound."""

    name: str
    frames: list[np.ndarray]          # RGB uint8 (H, W, 3)
    keypoints: np.ndarray | None      # (T, 133, 3) in the frames' pixels; None for a photo
    fps: float
    audio: np.ndarray | None          # mono float32 at AUDIO_SR, None when silent
    trunk_tracked: bool = False       # the trunk travels with the chest's texture

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.frames[0].shape[:2]
        return w, h

    def motion(self) -> SkeletonSequence:
        from gesticulate.skeleton.mediapipe_map import CONFIDENCE_SOURCE
        from gesticulate.skeleton.trunk import tracked_source
        return SkeletonSequence(self.keypoints, self.fps, self.size,
                                confidence_source=tracked_source(CONFIDENCE_SOURCE,
                                                                 self.trunk_tracked))


def _clip_audio(path: Path, seconds: float) -> np.ndarray | None:
    """The clip's sound at 16 kHz cut or padded to ``seconds`` (its own track, else a file of
    the same name beside it, as ``build-dataset`` reads it), None when it has none."""
    from gesticulate.data.decode import load_source_audio
    from gesticulate.data.sources import find_sidecar_audio

    try:
        return load_source_audio(str(path), sidecar=find_sidecar_audio(path), duration_s=seconds,
                                 sr=AUDIO_SR)
    except InputError as e:
        log.warning("%s: no sound used (%s)", path.name, e)
        return None


def load_clip(path: str | os.PathLike, *, size: int, max_seconds: float | None = None,
              progress: bool = True) -> Clip:
    """Decode a clip (or read a photo) at ``size`` (longer side) and extract its skeletons."""
    from gesticulate.image import load_image, output_size, resize_to
    from gesticulate.skeleton.extract import IMAGE_SUFFIXES, iter_video_keypoints
    from gesticulate.skeleton.trunk import reanchor_frames, steady_trunk, track_trunk
    from gesticulate.video import probe_video

    path = input_file(path, "clip", hint="give a video of one person speaking (or, with "
                      "--drive, a photo)")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        rgb = load_image(path)
        rgb = resize_to(rgb, output_size(rgb.shape[1], rgb.shape[0], size=size))
        return Clip(path.stem, [rgb], None, 25.0, None)
    info = probe_video(path)
    dst = output_size(info.width, info.height, size=size)
    fps = min(info.fps, MAX_FPS)
    if max_seconds is None and info.duration_s > MAX_SECONDS:
        raise OptionError(f"{path.name} lasts {info.duration_s:.0f} s; the harness holds every "
                          f"frame in memory, so pass --max-seconds (e.g. 60) for clips over "
                          f"{MAX_SECONDS:.0f} s")
    limit = None if max_seconds is None else int(round(max_seconds * fps))
    if limit is not None and limit < 2:
        raise OptionError(f"--max-seconds {max_seconds:g} keeps fewer than 2 frames of "
                          f"{path.name} ({fps:g} fps); give at least {2 / fps:.2f}")
    frames, kps = [], []
    bar = tqdm(total=limit or info.num_frames or None, desc=f"{path.stem}: skeletons",
               unit="frame", disable=not progress, leave=False)
    for frame, kp in iter_video_keypoints(path, fps=fps if info.fps > MAX_FPS else None):
        if limit is not None and len(frames) >= limit:
            break
        frames.append(resize_to(frame, dst))
        kp = kp.copy()
        kp[:, 0] *= dst[0] / frame.shape[1]
        kp[:, 1] *= dst[1] / frame.shape[0]
        kps.append(kp)
        bar.update(1)
    bar.close()
    if len(frames) < 2:
        raise InputError(f"{path} has fewer than 2 decodable frames; give a longer clip")
    trunk = track_trunk(frames, kps, reanchor=reanchor_frames(fps))
    kps, tracked = steady_trunk(np.stack(kps), trunk.travel, fps=fps, epochs=trunk.epochs)
    return Clip(path.stem, frames, kps, fps, _clip_audio(path, len(frames) / fps), tracked)


def _pipeline(renderer: str, checkpoint, *, fps: float, size: int, seed: int, workers: int):
    from gesticulate.pipeline import GeneratePipeline
    return GeneratePipeline(renderer=renderer, renderer_checkpoint=checkpoint, fps=fps,
                            size=size, seed=seed, render_workers=workers, phones=False)


def render_clip(pipe, photo: np.ndarray, motion: SkeletonSequence, audio: np.ndarray | None, *,
                video: Path, progress: bool) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Render ``motion`` onto ``photo`` with ``pipe`` and write ``video``.

    Returns the frames, the photo's skeleton and the fitted driving skeleton ``(T, 133, 3)``.
    """
    photo, reference = pipe.prepare_photo(photo)
    h, w = photo.shape[:2]
    fitted = pipe.fit_motion(motion, reference, image_size=(w, h))
    if not (fitted.keypoints[..., 2] > 0).any():
        raise InputError("the driving motion shows no person in any frame; give a clip in which "
                         "the speaker is visible")
    y = audio if audio is not None else np.zeros(int(round(motion.duration_s * AUDIO_SR)),
                                                 np.float32)
    features = pipe.features(y, AUDIO_SR) if pipe.options.renderer == "diffusion" else None
    frames: list[np.ndarray] = []

    def keep(it):
        for f in it:
            frames.append(f)
            yield f

    frames_in = pipe.frames(photo, reference, fitted, features, fitted=True)
    pipe.write_video(keep(frames_in), output=video,
                     num_frames=len(motion), size=(w, h), audio=y, sr=AUDIO_SR,
                     progress=progress)
    return frames, reference, fitted.keypoints


def _check(clips, *, renderer: str, checkpoint, size: int, max_seconds) -> None:
    from gesticulate.pipeline import GenerateOptions
    if not clips:
        raise OptionError("give at least one clip to reenact")
    GenerateOptions(renderer=renderer, renderer_checkpoint=checkpoint).check()
    if not 64 <= size <= 2048:
        raise OptionError(f"--size {size} is out of range; use 64..2048 pixels")
    if max_seconds is not None and not max_seconds > 0:
        raise OptionError(f"--max-seconds {max_seconds} must be positive")
    for c in clips:
        input_file(c, "clip", hint="give the path of a video clip")
    names = [Path(c).stem for c in clips]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"several clips are named {', '.join(twice)}; their reports would "
                         "overwrite each other, so rename or copy one of them")


def reenact(clips: list[str | os.PathLike], *, output: str | os.PathLike, renderer: str = "warp",
            renderer_checkpoint: str | None = None, drive: str | os.PathLike | None = None,
            size: int = 512, seed: int = 0, max_seconds: float | None = None,
            render_workers: int = 0, progress: bool = True) -> dict:
    """Run the reenactment harness and write ``output``/ ``reenact.json``, ``reenact.md``,
    ``index.html``, one rendered mp4 and one most-moved-frames image per clip.

    Returns the result dictionary written to ``reenact.json`` (NaN as None).
    """
    from gesticulate.atomic import atomic_dir, holds
    from gesticulate.evaluate import reenact_report as R
    from gesticulate.evaluate.report import json_safe

    _check(clips, renderer=renderer, checkpoint=renderer_checkpoint, size=size,
           max_seconds=max_seconds)
    if drive is not None:
        input_file(drive, "--drive clip", hint="give the clip whose motion drives the photos")
    settings = {"renderer": renderer, "renderer_checkpoint": renderer_checkpoint, "size": size,
                "seed": seed, "max_seconds": max_seconds,
                "drive": None if drive is None else Path(drive).name}
    with atomic_dir(output, previous=holds("reenact.json"), what="reenactment report",
                    inputs=[*clips, drive]) as tmp:
        driver = None
        if drive is not None:
            driver = load_clip(drive, size=size, max_seconds=max_seconds, progress=progress)
            if driver.keypoints is None:
                raise InputError(f"--drive {drive} is a photo; give a video whose motion drives")
        results = []
        for path in tqdm(clips, desc="reenact", unit="clip", disable=not progress):
            clip = load_clip(path, size=size, max_seconds=max_seconds, progress=progress)
            if driver is None and clip.keypoints is None:
                raise InputError(f"{path} is a photo; self-reenactment needs a video (use "
                                 "--drive CLIP to drive a photo with a clip's motion)")
            results.append(_one(clip, driver, tmp, renderer=renderer,
                                checkpoint=renderer_checkpoint, size=size, seed=seed,
                                workers=render_workers, progress=progress))
        result = json_safe({"settings": settings, "clips": results,
                            "mean": S.mean_rows(results)})
        R.write_reenact_report(tmp, result)
    return result


def _one(clip: Clip, driver: Clip | None, folder: Path, *, renderer: str, checkpoint, size: int,
         seed: int, workers: int, progress: bool) -> dict:
    src = driver or clip
    pipe = _pipeline(renderer, checkpoint, fps=src.fps, size=size, seed=seed, workers=workers)
    name = clip.name if driver is None else f"{clip.name}_by_{driver.name}"
    try:
        frames, reference, fitted = render_clip(pipe, clip.frames[0], src.motion(), src.audio,
                                                video=folder / f"{name}.mp4", progress=progress)
    except InputError as e:
        raise InputError(f"{clip.name}: {e} (the first frame of a clip is its photo; trim the "
                         "clip to start on the speaker)") from None
    if driver is None:
        scores = S.self_scores(clip.frames, frames, clip.keypoints, fps=clip.fps,
                               renderer=renderer, progress=progress)
    else:
        scores = S.drive_scores(driver.frames, frames, fitted, reference, renderer=renderer,
                                progress=progress)
    image = S.moved_frames_image(clip.frames if driver is None else driver.frames, frames,
                                 scores["moved_frames"])
    _write_png(folder / f"{name}.png", image)
    return {"clip": name, "fps": src.fps, "num_frames": len(frames),
            "size": list(frames[0].shape[1::-1]), "video": f"{name}.mp4",
            "frames_image": f"{name}.png", **scores}


def _write_png(path: Path, rgb: np.ndarray) -> None:
    import cv2
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise InputError(f"could not write {path}")
