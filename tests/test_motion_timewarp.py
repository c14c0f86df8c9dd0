"""Onset-aligned time warping (gesticulate.motion.timewarp)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from gesticulate.errors import OptionError
from gesticulate.motion.timewarp import RATES, onset_warp, warp_rows

FPS = 25.0


def bumps(times: np.ndarray, n: int, *, width_s: float = 0.08) -> np.ndarray:
    """A curve of Gaussian bumps at ``times`` (seconds), ``n`` frames."""
    x = np.zeros(n)
    idx = np.round(np.asarray(times) * FPS).astype(int)
    x[idx[(idx >= 0) & (idx < n)]] = 1.0
    return gaussian_filter1d(x, width_s * FPS)


def strokes_and_onsets(seed: int, seconds: float = 30.0, *, off_s: float = 0.3):
    """Motion whose strokes are each up to ``off_s`` early or late against the voice's onsets
    (less the 0.1 s lead speakers' hands have)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FPS)
    onsets = np.cumsum(rng.uniform(0.45, 1.1, int(seconds)))
    onsets = onsets[onsets < seconds - 1.0]
    strokes = onsets - 0.1 + rng.uniform(-off_s, off_s, len(onsets))
    return bumps(strokes, n), bumps(onsets, n, width_s=0.03)


def coupling(speed: np.ndarray, onset: np.ndarray, lead: int = 2) -> float:
    return float(np.corrcoef(speed[:-lead], onset[lead:])[0, 1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_strokes_move_onto_the_onsets(seed):
    speed, onset = strokes_and_onsets(seed)
    tau = onset_warp(speed, onset, fps=FPS)
    warped = warp_rows(speed, tau)
    before, after = coupling(speed, onset), coupling(warped, onset)
    assert after > 0.45 and after > before + 0.25, (before, after)


def test_the_time_map_keeps_its_bounds():
    speed, onset = strokes_and_onsets(3, off_s=0.5)
    tau = onset_warp(speed, onset, fps=FPS, max_shift_s=0.4)
    t = np.arange(len(speed))
    assert tau[0] == 0.0 and len(tau) == len(speed)
    rates = np.diff(tau)
    # Played at the allowed rates (eased between them), never far from its audio.
    assert min(RATES) - 0.05 < rates.min() and rates.max() < max(RATES) + 0.05
    assert np.abs(tau - t).max() <= 0.4 * FPS + 1e-9
    assert 0 <= tau.min() and tau.max() <= len(speed) - 1
    # No jolt: the rate changes by under 0.15 a frame (a step between two rates is 0.25).
    assert np.abs(np.diff(rates)).max() < 0.15
    assert rates.std() > 0.1                                    # and it is retimed


def test_nothing_to_align_to_plays_the_motion_as_it_is():
    speed, onset = strokes_and_onsets(4)
    t = np.arange(len(speed), dtype=float)
    np.testing.assert_array_equal(onset_warp(speed, np.zeros_like(onset), fps=FPS), t)
    np.testing.assert_array_equal(onset_warp(np.ones_like(speed), onset, fps=FPS), t)
    np.testing.assert_array_equal(onset_warp(speed, onset, fps=FPS, max_shift_s=0.0), t)
    np.testing.assert_array_equal(onset_warp(speed[:2], onset[:2], fps=FPS), t[:2])
    # Costly rate changes: the motion is not retimed for a small gain.
    np.testing.assert_array_equal(onset_warp(speed, onset, fps=FPS, stay=1e6), t)
    # Onsets shorter than the motion, NaN speeds and NaN onsets are read, not refused.
    tau = onset_warp(np.where(t % 50 == 0, np.nan, speed), onset[: len(onset) // 2], fps=FPS)
    assert np.isfinite(tau).all() and (np.diff(tau) > 0).all()
    tau = onset_warp(speed, np.where(t % 40 == 0, np.nan, onset), fps=FPS)
    assert np.isfinite(tau).all() and (np.diff(tau) > 0).all() and np.abs(tau - t).max() > 0


def test_warp_rows_interpolates():
    x = np.arange(12, dtype=float).reshape(6, 2)
    np.testing.assert_allclose(warp_rows(x, [0, 0.5, 2.25, 5, 7]),
                               [[0, 1], [1, 2], [4.5, 5.5], [10, 11], [10, 11]])
    np.testing.assert_allclose(warp_rows(x[:1], [0, 0.5]), [[0, 1], [0, 1]])
    with pytest.raises(OptionError):
        warp_rows(x, [0, np.nan])
    with pytest.raises(OptionError):
        warp_rows(x[:0], [0])


@pytest.mark.parametrize("kwargs", [dict(fps=0), dict(max_shift_s=-1), dict(lead_s=-0.1),
                                    dict(smooth_s=0), dict(rates=(0.6, 1.0)),
                                    dict(rates=(0.5, 1.5)), dict(rates=(-0.25, 1.0))])
def test_errors(kwargs):
    speed, onset = strokes_and_onsets(0, seconds=4)
    with pytest.raises(OptionError):
        onset_warp(speed, onset, **{"fps": FPS, **kwargs})
