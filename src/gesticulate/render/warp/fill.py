"""Filling pixels from their neighbours, shared by the layers' textures
(:mod:`~gesticulate.render.warp.rig`), the backdrop's fill
(:mod:`~gesticulate.render.warp.backdrop`), the cloth's under the arms
(:mod:`~gesticulate.render.warp.cloth`) and the renderer: Telea's inpainting, a blur that reads
a region only (and a region smoothed with it), a membrane between known pixels, colours bled
past a region's edge, and a mirror copy down the columns (and along the rows, near a hole's
side).
"""

from __future__ import annotations

import cv2
import numpy as np

from gesticulate.render.warp.masks import grown, mask_box


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


# A Gaussian blur whose sigma (the smaller, px) is at least 2 * SHRUNK_SIGMA runs on the image
# shrunk by the largest power of two that leaves it SHRUNK_SIGMA or more (area-averaged down,
# bilinear up): its cost grows with the sigma. The set-up's blurs that read a region
# (:func:`blur_in`, a cloth's shading over 8-32 px at 512 px) took 0.33 s of
# desk_host_body.png's 2.2 s at full size, 0.15 s so. The layers' textures of 8 photos changed
# by at most 7 grey levels, but for 0.24 % of interview_1wrQ6Msp7wM's torso fill (up to 70;
# the torso's PSNR against the old 47 dB, the others' 63 dB or more).
SHRUNK_SIGMA = 4.0


def gaussian(x: np.ndarray, sx: float, sy: float | None = None) -> np.ndarray:
    """``cv2.GaussianBlur(x, (0, 0), sx, sy)`` of a float32 ``(H, W[, C])`` image (``sy``
    defaults to ``sx``), wide ones on a shrunk copy (:data:`SHRUNK_SIGMA`)."""
    sy = sx if not sy else sy
    f = 1
    while min(sx, sy) / (2 * f) >= SHRUNK_SIGMA:
        f *= 2
    if f == 1:
        return cv2.GaussianBlur(x, (0, 0), sigmaX=sx, sigmaY=sy).reshape(x.shape)
    # Padded by 3 sigmas reflected, as OpenCV pads (its float kernel reaches 4: what lies
    # beyond 3 weighs 0.14 %), to a whole number of shrunk pixels.
    h, w = x.shape[:2]
    m = -(-int(np.ceil(3 * max(sx, sy))) // f) * f
    H, W = -(-(h + 2 * m) // f) * f, -(-(w + 2 * m) // f) * f
    big = cv2.copyMakeBorder(x, m, H - h - m, m, W - w - m, cv2.BORDER_REFLECT_101)
    small = cv2.resize(big, (W // f, H // f), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=sx / f, sigmaY=sy / f)
    out = cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR)[m:m + h, m:m + w]
    return np.ascontiguousarray(out).reshape(x.shape)


def blur_in(x: np.ndarray, region: np.ndarray, sigma: float | tuple[float, float]
            ) -> np.ndarray:
    """A Gaussian blur of ``x`` ``(H, W[, C])`` float32 that reads ``region``'s pixels only;
    ``sigma``: one, or ``(across, down)``."""
    sx, sy = (sigma, sigma) if np.isscalar(sigma) else sigma
    m = region.astype(np.float32)
    den = np.maximum(gaussian(m, sx, sy), 1e-6)
    num = gaussian(x * (m if x.ndim == 2 else m[..., None]), sx, sy)
    return num / (den if x.ndim == 2 else den[..., None])


def membrane(x: np.ndarray, known: np.ndarray, *, smooth: int = 40,
             up: float = 0.25, down: float = 0.25) -> np.ndarray:
    """``x`` ``(H, W, C)`` float32 with its pixels outside ``known`` replaced by a smooth
    interpolation of the known ones (a membrane: each unknown pixel the weighted mean of its
    four neighbours, the one above weighing ``up``, the one below ``down``, each beside half
    the rest), solved coarse to fine: on each level of a pyramid (the known values averaged
    down; a coarse pixel is known where a fifth of it is) ``smooth`` Jacobi sweeps (four times
    as many on the coarsest), started from the coarser level's answer. The known pixels keep
    their values; with none known, the answer is 0. Of known labels' one-hot channels, the
    answer is about the chance that a random walk from the pixel (stepping up ``up`` of the
    time, down ``down``) meets each label first (short of convergence far inside)."""
    if not (0.0 <= up and 0.0 <= down and up + down <= 1.0):
        raise ValueError(f"membrane: up {up} and down {down} must be shares of the steps")
    levels = [(x, known)]
    v, w = x * known[..., None], known.astype(np.float32)
    while min(w.shape) > 8:
        v, w = cv2.pyrDown(v), cv2.pyrDown(w)
        v = v.reshape(w.shape + (x.shape[2],))
        levels.append((v / np.maximum(w, 1e-6)[..., None], w > 0.2))
    side = (1.0 - up - down) / 2
    kernel = np.array([[0, up, 0], [side, 0, side], [0, down, 0]], np.float32)
    est = None
    for depth, (val, fixed) in enumerate(reversed(levels)):
        if est is None:
            seen = val[fixed]
            est = np.broadcast_to(seen.mean(0) if len(seen) else 0.0, val.shape)
        else:
            est = cv2.pyrUp(est, dstsize=(val.shape[1], val.shape[0]))
        est = np.array(est, np.float32).reshape(val.shape)
        # The known pixels put back after each sweep (np.copyto with a mask: a boolean
        # index's gather and scatter took most of the sweeps' time).
        where = fixed[..., None]
        np.copyto(est, val, where=where)
        for _ in range(smooth * (4 if depth == 0 else 1)):
            est = cv2.filter2D(est, -1, kernel, borderType=cv2.BORDER_REPLICATE
                               ).reshape(val.shape)
            np.copyto(est, val, where=where)
    return est


def grey_detail(image: np.ndarray, region: np.ndarray, sigma: float) -> np.ndarray:
    """The grey level of ``image`` (RGB uint8) less its :func:`blur_in` over ``region``
    (``sigma`` px): a cloth's fine detail, float32 ``(H, W)``."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return grey - blur_in(grey, region, sigma)


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


# The mirror image across the body (:func:`mirrored_across`) is kept where its mismatch with
# the seen pixels round the hole (RGB summed, interpolated inward as a membrane) is at most
# ACROSS_MISMATCH: hbr_speaker8's neck and collar, the cord of her necklace on them, differ
# from their mirror image by 30-60; where a body is not as symmetric as its pose says (a tie
# off the middle), a copy across it drew grey bars over the tie.
ACROSS_MISMATCH = 60.0


def mirrored_across(image: np.ndarray, hole: np.ndarray, src: np.ndarray, centre: np.ndarray,
                    across: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """``image`` (RGB uint8) with the ``hole`` pixels whose mirror image across the line
    through ``centre`` (x, y) perpendicular to ``across`` (a unit vector) is a ``src`` pixel
    (not within 2 px, at 512 px, of the hole) taken from there, shifted by the membrane
    (:func:`membrane`) of the mirror's mismatch with the seen pixels within 3 px round the
    hole, where that mismatch is at most :data:`ACROSS_MISMATCH`: ``(image, the pixels
    filled)``."""
    h, w = hole.shape
    none = np.zeros_like(hole)
    ys, xs = np.nonzero(hole | (grown(hole, 3 * scale) & src))
    if not len(ys):
        return image, none
    t = (xs - centre[0]) * across[0] + (ys - centre[1]) * across[1]
    mx = np.round(xs - 2 * t * across[0]).astype(int)
    my = np.round(ys - 2 * t * across[1]).astype(int)
    inside = (mx >= 0) & (mx < w) & (my >= 0) & (my < h)
    ok = np.zeros(len(xs), bool)
    ok[inside] = (src & ~grown(hole, 2 * scale))[my[inside], mx[inside]]
    copy = np.zeros(image.shape, np.float32)
    have = np.zeros_like(hole)
    copy[ys[ok], xs[ok]] = image[my[ok], mx[ok]]
    have[ys[ok], xs[ok]] = True
    ring = have & ~hole & src
    if not ring.any() or not (have & hole).any():
        return image, none
    miss = np.zeros(image.shape, np.float32)
    miss[ring] = image[ring].astype(np.float32) - copy[ring]
    box = mask_box(have, 2)
    copy[box] += membrane(miss[box], ring[box])
    off = membrane(np.abs(miss[box]).sum(2, keepdims=True), ring[box])[..., 0]
    got = have & hole
    got[box] &= off <= ACROSS_MISMATCH
    out = image.copy()
    out[got] = np.clip(copy[got] + 0.5, 0, 255).astype(np.uint8)
    return out, got


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


# A hole's pixels within SIDE_REACH px (at 512 px) of the seen cloth beside it, in its row, take
# the cloth mirrored across that side too (:func:`mirrored_both`); its weight fades out by twice
# that, against the columns' mirror (where that has nothing to copy, the row's copy is whole up
# to twice SIDE_REACH, and Telea's fill past it).
SIDE_REACH = 8.0
# ... unless the two mirrors' copies, blurred over AGREE_BLUR px, differ by more than AGREE[0]
# (RGB summed; none of the side's copy at AGREE[1]) where the column's cloth is no more than
# AGREE_RATIO times as far as the row's.
AGREE = (30.0, 60.0)
AGREE_BLUR = 8.0
AGREE_RATIO = 2.0


def mirrored_both(image: np.ndarray, hole: np.ndarray, src: np.ndarray, scale: float, *,
                  stops: np.ndarray | None = None, rows: np.ndarray | None = None,
                  share: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`mirrored` down the columns (stopping at ``stops``) and, near a side of the hole
    (:data:`SIDE_REACH`), along the rows too where ``rows`` (bool ``(H, W)``; everywhere by
    default), blended by the inverse square of each's distance to the edge it mirrors across:
    ``(colours, where defined, the columns' share (H, W) float32)``. ``share``: that of an
    earlier call, for a map of the same hole.

    The astronaut's sleeve in the README's demo is the cloth of her suit's side, with no edge
    between them. The column's mirror filled the suit under her arm from the bottom of the
    picture, 25 px down, with the dark glove there, and a dark line ran down her side when her
    arm moved a few px out; the row's copies the suit beside it. Where the two copies differ
    (a dark jacket with a light shirt beside it) and the column's cloth is near, the column's
    is kept: a jacket's edge and a shirt's front run down the body. Taken under hands too,
    desk_host_body.png's shirt was copied into his jacket where his pointing hand had lain:
    :func:`fill_hidden` takes it under the upper arms only."""
    mv, okv, dv = mirrored(image, hole, src, stops=stops, distance=True)
    mh, okh, dh = mirrored(image.transpose(1, 0, 2), hole.T, src.T, distance=True)
    mh, okh, dh = mh.transpose(1, 0, 2), okh.T, dh.T
    if share is None:
        reach = np.clip(2.0 - dh / (SIDE_REACH * scale), 0.0, 1.0)
        if rows is not None:
            okh = okh & rows
        wh = np.where(okh, reach / np.maximum(dh, 1) ** 2, 0.0).astype(np.float32)
        wv = np.where(okv, 1.0 / np.maximum(dv, 1) ** 2, 0.0).astype(np.float32)
        both = okv & okh
        diff = np.abs(blur_in(mv, both, AGREE_BLUR * scale)
                      - blur_in(mh, both, AGREE_BLUR * scale)).sum(2)
        agree = np.clip((AGREE[1] - diff) / (AGREE[1] - AGREE[0]), 0.0, 1.0)
        # The gate eases off from AGREE_RATIO to twice that (a hard one cut a notch of the
        # shirt into the jacket where it switched).
        ratio = np.minimum(dv, 1e6) / np.maximum(np.minimum(dh, 1e6), 1.0)
        far = np.clip((ratio - AGREE_RATIO) / AGREE_RATIO, 0.0, 1.0)
        wh *= np.where(okv, agree + (1.0 - agree) * far, 1.0)
        share = (wv / np.maximum(wv + wh, 1e-12)).astype(np.float32)
        share[(wv + wh) == 0] = 1.0
    ok = okv | (okh & (share < 1.0))
    # A later call on a crop may find no column to mirror where the whole picture had one.
    column = np.where(okv, share, 0.0)[..., None]
    return mv * column + mh * (1.0 - column), ok, share
