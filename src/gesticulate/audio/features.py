"""Per-frame audio features at the video frame rate (DESIGN.md, "Audio features")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
