"""The cloth under the arms and hands filled with its own (RENDERING.md, "Once per photo":
hidden texture): mirrored from the cloth around, a printed pattern run on in step
(:mod:`~gesticulate.render.warp.pattern`), plain cloth's smooth shading
(:mod:`~gesticulate.render.warp.shading`), a sleeve run on along its bone.
"""

from __future__ import annotations

import cv2
import numpy as np

from gesticulate.render.warp.fill import (bleed, blur_in, grey_detail, inpaint, mirrored,
                                          mirrored_both)
from gesticulate.render.warp.masks import grown, lab_of, mask_box, odd_colours, touching
from gesticulate.render.warp.pattern import pattern_fill, stripes_fill
from gesticulate.render.warp.shading import PLAIN_CLOTH, SHADE, shaded_where_plain
from gesticulate.render.warp.weave import woven


def cloth_detail(image: np.ndarray, region: np.ndarray) -> float:
    """How textured the cloth of ``region`` is: the mean absolute difference of the grey image
    from its blur (sigma 3 px, of the region alone) inside the region, its edge left out."""
    inner = cv2.erode(region.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if not inner.any():
        return 0.0
    return float(np.abs(grey_detail(image, region, 3.0))[inner].mean())


# Odd colours of a sleeve within this many px (at 512 px) of the hole its forearm leaves are
# that forearm's fringe (:func:`fill_along`).
FRINGE = 3.0


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


# fill_hidden's Telea works within this many px (at 512 px) of the pixels it fills.
REST_MARGIN = 48


def fill_hidden(image: np.ndarray, hole: np.ndarray, source: np.ndarray, *,
                along_rows: bool = False, pattern: bool = False, shade: bool = False,
                level_stops: bool = False, scale: float | None = None,
                sideways: np.ndarray | None = None, stripes: bool = False) -> np.ndarray:
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
        printed pattern (:func:`pattern.pattern_periods`), each hole pixel copies the seen
        pixel a whole number of its periods away instead, so the pattern runs on in step.
        Mirrored across an arm's or a hand's jagged edge, interview_1wrQ6Msp7wM's
        diamond-printed jacket showed finger-shaped streaks where her hand had lain, and
        Telea's fill a flat grey block on her lapel.
    stripes : bool
        With ``pattern``, on a cloth with no pattern all over: a narrow band of stripes above
        the hole (a tie, :func:`pattern.stripes_fill`) runs on down into it in step, and the
        shading leaves it. For a torso, whose cloth runs down the columns; not a sleeve's.
    shade : bool
        Where the seen cloth near a hole pixel is plain, the fill there is the cloth's smooth
        shading (:func:`shaded_where_plain`).
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
        beside them in their row mirrored in too (:func:`mirrored_both`), kept at the hole's
        edge (:data:`EDGE_RAMP`): the torso's under an upper arm, which lies along it.
    """
    src = source & ~hole
    photo = image
    out = image.copy()
    scale = min(hole.shape) / 512.0 if scale is None else scale
    stops = level_edges(image, scale, within=src) if level_stops else None
    share = None
    if sideways is not None and (sideways & hole).any():
        mixed, ok, share = mirrored_both(image, hole, src, scale, stops=stops,
                                         rows=sideways)
    else:
        mixed, ok = mirrored(image, hole, src, stops=stops)
    out[ok] = np.clip(mixed[ok] + 0.5, 0, 255).astype(np.uint8)
    tiled = striped = None
    if pattern and cloth_detail(image, src) >= PLAIN_CLOTH:
        tiled = pattern_fill(image, hole, src)
    if pattern and stripes and tiled is None:
        tiled = stripes_fill(image, hole, src, scale)
        striped = None if tiled is None else tiled[1]
    if tiled is not None:
        out[tiled[1]] = tiled[0][tiled[1]]
        ok = ok | tiled[1]
    if along_rows and (hole & ~ok).any():
        mixed, beside = mirrored(image.transpose(1, 0, 2), (hole & ~ok).T, src.T, bounce=True)
        beside = beside.T
        out[beside] = np.clip(mixed.transpose(1, 0, 2)[beside] + 0.5, 0, 255).astype(np.uint8)
        ok = ok | beside
        if (hole & ~ok).any():      # rows with no cloth at all: the columns', bounced too
            mixed, across = mirrored(image, hole & ~ok, src, bounce=True)
            out[across] = np.clip(mixed[across] + 0.5, 0, 255).astype(np.uint8)
            ok = ok | across
    # The rest from the cloth around it only: everything that is not cloth is marked unknown
    # too, so the background beside the body does not bleed into the torso as a ghost hand.
    # Worked within REST_MARGIN of it: Telea's front reaches it from the cloth nearby, and on
    # the whole picture, all unknown but the cloth, a call cost 0.4 s.
    out = painted_over(out, hole & ~ok, src | ok, margin=int(np.ceil(REST_MARGIN * scale)),
                       even=True)
    if shade and hole.any() and src.any():
        out = shaded_where_plain(photo, out, hole, src, scale, stops=stops, share=share,
                                 kept=striped)
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
    (:data:`PLAIN_CLOTH`) in its weave (:func:`~gesticulate.render.warp.weave.woven`)."""
    h, w = hole.shape
    src = source & ~hole
    px = min(h, w) / 512.0
    odd = odd_colours(lab_of(image), src)
    fringe = grown(touching(odd, grown(hole, FRINGE * px)), 1.5 * px) & src   # soft edge too
    # The copy the mirror reads holds the sleeve's own colours only: odd ones mirrored into the
    # fill showed as pale shards on the cloth.
    clean = src & ~odd & ~fringe
    photo, image = image, painted_over(image, odd | fringe, clean)
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
        shaded = blur_in(cloth.astype(np.float32), hole | src, SHADE * px)
        out[hole] = np.clip(shaded[hole] + 0.5, 0, 255).astype(np.uint8)
        out = woven(image, out, hole, clean, px)      # ... in the cloth's weave
    out[fringe] = image[fringe]
    return out
