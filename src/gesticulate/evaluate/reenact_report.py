"""Files of the reenactment harness: ``reenact.json`` (every figure), ``reenact.md`` (the
table) and ``index.html`` (the table and, per clip, its three most-moved frames with the real
frames above the rendered ones). NaN is written as ``null`` / an empty cell."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

from gesticulate.evaluate.report import _write_text, json_safe

# (key, header, digits) of the table's columns.
SELF_COLUMNS = (
    ("psnr_box_moved", "PSNR box moved", 2), ("ssim_box_moved", "SSIM box moved", 3),
    ("psnr_box", "PSNR box", 2), ("ssim_box", "SSIM box", 3),
    ("psnr", "PSNR frame", 2), ("ssim", "SSIM frame", 3),
    ("arm_fidelity", "arm fidelity", 3), ("hands_redetected", "hands re-det.", 3),
    ("pieces", "pieces", 3), ("holes", "holes", 3),
)
DRIVE_COLUMNS = (
    ("arm_fidelity", "arm fidelity", 3), ("hands_redetected", "hands re-det.", 3),
    ("pieces", "pieces", 3), ("holes", "holes", 3),
    ("limb_ratio_p5", "limb ratio p5", 2), ("limb_ratio_p50", "limb ratio p50", 2),
    ("limb_ratio_p95", "limb ratio p95", 2), ("fitted_limb_ratio_p50", "fitted ratio p50", 2),
)
LEGEND = (
    "Self-reenactment: each clip's own skeleton rendered onto its first frame, scored against "
    "the real frames. 'box' = inside the box around the person's points over the clip; "
    "'moved' = on the quarter of frames whose box differs most from the first frame. still = "
    "the first frame held still; real = the real clip's own frames (integrity figures, and "
    "arm fidelity and hands re-det. of its frames re-detected at this size: what the detector "
    "finds of the real speaker here, a ceiling for the render's). arm fidelity: "
    "share of shoulder/elbow/wrist points re-detected within 0.2 shoulder widths of the driving "
    "skeleton (a driving wrist whose hand is not found is a tracker's guess and not counted); "
    "hands re-det.: share of frames with a hand in the driving skeleton where the "
    "render's re-detection finds it. pieces / holes: person area outside the largest piece / "
    "enclosed background inside the silhouette, as fractions (MediaPipe segmentation). limb "
    "ratio: re-detected arm bone lengths over the photo's.")
DRIVE_LEGEND = (
    "Cross-reenactment: each photo (or clip's first frame) driven by another clip's motion, "
    "retargeted to the photo (bone directions from the motion, lengths from the photo). No "
    "ground truth: arm fidelity and hands re-det. are measured against the retargeted driving "
    "skeleton; pieces / holes next to the driving clip's own (row real); limb ratio: arm bone "
    "lengths of the render's re-detection (and of the fitted skeleton) over the photo's, 5th, "
    "50th and 95th percentile (1 = the photo's length).")


def _fmt(v, digits: int) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    return f"{v:.{digits}f}"


def _table(result: dict) -> tuple[list[str], list[list[str]]]:
    drive = result["settings"].get("drive") is not None
    columns = DRIVE_COLUMNS if drive else SELF_COLUMNS
    head = ["clip", "row"] + [c[1] for c in columns]
    if not drive:
        head += ["Δ PSNR moved", "Δ SSIM moved"]
    body = []
    entries = [(r["clip"], r["rows"]) for r in result["clips"]] + [("mean", result["mean"])]
    renderer = result["settings"]["renderer"]
    for clip, rows in entries:
        for name, figs in rows.items():
            line = [clip, name] + [_fmt(figs.get(k), d) for k, _, d in columns]
            if not drive:
                delta = ["", ""]
                still = rows.get("still", {})
                if name == renderer and still:
                    delta = [_fmt(_diff(figs, still, "psnr_box_moved"), 2),
                             _fmt(_diff(figs, still, "ssim_box_moved"), 3)]
                line += delta
            body.append(line)
    return head, body


def _diff(a: dict, b: dict, key: str):
    if a.get(key) is None or b.get(key) is None:
        return None
    return a[key] - b[key]


def markdown(result: dict) -> str:
    head, body = _table(result)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    s = result["settings"]
    title = f"# Reenactment — renderer {s['renderer']}, {s['size']} px"
    if s.get("drive"):
        title += f", driven by {s['drive']}"
    legend = DRIVE_LEGEND if s.get("drive") else LEGEND
    return "\n".join([title, "", *lines, "", legend, ""])


def html_page(result: dict) -> str:
    head, body = _table(result)
    table = "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"
    table += "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                     for row in body) + "</table>"
    drive = result["settings"].get("drive")
    above = "the driving clip" if drive else "real"
    legend = DRIVE_LEGEND if drive else LEGEND
    clips = "".join(
        f"<h3>{html.escape(r['clip'])}</h3><p class=small>most-moved frames "
        f"{html.escape(str(r['moved_frames']))}: {above} above, rendered below · "
        f"<a href='{html.escape(r['video'])}'>rendered video</a></p>"
        f"<img src='{html.escape(r['frames_image'])}' alt='{html.escape(r['clip'])}'>"
        for r in result["clips"])
    style = ("body{font-family:sans-serif;margin:2em;max-width:1800px}table{border-collapse:"
             "collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:"
             "right}td:first-child,td:nth-child(2){text-align:left}img{max-width:100%;display:"
             "block;margin:6px 0}.small{font-size:12px;color:#444}")
    title = html.escape(markdown(result).splitlines()[0].lstrip("# "))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{style}</style></head><body><h1>{title}</h1>{table}"
            f"<p class=small>{html.escape(legend)}"
            f"</p>{clips}<h2>Settings</h2><pre>"
            f"{html.escape(json.dumps(result['settings'], indent=1))}</pre></body></html>")


def write_reenact_report(folder: Path, result: dict) -> None:
    """Write ``reenact.json``, ``reenact.md`` and ``index.html`` into ``folder``."""
    clean = json_safe(result)
    _write_text(folder / "reenact.json", json.dumps(clean, indent=1))
    _write_text(folder / "reenact.md", markdown(clean))
    _write_text(folder / "index.html", html_page(clean))
