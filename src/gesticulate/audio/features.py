"""Per-frame audio features at the video frame rate (DESIGN.md, "Audio features")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gesticulate.audio.io import AUDIO_SR, load_audio, remove_dc


def num_frames(duration_s: float, fps: float) -> int:
    """Number of video frames for ``duration_s`` seconds at ``fps``: round(duration·fps), at least 1.

    Every module uses this one rule, so motion, features and video all have the same length and
    the mp4 lasts as long as the audio within half a frame.
    """
    return max(1, int(round(duration_s * fps)))


@dataclass
class AudioFeatures:
    """Features of one audio track, one row per video frame.

    Frame ``t`` covers the time ``[t / fps, (t + 1) / fps)`` seconds; every array has ``T``
    rows with ``T = num_frames(duration_s, fps)``.

    Attributes
    ----------
    fps : float
        Video frame rate the features are aligned to.
    sr : int
        Sample rate of the audio they were computed from (Hz).
    duration_s : float
        Length of the audio in seconds.
    log_mel : np.ndarray, shape (T, n_mels), float32
        Log-mel spectrogram (dB), averaged over each frame.
    onset : np.ndarray, shape (T,), float32
        Onset strength (librosa), normalised to 0..1 over the track.
    rms : np.ndarray, shape (T,), float32
        RMS energy normalised to 0..1 over the track (1 = loudest frame).
    pitch_hz : np.ndarray, shape (T,), float32
        Fundamental frequency in Hz; 0 where unvoiced.
    vad : np.ndarray, shape (T,), float32
        Speech probability 0..1 (silero-vad), per frame.
    onset_frames : np.ndarray, shape (K,), int64
        Frames of detected onsets (``librosa.onset.onset_detect``), the audio beats of BA.
    """

    fps: float
    sr: int
    duration_s: float
    log_mel: np.ndarray
    onset: np.ndarray
    rms: np.ndarray
    pitch_hz: np.ndarray
    vad: np.ndarray
    onset_frames: np.ndarray

    @property
    def num_frames(self) -> int:
        return self.rms.shape[0]

    def stack(self) -> np.ndarray:
        """All per-frame features side by side, ``(T, n_mels + 4)`` float32, for learned models."""
        pitch = np.log1p(self.pitch_hz)[:, None] / np.log1p(500.0)
        return np.concatenate(
            [self.log_mel / 80.0 + 1.0, self.onset[:, None], self.rms[:, None], pitch,
             self.vad[:, None]], axis=1).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Computing the features. Fine-rate analyses (10 ms hop for the mel spectrogram and onsets,
# 20 ms for pitch) are computed chunk by chunk with enough context that the result equals a
# whole-track computation, then pooled into video frames. Memory is bounded by the chunk size
# plus the fine-rate arrays (≈ 0.3 MB per second of audio), so 10-minute audio is fine.
# ---------------------------------------------------------------------------------------------

FMIN_HZ = 65.0   # lowest pitch searched (deep male voice)
FMAX_HZ = 500.0  # highest pitch searched (child / raised female voice)
_CHUNK_SAMPLES = 480_000  # samples analysed at once (30 s at 16 kHz); result independent of it
_TOP_DB = 80.0


def compute_features(y: np.ndarray, *, sr: int, fps: float = 25.0, n_mels: int = 80,
                     progress: bool = False) -> AudioFeatures:
    """Per-frame audio features of a mono track, aligned to video frames.

    Parameters
    ----------
    y : np.ndarray, shape (N,), float32
        Mono audio in -1..1 (as :func:`gesticulate.audio.io.load_audio` returns it).
    sr : int
        Sample rate of ``y`` in Hz.
    fps : float
        Video frame rate; ``T = num_frames(N / sr, fps)`` rows, frame ``t`` covering
        ``[t / fps, (t + 1) / fps)`` s.
    n_mels : int
        Mel bands of ``log_mel``.
    progress : bool
        Show a tqdm bar on stderr.

    Returns
    -------
    AudioFeatures
        ``log_mel`` is dB relative to the loudest band/frame, floored at -80 dB; ``rms`` is
        the exact RMS of each frame's samples over the loudest frame's; ``onset`` is the
        frame's peak spectral flux over the track's 99th percentile, clipped to 1; ``pitch_hz``
        comes from YIN (``librosa.yin``, 20 ms hop) with a voicing rule — voiced where the
        zero-crossing rate is low, the level is within 40 dB of the loudest, and silero-vad
        says speech — averaged over the frame's voiced part, 0 elsewhere.
    """
    from tqdm.auto import tqdm

    from gesticulate.audio.vad import frame_speech_probability
    from gesticulate.errors import InputError, OptionError

    if not fps > 0:
        raise OptionError(f"fps must be positive, got {fps}; use e.g. --fps 25")
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or len(y) == 0:
        raise InputError(f"audio must be a non-empty mono array, got shape {y.shape}")
    y = remove_dc(y, sr=sr)       # an offset is no loudness (load_audio's does it too)
    duration = len(y) / sr
    T = num_frames(duration, fps)
    bar = tqdm(total=3, desc="audio features", disable=not progress, unit="pass")
    hop = int(round(sr * 0.01))
    mel_power = _mel_power(y, sr=sr, hop=hop, n_mels=n_mels)          # (F, n_mels)
    fine_t = np.arange(len(mel_power)) * hop / sr                     # frame centres, s
    log_mel = _power_to_db(_pool_mean(mel_power, fine_t, fps=fps, T=T))
    onset, onset_frames = _onsets(mel_power, sr=sr, hop=hop, fps=fps, T=T)
    del mel_power
    bar.update()
    vad = frame_speech_probability(y, sr=sr, fps=fps, num_frames=T)
    bar.update()
    pitch = _frame_pitch(y, sr=sr, fps=fps, T=T, vad=vad)
    bar.update()
    bar.close()
    rms = _frame_rms(y, sr=sr, fps=fps, T=T)
    return AudioFeatures(fps=float(fps), sr=int(sr), duration_s=duration,
                         log_mel=log_mel.astype(np.float32), onset=onset.astype(np.float32),
                         rms=_normalise(rms, q=100.0).astype(np.float32),
                         pitch_hz=pitch.astype(np.float32), vad=vad.astype(np.float32),
                         onset_frames=onset_frames.astype(np.int64))


def onset_strength(y: np.ndarray, *, sr: int, fps: float) -> np.ndarray:
    """The ``onset`` row of :func:`compute_features` alone, ``(T,)`` float32: each frame's
    peak spectral flux over the track's 99th percentile, clipped to 1."""
    y = np.asarray(y, dtype=np.float32)
    hop = int(round(sr * 0.01))
    T = num_frames(len(y) / sr, fps)
    mel_power = _mel_power(y, sr=sr, hop=hop, n_mels=80)
    return _onsets(mel_power, sr=sr, hop=hop, fps=fps, T=T)[0].astype(np.float32)


def _onsets(mel_power: np.ndarray, *, sr: int, hop: int, fps: float,
            T: int) -> tuple[np.ndarray, np.ndarray]:
    """Onset strength per frame ``(T,)`` and onset frames ``(K,)`` from the fine mel power."""
    flux = _spectral_flux(_power_to_db(mel_power))                    # (F,)
    fine_t = np.arange(len(mel_power)) * hop / sr                     # frame centres, s
    # The first windows reach into the zero padding before the track; their rise is the
    # file starting, not an onset (it would otherwise be the loudest onset of most files).
    flux[:_n_fft(sr, 0.032) // (2 * hop) + 1] = 0.0
    # A rise shows in the flux as soon as it enters a centred window, half a window early;
    # shift by n_fft // 2 as librosa.onset.onset_strength(center=True) does.
    lag = (_n_fft(sr, 0.032) // (2 * hop)) * hop / sr
    onset = _normalise(_pool_max(flux, fine_t + lag, fps=fps, T=T), q=99.0)
    return onset, _onset_frames(flux, sr=sr, hop=hop, fps=fps, T=T, lag_s=lag)


def load_features(path, *, fps: float = 25.0, sr: int = AUDIO_SR, n_mels: int = 80,
                  progress: bool = False) -> AudioFeatures:
    """Read ``path`` with :func:`~gesticulate.audio.io.load_audio` and compute its features."""
    return compute_features(load_audio(path, sr=sr), sr=sr, fps=fps, n_mels=n_mels,
                            progress=progress)


def _chunked_frames(y: np.ndarray, *, hop: int, context: int, fn) -> np.ndarray:
    """Apply ``fn`` (centred framing at ``hop``, frames on the last axis) chunk by chunk.

    Each chunk gets ``context`` samples of real audio on both sides, so its kept frames are
    exactly those of one call on the whole track: ``1 + N // hop`` frames in all.
    """
    n = len(y)
    total = 1 + n // hop
    n_chunks = max(1, int(round(n / _CHUNK_SAMPLES)))  # even chunks: no tiny last one
    bounds = np.linspace(0, total, n_chunks + 1).round().astype(int)
    ctx = -(-context // hop) * hop
    parts = []
    for ja, jb in zip(bounds[:-1], bounds[1:]):
        a = ja * hop
        s0, e0 = max(0, a - ctx), min(n, jb * hop + ctx)
        k0 = (a - s0) // hop
        out = fn(y[s0:e0])
        assert out.shape[-1] >= k0 + jb - ja, (out.shape, k0, ja, jb)
        parts.append(out[..., k0:k0 + jb - ja])
    return np.concatenate(parts, axis=-1)


def _n_fft(sr: int, seconds: float) -> int:
    return int(2 ** np.ceil(np.log2(sr * seconds)))


def _mel_power(y: np.ndarray, *, sr: int, hop: int, n_mels: int) -> np.ndarray:
    """Mel power spectrogram, (F, n_mels) float32, 32 ms windows, frame j centred at j·hop."""
    import librosa
    n_fft = _n_fft(sr, 0.032)
    fb = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels).astype(np.float32)

    def mel(seg):
        S = np.abs(librosa.stft(seg, n_fft=n_fft, hop_length=hop, center=True)) ** 2
        return fb @ S
    return _chunked_frames(y, hop=hop, context=n_fft // 2, fn=mel).T.astype(np.float32)


def _power_to_db(power: np.ndarray) -> np.ndarray:
    ref = max(float(power.max()), 1e-10)
    db = 10.0 * np.log10(np.maximum(power, 1e-10) / ref)
    return np.maximum(db, -_TOP_DB).astype(np.float32)


def _spectral_flux(db: np.ndarray) -> np.ndarray:
    """Onset strength as librosa defines it (lag 1, mean over bands of the positive rise)."""
    flux = np.zeros(len(db), np.float32)
    flux[1:] = np.maximum(np.diff(db, axis=0), 0.0).mean(axis=1)
    return flux


def _onset_frames(flux: np.ndarray, *, sr: int, hop: int, fps: float, T: int,
                  lag_s: float) -> np.ndarray:
    import librosa
    peaks = librosa.onset.onset_detect(onset_envelope=flux, sr=sr, hop_length=hop,
                                       units="frames")
    frames = np.floor((peaks * hop / sr + lag_s) * fps).astype(np.int64)
    return np.unique(np.clip(frames, 0, T - 1))


def _frame_index(times: np.ndarray, *, fps: float, T: int) -> np.ndarray:
    return np.clip(np.floor(times * fps).astype(np.int64), 0, T - 1)


def _fill_empty(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Frames that got no fine sample (fps above the fine rate) take their neighbours' values."""
    empty = counts == 0
    if empty.any() and (~empty).any():
        idx = np.arange(len(values))
        cols = values.reshape(len(values), -1)
        for c in range(cols.shape[1]):
            cols[empty, c] = np.interp(idx[empty], idx[~empty], cols[~empty, c])
    return values


def _pool_mean(x: np.ndarray, times: np.ndarray, *, fps: float, T: int) -> np.ndarray:
    """Mean of fine rows ``x`` (F, ...) whose centre time falls in each frame -> (T, ...)."""
    idx = _frame_index(times, fps=fps, T=T)
    counts = np.bincount(idx, minlength=T)
    flat = x.reshape(len(x), -1).astype(np.float64)
    sums = np.zeros((T, flat.shape[1]))
    np.add.at(sums, idx, flat)
    out = sums / np.maximum(counts, 1)[:, None]
    return _fill_empty(out.reshape((T,) + x.shape[1:]), counts)


def _pool_max(x: np.ndarray, times: np.ndarray, *, fps: float, T: int) -> np.ndarray:
    idx = _frame_index(times, fps=fps, T=T)
    out = np.zeros(T, np.float64)
    np.maximum.at(out, idx, x)
    return _fill_empty(out, np.bincount(idx, minlength=T))


def _normalise(x: np.ndarray, *, q: float) -> np.ndarray:
    scale = float(np.percentile(x, q)) if len(x) else 0.0
    if scale <= 1e-12:
        scale = float(x.max()) if len(x) and x.max() > 0 else 1.0
    return np.clip(x / scale, 0.0, 1.0)


def _frame_rms(y: np.ndarray, *, sr: int, fps: float, T: int) -> np.ndarray:
    """Exact RMS of the samples in ``[t/fps, (t+1)/fps)`` (every frame has samples, fps < sr)."""
    starts = np.minimum(np.round(np.arange(T) * sr / fps).astype(np.int64), len(y) - 1)
    sums = np.add.reduceat(np.square(y, dtype=np.float32), starts).astype(np.float64)
    ends = np.append(starts[1:], len(y))
    return np.sqrt(sums / np.maximum(ends - starts, 1))


def _frame_pitch(y: np.ndarray, *, sr: int, fps: float, T: int,
                 vad: np.ndarray) -> np.ndarray:
    """YIN pitch with a voicing rule, averaged over each frame's voiced 20 ms steps."""
    import librosa
    hop = int(round(sr * 0.02))
    frame_length = _n_fft(sr, 0.064)

    def yin_zcr_rms(seg):
        f0 = librosa.yin(seg, fmin=FMIN_HZ, fmax=FMAX_HZ, sr=sr, frame_length=frame_length,
                         hop_length=hop, center=True)
        zcr = librosa.feature.zero_crossing_rate(seg, frame_length=frame_length // 2,
                                                 hop_length=hop, center=True)[0]
        rms = librosa.feature.rms(y=seg, frame_length=frame_length // 2, hop_length=hop,
                                  center=True)[0]
        return np.stack([f0, zcr, rms])
    f0, zcr, rms = _chunked_frames(y, hop=hop, context=frame_length // 2, fn=yin_zcr_rms)
    level_db = 20 * np.log10(np.maximum(rms, 1e-10) / max(float(rms.max()), 1e-10))
    times = np.arange(len(f0)) * hop / sr
    idx = _frame_index(times, fps=fps, T=T)
    voiced = _voicing(f0, zcr=zcr, level_db=level_db, vad=vad[idx])
    counts = np.bincount(idx, minlength=T)
    n_voiced = np.bincount(idx, weights=voiced, minlength=T)
    sum_f0 = np.bincount(idx, weights=np.where(voiced, f0, 0.0), minlength=T)
    pitch = np.where(n_voiced > 0, sum_f0 / np.maximum(n_voiced, 1), 0.0)
    # A frame is voiced when at least half its steps are; frames with no step (fps > 50)
    # copy their neighbours.
    pitch = np.where(n_voiced >= 0.5 * np.maximum(counts, 1), pitch, 0.0)
    return _fill_empty(pitch, counts)


def _voicing(f0: np.ndarray, *, zcr: np.ndarray, level_db: np.ndarray,
             vad: np.ndarray) -> np.ndarray:
    """Which 20 ms YIN steps are voiced, (F,) bool.

    YIN always returns a period; in unvoiced sound it jumps from step to step while a voice
    glides smoothly. A step is voiced when silero-vad says speech, it is within 35 dB of the
    loudest step, it is not a strong fricative (zero-crossing rate below 0.3: background
    noise raises the rate of voiced speech well above the textbook 0.1), its estimate is off
    the search bounds, and it is part of a run of at least 3 steps (60 ms) whose neighbours
    differ by less than 6 % (0.085 octave).
    """
    ok = ((vad >= 0.5) & (level_db > -35.0) & (zcr < 0.3)
          & (f0 > FMIN_HZ * 1.05) & (f0 < FMAX_HZ * 0.95))
    if len(f0) < 2:
        return np.zeros(len(f0), bool)
    log_f0 = np.log2(np.maximum(f0, 1.0))
    link = ok[:-1] & ok[1:] & (np.abs(np.diff(log_f0)) < 0.085)
    run_id = np.cumsum(np.r_[True, ~link]) - 1
    return ok & (np.bincount(run_id)[run_id] >= 3)
