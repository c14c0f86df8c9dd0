"""Video metrics: PSNR/SSIM, hand metrics and jitter with known answers; HKC on a real clip."""

from __future__ import annotations

import numpy as np
import pytest

from _metrics_helpers import SHOULDER_WIDTH_PX as SW, still
from gesticulate.metrics.video import hand_metrics, psnr_ssim, skeleton_jitter


def test_psnr_ssim_identical_noisy_and_resized():
    rng = np.random.default_rng(0)
    ramp = np.linspace(40, 200, 80)[None, :, None] + np.linspace(0, 30, 64)[:, None, None]
    frames = [np.repeat(ramp + 10 * k, 3, axis=2).astype(np.uint8) for k in range(3)]  # smooth
    same = psnr_ssim(frames, frames)
    assert same["psnr"] == 100.0 and same["ssim"] == pytest.approx(1.0) and same["num_frames"] == 3
    noisy = [np.clip(f + rng.normal(0, 8, f.shape), 0, 255).astype(np.uint8) for f in frames]
    n = psnr_ssim(noisy, frames)
    assert 25 < n["psnr"] < 35 and n["ssim"] < 0.95
    flat = [np.full((64, 80, 3), 100, np.uint8)] * 2
    big = [np.full((128, 160, 3), 100, np.uint8)] * 2
    assert psnr_ssim(big, flat)["psnr"] == 100.0


def test_hand_metrics_known_answers():
    t = 10
    kp = np.full((t, 2, 21, 2), 0.5)
    scores = np.full((t, 2), 0.9)
    kp[:, 1] = np.nan
    scores[:, 1] = 0.0                           # right hand never found
    m = hand_metrics(kp, scores, fps=25.0)
    assert m["hkc"] == pytest.approx(0.45) and m["hkc_detected"] == pytest.approx(0.9)
    assert m["hand_detection_rate"] == 0.5 and m["hkv"] == pytest.approx(0.0)
    assert m["hand_jitter"] == pytest.approx(0.0)
    kp[:, 0, :, 0] += np.where(np.arange(t) % 2, 0.01, -0.01)[:, None]  # ±0.01 flicker
    m = hand_metrics(kp, scores, fps=25.0)
    assert m["hkv"] == pytest.approx(0.0001 / 2) and m["hand_jitter"] == pytest.approx(0.04 * 625)


def test_skeleton_jitter_known_answers():
    kp = still(20)
    assert skeleton_jitter(kp, fps=25.0) == pytest.approx(0.0, abs=1e-6)
    kp[:, :11, 0] += (np.arange(20) * 3.0)[:, None]          # constant velocity: no acceleration
    assert skeleton_jitter(kp, fps=25.0) == pytest.approx(0.0, abs=1e-3)
    kp = still(20)
    kp[:, 9, 0] += np.where(np.arange(20) % 2, 1.0, -1.0) * SW * 0.01   # ±0.01 sw flicker
    # |x[t+1] - 2x[t] + x[t-1]| = 0.04 sw for one of 11 points → 0.04·625/11 sw/s²
    assert skeleton_jitter(kp, fps=25.0) == pytest.approx(0.04 * 625 / 11, rel=1e-3)


@pytest.mark.realdata
def test_hands_redetected_on_real_clip(shared_data):
    from gesticulate.metrics.video import video_hand_metrics

    m = video_hand_metrics(shared_data / "video" / "hbr_speaker7.mp4", max_frames=40)
    assert m["hand_detection_rate"] > 0.5 and m["hkc_detected"] > 0.8 and m["hkv"] > 0
