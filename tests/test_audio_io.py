"""load_audio / audio_duration: every format, any rate and channel count, every bad input."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from gesticulate.audio import io as audio_io
from gesticulate.audio.io import audio_duration, check_audio, load_audio
from gesticulate.errors import InputError, OptionError


def tone(seconds: float, sr: int, hz: float = 440.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def write_av(path: Path, y: np.ndarray, sr: int, codec: str, *, video: bool = False,
             audio: bool = True) -> Path:
    """Encode mono ``y`` with PyAV (and a few tiny black frames if ``video``)."""
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=10) if video else None
        if vs is not None:
            vs.width = vs.height = 64
            vs.pix_fmt = "yuv420p"
        if audio:
            stream = out.add_stream(codec, rate=sr)
            stream.layout = "mono"
            for start in range(0, len(y), 4096):  # PyAV converts to the codec's format
                chunk = np.ascontiguousarray(y[None, start:start + 4096])
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                frame.sample_rate, frame.pts = sr, start
                frame.time_base = Fraction(1, sr)
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        if vs is not None:
            for i in range(10):
                img = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
                img.pts = i
                out.mux(vs.encode(img))
            out.mux(vs.encode(None))
    return path


def peak_hz(y: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1 / sr)[np.argmax(spec)])


@pytest.mark.parametrize("fmt,src_sr", [("WAV", 44100), ("FLAC", 22050), ("OGG", 48000)])
def test_soundfile_formats_round_trip(tmp_path, fmt, src_sr):
    path = tmp_path / f"speech.{fmt.lower()}"
    sf.write(path, tone(1.5, src_sr), src_sr, format=fmt)
    y = load_audio(path, sr=16000)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) / 16000 - 1.5) < 0.02
    assert abs(peak_hz(y, 16000) - 440) < 3
    assert 0.3 < np.sqrt(np.mean(y ** 2)) < 0.4  # 0.5 / sqrt(2), resampled
    assert abs(audio_duration(path) - 1.5) < 0.02



def test_a_truncated_mp3_gives_what_it_holds_not_what_its_header_counts(tmp_path):
    """libsndfile reads the length of an mp3 from its header, which a cut-off file keeps:
    SoundFile.blocks then padded the missing part with whatever its buffer held (uninitialised
    memory: noise, a repeat, or NaN and infinities that got the file refused at random). Only
    the decoded audio comes back: the start of the whole file, the same on every load."""
    whole = tmp_path / "whole.mp3"
    sf.write(whole, tone(2.0, 16000), 16000, format="MP3")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert sf.info(str(cut)).frames == 32000                       # the header counts 2 s
    full = load_audio(whole, sr=16000)
    loads = [load_audio(cut, sr=16000) for _ in range(3)]
    y = loads[0]
    assert 0.6 < len(y) / 16000 < 1.2 and np.isfinite(y).all()
    np.testing.assert_array_equal(y, full[: len(y)])
    for other in loads[1:]:
        np.testing.assert_array_equal(other, y)

@pytest.mark.parametrize("suffix,codec,video,src_sr", [
    (".mp3", "libmp3lame", False, 44100),
    (".mp4", "aac", True, 48000),
    (".mkv", "libopus", True, 48000),
    (".avi", "libmp3lame", True, 44100),
])
def test_pyav_formats_and_video_audio_track(tmp_path, suffix, codec, video, src_sr):
    path = write_av(tmp_path / f"clip{suffix}", tone(1.5, src_sr), src_sr, codec, video=video)
    y = load_audio(path, sr=16000)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) / 16000 - 1.5) < 0.1  # encoder priming/padding adds a few ms
    assert abs(peak_hz(y, 16000) - 440) < 3
    assert np.abs(y).max() <= 1.0
    assert abs(audio_duration(path) - 1.5) < 0.1


def test_decoder_is_chosen_by_content_not_name(tmp_path):
    path = tmp_path / "actually_flac.mp3"
    sf.write(path, tone(1.0, 16000), 16000, format="FLAC")
    assert abs(len(load_audio(path)) - 16000) < 10


def test_eight_channel_48k_becomes_mono_16k(tmp_path):
    sr = 48000
    amps = np.linspace(0.1, 0.8, 8)
    y8 = np.stack([a * tone(1.0, sr, hz=300, amp=1.0) for a in amps], axis=1)
    path = tmp_path / "eight.wav"
    sf.write(path, y8, sr)
    y = load_audio(path, sr=16000)
    assert y.shape == (16000,)
    # In-phase channels average to the mean amplitude.
    assert np.abs(y[1000:-1000]).max() == pytest.approx(amps.mean(), rel=0.02)


def test_ten_minute_audio_loads(tmp_path):
    sr = 8000
    rng = np.random.default_rng(0)
    y = (0.1 * rng.standard_normal(600 * sr)).astype(np.float32)
    path = tmp_path / "long.wav"
    sf.write(path, y, sr, subtype="PCM_16")
    out = load_audio(path, sr=16000)
    assert abs(len(out) / 16000 - 600) < 0.01
    assert out.dtype == np.float32


def test_float_file_above_full_scale_is_scaled_not_clipped(tmp_path):
    path = tmp_path / "hot.wav"
    sf.write(path, tone(1.0, 16000, amp=2.0), 16000, subtype="FLOAT")
    y = load_audio(path)
    assert np.abs(y).max() == pytest.approx(1.0, abs=1e-3)
    assert abs(peak_hz(y, 16000) - 440) < 3


# ------------------------------------------------------------------ bad input


def refused(path, *words):
    with pytest.raises(InputError) as err:
        load_audio(path)
    for w in words:
        assert w in str(err.value), str(err.value)
    return str(err.value)


def test_a_sample_rate_that_is_not_positive_is_an_option_error(tmp_path):
    sf.write(tmp_path / "a.wav", np.zeros(16000, np.float32), 16000)
    with pytest.raises(OptionError, match="sr=0: give a positive sample rate"):
        load_audio(tmp_path / "a.wav", sr=0)


def test_missing_file(tmp_path):
    refused(tmp_path / "nope.wav", "not found")
    with pytest.raises(InputError, match="not found"):
        audio_duration(tmp_path / "nope.wav")


def test_text_file_named_wav(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio\n" * 20)
    refused(path, "not a recognised audio", "give a wav")
    with pytest.raises(InputError, match="not a recognised audio"):
        audio_duration(path)


def test_video_without_audio_track(tmp_path):
    path = write_av(tmp_path / "silent_film.mp4", np.zeros(0, np.float32), 16000, "aac",
                    video=True, audio=False)
    refused(path, "no audio track")


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    refused(path, "empty")


def test_wav_with_no_samples(tmp_path):
    path = tmp_path / "no_samples.wav"
    sf.write(path, np.zeros(0, np.float32), 16000)
    refused(path, "empty")


def test_too_short(tmp_path):
    path = tmp_path / "blip.wav"
    sf.write(path, tone(0.1, 16000), 16000)
    refused(path, "audio is 0.10 s long", "give at least 0.5 s of speech")


@pytest.mark.parametrize("amp", [0.0, 1e-4])
def test_silent_and_near_silent(tmp_path, amp):
    rng = np.random.default_rng(1)
    path = tmp_path / "quiet.wav"
    sf.write(path, (amp * rng.standard_normal(32000)).astype(np.float32), 16000,
             subtype="FLOAT")
    refused(path, "audio is silent", "check the recording/microphone")


def test_quiet_speech_level_is_accepted(tmp_path):
    path = tmp_path / "quiet_tone.wav"
    sf.write(path, tone(1.0, 16000, amp=0.005), 16000)  # -49 dBFS: quiet, not silent
    assert len(load_audio(path)) == 16000


def test_a_dc_offset_is_no_sound(tmp_path):
    """A microphone's offset is taken off: no click where the file starts, the tone as it
    was, and an offset over a noise floor only is silence."""
    path = tmp_path / "offset.wav"
    sf.write(path, tone(2.0, 16000, hz=220.0, amp=0.3) + 0.2, 16000, subtype="FLOAT")
    y = load_audio(path)
    assert abs(float(y.mean())) < 1e-3
    assert float(np.abs(y[:160]).max()) < 0.35       # no step at the start (0.5 with one)
    np.testing.assert_allclose(np.sqrt(np.mean(y[4000:] ** 2)), 0.3 / np.sqrt(2), rtol=0.01)
    floor = 0.2 + 1e-4 * np.random.default_rng(2).standard_normal(32000)
    sf.write(tmp_path / "floor.wav", floor.astype(np.float32), 16000, subtype="FLOAT")
    refused(tmp_path / "floor.wav", "audio is silent")
    with pytest.raises(InputError, match="silent"):
        check_audio(floor.astype(np.float32), sr=16000)


@pytest.mark.parametrize("suffix", [".wav", ".m4a"])
def test_stereo_whose_channels_cancel_is_read_from_one_channel(tmp_path, suffix, caplog):
    """One channel the other inverted: heard as speech, its mono mix is silence (it was
    refused as silent). The first channel is read instead, with a warning."""
    import logging
    y = tone(1.0, 16000, amp=0.3)
    both = np.stack([y, -y], axis=1)
    path = tmp_path / f"inverted{suffix}"
    if suffix == ".wav":
        sf.write(path, both, 16000, subtype="FLOAT")
    else:
        with av.open(str(path), "w") as out:
            stream = out.add_stream("aac", rate=16000)
            stream.layout = "stereo"
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(both.T), format="fltp",
                                               layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = 16000, 0, Fraction(1, 16000)
            out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
    with caplog.at_level(logging.WARNING, logger="gesticulate"):
        got = load_audio(path)
    assert "cancel out" in caplog.text
    assert np.sqrt(np.mean(got[2000:14000] ** 2)) > 0.15


def test_longer_than_an_hour_refused_before_decoding(tmp_path):
    sr = 100  # a cheap header that says 3601 s
    path = tmp_path / "marathon.wav"
    sf.write(path, tone(3601, sr, hz=10), sr, subtype="PCM_16")
    refused(path, "60.0 min long", "limit is 60 min", "Split it")


def test_length_limit_also_counts_decoded_samples(tmp_path, monkeypatch):
    """Streams whose header hides the length are stopped while decoding."""
    path = write_av(tmp_path / "long.mp3", tone(3.0, 16000), 16000, "libmp3lame")
    monkeypatch.setattr(audio_io, "MAX_DURATION_S", 1.0)
    monkeypatch.setattr(audio_io, "_check_duration", _check_only_counted(audio_io))
    refused(path, "limit is")


def _check_only_counted(module):
    original = module._check_duration
    calls = []

    def check(seconds, path):
        calls.append(seconds)
        if len(calls) == 1:  # the header check: pretend the header had no duration
            return None
        return original(seconds, path)
    return check


def test_check_audio_on_samples():
    check_audio(tone(1.0, 22050), sr=22050)
    with pytest.raises(InputError, match="tts: audio is 0.20 s long"):
        check_audio(tone(0.2, 22050), sr=22050, name="tts")
    with pytest.raises(InputError, match="silent"):
        check_audio(np.zeros(16000, np.float32), sr=16000)
    with pytest.raises(InputError, match="empty"):
        check_audio(np.zeros(0, np.float32), sr=16000)
