"""A plain cloth's weave run on over its smooth fill: a hidden sleeve's
(:func:`~gesticulate.render.warp.cloth.fill_along`, a sleeve too plain to copy,
:data:`~gesticulate.render.warp.shading.PLAIN_CLOTH`) and each cloth's of the torso where it
is plain (:func:`~gesticulate.render.warp.shading.shaded_where_plain`,
:data:`~gesticulate.render.warp.shading.LOCAL_DETAIL`).

A smooth patch on a woven jacket reads as a blur: hbr_speaker12's sleeves, hidden under his
raised forearms in the photo, came down as flat, glossy blobs on his checked jacket, and
hbr_speaker7's navy jacket as a patch of paint where his forearms had lain. The cloth's fine
detail (what a blur of a pixel and a half takes away) is laid over the fill, copied in
overlapping blocks from the seen cloth, each from a place drawn at random with a fixed seed
(the same photo gives the same fill), and feathered into the next. Only the calmer half of
the cloth's blocks is drawn from (no seam, fold or lapel edge; the weave laid is a little
fainter than the cloth's average: 0.93 of it on the tests' jacket).
"""

from __future__ import annotations

import cv2
import numpy as np

from gesticulate.render.warp.fill import blur_in
from gesticulate.render.warp.masks import mask_box

# The detail is what a Gaussian blur of this many px (at 512 px) takes from the cloth ...
WEAVE_SIGMA = 1.5
# ... copied in blocks this many px across (at 512 px), overlapping by half.
WEAVE_BLOCK = 12


def woven(image: np.ndarray, filled: np.ndarray, hole: np.ndarray, src: np.ndarray,
          scale: float, *, seed: int = 0) -> np.ndarray:
    """``filled`` (RGB uint8 ``(H, W, 3)``, ``hole`` filled smooth) with the fine detail of
    the seen cloth ``src`` of ``image`` laid over the ``hole`` (:func:`weave`)."""
    out = filled.copy()
    laid = weave(image, hole, src, scale, seed=seed)
    out[hole] = np.clip(out[hole].astype(np.float32) + laid[hole] + 0.5, 0, 255).astype(np.uint8)
    return out


def weave(image: np.ndarray, hole: np.ndarray, src: np.ndarray, scale: float, *,
          seed: int = 0) -> np.ndarray:
    """The fine detail ``(H, W, 3)`` float32 of the seen cloth ``src`` of ``image`` (RGB uint8)
    laid over the ``hole``, 0 elsewhere, and everywhere when the cloth shows no block wholly its
    own (a block's pixels 1 px inside the cloth's edge, whose pixels blend with what lies
    beside it). ``scale``: the picture's size in units of 512 px."""
    out = np.zeros(image.shape, np.float32)
    if not hole.any():
        return out
    b = max(4, int(round(WEAVE_BLOCK * scale)))
    box = mask_box(hole | src, b)
    img, hole_b, src_b = image[box].astype(np.float32), hole[box], src[box]
    h, w = hole_b.shape
    if h < b or w < b:
        return out
    inner = cv2.erode(src_b.astype(np.uint8), np.ones((3, 3), np.uint8))
    detail = img - blur_in(img, src_b, max(0.5, WEAVE_SIGMA * scale))
    # Top-left corners of the blocks lying wholly on the seen cloth.
    ys, xs = np.nonzero(_block_sums(inner, b) == b * b)
    if not len(ys):
        return out
    # Of those, the ones as busy as the cloth's weave is, no busier: a block across a seam,
    # a fold's edge or a lapel carried them into the fill as dark scratches.
    busy = _block_sums((detail ** 2).sum(axis=2).astype(np.float64), b)[ys, xs]
    calm = busy <= np.median(busy)
    ys, xs = ys[calm], xs[calm]
    rng = np.random.default_rng(seed)
    tent = 1.0 - np.abs(np.linspace(-1.0, 1.0, b + 2)[1:-1])
    window = np.outer(tent, tent).astype(np.float32)[..., None]
    acc = np.zeros_like(img)
    weight = np.zeros(img.shape[:2] + (1,), np.float32)
    step = b // 2
    hy, hx = np.nonzero(hole_b)
    for y in range(max(0, hy.min() - b + 1) // step * step, hy.max() + 1, step):
        for x in range(max(0, hx.min() - b + 1) // step * step, hx.max() + 1, step):
            ty, tx = min(y, h - b), min(x, w - b)
            if not hole_b[ty:ty + b, tx:tx + b].any():
                continue
            k = int(rng.integers(len(ys)))
            sy, sx = ys[k], xs[k]
            acc[ty:ty + b, tx:tx + b] += detail[sy:sy + b, sx:sx + b] * window
            weight[ty:ty + b, tx:tx + b] += window ** 2
    # Blocks drawn apart are unrelated: their blend keeps the weave's spread (divided by the
    # root of the weights' squares), where their mean would halve it.
    laid = acc / np.sqrt(np.maximum(weight, 1e-6))
    out[box][hole_b] = laid[hole_b]
    return out


def _block_sums(x: np.ndarray, b: int) -> np.ndarray:
    """The sum of ``x`` ``(H, W)`` over each ``b`` by ``b`` block, by its top-left corner
    ``(H - b + 1, W - b + 1)``."""
    s = cv2.integral(x)
    return s[b:, b:] - s[:-b, b:] - s[b:, :-b] + s[:-b, :-b]
