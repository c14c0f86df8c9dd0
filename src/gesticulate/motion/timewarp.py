"""Onset-aligned time warping: replayed motion's strokes moved onto this voice's onsets.

A library window chosen for its audio descriptor (:mod:`gesticulate.motion.retrieval`) has its
strokes where *its* speaker stressed a syllable, not where this voice does: on the shared long
speeches the retrieval generator's wrist speed correlated with the speech's own onsets no better
than with another speech's. People's hands speed up just before and on stressed syllables
(:func:`gesticulate.metrics.beats.onset_coupling`), so the replayed motion is retimed: a
monotone time map ``tau`` (output frame → motion frame) is chosen by dynamic programming to
maximise the correlation of the motion's wrist speed, read at ``tau(t)``, with the onset
strength ``lead_s`` later, under three constraints that keep the motion the library's:

- the local playback rate stays within ``rates`` (0.75–1.25 by default), and changes of rate
  cost ``smooth`` per (rate step)², so a stroke is not squashed or jerked;
- playing at any rate but 1 costs ``stay`` per frame and (rate − 1)²: without onsets nothing moves;
- ``tau(t)`` stays within ``max_shift_s`` of ``t``, so each segment stays near the audio it was
  matched to, and ``tau(0) = 0`` (frame 0 is the photo's pose).

This is the motion-beat time warping of rhythmic motion synthesis (Kim, Park and Shin,
SIGGRAPH 2003, warp motion clips so their beats land on the music's), done as one
dynamic-programming pass over ``O(T · shifts · rates²)`` states.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from gesticulate.errors import OptionError

RATES = (0.75, 1.0, 1.25)              # playback rates (motion frames per output frame)
SUBSTEPS = 4                           # tau is a multiple of 1 / SUBSTEPS frame
EASE_S = 0.08                          # rate changes are eased over about this long


def onset_warp(speed: np.ndarray, onset: np.ndarray, *, fps: float, lead_s: float = 0.1,
               max_shift_s: float = 0.3, smooth: float = 4.0, stay: float = 1.0,
               smooth_s: float = 0.1, rates: tuple[float, ...] = RATES) -> np.ndarray:
    """The time map that puts the motion's fast moments just before the voice's onsets.

    Parameters
    ----------
    speed : np.ndarray, shape (T,)
        The motion's wrist speed per output frame, unwarped (any unit; NaN counts as the mean).
    onset : np.ndarray, shape (T',)
        Onset strength per frame (``AudioFeatures.onset``), at the same ``fps``.
    fps : float
        Frame rate of both.
    lead_s : float
        How far the motion leads the onsets (speakers' hands lead by 0–0.2 s).
    max_shift_s : float
        Largest distance between ``tau(t)`` and ``t``, seconds.
    smooth, stay : float
        Costs of a rate change (per step², per frame) and of a rate other than 1 (per
        (rate − 1)², per frame), against the gain of the z-scored speed × onset product.
    smooth_s : float
        Both curves are smoothed by a Gaussian of this many seconds first.
    rates : tuple of float
        Allowed playback rates, each a multiple of ``1 / SUBSTEPS``, including 1.

    Returns
    -------
    np.ndarray, shape (T,), float64
        ``tau``: the motion frame (fractional) to show at each output frame; never
        decreasing, ``tau[0] = 0``, within ``[0, T - 1]``, its rate changes eased over
        ``EASE_S``. The identity when the onsets or the speed are flat.
    """
    speed = np.asarray(speed, np.float64)
    T = len(speed)
    steps = np.round(np.asarray(rates, np.float64) * SUBSTEPS).astype(int)
    if (fps <= 0 or max_shift_s < 0 or lead_s < 0 or smooth < 0 or stay < 0 or smooth_s <= 0
            or SUBSTEPS not in steps or (steps <= 0).any()
            or not np.allclose(steps, np.asarray(rates) * SUBSTEPS)):
        raise OptionError(f"onset warp needs fps > 0, lead_s, max_shift_s, smooth, stay >= 0, "
                          f"smooth_s > 0 and positive rates in steps of 1/{SUBSTEPS} including 1; "
                          f"got fps={fps}, lead_s={lead_s}, max_shift_s={max_shift_s}, "
                          f"smooth={smooth}, stay={stay}, smooth_s={smooth_s}, rates={rates}")
    identity = np.arange(T, dtype=np.float64)
    D = int(round(max_shift_s * fps)) * SUBSTEPS
    if T < 3 or D == 0:
        return identity
    v = _zscore(gaussian_filter1d(np.where(np.isfinite(speed), speed, np.nanmean(speed)
                                           if np.isfinite(speed).any() else 0.0),
                                  smooth_s * fps))
    lead = int(round(lead_s * fps))
    o = np.nan_to_num(np.asarray(onset, np.float64))[lead:lead + T]
    a = np.full(T, o.mean() if len(o) else 0.0)     # past the audio's end: no pull either way
    a[:len(o)] = o
    a = _zscore(gaussian_filter1d(a, smooth_s * fps))
    if not (a.any() and v.any()):
        return identity
    shifts = np.arange(-D, D + 1)                                   # tau = t + shift / SUBSTEPS
    fine = np.interp(np.arange((T - 1) * SUBSTEPS + 1) / SUBSTEPS, identity, v)
    R = np.asarray(rates, np.float64)
    delta = steps - SUBSTEPS                                        # shift change per frame
    change = smooth * (R[:, None] - R[None, :]) ** 2                # (rate now, rate before)
    hold = stay * (R - 1.0) ** 2
    best = np.full((len(shifts), len(R)), -np.inf)
    best[D, :] = 0.0                                                # tau(0) = 0, any rate
    back = np.zeros((T, len(shifts), len(R)), np.int8)
    for t in range(1, T):
        # Best predecessor rate for each (previous shift, rate now).
        cand = best[:, None, :] - change[None]                      # (shift', rate, rate')
        arg = cand.argmax(axis=2)
        top = np.take_along_axis(cand, arg[..., None], axis=2)[..., 0]
        new = np.full_like(best, -np.inf)
        for r, d in enumerate(delta):                               # shift = shift' + d
            lo, hi = max(0, d), len(shifts) + min(0, d)
            new[lo:hi, r] = top[lo - d:hi - d, r]
            back[t, lo:hi, r] = arg[lo - d:hi - d, r]
        pos = t * SUBSTEPS + shifts
        ok = (pos >= 0) & (pos < len(fine))
        gain = np.where(ok, a[t] * fine[np.clip(pos, 0, len(fine) - 1)], -np.inf)
        best = new + gain[:, None] - hold[None]
    s, r = np.unravel_index(int(np.argmax(best)), best.shape)
    path = np.empty(T, np.int64)
    for t in range(T - 1, 0, -1):
        path[t] = s
        r_prev = back[t, s, r]
        s, r = s - delta[r], r_prev
    path[0] = s
    # The rate changes are eased over a few frames: a rate that jumps is a jolt in the motion.
    offset = gaussian_filter1d(shifts[path] / SUBSTEPS, EASE_S * fps, mode="nearest")
    offset -= offset[0] * np.clip(1.0 - identity / (4 * EASE_S * fps), 0.0, 1.0)
    tau = np.maximum.accumulate(np.clip(identity + offset, 0.0, T - 1.0))
    return tau


def warp_rows(x: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """``x`` (T, ...) read at the fractional frames ``tau`` (linear interpolation)."""
    x = np.asarray(x)
    tau = np.asarray(tau, np.float64)
    if len(x) == 0 or not np.isfinite(tau).all():
        raise OptionError(f"warp_rows needs rows to read and finite frames; got {len(x)} rows "
                          f"and {int((~np.isfinite(tau)).sum())} frames that are not finite")
    if len(x) == 1:
        return np.repeat(x, len(tau), axis=0)
    tau = np.clip(tau, 0, len(x) - 1)
    i = np.minimum(np.floor(tau).astype(int), len(x) - 2)
    f = (tau - i).reshape((-1,) + (1,) * (x.ndim - 1))
    return (1.0 - f) * x[i] + f * x[i + 1]


def _zscore(x: np.ndarray) -> np.ndarray:
    sd = float(x.std())
    return (x - x.mean()) / sd if sd > 1e-9 else np.zeros_like(x)
