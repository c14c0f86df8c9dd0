"""Filling pixels from their neighbours, shared by the layers' textures
(:mod:`~gesticulate.render.warp.rig`), the backdrop's fill
(:mod:`~gesticulate.render.warp.backdrop`), the cloth's under the arms
(:mod:`~gesticulate.render.warp.cloth`) and the renderer: Telea's inpainting, a blur that reads
a region only (and a region smoothed with it), colours bled past a region's edge, and a mirror
copy down the columns.
"""

from __future__ import annotations

import cv2
import numpy as np

from gesticulate.render.warp.masks import mask_box


def inpaint(image: np.ndarray, hole: np.ndarray, *, scale: float = 0.5,
            pad: int = 16) -> np.ndarray:
    """Fill ``hole`` (bool ``(H, W)``) in an RGB uint8 image with Telea inpainting at reduced
    scale (speed), padding first because masks often touch the border. Pixels outside the hole
    are returned unchanged."""
    if not hole.any():
        return image.copy()
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    hole_p = cv2.copyMakeBorder(hole.astype(np.uint8), pad, pad, pad, pad, cv2.BORDER_REFLECT)
    small = cv2.resize(padded, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    hole_s = cv2.resize(hole_p, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
    hole_s = cv2.dilate(hole_s, np.ones((3, 3), np.uint8))
    filled = cv2.inpaint(small, hole_s, 5, cv2.INPAINT_TELEA)
    filled = cv2.GaussianBlur(filled, (5, 5), 0)
    up = cv2.resize(filled, (padded.shape[1], padded.shape[0]), interpolation=cv2.INTER_LINEAR)
    up = up[pad:-pad, pad:-pad]
    out = image.copy()
    out[hole] = up[hole]
    return out


def blur_in(x: np.ndarray, region: np.ndarray, sigma: float | tuple[float, float]
            ) -> np.ndarray:
    """A Gaussian blur of ``x`` ``(H, W[, C])`` float32 that reads ``region``'s pixels only;
    ``sigma``: one, or ``(across, down)``."""
    sx, sy = (sigma, sigma) if np.isscalar(sigma) else sigma
    m = region.astype(np.float32)
    den = np.maximum(cv2.GaussianBlur(m, (0, 0), sigmaX=sx, sigmaY=sy), 1e-6)
    num = cv2.GaussianBlur(x * (m if x.ndim == 2 else m[..., None]), (0, 0), sigmaX=sx,
                           sigmaY=sy)
    return num / (den if x.ndim == 2 else den[..., None])


def smoothed_in(image: np.ndarray, region: np.ndarray, sigma: float) -> np.ndarray:
    """``image`` RGB uint8 with ``region``'s pixels blurred among themselves (Gaussian,
    ``sigma`` px): a plain sleeve's fill softened, a hand's pixels under the other hand kept
    in that skin's colour and light without the other hand's fingers, which would stay
    behind as a ghost when it rises."""
    out = image.copy()
    if region.any():
        soft = blur_in(image.astype(np.float32), region, sigma)
        out[region] = np.clip(soft[region] + 0.5, 0, 255).astype(np.uint8)
    return out


def bleed(rgb: np.ndarray, region: np.ndarray, *, steps: int = 6) -> np.ndarray:
    """Extend the colours of ``region`` outwards by ``steps`` pixels, so bilinear sampling at a
    layer's edge never mixes in the colour of what lay behind it (no halo). Worked inside
    ``region``'s box grown by ``steps`` + 1 px, beyond which nothing changes."""
    whole = np.clip(rgb.astype(np.float32) + 0.5, 0, 255).astype(np.uint8)
    if region.any():
        box = mask_box(region, steps + 1)
        whole[box] = _bleed(rgb[box], region[box], steps)
    return whole


def _bleed(rgb: np.ndarray, region: np.ndarray, steps: int) -> np.ndarray:
    out = rgb.astype(np.float32)
    known = region.astype(np.float32)
    kernel = np.ones((3, 3), np.float32)
    for _ in range(steps):
        wsum = cv2.filter2D(known, -1, kernel)
        acc = cv2.filter2D(out * known[..., None], -1, kernel)
        new = (known == 0) & (wsum > 0)
        out[new] = acc[new] / wsum[new][:, None]
        known = np.maximum(known, new.astype(np.float32))
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def mirrored(image: np.ndarray, hole: np.ndarray, src: np.ndarray, *, bounce: bool = False,
             stops: np.ndarray | None = None, distance: bool = False) -> tuple:
    """Each ``hole`` pixel as the ``src`` pixels mirrored across the hole's upper edge and,
    where there are some below too, across its lower edge, blended by distance: ``(colours
    (H, W, 3) float32, where defined (H, W) bool)``. A pixel further from an edge than the
    source run beyond it is long has nothing to mirror there, unless ``bounce``: then the
    mirror bounces back and forth inside the run (the run repeated, mirrored). Nor has one
    with a ``stops`` pixel (bool ``(H, W)``) between it and that edge's source. ``distance``:
    a third array, each pixel's distance (px, float32) to the nearer edge it mirrors across
    (inf where none)."""
    used = np.flatnonzero(hole.any(axis=0))
    if len(used) and len(used) < 0.75 * hole.shape[1]:
        # Each column is its own: only those with a hole pixel are worked on (on the whole
        # canvas this took 0.26 of the 1.41 s set-up of pats_oliver_slice18.png, profiled);
        # with most columns used, the copy in and out would cost more than it saves.
        got = mirrored(image[:, used], hole[:, used], src[:, used], bounce=bounce,
                       stops=None if stops is None else stops[:, used], distance=distance)
        mixed = np.zeros(image.shape, np.float32)
        mixed[:, used] = got[0]
        where = np.zeros(hole.shape, bool)
        where[:, used] = got[1]
        if not distance:
            return mixed, where
        near = np.full(hole.shape, np.inf, np.float32)
        near[:, used] = got[2]
        return mixed, where, near
    h, w = hole.shape
    rows = np.arange(h)[:, None]
    cols = np.broadcast_to(np.arange(w), (h, w))
    if stops is not None:       # a stop ends a run of source
        src = src & ~stops
    above = np.vstack([np.zeros((1, w), bool), src[:-1]])
    below = np.vstack([src[1:], np.zeros((1, w), bool)])
    last = np.maximum.accumulate(np.where(src, rows, -1), axis=0)            # source row above
    start = np.maximum.accumulate(np.where(src & ~above, rows, -1), axis=0)
    nxt = np.minimum.accumulate(np.where(src, rows, h)[::-1], axis=0)[::-1]   # source row below
    end = np.minimum.accumulate(np.where(src & ~below, rows, h)[::-1], axis=0)[::-1]
    d_up, d_down = rows - last, nxt - rows
    run_up = last - np.take_along_axis(start, np.clip(last, 0, h - 1), 0) + 1
    run_down = np.take_along_axis(end, np.clip(nxt, 0, h - 1), 0) - nxt + 1
    has_up, has_down = last >= 0, nxt < h
    if stops is not None:       # no stop between the pixel and the source it mirrors
        has_up &= np.maximum.accumulate(np.where(stops, rows, -1), axis=0) < last
        has_down &= np.minimum.accumulate(np.where(stops, rows, h)[::-1], axis=0)[::-1] > nxt
    if bounce:
        def folded(d, run):
            m = (d - 1) % np.maximum(2 * run, 1)
            return np.where(m < run, m, 2 * run - 1 - m)
        off_up, off_down = folded(d_up, run_up), folded(d_down, run_down)
    else:
        has_up &= d_up <= run_up
        has_down &= d_down <= run_down
        off_up, off_down = d_up - 1, d_down - 1
    up = image[np.clip(last - off_up, 0, h - 1), cols].astype(np.float32)
    down = image[np.clip(nxt + off_down, 0, h - 1), cols].astype(np.float32)
    w_up = np.where(has_up & has_down, d_down / np.maximum(d_up + d_down, 1), has_up * 1.0)
    mixed = up * w_up[..., None] + down * (1 - w_up[..., None])
    if not distance:
        return mixed, hole & (has_up | has_down)
    near = np.minimum(np.where(has_up, d_up, np.inf), np.where(has_down, d_down, np.inf))
    return mixed, hole & (has_up | has_down), near.astype(np.float32)
