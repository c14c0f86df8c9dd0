"""Beat alignment (BA): do motion beats fall on audio beats? EMAGE's definition, made honest.

EMAGE (Liu et al., CVPR 2024; its ``alignment`` metric): audio beats are
``librosa.onset.onset_detect`` times; motion beats are local minima (``order`` 7) of each
upper-body joint's speed; the score is the mean over audio beats of
``exp(-d² / 2σ²)``, ``d`` the distance in seconds to the nearest motion beat, σ = 0.3 s,
averaged over joints (a joint with no motion beat scores 0); the first and last 2 s are skipped.

Two changes, measured on real clips (REFERENCES.md "Metric definitions in use"):

* **Deceleration filter.** Without it, detector jitter on a still photo makes minima everywhere
  and scores BA ≈ 0.75–0.8, as high as real footage. A minimum counts as a motion beat only
  when the joint was really moving and stopped: the peak speed in the ``peak_window_s`` before
  it reaches ``min_peak_speed`` (sw/s, shoulder widths per second) and the speed at the minimum
  is at most ``drop_ratio`` × that peak. Real gesture strokes peak at 1–3 sw/s (measured on
  the MediaPipe skeletons of ``data/video``); jitter of a still pose stays far below 0.4 sw/s.
* **Chance control.** Speech onsets are dense (3–5/s), so with σ = 0.3 s almost any motion
  scores well. ``ba_control`` is the same motion scored against the same onsets circularly
  time-shifted inside the evaluation window (shifts ≥ 2σ) and mirrored in time; BA means
  something only where it exceeds its control. Beat densities are reported beside it.

BA barely tells motion on its own speech from motion on another's: speech has 3–5 onsets a
second, so with σ = 0.3 s nearly any motion beat is near one. The real speakers of the shared
clips score 0.317 against a control of 0.324; procedural motion on the eight long speeches of
``data/audio`` scores 0.162 on its own speech, 0.163 on the control and 0.164 generated on
another speech (``benchmarks/gestures.py``, 20 seeds). :func:`onset_coupling` separates them
(0.148 against 0.021; 0 for the still photo): how much the wrists move with the voice's onsets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import argrelextrema, savgol_filter

from gesticulate.errors import OptionError
from gesticulate.metrics._local import MIN_CONFIDENCE, as_keypoints, local_region
from gesticulate.skeleton import layout

# Joints whose speed gives motion beats. EMAGE uses the upper-body chain (spine to wrists) of
# SMPL-X; in 2D the shoulders barely move, so the gesturing joints and the head are used.
BA_JOINTS: dict[str, tuple[int, ...]] = {
    "upper_body": (layout.NOSE, layout.LEFT_ELBOW, layout.RIGHT_ELBOW,
                   layout.LEFT_WRIST, layout.RIGHT_WRIST),
    "hands": (),  # the centroid of each hand (see joint_speed)
}


@dataclass
class BeatAlignment:
    """BA of one clip and what is needed to judge it.

    Attributes
    ----------
    ba : float
        EMAGE BA (0..1) with deceleration-filtered motion beats; NaN with no audio beat.
    ba_control : float
        The same motion against time-shifted and mirrored onsets (chance level); NaN when the
        window is too short for a shift of 2σ.
    motion_beats_per_s, audio_beats_per_s : float
        Beat densities in the evaluation window (motion: mean over joints).
    num_audio_beats : int
    window_s : tuple of float
        Evaluation window (start, end) in seconds after the edge skip.
    per_joint : list of float
        BA of each joint, in the order of ``joints``.
    """

    ba: float
    ba_control: float
    motion_beats_per_s: float
    audio_beats_per_s: float
    num_audio_beats: int
    window_s: tuple[float, float]
    per_joint: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def audio_beats(y: np.ndarray, *, sr: int) -> np.ndarray:
    """Audio beats of EMAGE's BA: ``librosa.onset.onset_detect`` times in seconds ``(K,)``."""
    import librosa

    return librosa.onset.onset_detect(y=np.asarray(y, dtype=np.float32), sr=sr, units="time")


def fill_gaps(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Linear interpolation over time of ``x`` ``(T, 2)`` where ``ok`` ``(T,)`` is False."""
    if ok.all():
        return x
    t = np.arange(len(x))
    return np.stack([np.interp(t, t[ok], x[ok, d]) for d in range(x.shape[1])], axis=1)


def derivative(x: np.ndarray, *, fps: float, smooth_s: float, deriv: int = 1) -> np.ndarray:
    """``(T, 2)`` positions → their ``deriv``-th time derivative ``(T, 2)`` (1: velocity,
    2: acceleration): a Savitzky–Golay derivative (order 2) over ``smooth_s`` seconds, or
    central differences (EMAGE's, applied ``deriv`` times) when that window is under 5 frames
    or longer than the track."""
    win = int(round(smooth_s * fps)) | 1
    if win < 5 or len(x) < win:
        for _ in range(deriv):
            x = np.gradient(x, 1.0 / fps, axis=0)
        return x
    return savgol_filter(x, win, 2, deriv=deriv, delta=1.0 / fps, axis=0)


def joint_speed(keypoints, *, fps: float, joints: str | tuple[int, ...] = "upper_body",
                min_confidence: float = MIN_CONFIDENCE, min_seen: float = 0.5,
                smooth_s: float = 0.2) -> np.ndarray:
    """Speed of each BA joint, ``(T, J)`` in sw/s.

    EMAGE differentiates clean motion capture by central differences; detected skeletons carry
    frame-to-frame jitter that central differences amplify (a still pose with 1% of a shoulder
    width of jitter reads ≈ 0.3 sw/s), so the velocity is a Savitzky–Golay derivative over
    ``smooth_s`` seconds (0.2 s keeps gesture strokes, which last 0.3 s or more, and cuts the
    jitter ≈ 4x; ``smooth_s=0`` gives central differences).

    ``joints`` is ``"upper_body"`` (:data:`BA_JOINTS`), ``"hands"`` (the centroid of each hand's
    confident points) or a tuple of 133-layout indices. Frames where a joint is not seen
    (confidence < ``min_confidence``) are filled by linear interpolation; a joint seen in fewer
    than ``min_seen`` of the frames gets a NaN column (left out of BA).
    """
    kp = as_keypoints(keypoints)
    tracks = []
    if joints == "hands":
        for region in ("left_hand", "right_hand"):
            xy, conf = local_region(kp, region)
            w = (conf >= min_confidence).astype(np.float32)
            n = w.sum(1)
            ok = n >= layout.HAND_FOUND  # fewer confident points: the hand is not seen
            tracks.append(((xy * w[..., None]).sum(1) / np.maximum(n, 1)[:, None], ok))
    else:
        idx = BA_JOINTS[joints] if isinstance(joints, str) else tuple(joints)
        if not idx:
            raise OptionError(f"unknown BA joints {joints!r}; use 'upper_body', 'hands' or indices")
        xy, conf = local_region(kp, "all")
        rows = [int(np.flatnonzero(layout.UPPER_BODY_INDICES == j)[0]) for j in idx]
        tracks = [(xy[:, r], conf[:, r] >= min_confidence) for r in rows]
    speed = np.full((len(kp), len(tracks)), np.nan, dtype=np.float32)
    for j, (x, ok) in enumerate(tracks):
        if ok.mean() >= min_seen:
            v = derivative(fill_gaps(x, ok), fps=fps, smooth_s=smooth_s)
            speed[:, j] = np.linalg.norm(v, axis=1)
    return speed


def motion_beats(speed: np.ndarray, *, fps: float, order: int = 7, min_peak_speed: float = 0.4,
                 drop_ratio: float = 0.5, peak_window_s: float = 0.5) -> np.ndarray:
    """Frames of motion beats of one joint: local speed minima that are real decelerations.

    Parameters
    ----------
    speed : np.ndarray, shape (T,)
        Joint speed in sw/s.
    order : int
        EMAGE's ``argrelextrema`` order: a minimum is lower than ``order`` frames each side.
    min_peak_speed : float
        The speed must have peaked at least this high (sw/s) within ``peak_window_s`` before the
        minimum. 0 with ``drop_ratio`` 1 gives EMAGE's unfiltered minima.
    drop_ratio : float
        Speed at the minimum must be at most this fraction of that peak.
    """
    speed = np.asarray(speed, dtype=np.float64)
    minima = argrelextrema(speed, np.less, order=order)[0]
    look = max(1, int(round(peak_window_s * fps)))
    keep = []
    for i in minima:
        peak = speed[max(0, i - look):i].max(initial=0.0)
        if peak >= min_peak_speed and speed[i] <= drop_ratio * peak:
            keep.append(i)
    return np.asarray(keep, dtype=np.int64)


def alignment_score(audio_beats_s: np.ndarray, motion_beats_s: np.ndarray, *,
                    sigma: float = 0.3) -> float:
    """EMAGE's score: mean over audio beats of exp(-d²/2σ²), d = distance (s) to nearest motion beat.

    NaN when there is no audio beat; 0 when there is no motion beat.
    """
    a = np.asarray(audio_beats_s, dtype=np.float64)
    m = np.asarray(motion_beats_s, dtype=np.float64)
    if a.size == 0:
        return float("nan")
    if m.size == 0:
        return 0.0
    d = np.abs(a[:, None] - m[None, :]).min(axis=1)
    return float(np.exp(-d ** 2 / (2 * sigma ** 2)).mean())


def control_onsets(audio_beats_s: np.ndarray, window_s: tuple[float, float], *,
                   sigma: float = 0.3, num_shifts: int = 7) -> list[np.ndarray]:
    """Chance-level onset sets: circular shifts (≥ 2σ) inside the window and the time mirror."""
    a0, a1 = window_s
    length = a1 - a0
    rel = np.asarray(audio_beats_s, dtype=np.float64) - a0
    sets = []
    for k in range(1, num_shifts + 1):
        s = length * k / (num_shifts + 1)
        if min(s, length - s) >= 2 * sigma:
            sets.append(np.sort(a0 + np.mod(rel + s, length)))
    if length >= 4 * sigma:  # a mirror of a very short window is nearly the original
        sets.append(np.sort(a0 + length - rel))
    return sets


def beat_alignment(keypoints, audio_beats_s, *, fps: float,
                   joints: str | tuple[int, ...] = "upper_body", sigma: float = 0.3,
                   order: int = 7, edge_s: float = 2.0, min_peak_speed: float = 0.4,
                   drop_ratio: float = 0.5, num_shifts: int = 7,
                   smooth_s: float = 0.2) -> BeatAlignment:
    """BA of a skeleton sequence against audio beats, with its chance control and densities.

    Parameters
    ----------
    keypoints : SkeletonSequence or np.ndarray, shape (T, 133, 3)
    audio_beats_s : np.ndarray, shape (K,)
        Audio beat times in seconds (:func:`audio_beats`, or ``features.onset_frames / fps``).
    fps : float
    joints : "upper_body", "hands" or tuple of int
    sigma, order : float, int
        EMAGE's σ (s) and minima order (frames).
    edge_s : float
        Seconds skipped at each end (EMAGE: 2). Clamped to a quarter of the clip so short clips
        still have a window; the window used is returned.
    min_peak_speed, drop_ratio : float
        Deceleration filter, see :func:`motion_beats`.
    num_shifts : int
        Circular shifts of the onsets averaged into ``ba_control``.
    smooth_s : float
        Velocity smoothing window, see :func:`joint_speed`.
    """
    speed = joint_speed(keypoints, fps=fps, joints=joints, smooth_s=smooth_s)
    duration = len(speed) / fps
    edge = min(edge_s, duration / 4)
    window = (edge, duration - edge)
    a = np.asarray(audio_beats_s, dtype=np.float64)
    a = a[(a >= window[0]) & (a <= window[1])]
    f0, f1 = int(round(window[0] * fps)), int(round(window[1] * fps))
    beats_s, per_joint = [], []
    for j in range(speed.shape[1]):
        if np.isnan(speed[0, j]):
            continue
        # Minima are found on the whole clip (context at the window's edges), then kept inside it.
        b = motion_beats(speed[:, j], fps=fps, order=order, min_peak_speed=min_peak_speed,
                         drop_ratio=drop_ratio)
        beats_s.append(b[(b >= f0) & (b <= f1)] / fps)
        per_joint.append(alignment_score(a, beats_s[-1], sigma=sigma))
    controls = control_onsets(a, window, sigma=sigma, num_shifts=num_shifts)
    control = [np.mean([alignment_score(c, b, sigma=sigma) for b in beats_s])
               for c in controls] if beats_s else []
    span = max(window[1] - window[0], 1e-9)
    nan = float("nan")
    return BeatAlignment(
        ba=float(np.mean(per_joint)) if per_joint and a.size else nan,
        ba_control=float(np.mean(control)) if control and beats_s and a.size else nan,
        motion_beats_per_s=float(np.mean([len(b) for b in beats_s]) / span) if beats_s else nan,
        audio_beats_per_s=float(a.size / span),
        num_audio_beats=int(a.size),
        window_s=(float(window[0]), float(window[1])),
        per_joint=[float(x) for x in per_joint])


# A wrist speed whose spread over the clip is under this (sw/s) does not move: coupling 0.
STILL_SPEED = 1e-3


def onset_coupling(keypoints, onset: np.ndarray, *, fps: float,
                   lead_s: tuple[float, float] = (0.0, 0.2), smooth_s: float = 0.1,
                   min_confidence: float = MIN_CONFIDENCE) -> float:
    """How much the wrists move with the voice's onsets: the correlation of wrist speed with
    onset strength, motion leading by ``lead_s``.

    The mean wrist speed (sw/s, :func:`joint_speed`, the wrists seen) and the onset strength
    (``AudioFeatures.onset`` or :func:`gesticulate.audio.features.onset_strength`) are each
    smoothed by a Gaussian of ``smooth_s`` seconds; the score is their Pearson correlation
    averaged over the lags at which the motion is ``lead_s[0]`` to ``lead_s[1]`` seconds
    ahead of the audio. Speakers' hands speed up just before and on stressed syllables: on
    BEAT2's motion capture of one speaker (``data/mocap``, 64 s) the speed of the arm joints
    correlates best (0.15) with onset strength when it leads by 0–0.1 s, and on the shared
    video clips by 0.16 s; another speech's onsets score 0 ± 0.07.

    Returns NaN when no wrist is seen in half the frames, under a second overlaps or the
    audio has no onset, and 0 for a wrist that does not move (a still photo).
    """
    if not (0 <= lead_s[0] <= lead_s[1]) or not smooth_s > 0:
        raise OptionError(f"onset coupling needs 0 <= lead_s[0] <= lead_s[1] and smooth_s > 0; "
                          f"got lead_s={lead_s}, smooth_s={smooth_s}")
    speed = joint_speed(keypoints, fps=fps, joints=(layout.LEFT_WRIST, layout.RIGHT_WRIST),
                        min_confidence=min_confidence)
    t = min(len(speed), len(onset))
    lags = range(int(round(lead_s[0] * fps)), int(round(lead_s[1] * fps)) + 1)
    if np.isnan(speed).all() or t - max(lags) < fps:
        return float("nan")
    v = np.nanmean(speed[:t], axis=1)
    if np.std(onset[:t]) == 0:
        return float("nan")
    if v.std() < STILL_SPEED:
        return 0.0
    sigma = smooth_s * fps
    v = gaussian_filter1d(v, sigma)
    a = gaussian_filter1d(np.asarray(onset[:t], dtype=np.float64), sigma)
    return float(np.mean([np.corrcoef(v[:t - k], a[k:])[0, 1] for k in lags]))
