"""BA, DIV, L1div and PCK with known answers on synthetic skeletons."""

from __future__ import annotations

import numpy as np
import pytest

from _metrics_helpers import SHOULDER_WIDTH_PX as SW, still
from gesticulate.errors import InputError, OptionError
from gesticulate.metrics import beat_alignment, diversity, l1_divergence, pck, plot_beat_alignment
from gesticulate.metrics.beats import (alignment_score, control_onsets, joint_speed, motion_beats,
                                      onset_coupling)

FPS = 25.0


def beats_motion(beats_s: np.ndarray, *, num_frames: int, amplitude_sw: float = 0.5) -> np.ndarray:
    """Whole skeleton swinging left/right, stopping exactly on each beat (cosine ease)."""
    t = np.arange(num_frames) / FPS
    knots = np.concatenate([[0.0], beats_s, [t[-1] + 1]])
    pos = np.zeros(num_frames)
    for i, (a, b) in enumerate(zip(knots[:-1], knots[1:])):
        inside = (t >= a) & (t < b)
        p0, p1 = (-1) ** i, (-1) ** (i + 1)
        ease = 0.5 - 0.5 * np.cos(np.pi * (t[inside] - a) / (b - a))
        pos[inside] = p0 + (p1 - p0) * ease
    kp = still(num_frames)
    kp[..., 0] += (amplitude_sw * SW * pos)[:, None]
    return kp


@pytest.fixture(scope="module")
def beats():
    rng = np.random.default_rng(1)
    return np.cumsum(rng.uniform(0.7, 1.5, 14))  # irregular, like speech, ~14 s


def test_ba_high_when_motion_beats_sit_on_audio_beats(beats):
    kp = beats_motion(beats, num_frames=int(16 * FPS))
    for joints in ("upper_body", "hands"):
        r = beat_alignment(kp, beats, fps=FPS, joints=joints)
        assert r.ba > 0.95, (joints, r)
        assert r.ba_control < 0.75 and r.ba - r.ba_control > 0.25, r
        assert 0.6 < r.motion_beats_per_s < 1.2 and r.num_audio_beats > 5
        assert r.window_s == (2.0, 14.0)


def test_ba_drops_when_audio_is_shifted(beats):
    kp = beats_motion(beats, num_frames=int(16 * FPS))
    on = beat_alignment(kp, beats, fps=FPS).ba
    off = beat_alignment(kp, beats + 0.45, fps=FPS).ba
    assert on > 0.95 and off < 0.5


@pytest.mark.parametrize("jitter_sw", [0.005, 0.01])
def test_still_pose_with_detector_jitter_does_not_score(beats, jitter_sw):
    rng = np.random.default_rng(0)
    kp = still(int(16 * FPS))
    kp[..., :2] += rng.normal(0, jitter_sw * SW, kp[..., :2].shape)
    r = beat_alignment(kp, beats, fps=FPS)
    assert r.ba < 0.1 and r.motion_beats_per_s < 0.1, r
    # EMAGE's unfiltered minima on central differences: the pitfall of REFERENCES.md.
    raw = beat_alignment(kp, beats, fps=FPS, min_peak_speed=0, drop_ratio=1, smooth_s=0)
    assert raw.ba > 0.6


def test_ba_edges_clamped_for_short_clips_and_nan_without_audio_beats():
    kp = beats_motion(np.array([1.0, 2.0]), num_frames=int(3 * FPS))
    r = beat_alignment(kp, np.array([]), fps=FPS)
    assert np.isnan(r.ba) and r.window_s == (0.75, 2.25)


def test_beat_primitives():
    assert alignment_score([1.0, 2.0], [1.0, 2.0]) == pytest.approx(1.0)
    assert alignment_score([1.0], [1.3], sigma=0.3) == pytest.approx(np.exp(-0.5))
    assert alignment_score([1.0], []) == 0.0 and np.isnan(alignment_score([], [1.0]))
    speed = np.array([0, 1, 2, 3, 2, 1, 0.2, 1, 2, 1, 0.05, 0.06, 0.05, 0.06, 0.05, 0.06])
    assert motion_beats(speed, fps=10, order=2, min_peak_speed=0.4).tolist() == [6]
    shifted = control_onsets(np.array([2.5, 3.0]), (2.0, 6.0), sigma=0.3, num_shifts=3)
    assert len(shifted) == 4 and all(((s >= 2.0) & (s <= 6.0)).all() for s in shifted)


def test_joint_speed_fills_unseen_frames_and_drops_mostly_unseen_joints():
    kp = still(50)
    kp[:, 9, 0] += np.arange(50) * 2.0          # left wrist: 2 px/frame = 0.5 sw/s at 25 fps
    kp[10:15, 9, 2] = 0.0                        # briefly unseen: interpolated
    kp[:40, 10, 2] = 0.0                         # right wrist mostly unseen: NaN column
    s = joint_speed(kp, fps=FPS)
    assert np.allclose(s[:, 3], 0.5, atol=1e-3)
    assert np.isnan(s[:, 4]).all()


def test_l1div_and_div_known_answers():
    kp = still(40)
    assert l1_divergence(kp) == pytest.approx(0.0, abs=1e-6)
    moved = kp.copy()
    moved[::2, 9, 0] += 10.0                     # left wrist ±0.1 sw on alternate frames
    moved[1::2, 9, 0] -= 10.0
    # upper_body has 11 points × (x, y); one coordinate deviates by 0.1 sw everywhere.
    assert l1_divergence(moved) == pytest.approx(0.1 / 22, rel=1e-3)
    assert diversity([kp, kp.copy(), kp.copy()]) == pytest.approx(0.0, abs=1e-7)
    other = kp.copy()
    other[:, 91:133, 1] += 20.0                  # hands 0.2 sw lower
    assert diversity([kp, other], region="hands") == pytest.approx(0.2, rel=1e-3)
    assert diversity([kp, other], region="face") == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(InputError):
        diversity([kp])
    with pytest.raises(OptionError):
        l1_divergence(kp, region="legs")


def test_pck_known_answers():
    gt = still(10)
    assert pck(gt, gt) == 1.0
    box = 510 - 140                              # max(h, w) of base_pose's confident points
    pred = gt.copy()
    pred[:, 91:133, 0] += 0.1 * box + 1          # hands just outside α = 0.1
    assert pck(pred, gt, region="hands") == 0.0
    assert pck(pred, gt, region="upper_body") == 1.0
    assert pck(pred, gt, region="hands", alpha=0.2) == 1.0
    pred = gt.copy()
    pred[:, :, 2] = 0.0                          # nothing detected: all misses
    assert pck(pred, gt) == 0.0
    with pytest.raises(OptionError):
        pck(gt, gt, alpha=0)


def test_plot_beat_alignment_writes_png(tmp_path, beats):
    kp = beats_motion(beats, num_frames=int(16 * FPS))
    speed = joint_speed(kp, fps=FPS)
    mb = [motion_beats(speed[:, j], fps=FPS) / FPS for j in range(speed.shape[1])]
    out = plot_beat_alignment(speed, mb, beats, fps=FPS, path=tmp_path / "ba.png",
                              labels=["nose", "l elbow", "r elbow", "l wrist", "r wrist"],
                              window_s=(2.0, 14.0), title="synthetic")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["ba.png"]


def onset_track(onsets_s: np.ndarray, num_frames: int) -> np.ndarray:
    """Onset strength: a one-frame pulse on each onset, 0..1."""
    a = np.zeros(num_frames)
    a[np.round(onsets_s * FPS).astype(int)] = 1.0
    return a


def wrist_moves(times_s: np.ndarray, num_frames: int) -> np.ndarray:
    """Both wrists make a quick 0.3 sw move centred on each time (back and forth in turn)."""
    t = np.arange(num_frames) / FPS
    speed = sum(np.exp(-0.5 * ((t - c) / 0.06) ** 2) for c in times_s)
    x = np.cumsum(speed * np.where(np.cumsum(speed) // 3 % 2, -1, 1))
    kp = still(num_frames)
    kp[:, [9, 10], 0] += (0.3 * SW * x / 3)[:, None]
    return kp


def test_onset_coupling_high_when_hands_move_just_before_onsets(beats):
    n = int(16 * FPS)
    onsets = onset_track(beats, n)
    before = onset_coupling(wrist_moves(beats - 0.1, n), onsets, fps=FPS)
    after = onset_coupling(wrist_moves(beats + 0.25, n), onsets, fps=FPS)
    assert before > 0.5, before
    assert after < before - 0.3, (after, before)     # the hands lag the voice: lower
    # Another speech's rhythm scores about 0 (over 60 onsets: 14 of them can meet by chance).
    rng = np.random.default_rng(7)
    n = int(95 * FPS)
    onsets = onset_track(np.cumsum(rng.uniform(0.7, 1.5, 60)), n)
    other = [onset_coupling(wrist_moves(np.cumsum(rng.uniform(0.7, 1.5, 60)), n), onsets,
                            fps=FPS) for _ in range(3)]
    assert abs(np.mean(other)) < 0.1, other


def test_onset_coupling_still_jitter_unseen_and_short(beats):
    n = int(16 * FPS)
    onsets = onset_track(beats, n)
    assert onset_coupling(still(n), onsets, fps=FPS) == 0.0
    rng = np.random.default_rng(0)
    jitter = still(n)
    jitter[..., :2] += rng.normal(0, 0.01 * SW, jitter[..., :2].shape)
    assert abs(onset_coupling(jitter, onsets, fps=FPS)) < 0.15
    unseen = wrist_moves(beats - 0.1, n)
    unseen[:, [9, 10], 2] = 0.0
    assert np.isnan(onset_coupling(unseen, onsets, fps=FPS))
    assert np.isnan(onset_coupling(wrist_moves(beats[:1] - 0.1, 20), onsets[:20], fps=FPS))
    assert np.isnan(onset_coupling(wrist_moves(beats - 0.1, n), np.zeros(n), fps=FPS))  # silence
    for bad in ({"lead_s": (-0.1, 0.2)}, {"lead_s": (0.3, 0.1)}, {"smooth_s": 0.0}):
        with pytest.raises(OptionError):
            onset_coupling(jitter, onsets, fps=FPS, **bad)
