"""Once-per-photo set-up of the puppet: layer textures, meshes, skinning weights and the
inpainted background (RENDERING.md, "Once per photo").
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from gesticulate.render.warp import bones as B
from gesticulate.render.warp.mesh import Mesh, build_mesh
from gesticulate.render.warp.parts import (Parts, colour_clusters, components_below, grown,
                                          lab_of, mask_box, odd_colours, touching)
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.tracks import smoothstep


@dataclass
class Layer:
    """One puppet layer.

    Attributes
    ----------
    name : str
        ``"torso"``, ``"head"``, ``"arm_left"`` or ``"arm_right"``.
    mesh : Mesh
        Vertices in photo pixels.
    weights : np.ndarray
        ``(V, NUM_BONES)`` float64 skinning weights, rows sum to 1.
    texture : np.ndarray
        ``(H + 2B, W + 2B, 4)`` uint8 RGBA: the photo (hidden parts filled, colours bled past
        the edge) with the layer's alpha, padded by ``B = BORDER`` pixels on each side.
    """

    name: str
    mesh: Mesh
    weights: np.ndarray
    texture: np.ndarray


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


def smoothed_in(image: np.ndarray, region: np.ndarray, sigma: float) -> np.ndarray:
    """``image`` RGB uint8 with ``region``'s pixels blurred among themselves (Gaussian,
    ``sigma`` px): a plain sleeve's fill softened, a hand's pixels under the other hand kept
    in that skin's colour and light without the other hand's fingers, which would stay
    behind as a ghost when it rises."""
    out = image.copy()
    if region.any():
        soft = _blur_in(image.astype(np.float32), region, sigma)
        out[region] = np.clip(soft[region] + 0.5, 0, 255).astype(np.uint8)
    return out


def _backdrop_size(hole: np.ndarray, side: int = BACKDROP_SIDE) -> tuple[int, int]:
    """``(w, h)`` of the picture scaled down to at most ``side`` px (longest side)."""
    h, w = hole.shape
    scale = min(1.0, side / max(h, w))
    return max(1, round(w * scale)), max(1, round(h * scale))


def cloth_detail(image: np.ndarray, region: np.ndarray) -> float:
    """How textured the cloth of ``region`` is: the mean absolute difference of the grey image
    from its blur (sigma 3 px, of the region alone) inside the region, its edge left out."""
    inner = cv2.erode(region.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if not inner.any():
        return 0.0
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.abs(grey - _blur_in(grey, region, 3.0))[inner].mean())


def _blur_in(x: np.ndarray, region: np.ndarray, sigma: float | tuple[float, float]
             ) -> np.ndarray:
    """A Gaussian blur of ``x`` ``(H, W[, C])`` float32 that reads ``region``'s pixels only;
    ``sigma``: one, or ``(across, down)``."""
    sx, sy = (sigma, sigma) if np.isscalar(sigma) else sigma
    m = region.astype(np.float32)
    den = np.maximum(cv2.GaussianBlur(m, (0, 0), sigmaX=sx, sigmaY=sy), 1e-6)
    num = cv2.GaussianBlur(x * (m if x.ndim == 2 else m[..., None]), (0, 0), sigmaX=sx,
                           sigmaY=sy)
    return num / (den if x.ndim == 2 else den[..., None])


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
    return float(np.abs(grey - _blur_in(grey, hole_s == 0, 3.0))[band].mean())


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
    thread as soon as the hole is known), and :meth:`filled` blends them along the seam,
    which needs the head (``plain``) too; :meth:`refill_below` fills the desk's side again
    for a smaller hole. ``grow``: how far (px) the hole was grown past the person; Telea fills
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
        # Both sides at once: OpenCV's fills run without holding the GIL.
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
        streaks, weight = _streaked(image, core)
        if not weight.any():
            return smooth, None
        return smooth, smooth + (streaks - smooth) * weight[..., None]
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
        mixed, reached = _mirrored(small.transpose(1, 0, 2), hole_s.T > 0, src.T, bounce=True)
        copied, missed = mixed.transpose(1, 0, 2), ~reached.T & (hole_s > 0)
    copied[missed] = tint[missed]
    copied += cv2.GaussianBlur(tint - copied, (0, 0), TINT_SIGMA)
    texture = cv2.resize(copied, (w, h), interpolation=cv2.INTER_LINEAR)
    if strip:
        return smooth, texture
    streaks, weight = _streaked(image, core)
    return smooth, texture + (streaks - texture) * weight[..., None]


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
    a, b, c = np.moveaxis(_blur_in(tensor, valid, sigma), 2, 0)
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


def _border_pin(v: np.ndarray, size: tuple[int, int], reach: float) -> np.ndarray:
    """0..1 weight of the LOWER bone for vertices near the image border (the photo's crop edge
    moves only with the body's bottom: what lies beyond it has no texture)."""
    w, h = size
    d = np.minimum.reduce([v[:, 0], v[:, 1], w - 1 - v[:, 0], h - 1 - v[:, 1]])
    return 1.0 - smoothstep(d / max(reach, 1.0))


def _torso_share(v: np.ndarray, parts: Parts, size: tuple[int, int],
                 ref: np.ndarray) -> np.ndarray:
    """How much each vertex follows the torso bone (vs LOWER, the hips): 1 at the shoulder
    line, 0 at the hips or the bottom of the photo."""
    if parts.shoulder_line is None:
        return np.zeros(len(v))
    mid, normal = parts.shoulder_line
    below = (v - mid) @ normal
    w, h = size
    reach = (h - 1 - mid[1]) / max(normal[1], 0.3)
    hips = ref[[L.LEFT_HIP, L.RIGHT_HIP]]
    if (hips[:, 2] >= B.MIN_CONFIDENCE).all() and hips[:, 1].mean() < h - 1:
        reach = min(reach, float((hips[:, :2].mean(0) - mid) @ normal))
    reach = max(reach, 0.25 * parts.shoulder_width, 8.0)
    return 1.0 - smoothstep(below / reach)


# Shoulder tops reach this far (shoulder widths) above the shoulder line, with a fall-off over
# the second figure.
SHOULDER_TOP = (0.3, 0.15)


# Below the chin (in shares of its height over the shoulder line), what is not the neck's
# colour lets go of the head from NECK_FREE[0] on, over NECK_FREE[1]. The neck's colour: the
# photo's around the point NECK_PATCH[0] down from the chin, within NECK_PATCH[1]; its spread
# (CIELAB) at least NECK_SPREAD (the neck's shading under the chin).
NECK_FREE = (0.25, 0.2)
NECK_PATCH = (0.2, 0.1)
NECK_SPREAD = (25.0, 8.0, 8.0)
# Beside the neck (from COLLAR[0] half-faces out from the chin along the shoulder line, over
# COLLAR[1] more) and below the mouth (over COLLAR[2] of the chin's height over the shoulder
# line), what is neither the neck's colour nor the hair's lets go of the head too, smoothed
# over the vertices within about COLLAR[4] of that height: a collar or a jacket's collar rises
# beside the neck to the chin's height, where the head layer carried it (ted_lia_driving2's bead
# collar sheared up to her ear when her head rolled). The hair's colour: the head's top, down
# COLLAR[3] of that height. Most-moved box PSNR over still, 12 clips' self-reenactment: mean
# +2.99 -> +3.06 dB; hbr_speaker12 +1.26 -> +1.49 (his jacket's collar), ted_lia_driving2
# +7.36 -> +7.50, avspeech_sample2 +1.23 -> +1.39, un_speech_female +1.94 -> +2.14;
# ted_lia_driving3 lost most, +2.70 -> +2.69. Unsmoothed, the head's mesh folded (7 flipped
# triangles on the bundled astronaut rolling her head 0.15 rad).
COLLAR = (0.5, 0.3, 0.2, 0.25, 0.15)


def _head_share(v: np.ndarray, ref: np.ndarray, valid: np.ndarray, parts: Parts,
                size: tuple[int, int]) -> np.ndarray:
    """How much each vertex follows the head bone: 1 above the chin (the whole skull with its
    hair, so hair never shears off the head), falling to 0 down the neck to the shoulders;
    0 on the shoulder tops out past the hair, even above the chin's line (a rolled head's)."""
    face = ref[L.FACE_START:L.FACE_START + 68]
    seen = valid[L.FACE_START:L.FACE_START + 68]
    pts = face[seen, :2].astype(np.float64)
    chin = ref[L.CHIN, :2] if valid[L.CHIN] else pts[pts[:, 1].argmax()]
    eyes = [i for i in (L.face(36), L.face(39), L.face(42), L.face(45)) if valid[i]]
    top = ref[eyes, :2].mean(0) if eyes else pts.mean(0)
    down = chin - top
    face_size = max(float(np.linalg.norm(down)), 4.0)
    down /= face_size
    if parts.shoulder_line is not None:
        mid, normal = parts.shoulder_line
        neck = float((mid - chin) @ normal) / max(float(down @ normal), 0.3)
    else:
        neck = 0.8 * face_size
    neck = max(neck, 0.3 * face_size)
    t = (v - chin) @ down
    # Start the fall-off a little below the chin line so the jaw corners stay rigid.
    share = 1.0 - smoothstep((t - 0.1 * neck) / (0.8 * neck))
    # Below the chin, only the neck follows the head, not the shoulders out to the side (they
    # would lift off the body as a flap when the head turns).
    across = np.array([-down[1], down[0]])
    half = 0.5 * max(float(np.ptp(pts @ across)), 4.0)
    side = np.abs((v - chin) @ across)
    lateral = 1.0 - smoothstep((side - 0.8 * half) / (1.2 * half))
    # Hair hanging beside the chin (within 1.2–1.8 half-faces of its middle) lets go of the
    # head over 0.3 of the neck below the chin line, not at it: there a torso squeezed by a
    # turn towards profile cut a step into ted_lia_driving3's hair. The shoulders further out
    # still let go at the line (letting them follow the head moved un_speech_female's shoulder
    # tops with her turning head: arm fidelity 0.919 -> 0.888).
    near = 1.0 - smoothstep((side - 1.2 * half) / (0.6 * half))
    lateral = lateral + (1.0 - lateral) * (1.0 - smoothstep(t / (0.3 * neck))) * near
    share = np.where(t > 0, share * lateral, share)
    if parts.shoulder_line is not None:
        # Out past the hair (along the shoulder line, from the chin) and down by the shoulder
        # line: the shoulder tops, which the chin's line of a rolled head passes below
        # (un_speech_female's rose off her shoulder as a flap when she turned her head).
        mid, normal = parts.shoulder_line
        low = 1.0 - smoothstep((-((v - mid) @ normal) - SHOULDER_TOP[0] * parts.shoulder_width)
                               / (SHOULDER_TOP[1] * parts.shoulder_width))
        out = np.abs((v - chin) @ np.array([normal[1], -normal[0]]))   # along the line
        far = smoothstep((out - 1.8 * half) / (0.6 * half))
        share = share * (1.0 - far * low)
    return share


def _neck_skin(v: np.ndarray, ref: np.ndarray, valid: np.ndarray, parts: Parts,
               rgb: np.ndarray) -> np.ndarray:
    """1 where the head's share may reach, less below the chin on what is not the neck's own
    colour: a collar, a necklace or a dress's neckline lies on the shoulders and stays with
    them when the head turns (carried with the neck, ted_lia_driving2's bead collar sheared up
    to her ear and un_speech_female's neckline rose off her shoulder as a flap). The neck's
    colour is read just under the chin, or is the face's where that is not skin (a collar up
    to the chin)."""
    if parts.shoulder_line is None or not valid[L.CHIN]:
        return np.ones(len(v))
    chin = ref[L.CHIN, :2]
    mid, normal = parts.shoulder_line
    neck = float((mid - chin) @ normal)                # the chin's height over the line
    if neck < 4.0:
        return np.ones(len(v))
    h, w = rgb.shape[:2]
    lab = lab_of(cv2.GaussianBlur(rgb, (0, 0), max(1.0, 0.02 * parts.shoulder_width)))
    c = chin + NECK_PATCH[0] * neck * normal
    r = max(2.0, NECK_PATCH[1] * neck)
    yy, xx = np.mgrid[0:h, 0:w]
    patch = lab[(xx - c[0]) ** 2 + (yy - c[1]) ** 2 <= r * r]
    if len(patch) < 5:
        return np.ones(len(v))
    mu, spread = _colour_of(patch)
    if parts.skin is not None and np.linalg.norm((mu - parts.skin[0]) / parts.skin[1]) > 1.5:
        mu, spread = parts.skin[0], np.asarray(NECK_SPREAD)   # a collar over the neck
    x = np.clip(np.round(v[:, 0]).astype(int), 0, w - 1)
    y = np.clip(np.round(v[:, 1]).astype(int), 0, h - 1)
    d = np.linalg.norm((lab[y, x] - mu) / spread, axis=1)
    cloth = smoothstep(d - 1.0)                      # 0 on the neck's colour, 1 a unit past
    low = smoothstep((((v - chin) @ normal) / neck - NECK_FREE[0]) / NECK_FREE[1])
    # Beside the neck the release is smoothed over the vertices near each: read per vertex,
    # a collar's beads and the dark between them took neighbours apart, and the head's mesh
    # folded between them as it rolled.
    beside = _beside_neck(v, lab[y, x], lab, ref, valid, parts, chin, neck) * cloth
    if beside.any():
        d2 = ((v[:, None, :] - v[None, :, :]) ** 2).sum(-1)
        near = np.exp(-0.5 * d2 / (COLLAR[4] * neck) ** 2)
        beside = near @ beside / near.sum(1)
    return 1.0 - np.maximum(low * cloth, beside)


def _colour_of(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Robust colour ``(median, spread)`` of CIELAB samples ``(N, 3)``: the spread three
    robust deviations, at least :data:`NECK_SPREAD` (a region's shading)."""
    mu = np.median(samples, 0)
    return mu, np.maximum(3.0 * 1.4826 * np.median(np.abs(samples - mu), 0), NECK_SPREAD)


def _beside_neck(v: np.ndarray, colours: np.ndarray, lab: np.ndarray, ref: np.ndarray,
                 valid: np.ndarray, parts: Parts, chin: np.ndarray, neck: float) -> np.ndarray:
    """``(V,)`` 0..1, how far the vertices ``v`` (of ``colours``) beside the neck and below
    the mouth (:data:`COLLAR`), of a colour not the hair's, are out of the head's reach, as
    those below the chin (:func:`_neck_skin`; ``lab``: the photo blurred, in CIELAB). The
    hair's colour is the head's top's, down COLLAR[3] of the chin's height over the shoulder
    line (``neck``)."""
    if parts.head is None or not parts.head.any():
        return np.zeros(len(v))
    normal = parts.shoulder_line[1]
    top = parts.head.copy()
    top[np.flatnonzero(top.any(1))[0] + max(2, int(COLLAR[3] * neck)):] = False
    hair = lab[top]
    if len(hair) < 5:
        return np.zeros(len(v))
    mu, spread = _colour_of(hair)
    not_hair = smoothstep(np.linalg.norm((colours - mu) / spread, axis=1) - 1.0)
    across = np.array([normal[1], -normal[0]])               # along the shoulder line
    face = ref[L.FACE_START:L.FACE_START + 68]
    half = 0.5 * max(float(np.ptp(face[valid[L.FACE_START:L.FACE_START + 68], :2] @ across)),
                     4.0)
    beside = smoothstep((np.abs((v - chin) @ across) - COLLAR[0] * half) / (COLLAR[1] * half))
    mouth = ref[L.MOUTH_LEFT_CORNER, :2] if valid[L.MOUTH_LEFT_CORNER] else chin
    below = smoothstep(((v - mouth) @ normal) / (COLLAR[2] * neck))
    return beside * below * not_hair


def _face_share(v: np.ndarray, ref: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """How much each vertex follows the inner face (:data:`bones.FACE`) rather than the
    skull: 1 inside the hull of the brows, eyes, nose and mouth, 0 on and outside the face's
    outline (the jaw and the forehead above the brows), and between them, across the cheeks
    and temples, by how near each is to the one and the other — so the points the face's
    bone is fitted to move with it, those of the contour with the skull, and the cheeks
    stretch and squeeze as a turning head's do. 0 everywhere without a face
    (:func:`bones.face_outlines`)."""
    outlines = B.face_outlines(ref, valid)
    if outlines is None:
        return np.zeros(len(v))
    inner, outer = outlines
    out = np.zeros(len(v))
    for k, p in enumerate(v):
        pt = (float(p[0]), float(p[1]))
        d_out = cv2.pointPolygonTest(outer, pt, True)
        if d_out <= 0:
            continue                                  # on or outside the outline: the skull's
        d_in = -cv2.pointPolygonTest(inner, pt, True)
        out[k] = 1.0 if d_in <= 0 else d_out / (d_out + d_in)
    return smoothstep(out)


def _along(v: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Position ``t`` of vertices ``(V, 2)`` projected on the bone a→b (0 at a, 1 at b)."""
    ab = b - a
    return ((v - a) @ ab) / max(float(ab @ ab), 1e-9)


def _arm_weights(v: np.ndarray, piece: str, info) -> np.ndarray:
    """Weights ``(V, 2)`` over (parent, own bone) of an arm piece. The upper arm blends into
    the torso over its shoulder cap (the cap stays on the body as the arm swings); the forearm
    and the hand are rigid with their bones, their pieces grown into the parent's so the
    joint is covered when it bends (RENDERING.md: grow each part into its parent; a blend
    across a bending elbow folds the mesh over itself)."""
    S, E, W, H = info.joints
    if piece == "upper":
        own = smoothstep(_along(v, S, E) / 0.25)
    else:
        own = np.ones(len(v))
    return np.stack([1.0 - own, own], 1)


# A hand layer's vertex follows a finger (:func:`_finger_shares`) within FINGER_REACH palm
# lengths (wrist to middle knuckle) of the finger's landmarks, fading over FINGER_FADE beyond;
# from its knuckle on, fully past FINGER_ROOT of the finger's length; between two fingers
# shared by a Gaussian of FINGER_SIGMA palm lengths on the distances to each.
FINGER_REACH = 0.22
FINGER_FADE = 0.1
FINGER_ROOT = 0.3
FINGER_SIGMA = 0.1


def _finger_shares(v: np.ndarray, ref: np.ndarray, valid: np.ndarray, hs: int) -> np.ndarray:
    """``(V, 5)``: how much each vertex of a hand layer follows each finger bone
    (:data:`bones.FINGER_CHAINS`), the rest following the palm; rows sum to 1 at most. A
    finger not seen in the photo takes none."""
    out = np.zeros((len(v), len(B.FINGER_CHAINS)))
    pts = ref[hs:hs + 21, :2].astype(np.float64)
    mid = L.HAND_MIDDLE[0]
    if not valid[[hs, hs + mid]].all():
        return out
    palm = float(np.linalg.norm(pts[mid] - pts[0]))
    if palm < 2:
        return out
    dist = np.full(out.shape, np.inf)
    for k, chain in enumerate(B.FINGER_CHAINS):
        if not valid[[hs + j for j in chain]].all():
            continue
        d = np.full(len(v), np.inf)
        for a, b in zip(chain[:-1], chain[1:]):
            t = np.clip(_along(v, pts[a], pts[b]), 0.0, 1.0)
            d = np.minimum(d, np.linalg.norm(v - (pts[a] + t[:, None] * (pts[b] - pts[a])),
                                             axis=1))
        dist[:, k] = d
        root = smoothstep(_along(v, pts[chain[0]], pts[chain[-1]]) / FINGER_ROOT)
        near = smoothstep((FINGER_REACH * palm - d) / (FINGER_FADE * palm) + 1.0)
        out[:, k] = root * near
    seen = np.isfinite(dist).any(0)
    if not seen.any():
        return out
    d = dist[:, seen] - dist[:, seen].min(1, keepdims=True)     # the nearest one's at 0
    g = np.exp(-0.5 * (d / (FINGER_SIGMA * palm)) ** 2)
    out[:, seen] *= g / g.sum(1, keepdims=True)
    return out


def _layer_weights(name: str, v: np.ndarray, ref: np.ndarray, valid: np.ndarray,
                   parts: Parts, size: tuple[int, int], rgb: np.ndarray | None = None
                   ) -> np.ndarray:
    sw = max(parts.shoulder_width, 0.1 * min(size))
    wts = np.zeros((len(v), B.NUM_BONES))
    torso = _torso_share(v, parts, size, ref)
    pinned = True
    if name == "torso":
        wts[:, B.TORSO], wts[:, B.LOWER] = torso, 1 - torso
    elif name == "head":
        head = _head_share(v, ref, valid, parts, size)
        if rgb is not None:
            head *= _neck_skin(v, ref, valid, parts, rgb)
        face = _face_share(v, ref, valid)
        wts[:, B.HEAD] = head * (1 - face)
        wts[:, B.FACE] = head * face
        wts[:, B.TORSO] = (1 - head) * torso
        wts[:, B.LOWER] = (1 - head) * (1 - torso)
    else:
        piece, side = name.split("_", 1)
        info, arm = parts.arm_info[side], B.ARMS[side]
        parent, own = _arm_weights(v, piece, info).T
        if piece == "upper":
            wts[:, B.TORSO] = parent * torso
            wts[:, B.LOWER] = parent * (1 - torso)
        else:
            wts[:, arm["upper" if piece == "fore" else "fore"]] = parent
        wts[:, arm[piece]] = own
        if piece == "hand" and info.has_hand:
            fingers = own[:, None] * _finger_shares(v, ref, valid, arm["hand_start"])
            wts[:, list(arm["fingers"])] = fingers
            wts[:, arm["hand"]] -= fingers.sum(1)
        # A whole arm moves whole: pinning the part the border cuts would stretch it into
        # streaks when the hand rises; only an arm that leaves the photo stays attached.
        pinned = info.mode != "full"
    if not pinned:
        return wts
    # Pin what the photo's border cuts (a body or arm running out of frame) — but not the
    # skull: a head cut by the top edge moves whole, its hair continuing past the border.
    pin = _border_pin(v, size, reach=0.12 * sw)[:, None] * (1.0 - wts[:, [B.HEAD]]
                                                             - wts[:, [B.FACE]])
    moving = wts.copy()
    moving[:, [B.HEAD, B.FACE]] = 0
    wts -= pin * moving / np.maximum(moving.sum(1, keepdims=True), 1e-9)
    wts[:, B.LOWER] += pin[:, 0]
    return np.clip(wts, 0, None)


# A layer reads its picture within this many px of its region (:func:`build_layer`: the
# feather's alpha, a blur of 1 px doubled, falls under 0.01 by 2.5 px out).
LAYER_READ = 4.0


def build_layer(name: str, region: np.ndarray, rgb: np.ndarray, alpha: np.ndarray,
                ref: np.ndarray, valid: np.ndarray, parts: Parts, *, spacing: float,
                grow: int) -> Layer | None:
    """Mesh, weights and RGBA texture of one layer; None when the region is empty."""
    h, w = region.shape
    if region.sum() < 20:
        return None
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    cover = cv2.dilate(region.astype(np.uint8), kernel) > 0
    # Mesh a padded mask so that layers cut by the photo's border reach past it (the border
    # pixels then have a map to sample; the texture is sampled with replicated edges).
    pad = max(2 * grow, int(0.06 * max(h, w)))
    mesh = build_mesh(np.pad(cover, pad, mode="edge"), spacing=spacing)
    if len(mesh.triangles) == 0:
        return None
    mesh.vertices -= pad
    # The layer's alpha: the person's soft alpha inside the region, feathered a little outside
    # so neighbouring layers overlap instead of cracking; feathered from what the layer shows
    # only: past the backdrop an arm's layer leaves see-through (parts.backdrop_in_arm) lies
    # the segmenter's soft outline of that backdrop, which the layer carried away from the arm
    # as a thin line (hbr_speaker8's raised hand, generated: a light thread running up from
    # her fingers).
    inner = (region & (alpha > 0)).astype(np.float32)
    feather = cv2.GaussianBlur(inner, (0, 0), 1.0)
    a = np.clip(alpha * np.maximum(inner, np.clip(feather * 2 - 0.0, 0, 1)), 0, 1)
    a = np.where(cover, a, 0)
    colour = bleed(rgb, region | (a > 0.01))
    weights = _layer_weights(name, mesh.vertices, ref, valid, parts, (w, h), colour)
    texture = np.dstack([colour, (a * 255 + 0.5).astype(np.uint8)])
    return Layer(name, mesh, weights, _bordered(texture))


BORDER = 8          # pixels of texture past the photo's edge (see _bordered)


def _bordered(texture: np.ndarray) -> np.ndarray:
    """The RGBA texture padded by :data:`BORDER` pixels: the edge's colour repeated, its alpha
    fading out over the first few pixels. A layer that moves away from the photo's border then
    shows a short soft continuation and the background beyond it, never a long streak of the
    border's repeated pixels."""
    out = cv2.copyMakeBorder(texture, BORDER, BORDER, BORDER, BORDER, cv2.BORDER_REPLICATE)
    h, w = texture.shape[:2]
    yy = np.arange(h + 2 * BORDER)[:, None]
    xx = np.arange(w + 2 * BORDER)[None, :]
    past = np.maximum(np.maximum(BORDER - yy, yy - (h + BORDER - 1)),
                      np.maximum(BORDER - xx, xx - (w + BORDER - 1)))
    fade = np.clip(1.0 - past / 4.0, 0.0, 1.0)
    out[..., 3] = (out[..., 3] * fade + 0.5).astype(np.uint8)
    return out


def _mirrored(image: np.ndarray, hole: np.ndarray, src: np.ndarray, *, bounce: bool = False,
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
        got = _mirrored(image[:, used], hole[:, used], src[:, used], bounce=bounce,
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
# the cloth mirrored across that side too (:func:`_mirrored_both`); its weight fades out by twice
# that, against the columns' mirror (where that has nothing to copy, the row's copy is whole up
# to twice SIDE_REACH, and Telea's fill past it).
SIDE_REACH = 8.0
# ... unless the two mirrors' copies, blurred over AGREE_BLUR px, differ by more than AGREE[0]
# (RGB summed; none of the side's copy at AGREE[1]) where the column's cloth is no more than
# AGREE_RATIO times as far as the row's.
AGREE = (30.0, 60.0)
AGREE_BLUR = 8.0
AGREE_RATIO = 2.0


def _mirrored_both(image: np.ndarray, hole: np.ndarray, src: np.ndarray, scale: float, *,
                   stops: np.ndarray | None = None, rows: np.ndarray | None = None,
                   share: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_mirrored` down the columns (stopping at ``stops``) and, near a side of the hole
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
    mv, okv, dv = _mirrored(image, hole, src, stops=stops, distance=True)
    mh, okh, dh = _mirrored(image.transpose(1, 0, 2), hole.T, src.T, distance=True)
    mh, okh, dh = mh.transpose(1, 0, 2), okh.T, dh.T
    if share is None:
        reach = np.clip(2.0 - dh / (SIDE_REACH * scale), 0.0, 1.0)
        if rows is not None:
            okh = okh & rows
        wh = np.where(okh, reach / np.maximum(dh, 1) ** 2, 0.0).astype(np.float32)
        wv = np.where(okv, 1.0 / np.maximum(dv, 1) ** 2, 0.0).astype(np.float32)
        both = okv & okh
        diff = np.abs(_blur_in(mv, both, AGREE_BLUR * scale)
                      - _blur_in(mh, both, AGREE_BLUR * scale)).sum(2)
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


# Odd colours of a sleeve within this many px (at 512 px) of the hole its forearm leaves are
# that forearm's fringe (:func:`fill_along`).
FRINGE = 3.0
# A sleeve of plain cloth (:func:`cloth_detail` under PLAIN_CLOTH grey levels: hbr_speaker12's
# navy jacket 3.3-4.5; interview_1wrQ6Msp7wM's patterned one 22) has its hidden fill replaced by
# its smooth shading: a blur of SHADE px (at 512 px) that reads the fill and the seen sleeve
# around it. Mirrored from a thin strip of the sleeve, its creases and flecks repeated as a
# lattice of dark lines and specks, and the forearm's shadow and the lit folds beside it as dark
# and pale blotches (hbr_speaker12's sleeves under his raised forearms; a blur of 1.5 px kept
# the blotches: self-reenactment +0.999 dB, with SHADE +1.020).
PLAIN_CLOTH = 10.0
SHADE = 8.0


def painted_over(image: np.ndarray, bad: np.ndarray, source: np.ndarray, *, margin: int = 12,
                 even: bool = False) -> np.ndarray:
    """``image`` with its ``bad`` pixels inpainted from the rest of ``source`` only, worked
    within ``margin`` px of them (12: the cloth around a sleeve's flecks, enough to paint;
    ``even``: :func:`mask_box`)."""
    if not bad.any():
        return image
    box = mask_box(bad, margin, even=even)
    painted = inpaint(image[box], bad[box] | ~source[box])      # from the cloth only
    out = image.copy()
    out[box][bad[box]] = painted[bad[box]]
    return out


# A cloth's repeating pattern (:func:`pattern_periods`): the autocorrelation peaks of its
# detail at least PATTERN_PEAK, PERIOD_MIN px or more from zero and read over at least
# PATTERN_OVERLAP of its pixels. interview_1wrQ6Msp7wM's diamond-patterned jacket peaks at
# 0.26 (13 px down, 10 px across).
PATTERN_PEAK = 0.2
PERIOD_MIN = 6
PATTERN_OVERLAP = 0.3
PATTERN_CONTRAST = 2.0     # grey levels: the detail's RMS at least this
DIP = 0.5                 # ... at most this share of it halfway (a period, not a ridge)
REPEAT = 0.25             # ... and two periods away at least this share of PATTERN_PEAK
PATTERN_STEPS = 6          # lattice translations tried: up to this many periods each way


def pattern_periods(image: np.ndarray, source: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray] | None:
    """The two periods ``(dy, dx)`` of the pattern of a cloth's ``source`` pixels (the
    second one of a striped cloth zero), or None for a cloth with no repeating pattern. They
    are peaks of the normalised autocorrelation of the grey detail (the grey level less its
    blur over 4 px; an RMS of :data:`PATTERN_CONTRAST` at least), each at least
    :data:`PATTERN_PEAK`: the strongest one whose double peaks too (:data:`REPEAT`: a
    pattern repeats; a face or a crease does not), then the strongest across it of a like
    length."""
    ys, xs = np.nonzero(source)
    if len(ys) < 200:
        return None
    y0, x0 = ys.min(), xs.min()
    box = (slice(y0, ys.max() + 1), slice(x0, xs.max() + 1))
    m = source[box].astype(np.float32)
    grey = cv2.cvtColor(image[box], cv2.COLOR_RGB2GRAY).astype(np.float32)
    x = (grey - _blur_in(grey, source[box], 4.0)) * m
    if (x * x).sum() < (PATTERN_CONTRAST ** 2) * m.sum():
        return None                # no detail to repeat (a gradient's rounding steps are none)
    h, w = x.shape
    shape = (2 * h, 2 * w)                        # padded: the correlation is not circular

    def corr(a, b):
        return np.fft.irfft2(np.fft.rfft2(a, shape) * np.conj(np.fft.rfft2(b, shape)), shape)

    # At lag v: the sum of x(p) x(p + v) over the pixels seen at both, over the root of the
    # two sides' energies there.
    c = corr(x, x) / np.sqrt(np.maximum(corr(x * x, m) * corr(m, x * x), 1e-6))
    c[corr(m, m) < PATTERN_OVERLAP * m.sum()] = -1.0
    c = np.fft.fftshift(c).astype(np.float32)
    yy, xx = np.mgrid[0:2 * h, 0:2 * w]
    # Local maxima only: the slope of the peak at zero lag (any image is like itself a pixel
    # away) is none.
    top = (c == cv2.dilate(c, np.ones((5, 5), np.uint8))) & (c >= PATTERN_PEAK)
    top &= np.hypot(yy - h, xx - w) >= PERIOD_MIN

    def at(v) -> float:
        y, x = int(h + v[0]), int(w + v[1])
        return float(c[y, x]) if 0 <= y < 2 * h and 0 <= x < 2 * w else -1.0

    def period(v) -> bool:
        """A period dips halfway (an edge, a lapel or a stripe along the lag is like itself
        all along it: a ridge, no period) and repeats (the correlation two periods away
        peaks too, within a pixel; a face or a crease does not)."""
        if at(np.round(v / 2)) > DIP * at(v):
            return False
        return max(at(2 * v + (dy, dx)) for dy in (-1, 0, 1) for dx in (-1, 0, 1)) \
            >= REPEAT * PATTERN_PEAK

    peaks = [v for v in (np.argwhere(top) - (h, w))[np.argsort(-c[top])] if period(v)]
    if not peaks:
        return None
    v1 = peaks[0]
    for v in peaks:           # the other period: across the first, of a like length
        if np.linalg.norm(v) > 3 * np.linalg.norm(v1):
            continue
        if abs(v1[0] * v[1] - v1[1] * v[0]) > 0.3 * np.linalg.norm(v1) * np.linalg.norm(v):
            return v1, v
    return v1, np.zeros(2, np.int64)


def _pattern_fill(image: np.ndarray, hole: np.ndarray, src: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray] | None:
    """``hole`` pixels copied from the ``src`` pixel one whole number of the pattern's
    periods away (:func:`pattern_periods`; the nearest such one), so a patterned cloth runs
    on under the arms with its own pattern, in step with it: ``(image, where filled)``, or None
    for a cloth with no pattern."""
    periods = pattern_periods(image, src)
    if periods is None:
        return None
    v1, v2 = periods
    n = range(-PATTERN_STEPS, PATTERN_STEPS + 1)
    shifts = {tuple(a * v1 + b * v2) for a in n for b in (n if v2.any() else [0])} - {(0, 0)}
    h, w = hole.shape
    ys, xs = np.nonzero(hole)
    out = image.copy()
    got = np.zeros(len(ys), bool)
    for dy, dx in sorted(shifts, key=lambda t: (np.hypot(*t), t)):
        yy, xx = ys + dy, xs + dx
        ok = ~got & (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        ok[ok] &= src[yy[ok], xx[ok]]
        out[ys[ok], xs[ok]] = image[yy[ok], xx[ok]]
        got |= ok
    done = np.zeros_like(hole)
    done[ys[got], xs[got]] = True
    return out, done


# fill_hidden's Telea works within this many px (at 512 px) of the pixels it fills.
REST_MARGIN = 48


def fill_hidden(image: np.ndarray, hole: np.ndarray, source: np.ndarray, *,
                along_rows: bool = False, pattern: bool = False, shade: bool = False,
                level_stops: bool = False, scale: float | None = None,
                sideways: np.ndarray | None = None) -> np.ndarray:
    """Fill the torso under the arms with the torso's own cloth: each hole pixel copies the
    visible torso mirrored across the hole's upper edge and, where there is visible torso
    below too, across its lower edge, blended by distance. Mirroring keeps the cloth's texture
    (a pattern, a lapel, a tie) where smearing or copying one row leaves streaks. A pixel
    further from an edge than the visible run beyond it is long has nothing to mirror: it
    gets a smooth Telea fill instead (no repeated strips), or, ``along_rows``, first the cloth
    of its own row repeated, mirrored back and forth (a sleeve turned level by
    :func:`fill_along` runs on along its bone; a flat fill there showed as a pale ghost of the
    photo's forearm on interview_1wrQ6Msp7wM's patterned sleeve), then its column's so.

    Parameters
    ----------
    image : np.ndarray
        RGB uint8 ``(H, W, 3)``.
    hole : np.ndarray
        ``(H, W)`` bool, pixels to replace.
    source : np.ndarray
        ``(H, W)`` bool, pixels that may be copied (visible torso). All its colours are
        copied: a torso's shirt and tie are as rare as a sleeve's odd flecks
        (ted_lia_driving1's shirt strip, 1 % of the torso, stopped at the arms that had hidden
        it when they were left out), which :func:`fill_along` leaves out.
    pattern : bool
        The source is one cloth (a torso, a sleeve; not a head): where it has a repeating
        printed pattern (:func:`pattern_periods`), each hole pixel copies the seen pixel a
        whole number of its periods away instead, so the pattern runs on in step. Mirrored
        across an arm's or a hand's jagged edge, interview_1wrQ6Msp7wM's diamond-printed
        jacket showed finger-shaped streaks where her hand had lain, and Telea's fill a flat
        grey block on her lapel.
    shade : bool
        Where the seen cloth near a hole pixel is plain, the fill there is the cloth's smooth
        shading (:func:`_shaded_where_plain`).
    level_stops : bool
        The mirror stops at a lone level edge across the source (:func:`level_edges`): the
        cloth ends there, and what lies past it is something else. un_speech_female's person
        mask runs on into the lectern's top below her forearm, and her torso's fill mirrored
        it up as blue-grey shards into her dress. (:func:`surface.find_surface
        <gesticulate.render.warp.surface.find_surface>` finds a desk in front of a person by
        its edge across the backdrop on both sides; her lectern runs out of the picture on
        one side.)
    scale : float, optional
        The picture's size in units of 512 px (:data:`REST_MARGIN`); by default its short
        side's. A crop of a bigger picture gives the picture's.
    sideways : np.ndarray, optional
        ``(H, W)`` bool: the hole's pixels that, near a side of the hole, take the seen cloth
        beside them in their row mirrored in too (:func:`_mirrored_both`), kept at the hole's
        edge (:data:`EDGE_RAMP`): the torso's under an upper arm, which lies along it.
    """
    src = source & ~hole
    photo = image
    out = image.copy()
    scale = min(hole.shape) / 512.0 if scale is None else scale
    stops = level_edges(image, scale, within=src) if level_stops else None
    share = None
    if sideways is not None and (sideways & hole).any():
        mixed, ok, share = _mirrored_both(image, hole, src, scale, stops=stops,
                                          rows=sideways)
    else:
        mixed, ok = _mirrored(image, hole, src, stops=stops)
    out[ok] = np.clip(mixed[ok] + 0.5, 0, 255).astype(np.uint8)
    if pattern and cloth_detail(image, src) >= PLAIN_CLOTH:
        tiled = _pattern_fill(image, hole, src)
        if tiled is not None:
            out[tiled[1]] = tiled[0][tiled[1]]
            ok = ok | tiled[1]
    if along_rows and (hole & ~ok).any():
        mixed, beside = _mirrored(image.transpose(1, 0, 2), (hole & ~ok).T, src.T, bounce=True)
        beside = beside.T
        out[beside] = np.clip(mixed.transpose(1, 0, 2)[beside] + 0.5, 0, 255).astype(np.uint8)
        ok = ok | beside
        if (hole & ~ok).any():      # rows with no cloth at all: the columns', bounced too
            mixed, across = _mirrored(image, hole & ~ok, src, bounce=True)
            out[across] = np.clip(mixed[across] + 0.5, 0, 255).astype(np.uint8)
            ok = ok | across
    # The rest from the cloth around it only: everything that is not cloth is marked unknown
    # too, so the background beside the body does not bleed into the torso as a ghost hand.
    # Worked within REST_MARGIN of it: Telea's front reaches it from the cloth nearby, and on
    # the whole picture, all unknown but the cloth, a call cost 0.4 s.
    out = painted_over(out, hole & ~ok, src | ok, margin=int(np.ceil(REST_MARGIN * scale)),
                       even=True)
    if shade and hole.any() and src.any():
        out = _shaded_where_plain(photo, out, hole, src, scale, stops=stops, share=share)
    photo = photo.copy()
    photo[hole] = out[hole]
    return photo


# A level edge (:func:`level_edges`): a colour step of at least LEVEL_STEP (CIELAB, OpenCV's
# 8-bit scale, summed over L, a and b) from the pixel above to the one below, the largest in its
# column within LEVEL_NEAR px (at 512 px; the edge's own blur), running on level for LEVEL_RUN
# px, with no other within LEVEL_LONE px above or below it (a striped cloth's stripes are its
# pattern, not its end). un_speech_female's lectern's top edge steps by 60-120; the white dots
# on her dress and the weave of the shared clips' jackets are shorter.
LEVEL_STEP = 40.0
LEVEL_NEAR = 3
LEVEL_RUN = 15
LEVEL_LONE = 24


def level_edges(image: np.ndarray, scale: float, within: np.ndarray | None = None
                ) -> np.ndarray:
    """``(H, W)`` bool: the pixels of ``image`` (RGB uint8) on a lone level edge
    (:data:`LEVEL_STEP` ... :data:`LEVEL_LONE`, the lengths times ``scale``), counting only
    steps between two pixels of ``within`` (a hole's own outline is no edge of the cloth)."""
    lab = lab_of(image)
    step = np.zeros(image.shape[:2], np.float32)
    step[1:-1] = np.abs(lab[2:] - lab[:-2]).sum(2)
    if within is not None:
        step[1:-1] *= within[2:] & within[:-2]
    near = max(1, int(round(LEVEL_NEAR * scale)))
    top = cv2.dilate(step, np.ones((2 * near + 1, 1), np.uint8))      # the column's largest
    run = max(3, int(round(LEVEL_RUN * scale)))
    edge = cv2.morphologyEx(((step >= LEVEL_STEP) & (step >= top)).astype(np.uint8),
                            cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
    # Other level edges more than ``near`` and at most ``lone`` rows above or below.
    lone = max(8, near + 2, int(round(LEVEL_LONE * scale)))
    h = edge.shape[0]
    total = np.zeros((h + 2 * lone + 2, edge.shape[1]), np.int32)
    total[lone + 1:h + lone + 1] = np.cumsum(edge, axis=0, dtype=np.int32)
    total[h + lone + 1:] = total[h + lone]
    y = np.arange(h) + lone + 1                   # the row of the sum up to and with row y
    below = total[y + lone] - total[y + near]
    above = total[y - near - 1] - total[y - lone - 1]
    return (edge > 0) & (below == 0) & (above == 0)


# The torso's hidden fill (:func:`_shaded_where_plain`) is the mirror's copy where the seen
# cloth within LOCAL_REACH px (at 512 px) has a detail (the mean absolute difference of its grey
# from its 3 px blur) of LOCAL_DETAIL[1] grey levels or more, the cloth's smooth shading (a blur
# of SHADE px) where it has LOCAL_DETAIL[0] or less, and a blend between. Mirrored from a plain
# dress or shirt beside a hand, the fill repeated its folds, the hand's outline and a microphone
# stand crossing it as streaks and crumpled white shards (ted_lia_driving2_noaudio's clasped
# hands on her white dress, un_speech_female's forearm on her black one); a tie or a lapel
# near the hole keeps the copy. Self-reenactment of the 12 shared clips, most-moved box dPSNR /
# dSSIM against the still: un_speech_female +1.786/+0.0169 -> +1.799/+0.0202, hbr_speaker7
# +0.539 -> +0.682 dB, hbr_speaker8 +5.600 -> +5.705, ted_lia_driving3 +2.558 -> +2.581,
# avspeech_sample2 +0.710/+0.0514 -> +0.740/+0.0504 (at 4-8 grey levels the gains were about
# half, and a smooth fill everywhere cost avspeech_sample2 2.4 dB: his tie ran out).
LOCAL_DETAIL = (8.0, 16.0)
LOCAL_REACH = 12.0
# A hole pixel also keeps the copy where the cloth the mirror copied it from has that detail,
# read over COPIED_REACH px (at 512 px; across, and down the columns the mirror copies along)
# around it. desk_host_body.png's striped tie, 25 px wide between his plain navy jacket and
# white shirt, read as plain within LOCAL_REACH of the hand that had lain on it, and its
# shading (the tie and the jacket one colour cluster) drew a dark round blob where the tie ran
# on under the hand. Read over 3 px down, a row of beads just above the hole (2 px tall) was
# detail enough to be copied in as a dotted line; over 12 px his tie's stripes were too sparse.
COPIED_REACH = (3.0, 6.0)
# Where the mirror copies along the rows too (``share``, :func:`_mirrored_both`), the copy is
# kept at the seen cloth's edge (as far as the rows' copy has a part in it), fading to the rule
# above by EDGE_RAMP px (at 512 px) into the hole. The shading of plain cloth is a blur: beside
# the folds of the README demo's suit it was 60 levels (RGB summed) darker than the pixel at the
# edge, and the strip her arm uncovered when it moved out showed as a smooth, darker band with a
# hard edge.
EDGE_RAMP = 8.0


def _shaded_where_plain(image: np.ndarray, filled: np.ndarray, hole: np.ndarray,
                        src: np.ndarray, scale: float, *, stops: np.ndarray | None = None,
                        share: np.ndarray | None = None) -> np.ndarray:
    """``filled`` (``image`` with ``hole`` filled from ``src``, mostly by :func:`_mirrored`,
    which stopped at ``stops``) with the fill blended towards the cloth's smooth shading where
    the seen cloth near it, and the cloth the mirror copies there, are plain
    (:data:`LOCAL_DETAIL`, :data:`COPIED_REACH`); the copy is kept at the seen cloth's edge
    as far as the rows' mirror has a part in it (``share``, the columns' share in the fill's
    mirrors, :func:`_mirrored_both`; :data:`EDGE_RAMP`). Worked in the box around the hole
    (the mirror of the detail too: a hole pixel whose mirrored source lies past the box's
    margin keeps the detail near it only)."""
    box = mask_box(hole, int(np.ceil(3 * (LOCAL_REACH + SHADE) * scale)))
    img, out, hole_b, src_b = image[box], filled[box], hole[box], src[box]
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lo, hi = LOCAL_DETAIL
    # A pixel's detail counts up to the full-copy level: the high-contrast edge of a few odd
    # pixels (a clicker held over a white dress, a bracelet) made plain cloth around look
    # patterned, and the streaky copy stayed (ted_lia_driving2_noaudio).
    detail = np.minimum(np.abs(grey - _blur_in(grey, src_b, 3.0 * scale)), hi)
    near = _blur_in(detail, src_b, LOCAL_REACH * scale)
    # ... or that of the cloth the mirror copied (its detail over COPIED_REACH, mirrored as
    # the colours were): a narrow tie between plain jacket and shirt.
    own = _blur_in(detail, src_b, (COPIED_REACH[0] * scale, COPIED_REACH[1] * scale))
    stops_b = None if stops is None else stops[box]
    if share is None:
        copied, ok = _mirrored(own[..., None], hole_b, src_b, stops=stops_b)
    else:
        copied, ok, _ = _mirrored_both(own[..., None], hole_b, src_b, scale, stops=stops_b,
                                       share=share[box])
    near = np.where(ok, np.maximum(near, copied[..., 0]), near)
    copy = np.clip((near - lo) / (hi - lo), 0.0, 1.0)
    if share is not None:
        d = cv2.distanceTransform((~src_b).astype(np.uint8), cv2.DIST_L2, 3)
        ramp = np.clip(1.0 - (d - 1.0) / (EDGE_RAMP * scale), 0.0, 1.0)
        copy = np.maximum(copy, ramp * (1.0 - share[box]))
    copy = copy[..., None]
    smooth = _shading(out, hole_b, src_b, SHADE * scale)
    mixed = out.astype(np.float32) * copy + smooth * (1.0 - copy)
    result = filled.copy()
    result[box][hole_b] = np.clip(mixed[hole_b] + 0.5, 0, 255).astype(np.uint8)
    return result


def _shading(filled: np.ndarray, hole: np.ndarray, src: np.ndarray, sigma: float) -> np.ndarray:
    """The smooth shading ``(H, W, 3)`` float32 of ``filled`` over ``hole`` and ``src``, each
    cloth's apart: the seen colours in up to SHADE_CLOTHS clusters at least SHADE_APART (CIELAB)
    apart, joined where they are one cloth's shading (:func:`_cloths`), each pixel labelled by
    the nearest's cloth (the labels smoothed over half ``sigma``, so
    the mirror's copy gives the cloths' shapes, not their specks) and blurred among its own
    label's pixels. One blur over both, a dark jacket and a light shirt below hbr_speaker9's
    hands, ran into a grey smear."""
    x = filled.astype(np.float32)
    area = hole | src
    plain = _blur_in(x, area, sigma)
    lab = lab_of(filled)
    seen = lab[src]
    if len(seen) < 50:
        return plain
    centres = colour_clusters(seen[:: max(1, len(seen) // 5000)], SHADE_CLOTHS)
    keep = [0]
    for i in range(1, len(centres)):
        if all(np.linalg.norm(centres[i] - centres[j]) >= SHADE_APART for j in keep):
            keep.append(i)
    if len(keep) < 2:
        return plain
    centres = centres[keep]
    group = _cloths(seen[:: max(1, len(seen) // 20000)], centres)   # a sample is enough
    if len(set(group)) < 2:
        return plain
    dist = np.stack([np.linalg.norm(lab - c, axis=2) for c in centres])
    nearest = np.asarray(group)[dist.argmin(0)]
    onehot = np.stack([(nearest == g) for g in sorted(set(group))]).astype(np.float32)
    soft = np.stack([_blur_in(o, area, 0.5 * sigma) for o in onehot])
    label, islands = _without_islands(soft.argmax(0), area, src)
    out = plain.copy()
    for k in range(len(onehot)):
        mine = area & (label == k)
        if not mine.any():
            continue
        keep = mine & ~islands          # an island's own colours are not its cloth's shading
        blur = _blur_in(x, keep, sigma)
        if (mine & islands).any():      # ... which reaches a wide island's middle from afar
            near = np.clip(cv2.GaussianBlur(keep.astype(np.float32), (0, 0), sigma) / 0.2, 0, 1)
            blur = blur * near[..., None] + _blur_in(x, keep, 4 * sigma) * (1 - near[..., None])
        out[mine] = blur[mine]
    return out


def _without_islands(label: np.ndarray, area: np.ndarray, src: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``label`` with each island of a cloth's label lying wholly in the hole (touching none of
    ``src``, the seen cloth) given the label of the nearest pixel of the cloths around it, and
    the islands' mask: a cloth seen nowhere beside that place is the mirror's copy of it, not
    its shading. talkshow_show_half's blue shirt, mirrored down between his lapels under his
    hands, came out of the shading as blue flecks on his dark jacket once the hands moved."""
    islands = np.zeros(label.shape, bool)
    for k in np.unique(label[area]):
        mine = area & (label == k)
        islands |= mine & ~touching(mine, src)
    rest = area & ~islands
    if not islands.any() or not rest.any():
        return label, np.zeros(label.shape, bool)
    # Each island pixel takes the label of the nearest pixel that is no island (an island in
    # an island goes to the cloth around both).
    _, near = cv2.distanceTransformWithLabels((~rest).astype(np.uint8), cv2.DIST_L2, 5,
                                              labelType=cv2.DIST_LABEL_PIXEL)
    ys, xs = np.nonzero(rest)
    out = label.copy()
    pick = near[islands] - 1
    out[islands] = label[ys[pick], xs[pick]]
    return out, islands


# The colour clusters :func:`_shading` starts from.
SHADE_CLOTHS = 3
SHADE_APART = 25.0
# Two clusters are one cloth's shading when the seen colours run from one to the other with
# no gap: along the line between them (with the pixels of any cluster lying between), each
# tenth of the way from 0.15 to 0.85 holds at least SHADE_GAP times the geometric mean of the
# tenths round the two ends; a group's clusters are all so joined two by two. A white dress's
# folds run from white to grey (ted_lia_driving2, 0.81), a dark jacket and its lit folds from
# a light shirt do not (hbr_speaker9, 0.27 and 0.19). A cluster between two others with fewer
# pixels than either is their edge's blend: it joins nothing and bridges nothing.
SHADE_GAP = 0.5


def _cloths(seen: np.ndarray, centres: np.ndarray) -> list[int]:
    """A group number per colour cluster of :func:`_shading` (``centres`` ``(K, 3)``): the
    clusters of one cloth's shading share one (:data:`SHADE_GAP`), from the seen colours
    ``(N, 3)``; an edge's blend keeps its own."""
    own = np.stack([np.linalg.norm(seen - c, axis=1) for c in centres]).argmin(0)
    count = np.bincount(own, minlength=len(centres))

    def along(i: int, j: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, d = centres[i], centres[j] - centres[i]
        t = (x - a) @ d / max(float(d @ d), 1e-9)
        near = np.linalg.norm(x - a - t[:, None] * d, axis=1) < 0.5 * np.sqrt(float(d @ d))
        return t, near

    blend = set()
    for k in range(len(centres)):
        for i in range(len(centres)):
            for j in range(i + 1, len(centres)):
                if k in (i, j) or count[k] >= min(count[i], count[j]):
                    continue
                t, near = along(i, j, centres[k:k + 1])
                if near[0] and 0.2 < t[0] < 0.8:
                    blend.add(k)
    ratio = np.zeros((len(centres), len(centres)))
    cloth = [k for k in range(len(centres)) if k not in blend]
    for u in cloth:
        for v in cloth:
            if v <= u:
                continue
            t, near = along(u, v, seen)
            tc, nc = along(u, v, centres)
            path = (tc > 0.2) & (tc < 0.8) & nc           # cloths between: on the way
            path[list(blend)] = False
            path[[u, v]] = True
            t = t[near & path[own]]                       # not a third cluster's beside
            ends = np.sqrt(float((np.abs(t) < 0.05).sum() * (np.abs(t - 1) < 0.05).sum()))
            bins = np.histogram(t, bins=7, range=(0.15, 0.85))[0]
            ratio[u, v] = ratio[v, u] = bins.min() / max(ends, 1.0)
    # One cloth only where every two of its clusters run into each other (the pairs that run
    # most smoothly joined first): a jacket's light folds may run into a shirt's shadows, and
    # the jacket's dark into its folds, with the jacket and the shirt still apart.
    n = len(centres)
    group = list(range(n))
    for r, u, v in sorted(((ratio[u, v], u, v) for u in range(n) for v in range(u + 1, n)),
                          reverse=True):
        a = [k for k in range(n) if group[k] == group[u]]
        b = [k for k in range(n) if group[k] == group[v]]
        if r >= SHADE_GAP and group[u] != group[v] and (ratio[np.ix_(a, b)] >= SHADE_GAP).all():
            group = [group[u] if g == group[v] else g for g in group]
    return group


def fill_along(image: np.ndarray, hole: np.ndarray, source: np.ndarray,
               bone: np.ndarray) -> np.ndarray:
    """:func:`fill_hidden` across a limb: the picture turned so that the bone ``(2, 2)`` (two
    points) lies level, filled there (each hole pixel mirrors the visible sleeve across the
    hole's edge beside the bone, so the sleeve's shading across its width carries on), and
    turned back. The mirror reads the sleeve's own colours only: its rare odd ones
    (:func:`odd_colours`: a fleck of the hand, the chair under an elbow, a lit fold, which
    showed as pale shards on hbr_speaker12's hidden sleeves) are painted over from the cloth
    first. Pixels outside ``hole`` are unchanged but the occluder's fringe: odd colours of the
    visible sleeve touching the hole (within :data:`FRINGE` px at 512 px), a fingertip past the
    hand's cut or a notch of backdrop, leave with the forearm that covered the hole and are
    painted over where seen too (hbr_speaker12's fleck of his hand, pink on a shoulder, came
    along with the sleeve as the arm came down). A plain sleeve's fill is its smooth shading
    (:data:`PLAIN_CLOTH`)."""
    h, w = hole.shape
    src = source & ~hole
    px = min(h, w) / 512.0
    odd = odd_colours(lab_of(image), src)
    fringe = grown(touching(odd, grown(hole, FRINGE * px)), 1.5 * px) & src   # soft edge too
    # The copy the mirror reads holds the sleeve's own colours only: odd ones mirrored into the
    # fill showed as pale shards on the cloth.
    photo, image = image, painted_over(image, odd | fringe, src & ~odd & ~fringe)
    a, b = np.asarray(bone, np.float64)
    angle = float(np.degrees(np.arctan2(b[1] - a[1], b[0] - a[0])))
    centre = (float(a[0] + b[0]) / 2, float(a[1] + b[1]) / 2)
    side = int(np.ceil(np.hypot(h, w)))
    fwd = cv2.getRotationMatrix2D(centre, angle, 1.0)
    fwd[:, 2] += (side / 2 - centre[0], side / 2 - centre[1])   # the limb at the canvas centre
    # Of the turned picture (twice the photo's area), only the box around the sleeve, with
    # room for the fill's Telea (REST_MARGIN), is worked on: on the whole canvas
    # pats_oliver_slice18.png's two sleeves took 0.27 s, in the box 0.19 s. It starts on even
    # pixels of the canvas, whose half-scale grid (:func:`mask_box`) it keeps: the fill is
    # the whole canvas's within 2 grey levels on the shared photos and clips (25 at a few
    # pixels of un_speech_female's).
    ys, xs = np.nonzero(hole | source)
    corners = np.array([[xs.min(), ys.min()], [xs.max(), ys.min()],
                        [xs.min(), ys.max()], [xs.max(), ys.max()]], np.float64)
    turned = corners @ fwd[:, :2].T + fwd[:, 2]
    reach = int(np.ceil(REST_MARGIN * side / 512.0)) + 8
    x0, y0 = (max(0, int(np.floor(v)) - reach) // 2 * 2 for v in turned.min(axis=0))
    x1, y1 = (min(side, int(np.ceil(v)) + reach + 1) for v in turned.max(axis=0))
    fwd[:, 2] -= (x0, y0)
    back = cv2.invertAffineTransform(fwd)

    def turn(x: np.ndarray, flags: int) -> np.ndarray:
        return cv2.warpAffine(x, fwd, (x1 - x0, y1 - y0), flags=flags,
                              borderMode=cv2.BORDER_REPLICATE)

    # Filled 2 px past the hole there, so turning back samples no unfilled pixel at its edge.
    wide = cv2.dilate(turn(hole.astype(np.uint8), cv2.INTER_NEAREST), np.ones((5, 5), np.uint8))
    # Turned, the sleeve's edge pixels mix with what lay beside it; the backdrop's colour read
    # there was repeated along a whole row of the fill (a line down hbr_speaker12's sleeve).
    filled = fill_hidden(turn(bleed(image, src, steps=2), cv2.INTER_LINEAR), wide > 0,
                         turn(source.astype(np.uint8), cv2.INTER_NEAREST) > 0, along_rows=True,
                         pattern=True, scale=side / 512.0)
    out = photo.copy()
    out[hole] = cv2.warpAffine(filled, back, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)[hole]
    if cloth_detail(image, src) < PLAIN_CLOTH:
        cloth = image.copy()            # the seen sleeve read with its odd colours painted over
        cloth[hole] = out[hole]
        shaded = _blur_in(cloth.astype(np.float32), hole | src, SHADE * px)
        out[hole] = np.clip(shaded[hole] + 0.5, 0, 255).astype(np.uint8)
    out[fringe] = image[fringe]
    return out
