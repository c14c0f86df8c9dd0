"""Lip-sync estimator: sign convention on synthetic signals, a known shift on real clips."""

from __future__ import annotations

import numpy as np
import pytest

from _metrics_helpers import still
from gesticulate.errors import InputError
from gesticulate.metrics.sync import (audio_envelope, estimate_av_offset, lip_sync,
                                      mouth_opening)
from gesticulate.skeleton import layout


def test_mouth_opening_is_gap_over_width():
    kp = still(3)
    kp[:, layout.MOUTH_LEFT_CORNER, :2] = (230, 180)
    kp[:, layout.MOUTH_RIGHT_CORNER, :2] = (280, 180)
    kp[:, layout.INNER_LIP_TOP, :2] = (255, 175)
    kp[:, layout.INNER_LIP_BOTTOM, :2] = (255, 175)
    kp[1, layout.INNER_LIP_BOTTOM, 1] = 185
    kp[2, layout.INNER_LIP_TOP, 2] = 0.0
    m = mouth_opening(kp)
    assert m[0] == pytest.approx(0.0) and m[1] == pytest.approx(10 / 50) and np.isnan(m[2])


def test_audio_envelope_frames_and_values():
    sr, fps = 16000, 25.0
    y = np.concatenate([np.zeros(sr), 0.5 * np.ones(sr)])
    e = audio_envelope(y, sr=sr, fps=fps, band_hz=None, log=False)
    assert e.shape == (50,) and np.allclose(e[:25], 0) and np.allclose(e[25:], 0.5)
    tone = np.concatenate([np.zeros(sr), 0.5 * np.sin(2 * np.pi * 500 * np.arange(sr) / sr)])
    hum = np.concatenate([np.zeros(sr), 0.5 * np.sin(2 * np.pi * 50 * np.arange(sr) / sr)])
    e = audio_envelope(tone, sr=sr, fps=fps)                # voice band, log: quiet ≈ -60 dB
    assert e[30:45].min() - e[5:20].max() > np.log(100)
    e = audio_envelope(hum, sr=sr, fps=fps, log=False)      # 50 Hz is outside the voice band
    assert e[30:45].max() < 0.05


@pytest.mark.parametrize("lag", [-7, 0, 3, 12])
def test_offset_sign_convention_on_synthetic_signals(lag):
    rng = np.random.default_rng(0)
    env = np.convolve(rng.random(300), np.ones(5) / 5, mode="same")
    mouth = np.roll(env, lag)                  # mouth[t] = env[t - lag]: video lags by `lag`
    offset, score = estimate_av_offset(mouth, env, fps=25.0)
    assert offset == lag and score > 0.9


def test_too_short_signal_is_refused():
    with pytest.raises(InputError, match="too few"):
        estimate_av_offset(np.zeros(20), np.zeros(20), fps=25.0)


def _face_mesh_mouth(path, max_frames: int) -> tuple[np.ndarray, float]:
    """Mouth opening of a real clip from MediaPipe Face Mesh (lip points mapped to iBUG)."""
    import mediapipe as mp

    from gesticulate.video import iter_frames, probe_video

    # Face Mesh indices: 13/14 inner lip top/bottom, 61/291 mouth corners.
    mesh_to_133 = {13: layout.INNER_LIP_TOP, 14: layout.INNER_LIP_BOTTOM,
                   61: layout.MOUTH_LEFT_CORNER, 291: layout.MOUTH_RIGHT_CORNER}
    kps = []
    with mp.solutions.face_mesh.FaceMesh(max_num_faces=1) as fm:
        for i, img in enumerate(iter_frames(path)):
            if i >= max_frames:
                break
            h, w = img.shape[:2]
            kp = np.zeros((133, 3), np.float32)
            res = fm.process(img)
            if res.multi_face_landmarks:
                lm = res.multi_face_landmarks[0].landmark
                for a, b in mesh_to_133.items():
                    kp[b] = (lm[a].x * w, lm[a].y * h, 1.0)
            kps.append(kp)
    return mouth_opening(np.stack(kps)), probe_video(path).fps


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["hbr_speaker7.mp4", "hbr_speaker9.mp4"])
def test_known_shift_recovered_on_real_clip(shared_data, name):
    from gesticulate.audio.io import load_audio

    path = shared_data / "video" / name
    mouth, fps = _face_mesh_mouth(path, max_frames=150)
    env = audio_envelope(load_audio(path, sr=16000), sr=16000, fps=fps)[:len(mouth)]
    base, score = estimate_av_offset(mouth, env, fps=fps)
    assert abs(base) <= 5 and score > 0.3, (base, score)   # real clips: in sync (±5 frames)
    for shift in (10, -10):
        shifted = np.roll(env, shift)          # audio delayed by `shift` frames → video leads
        if shift > 0:
            shifted[:shift] = env[0]
        else:
            shifted[shift:] = env[-1]
        offset, _ = estimate_av_offset(mouth, shifted, fps=fps)
        assert abs(offset - (base - shift)) <= 2, (name, base, shift, offset)
    metric = lip_sync(mouth, env, fps=fps)
    assert metric["lip_sync_offset_frames"] == base and metric["lip_sync_confidence"] > 0.2
