"""Aggregation over clips and the table of a report (Markdown and HTML), as in the papers.

Every cell is the mean ± standard deviation over the clips of the split (FGD: one number per
row, computed on all clips' windows together). Arrows say which way is better; "≈GT" marks
metrics where the ground-truth row is the target (more motion is not better by itself).
"""

from __future__ import annotations

import html
import math

import numpy as np

# (key in per-clip scores, header, direction); direction: "↑", "↓", "≈GT", "≈0", "".
MOTION_COLUMNS = [
    ("fgd", "FGD", "↓"),
    ("ba", "BA", "↑"),
    ("ba_control", "BA chance", ""),
    ("ba_motion_beats_per_s", "motion beats/s", "≈GT"),
    ("ba_hands", "BA hands", "↑"),
    ("coupling", "wrist–onset coupling", "↑"),
    ("div_body", "DIV", "↑"),
    ("div_hands", "DIV hands", "↑"),
    ("l1div_body", "L1div", "≈GT"),
    ("l1div_hands", "L1div hands", "≈GT"),
    ("l1div_face", "L1div face", "≈GT"),
    ("pck_all", "PCK", "↑"),
    ("pck_hands", "PCK hands", "↑"),
    ("pck_face", "PCK face", "↑"),
    ("skel_lip_sync_score", "lip–audio corr. (skeleton)", "↑"),
]
VIDEO_COLUMNS = [
    ("hkc", "HKC", "↑"),
    ("hkv", "HKV ×10³", "≈GT"),
    ("psnr", "PSNR dB", "↑"),
    ("ssim", "SSIM", "↑"),
    ("id_similarity", "identity sim.", "↑"),
    ("lip_sync_score", "lip-sync score", "↑"),
    ("lip_sync_offset_frames", "lip-sync offset (frames)", "≈0"),
    ("jitter_body", "jitter body", "≈GT"),
    ("jitter_hands", "jitter hands", "≈GT"),
    ("pck_render", "PCK render", "↑"),
]
_SCALE = {"hkv": 1e3}


def aggregate(per_clip: dict[str, dict]) -> dict[str, dict]:
    """``{metric: {"mean", "std", "n"}}`` over clips; NaNs are left out (n counts the rest)."""
    keys = sorted({k for s in per_clip.values() for k in s})
    out = {}
    for k in keys:
        v = np.array([s.get(k, np.nan) for s in per_clip.values()], dtype=np.float64)
        v = v[np.isfinite(v)]
        out[k] = {"mean": float(v.mean()) if v.size else float("nan"),
                  "std": float(v.std()) if v.size else float("nan"), "n": int(v.size)}
    return out


def _fmt(x: float, digits: int = 3) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.{digits}f}"


def cell(row: dict, key: str) -> str:
    """One table cell of a row of ``metrics.json``: ``mean ± std`` (FGD: the set value)."""
    if key == "fgd":
        return _fmt(row.get("fgd"))
    a = row["aggregate"].get(key)
    if a is None or a["n"] == 0:
        return "–"
    s = _SCALE.get(key, 1.0)
    if a["n"] == 1:
        return _fmt(a["mean"] * s)
    return f"{_fmt(a['mean'] * s)} ± {_fmt(a['std'] * s)}"


def _used(rows: list[dict], columns: list) -> list:
    """Columns with a value in at least one row (motion-only reports drop the video table)."""
    return [c for c in columns if any(cell(r, c[0]) != "–" for r in rows)]


def table_rows(rows: list[dict], columns: list) -> tuple[list[str], list[list[str]]]:
    cols = _used(rows, columns)
    header = ["", "clips"] + [f"{h} {d}".strip() for _, h, d in cols]
    body = [[r["name"], str(r["num_clips"])] + [cell(r, k) for k, _, _ in cols] for r in rows]
    return header, body


def markdown_table(rows: list[dict], columns: list) -> str:
    header, body = table_rows(rows, columns)
    if len(header) <= 2:
        return ""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(b) + " |" for b in body]
    return "\n".join(lines)


def html_table(rows: list[dict], columns: list) -> str:
    header, body = table_rows(rows, columns)
    if len(header) <= 2:
        return ""
    th = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    trs = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in b) + "</tr>"
                  for b in body)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"
