"""Figures of the evaluation report, as PNG bytes (embedded base64 in ``report.html``).

* per-clip distributions: one panel per key metric, one column of dots per row;
* a beat-alignment timeline per row on one clip (:func:`gesticulate.metrics.plots.plot_beat_alignment`);
* side-by-side frames: ground truth and every row at the same instants (rendered frames when
  the dataset has videos, skeleton drawings otherwise).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

DIST_METRICS = [("ba", "BA"), ("ba_control", "BA chance"), ("l1div_body", "L1div"),
                ("pck_all", "PCK"), ("skel_lip_sync_score", "lip–audio corr. (skel.)"),
                ("hkc", "HKC"), ("ssim", "SSIM"), ("id_similarity", "identity sim."),
                ("lip_sync_score", "lip-sync score"), ("jitter_body", "jitter body")]


def _values(row: dict, key: str) -> np.ndarray:
    """Finite per-clip values of ``key`` in a row of ``metrics.json`` (None there = NaN)."""
    v = np.array([np.nan if s.get(key) is None else s[key] for s in row["per_clip"].values()],
                 dtype=np.float64)
    return v[np.isfinite(v)]


def _png(fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _pyplot():
    from gesticulate.extras import pyplot
    return pyplot(what="the plots of an evaluation report")


def distributions(rows: list[dict]) -> bytes | None:
    """Strip plots of per-clip values of :data:`DIST_METRICS` that exist, one dot per clip."""
    keys = [(k, t) for k, t in DIST_METRICS if any(_values(r, k).size for r in rows)]
    if not keys:
        return None
    plt = _pyplot()
    ncol = min(5, len(keys))
    nrow = -(-len(keys) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.9 * nrow), squeeze=False)
    try:
        rng = np.random.default_rng(0)
        for ax, (k, title) in zip(axes.flat, keys):
            for x, r in enumerate(rows):
                v = _values(r, k)
                ax.plot(x + rng.uniform(-0.15, 0.15, v.size), v, "o", ms=4, alpha=0.7)
                if v.size:
                    ax.plot([x - 0.3, x + 0.3], [v.mean()] * 2, "k-", lw=1.5)
            ax.set_xticks(range(len(rows)))
            ax.set_xticklabels([r["name"] for r in rows], rotation=35, ha="right", fontsize=7)
            ax.set_title(title, fontsize=9)
        for ax in list(axes.flat)[len(keys):]:
            ax.axis("off")
        fig.tight_layout()
        return _png(fig)
    finally:
        plt.close(fig)


def beat_timeline(motion: np.ndarray, beats_s: np.ndarray, *, fps: float, title: str,
                  settings) -> bytes:
    """The BA timeline of one row on one clip: joint speeds, motion beats, audio beats."""
    from gesticulate.metrics.beats import BA_JOINTS, joint_speed, motion_beats
    from gesticulate.metrics.plots import plot_beat_alignment
    from gesticulate.skeleton import layout

    speed = joint_speed(motion, fps=fps)
    beats = [motion_beats(np.nan_to_num(speed[:, j]), fps=fps,
                          min_peak_speed=settings.ba_min_peak_speed) / fps
             for j in range(speed.shape[1])]
    names = {layout.NOSE: "nose", layout.LEFT_ELBOW: "l-elbow", layout.RIGHT_ELBOW: "r-elbow",
             layout.LEFT_WRIST: "l-wrist", layout.RIGHT_WRIST: "r-wrist"}
    duration = len(speed) / fps
    edge = min(settings.ba_edge_s, duration / 4)
    with tempfile.TemporaryDirectory() as d:
        path = plot_beat_alignment(np.nan_to_num(speed), beats, beats_s, fps=fps,
                                   path=Path(d) / "ba.png",
                                   labels=[names.get(j, str(j)) for j in BA_JOINTS["upper_body"]],
                                   window_s=(edge, duration - edge), title=title)
        return path.read_bytes()


def _label(img: np.ndarray, text: str) -> np.ndarray:
    """``img`` with ``text`` on a black bar at the top, shrunk to fit the width."""
    import cv2

    out = np.ascontiguousarray(img.copy())
    h = max(14, out.shape[0] // 14)
    scale = h / 30
    width = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0]
    if width > out.shape[1] - 6:
        scale *= (out.shape[1] - 6) / width
    cv2.rectangle(out, (0, 0), (out.shape[1], h + 4), (0, 0, 0), -1)
    cv2.putText(out, text, (3, h), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1,
                cv2.LINE_AA)
    return out


def frame_grid(columns: list[tuple[str, list[np.ndarray | None]]]) -> bytes:
    """A grid: one column per row of the table, one line per instant, labelled; PNG bytes."""
    import cv2

    first = next(f for _, fr in columns for f in fr if f is not None)
    h, w = first.shape[:2]
    blank = np.full((h, w, 3), 40, np.uint8)
    lines = []
    for t in range(len(columns[0][1])):
        cells = [_label(fr[t] if fr[t] is not None and fr[t].shape[:2] == (h, w) else blank, name)
                 for name, fr in columns]
        lines.append(np.concatenate(cells, axis=1))
    grid = np.concatenate(lines, axis=0)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def skeleton_frames(motion: np.ndarray, indices: list[int], *, image_size) -> list[np.ndarray]:
    """Skeleton drawings of ``motion`` at ``indices`` on a white canvas (motion-only reports)."""
    from gesticulate.skeleton.draw import draw_skeleton

    w, h = image_size
    s = 256 / max(w, h)
    size = (max(2, int(round(w * s))), max(2, int(round(h * s))))
    out = []
    for i in indices:
        canvas = np.full((size[1], size[0], 3), 255, np.uint8)
        kp = motion[min(i, len(motion) - 1)].copy()
        kp[:, :2] *= s
        out.append(draw_skeleton(canvas, kp))
    return out
