"""The files of an evaluation report: ``metrics.json``, ``metrics.md`` and ``report.html``.

``metrics.json`` holds every number (per clip and aggregated), the FGD encoder's hash and the
exact settings; NaN (a metric that could not be computed) is written as ``null``.
``metrics.md`` is the table as in the papers; ``report.html`` is self-contained (images are
base64 PNGs): the table, per-clip distributions, a beat-alignment timeline per row and
side-by-side frames of ground truth and every row.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from gesticulate.evaluate import figures
from gesticulate.evaluate.table import (MOTION_COLUMNS, VIDEO_COLUMNS, aggregate, html_table,
                                        markdown_table)

LEGEND = (
    "FGD: Fréchet distance of motion-autoencoder features vs. the ground-truth clips (set level). "
    "BA: EMAGE beat alignment with deceleration-filtered motion beats; BA chance: the same motion "
    "against time-shifted/mirrored onsets (BA means something only above it). wrist–onset "
    "coupling: correlation of wrist speed with the voice's onset strength, hands leading by "
    "0–0.2 s (0 for a still photo; needs tens of seconds to separate own audio from another's). DIV: mean pairwise "
    "distance of samples for the same audio (sw = shoulder widths); L1div: mean deviation from the "
    "clip's mean pose (sw). PCK: keypoints within 0.1·max(h, w) of the GT person box. lip–audio "
    "corr.: best correlation (±15 frames) of skeleton mouth opening with the voice envelope. "
    "Video: HKC/HKV: MediaPipe Hands re-detected on the frames (confidence; variance ×10³ in frame "
    "units²); PSNR/SSIM vs. the real frames; identity sim.: dlib face descriptor vs. the first real "
    "frame (>0.5 = same person by dlib's rule); lip-sync: mouth opening re-detected on the video vs. "
    "the voice envelope (not SyncNet); jitter: mean acceleration of the re-detected skeleton "
    "(sw/s²); PCK render: re-detected skeleton vs. the skeleton that drove the render. "
    "Mean ± std over clips. ≈GT: the ground-truth row is the target.")


def json_safe(x):
    """JSON-safe copy: NaN/inf → None, numpy scalars → Python."""
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def _write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes 0600; a report is for others to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _caption(result: dict) -> str:
    e = result["fgd_encoder"]
    cfg = e.get("config") or {}
    small = f", latent {cfg['latent']}" if "latent" in cfg else ""
    how = {"given": f"given ({e.get('path')})",
           "cached": f"cached, trained on the {e.get('split')} split, {e.get('steps')} steps{small}",
           "trained": f"trained for this report on the {e.get('split')} split, "
                      f"{e.get('steps')} steps{small}"}[e["source"]]
    s = result["settings"]
    beats = [c["audio_beats_per_s"] for c in result["clips"] if c["audio_beats_per_s"] is not None]
    return (f"{s['split']} split of {s['dataset']}: {len(result['clips'])} clips, "
            f"{sum(c['duration_s'] for c in result['clips']):.1f} s; seed {s['seed']}, "
            f"{s['num_samples']} samples per clip for DIV; videos at {s['size']} px. "
            f"FGD encoder **{e['hash']}** ({how}); FGD of ground truth is 0 by construction. "
            f"Audio beats (onsets): {np.mean(beats) if beats else float('nan'):.2f}/s.")


def _rows_json(rows, inputs) -> list[dict]:
    return [{"name": r.name, "kind": r.kind, "description": r.description,
             "num_clips": len(r.per_clip), "fgd": r.fgd, "aggregate": aggregate(r.per_clip),
             "per_clip": r.per_clip} for r in rows]


def _clips_json(inputs) -> list[dict]:
    out = []
    for ci in inputs:
        span = max(len(ci.gt) / ci.fps, 1e-9)
        out.append({"clip_id": ci.clip_id, "num_frames": len(ci.gt), "fps": ci.fps,
                    "duration_s": len(ci.gt) / ci.fps, "has_video": ci.gt_video is not None,
                    "audio_beats_per_s": len(ci.beats_s) / span})
    return out


def write_evaluation_report(folder: Path, *, rows, inputs, config: dict, encoder: dict,
                            notes: list[str], seconds: float) -> dict:
    """Write the three files into ``folder``; returns the content of ``metrics.json``."""
    result = json_safe({"format": "gesticulate-evaluation/1", "settings": config,
                     "fgd_encoder": encoder, "clips": _clips_json(inputs),
                     "rows": _rows_json(rows, inputs), "notes": notes,
                     "seconds": round(seconds, 1)})
    _write_text(folder / "metrics.json", json.dumps(result, indent=1, sort_keys=False))
    _write_text(folder / "metrics.md", markdown(result))
    _write_text(folder / "report.html", html_report(result, rows, inputs, config))
    return result


def markdown(result: dict) -> str:
    """``metrics.md``: caption, motion table, video table, legend, notes."""
    parts = ["# Evaluation", "", _caption(result), "", "## Motion", "",
             markdown_table(_table_rows(result), MOTION_COLUMNS)]
    video = markdown_table(_table_rows(result), VIDEO_COLUMNS)
    if video:
        parts += ["", "## Video", "", video]
    parts += ["", LEGEND, ""]
    parts += ["Rows:", ""] + [f"- **{r['name']}**: {r['description']}" for r in result["rows"]]
    if result["notes"]:
        parts += ["", "Notes:", ""] + [f"- {n}" for n in result["notes"]]
    return "\n".join(parts) + "\n"


def _table_rows(result: dict) -> list[dict]:
    return [r for r in result["rows"] if r["num_clips"] > 0]


def _img(data: bytes | None, alt: str) -> str:
    if not data:
        return ""
    b64 = base64.b64encode(data).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'


def _timelines(rows, inputs, settings) -> str:
    ci = max(inputs, key=lambda c: len(c.gt))
    out = [f"<h2>Beat alignment on {html.escape(ci.clip_id)}</h2>"]
    for r in rows:
        if ci.clip_id in r.motions:
            ba = r.per_clip[ci.clip_id].get("ba", float("nan"))
            title = f"{r.name}: BA {ba:.3f}" if ba == ba else r.name
            out.append(_img(figures.beat_timeline(r.motions[ci.clip_id], ci.beats_s, fps=ci.fps,
                                                  title=title, settings=settings), r.name))
    return "\n".join(out)


def _frames(rows, inputs, max_clips: int = 4) -> str:
    from gesticulate.evaluate.media import grab_frames

    out = ["<h2>Side by side (ground truth first; instants at 25 %, 50 %, 75 %)</h2>"]
    for ci in inputs[:max_clips]:
        idx = [int(len(ci.gt) * q) for q in (0.25, 0.5, 0.75)]
        cols = []
        for r in rows:
            if ci.clip_id in r.videos:
                cols.append((r.name, grab_frames(r.videos[ci.clip_id], idx)))
            elif ci.gt_video is None and ci.clip_id in r.motions:
                cols.append((r.name, figures.skeleton_frames(
                    r.motions[ci.clip_id], idx, image_size=ci.clip.skeleton.image_size)))
        if cols:
            out += [f"<h3>{html.escape(ci.clip_id)}</h3>", _img(figures.frame_grid(cols), ci.clip_id)]
    return "\n".join(out)


def html_report(result: dict, rows, inputs, config: dict) -> str:
    """``report.html``, self-contained."""
    from gesticulate.evaluate.scoring import ScoreSettings

    settings = ScoreSettings(**config["scores"])
    tr = _table_rows(result)
    video = html_table(tr, VIDEO_COLUMNS)
    cap = html.escape(_caption(result)).replace("**", "")
    body = [f"<h1>Evaluation</h1><p>{cap}</p>", "<h2>Motion</h2>", html_table(tr, MOTION_COLUMNS)]
    if video:
        body += ["<h2>Video</h2>", video]
    body.append(f"<p class=small>{html.escape(LEGEND)}</p><ul class=small>" + "".join(
        f"<li><b>{html.escape(r['name'])}</b>: {html.escape(r['description'])}</li>"
        for r in result["rows"]) + "</ul>")
    if result["notes"]:
        body.append("<h3>Notes</h3><ul class=small>" + "".join(
            f"<li>{html.escape(n)}</li>" for n in result["notes"]) + "</ul>")
    body += ["<h2>Per-clip distributions</h2>", _img(figures.distributions(tr), "distributions"),
             _timelines(rows, inputs, settings), _frames(rows, inputs),
             f"<h2>Settings</h2><pre>{html.escape(json.dumps(result['settings'], indent=1))}</pre>"]
    style = ("body{font-family:sans-serif;margin:2em;max-width:1600px}table{border-collapse:"
             "collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:"
             "right}td:first-child{text-align:left;font-weight:bold}img{max-width:100%;"
             "display:block;margin:6px 0}.small{font-size:12px;color:#444}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>gesticulate evaluation"
            f"</title><style>{style}</style></head><body>{''.join(body)}</body></html>")
