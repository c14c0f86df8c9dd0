"""Baselines of the evaluation table: what a generator must beat to mean anything.

* **shuffled audio** — the generator fed *another* clip's audio features (cut or looped to this
  clip's length) and scored against *this* clip's audio and motion. A generator that follows
  the speech must do better on BA and lip sync than this row; a generator that ignores the
  speech scores the same. Papers call this the "mismatched audio" control.
* **mean pose** — the clip's own mean pose (over the frames where each point is seen), held
  perfectly still for the whole clip, with **no mouth motion**. It is close to ground truth in
  PCK (people mostly stay near their mean pose), has no beats, no diversity, no lip sync: a
  metric on which it looks good rewards standing still.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from gesticulate.audio.features import AudioFeatures
from gesticulate.errors import InputError
from gesticulate.skeleton.sequence import SkeletonSequence

_PER_FRAME = ("log_mel", "onset", "rms", "pitch_hz", "vad")


def fit_features(features: AudioFeatures, num_frames: int) -> AudioFeatures:
    """``features`` cut to ``num_frames`` rows, or looped (tiled in time) up to it.

    Looping rather than padding with silence keeps the baseline's input speech-like all along,
    so the baseline is not helped (or hurt) by a silent tail. Onset frames are re-tiled.
    """
    t0 = features.num_frames
    if t0 < 1 or num_frames < 1:
        raise InputError("audio features with no frames cannot be fitted to a clip")
    idx = np.arange(num_frames) % t0
    arrays = {k: np.asarray(getattr(features, k))[idx] for k in _PER_FRAME}
    reps = -(-num_frames // t0)
    onsets = np.concatenate([np.asarray(features.onset_frames, np.int64) + r * t0
                             for r in range(reps)])
    onsets = onsets[onsets < num_frames]
    return replace(features, duration_s=num_frames / features.fps, onset_frames=onsets, **arrays)


def roll_features(features: AudioFeatures, shift: int) -> AudioFeatures:
    """``features`` circularly shifted by ``shift`` frames (used when only one clip exists)."""
    t = features.num_frames
    arrays = {k: np.roll(np.asarray(getattr(features, k)), shift, axis=0) for k in _PER_FRAME}
    onsets = np.sort((np.asarray(features.onset_frames, np.int64) + shift) % t)
    return replace(features, onset_frames=onsets, **arrays)


def shuffled_features(all_features: list[AudioFeatures], index: int) -> tuple[AudioFeatures, str]:
    """The features clip ``index`` is given in the shuffled-audio baseline, and a description.

    The next clip's features (cyclically) fitted to this clip's length; with a single clip, the
    clip's own features shifted by half its length.
    """
    own = all_features[index]
    n = len(all_features)
    if n == 1:
        return roll_features(own, own.num_frames // 2), "own audio shifted by half its length"
    other = all_features[(index + 1) % n]
    if abs(other.fps - own.fps) > 1e-6:
        raise InputError(f"clips have different frame rates ({other.fps} vs {own.fps}); the "
                         "dataset must have one fps for the shuffled-audio baseline")
    return fit_features(other, own.num_frames), f"audio of clip {(index + 1) % n}"


def mean_pose_motion(ground_truth: SkeletonSequence, *, min_confidence: float = 0.3
                     ) -> SkeletonSequence:
    """The clip's mean pose held still for all its frames (no mouth motion, no blinks).

    Each point's position is its mean over the frames where it is seen (confidence ≥
    ``min_confidence``) and its confidence the mean confidence there; a point never seen keeps
    confidence 0 and the first frame's position.
    """
    kp = ground_truth.keypoints
    seen = kp[..., 2] >= min_confidence                     # (T, 133)
    n = seen.sum(0)                                         # (133,)
    w = seen[..., None].astype(np.float64)
    mean_xy = (kp[..., :2] * w).sum(0) / np.maximum(n, 1)[:, None]
    mean_c = (kp[..., 2] * seen).sum(0) / np.maximum(n, 1)
    pose = np.concatenate([mean_xy, mean_c[:, None]], axis=1)
    never = n == 0
    pose[never, :2] = kp[0, never, :2]
    pose[never, 2] = 0.0
    still = np.repeat(pose[None].astype(np.float32), len(kp), axis=0)
    return SkeletonSequence(still, ground_truth.fps, ground_truth.image_size)
