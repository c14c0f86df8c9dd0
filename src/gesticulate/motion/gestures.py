"""When to gesture and what shape: speech phrases, stroke times and gesture keyframes.

Gestures follow McNeill/Kendon's phases: preparation, a stroke landing on the stressed
syllable, a hold, and a retraction; strokes inside one phrase chain without going back to rest
(one gesture unit), and the hands rest in pauses. Stressed syllables are approximated by strong
audio onsets in voiced speech, weighted by loudness, with a refractory period between strokes.

The vocabulary (``SHAPES``): beats, circles, openings, two-handed openings, palm-up offers and
points (index straight, the other fingers curled); the last stroke of a phrase is held. Each
arm gets a keyframe track of six channels (``CHANNELS``: wrist offset, wrist flex, finger
spread, curl and point), interpolated with a monotone cubic (PCHIP: smooth, no overshoot), so
the motion is smooth by construction and the hand's shape changes with the gesture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.ndimage import gaussian_filter1d, maximum_filter1d

CHANNELS = ("out", "up", "flex", "spread", "curl", "point")
SHAPES = ("beat", "circle", "open", "two_handed", "offer", "point")

# Keyframes per shape: (time in s relative to the stroke, out, up, flex, spread, curl, point).
# out/up are wrist offsets in units of the amplitude (out = away from the body midline,
# up = towards the head); flex is wrist rotation (+1 = arms.FLEX_RAD towards the palm); spread and
# curl shape all fingers; point straightens the index and curls the others (0..1).
_SHAPE_KEYS = {
    # A beat: a short up-down flick of the hand, fingers loosely curled on the stroke.
    "beat": [(-0.42, 0, 0, 0, 0, 0, 0), (-0.13, 0.15, 1.0, -0.5, 0.3, 0.0, 0),
             (0.0, 0.05, -0.3, 0.9, 0.0, 0.6, 0), (0.12, 0.05, -0.25, 0.7, 0.0, 0.5, 0),
             (0.55, 0, 0, 0, 0, 0, 0)],
    # A circle (iconic/metaphoric "process"): the hand loops, inward then up and out.
    "circle": [(-0.6, 0, 0, 0, 0, 0, 0), (-0.42, -0.45, 0.45, -0.2, 0.2, 0.2, 0),
               (-0.26, 0.0, 0.9, -0.3, 0.4, 0.1, 0), (-0.1, 0.45, 0.45, 0.0, 0.3, 0.2, 0),
               (0.0, 0.15, -0.1, 0.5, 0.1, 0.45, 0), (0.12, 0.1, -0.1, 0.4, 0.1, 0.4, 0),
               (0.6, 0, 0, 0, 0, 0, 0)],
    # An opening: the hand sweeps up and out, fingers spread wide.
    "open": [(-0.45, 0, 0, 0, 0, 0, 0), (-0.15, -0.2, 0.25, 0.3, 0.0, 0.4, 0),
             (0.0, 0.9, 0.5, -0.8, 1.0, 0.0, 0), (0.3, 0.8, 0.45, -0.7, 0.9, 0.0, 0),
             (0.8, 0, 0, 0, 0, 0, 0)],
    # A palm-up offer: the hand turns up and moves forward-out at waist height, fingers open.
    "offer": [(-0.45, 0, 0, 0, 0, 0, 0), (-0.15, 0.2, 0.1, 0.4, 0.2, 0.3, 0),
              (0.0, 0.6, 0.2, 0.9, 0.8, 0.0, 0), (0.35, 0.55, 0.15, 0.8, 0.7, 0.0, 0),
              (0.85, 0, 0, 0, 0, 0, 0)],
    # A point (deictic): the arm reaches out and up, the index straightens as the others curl,
    # and the point is held.
    "point": [(-0.45, 0, 0, 0, 0, 0, 0), (-0.15, 0.5, 0.5, -0.2, 0.0, 0.0, 0.6),
              (0.0, 0.85, 0.55, 0.1, 0.0, 0.0, 1.0), (0.4, 0.8, 0.5, 0.1, 0.0, 0.0, 1.0),
              (0.9, 0, 0, 0, 0, 0, 0)],
}
# Key times are scaled by TEMPO: real speakers' strokes are quick (peak wrist speeds of
# 2–3 shoulder widths/s on the sample clips), so the phases run faster than the table.
TEMPO = 1.05
_SHAPE_KEYS["two_handed"] = _SHAPE_KEYS["open"]
_SHAPE_GAIN = {"beat": 1.0, "circle": 0.8, "open": 0.9, "two_handed": 0.8, "offer": 0.9,
               "point": 1.0}
# How often each shape is drawn (Dirichlet concentration of a seed's habits): beats most.
_SHAPE_HABIT = {"beat": 6.0, "circle": 2.0, "open": 3.0, "two_handed": 2.0, "offer": 2.0,
                "point": 1.0}
# Which hands gesture in a phrase: the dominant alone, the other alone, or both; in a phrase
# of both, each stroke is two-handed with probability BOTH_STROKES (else the dominant's). Real
# seated speakers move their hands together: the correlation of their wrist speeds
# (metrics.gesture ``hands_together``) is 0.76-0.95 on hbr_speaker7/8/9/12 and 0.58 at the desk.
# With 0.6/0.15/0.25 and 0.5 the generator's was 0.17 (seated) and 0.22 (desk): each hand on
# its own; now 0.48 and 0.65 (20 seeds).
PHRASE_HANDS = (0.2, 0.05, 0.75)
BOTH_STROKES = 0.85
QUIET_MAX_S = 2.5       # a phrase this long or longer always has gestures
HOLD_S = (0.25, 0.6)    # the last stroke of a phrase holds this long (s) before retracting


@dataclass
class Stroke:
    """One planned gesture: ``frame`` of the stroke, ``strength`` 0..1, its shape and hands."""

    frame: int
    strength: float
    shape: str
    hands: str          # "left", "right" or "both"
    amplitude: float    # in shoulder widths
    hold_s: float = 0.0  # extra hold after the stroke (phrase ends), seconds


def smooth_noise(rng: np.random.Generator, num_frames: int, sigma: float) -> np.ndarray:
    """Zero-phase low-passed white noise ``(T,)`` with unit standard deviation."""
    x = gaussian_filter1d(rng.standard_normal(num_frames + 4 * int(sigma)), sigma, mode="wrap")
    return x[:num_frames] * np.sqrt(2.0 * np.sqrt(np.pi) * sigma)


def speech_activity(vad: np.ndarray, rms: np.ndarray, *, fps: float) -> np.ndarray:
    """Voice activity 0..1 per frame, cut where the voice is quiet for a while.

    A VAD keeps a hangover through short pauses; the loudness envelope (its maximum over
    0.25 s, so the dips between syllables do not count) marks them.
    """
    top = np.percentile(rms, 90) if rms.size else 1.0
    env = maximum_filter1d(rms, max(1, int(round(0.25 * fps))))
    return np.asarray(vad, dtype=np.float64) * (env > 0.12 * max(top, 1e-6))


def speech_mask(features) -> np.ndarray:
    """Frames ``(T,)`` bool where the person speaks (:func:`speech_activity` of the features'
    voice activity and loudness above 0.5)."""
    return speech_activity(np.asarray(features.vad, dtype=np.float64),
                           np.asarray(features.rms, dtype=np.float64),
                           fps=float(features.fps)) > 0.5


def phrases(vad: np.ndarray, *, fps: float, min_pause_s: float = 0.6,
            min_phrase_s: float = 0.2) -> list[tuple[int, int]]:
    """Voiced stretches ``[start, end)`` in frames; pauses shorter than ``min_pause_s`` merge."""
    on = np.concatenate([[0], (vad > 0.5).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(on))
    segs = [[int(a), int(b)] for a, b in zip(edges[::2], edges[1::2])]
    merged: list[list[int]] = []
    for s in segs:
        if merged and s[0] - merged[-1][1] < min_pause_s * fps:
            merged[-1][1] = s[1]
        else:
            merged.append(s)
    return [(a, b) for a, b in merged if b - a >= min_phrase_s * fps]


def stress(onset: np.ndarray, rms: np.ndarray, vad: np.ndarray) -> np.ndarray:
    """Per-frame stress score 0..1: onset strength weighted by loudness, zero when unvoiced."""
    voiced = vad > 0.5
    top = np.percentile(rms[voiced], 90) if voiced.sum() > 3 else max(float(rms.max()), 1e-6)
    loud = np.clip(rms / max(top, 1e-6), 0.0, 1.2)
    return np.clip(onset * (0.4 + 0.6 * loud), 0.0, 1.0) * voiced


def pick_strokes(score: np.ndarray, candidates: np.ndarray, *, fps: float, refractory_s: float,
                 threshold: float) -> np.ndarray:
    """Strongest candidate frames first, each at least ``refractory_s`` from those kept.

    Returns the kept frames, sorted, ``(K,)`` int64.
    """
    cand = np.unique(np.asarray(candidates, dtype=np.int64))
    cand = cand[(cand >= 0) & (cand < score.shape[0])]
    cand = cand[score[cand] >= threshold]
    gap = max(1, int(round(refractory_s * fps)))
    taken = np.zeros(score.shape[0] + 2 * gap, dtype=bool)
    kept = []
    for f in cand[np.argsort(-score[cand], kind="stable")]:
        if not taken[f + gap]:
            kept.append(f)
            taken[f: f + 2 * gap + 1] = True
    return np.sort(np.array(kept, dtype=np.int64))


def plan_strokes(frames: np.ndarray, score: np.ndarray, rms: np.ndarray,
                 spans: list[tuple[int, int]], *, rng: np.random.Generator,
                 amplitude: float, dominant: str, quiet: float = 0.06,
                 fps: float = 25.0) -> list[Stroke]:
    """Give each stroke frame a shape, hands and amplitude; a share ``quiet`` of the phrases
    shorter than :data:`QUIET_MAX_S` rest their hands; the last stroke of each phrase holds
    (:data:`HOLD_S`) before the hands go back."""
    weights = rng.dirichlet(np.array([_SHAPE_HABIT[k] for k in SHAPES]) * 3)   # seed's habits
    strokes = []
    other = "left" if dominant == "right" else "right"
    for a, b in spans:
        # Now and then a short phrase without hand gestures (a long one always has some).
        if rng.random() < quiet and b - a < QUIET_MAX_S * fps:
            continue
        mode = rng.choice(["dom", "other", "both"], p=PHRASE_HANDS)
        for f in frames[(frames >= a) & (frames < b)]:
            shape = str(rng.choice(SHAPES, p=weights))
            both = "both" if rng.random() < BOTH_STROKES else dominant
            hands = {"dom": dominant, "other": other, "both": both}[mode]
            if shape == "two_handed":
                hands = "both"
            gain = _SHAPE_GAIN[shape] * (0.55 + 0.45 * min(1.0, rms[f] / max(rms[a:b].max(), 1e-6)))
            strokes.append(Stroke(int(f), float(score[f]), shape, str(hands),
                                  amplitude * gain * rng.uniform(0.8, 1.2)))
        if strokes and a <= strokes[-1].frame < b:
            strokes[-1].hold_s = float(rng.uniform(*HOLD_S))
    return strokes


def keyframe_track(strokes: list[Stroke], side: str, *, num_frames: int, fps: float,
                   speed: float) -> np.ndarray:
    """Interpolated gesture channels ``(T, 6)`` for one arm (zeros where it does nothing).

    Consecutive gestures co-articulate: when the next preparation starts before this
    retraction ends, the retraction is dropped and the hand goes straight on.
    """
    n = len(CHANNELS)
    keys: list[tuple[float, np.ndarray]] = [(0.0, np.zeros(n))]
    mine = [s for s in strokes if s.hands in (side, "both")]
    chained = False
    for i, s in enumerate(mine):
        table = np.array(_SHAPE_KEYS[s.shape], dtype=np.float64)
        times = s.frame + table[:, 0] * TEMPO * fps / speed
        times[table[:, 0] > 0] += s.hold_s * fps / speed     # a held stroke stays, then goes
        vals = table[:, 1:].copy()
        vals[:, :2] *= s.amplitude
        vals[:, 2:5] *= 0.6 + 0.4 * s.strength
        keep = np.ones(len(table), dtype=bool)
        keep[0] = not chained
        nxt = (mine[i + 1].frame + _SHAPE_KEYS[mine[i + 1].shape][0][0] * TEMPO * fps / speed
               if i + 1 < len(mine) else np.inf)
        chained = nxt < times[-1]
        keep[-1] = not chained
        for t, v in zip(times[keep], vals[keep]):
            if t > keys[-1][0] + 0.5:      # keys stay in time order, at least half a frame apart
                keys.append((float(t), v))
    if keys[-1][0] < num_frames - 1:
        keys.append((float(num_frames - 1) + 1.0, np.zeros(n)))
    t = np.array([k[0] for k in keys])
    v = np.stack([k[1] for k in keys])
    if len(t) < 2:
        return np.zeros((num_frames, n))
    return PchipInterpolator(t, v, axis=0, extrapolate=True)(np.arange(num_frames))
