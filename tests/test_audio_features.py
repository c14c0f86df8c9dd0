"""compute_features: lengths follow num_frames, chunking changes nothing, onsets and pitch."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from gesticulate.audio import features as F
from gesticulate.audio.features import compute_features, load_features, num_frames
from gesticulate.errors import InputError, OptionError

SR = 16000


def voiced(seconds: float, *, sr: int = SR, hz: float = 180.0, seed: int = 0) -> np.ndarray:
    """A buzzy harmonic tone with a syllable-rate envelope and a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * sr))) / sr
    y = sum(np.sin(2 * np.pi * hz * k * t) / k for k in range(1, 8))
    y = y * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)) + 0.01 * rng.standard_normal(len(t))
    return (0.2 * y).astype(np.float32)


@pytest.mark.parametrize("seconds", [0.5, 1.37, 3.0])
@pytest.mark.parametrize("fps", [25.0, 30.0])
def test_every_array_has_num_frames_rows(seconds, fps):
    feats = compute_features(voiced(seconds), sr=SR, fps=fps, n_mels=40)
    T = num_frames(seconds, fps)
    assert feats.num_frames == T
    assert feats.log_mel.shape == (T, 40)
    for name in ("onset", "rms", "pitch_hz", "vad"):
        arr = getattr(feats, name)
        assert arr.shape == (T,) and arr.dtype == np.float32, name
        assert np.isfinite(arr).all(), name
    assert feats.log_mel.max() == pytest.approx(0.0) and feats.log_mel.min() >= -80.0
    assert 0 <= feats.onset.min() and feats.onset.max() == pytest.approx(1.0)
    assert feats.rms.max() == pytest.approx(1.0)
    assert ((feats.vad >= 0) & (feats.vad <= 1)).all()
    assert feats.onset_frames.dtype == np.int64
    assert ((feats.onset_frames >= 0) & (feats.onset_frames < T)).all()
    assert feats.stack().shape == (T, 44)
    assert feats.duration_s == pytest.approx(seconds, abs=1 / SR)


def test_other_sample_rate_and_high_fps():
    feats = compute_features(voiced(1.0, sr=22050), sr=22050, fps=60.0)
    assert feats.num_frames == 60 and feats.sr == 22050
    assert np.isfinite(feats.pitch_hz).all() and (feats.rms > 0.15).all()  # envelope 0.2..1
    t = (np.arange(60) + 0.5) / 60.0  # each 16.7 ms frame measures its own samples
    assert np.corrcoef(feats.rms, 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))[0, 1] > 0.99


def test_chunked_analysis_equals_whole_track(monkeypatch):
    y = voiced(3.0, seed=3)
    whole = compute_features(y, sr=SR, fps=25.0)
    monkeypatch.setattr(F, "_CHUNK_SAMPLES", 7000)  # 7 uneven chunks
    chunked = compute_features(y, sr=SR, fps=25.0)
    for name in ("log_mel", "onset", "rms", "pitch_hz", "vad"):
        np.testing.assert_allclose(getattr(chunked, name), getattr(whole, name), atol=1e-3,
                                   err_msg=name)
    np.testing.assert_array_equal(chunked.onset_frames, whole.onset_frames)


def test_onsets_land_on_clicks():
    rng = np.random.default_rng(0)
    y = (0.003 * rng.standard_normal(4 * SR)).astype(np.float32)
    clicks = [0.5, 1.2, 2.0, 2.7, 3.4]
    for c in clicks:
        i = int(c * SR)
        y[i:i + 200] += 0.8 * np.exp(-np.arange(200) / 40.0) * rng.choice([-1, 1], 200)
    feats = compute_features(y, sr=SR, fps=25.0)
    expected = [int(c * 25) for c in clicks]
    for e in expected:
        assert np.abs(feats.onset_frames - e).min() <= 1, (e, feats.onset_frames)
    assert len(feats.onset_frames) <= len(clicks)
    assert 0 not in feats.onset_frames  # the track starting is not an onset
    assert all(feats.onset[e] > 0.5 for e in expected)
    quiet = np.setdiff1d(np.arange(feats.num_frames),
                         np.concatenate([np.arange(e - 2, e + 3) for e in expected]))
    assert feats.onset[quiet].max() < 0.3


def test_rms_follows_loudness_exactly_per_frame():
    y = np.concatenate([0.5 * np.ones(SR), 0.1 * np.ones(SR)]).astype(np.float32)
    y[1::2] *= -1  # a square wave at sr / 2: every sample is ±amplitude
    feats = compute_features(y, sr=SR, fps=25.0)
    np.testing.assert_allclose(feats.rms[:25], 1.0, atol=1e-4)
    np.testing.assert_allclose(feats.rms[25:], 0.2, atol=1e-4)  # frame 25 starts at 1.0 s


def test_an_offset_is_no_loudness():
    """Speech-like bursts over a DC offset have the loudness they have without it: the
    offset's share in the pauses is no half-open mouth (0.55 of the loudest before)."""
    t = np.arange(2 * SR) / SR
    y = (0.3 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 1.0 * t) > 0)).astype(np.float32)
    plain = compute_features(y, sr=SR, fps=25.0).rms
    offset = compute_features(y + np.float32(0.2), sr=SR, fps=25.0).rms
    np.testing.assert_allclose(offset, plain, atol=0.02)
    assert offset[39:49].max() < 0.05                     # a pause (1.5-2.0 s) is quiet


def test_pitch_of_a_harmonic_tone():
    y = voiced(2.0, hz=220.0)
    T = num_frames(2.0, 25.0)
    pitch = F._frame_pitch(y, sr=SR, fps=25.0, T=T, vad=np.ones(T, np.float32))
    assert (pitch > 0).mean() > 0.9
    assert np.median(pitch[pitch > 0]) == pytest.approx(220.0, rel=0.02)
    # Silero says "no speech": no pitch is reported.
    assert not F._frame_pitch(y, sr=SR, fps=25.0, T=T, vad=np.zeros(T, np.float32)).any()


def test_voicing_keeps_smooth_runs_and_drops_jumps():
    f0 = np.array([120, 121, 122, 123, 300, 90, 410, 200, 201, 150, 150, 150], float)
    n = len(f0)
    voiced = F._voicing(f0, zcr=np.full(n, 0.1), level_db=np.zeros(n), vad=np.ones(n))
    assert voiced.tolist() == [True] * 4 + [False] * 5 + [True] * 3
    quiet = F._voicing(f0, zcr=np.full(n, 0.1), level_db=np.full(n, -50.0), vad=np.ones(n))
    assert not quiet.any()


@pytest.mark.realdata
def test_real_speech_pitch_and_vad(shared_data):
    feats = load_features(shared_data / "audio" / "radio31.wav", fps=25.0)
    assert feats.num_frames == 200
    voiced_frames = feats.pitch_hz > 0
    assert 0.4 < voiced_frames.mean() < 0.95
    assert 70 < np.median(feats.pitch_hz[voiced_frames]) < 350
    assert feats.vad.mean() > 0.8
    assert 1.0 < len(feats.onset_frames) / feats.duration_s < 8.0  # syllable-ish rate


def test_load_features_from_file(tmp_path):
    path = tmp_path / "v.flac"
    sf.write(path, voiced(1.2, sr=44100), 44100)
    feats = load_features(path, fps=30.0)
    assert feats.num_frames == 36 and feats.sr == 16000


def test_bad_options():
    with pytest.raises(OptionError, match="fps"):
        compute_features(voiced(1.0), sr=SR, fps=0)
    with pytest.raises(InputError):
        compute_features(np.zeros(0, np.float32), sr=SR)
