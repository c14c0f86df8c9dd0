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
from gesticulate.metrics.beats import beat_alignment
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
    npz = cache / f"{path.stem}-{fps:g}fps.npz" if cache else None
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


def profile(keypoints: np.ndarray, clip: RealClip) -> dict[str, float]:
    """The gesture profile of ``keypoints`` (in the clip's frame) with the clip's speech, and
    its beat alignment (and chance control) against the clip's audio onsets."""
    fps = float(clip.features.fps)
    p = gesture_profile(drop_guessed(keypoints, clip.image_size), clip.speech, fps=fps)
    r = beat_alignment(keypoints, np.asarray(clip.features.onset_frames) / fps, fps=fps)
    return {**p, "ba": r.ba, "ba_control": r.ba_control}


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
