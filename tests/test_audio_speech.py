"""Voice activity (silero-vad), phones (pocketsphinx) and offline TTS (eSpeak NG)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from gesticulate.audio import phones as phones_mod
from gesticulate.audio import vad
from gesticulate.audio.io import load_audio
from gesticulate.audio.phones import (NUM_PHONE_CHANNELS, OPENNESS, VISEMES, recognize_phones,
                                      viseme_channels, viseme_openness)
from gesticulate.audio.tts import synthesize
from gesticulate.audio.vad import (frame_speech_probability, segments_from_probability,
                                   speech_segments)
from gesticulate.errors import InputError, OptionError

SR = 16000


@pytest.fixture(scope="module")
def speech(request) -> np.ndarray:
    """radio31.wav (8 s of continuous speech) at 16 kHz; skipped without ../shared/data."""
    data = request.getfixturevalue("shared_data")
    return load_audio(data / "audio" / "radio31.wav", sr=SR)


def quiet_noise(seconds: float, amp: float = 0.002, seed: int = 0) -> np.ndarray:
    return (amp * np.random.default_rng(seed).standard_normal(int(seconds * SR))
            ).astype(np.float32)


# ------------------------------------------------------------------ VAD


def _torchscript_probability(y: np.ndarray) -> np.ndarray:
    """silero-vad's own TorchScript model on ``y`` (16 kHz), window by window."""
    from silero_vad import load_silero_vad
    model = load_silero_vad()
    n = -(-len(y) // 512)
    x = torch.from_numpy(np.pad(y, (0, n * 512 - len(y))).astype(np.float32))
    with torch.inference_mode():
        return np.array([float(model(x[i * 512:(i + 1) * 512], SR)) for i in range(n)])


@pytest.mark.realdata
def test_vad_high_in_speech_low_in_silence_and_noise(speech):
    y = np.concatenate([quiet_noise(1.5), speech[:4 * SR], quiet_noise(1.5, seed=1)])
    prob = frame_speech_probability(y, sr=SR, fps=25.0, num_frames=175)
    assert prob.shape == (175,) and prob.dtype == np.float32
    assert prob[45:130].mean() > 0.8  # speech 1.5..5.5 s, a frame of margin each side
    assert prob[:35].mean() < 0.2 and prob[-35:].mean() < 0.2
    segs = speech_segments(y, sr=SR)
    assert segs and 1.2 < segs[0][0] < 1.8 and 5.2 < segs[-1][1] < 5.9
    loud_noise = (0.3 * np.random.default_rng(2).standard_normal(3 * SR)).astype(np.float32)
    assert frame_speech_probability(loud_noise, sr=SR, fps=25.0, num_frames=75).mean() < 0.3
    # The numpy network is silero-vad's TorchScript model, window for window.
    ours = vad.speech_probability(y, sr=SR)
    assert np.abs(ours - _torchscript_probability(y)).max() < 2e-5
    assert ours.max() > 0.9 and ours.min() < 0.1


def test_vad_is_silero_vads_torchscript_model_without_torch(monkeypatch):
    """The numpy network gives the TorchScript model's probabilities (spoken-like bursts of
    harmonics in noise, and silence), also when it runs the windows in blocks (the LSTM's
    state and the window before carried over), and the audio features never import torch or
    silero_vad (in a fresh process)."""
    import subprocess
    import sys
    t = np.arange(3 * SR) / SR
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    voiced = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / SR) / k for k in range(1, 12))
    bursts = (np.sin(2 * np.pi * 2.5 * t) > 0).astype(np.float32)
    y = (0.3 * voiced * bursts + quiet_noise(3.0)).astype(np.float32)
    y = np.concatenate([np.zeros(SR // 2, np.float32), y])
    ours = vad.speech_probability(y, sr=SR)
    assert ours.dtype == np.float32 and len(ours) == -(-len(y) // 512)
    assert ours.max() > 0.5 and ours.min() < 0.05      # the state is carried through both
    theirs = _torchscript_probability(y)
    assert np.abs(ours - theirs).max() < 2e-5
    monkeypatch.setattr(vad, "BLOCK", 7)
    assert np.abs(vad.speech_probability(y, sr=SR) - theirs).max() < 2e-5
    assert vad.speech_probability(np.zeros(0, np.float32), sr=SR).shape == (0,)
    code = """
import sys, numpy as np
from gesticulate.audio.features import compute_features
y = (0.01 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32)
compute_features(y, sr=16000, fps=25.0)
assert "torch" not in sys.modules and "silero_vad" not in sys.modules, "imported"
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_vad_without_its_model_says_what_to_do(monkeypatch, tmp_path):
    import pickle
    import zipfile
    monkeypatch.setattr(vad, "_model", None)
    monkeypatch.setattr(vad, "_ARCHIVE", "no_such_model.jit")
    with pytest.raises(RuntimeError, match="not installed.*setup.sh"):
        vad.speech_probability(np.zeros(SR, np.float32), sr=SR)
    # An archive of another network (here: not even one) is refused, not half read.
    other = tmp_path / "other.jit"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("other/data.pkl", pickle.dumps({"_model": None}))
    monkeypatch.setattr(vad, "_ARCHIVE", str(other))      # an absolute path wins the join
    with pytest.raises(RuntimeError, match="not the network this reader knows.*silero-vad 6"):
        vad.speech_probability(np.zeros(SR, np.float32), sr=SR)


def test_vad_on_other_rates_and_its_segment_rule():
    y = quiet_noise(1.0)
    assert frame_speech_probability(np.repeat(y, 3), sr=48000, fps=30.0,
                                    num_frames=30).max() < 0.5
    probs = np.array([0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.4, 0.9, 0, 0, 0, 0, 0,
                      0.9, 0])  # one blip in a pause is too short to be speech
    segs = segments_from_probability(probs, hop_s=0.032, duration_s=0.6, pad_s=0.0)
    assert segs == [(pytest.approx(0.032), pytest.approx(0.352))]


# ------------------------------------------------------------------ phones


@pytest.mark.realdata
def test_phones_from_real_speech_open_mouth_in_speech_only(speech, capfd):
    y = np.concatenate([quiet_noise(1.0), speech[:5 * SR], quiet_noise(1.0, seed=1)])
    phones = recognize_phones(y, sr=SR)
    out = capfd.readouterr().out
    assert out == ""  # pocketsphinx logs nothing on stdout
    assert phones and all(p in OPENNESS or p == "SIL" for p, _, _ in phones)
    starts = [s for _, s, _ in phones]
    assert starts == sorted(starts) and phones[-1][2] <= 7.05
    assert sum(p in ("AA", "AE", "AH", "AO", "EH", "IH", "IY", "EY", "AY") for p, _, _ in
               phones) >= 10
    open_ = viseme_openness(phones, fps=25.0, num_frames=175)
    assert open_.shape == (175,) and open_.dtype == np.float32
    assert open_[30:145].mean() > 0.25 > open_[:20].mean()
    assert open_[-20:].mean() < 0.1


@pytest.mark.realdata
def test_forced_alignment_with_transcript(shared_data):
    y = load_audio(shared_data / "video" / "avspeech_sample1.wav", sr=SR)
    phones = recognize_phones(y, sr=SR, transcript="amount of numbers inside the hat, mixing the")
    names = [p for p, _, _ in phones if p != "SIL"]
    assert names[:5] == ["AH", "M", "AW", "N", "T"]
    # "hat" ends near 1.29 s in the dataset's word timings.
    hat_t = [e for p, _, e in phones if p == "T"][1]
    assert abs(hat_t - 1.3) < 0.15


def test_phones_fail_soft(monkeypatch, caplog):
    def broken(kind):
        raise RuntimeError("decoder exploded")
    monkeypatch.setattr(phones_mod, "_decoder", broken)
    with caplog.at_level(logging.WARNING):
        assert recognize_phones(quiet_noise(1.0), sr=SR) is None
    assert "phone recognition failed" in caplog.text


def test_phones_let_bugs_surface(monkeypatch):
    def buggy(kind):
        raise TypeError("a bug, not bad audio")
    monkeypatch.setattr(phones_mod, "_decoder", buggy)
    with pytest.raises(TypeError, match="a bug"):
        recognize_phones(quiet_noise(1.0), sr=SR)


def test_no_audio_gives_no_phones(caplog):
    with caplog.at_level(logging.WARNING):
        assert recognize_phones(np.zeros(0, np.float32), sr=SR) is None
    assert "no audio" in caplog.text


def test_a_decoder_that_failed_mid_utterance_is_not_reused(monkeypatch):
    y, sr = synthesize("hello there")

    def fails_after_starting(decoder, pcm):
        decoder.start_utt()
        raise RuntimeError("failed mid-utterance")
    with monkeypatch.context() as m:
        m.setattr(phones_mod, "_decode", fails_after_starting)
        assert recognize_phones(y, sr=sr) is None
    assert recognize_phones(y, sr=sr)


def test_unknown_words_fall_back_to_recognition(caplog):
    y, sr = synthesize("hello there")
    with caplog.at_level(logging.WARNING):
        phones = recognize_phones(y, sr=sr, transcript="zqxv blorfk")
    assert phones and "not in the pronouncing dictionary" in caplog.text


def test_viseme_openness_mapping():
    phones = [("SIL", 0.0, 0.2), ("M", 0.2, 0.4), ("AA", 0.4, 0.8), ("IY", 0.8, 1.0)]
    o = viseme_openness(phones, fps=10.0, num_frames=12)
    assert o.shape == (12,) and 0 <= o.min() and o.max() <= 1
    assert o[0] == 0 and o[2] < 0.3 and o[5:7].min() > 0.9 and 0.3 < o[9] < 0.5
    assert o[11] == 0  # after the last phone
    assert not viseme_openness(None, fps=25.0, num_frames=5).any()


# ------------------------------------------------------------------ TTS


def test_tts_speaks_a_sentence():
    text = "The quick brown fox jumps over the lazy dog near the river bank."  # 13 words
    y, sr = synthesize(text, rate_wpm=150)
    assert sr == 22050 and y.dtype == np.float32 and y.ndim == 1
    seconds = len(y) / sr
    assert 3.0 < seconds < 9.0  # 13 words at 150 wpm ≈ 5 s plus pauses
    assert np.sqrt(np.mean(y ** 2)) > 0.02 and np.abs(y).max() <= 1.0
    fast, _ = synthesize(text, rate_wpm=300)
    assert len(fast) < 0.7 * len(y)
    phones = recognize_phones(y, sr=sr)
    assert phones and any(p == "AA" or p == "AH" for p, _, _ in phones)


def test_tts_bad_input():
    with pytest.raises(InputError, match="empty"):
        synthesize("   ")
    with pytest.raises(OptionError, match="voice"):
        synthesize("hello", voice="xx-nonexistent")
    with pytest.raises(OptionError, match="rate_wpm"):
        synthesize("hello", rate_wpm=5)


def test_viseme_channels_share_each_frame_between_the_classes_spoken():
    """One column per viseme class, the share of each frame spoken in it (smoothed), and the
    mouth opening last; silence and unknown phones are all zeros."""
    phones = [("SIL", 0.0, 0.5), ("M", 0.5, 0.8), ("AA", 0.8, 1.2), ("XX", 1.2, 1.4)]
    c = viseme_channels(phones, fps=10.0, num_frames=16)
    assert c.shape == (16, NUM_PHONE_CHANNELS) == (16, len(VISEMES) + 1)
    closed, open_vowel = list(VISEMES).index("closed"), list(VISEMES).index("open_vowel")
    assert c[6, closed] == 1.0 and c[6, :-1].sum() == 1.0         # inside the M
    assert c[9:11, open_vowel].min() == 1.0 and c[10, -1] == OPENNESS["AA"]
    assert not c[:4].any() and not c[14:].any()                      # silence, unknown phone
    assert c[8, closed] > 0 and c[8, open_vowel] > 0                  # coarticulation
    assert np.array_equal(c[:, -1], viseme_openness(phones, fps=10.0, num_frames=16))
    assert not viseme_channels(None, fps=25.0, num_frames=5).any()

