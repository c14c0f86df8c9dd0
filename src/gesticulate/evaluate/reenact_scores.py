"""Scores of the reenactment harness (:mod:`gesticulate.evaluate.reenact`).

* **PSNR / SSIM** of the render against the real frames, over the whole frame and inside the
  person's box (the box around every point the real skeleton shows over the clip), on all
  frames and on the *most-moved quarter* (the frames whose person box differs most from the
  first frame's: where a renderer must work and the still photo is worst).
* the **still** baseline: the first frame held still, scored the same way.
* **pose fidelity** and **hands re-detected** (:mod:`gesticulate.metrics.fidelity`) on a
  MediaPipe re-detection of the rendered frames, and of the real frames at the same size (the
  detector's ceiling there: the clip's skeleton comes from its full-size frames).
* **silhouette integrity** (:mod:`gesticulate.metrics.silhouette`): pieces and holes of the
  render, next to the real clip's own.
"""

from __future__ import annotations

import cv2
import numpy as np

from gesticulate.metrics.fidelity import (DETECTED, limb_length_ratio, pose_fidelity,
                                          shoulder_widths)
from gesticulate.metrics.silhouette import silhouette_integrity
from gesticulate.metrics.video import PSNR_CAP_DB
from gesticulate.skeleton import layout as L

SEEN = 0.5
BOX_POINTS = np.r_[0:11, 23:133]      # upper body, face, hands
# Body points count above SEEN, face and hand points when detected (their confidences are
# graded from 0.35, skeleton.mediapipe_map).
BOX_SEEN = np.where(BOX_POINTS >= 23, DETECTED, SEEN)


def person_box(keypoints: np.ndarray, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` around every upper-body, face and hand point the skeleton
    ``(T, 133, 3)`` shows over the clip, grown by a quarter shoulder width, inside the frame."""
    w, h = size
    pts = keypoints[:, BOX_POINTS]
    ok = (pts[..., 2] >= BOX_SEEN) & (pts[..., 0] >= 0) & (pts[..., 0] < w) \
        & (pts[..., 1] >= 0) & (pts[..., 1] < h)
    if not ok.any():
        return 0, 0, w, h
    xy = pts[ok][:, :2]
    sw = np.nanmedian(shoulder_widths(keypoints))
    pad = 0.25 * (sw if np.isfinite(sw) else 0.1 * max(w, h))
    x0, y0 = np.floor(xy.min(0) - pad).astype(int)
    x1, y1 = np.ceil(xy.max(0) + pad).astype(int)
    return max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return PSNR_CAP_DB if mse <= 0 else min(PSNR_CAP_DB, 10 * np.log10(255.0 ** 2 / mse))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two RGB uint8 images: Wang et al. with a 7x7 uniform window and sample
    covariances, averaged over channels — scikit-image's ``structural_similarity`` defaults
    (tested equal), computed with OpenCV box filters (about 10x faster)."""
    x, y = a.astype(np.float32), b.astype(np.float32)
    win, n = (7, 7), 49
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = cv2.blur(x, win), cv2.blur(y, win)
    norm = n / (n - 1)
    vx = norm * (cv2.blur(x * x, win) - mx * mx)
    vy = norm * (cv2.blur(y * y, win) - my * my)
    vxy = norm * (cv2.blur(x * y, win) - mx * my)
    s = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    pad = 3                                # scikit-image crops the window's half-width
    if s.shape[0] <= 2 * pad or s.shape[1] <= 2 * pad:
        return float(s.mean())
    return float(s[pad:-pad, pad:-pad].mean())


def moved(frames: list[np.ndarray], box) -> np.ndarray:
    """``(T,)`` mean absolute grey difference of each frame's person box from the first's."""
    x0, y0, x1, y1 = box
    first = cv2.cvtColor(frames[0][y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.array([np.abs(cv2.cvtColor(f[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY) - first).mean()
                     for f in frames])


def most_moved(score: np.ndarray, *, fraction: float = 0.25) -> np.ndarray:
    """Indices of the ``fraction`` of frames that moved most (at least one)."""
    k = max(1, int(np.ceil(fraction * len(score))))
    return np.sort(np.argsort(-score, kind="stable")[:k])


def top_frames(score: np.ndarray, *, count: int = 3, apart: int = 5) -> list[int]:
    """The ``count`` most-moved frames, at least ``apart`` frames from each other."""
    picked: list[int] = []
    for i in np.argsort(-score, kind="stable"):
        if all(abs(int(i) - j) >= apart for j in picked):
            picked.append(int(i))
        if len(picked) == count:
            break
    return sorted(picked)


def image_scores(real: list[np.ndarray], rendered: list[np.ndarray], box, moved_idx
                 ) -> dict[str, float]:
    """PSNR and SSIM, whole frame and person box, all frames and most-moved quarter."""
    x0, y0, x1, y1 = box
    n = min(len(real), len(rendered))
    rows = np.array([(psnr(r, g), ssim(r, g), psnr(r[y0:y1, x0:x1], g[y0:y1, x0:x1]),
                      ssim(r[y0:y1, x0:x1], g[y0:y1, x0:x1]))
                     for r, g in zip(real[:n], rendered[:n])])
    idx = moved_idx[moved_idx < n]
    names = ("psnr", "ssim", "psnr_box", "ssim_box")
    out = {k: float(rows[:, i].mean()) for i, k in enumerate(names)}
    out.update({k + "_moved": float(rows[idx, i].mean()) for i, k in enumerate(names)})
    return out


def _redetect(frames, *, progress: bool) -> np.ndarray:
    from gesticulate.skeleton.extract import track_frames
    return track_frames(frames, progress=progress)


def self_scores(real: list[np.ndarray], rendered: list[np.ndarray], keypoints: np.ndarray, *,
                fps: float, renderer: str, progress: bool) -> dict:
    """Every figure of one self-reenacted clip: rows ``render`` (named after the renderer),
    ``still`` and ``real`` (integrity, and pose fidelity of the real frames re-detected here),
    and the most-moved frames."""
    h, w = real[0].shape[:2]
    box = person_box(keypoints, (w, h))
    score = moved(real, box)
    idx = most_moved(score)
    still = [real[0]] * len(real)
    red = _redetect(rendered, progress=progress)
    red_still = np.repeat(_redetect([real[0]], progress=False), len(real), axis=0)
    rows = {
        renderer: {**image_scores(real, rendered, box, idx), **pose_fidelity(red, keypoints),
                   **silhouette_integrity(rendered)},
        "still": {**image_scores(real, still, box, idx), **pose_fidelity(red_still, keypoints),
                  **silhouette_integrity(real[:1])},
        # The real frames re-detected at this size, as the render's are: what the detector
        # finds of the clip's own hands here (ted_lia_driving2's, small at 512 px, in 0.56 of
        # the frames where the clip's skeleton, from its full-size frames, has them).
        "real": {**silhouette_integrity(real),
                 **pose_fidelity(_redetect(real, progress=progress), keypoints)},
    }
    return {"kind": "self", "box": list(map(int, box)), "rows": rows,
            "moved_frames": top_frames(score),
            "moved_quarter": int(len(idx)), "motion_score": float(score[idx].mean())}


def drive_scores(driver_frames: list[np.ndarray], rendered: list[np.ndarray],
                 fitted: np.ndarray, reference: np.ndarray, *, renderer: str,
                 progress: bool) -> dict:
    """Figures of a photo driven by another clip's motion (no ground truth): pose fidelity
    against the retargeted driving skeleton, integrity next to the driving clip's own, and
    limb lengths of the fitted and of the re-detected skeleton over the photo's."""
    red = _redetect(rendered, progress=progress)
    arms = fitted[:, [L.LEFT_ELBOW, L.RIGHT_ELBOW, L.LEFT_WRIST, L.RIGHT_WRIST], :2]
    moving = np.linalg.norm(arms - arms[:1], axis=2).mean(1)      # away from the first pose
    fitted_ratio = {"fitted_" + k: v for k, v in limb_length_ratio(fitted, reference).items()}
    rows = {
        renderer: {**pose_fidelity(red, fitted), **silhouette_integrity(rendered),
                   **limb_length_ratio(red, reference), **fitted_ratio},
        "real": silhouette_integrity(driver_frames),
    }
    return {"kind": "drive", "rows": rows, "moved_frames": top_frames(moving)}


def moved_frames_image(real: list[np.ndarray], rendered: list[np.ndarray], indices: list[int]
                       ) -> np.ndarray:
    """The most-moved frames side by side: real above rendered, frame numbers written in."""
    cols = []
    for i in indices:
        top = real[min(i, len(real) - 1)].copy()
        bottom = rendered[min(i, len(rendered) - 1)].copy()
        for img, label in ((top, f"real {i}"), (bottom, f"render {i}")):
            cv2.putText(img, label, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 3)
            cv2.putText(img, label, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1)
        if bottom.shape != top.shape:
            bottom = cv2.resize(bottom, top.shape[1::-1])
        cols.append(np.vstack([top, bottom]))
    return np.hstack(cols)


def mean_rows(results: list[dict]) -> dict[str, dict[str, float]]:
    """Mean of every figure of every row name over the clips that have it."""
    acc: dict[str, dict[str, list]] = {}
    for r in results:
        for row, figs in r["rows"].items():
            for k, v in figs.items():
                if isinstance(v, (int, float)) and np.isfinite(v):
                    acc.setdefault(row, {}).setdefault(k, []).append(float(v))
    return {row: {k: float(np.mean(v)) for k, v in figs.items()} for row, figs in acc.items()}
