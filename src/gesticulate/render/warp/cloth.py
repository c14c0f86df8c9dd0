"""The cloth under the arms and hands filled with its own (RENDERING.md, "Once per photo":
hidden texture): mirrored from the cloth around, a printed pattern run on in step, plain
cloth's smooth shading, a sleeve run on along its bone.
"""

from __future__ import annotations

import cv2
import numpy as np

from gesticulate.render.warp.fill import bleed, blur_in, inpaint, mirrored
from gesticulate.render.warp.masks import (colour_clusters, grown, lab_of, mask_box, odd_colours,
                                           touching)


def cloth_detail(image: np.ndarray, region: np.ndarray) -> float:
    """How textured the cloth of ``region`` is: the mean absolute difference of the grey image
    from its blur (sigma 3 px, of the region alone) inside the region, its edge left out."""
    inner = cv2.erode(region.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if not inner.any():
        return 0.0
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.abs(grey - blur_in(grey, region, 3.0))[inner].mean())


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
    x = (grey - blur_in(grey, source[box], 4.0)) * m
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


# A narrow band of printed stripes on plain cloth (desk_host_body.png's striped tie, between his
# navy jacket and white shirt) is too small a part of the torso for :func:`pattern_periods`,
# and mirrored across the edge of the hand that lay on it, its diagonal stripes turned back as a
# chevron under the hand, with a pale, jagged blob of the shirt below it. :func:`_stripes_fill`
# reads the seen cloth above the hole in windows STRIPE_BAND px wide (at 512 px; every
# STRIPE_STEP px, up to STRIPE_REACH px above): a window is striped where its detail (grey less
# its 4 px blur) has an RMS of STRIPE_CONTRAST grey levels or more and repeats down the columns,
# its autocorrelation at a lag of P px at least STRIPE_PEAK, at P/2 at most STRIPE_DIP times
# that and at 2P (which must lie within what was read) at least STRIPE_REPEAT. The tie peaks at
# 29 px (0.53; halfway 0.31, double 0.38). Of the twelve shared clips' first frames and the four
# shared photos (at 512 and 256 px) no other torso has such a window: without the double read,
# portrait_s2.jpg's shirt folds passed at 64 px. The hole's pixels in the window's columns, and
# in the columns beside it (as far as half a window) whose seen cloth within 3 P px above the
# hole has a detail RMS of STRIPE_EDGE or more (the band's edges), copy the seen pixel a whole
# number of periods above them (below where there is none), and the fill's shading leaves them.
STRIPE_BAND = 32.0
STRIPE_STEP = 8.0
STRIPE_REACH = 160.0
STRIPE_CONTRAST = 20.0
STRIPE_PEAK = 0.35
STRIPE_DIP = 0.7
STRIPE_REPEAT = 0.2
STRIPE_EDGE = 10.0


def _column_correlation(d: np.ndarray, m: np.ndarray, lag: int) -> float:
    """The normalised correlation of the detail ``d`` (zero off the seen mask ``m``) with itself
    ``lag`` rows down, over the pixels seen at both."""
    a, b, both = d[:-lag], d[lag:], m[:-lag] * m[lag:]
    return float((a * b * both).sum()
                 / np.sqrt(max(float((a * a * both).sum() * (b * b * both).sum()), 1e-6)))


def _stripes_fill(image: np.ndarray, hole: np.ndarray, src: np.ndarray, scale: float
                  ) -> tuple[np.ndarray, np.ndarray] | None:
    """``hole`` pixels below a band of printed stripes copied from the ``src`` pixel a whole
    number of the stripes' periods down the column above or below them (:data:`STRIPE_BAND`
    ...), so the stripes run on in step: ``(image, where filled)``, or None where the seen cloth
    above the hole has no such band."""
    cols = np.flatnonzero(hole.any(axis=0))
    if not len(cols):
        return None
    band = max(8, int(round(STRIPE_BAND * scale)))
    step = max(2, int(round(STRIPE_STEP * scale)))
    reach = int(round(STRIPE_REACH * scale))
    h, w = hole.shape
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = grey - blur_in(grey, src, 4.0 * scale)
    period = np.zeros(w, np.int32)          # per column: the stripes' period (0: none)
    for x in range(max(0, cols[0] - band // 2), min(w - band, cols[-1]) + 1, step):
        rows = hole[:, x:x + band].any(axis=1)
        if not rows.any():
            continue
        top = int(np.argmax(rows))
        m = src[max(0, top - reach):top, x:x + band].astype(np.float32)
        if m.sum() < 200 or m.shape[0] < 5 * PERIOD_MIN:
            continue
        d = detail[max(0, top - reach):top, x:x + band] * m
        if (d * d).sum() < STRIPE_CONTRAST ** 2 * m.sum():
            continue
        c = np.array([_column_correlation(d, m, lag) for lag in range(1, m.shape[0] // 2)])
        p = int(np.argmax(c[PERIOD_MIN - 1:])) + PERIOD_MIN
        if c[p - 1] < STRIPE_PEAK or c[p // 2 - 1] > STRIPE_DIP * c[p - 1] \
                or 2 * p > len(c) or c[2 * p - 1] < STRIPE_REPEAT:
            continue                # (a pattern repeats: its double period is read too)
        # The window's columns, and those beside it with detail: the band's edge and what runs
        # along it (plain cloth beside is left to the mirror and the shading).
        near = detail[max(0, top - 3 * p):top]
        seen = src[max(0, top - 3 * p):top]
        for cx in range(max(0, x - band // 2), min(w, x + band + band // 2)):
            if period[cx] or not hole[:, cx].any():
                continue
            d = near[seen[:, cx], cx]
            if x <= cx < x + band or (len(d) >= p and np.sqrt(np.mean(d * d)) >= STRIPE_EDGE):
                period[cx] = p
    if not period.any():
        return None
    ys, xs = np.nonzero(hole & (period > 0)[None, :])
    p = period[xs]
    out = image.copy()
    got = np.zeros(len(ys), bool)
    # From above first, where the band was read (below a hand it lies in the hand's shadow,
    # and copies from both sides met in a seam across it), the nearest copy there first.
    for sign in (-1, 1):
        for k in range(1, int(np.ceil(h / max(int(p.min()), 1))) + 1):
            yy = ys + sign * k * p
            ok = ~got & (yy >= 0) & (yy < h)
            ok[ok] &= src[yy[ok], xs[ok]]
            out[ys[ok], xs[ok]] = image[yy[ok], xs[ok]]
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
        mixed, ok = mirrored(image, hole, src, stops=stops)
    out[ok] = np.clip(mixed[ok] + 0.5, 0, 255).astype(np.uint8)
    tiled = striped = None
    if pattern and cloth_detail(image, src) >= PLAIN_CLOTH:
        tiled = _pattern_fill(image, hole, src)
    if pattern and tiled is None:
        tiled = _stripes_fill(image, hole, src, scale)
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
        out = _shaded_where_plain(photo, out, hole, src, scale, stops=stops, share=share,
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
                        share: np.ndarray | None = None,
                        kept: np.ndarray | None = None) -> np.ndarray:
    """``filled`` (``image`` with ``hole`` filled from ``src``, mostly by :func:`mirrored`,
    which stopped at ``stops``) with the fill blended towards the cloth's smooth shading where
    the seen cloth near it, and the cloth the mirror copies there, are plain
    (:data:`LOCAL_DETAIL`, :data:`COPIED_REACH`); the copy is kept at the seen cloth's edge
    as far as the rows' mirror has a part in it (``share``, the columns' share in the fill's
    mirrors, :func:`_mirrored_both`; :data:`EDGE_RAMP`), and wholly where ``kept`` (a stripes'
    copy, :func:`_stripes_fill`). Worked in the box around the hole
    (the mirror of the detail too: a hole pixel whose mirrored source lies past the box's
    margin keeps the detail near it only)."""
    box = mask_box(hole, int(np.ceil(3 * (LOCAL_REACH + SHADE) * scale)))
    img, out, hole_b, src_b = image[box], filled[box], hole[box], src[box]
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lo, hi = LOCAL_DETAIL
    # A pixel's detail counts up to the full-copy level: the high-contrast edge of a few odd
    # pixels (a clicker held over a white dress, a bracelet) made plain cloth around look
    # patterned, and the streaky copy stayed (ted_lia_driving2_noaudio).
    detail = np.minimum(np.abs(grey - blur_in(grey, src_b, 3.0 * scale)), hi)
    near = blur_in(detail, src_b, LOCAL_REACH * scale)
    # ... or that of the cloth the mirror copied (its detail over COPIED_REACH, mirrored as
    # the colours were): a narrow tie between plain jacket and shirt.
    own = blur_in(detail, src_b, (COPIED_REACH[0] * scale, COPIED_REACH[1] * scale))
    stops_b = None if stops is None else stops[box]
    if share is None:
        copied, ok = mirrored(own[..., None], hole_b, src_b, stops=stops_b)
    else:
        copied, ok, _ = _mirrored_both(own[..., None], hole_b, src_b, scale, stops=stops_b,
                                       share=share[box])
    near = np.where(ok, np.maximum(near, copied[..., 0]), near)
    copy = np.clip((near - lo) / (hi - lo), 0.0, 1.0)
    if share is not None:
        d = cv2.distanceTransform((~src_b).astype(np.uint8), cv2.DIST_L2, 3)
        ramp = np.clip(1.0 - (d - 1.0) / (EDGE_RAMP * scale), 0.0, 1.0)
        copy = np.maximum(copy, ramp * (1.0 - share[box]))
    if kept is not None:
        copy = np.maximum(copy, kept[box])
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
    plain = blur_in(x, area, sigma)
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
    soft = np.stack([blur_in(o, area, 0.5 * sigma) for o in onehot])
    label, islands = _without_islands(soft.argmax(0), area, src)
    out = plain.copy()
    for k in range(len(onehot)):
        mine = area & (label == k)
        if not mine.any():
            continue
        keep = mine & ~islands          # an island's own colours are not its cloth's shading
        blur = blur_in(x, keep, sigma)
        if (mine & islands).any():      # ... which reaches a wide island's middle from afar
            near = np.clip(cv2.GaussianBlur(keep.astype(np.float32), (0, 0), sigma) / 0.2, 0, 1)
            blur = blur * near[..., None] + blur_in(x, keep, 4 * sigma) * (1 - near[..., None])
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
        shaded = blur_in(cloth.astype(np.float32), hole | src, SHADE * px)
        out[hole] = np.clip(shaded[hole] + 0.5, 0, 255).astype(np.uint8)
    out[fringe] = image[fringe]
    return out
