"""Tracks over a motion's frames: filling gaps, zero-phase smoothing that adapts to speed,
anchoring to the photo's pose, a soft dead zone about it, easing in from it.

The time-series pieces of :mod:`gesticulate.skeleton.retarget`, kept apart so each reads on its
own. A track is an array ``(T, ...)`` over frames with a ``(T,)`` bool of where it was seen.
"""

from __future__ import annotations

import numpy as np

SHORT_GAP_S = 0.3        # gaps up to this long are interpolated
EASE_S = 0.5             # longer gaps ease to the photo's pose over this long
SMOOTH_S = 0.2           # Savitzky–Golay window of the limbs and hands


def odd(n: float, lo: int = 3) -> int:
    """``n`` rounded to an odd window length of at least ``lo`` frames."""
    n = max(lo, int(round(n)))
    return n if n % 2 else n + 1


def smoothstep(x: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, and ``3x² - 2x³`` between: an easing with zero slope at both ends."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start/stop of each run of True in a 1-D bool array."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def fill(values: np.ndarray, ok: np.ndarray, rest: np.ndarray | None, *, fps: float,
         period: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fill the gaps of a track ``values`` ``(T, ...)`` seen where ``ok`` ``(T,)``.

    Gaps up to :data:`SHORT_GAP_S` are interpolated linearly. Longer ones ease from the last
    value to ``rest`` over :data:`EASE_S`, hold it, and ease to the next value; with no rest
    they stay missing. An angle (``period`` 2π) eases to the turn of ``rest`` nearest the
    values around the gap (their mean when there are two), so it never turns round once on
    the way. Returns the filled values and where they are now defined.
    """
    out = np.array(values, np.float64)
    known = ok.copy()
    t = len(ok)
    if not ok.any():
        if rest is None:
            return out, known
        out[:] = rest
        return out, np.ones(t, bool)
    short = max(1, int(round(SHORT_GAP_S * fps)))
    ease = max(1, int(round(EASE_S * fps)))
    for a, b in runs(~ok):
        before = out[a - 1] if a > 0 else None
        after = out[b] if b < t else None
        n = b - a
        if before is not None and after is not None and n <= short:
            w = (np.arange(1, n + 1) / (n + 1)).reshape((-1,) + (1,) * (out.ndim - 1))
            out[a:b] = before + w * (after - before)
            known[a:b] = True
            continue
        if rest is None:
            continue
        target = rest
        if period is not None:
            ends = [v for v in (before, after) if v is not None]
            near = sum(ends) / len(ends)
            target = rest + period * np.round((near - rest) / period)
        seg = np.broadcast_to(target, out[a:b].shape).copy()
        k = np.arange(n)
        if before is not None:
            w = smoothstep((k + 1) / ease).reshape((-1,) + (1,) * (out.ndim - 1))
            seg = before + w * (seg - before)
        if after is not None:
            w = smoothstep((n - k) / ease).reshape((-1,) + (1,) * (out.ndim - 1))
            seg = after + w * (seg - after)
        out[a:b] = seg
        known[a:b] = True
    return out, known


def bridged(values: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """``values`` ``(T, ...)`` with every gap linearly bridged between the seen frames around
    it and the ends held (for what must be defined in every frame, like the body's root)."""
    if not ok.any() or ok.all():
        return np.array(values, np.float64)
    t = np.arange(len(ok))
    flat = np.asarray(values, np.float64).reshape(len(ok), -1)
    out = np.stack([np.interp(t, t[ok], flat[ok, k]) for k in range(flat.shape[1])], 1)
    return out.reshape(np.shape(values))


def unwrap_seen(angle: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Unwrap the seen angles so interpolation turns the short way round."""
    out = angle.copy()
    if ok.any():
        out[ok] = np.unwrap(angle[ok])
    return out


def smoothed(x: np.ndarray, *, fps: float, seconds: float = SMOOTH_S) -> np.ndarray:
    """Zero-phase Savitzky–Golay (order 2, about ``seconds``) along time."""
    from scipy.signal import savgol_filter

    win = odd(seconds * fps, lo=3)
    if len(x) < win:
        return x
    return savgol_filter(x, win, 2, axis=0, mode="interp")


def steady(x: np.ndarray, *, fps: float, slow: float) -> np.ndarray:
    """Zero-phase smoothing that adapts to speed: over 0.6 s where the track moves slower
    than ``slow`` units/s (a limb at rest, where the tracker's jitter is all there is), over
    0.15 s where it moves 4x faster than that (a gesture's stroke keeps its peak)."""
    if len(x) < 2:
        return x
    heavy = smoothed(x, fps=fps, seconds=0.6)
    light = smoothed(x, fps=fps, seconds=0.15)
    speed = np.abs(np.gradient(heavy, axis=0)) * fps
    if speed.ndim > 1:
        speed = np.linalg.norm(speed.reshape(len(x), -1), axis=1) / np.sqrt(
            speed[0].size / (2 if x.shape[-1] == 2 else 1))
    w = smoothstep((speed - slow) / (3 * slow)).reshape((-1,) + (1,) * (x.ndim - 1))
    return heavy + w * (light - heavy)


# A track first seen later than this (seconds) does not start from the photo's pose.
ANCHOR_WITHIN_S = 0.5


def anchor(values: np.ndarray, seen: np.ndarray, target, *, limit: float, fps: float
           ) -> tuple[np.ndarray, bool]:
    """Shift a track so that its first seen frame equals the photo's ``target`` when the two
    differ by less than ``limit`` (the motion starts from the photo's pose, as a clip's own
    skeleton does: its tracker and the photo's detector disagree by a few pixels, and that
    offset would shift every frame). Only a track seen within :data:`ANCHOR_WITHIN_S` of the
    start starts from the photo: a hand first seen 5 s in (un_speech_female's left, behind a
    lectern until then) says nothing of the photo, and shifting by its offset moved the
    photo's own hand, held through the gaps, off its wrist in every frame. Returns the track
    and whether it was shifted."""
    if target is None or not seen.any():
        return values, False
    first = int(np.argmax(seen))
    if first > ANCHOR_WITHIN_S * fps:
        return values, False
    delta = np.asarray(target, np.float64) - values[first]
    if np.ndim(delta) == 0 and np.abs(delta) < limit:
        return values + delta, True
    if np.ndim(delta) and np.linalg.norm(delta, axis=-1).mean() < limit:
        return values + delta, True
    return values, False


def still_near(values: np.ndarray, rest, *, width: float) -> np.ndarray:
    """A soft dead zone about the photo's value: deviations under ``width / 2`` are dropped,
    from ``2 * width`` on kept whole, blended between. Near its start pose a tracker's jitter is
    all there is, and the photo drawn exactly as it is beats it shifted by that jitter (a
    patterned jacket moved by 2 px is visibly and measurably worse than one not moved)."""
    d = values - rest
    mag = np.abs(d) if d.ndim == 1 else np.linalg.norm(d, axis=-1)
    keep = smoothstep((mag - 0.5 * width) / (1.5 * width))
    return rest + d * (keep if d.ndim == 1 else keep[..., None])


def ease_in_ramp(num_frames: int, *, fps: float, seconds: float) -> np.ndarray:
    """0 at frame 0 rising smoothly (smoothstep) to 1 after ``seconds``, ``(T,)``."""
    return smoothstep(np.arange(num_frames) / max(seconds * fps, 1.0))


def ease_in(values: np.ndarray, rest: np.ndarray, *, fps: float) -> np.ndarray:
    """Blend from ``rest`` at frame 0 to ``values`` over :data:`EASE_S` (no jump at the start
    when the motion begins away from the photo's pose)."""
    n = min(len(values), max(1, int(round(EASE_S * fps))))
    w = smoothstep(np.arange(n) / n).reshape((-1,) + (1,) * (values.ndim - 1))
    out = values.copy()
    out[:n] = rest + w * (values[:n] - rest)
    return out
