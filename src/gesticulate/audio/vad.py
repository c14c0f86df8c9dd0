"""Voice activity with silero-vad's bundled model: speech probability per frame, segments.

silero-vad ships its TorchScript model inside the wheel, so nothing is downloaded. We load
it with ``load_silero_vad`` and feed it numpy audio ourselves (never its torchaudio helpers).
The model is a small stateful network that reads 512-sample windows (32 ms) at 16 kHz one
after another; it is loaded once per process and used under a lock because it keeps state.

Threads: torch's thread count is one setting for the whole process, and importing
``silero_vad`` sets it to 1. Every change here is scoped by :func:`_torch_threads`, which puts
the caller's count back however the block ends: around the import (undoing silero's), and
around inference, which runs on one thread (a 512-sample window gains nothing from more; two
threads measured 4x slower on 8 s of speech here, with the same probabilities).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import numpy as np

VAD_SR = 16000
WINDOW = 512  # samples per model step at 16 kHz (32 ms)
_lock = threading.Lock()
_model = None


@contextmanager
def _torch_threads(n: int | None):
    """Run the block with torch on ``n`` threads (None: as many as now, whatever the block
    sets) and restore the caller's count afterwards, even if the block raises."""
    import torch
    before = torch.get_num_threads()
    n = before if n is None else n
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _get_model():
    """The silero-vad TorchScript model, loaded once per process (about 2 MB)."""
    global _model
    if _model is None:
        with _torch_threads(None):  # importing silero_vad sets 1 thread process-wide
            from silero_vad import load_silero_vad
            _model = load_silero_vad()
    return _model


def speech_probability(y: np.ndarray, *, sr: int, progress: bool = False) -> np.ndarray:
    """Speech probability for consecutive 32 ms windows.

    Parameters
    ----------
    y : np.ndarray, shape (N,), float32
        Mono audio in -1..1.
    sr : int
        Sample rate of ``y`` in Hz; resampled to 16 kHz for the model when different.
    progress : bool
        Show a tqdm bar on stderr.

    Returns
    -------
    np.ndarray, shape (ceil(N16 / 512),), float32
        Probability 0..1 that window ``i``, covering ``[i, i+1) * 0.032`` s, is speech.
    """
    import torch
    from tqdm.auto import tqdm

    y16 = _to_vad_rate(y, sr=sr)
    n_win = -(-len(y16) // WINDOW)
    padded = np.zeros(n_win * WINDOW, np.float32)
    padded[:len(y16)] = y16
    x = torch.from_numpy(padded)
    probs = np.zeros(n_win, np.float32)
    model = _get_model()
    with _lock, _torch_threads(1), torch.inference_mode():
        model.reset_states()
        for i in tqdm(range(n_win), disable=not progress, desc="voice activity",
                      unit="win", mininterval=0.5):
            probs[i] = float(model(x[i * WINDOW:(i + 1) * WINDOW], VAD_SR))
        model.reset_states()
    return probs


def frame_speech_probability(y: np.ndarray, *, sr: int, fps: float, num_frames: int,
                             progress: bool = False) -> np.ndarray:
    """Speech probability per video frame, shape (num_frames,) float32 in 0..1.

    The 32 ms window probabilities are interpolated linearly at each frame's centre
    ``(t + 0.5) / fps`` seconds, so frame ``t`` describes ``[t / fps, (t + 1) / fps)``.
    """
    probs = speech_probability(y, sr=sr, progress=progress)
    win_s = WINDOW / VAD_SR
    centres = (np.arange(len(probs)) + 0.5) * win_s
    t = (np.arange(num_frames) + 0.5) / fps
    return np.interp(t, centres, probs).astype(np.float32)


def speech_segments(y: np.ndarray, *, sr: int, threshold: float = 0.5,
                    min_speech_s: float = 0.25, min_silence_s: float = 0.1,
                    pad_s: float = 0.03) -> list[tuple[float, float]]:
    """Speech segments ``[(start_s, end_s), ...]`` in seconds, in time order.

    Hysteresis as in silero-vad: speech starts where the probability reaches ``threshold``
    and ends where it stays below ``threshold - 0.15`` for ``min_silence_s``; segments
    shorter than ``min_speech_s`` are dropped, and each is widened by ``pad_s``.
    """
    return segments_from_probability(speech_probability(y, sr=sr), hop_s=WINDOW / VAD_SR,
                                     duration_s=len(y) / sr, threshold=threshold,
                                     min_speech_s=min_speech_s, min_silence_s=min_silence_s,
                                     pad_s=pad_s)


def segments_from_probability(probs: np.ndarray, *, hop_s: float, duration_s: float,
                              threshold: float = 0.5, min_speech_s: float = 0.25,
                              min_silence_s: float = 0.1,
                              pad_s: float = 0.03) -> list[tuple[float, float]]:
    """Speech segments from probabilities sampled every ``hop_s`` seconds (see above)."""
    off = threshold - 0.15
    segs, start, last_speech = [], None, 0
    for i, p in enumerate(probs):
        if start is None and p >= threshold:
            start = i
        if start is not None:
            if p >= off:
                last_speech = i
            elif (i - last_speech) * hop_s >= min_silence_s:
                segs.append((start, last_speech + 1))
                start = None
    if start is not None:
        segs.append((start, last_speech + 1))
    out = []
    for a, b in segs:
        if (b - a) * hop_s >= min_speech_s:
            out.append((max(0.0, a * hop_s - pad_s), min(duration_s, b * hop_s + pad_s)))
    return out


def _to_vad_rate(y: np.ndarray, *, sr: int) -> np.ndarray:
    y = np.asarray(y, np.float32)
    if sr == VAD_SR:
        return y
    import soxr
    return soxr.resample(y, sr, VAD_SR).astype(np.float32, copy=False)
