"""Read speech from any audio file or the audio track of a video: mono float32 at ``sr``.

Decoders are tried in turn, never chosen by the file name: soundfile (libsndfile: wav, flac,
ogg, mp3 and more) first, then PyAV (FFmpeg: mp3, aac/m4a, and the audio track of mp4, avi,
mkv, webm ...). Both are read block by block and resampled on the fly with a streaming soxr
resampler, so memory stays proportional to the *output* (16 kHz mono float32: 3.84 MB per
minute), whatever the input rate or channel count.

Limits (each refusal is an :class:`~gesticulate.errors.InputError` that says what to do):

- ``MIN_DURATION_S`` = 0.5 s: shorter audio cannot carry a gesture or a sentence.
- ``MAX_DURATION_S`` = 3600 s (one hour): longer input is refused before it is decoded, so a
  mislabelled multi-hour recording cannot fill the memory; split it and render the parts.
- ``SILENCE_RMS`` = 0.001 (-60 dBFS): if no 50 ms window is louder than this, the file is
  digital silence or a microphone noise floor, not speech.
- ``MAX_NONFINITE`` = 1 %: a few NaN or infinite samples are zeroed; more means a corrupt
  file (or a broken array from the API) and is refused as such, not reported as silence.

The audio's DC offset (and rumble below ``DC_CUTOFF_HZ``) is removed before the checks
(:func:`remove_dc`): a cheap microphone's offset is no sound, and kept, it counted as loudness.
Speech at half scale over an offset of 0.15 read as 0.55 of its loudest in its pauses (0.02
without), so the mouth stood open in pauses (0.013 of the mouth's width against 0.002) and the
voice read as flat, and an offset with only a noise floor under it passed the silence check.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from gesticulate.errors import InputError, OptionError, input_file

log = logging.getLogger(__name__)

AUDIO_SR = 16000        # Hz: the rate the package works at (features, VAD, phones, video audio)
MIN_DURATION_S = 0.5
MAX_DURATION_S = 3600.0
SILENCE_RMS = 1e-3
MAX_NONFINITE = 0.01    # share of NaN/inf samples zeroed silently; more is refused
_SILENCE_WINDOW_S = 0.05
DC_CUTOFF_HZ = 20.0     # high-pass corner of remove_dc: below speech's lowest (~70 Hz) voices
_DC_BLOCK = 1 << 20     # samples filtered at a time (bounded float64 work memory)
_BLOCK = 65536  # samples per decoded block (soundfile)
_FORMATS_HINT = ("give a wav, flac, ogg or mp3 file, or a video (mp4, avi, mkv, webm) "
                 "with an audio track")


def load_audio(path: str | os.PathLike, *, sr: int = AUDIO_SR) -> np.ndarray:
    """Read an audio file or a video's audio track as mono float32 in -1..1 at ``sr`` Hz.

    Parameters
    ----------
    path : str or PathLike
        Audio file (wav, flac, ogg, mp3, m4a ...) or video file with an audio track.
    sr : int
        Output sample rate in Hz.

    Returns
    -------
    np.ndarray, shape (N,), float32
        Channels averaged to mono, resampled to ``sr``; scaled down if a float file peaks
        above 1. ``N / sr`` is the duration in seconds.

    Raises
    ------
    InputError
        Missing file, a URL, not audio, a video with no audio track, empty audio, audio
        shorter than ``MIN_DURATION_S`` or longer than ``MAX_DURATION_S``, more than
        ``MAX_NONFINITE`` NaN/infinite samples, or silent audio.
    """
    path = _check_path(path)
    if sr <= 0:
        raise OptionError(f"sr={sr}: give a positive sample rate in Hz (16000 is the package's)")
    y = _decoded(path, sr=sr)
    if len(y) and _max_window_rms(y, sr=sr) < SILENCE_RMS:
        # Stereo whose channels cancel out in the mix (one wired or recorded inverted): heard
        # as speech, mixed it is silence. The first channel alone is the speech.
        first = _decoded(path, sr=sr, channel=0)
        if _max_window_rms(first, sr=sr) >= SILENCE_RMS:
            log.warning("%s: its channels cancel out when mixed to mono (one is the other "
                        "inverted); using the first channel", path)
            y = first
    _check_content(y, sr=sr, path=path)
    return y


def _decoded(path: Path, *, sr: int, channel: int | None = None) -> np.ndarray:
    """``path`` decoded, mono (the channels' mean, or only ``channel``) at ``sr``, less its
    DC offset (:func:`remove_dc`), peaking at most at 1."""
    blocks, src_sr = _open_blocks(path, channel=channel)
    return _within_unit(remove_dc(_resample_blocks(blocks, src_sr=src_sr, sr=sr, path=path),
                                  sr=sr))


def remove_dc(y: np.ndarray, *, sr: int) -> np.ndarray:
    """``y`` (mono) less its DC offset and rumble: a 2nd-order Butterworth high-pass at
    :data:`DC_CUTOFF_HZ`, float32. The filter starts settled on the mean of the first
    ``1 / DC_CUTOFF_HZ`` s, so an offset makes no click at the start (a step there would read
    as the file's loudest onset)."""
    from scipy.signal import butter, sosfilt, sosfilt_zi

    y = np.asarray(y, dtype=np.float32)
    if len(y) == 0 or sr <= 2 * DC_CUTOFF_HZ:
        return y
    sos = butter(2, DC_CUTOFF_HZ, btype="highpass", fs=sr, output="sos")
    zi = sosfilt_zi(sos) * float(y[:max(1, int(sr / DC_CUTOFF_HZ))].mean(dtype=np.float64))
    out = np.empty_like(y)
    for a in range(0, len(y), _DC_BLOCK):
        out[a:a + _DC_BLOCK], zi = sosfilt(sos, y[a:a + _DC_BLOCK].astype(np.float64), zi=zi)
    return out


def audio_duration(path: str | os.PathLike) -> float:
    """Duration of an audio file or of a video's audio track in seconds.

    Read from the header for files libsndfile reads (wav, flac, ogg: exact frame counts);
    other files are decoded and their samples counted (streamed, bounded memory), because
    container headers can be wrong (e.g. VBR mp3 in avi by 15 %). Raises
    :class:`InputError` for a missing file, a file that is not audio, or a video with no
    audio track.
    """
    path = _check_path(path)
    try:
        import soundfile as sf
        info = sf.info(str(path))
        if info.frames > 0 and info.samplerate > 0:
            return info.frames / info.samplerate
    except Exception:  # noqa: BLE001 - not readable by libsndfile: count with FFmpeg below
        pass
    container, stream = _open_av(path)
    return sum(len(b) for b in _av_blocks(container, stream)) / int(stream.rate)


def check_audio(y: np.ndarray, *, sr: int, name: str = "audio") -> None:
    """Apply :func:`load_audio`'s content checks to samples from elsewhere (TTS, an API call).

    Raises :class:`InputError` when ``y`` (mono, at ``sr`` Hz) is empty, shorter than
    ``MIN_DURATION_S``, longer than ``MAX_DURATION_S``, more than ``MAX_NONFINITE`` not
    numbers, or silent; ``name`` starts the message.
    """
    y = np.asarray(y)
    _check_duration(len(y) / sr, Path(name))
    y, n_bad = _zero_nonfinite(y)
    _check_finite(n_bad, y.size, Path(name))
    _check_content(remove_dc(y, sr=sr) if y.ndim == 1 else y, sr=sr, path=Path(name))


def _check_path(path: str | os.PathLike) -> Path:
    return input_file(path, "audio file", empty="give a recording with speech in it")


def _check_duration(seconds: float, path: Path) -> None:
    if seconds > MAX_DURATION_S:
        raise InputError(
            f"{path}: audio is {seconds / 60:.1f} min long; the limit is "
            f"{MAX_DURATION_S / 60:.0f} min. Split it into shorter parts and render each")


def _open_blocks(path: Path, *, channel: int | None = None
                 ) -> tuple[Iterator[np.ndarray], int]:
    """Pick a decoder that can read ``path``: (iterator of mono float32 blocks: the channels'
    mean, or only ``channel``; sample rate)."""
    try:
        import soundfile as sf
        f = sf.SoundFile(str(path))
    except Exception as err:  # noqa: BLE001 - libsndfile cannot read it; FFmpeg may
        log.debug("soundfile cannot read %s (%s); trying PyAV", path, err)
    else:
        if f.frames > 0 and f.samplerate > 0:
            _check_duration(f.frames / f.samplerate, path)
        return _sf_blocks(f, channel), int(f.samplerate)
    container, stream = _open_av(path)
    if stream.duration is not None and stream.time_base is not None:
        _check_duration(float(stream.duration * stream.time_base), path)
    return _av_blocks(container, stream, channel), int(stream.rate)


def _sf_blocks(f, channel: int | None = None) -> Iterator[np.ndarray]:
    """Mono blocks of what libsndfile decodes, until it decodes nothing more. Not
    ``SoundFile.blocks``: it yields as many frames as the header promises, and where the
    stream ends early (a truncated mp3 whose header still counts the whole) the rest of each
    block is whatever its buffer held: uninitialised memory, at times NaN and infinities."""
    import soundfile as sf
    with f:
        try:
            while len(block := f.read(_BLOCK, dtype="float32", always_2d=True)):
                yield _mono(block.T, channel)
        except (sf.LibsndfileError, RuntimeError) as err:  # truncated or corrupt stream
            raise InputError(f"{f.name}: the audio is corrupt or truncated and could not be "
                             f"decoded ({err}); re-export it or convert it to wav") from None


def _mono(planes: np.ndarray, channel: int | None) -> np.ndarray:
    """One mono float32 block from ``planes`` ``(channels, n)``: their mean, or ``channel``'s."""
    if channel is not None:
        return planes[min(channel, len(planes) - 1)].astype(np.float32)
    return planes.mean(axis=0, dtype=np.float32)


def _open_av(path: Path):
    import av
    try:
        container = av.open(str(path))
    except Exception as err:  # noqa: BLE001 - FFmpeg raises many kinds; all mean "not media"
        raise InputError(f"cannot read {path} as audio: it is not a recognised audio or "
                         f"video file ({err}); {_FORMATS_HINT}") from err
    if not container.streams.audio:
        fmt = container.format.name or ""
        container.close()
        if "pipe" in fmt or fmt in ("image2", "gif", "webp"):  # FFmpeg's image demuxers
            raise InputError(f"{path} is an image, not audio; {_FORMATS_HINT}")
        kind = "video" if container.streams.video else "file"
        raise InputError(f"{path}: this {kind} has no audio track; give the speech as a "
                         "separate audio file, or a video that has sound")
    return container, container.streams.audio[0]


def _av_blocks(container, stream, channel: int | None = None) -> Iterator[np.ndarray]:
    import av
    # Convert any sample format to planar float at the source rate; we average the channels
    # ourselves (FFmpeg's downmix matrix weights centre/LFE and differs per layout).
    resampler = av.AudioResampler(format="fltp")
    try:
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                yield _mono(out.to_ndarray(), channel)
        for out in resampler.resample(None):
            yield _mono(out.to_ndarray(), channel)
    except av.error.FFmpegError as err:
        raise InputError(f"{container.name}: the audio is corrupt and could not be decoded "
                         f"({err}); re-export it or convert it to wav") from err
    finally:
        container.close()


def _resample_blocks(blocks: Iterator[np.ndarray], *, src_sr: int, sr: int,
                     path: Path) -> np.ndarray:
    """Stream blocks through soxr into one array, refusing input past ``MAX_DURATION_S``."""
    import soxr
    stream = None if src_sr == sr else soxr.ResampleStream(src_sr, sr, 1, dtype="float32")
    out, n_in, n_bad = [], 0, 0
    limit = int((MAX_DURATION_S + 1.0) * src_sr)  # headers can lie; count what is decoded
    for block in blocks:
        n_in += len(block)
        if n_in > limit:
            _check_duration(n_in / src_sr, path)
        block, bad = _zero_nonfinite(block)
        n_bad += bad
        out.append(block if stream is None else stream.resample_chunk(block))
    _check_finite(n_bad, n_in, path)
    if stream is not None:
        out.append(stream.resample_chunk(np.zeros(0, np.float32), last=True))
    y = np.concatenate(out) if out else np.zeros(0, np.float32)
    return y.astype(np.float32, copy=False)


def _within_unit(y: np.ndarray) -> np.ndarray:
    """``y`` scaled down to peak at 1 where it peaks above (float files, the resampler's and
    the high-pass's overshoot): scaled, not clipped."""
    peak = float(np.abs(y).max()) if len(y) else 0.0
    return y / peak if peak > 1.0 else y


def _zero_nonfinite(y: np.ndarray) -> tuple[np.ndarray, int]:
    """``y`` with NaN/inf samples set to 0, and how many there were."""
    bad = ~np.isfinite(y)
    n_bad = int(bad.sum())
    return (np.where(bad, 0.0, y).astype(y.dtype, copy=False) if n_bad else y), n_bad


def _check_finite(n_bad: int, n: int, path: Path) -> None:
    """A few stray NaN/inf samples are zeroed by the caller; more is corruption."""
    if n_bad > MAX_NONFINITE * max(n, 1):
        raise InputError(f"{path}: {100 * n_bad / n:.0f} % of the audio samples are not "
                         "numbers (NaN or infinite): the file is corrupt; export the recording "
                         "again (e.g. as 16-bit WAV)")


def _check_content(y: np.ndarray, *, sr: int, path: Path) -> None:
    seconds = len(y) / sr
    if len(y) == 0:
        raise InputError(f"{path}: the audio is empty (no samples); give a recording with "
                         "speech in it")
    if seconds < MIN_DURATION_S:
        raise InputError(f"{path}: audio is {seconds:.2f} s long; give at least "
                         f"{MIN_DURATION_S:.1f} s of speech")
    if _max_window_rms(y, sr=sr) < SILENCE_RMS:
        raise InputError(f"{path}: audio is silent (no 50 ms window above -60 dBFS); check "
                         "the recording/microphone, or give a file with audible speech")


def _max_window_rms(y: np.ndarray, *, sr: int) -> float:
    win = max(1, int(sr * _SILENCE_WINDOW_S))
    n = len(y) // win * win
    if n == 0:
        return float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    power = np.square(y[:n].reshape(-1, win), dtype=np.float64).mean(axis=1)
    return float(np.sqrt(power.max()))
