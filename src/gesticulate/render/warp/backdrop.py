"""The person's hole in the backdrop filled (RENDERING.md, "Once per photo"): Telea's fill
along the silhouette, the backdrop's own texture (OpenCV's shift-map) or its stripes run on
further in, above and below a desk's edge apart.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from gesticulate.render.warp.fill import blur_in, inpaint, mirrored
from gesticulate.render.warp.masks import components_below, lab_of, mask_box, odd_colours, touching
from gesticulate.skeleton.tracks import smoothstep


# The person's hole in a textured backdrop is filled with the backdrop's own texture
# (:func:`fill_backdrop`). Textured: the backdrop's detail beside the person (the mean absolute
# difference from its blur, grey levels, at BACKDROP_SIDE) at least this. The shared photos and
# clips' first frames at 512 px: windows, city lights, whiteboards, logos 7.6-12.6 (the demo's
# flag and shuttle 16.4); plain walls, gradient and stage backdrops 0.6-4.5.
TEXTURED = 6.0
# Working size (longest side, px) of the shift-map fill. Its cost grows faster than the hole:
# desk_host_body.png's whole fill took 2.1 CPU-s at 128 px, 1.6 at 112, on a set-up of 2.4 s.
# At 112 the textured clips' self-reenactment moved by -0.06 (avspeech_sample2) to +0.015 dB.
BACKDROP_SIDE = 112
# Telea's fill is kept within SEAM[0] px (at 512 px) of the hole's edge and blended into the
# texture by SEAM[1]: copied texture butting straight onto the silhouette's ring showed a jagged
# bright rim around avspeech_sample2's head; further in, Telea's colour smears read as grey
# blocks where desk_host_body.png's forearms had lain.
SEAM = (4.0, 14.0)
# Shift-map fills a picture at least this many working px on each side. On thinner ones (the
# strip below desk_host_body.png's desk edge is 13 rows) OpenCV's shift-map gave a different
# fill from one call to the next on the same input (2 fills in 10 calls at 13-32 rows, 1 in 15
# at 48-128), and crashed the process on one 8 px wide; there each row of the strip runs on
# across the hole instead.
SHIFTMAP_MIN = 48
TINT_SIGMA = 12.0     # working px: the copied texture takes Telea's colour at this scale and above
# Telea's hole is the person's hole with a clean edge: of the band the hole was grown by, only
# its share CLEAN_CORE nearest the person (3 px of 12 at 512 px), and what is not joined to the
# backdrop past the band by plain pixels (no step of over CLEAN_STEP grey levels in any channel
# across 3x3: the person's blurred edge, a strand of hair, a letter the band cuts), stays
# unknown; the rest of the band is read as backdrop. Filled from the hole's outer edge instead,
# avspeech_sample1's sway uncovered a grey, blotchy band beside her hair (Telea's blend of the
# whiteboard's letters, 30 levels darker than the board) and a pale one over the red poster
# beside it, whose ragged edges against the photo's own ring moved with her head.
CLEAN_CORE = 0.25
CLEAN_STEP = 24
# ... and, around the head (``hair``), no pixel off its CLEAN_THIN_SIDE px median by more than
# CLEAN_THIN grey levels, nor within 2 px of one: portrait_s2.jpg's faint curls, kept with the
# band as backdrop, stayed where the photo had them as a grey ghost beside his hair once his
# head moved (and Telea's fill ran their grey in along the core). Self-reenactment most-moved
# box PSNR over the still (12 clips, 512 px): avspeech_sample1 +3.223 -> +3.250 dB,
# avspeech_sample2 +1.400 -> +1.384, un_speech_female +2.193 -> +2.178, ted_lia_driving2
# +7.527 -> +7.514 (SSIM +0.0015), the rest within 0.002; over the whole band (4 levels) they
# lost up to 0.04 dB.
CLEAN_THIN = 6
CLEAN_THIN_SIDE = 7
# ... where no more than CLEAN_THIN_BUSY of the backdrop past the hole there is so: a city at
# night, lettering or a noisy picture is not told from curls (past the hole beside the head:
# portrait_s2.jpg 0.000, un_speech_female 0.03, avspeech_sample2 0.11, desk_host_body.png
# 0.26, talkshow_show_half 0.32).
CLEAN_THIN_BUSY = 0.05


def _backdrop_size(hole: np.ndarray, side: int = BACKDROP_SIDE) -> tuple[int, int]:
    """``(w, h)`` of the picture scaled down to at most ``side`` px (longest side)."""
    h, w = hole.shape
    scale = min(1.0, side / max(h, w))
    return max(1, round(w * scale)), max(1, round(h * scale))


def backdrop_detail(image: np.ndarray, hole: np.ndarray) -> float:
    """How textured the backdrop beside ``hole`` is: the mean absolute difference of the grey
    image from its blur (sigma 3 px, of the backdrop alone: the person's edge is not detail) at
    :data:`BACKDROP_SIDE`, over a band up to a sixth of the image's short side around the
    hole."""
    size = _backdrop_size(hole)
    grey = cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), size,
                      interpolation=cv2.INTER_AREA).astype(np.float32)
    hole_s = cv2.resize(hole.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    reach = max(3, int(round(min(size) / 6)))
    band = (cv2.dilate(hole_s, np.ones((2 * reach + 1,) * 2, np.uint8)) > 0) & (hole_s == 0)
    if not band.any():
        return 0.0
    return float(np.abs(grey - blur_in(grey, hole_s == 0, 3.0))[band].mean())


def fill_backdrop(image: np.ndarray, hole: np.ndarray, *, plain: np.ndarray | None = None,
                  surface=None, grow: float = 0.0) -> np.ndarray:
    """Fill the person's ``hole`` (bool ``(H, W)``) in an RGB uint8 photo: :class:`Backdrop`'s
    two steps at once. Pixels outside the hole are returned unchanged."""
    return Backdrop(image, hole, surface=surface, grow=grow).filled(plain)


class Backdrop:
    """The person's ``hole`` (bool ``(H, W)``) in an RGB uint8 photo filled (:func:`_texture`),
    above and below a desk's edge separately when ``surface`` (a
    :class:`~gesticulate.render.warp.surface.Surface`) is given: each side is filled from the
    rows on its side of the edge only, so the desk is filled with desk and the windows behind
    do not run down over it, and the edge stays straight.

    In two steps, as it is the set-up's longest: building one makes the fills, which need the
    hole only (OpenCV runs them without holding the GIL, so the renderer starts them on a
    thread as soon as the hole is known; the stripes' march, :func:`_streaked`, is numpy's and
    holds it, for part of its 40-70 ms at 512 px), and :meth:`filled` blends them along the
    seam, which needs the head (``plain``) too; :meth:`refill_below` fills the desk's side
    again for a smaller hole. ``grow``: how far (px) the hole was grown past the person; Telea fills
    only its clean core (:func:`clean_hole`; ``hair``: around the head)."""

    def __init__(self, image: np.ndarray, hole: np.ndarray, *, surface=None, grow: float = 0.0,
                 hair: np.ndarray | None = None):
        self.image, self.surface, self.grow, self.hair = image, surface, grow, hair
        self.sides: list[tuple] = []       # (rows, part, unknown, smooth, texture)
        self._below = [False]              # per side: the desk's (below its edge)
        if surface is None or not hole.any():
            self.sides.append((slice(None), hole, hole,
                               *_texture(image, hole, grow=grow, hair=hair)))
            return
        jobs = self._jobs(hole)
        # Both sides at once: OpenCV's fills run without holding the GIL (the stripes' march
        # excepted).
        with ThreadPoolExecutor(max_workers=2) as pool:
            fills = [pool.submit(self._fill, *job[:3]) for job in jobs]
            self.sides = [(*job[:3], *f.result()) for job, f in zip(jobs, fills)]
        self._below = [job[3] for job in jobs]

    def _jobs(self, hole: np.ndarray) -> list[tuple]:
        """``(rows, part, unknown, below)`` of each side of the desk's edge with a part of
        ``hole``."""
        h, w = hole.shape
        lo, hi = self.surface.rows(w)
        lo, hi = min(max(0, lo), h), max(min(h - 1, hi), -1)
        below = self.surface.below((h, w))
        jobs = []
        for rows, side, is_below in ((slice(0, hi + 1), ~below, False),
                                     (slice(lo, h), below, True)):
            part = hole[rows] & side[rows]
            if part.any():
                # A sloped edge crosses the rows it spans: the other side's pixels there are no
                # source. A side with nothing of its own to copy takes the whole picture's fill.
                unknown = hole[rows] | ~side[rows]
                if unknown.all():
                    rows, part, unknown = slice(None), hole & side, hole
                jobs.append((rows, part, unknown, is_below))
        return jobs

    def _fill(self, rows: slice, part: np.ndarray, unknown: np.ndarray) -> tuple:
        # Only the side's own part of the hole may be read as backdrop: the other side's
        # pixels along a sloped edge stay unknown to this side's fill.
        return _texture(self.image[rows], unknown, grow=self.grow, within=part,
                        hair=None if self.hair is None else self.hair[rows])

    def refill_below(self, hole: np.ndarray) -> None:
        """The desk's side filled again for ``hole``, smaller than the first: the body behind
        the desk is the photo's again (the renderer learns it after the fills started), and
        what an arm or a hand uncovers there is filled from it too. Filled before it was known,
        pats_oliver_slice18.png's glass desk had its rail in front of his suit filled from the
        rail's bright ends, a pale block where his hand had lain once it rose."""
        if self.surface is None or not hole.any():
            return
        kept = [side for side, below in zip(self.sides, self._below) if not below]
        jobs = [job for job in self._jobs(hole) if job[3]]
        self.sides = kept + [(*job[:3], *self._fill(*job[:3])) for job in jobs]
        self._below = [False] * len(kept) + [True] * len(jobs)

    def filled(self, plain: np.ndarray | None = None) -> np.ndarray:
        """The photo with the hole filled, Telea's fill kept along the silhouette and within
        :data:`SEAM` ``[1]`` px of ``plain`` (bool ``(H, W)``; the renderer gives the head: the
        band its sway uncovers showed a copy of the demo photo's space shuttle behind the
        astronaut's hair)."""
        out = self.image.copy()
        for rows, part, unknown, smooth, texture in self.sides:
            mixed = _seam(smooth, texture, unknown, None if plain is None else plain[rows])
            out[rows][part] = mixed[part]
        return out


def clean_hole(image: np.ndarray, hole: np.ndarray, *, grow: float,
               within: np.ndarray | None = None, hair: np.ndarray | None = None) -> np.ndarray:
    """The part of ``hole`` (bool ``(H, W)``, the person grown by ``grow`` px) that Telea is
    to fill: its core (the person and the share :data:`CLEAN_CORE` of the band nearest them),
    and the pixels of the band not joined to the backdrop past the hole by plain pixels
    (:data:`CLEAN_STEP`). The band's other pixels are the photo's backdrop, and the fill runs
    on from them. ``within``: the only pixels of the band that may be read so (one side of a
    desk's edge, whose other side is unknown to that side's fill). ``hair``: around the head,
    where a faint thin pixel (:data:`CLEAN_THIN`) is no backdrop either."""
    if grow <= 1.0 or not hole.any() or hole.all():
        return hole
    depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)
    band = hole & (depth <= (1.0 - CLEAN_CORE) * grow)
    if within is not None:
        band &= within
    if not band.any():        # a hole grown by a px or so (a tiny picture): no band to read
        return hole
    box = mask_box(band, int(np.ceil(grow)) + 2)
    step = cv2.morphologyEx(image[box], cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).max(2)
    if hair is not None:
        # Around the head, on a plain backdrop, a pixel off its 7x7 median by more than
        # CLEAN_THIN (a faint curl or wisp, too faint for a step), and what lies within 2 px of
        # it, is no backdrop.
        med = cv2.medianBlur(image[box], CLEAN_THIN_SIDE)
        thin = np.abs(image[box].astype(np.int16) - med).max(2) > CLEAN_THIN
        past = hair[box] & ~hole[box]
        if past.any() and thin[past].mean() <= CLEAN_THIN_BUSY:
            thin = cv2.dilate(thin.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
            step = np.where(thin & hair[box], 255, step)
    plain = (step <= CLEAN_STEP) & (band[box] | ~hole[box])
    clean = np.zeros_like(hole)
    clean[box] = touching(plain, ~hole[box]) & band[box]
    return hole & ~clean


def _texture(image: np.ndarray, hole: np.ndarray, *, grow: float = 0.0,
             within: np.ndarray | None = None, hair: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray | None]:
    """Telea's fill of ``hole`` (bool ``(H, W)``) in an RGB uint8 photo, and the backdrop's
    texture carried into it (float32 RGB; ``None`` for a plain backdrop with no stripes to
    run on).

    Telea inpainting (:func:`inpaint`) smears a person-sized hole into a fan of streaks: fine on
    a plain wall, but on desk_host_body.png's night windows a brown wedge of the desk reached up
    the glass, and a raised hand left a grey block where it had lain. In a textured backdrop
    (:func:`backdrop_detail` ≥ :data:`TEXTURED`) the hole is filled by OpenCV's shift-map
    inpainting instead (every hole pixel copied from a known one, the shifts kept coherent, at
    :data:`BACKDROP_SIDE` px), which carries the window bars, the desk and the wall on; the
    copy takes Telea's colour at large scales (:data:`TINT_SIGMA`: a patch copied from a
    lighter part of the backdrop read as the person's ghost). Pixels shift-map cannot reach (it
    leaves them black, along a border the hole touches) keep Telea's. Telea fills the hole's
    clean core only (:func:`clean_hole`, ``grow`` px the hole was grown by, ``within`` the
    pixels it may read as backdrop). Stripes and bands beside the hole run on along themselves
    instead of the copy, or of Telea's fill on a plain backdrop (:func:`_streaked`)."""
    core = clean_hole(image, hole, grow=grow, within=within, hair=hair)
    smooth = inpaint(image, core)
    if not hole.any():
        return smooth, None
    h, w = hole.shape
    size = _backdrop_size(hole)
    strip = min(size) < SHIFTMAP_MIN     # a strip's rows run on along it (below)
    if backdrop_detail(image, hole) < TEXTURED:
        if strip:
            return smooth, None
        return smooth, _with_streaks(image, core, smooth, plain=True)
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    hole_s = cv2.dilate(cv2.resize(hole.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST),
                        np.ones((3, 3), np.uint8))
    if hole_s.all():
        return smooth, None
    tint = cv2.resize(smooth, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    if not strip:
        copied = np.zeros_like(small)
        # Black marks what shift-map could not reach, so the photo's own black is lifted to 1.
        cv2.xphoto.inpaint(np.maximum(small, 1), (1 - hole_s).astype(np.uint8), copied,
                           cv2.xphoto.INPAINT_SHIFTMAP)
        copied = copied.astype(np.float32)
        missed = (copied == 0).all(axis=2)
    else:
        # A strip (a desk below its edge): its own rows mirrored across the hole, back and
        # forth, as a desk's surface runs on level; its rare odd colours (a pencil lying on
        # desk_host_body.png's desk) are not copied.
        known = hole_s == 0
        src = known & ~odd_colours(lab_of(small), known)
        mixed, reached = mirrored(small.transpose(1, 0, 2), hole_s.T > 0, src.T, bounce=True)
        copied, missed = mixed.transpose(1, 0, 2), ~reached.T & (hole_s > 0)
    copied[missed] = tint[missed]
    copied += cv2.GaussianBlur(tint - copied, (0, 0), TINT_SIGMA)
    texture = cv2.resize(copied, (w, h), interpolation=cv2.INTER_LINEAR)
    if strip:
        return smooth, texture
    return smooth, _with_streaks(image, core, texture)


def _with_streaks(image: np.ndarray, hole: np.ndarray, base: np.ndarray, *, plain: bool = False
                  ) -> np.ndarray | None:
    """``base`` (a fill of ``hole``, RGB) with the stripes run on into it where they
    are found (:func:`_streaked`); ``None`` for a ``plain`` backdrop with none, whose Telea
    fill is kept whole."""
    streaks, weight = _streaked(image, hole)
    if plain and not weight.any():
        return None
    return base + (streaks - base) * weight[..., None]


# Stripes and bands (a flag's, a stage's, window bars) run on into the person's hole along
# themselves (:func:`_streaked`), worked at STREAK_SIDE px (longest side). Their direction is
# the backdrop's colour structure tensor, blurred over STREAK_SIGMA working px, at the backdrop
# pixel nearest each hole pixel; each hole pixel looks along it up to STREAK_REACH working px
# each way and takes the mean of the STREAK_RUN pixels past where it leaves the hole. Where the
# tensor's coherence there, over the blur and over three times it, lies past
# STREAK_COHERENT[0] (ramped over STREAK_COHERENT[1]) and the backdrop is found within half the
# reach (ramped out over the other half), the stripes replace shift-map's copy, or Telea's fill
# on a plain backdrop (past :data:`SEAM`, as the copy). Islands of backdrop in the hole under
# STREAK_ISLAND of the picture are no source.
# - The demo photo's flag, beside the astronaut's arm: shift-map at BACKDROP_SIDE copied a
#   blue block of the flag's stars into the strip her arm uncovers, and the stripes stopped
#   at her sleeve.
# - ted_lia_driving1's stage: Telea spread the black band behind him into a blob with a
#   sloped edge; it now runs on level for a way.
# - Blurred from the backdrop into the hole instead (a tenth as strongly over four times the
#   blur), the direction turned in arcs deep in it. At a coherence of 0.35 the blurred rows of
#   avspeech_sample2's monitors ran on as hatching beside his shoulders. Over the blur alone,
#   hbr_speaker12's wall grew scribbles beside his chair, and an island of the band around him
#   ran on as a grey bar across the wall.
STREAK_SIDE = 256
STREAK_SIGMA = 5.0
STREAK_REACH = 48
STREAK_COHERENT = (0.5, 0.3)
STREAK_RUN = 6
STREAK_ISLAND = 0.01


def _streaked(image: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``hole`` (bool ``(H, W)``) of an RGB uint8 photo filled along the stripes of what lies
    around it (float32 RGB), and how far to take that fill (float32 ``(H, W)``, 0..1): each
    hole pixel takes the colours the backdrop shows where a line along the local stripe
    direction leaves the hole, on both sides, blended by the inverse of their distances."""
    h, w = hole.shape
    size = _backdrop_size(hole, STREAK_SIDE)
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    known = cv2.resize((~hole).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    # A small patch of backdrop (the gap between an arm and the body, a patch of the band
    # around the person read as clean) is no stripe to run on: hbr_speaker12's ran on as a
    # grey bar across the wall.
    known &= ~components_below(known, STREAK_ISLAND * known.size)
    # The gradient read where its 5x5 neighbourhood is all backdrop (the person's edge is no
    # stripe), 3 px or more inside the picture (Sobel's mirrored border reads a stripe running
    # into the edge as one running along it).
    valid = cv2.erode(known.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(np.float32)
    valid[:3], valid[-3:], valid[:, :3], valid[:, -3:] = 0, 0, 0, 0
    none = np.zeros(hole.shape, np.float32)
    if not valid.any():
        return image.astype(np.float32), none
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    tensor = np.stack([(gx * gx).sum(2), (gx * gy).sum(2), (gy * gy).sum(2)], axis=2)
    coherence, across = _orientation(tensor, valid > 0, STREAK_SIGMA)
    # ... as coherent over three times the blur: a knob's or a chair's edge is not.
    coherence = np.minimum(coherence, _orientation(tensor, valid > 0, 3 * STREAK_SIGMA)[0])
    # Each hole pixel takes the direction of the nearest pixel the tensor was read at; only
    # those within reach of it, where it is coherent, look along it (a plain wall's hole
    # looks nowhere).
    depth, label = cv2.distanceTransformWithLabels((valid == 0).astype(np.uint8), cv2.DIST_L2,
                                                   5, labelType=cv2.DIST_LABEL_PIXEL)
    vy, vx = np.nonzero(valid)
    at = np.zeros((label.max() + 1, 2), np.intp)
    at[label[vy, vx]] = np.stack([vy, vx], axis=1)
    ys, xs = np.nonzero(~known & (depth <= STREAK_REACH + 6))   # valid lies <= 6 px in
    ny, nx = at[label[ys, xs]].T
    keep = coherence[ny, nx] > STREAK_COHERENT[0]
    ys, xs, ny, nx = ys[keep], xs[keep], ny[keep], nx[keep]
    if not len(ys):
        return image.astype(np.float32), none
    step = np.stack([-np.sin(across[ny, nx]), np.cos(across[ny, nx])], axis=1)
    ends = [_stripe_end(small, known, xs, ys, sign * step) for sign in (1.0, -1.0)]
    (t1, c1), (t2, c2) = ends
    w1, w2 = 1.0 / t1, 1.0 / t2                            # 0 where nothing was found
    found = (w1 + w2) > 0
    colour = (c1 * w1[:, None] + c2 * w2[:, None]) / np.maximum(w1 + w2, 1e-9)[:, None]
    near = np.minimum(t1, t2)
    half = STREAK_REACH / 2.0
    share = (found * smoothstep((coherence[ny, nx] - STREAK_COHERENT[0]) / STREAK_COHERENT[1])
             * (1.0 - smoothstep((near - half) / half)))
    # Scaled up weighted by its share: a pixel whose stripe was not found is no black to blend
    # into its neighbours' (a dark line along a stripe's edge at 512 px).
    fill = np.zeros(small.shape, np.float32)
    fill[ys, xs] = colour * share[:, None]
    weight = np.zeros(known.shape, np.float32)
    weight[ys, xs] = share
    weight = cv2.resize(weight, (w, h), interpolation=cv2.INTER_LINEAR)
    out = cv2.resize(fill, (w, h), interpolation=cv2.INTER_LINEAR)
    return out / np.maximum(weight, 1e-6)[..., None], weight * hole


def _orientation(tensor: np.ndarray, valid: np.ndarray, sigma: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The coherence (0..1) and the gradient's direction (radians) of a structure tensor
    ``(H, W, 3)`` (``xx, xy, yy``) blurred over ``sigma`` px, reading ``valid`` pixels only."""
    a, b, c = np.moveaxis(blur_in(tensor, valid, sigma), 2, 0)
    coherence = np.sqrt((a - c) ** 2 + 4.0 * b * b) / np.maximum(a + c, 1e-6)
    return coherence, 0.5 * np.arctan2(2.0 * b, a - c)


def _stripe_end(image: np.ndarray, known: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """From each pixel ``(xs, ys)``, whole steps of ``step`` ``(N, 2)`` until a ``known``
    pixel, up to :data:`STREAK_REACH`: how many (inf where none, or where fewer than half the
    :data:`STREAK_RUN` pixels past it along the line are known: a sliver at the picture's
    edge), and the mean colour of those (off the edge's blend with the person)."""
    hgt, wid = known.shape
    dist = np.full(len(xs), np.inf, np.float32)
    todo = np.arange(len(xs))
    for k in range(1, STREAK_REACH + 1):
        if not len(todo):
            break
        px = np.rint(xs[todo] + k * step[todo, 0]).astype(np.intp)
        py = np.rint(ys[todo] + k * step[todo, 1]).astype(np.intp)
        inside = (px >= 0) & (px < wid) & (py >= 0) & (py < hgt)
        hit = np.zeros(len(todo), bool)
        hit[inside] = known[py[inside], px[inside]]
        dist[todo[hit]] = k
        todo = todo[inside & ~hit]
    got = np.flatnonzero(np.isfinite(dist))
    runs = dist[got, None] + np.arange(1, STREAK_RUN + 1, dtype=np.float32)   # (G, RUN)
    px = np.rint(xs[got, None] + runs * step[got, :1]).astype(np.intp)
    py = np.rint(ys[got, None] + runs * step[got, 1:]).astype(np.intp)
    seen = (px >= 0) & (px < wid) & (py >= 0) & (py < hgt)
    seen &= known[np.clip(py, 0, hgt - 1), np.clip(px, 0, wid - 1)]
    count = seen.sum(1)
    samples = image[np.clip(py, 0, hgt - 1), np.clip(px, 0, wid - 1)] * seen[..., None]
    colour = np.zeros((len(xs), 3), np.float32)
    colour[got] = samples.sum(1) / np.maximum(count, 1)[:, None]
    dist[got[count < STREAK_RUN // 2]] = np.inf
    return dist, colour


def _seam(smooth: np.ndarray, texture: np.ndarray | None, hole: np.ndarray,
          plain: np.ndarray | None) -> np.ndarray:
    """:func:`_texture`'s two fills blended: Telea's within :data:`SEAM` ``[0]`` px (at 512 px)
    of the hole's edge and of ``plain``, the texture from :data:`SEAM` ``[1]`` px on."""
    if texture is None:
        return smooth
    h, w = hole.shape
    px = min(h, w) / 512.0
    depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)
    t = np.clip((depth - SEAM[0] * px) / ((SEAM[1] - SEAM[0]) * px), 0.0, 1.0)[..., None]
    if plain is not None and plain.any():
        away = cv2.distanceTransform((~plain).astype(np.uint8), cv2.DIST_L2, 3)
        t *= np.clip(away / (SEAM[1] * px) - 1.0, 0.0, 1.0)[..., None]
    t = t * t * (3.0 - 2.0 * t)
    return np.clip(smooth * (1.0 - t) + texture * t + 0.5, 0, 255).astype(np.uint8)
