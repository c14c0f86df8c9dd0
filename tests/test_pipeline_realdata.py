"""Issue 2's real-data check: a generated video, re-extracted, moves in speech and rests in
silence, and its mouth opens more in speech than in pauses (needs ../shared/data)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from gesticulate.audio.features import compute_features
from gesticulate.audio.io import load_audio
from gesticulate.metrics.sync import mouth_opening
from gesticulate.pipeline import GeneratePipeline
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.extract import extract_video

pytestmark = pytest.mark.realdata
SILENCE_S = 3.0


@pytest.fixture(scope="module")
def generated(shared_data, tmp_path_factory):
    d = tmp_path_factory.mktemp("gen")
    y = load_audio(shared_data / "audio" / "radio31.wav", sr=16000)
    y = np.concatenate([y, np.zeros(int(SILENCE_S * 16000), np.float32)])  # a long pause at the end
    sf.write(d / "speech.wav", y, 16000)
    out = d / "out.mp4"
    GeneratePipeline(size=384, seed=1)(audio=d / "speech.wav",
                                       image=shared_data / "photo" / "desk_host_body.png",
                                       output=out, progress=False)
    seq = extract_video(out, progress=False)
    vad = compute_features(y, sr=16000, fps=25.0).vad
    return seq, vad


def test_wrists_move_in_speech_and_rest_in_silence(generated):
    seq, vad = generated
    kp = seq.keypoints
    n = min(len(kp), len(vad))
    width = np.median(L.shoulder_width(kp[:n]))
    wrists = kp[:n, [L.LEFT_WRIST, L.RIGHT_WRIST], :2]
    speed = np.linalg.norm(np.diff(wrists, axis=0), axis=-1).max(axis=1) * 25.0 / width  # (T-1,)
    speech = vad[1:n] > 0.5
    rest = np.zeros(n - 1, bool)
    rest[-int(1.5 * 25):] = True  # the last 1.5 s: well after the retraction into the pause
    moving, still = np.mean(speed[speech]), np.median(speed[rest])
    assert moving > 0.15, f"wrists barely move in speech: {moving:.3f} shoulder widths/s"
    assert still < 0.1 * moving, (still, moving)  # measured: 0.006 vs 0.32


def test_mouth_opens_more_in_speech_than_in_pauses(generated):
    seq, vad = generated
    n = min(len(seq), len(vad))
    mouth = mouth_opening(seq.keypoints[:n])
    speech, pause = vad[:n] > 0.5, vad[:n] < 0.1
    assert speech.sum() > 25 and pause.sum() > 25
    assert np.nanmean(mouth[speech]) > 1.5 * np.nanmean(mouth[pause]) + 0.01
