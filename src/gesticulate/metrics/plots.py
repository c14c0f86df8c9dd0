"""Figures of the metrics, for reports: the beat-alignment timeline."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from gesticulate.errors import OutputError


def _save_atomic(fig, path: Path) -> Path:
    if not path.parent.is_dir():
        raise OutputError(f"output folder {path.parent} does not exist; create it first")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110, format="png")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def plot_beat_alignment(speed: np.ndarray, motion_beats: np.ndarray | list, audio_beats: np.ndarray,
                        *, fps: float, path: str | os.PathLike, labels: list[str] | None = None,
                        window_s: tuple[float, float] | None = None, title: str = "") -> Path:
    """Timeline of joint speed, motion beats and audio beats, saved as a PNG.

    Parameters
    ----------
    speed : np.ndarray, shape (T,) or (T, J)
        Joint speed in sw/s (:func:`gesticulate.metrics.beats.joint_speed`).
    motion_beats : np.ndarray or list of np.ndarray
        Motion beat times in seconds, one array per joint (or one array for a 1-D ``speed``).
    audio_beats : np.ndarray, shape (K,)
        Audio beat (onset) times in seconds.
    fps : float
    path : path of the PNG (written atomically).
    labels : names of the joints, for the legend.
    window_s : the BA evaluation window; the skipped edges are shaded.
    title : str
    """
    from gesticulate.extras import pyplot

    plt = pyplot(what="a beat-alignment plot")

    speed = np.asarray(speed, dtype=np.float64)
    if speed.ndim == 1:
        speed, motion_beats = speed[:, None], [np.asarray(motion_beats)]
    t = np.arange(len(speed)) / fps
    fig, ax = plt.subplots(figsize=(10, 3.2))
    try:
        for a in np.asarray(audio_beats, dtype=np.float64):
            ax.axvline(a, color="0.6", lw=0.8, ls="--", zorder=0)
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for j in range(speed.shape[1]):
            c = colors[j % len(colors)]
            name = labels[j] if labels else f"joint {j}"
            ax.plot(t, speed[:, j], color=c, lw=1.2, label=name)
            b = np.asarray(motion_beats[j], dtype=np.float64)
            idx = np.clip(np.round(b * fps).astype(int), 0, len(t) - 1)
            ax.plot(b, speed[idx, j], "v", color=c, ms=7)
        if window_s is not None:
            ax.axvspan(0, window_s[0], color="0.9", zorder=-1)
            ax.axvspan(window_s[1], t[-1] if len(t) else 0, color="0.9", zorder=-1)
        ax.set_xlabel("time (s)    dashed: audio beats (onsets)    ▼: motion beats")
        ax.set_ylabel("speed (shoulder widths/s)")
        ax.set_xlim(0, t[-1] if len(t) else 1)
        ax.set_title(title, fontsize=10)
        ax.legend(loc="upper right", fontsize=8, ncol=min(speed.shape[1], 5))
        fig.tight_layout()
        return _save_atomic(fig, Path(path))
    finally:
        plt.close(fig)
