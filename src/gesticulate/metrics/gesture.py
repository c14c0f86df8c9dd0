"""How a speaker gestures, in figures comparable between people: the gesture profile.

Measured on a skeleton sequence and the speech mask of its audio, in the local representation
(root at the neck, one unit = one shoulder width, "sw"), so a detected real clip and a generated
motion of another size compare directly. Velocities and accelerations are Savitzky–Golay
derivatives over ``smooth_s`` (0.2 s): the same filter for a detected skeleton (which carries
tracker jitter) and a generated one (which carries none), so the jitter figure compares motion,
not the tracker.

Figures (all over the wrists, or the hands' 21 points where said):

* ``speed_speech_median``, ``speed_speech_p90`` — wrist speed in speech frames, sw/s;
* ``speed_pause_median`` — wrist speed in pauses, sw/s (rest in pauses: low);
* ``hkv`` — hand keypoint variance: per hand point, var(x) + var(y) over time, mean, sw²;
* ``l1div_hands`` — EMAGE's L1 diversity of the hands, sw;
* ``beats_per_s`` — motion beats (decelerations, :func:`~gesticulate.metrics.beats.motion_beats`)
  of the wrists per second, mean of the two wrists;
* ``jitter`` — mean wrist acceleration magnitude, sw/s².
"""

from __future__ import annotations

import numpy as np
from scipy.signal import savgol_filter

from gesticulate.metrics._local import MIN_CONFIDENCE, as_keypoints, local_region
from gesticulate.metrics.beats import motion_beats
from gesticulate.metrics.motion import l1_divergence
from gesticulate.skeleton import layout as L

FIGURES = ("speed_speech_median", "speed_speech_p90", "speed_pause_median", "hkv",
           "l1div_hands", "beats_per_s", "jitter")
WRISTS = (L.LEFT_WRIST, L.RIGHT_WRIST)


def _derivatives(x: np.ndarray, *, fps: float, smooth_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Speed ``(T,)`` sw/s and acceleration magnitude ``(T,)`` sw/s² of a ``(T, 2)`` track."""
    win = max(5, int(round(smooth_s * fps)) | 1)
    if len(x) < win:
        v = np.gradient(x, 1.0 / fps, axis=0)
        return np.linalg.norm(v, axis=1), np.linalg.norm(np.gradient(v, 1.0 / fps, axis=0), axis=1)
    v = savgol_filter(x, win, 2, deriv=1, delta=1.0 / fps, axis=0)
    a = savgol_filter(x, win, 2, deriv=2, delta=1.0 / fps, axis=0)
    return np.linalg.norm(v, axis=1), np.linalg.norm(a, axis=1)


def _wrists(kp: np.ndarray, *, min_confidence: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each wrist's local track ``(T, 2)`` (gaps filled linearly) and seen mask ``(T,)``."""
    xy, conf = local_region(kp, "all")
    rows = [int(np.flatnonzero(L.UPPER_BODY_INDICES == j)[0]) for j in WRISTS]
    out = []
    t = np.arange(len(kp))
    for r in rows:
        ok = conf[:, r] >= min_confidence
        if ok.sum() < 2:
            continue
        x = np.stack([np.interp(t, t[ok], xy[ok, r, d]) for d in range(2)], axis=1)
        out.append((x, ok))
    return out


def drop_guessed(kp: np.ndarray, size: tuple[int, int], margin: float = 0.02) -> np.ndarray:
    """``kp`` with guessed points made unseen: points outside the frame (``margin`` of its
    size), and a wrist whose hand is not found (< 5 of its 21 points). MediaPipe guesses a
    wrist hidden under the frame's edge or behind a lectern, with confidence, and the guess
    jumps; the same rule applies to real and generated motion."""
    w, h = size
    out = kp.copy()
    outside = ((kp[..., 0] < margin * w) | (kp[..., 0] > (1 - margin) * w)
               | (kp[..., 1] < margin * h) | (kp[..., 1] > (1 - margin) * h))
    out[..., 2] = np.where(outside, 0.0, kp[..., 2])
    for wrist, hand in ((L.LEFT_WRIST, L.LEFT_HAND), (L.RIGHT_WRIST, L.RIGHT_HAND)):
        found = (out[:, hand, 2] >= 0.3).sum(axis=1) >= 5
        out[~found, wrist, 2] = 0.0
    return out


def hand_variance(keypoints, *, min_confidence: float = MIN_CONFIDENCE) -> float:
    """HKV: per hand point seen in ≥ 2 frames, var(x) + var(y) over those frames; mean, sw²."""
    xy, conf = local_region(as_keypoints(keypoints), "hands")
    seen = conf >= min_confidence
    var = [xy[seen[:, k], k].var(axis=0).sum() for k in range(xy.shape[1]) if seen[:, k].sum() >= 2]
    return float(np.mean(var)) if var else float("nan")


def gesture_profile(keypoints, speech: np.ndarray, *, fps: float, smooth_s: float = 0.2,
                    min_confidence: float = MIN_CONFIDENCE) -> dict[str, float]:
    """The figures of the module docstring for one sequence.

    Parameters
    ----------
    keypoints : SkeletonSequence or np.ndarray, shape (T, 133, 3)
    speech : np.ndarray, shape (T,) of bool
        Frames where the person speaks (cut or padded with False to ``T``).
    fps : float

    Returns
    -------
    dict
        ``FIGURES`` → value; the wrist figures are NaN when neither wrist is seen in 2 frames.
    """
    kp = as_keypoints(keypoints)
    T = len(kp)
    speech = np.asarray(speech, dtype=bool)[:T]
    speech = np.pad(speech, (0, T - len(speech)))
    nan = float("nan")
    accs, in_speech, in_pause, beats = [], [], [], []
    for x, ok in _wrists(kp, min_confidence=min_confidence):
        v, a = _derivatives(x, fps=fps, smooth_s=smooth_s)
        accs.append(a[ok])
        in_speech.append(v[ok & speech])
        in_pause.append(v[ok & ~speech])
        beats.append(len(motion_beats(v, fps=fps)) / (T / fps))
    sp, pa, acc = (np.concatenate([np.zeros(0), *x]) for x in (in_speech, in_pause, accs))
    return {"speed_speech_median": float(np.median(sp)) if sp.size else nan,
            "speed_speech_p90": float(np.percentile(sp, 90)) if sp.size else nan,
            "speed_pause_median": float(np.median(pa)) if pa.size else nan,
            "hkv": hand_variance(kp, min_confidence=min_confidence),
            "l1div_hands": l1_divergence(kp, region="hands", min_confidence=min_confidence),
            "beats_per_s": float(np.mean(beats)) if beats else nan,
            "jitter": float(acc.mean()) if acc.size else nan}
