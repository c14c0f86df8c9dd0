"""Decode a source's audio at 16 kHz, aligned to its video (frames: :mod:`gesticulate.video`).

Frames are streamed one at a time by :func:`gesticulate.video.iter_frames` (issue 3, item 5:
never hold a whole video). Audio is aligned to the video's clock: sample 0 is the time of the
first video frame (the streams of an mp4 may start at different times), padded with silence or
trimmed to match.
"""

from __future__ import annotations


import numpy as np

from gesticulate.audio.io import AUDIO_SR
from gesticulate.errors import InputError, input_file


class NoAudioError(InputError):
    """The video has no audio stream and no sidecar audio file."""


def _open(path: str):
    import av

    input_file(path, "video", empty="give a complete file")
    try:
        return av.open(str(path))
    except Exception as e:  # PyAV raises many error types for unreadable files
        raise InputError(f"cannot open {path} ({type(e).__name__}: {e}); "
                         "re-encode or re-download it") from None


def _start(stream) -> float:
    return float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0


def _decode_audio(path: str, *, sr: int) -> tuple[np.ndarray, float, float] | None:
    """Mono float32 at ``sr``, the audio's start time and the video's start time (s).

    None when the file has no audio stream.
    """
    import av

    with _open(path) as c:
        if not c.streams.audio:
            return None
        a = c.streams.audio[0]
        v_start = _start(c.streams.video[0]) if c.streams.video else _start(a)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sr)
        chunks = []
        try:
            for frame in c.decode(a):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as e:
            raise InputError(f"{path}: audio is corrupt or truncated ({e}); "
                             "re-encode or re-download it") from None
        y = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
        return y, _start(a), v_start


def load_source_audio(path: str, *, sidecar: str | None = None, duration_s: float | None = None,
                      sr: int = AUDIO_SR) -> np.ndarray:
    """The soundtrack of a video as mono float32 ``(N,)`` at ``sr``; sample 0 = first video frame.

    Uses the video's own audio stream, else ``sidecar`` (an audio file with the same stem,
    taken to start with the video). With ``duration_s`` the result is padded with silence or
    trimmed to ``round(duration_s * sr)`` samples.

    Raises
    ------
    NoAudioError
        When there is neither an audio stream nor a sidecar file.
    InputError
        When the audio cannot be decoded.
    """
    got = _decode_audio(path, sr=sr)
    if got is None and sidecar is not None:
        got = _decode_audio(sidecar, sr=sr)
        if got is not None:
            got = (got[0], 0.0, 0.0)
    if got is None:
        raise NoAudioError(f"{path} has no audio stream and no audio file with the same name "
                           "next to it; add the soundtrack (e.g. VIDEO.wav) or drop the video")
    y, a_start, v_start = got
    lead = int(round((a_start - v_start) * sr))
    if lead > 0:
        y = np.concatenate([np.zeros(lead, np.float32), y])
    elif lead < 0:
        y = y[-lead:]
    if duration_s is not None:
        n = int(round(duration_s * sr))
        y = y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))
    return y
