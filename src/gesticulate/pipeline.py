"""The generate pipeline: speech audio + one photo → mp4 of that person speaking and gesturing.

This is the object the CLI, the demo and the web app call. It reads top to bottom as the flow
of DESIGN.md: audio features → reference skeleton → stage 1 (motion) → stage 2 (render) →
H.264 + AAC mp4 whose length is the audio's. Frames are rendered and encoded one at a time, so
memory is bounded by one frame whatever the audio's length.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from gesticulate.audio.features import AudioFeatures
from gesticulate.audio.io import AUDIO_SR
from gesticulate.errors import InputError, OptionError
from gesticulate.render.parallel import Aside
from gesticulate.skeleton.sequence import SkeletonSequence

log = logging.getLogger("gesticulate")

MAX_UPSCALE = 2.0       # a photo enlarged more than this for the video: warn that it looks soft
MIN_SPEECH_S = 0.3      # less voice than this in a whole track: warn that no speech was found
MOTIONS = ("procedural", "retrieval", "diffusion")
LEARNED_SMOOTH_S = 0.44   # DCSG: Savitzky–Golay over 11 frames (at 25 fps), order 2
RENDERERS = ("warp", "pose", "diffusion")

# on_progress(stage, fraction): stage is one of "audio", "photo", "motion", "render", "done".
ProgressFn = Callable[[str, float], None]


@dataclass
class GenerateOptions:
    """Settings of one generation; every field has a CLI flag of the same name."""

    fps: float = 25.0                 # output frame rate (frames per second)
    size: int = 512                   # longer side of the output video in pixels; aspect kept
    seed: int = 0                     # same seed, same inputs -> same video
    motion: str = "procedural"        # stage 1: procedural | retrieval | diffusion
    checkpoint: str | None = None     # MotionDiT run folder (diffusion) or dataset (retrieval)
    renderer: str = "warp"            # stage 2: warp (photo animation) | pose (DWPose maps) | diffusion
    renderer_checkpoint: str | None = None  # train-renderer run folder for --renderer diffusion
    speed: float = 1.0                # gesture speed multiplier (0.25..4)
    style: str | None = None          # gesture style name/id where the generator has styles
    phones: bool = True               # use pocketsphinx phone timings for lip shapes
    hands_first: bool = False         # EMO2: sample the hands, then the body (diffusion motion)
    audio_encoder: str | None = None  # speech encoder folder of a diffusion run (default: its own)
    smooth: bool = True               # zero-phase smoothing of the motion before rendering
    render_workers: int = 0           # processes rendering frames (0: one per core, at most 4)

    def check(self) -> None:
        if not 1 <= self.fps <= 60:
            raise OptionError(f"--fps {self.fps} is out of range; use 1..60 (25 is the default)")
        if not 64 <= self.size <= 4096:
            raise OptionError(f"--size {self.size} is out of range; use 64..4096 pixels")
        if not 0.25 <= self.speed <= 4:
            raise OptionError(f"--speed {self.speed} is out of range; use 0.25..4 (1 is normal)")
        if self.motion not in MOTIONS:
            raise OptionError(f"unknown motion generator {self.motion!r}; choose one of {', '.join(MOTIONS)}")
        if self.renderer not in RENDERERS:
            raise OptionError(f"unknown renderer {self.renderer!r}; choose one of {', '.join(RENDERERS)}")
        if self.motion in ("diffusion", "retrieval") and not self.checkpoint:
            what = "a trained run folder (gesticulate train)" if self.motion == "diffusion" \
                else "a dataset folder (gesticulate build-dataset)"
            raise OptionError(f"--motion {self.motion} needs --checkpoint: {what}")
        if not 0 <= self.render_workers <= 64:
            raise OptionError(f"render_workers={self.render_workers}; use 0 (one per core) to 64")
        if self.renderer == "diffusion" and not self.renderer_checkpoint:
            raise OptionError("--renderer diffusion needs --renderer-checkpoint: a run folder "
                              "made by `gesticulate train-renderer`")
        if self.audio_encoder and self.motion != "diffusion":
            raise OptionError("--audio-encoder is the speech encoder a learned model hears; it "
                              "needs --motion diffusion (with --checkpoint)")
        if self.hands_first and self.motion != "diffusion":
            raise OptionError("--hands-first plans a learned model's hands before its body; it "
                              "needs --motion diffusion (with --checkpoint)")
        if not 0 <= self.seed < 2**32:
            raise OptionError(f"--seed {self.seed} is out of range; use 0..4294967295")


@dataclass
class GenerateResult:
    """What a generation produced, with the wall seconds of each stage: they add up to the
    whole job (the audio's analysis runs beside the photo's, so ``audio`` counts only the wait
    the photo's work did not hide)."""

    output: Path
    motion: SkeletonSequence
    reference: np.ndarray
    duration_s: float
    timings: dict[str, float] = field(default_factory=dict)
    style: str | None = None    # the gesture style used and why, where the generator has styles


def _tqdm_progress(enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm
    return lambda total, desc: tqdm(total=total, desc=desc, unit="frame", file=sys.stderr,
                                    leave=False, dynamic_ncols=True)


class GeneratePipeline:
    """Speech + photo → video. ``GeneratePipeline(motion="procedural")(audio=..., image=..., output=...)``.

    Construct once and call many times (the web app does); options are fixed per pipeline.
    The pipeline keeps its own copy of ``options`` with ``overrides`` applied; the caller's
    object is left as it was. Methods are named for what they do, so no method shares a name
    with an option (``options.motion`` is the generator's name, :meth:`generate_motion` runs it).
    """

    def __init__(self, options: GenerateOptions | None = None, **overrides) -> None:
        names = {f.name for f in dataclasses.fields(GenerateOptions)}
        for k in overrides:
            if k not in names:
                raise OptionError(f"unknown option {k!r}")
        self.options = dataclasses.replace(options or GenerateOptions(), **overrides)
        self.options.check()
        self._generator = None

    # -- stages, each usable on its own ------------------------------------------------------

    def load_audio(self, audio) -> tuple[np.ndarray, int]:
        """``audio`` is a path or a ``(samples, sr)`` pair; returns mono float32 at 16 kHz."""
        from gesticulate.audio import io
        if isinstance(audio, (str, os.PathLike)):
            return io.load_audio(audio, sr=AUDIO_SR), AUDIO_SR
        y, sr = audio
        y = np.asarray(y, dtype=np.float32).reshape(-1)
        if sr != AUDIO_SR:
            import librosa
            y = librosa.resample(y, orig_sr=sr, target_sr=AUDIO_SR).astype(np.float32)
        y = io.remove_dc(y, sr=AUDIO_SR)        # as load_audio does a file's
        io.check_audio(y, sr=AUDIO_SR, name="audio")
        return y, AUDIO_SR

    def features(self, y: np.ndarray, sr: int) -> AudioFeatures:
        from gesticulate.audio.features import compute_features
        return compute_features(y, sr=sr, fps=self.options.fps)

    @staticmethod
    def warn_without_speech(features: AudioFeatures) -> None:
        """Log a warning when the speech to animate holds (almost) no voice."""
        from gesticulate.motion.gestures import speech_mask
        speech_s = float(speech_mask(features).sum()) / features.fps
        if speech_s < MIN_SPEECH_S:
            log.warning("no speech found in the audio (%.1f s of voice in %.1f s): the person "
                        "will barely move or speak; give a recording of someone speaking",
                        speech_s, features.duration_s)

    def analyse(self, y: np.ndarray, sr: int):
        """``(features, phone timings)`` of the speech: what stage 1 hears."""
        return self.features(y, sr), self.phone_timings(y, sr)

    def phone_timings(self, y: np.ndarray, sr: int):
        """Phone timings of the speech for lip shapes, or None when ``options.phones`` is off or
        none were recognised."""
        if not self.options.phones:
            return None
        from gesticulate.audio.phones import recognize_phones
        return recognize_phones(y, sr=sr) or None

    def prepare_photo(self, image) -> tuple[np.ndarray, np.ndarray]:
        """Photo (path or RGB array) → (photo at output size, its (133, 3) skeleton)."""
        from gesticulate.image import load_image, output_size, resize_to
        from gesticulate.skeleton.extract import extract_image
        rgb = load_image(image) if isinstance(image, (str, os.PathLike)) else np.asarray(image)
        size = output_size(rgb.shape[1], rgb.shape[0], size=self.options.size)
        if size[0] > MAX_UPSCALE * rgb.shape[1]:
            log.warning("the photo is %dx%d px, enlarged %.1fx to %dx%d: the video will look "
                        "soft; use a photo of at least %d px on its longer side, or a smaller "
                        "--size", rgb.shape[1], rgb.shape[0], size[0] / rgb.shape[1], *size,
                        self.options.size)
        rgb = resize_to(rgb, size)
        return rgb, extract_image(rgb)

    def generator(self):
        if self._generator is None:
            from gesticulate.motion.base import get_generator
            o = self.options
            kwargs = {} if o.checkpoint is None else {"checkpoint": o.checkpoint}
            if o.hands_first:
                kwargs["hands_first"] = True
            if o.audio_encoder:
                kwargs["audio_encoder"] = o.audio_encoder
            self._generator = get_generator(o.motion, **kwargs)
        return self._generator

    def choose_style(self, features: AudioFeatures, reference: np.ndarray, *, image_size):
        """The gesture style the generator will use (``.name``) and why (``.describe()``), for
        a generator with styles read from its inputs; None otherwise."""
        gen = self.generator()
        if not hasattr(gen, "style_for"):
            return None
        return gen.style_for(features, reference, image_size=image_size, style=self.options.style)

    def generate_motion(self, features: AudioFeatures, reference: np.ndarray, *, image_size,
                        phone_timings=None, style: str | None = None,
                        audio: tuple[np.ndarray, int] | None = None) -> SkeletonSequence:
        """Stage 1; ``style`` (e.g. the name :meth:`choose_style` chose) overrides the options';
        ``audio`` (the waveform and its rate) reaches a generator that hears it."""
        o = self.options
        motion = self.generator().generate(features, reference, image_size=image_size,
                                           seed=o.seed, speed=o.speed, style=style or o.style,
                                           phones=phone_timings, audio=audio)
        # A generator whose samples jitter says so (``smooth_samples``, the diffusion one).
        learned = getattr(self.generator(), "smooth_samples", False)
        return smooth_learned(motion) if o.smooth and learned else motion

    def frames(self, image: np.ndarray, reference: np.ndarray, motion: SkeletonSequence,
               features: AudioFeatures | None = None, *, fitted: bool = False, renderer=None,
               i420: bool = False) -> Iterator[np.ndarray]:
        """Stage 2: one RGB frame per motion frame, produced lazily (memory: one frame/chunk).

        The motion is first fitted to the photo (:meth:`fit_motion`), whatever made it, unless
        ``fitted`` says it already was. ``renderer`` is :meth:`frame_renderer`'s for this photo
        when it was built already. ``i420``: frames as :func:`gesticulate.video.to_i420`
        planes, converted where they are rendered (what :meth:`write_video` encodes; the
        diffusion renderer's frames stay RGB, which it takes too)."""
        o = self.options
        if not fitted:
            motion = self.fit_motion(motion, reference, image_size=image.shape[1::-1])
        if o.renderer == "diffusion":
            from gesticulate.render.diffusion import DiffusionRenderer
            r = DiffusionRenderer(o.renderer_checkpoint, image, reference, seed=o.seed)
            return r.render_sequence(motion.keypoints, features, activity=motion.region_activity)
        from gesticulate.render.parallel import default_workers, render_parallel
        from gesticulate.video import to_i420
        workers = o.render_workers or default_workers()
        renderer = renderer or self.frame_renderer(image, reference)
        return render_parallel(renderer, motion.keypoints, workers=workers,
                               then=to_i420 if i420 else None)

    def fit_motion(self, motion: SkeletonSequence, reference: np.ndarray, *, image_size
                   ) -> SkeletonSequence:
        """Any motion → the photo's frame and proportions, glitches removed, gaps filled
        (:func:`gesticulate.skeleton.retarget.retarget`): a function of the whole sequence, so
        each rendered frame depends on the motion alone."""
        from gesticulate.skeleton.retarget import retarget
        from gesticulate.skeleton.trunk import is_tracked
        w, h = int(image_size[0]), int(image_size[1])
        kp = retarget(motion.keypoints, fps=motion.fps, reference=reference, size=(w, h),
                      smooth=self.options.smooth,
                      trunk_tracked=is_tracked(motion.confidence_source))
        return SkeletonSequence(kp, motion.fps, (w, h), motion.confidence_source,
                                motion.region_activity)

    def frame_renderer(self, image: np.ndarray, reference: np.ndarray):
        """A frame-by-frame renderer (warp or pose): ``.render(kp (133, 3)) -> RGB frame``."""
        if self.options.renderer == "pose":
            from gesticulate.render.pose import PoseRenderer
            return PoseRenderer(image, reference)
        if self.options.renderer == "diffusion":
            raise OptionError("the diffusion renderer works on whole sequences; use frames()")
        from gesticulate.render.warp import WarpRenderer
        return WarpRenderer(image, reference, seed=self.options.seed)

    # -- the whole job -------------------------------------------------------------------------

    def __call__(self, *, audio, image, output, motion_output=None, progress: bool = True,
                 on_progress: ProgressFn | None = None) -> GenerateResult:
        """Run the whole job and write ``output`` (mp4) and, if given, ``motion_output`` (npz).

        Inputs are checked before any long work; the mp4 appears only when it is complete.
        """
        from gesticulate.atomic import same_file
        from gesticulate.video import check_skeleton_output, check_video_output
        report = on_progress or (lambda stage, frac: None)
        inputs = {"audio": audio, "photo": image}
        output = check_video_output(output, inputs=inputs)
        if motion_output is not None:
            if same_file(motion_output, output):
                raise OptionError(f"--motion-output and --output both name {output}; give "
                                  "the skeletons and the video different names")
            check_skeleton_output(motion_output, inputs=inputs)
        t = {}
        t0 = time.perf_counter()
        report("audio", 0.0)
        y, sr = self.load_audio(audio)
        t["audio"] = time.perf_counter() - t0
        # The audio's analysis (its features, then its phones) runs on one core beside the
        # photo's set-up, which still comes first with its checks. 60 s of speech on 2 cores,
        # in-process: the wait for the audio after the photo's 3.9-4.8 s fell from 2.7 s
        # (the phones after the set-up, on its core) to 0.2-0.7 s (2 runs each).
        with Aside(self.analyse, y, sr, what="the audio analysis",
                   inline=not _analysis_aside(self.options.phones)) as analysis:
            report("photo", 0.0)
            t0 = time.perf_counter()
            photo, reference = self.prepare_photo(image)
            h, w = photo.shape[:2]
            renderer = (None if self.options.renderer == "diffusion"
                        else self.frame_renderer(photo, reference))
            t["photo"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            features, phone_timings = analysis.result()
            t["audio"] += time.perf_counter() - t0    # what the photo's work did not hide
        self.warn_without_speech(features)
        report("motion", 0.0)
        t0 = time.perf_counter()
        style = self.choose_style(features, reference, image_size=(w, h))  # chosen, logged once
        motion = self.generate_motion(features, reference, image_size=(w, h),
                                      phone_timings=phone_timings,
                                      style=style.name if style else None, audio=(y, sr))
        t["motion"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        frames = self.frames(photo, reference, motion, features, renderer=renderer, i420=True)
        self.write_video(frames, output=output, num_frames=len(motion), size=(w, h), audio=y,
                         sr=sr, progress=progress, report=report)
        t["render_encode"] = time.perf_counter() - t0
        if motion_output is not None:
            motion.save(motion_output)
        report("done", 1.0)
        return GenerateResult(output=output, motion=motion, reference=reference,
                              duration_s=len(y) / sr, timings=t,
                              style=style.describe() if style else None)

    def write_video(self, frames: Iterator[np.ndarray], *, output, num_frames: int,
                    size: tuple[int, int], audio: np.ndarray, sr: int, progress: bool = True,
                    report: ProgressFn | None = None) -> None:
        """Encode ``frames`` with ``audio`` muxed in, atomically, showing progress."""
        from gesticulate.video import VideoWriter
        bar = _tqdm_progress(progress)
        bar = bar(num_frames, "rendering") if bar else None
        with VideoWriter(output, fps=self.options.fps, size=size, audio=audio, sr=sr) as writer:
            for i, frame in enumerate(frames):
                writer.write(frame)
                if bar:
                    bar.update(1)
                if report and i % 25 == 0:
                    report("render", i / num_frames)
        if bar:
            bar.close()

    def render(self, *, motion, image, audio, output, progress: bool = True) -> GenerateResult:
        """Stage 2 alone: a skeleton ``.npz`` (or sequence) + the photo + the speech → mp4.

        The motion, made for any person by any tool, is resampled to the pipeline's ``fps``
        and fitted to the photo (:meth:`fit_motion`); its length must match the audio's within
        a second (the video keeps the motion's frames and the audio is trimmed or padded).
        """
        from gesticulate.video import check_video_output
        output = check_video_output(output, inputs={"motion": motion, "photo": image,
                                                    "audio": audio})
        path = None if isinstance(motion, SkeletonSequence) else motion
        motion = motion if isinstance(motion, SkeletonSequence) else SkeletonSequence.load(motion)
        motion = motion.resampled(self.options.fps)
        y, sr = self.load_audio(audio)
        if abs(len(y) / sr - motion.duration_s) > 1.0:
            raise InputError(f"the motion lasts {motion.duration_s:.1f} s but the audio "
                             f"{len(y) / sr:.1f} s; give the audio the motion was made from"
                             f"{_clip_audio_hint(path, audio, motion.duration_s)}")
        n = int(round(motion.duration_s * sr))
        y = np.pad(y[:n], (0, max(0, n - len(y))))
        t0 = time.perf_counter()
        photo, reference = self.prepare_photo(image)
        h, w = photo.shape[:2]
        features = self.features(y, sr) if self.options.renderer == "diffusion" else None
        self.write_video(self.frames(photo, reference, motion, features, i420=True),
                         output=output, num_frames=len(motion), size=(w, h), audio=y, sr=sr,
                         progress=progress)
        return GenerateResult(output=output, motion=motion, reference=reference,
                              duration_s=len(y) / sr, timings={"render": time.perf_counter() - t0})


def _clip_audio_hint(motion, audio, seconds: float) -> str:
    """`` (the clip's own speech is …)`` when the ``motion`` file is a dataset's clip
    (import-poses, build-dataset), whose own stretch of the speech lies beside it as
    ``audio.wav`` and lasts as long as the motion (``seconds``), and the ``audio`` given is
    another; else nothing."""
    if motion is None:
        return ""
    own = Path(motion).resolve().parent / "audio.wav"
    given = Path(audio).resolve() if isinstance(audio, (str, os.PathLike)) else None
    if not own.is_file() or own == given:
        return ""
    import soundfile as sf
    try:
        if abs(sf.info(str(own)).duration - seconds) > 1.0:
            return ""
    except RuntimeError:                       # not a sound file soundfile can read
        return ""
    return f" (the clip's own speech is {own})"


_COLD_ASIDES = [0]


def _analysis_aside(phones: bool = True) -> bool:
    """Whether the audio's analysis should run in a forked process beside the photo's. A child
    forked from a process that has loaded the analysis's libraries (torch, librosa, and
    pocketsphinx with its decoder for the ``phones``) starts warm (0.07 s); one forked from a
    process that has not loads them again each time (3 s; the phones' 0.3 s) and throws them
    away. So: fork while warm, and the first time while cold; after that, run in place once,
    which loads them here for the calls that follow."""
    if {"torch", "librosa"} | ({"pocketsphinx"} if phones else set()) <= set(sys.modules):
        return True
    _COLD_ASIDES[0] += 1
    return _COLD_ASIDES[0] == 1


def smooth_learned(motion: SkeletonSequence) -> SkeletonSequence:
    """DCSG's smoothing of a learned generator's samples: zero-phase Savitzky–Golay (order 2,
    :data:`LEARNED_SMOOTH_S`) of the body and hand points, never the face (mouth, eyelids).
    Fitting to the photo smooths every motion again, adapted to its speed; a sample's jitter
    looks like fast strokes to that, so it kept 4.7x the real clips' wrist acceleration on a
    tiny MotionDiT, 3.1x with this pass first (benchmarks in issue 13's closing note)."""
    from gesticulate.skeleton import layout as L
    from gesticulate.skeleton.tracks import smoothed
    kp = motion.keypoints.copy()
    idx = np.r_[0:L.FACE_START, L.LEFT_HAND_START:L.NUM_KEYPOINTS]
    kp[:, idx, :2] = smoothed(kp[:, idx, :2], fps=motion.fps, seconds=LEARNED_SMOOTH_S)
    return SkeletonSequence(kp.astype(np.float32), motion.fps, motion.image_size,
                            motion.confidence_source, motion.region_activity)
