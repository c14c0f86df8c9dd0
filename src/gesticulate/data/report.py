"""``gesticulate inspect DIR``: an HTML report of a built dataset (issue 3, item 7).

One self-contained file (images inlined as PNG data): counts and hours per split, rejection
reasons, histograms of every QC score (kept vs. rejected) and skeleton overlays on frames of a
few random kept clips, so a user can see at a glance whether the crop and skeletons are right.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections import defaultdict
from pathlib import Path

import numpy as np

from gesticulate.atomic import atomic_file
from gesticulate.data.clips import ClipRecord, clip_dir, read_manifest
from gesticulate.errors import OptionError

REPORT = "report.html"


def _png(fig_or_image) -> str:
    """A matplotlib figure or an RGB uint8 array as an inline ``<img>``."""
    buf = io.BytesIO()
    if isinstance(fig_or_image, np.ndarray):
        import cv2
        ok, data = cv2.imencode(".png", fig_or_image[..., ::-1])
        assert ok
        buf.write(data.tobytes())
    else:
        fig_or_image.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    return f'<img src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def summarize(records: list[ClipRecord]) -> dict:
    """Counts and hours: overall, per split and per rejection reason code."""
    def hours(rs):
        return sum(r.end_s - r.start_s for r in rs) / 3600.0

    kept = [r for r in records if r.status == "kept"]
    rejected = [r for r in records if r.status != "kept"]
    by_split = defaultdict(list)
    for r in kept:
        by_split[r.split or "none"].append(r)
    by_reason = defaultdict(list)
    for r in rejected:
        by_reason[r.reason.split(":", 1)[0]].append(r)
    return {
        "sources": len({r.source for r in records}),
        "kept": len(kept), "rejected": len(rejected),
        "kept_hours": hours(kept), "rejected_hours": hours(rejected),
        "splits": {s: {"clips": len(rs), "hours": hours(rs),
                       "speakers": len({r.speaker_id for r in rs})}
                   for s, rs in sorted(by_split.items())},
        "reasons": {k: {"clips": len(rs), "hours": hours(rs), "example": rs[0].reason}
                    for k, rs in sorted(by_reason.items(), key=lambda kv: -len(kv[1]))},
    }


def _histograms(records: list[ClipRecord]) -> str:
    from gesticulate.extras import pyplot
    plt = pyplot(what="the QC histograms of a dataset report")

    keys = sorted({k for r in records for k in r.qc})
    if not keys:
        return "<p>No QC scores.</p>"
    cols = 4
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        kept = [r.qc[key] for r in records if key in r.qc and r.status == "kept"]
        rej = [r.qc[key] for r in records if key in r.qc and r.status != "kept"]
        both = np.array(kept + rej, dtype=float)
        lo, hi = (float(both.min()), float(both.max())) if len(both) else (0.0, 1.0)
        bins = np.linspace(lo, hi, 21) if hi - lo > 1e-6 else np.linspace(lo - 0.5, lo + 0.5, 3)
        ax.hist([kept, rej], bins=bins, stacked=True, color=["tab:green", "tab:red"],
                label=["kept", "rejected"])
        ax.set_title(key, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    out = _png(fig)
    plt.close(fig)
    return out


def _clip_frames(root: Path, r: ClipRecord, indices: list[int], size: int) -> list[np.ndarray]:
    """RGB frames of a clip at ``indices``: from its video, else cut from the source video."""
    from gesticulate.data.postprocess import crop_frame
    from gesticulate.video import iter_frames

    video = clip_dir(root, r.clip_id) / "video.mp4"
    want, got = set(indices), {}
    if video.is_file():
        frames, offset = iter_frames(video, fps=r.fps), 0
    else:
        frames, offset = iter_frames(r.source, fps=r.fps), int(round(r.start_s * r.fps))
    for k, frame in enumerate(frames):
        i = k - offset
        if i in want:
            got[i] = frame if video.is_file() else crop_frame(frame, tuple(r.crop), size=size)
        if i >= max(indices):
            break
    return [got[i] for i in indices if i in got]


def _overlays(root: Path, records: list[ClipRecord], *, num: int, seed: int) -> str:
    from gesticulate.skeleton.draw import draw_skeleton
    from gesticulate.skeleton.sequence import SkeletonSequence

    kept = sorted((r for r in records if r.status == "kept"), key=lambda r: r.clip_id)
    if not kept:
        return "<p>No kept clips.</p>"
    rng = np.random.default_rng(seed)
    pick = [kept[i] for i in sorted(rng.choice(len(kept), min(num, len(kept)), replace=False))]
    parts = []
    for r in pick:
        try:
            skel = SkeletonSequence.load(clip_dir(root, r.clip_id) / "skeleton.npz")
        except Exception as e:  # one broken clip must not break the whole report
            parts.append(f"<p>{html.escape(r.clip_id)}: {html.escape(str(e))}</p>")
            continue
        idx = [0, len(skel) // 2, len(skel) - 1]
        try:
            frames = _clip_frames(root, r, idx, skel.image_size[0])
        except Exception:  # source moved, or imported poses with no video: draw on black
            frames = []
        if len(frames) != len(idx):
            w, h = skel.image_size
            frames = [np.zeros((h, w, 3), np.uint8) for _ in idx]
        tiles = []
        for i, frame in zip(idx, frames):
            tile = np.ascontiguousarray(frame)
            draw_skeleton(tile, skel.keypoints[i])
            tiles.append(tile)
        if tiles:
            strip = np.concatenate(tiles, axis=1)
            parts.append(f"<h3>{html.escape(r.clip_id)} ({r.start_s:.1f}–{r.end_s:.1f} s, "
                         f"{r.split})</h3>{_png(strip)}")
    return "\n".join(parts)


def _table(rows: list[list], head: list[str]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def write_dataset_report(root: str | os.PathLike, *, path: str | os.PathLike | None = None,
                 num_overlays: int = 4, seed: int = 0) -> Path:
    """Write the HTML report of the dataset in ``root``; returns its path.

    Parameters
    ----------
    root : path
        A dataset folder (with ``manifest.jsonl``).
    path : path or None
        Where to write; default ``root/report.html``. Written atomically.
    num_overlays : int
        Kept clips shown with their skeletons drawn on frames (start, middle, end).
    seed : int
        Which clips are picked.
    """
    root = Path(root)
    if path is not None:        # a report's name, never a file of the dataset's or the user's
        from gesticulate.video import check_output_path
        if Path(path).suffix.lower() not in (".html", ".htm"):
            raise OptionError(f"--output {path}: the report is a web page; name it e.g. "
                              f"{Path(path).with_suffix('.html').name}")
        check_output_path(path)
    records = read_manifest(root)
    s = summarize(records)
    config = root / "build.json"
    splits = [[k, v["clips"], f"{v['hours']:.4f}", v["speakers"]] for k, v in s["splits"].items()]
    reasons = [[k, v["clips"], f"{v['hours']:.4f}", v["example"]] for k, v in s["reasons"].items()]
    body = f"""<h1>Dataset {html.escape(str(root))}</h1>
<p>{s['sources']} source videos; <b>{s['kept']} clips kept ({s['kept_hours']:.4f} h)</b>,
{s['rejected']} rejected ({s['rejected_hours']:.4f} h).</p>
<h2>Splits (by speaker)</h2>{_table(splits, ['split', 'clips', 'hours', 'speakers'])}
<h2>Rejection reasons</h2>{_table(reasons, ['reason', 'clips', 'hours', 'example'])}
<h2>QC scores (green kept, red rejected)</h2>{_histograms(records)}
<h2>Skeletons on random kept clips (first, middle, last frame)</h2>
{_overlays(root, records, num=num_overlays, seed=seed)}
<h2>Build settings</h2><pre>{html.escape(config.read_text()) if config.is_file() else 'n/a'}</pre>
"""
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>gesticulate dataset</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}img{max-width:100%}"
            "</style></head><body>" + body + "</body></html>")
    out = Path(path) if path is not None else root / REPORT
    with atomic_file(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out


def inspect(root: str | os.PathLike, *, path: str | os.PathLike | None = None,
            num_overlays: int = 4, seed: int = 0) -> tuple[Path, dict]:
    """``gesticulate inspect DIR``: write the report and return ``(report path, summary)``.

    The summary (counts, hours, splits, reasons) is what the CLI prints as text.
    """
    out = write_dataset_report(root, path=path, num_overlays=num_overlays, seed=seed)
    return out, summarize(read_manifest(root))


def format_summary(summary: dict) -> str:
    """The summary as a few lines of text for a terminal."""
    lines = [f"{summary['sources']} sources: {summary['kept']} clips kept "
             f"({summary['kept_hours'] * 60:.2f} min), {summary['rejected']} rejected "
             f"({summary['rejected_hours'] * 60:.2f} min)"]
    for k, v in summary["splits"].items():
        lines.append(f"  {k}: {v['clips']} clips, {v['hours'] * 60:.2f} min, "
                     f"{v['speakers']} speakers")
    for k, v in summary["reasons"].items():
        lines.append(f"  rejected {k}: {v['clips']} ({v['hours'] * 60:.2f} min)")
    return "\n".join(lines)
