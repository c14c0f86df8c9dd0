"""Generated gestures next to a real speaker's: one clip's gesture profiles, real and generated.

Used by ``benchmarks/gestures.py`` and the real-data tests: the real clip's skeleton is
extracted (MediaPipe, cached as ``.npz`` when a cache folder is given), the generator is run
from the clip's first frame (detected as a photo, as ``generate`` does) and the clip's own
audio, and both are measured with :func:`gesticulate.metrics.gesture.gesture_profile` after
:func:`~gesticulate.metrics.gesture.drop_guessed`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gesticulate.audio.features import AudioFeatures, compute_features
from gesticulate.audio.io import AUDIO_SR
from gesticulate.errors import InputError
from gesticulate.evaluate.baselines import shuffled_features
from gesticulate.metrics.beats import beat_alignment, onset_coupling
from gesticulate.metrics.gesture import drop_guessed, gesture_profile
from gesticulate.motion.gestures import speech_mask
from gesticulate.skeleton.sequence import SkeletonSequence


@dataclass
class RealClip:
    """A clip's detected skeleton, audio features, speech mask and photo skeleton."""

    name: str
    skeleton: SkeletonSequence
    features: AudioFeatures
    speech: np.ndarray          # (T,) bool
    reference: np.ndarray       # (133, 3) the first frame detected as a photo

    @property
    def image_size(self) -> tuple[int, int]:
        return self.skeleton.image_size


def load_real_clip(path: str | Path, *, fps: float = 25.0, cache: Path | None = None) -> RealClip:
    """Extract (or read from ``cache``) a clip's skeleton at ``fps``, with its own sound."""
    from gesticulate.data.decode import load_source_audio
    from gesticulate.data.sources import find_sidecar_audio
    from gesticulate.evaluate.media import first_frame
    from gesticulate.skeleton.extract import extract_image, extract_video

    path = Path(path)
    # "-trunk": skeletons extracted before the trunk followed the chest are not reused.
    npz = cache / f"{path.stem}-{fps:g}fps-trunk.npz" if cache else None
    if npz is not None and npz.exists():
        seq = SkeletonSequence.load(npz)
    else:
        seq = extract_video(path, fps=fps, progress=False)
        if npz is not None:
            seq.save(npz)
    y = load_source_audio(str(path), sidecar=find_sidecar_audio(path),
                          duration_s=len(seq) / fps, sr=AUDIO_SR)
    feats = compute_features(y, sr=AUDIO_SR, fps=fps)
    try:
        ref = extract_image(first_frame(path))
    except InputError:   # the photo detector misses a small person the tracker found
        ref = seq.keypoints[0]
    return RealClip(path.stem, seq, feats, speech_mask(feats)[: len(seq)], ref)


def alignment(keypoints: np.ndarray, features: AudioFeatures) -> dict[str, float]:
    """How ``keypoints`` follow the audio of ``features``: beat alignment with its chance
    control (:func:`~gesticulate.metrics.beats.beat_alignment`) and the wrist–onset coupling
    (:func:`~gesticulate.metrics.beats.onset_coupling`)."""
    fps = float(features.fps)
    r = beat_alignment(keypoints, np.asarray(features.onset_frames) / fps, fps=fps)
    return {"ba": r.ba, "ba_control": r.ba_control,
            "coupling": onset_coupling(keypoints, features.onset, fps=fps)}


def profile(keypoints: np.ndarray, clip: RealClip) -> dict[str, float]:
    """The gesture profile of ``keypoints`` (in the clip's frame) with the clip's speech, and
    its :func:`alignment` to the clip's audio, both without the wrists the tracker guessed
    (:func:`~gesticulate.metrics.gesture.drop_guessed`)."""
    fps = float(clip.features.fps)
    keypoints = drop_guessed(keypoints, clip.image_size)
    p = gesture_profile(keypoints, clip.speech, fps=fps)
    return {**p, **alignment(keypoints, clip.features)}


def generated_profile(generator, clip: RealClip, *, seeds, features: AudioFeatures | None = None,
                      **kwargs) -> dict[str, float]:
    """The mean over ``seeds`` of :func:`profile` of ``generator``'s motion for the clip's photo
    and audio (or ``features``, e.g. another clip's for a shuffled-audio row); ``kwargs`` go to
    ``generate`` (e.g. ``style``)."""
    runs = []
    for seed in seeds:
        m = generator.generate(features or clip.features, clip.reference,
                               image_size=clip.image_size, seed=seed, **kwargs)
        runs.append(profile(m.keypoints, clip))
    with warnings.catch_warnings():   # a figure NaN for every seed (no wrist seen) stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return {k: float(np.nanmean([r[k] for r in runs])) for k in runs[0]}


def speech_alignment(generator, reference: np.ndarray, *, image_size: tuple[int, int],
                     speeches: list[AudioFeatures], seeds, **kwargs) -> list[dict[str, float]]:
    """For each speech, the mean over ``seeds`` of :func:`alignment` of ``generator``'s motion
    for the photo (``reference``, its skeleton) on that speech (``ba``, ``ba_control``,
    ``coupling``), and on the next speech fitted to its length
    (:func:`~gesticulate.evaluate.baselines.shuffled_features`: ``shuffled_ba``,
    ``shuffled_coupling``), all scored against that speech's own audio; and of the photo held
    still (``still_ba``, ``still_coupling``). ``kwargs`` go to ``generate`` (e.g. ``style``)."""
    out = []
    for i, own in enumerate(speeches):
        other, _ = shuffled_features(speeches, i)
        runs = []
        for seed in seeds:
            r = {}
            for prefix, feats in (("", own), ("shuffled_", other)):
                m = generator.generate(feats, reference, image_size=image_size, seed=seed,
                                       **kwargs)
                kp = drop_guessed(m.keypoints, image_size)
                r.update({prefix + k: v for k, v in alignment(kp, own).items()
                          if not (prefix and k == "ba_control")})
            runs.append(r)
        row = {k: float(np.nanmean([r[k] for r in runs])) for k in runs[0]}
        still = alignment(np.repeat(reference[None], own.num_frames, axis=0), own)
        row.update(still_ba=still["ba"], still_coupling=still["coupling"],
                   seconds=own.num_frames / float(own.fps))
        out.append(row)
    return out
