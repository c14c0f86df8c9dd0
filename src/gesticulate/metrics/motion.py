"""Motion metrics on skeleton sequences: diversity (DIV, L1div) and accuracy (PCK).

DIV and L1div are measured in the local representation (root at the neck, one unit = one
shoulder width, "sw"), so they do not depend on the video size or where the person stands.
PCK is measured in pixels against ground truth in the same frame. Beat alignment (BA) is in
:mod:`gesticulate.metrics.beats`. Regions: ``upper_body`` (body points 0–10), ``face``,
``lips``, ``hands``, ``left_hand``, ``right_hand``, ``all``.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from gesticulate.errors import InputError, OptionError
from gesticulate.metrics._local import MIN_CONFIDENCE, as_keypoints, local_region, region_indices


def l1_divergence(keypoints, *, region: str = "upper_body",
                  min_confidence: float = MIN_CONFIDENCE) -> float:
    """L1div (EMAGE): mean absolute deviation of each frame from the sequence's mean pose.

    Parameters
    ----------
    keypoints : SkeletonSequence or np.ndarray, shape (T, 133, 3)
    region : str
        Which points to use (see module docstring).
    min_confidence : float
        Points under it are left out of both the mean pose and the deviation.

    Returns
    -------
    float
        Mean over frames, points and x/y of ``|x - mean_pose|`` in sw; NaN when the region is
        never seen. A still pose gives 0; larger means more motion.
    """
    xy, conf = local_region(keypoints, region)
    w = (conf >= min_confidence)[..., None].astype(np.float64)  # (T, K, 1)
    n = w.sum(0)                                                # (K, 1)
    if n.sum() == 0:
        return float("nan")
    mean = (xy * w).sum(0) / np.maximum(n, 1)                   # (K, 2)
    dev = np.abs(xy - mean) * w                                 # (T, K, 2)
    return float(dev.sum() / (2 * w.sum()))


def diversity(samples, *, region: str = "upper_body",
              min_confidence: float = MIN_CONFIDENCE) -> float:
    """DIV (TalkSHOW): mean pairwise distance between samples generated for the same audio.

    Parameters
    ----------
    samples : sequence of SkeletonSequence or np.ndarray, each (T, 133, 3)
        At least two samples; longer ones are cut to the shortest.
    region, min_confidence
        As in :func:`l1_divergence`; a point counts when it is seen in both samples.

    Returns
    -------
    float
        Mean over pairs of the mean per-point Euclidean distance in sw (0 for identical
        samples); NaN when no point is seen in both samples of any pair.
    """
    kps = [as_keypoints(s) for s in samples]
    if len(kps) < 2:
        raise InputError("DIV needs at least two samples for the same audio; generate more "
                         "with different seeds")
    t = min(len(k) for k in kps)
    local = [local_region(k[:t], region) for k in kps]
    dists = []
    for (xa, ca), (xb, cb) in itertools.combinations(local, 2):
        both = (ca >= min_confidence) & (cb >= min_confidence)  # (T, K)
        if both.any():
            dists.append(float(np.linalg.norm(xa - xb, axis=-1)[both].mean()))
    return float(np.mean(dists)) if dists else float("nan")


def person_box_size(keypoints: np.ndarray, *, min_confidence: float = MIN_CONFIDENCE) -> np.ndarray:
    """Per-frame ``max(h, w)`` in pixels of the box around the confident points, ``(T,)``.

    NaN for a frame with fewer than two confident points.
    """
    kp = as_keypoints(keypoints)
    ok = kp[..., 2] >= min_confidence
    x = np.where(ok, kp[..., 0], np.nan)
    y = np.where(ok, kp[..., 1], np.nan)
    with warnings.catch_warnings():  # frames with no confident point are all-NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        w = np.nanmax(x, 1) - np.nanmin(x, 1)
        h = np.nanmax(y, 1) - np.nanmin(y, 1)
    size = np.maximum(w, h)
    size[ok.sum(1) < 2] = np.nan
    return size


def pck(pred, gt, *, alpha: float = 0.1, region: str = "all",
        min_confidence: float = MIN_CONFIDENCE) -> float:
    """PCK: fraction of ground-truth keypoints predicted within ``alpha · max(h, w)`` pixels.

    Parameters
    ----------
    pred, gt : SkeletonSequence or np.ndarray, shape (T, 133, 3)
        In the same pixel frame; longer ones are cut to the shorter.
    alpha : float
        Threshold as a fraction of the ground-truth person box (the box around all confident
        ground-truth points of the frame); 0.1 by default, 0.2 in some papers.
    region : str
        Points scored (see module docstring).
    min_confidence : float
        Ground-truth points under it are not scored; predicted points under it count as misses.

    Returns
    -------
    float
        In 0..1; NaN when no ground-truth point of the region is confident.
    """
    if not 0 < alpha <= 1:
        raise OptionError(f"PCK alpha must be in (0, 1], got {alpha}; 0.1 or 0.2 are usual")
    p, g = as_keypoints(pred), as_keypoints(gt)
    t = min(len(p), len(g))
    p, g = p[:t], g[:t]
    thr = alpha * person_box_size(g, min_confidence=min_confidence)        # (T,)
    idx = region_indices(region)
    scored = (g[:, idx, 2] >= min_confidence) & np.isfinite(thr)[:, None]  # (T, K)
    if not scored.any():
        return float("nan")
    dist = np.linalg.norm(p[:, idx, :2] - g[:, idx, :2], axis=-1)          # (T, K)
    hit = (dist <= np.nan_to_num(thr)[:, None]) & (p[:, idx, 2] >= min_confidence)
    return float(hit[scored].mean())


def motion_metrics(keypoints, *, regions=("upper_body", "hands", "face")) -> dict[str, float]:
    """L1div of several regions, as a flat dict ``{"l1div_<region>": value}`` for a report."""
    return {f"l1div_{r}": l1_divergence(keypoints, region=r) for r in regions}

