"""Mouth opening and blinks as local backward warps in the photo's face (RENDERING.md, "Face").

Both act on the head layer's backward map *in photo coordinates*, so they turn and move with
the head. Each works in a local frame (u along the mouth or eye, v down the face):

* mouth — the lower lip, chin and jaw slide down with a smooth falloff, the upper lip up by a
  quarter as much; between them either the photo's own mouth interior (stretched) when the
  photo's mouth is open, or a synthesised cavity in the lip hue with an upper-teeth band.
* blink — the skin above the upper lid slides down over the (fixed) eyeball to a new lid line,
  with a thin lash line; the eye box is not squashed.

Opening is measured on the target as inner-lip distance ÷ mouth width (iBUG 63–67 over 49–55);
eye closure as the eye-aspect ratio relative to the photo's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gesticulate.skeleton import layout as L
from gesticulate.skeleton.tracks import smoothstep

OPEN_PHOTO = 0.03          # photo's inner-lip ratio at or above which its mouth counts as open
# The upper teeth at their brightest are the face's skin (its nose's median colour) times
# TEETH_OVER_SKIN. A video's teeth are small and lit as the face is: in the shared clips' real
# frames with the mouth open, the brightest fifth of the inner lips' area has the skin's
# chromaticity (green over red 0.34-0.86 where the skin's is 0.44-0.90) and 0.8-1.4 times its
# level (median 1.1), whatever the skin's tone (ted_lia_driving1 and 3: 1.15 and 1.16). A fixed
# near-white (208, 202, 190), scaled to the face's brightness, came out as cyan-grey teeth on a
# warm face: on avspeech_sample1's the brightest fifth of the rendered mouth was (101, 96, 90),
# of her real one (143, 49, 63); now (138, 56, 55).
TEETH_OVER_SKIN = 1.1
# The mouth's interior is the lips' colour times CAVITY_EDGE (red, green, blue) by the lips (their
# shadow) and CAVITY_DEEP in the middle of a mouth opened wide (the tongue): red, darker at the
# lips. In the real frames with the mouth open of the five shared clips whose first frame's
# mouth is closed, the inner lips' area has a median of 0.68-1.02 of the lips' red (0.38-0.90 of
# their green) and its darkest fifth 0.40-0.61 of their red, 0.06-0.31 of their green and
# 0.14-0.39 of their blue. The lips' hue scaled to a fixed darkness (their brightest channel
# to 87 by the lips, 46 inside) was a grey-green hole on hbr_speaker8, whose real mouth shows
# dark red. Lighter by the lips than inside (0.7/0.45/0.47 there, 0.45/0.2/0.22 deep), the
# mouth looked most like the real ones (PSNR round the lips) but the detector read it barely
# open: re-detected on desk_host_body.png at 384 px, a target opening of 0.155 (inner-lip gap
# over mouth width) came back as 0.056 (0.106 with the grey hole, 0.117 as set), and the
# generated video's mouth no longer opened 1.5 times more in speech than in pauses
# (tests/test_pipeline_realdata.py).
CAVITY_EDGE = np.array([0.35, 0.12, 0.14], np.float32)
CAVITY_DEEP = np.array([0.6, 0.35, 0.37], np.float32)
# ... but in a photo with no colour (portrait_s2.jpg, black and white), whose face's pixels
# differ across their channels by under GREY_CHROMA levels on average, each a grey of the same
# luma (ITU-R BT.601): the red factors drew a maroon mouth with pink teeth in a grey face.
GREY_CHROMA = 3.0
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _frame(a: np.ndarray, b: np.ndarray, down: np.ndarray):
    """Origin, u axis (a→b) and v axis (perpendicular, pointing towards ``down``)."""
    o = 0.5 * (a + b)
    u = (b - a) / max(np.linalg.norm(b - a), 1e-9)
    v = np.array([-u[1], u[0]])
    if (down - o) @ v < 0:
        v = -v
    return o, u, v


def _curve(points: np.ndarray, o, u, v) -> tuple[np.ndarray, np.ndarray]:
    """A lid or lip line as (u, v) samples sorted by u, for ``np.interp``."""
    q = points - o
    us, vs = q @ u, q @ v
    order = np.argsort(us)
    return us[order], vs[order]


def mouth_ratio(kp: np.ndarray) -> float:
    """Inner-lip opening ÷ mouth width of one frame ``(133, 3)``."""
    width = np.linalg.norm(kp[L.MOUTH_RIGHT_CORNER, :2] - kp[L.MOUTH_LEFT_CORNER, :2])
    gap = np.linalg.norm(kp[L.INNER_LIP_BOTTOM, :2] - kp[L.INNER_LIP_TOP, :2])
    return float(gap / max(width, 1e-6))


def eye_ratio(kp: np.ndarray, contour: tuple[int, ...]) -> float:
    """Eye-aspect ratio (lid distance ÷ eye width) of one eye's 6 contour points."""
    p = kp[list(contour), :2]
    width = np.linalg.norm(p[3] - p[0])
    return float((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2 * max(width, 1e-6)))


@dataclass
class Mouth:
    o: np.ndarray
    u: np.ndarray
    v: np.ndarray
    half: float                 # half inner width (px)
    width: float                # outer corner distance (px)
    upper: tuple                # inner upper lip line (us, vs)
    lower: tuple                # inner lower lip line
    chin: float                 # v of the chin
    nose: float                 # v of the nose bottom (negative)
    ratio: float                # photo's inner-lip ratio
    open_photo: bool
    colour: np.ndarray          # the lips' median colour (RGB float): the cavity's base
    teeth: np.ndarray           # the upper teeth's colour where they are lit most (RGB float)
    split: float = 0.5          # an open photo mouth's interior above this share rides up
    edge: np.ndarray = field(default_factory=CAVITY_EDGE.copy)   # the cavity's tint by the
    deep: np.ndarray = field(default_factory=CAVITY_DEEP.copy)   # lips, and deep inside
    seam: tuple | None = None   # an open photo's interior where it parts: _seam_row

    def box(self, opening: float) -> np.ndarray:
        """Corners ``(4, 2)`` of the photo region the warp may touch."""
        reach = self.chin * 1.6 + abs(opening)
        corners = [(-2.2 * self.half, self.nose), (2.2 * self.half, self.nose),
                   (2.2 * self.half, reach), (-2.2 * self.half, reach)]
        return np.array([self.o + a * self.u + b * self.v for a, b in corners])


@dataclass
class Eye:
    o: np.ndarray
    u: np.ndarray
    v: np.ndarray
    half: float
    upper: tuple
    lower: tuple
    ratio: float

    def box(self) -> np.ndarray:
        h = 1.2 * self.half
        corners = [(-1.1 * self.half, -h), (1.1 * self.half, -h),
                   (1.1 * self.half, h), (-1.1 * self.half, h)]
        return np.array([self.o + a * self.u + b * self.v for a, b in corners])


def build_face(image: np.ndarray, ref: np.ndarray, valid: np.ndarray):
    """Mouth and eye models of the photo (None for a part whose points are not all seen)."""
    mouth = None
    lips = list(L.LIPS) + [L.CHIN, L.face(33)]
    if valid[lips].all():
        p = ref[:, :2].astype(np.float64)
        o, u, v = _frame(p[L.face(60)], p[L.face(64)], p[L.CHIN])
        upper = _curve(p[[L.face(i) for i in (60, 61, 62, 63, 64)]], o, u, v)
        lower = _curve(p[[L.face(i) for i in (60, 67, 66, 65, 64)]], o, u, v)
        width = float(np.linalg.norm(p[L.MOUTH_RIGHT_CORNER] - p[L.MOUTH_LEFT_CORNER]))
        ratio = mouth_ratio(ref)
        lip_pts = p[list(L.OUTER_LIPS)].astype(np.int32)
        h, w = image.shape[:2]
        xs = np.clip(lip_pts[:, 0], 0, w - 1)
        ys = np.clip(lip_pts[:, 1], 0, h - 1)
        colour = np.median(image[ys, xs].astype(np.float32), axis=0)
        nose = p[[L.face(i) for i in (29, 30, 31, 35)]].round().astype(int)
        nose_px = image[np.clip(nose[:, 1], 0, h - 1), np.clip(nose[:, 0], 0, w - 1)]
        skin = np.median(nose_px.astype(np.float32), axis=0)
        teeth = np.clip(skin * TEETH_OVER_SKIN, 0, 255)
        face = np.vstack([image[ys, xs], nose_px]).astype(np.float32)
        tint = (CAVITY_EDGE.copy(), CAVITY_DEEP.copy())
        if float(np.ptp(face, axis=1).mean()) < GREY_CHROMA:
            tint = tuple(np.full(3, float(LUMA @ f), np.float32) for f in tint)
        split = _split(image, o, u, v, upper, lower, float(skin.mean())) \
            if ratio >= OPEN_PHOTO else 0.5
        mouth = Mouth(o, u, v, 0.5 * float(np.linalg.norm(p[L.face(64)] - p[L.face(60)])),
                      width, upper, lower, float((p[L.CHIN] - o) @ v),
                      min(float((p[L.face(33)] - o) @ v), -2.0), ratio,
                      ratio >= OPEN_PHOTO, colour, teeth, split, *tint,
                      seam=_seam_row(image, o, u, v, upper, lower, split)
                      if ratio >= OPEN_PHOTO and split < 1.0 else None)
    eyes = []
    for contour in (L.RIGHT_EYE_CONTOUR, L.LEFT_EYE_CONTOUR):
        if not valid[list(contour)].all():
            continue
        p = ref[list(contour), :2].astype(np.float64)
        o, u, v = _frame(p[0], p[3], ref[L.CHIN, :2])
        eyes.append((contour, Eye(o, u, v, 0.5 * float(np.linalg.norm(p[3] - p[0])),
                                  _curve(p[[0, 1, 2, 3]], o, u, v),
                                  _curve(p[[0, 5, 4, 3]], o, u, v), eye_ratio(ref, contour))))
    return mouth, eyes


# An open photo mouth's interior (:func:`_split`) is sampled about every px down, in 7 columns
# across its middle SPLIT_SPAN of its width. It is the upper teeth alone when it is lit as
# teeth are (its 90th percentile at least UPPER_TEETH_LIGHT of the skin's level), brightest in
# its upper UPPER_TEETH_TOP, and no row in its lower half (above the lower lip's line) is under
# DARK_LINE of that light (no gap to the lower teeth or the tongue).
SPLIT_SPAN = 0.6
UPPER_TEETH_LIGHT = 0.9
UPPER_TEETH_TOP = 0.6
DARK_LINE = 0.75


def _split(image: np.ndarray, o, u, v, upper, lower, skin: float) -> float:
    """Where an open photo mouth's interior parts when it opens further, as a share of its
    height from the upper lip (what lies above rides up with the upper lip, the rest down
    with the jaw): 1 for an interior of the upper teeth alone (:data:`UPPER_TEETH_LIGHT`
    ...; the demo's smile, split halfway, left a thin white strip under her lip and the rest
    of her teeth went down with the jaw); halfway otherwise (interview_1wrQ6Msp7wM's lower
    teeth, lit as teeth but brightest low, lost 1.2 dB of mouth-box PSNR in self-reenactment
    riding up), and for an interior under 2 px tall. ``skin``: the face's skin level (the mean
    of its RGB)."""
    half = 0.5 * SPLIT_SPAN * (upper[0][-1] - upper[0][0])
    us = np.linspace(-half, half, 7)
    up, lo = np.interp(us, *upper), np.interp(us, *lower)
    if float(np.median(lo - up)) < 2.0:
        return 0.5
    t = np.linspace(0.0, 1.0, int(np.ceil(np.median(lo - up))) + 1)     # every row, or so
    vv = up[None, :] + t[:, None] * (lo - up)[None, :]
    luma = _at(image, o, u, v, us[None, :], vv).mean(axis=2).mean(axis=1)  # per row, down
    light = float(np.percentile(luma, 90))
    if light >= UPPER_TEETH_LIGHT * skin and t[int(np.argmax(luma))] <= UPPER_TEETH_TOP \
            and luma[(t >= 0.5) & (t < 1.0)].min() > DARK_LINE * light:
        return 1.0
    return 0.5


def _seam_row(image: np.ndarray, o, u, v, upper, lower, split: float) -> tuple:
    """An open photo mouth's interior along the line where it parts (``split`` of the way
    from the upper lip), every px across: ``(us, RGB (n, 3) float32)`` (:data:`SEAM_REACH`)."""
    half = 0.5 * (upper[0][-1] - upper[0][0])
    us = np.linspace(-half, half, max(int(2 * half) + 1, 2))
    up = np.interp(us, *upper)
    return us, _at(image, o, u, v, us, up + split * (np.interp(us, *lower) - up))


def _at(image: np.ndarray, o, u, v, us: np.ndarray, vs: np.ndarray) -> np.ndarray:
    """The pixels (float32 RGB, nearest, clipped to the image) at mouth-frame points
    ``(us, vs)`` (arrays of one shape)."""
    h, w = image.shape[:2]
    xs = np.clip(np.round(o[0] + us * u[0] + vs * v[0]).astype(int), 0, w - 1)
    ys = np.clip(np.round(o[1] + us * u[1] + vs * v[1]).astype(int), 0, h - 1)
    return image[ys, xs].astype(np.float32)


def warp_mouth(m: Mouth, opening: float, mx: np.ndarray, my: np.ndarray):
    """Apply a mouth opening of ``opening`` pixels (target gap − photo gap, at the centre) to a
    backward map in place.

    Returns
    -------
    colour, cover : np.ndarray or None
        Synthesised cavity colour ``(h, w, 3)`` float32 and its coverage ``(h, w)`` in 0..1, to
        paint over the remapped texture; None when nothing is synthesised.
    """
    o, mu, mv = m.o.astype(np.float32), m.u.astype(np.float32), m.v.astype(np.float32)
    qx, qy = mx - o[0], my - o[1]
    u = qx * mu[0] + qy * mu[1]
    v = qx * mv[0] + qy * mv[1]
    up = np.interp(u, *m.upper).astype(np.float32)
    lo = np.interp(u, *m.lower).astype(np.float32)
    lens = np.sqrt(np.clip(1 - (u / m.half) ** 2, 0, 1))
    d_lo, d_up = np.float32(0.8 * opening), np.float32(0.2 * opening)
    up2 = up - d_up * lens
    lo2 = np.maximum(lo + d_lo * lens, up2)
    # Lower face: the jaw drops; the displacement widens from the lip line towards the chin
    # (the whole jaw moves, not only the lip) and fades out below the chin.
    chin = max(m.chin, 1.0)
    s = np.clip((v - lo) / chin, 0, 1)
    widen = np.sqrt(np.clip(1 - (u / (m.half * (1 + 1.2 * s))) ** 2, 0, 1))
    vs = v - d_lo * lens
    for _ in range(2):
        fall = 1 - smoothstep((vs - chin) / (0.6 * chin))
        vs = v - d_lo * widen * fall
    below = v >= lo2
    # Upper lip: rises a little, fading out at the nose.
    span = np.maximum(up - m.nose, 1.0)
    va = v + d_up * lens
    va = v + d_up * lens * (1 - smoothstep((up - va) / span))
    above = v <= up2
    new_v = np.where(below, vs, np.where(above, va, v))
    gap = ~(below | above)
    colour = cover = None
    if m.open_photo and opening <= 0:
        # Closing a mouth that is open in the photo: squeeze its interior between the lips.
        t = (v - up2) / np.maximum(lo2 - up2, 1e-3)
        new_v = np.where(gap, up + t * (lo - up), new_v)
    elif m.open_photo:
        # Opening further: the photo's interior above its split (halfway, or all of it for
        # the upper teeth alone: _split) rides with the upper lip, the rest with the jaw, and
        # the new gap between them is a cavity: in shadow under the teeth alone
        # (UNDER_TEETH), or from the photo's interior where it parts (SEAM_REACH).
        mid = up + m.split * (lo - up)
        top = v - up2 < mid - up
        bottom = lo2 - v < lo - mid
        new_v = np.where(gap & top, up + (v - up2), new_v)
        new_v = np.where(gap & bottom & ~top, lo - (lo2 - v), new_v)
        inner = gap & ~top & ~bottom
        if inner.any():
            colour, cover = _cavity(m, u, v, up2 + (mid - up), lo2 - (lo - mid), lens,
                                    teeth=False)
            new_v = np.where(inner, mid, new_v)
    elif gap.any() and opening > 0.5:
        new_v = np.where(gap, np.where(v - up2 < lo2 - v, up, lo), new_v)
        colour, cover = _cavity(m, u, v, up2, lo2, lens)
    shift = new_v - v
    mx += (shift * m.v[0]).astype(np.float32)
    my += (shift * m.v[1]).astype(np.float32)
    return colour, cover


# Lower teeth (:func:`_cavity`), as RENDERING.md has them: only on wide openings. In the shared
# clips' real frames opened widest (inner-lip gap over mouth width 0.36-0.50: hbr_speaker9,
# hbr_speaker12, interview_1wrQ6Msp7wM), a row of lower teeth shows above the lower lip; at
# 0.13-0.24 (avspeech_sample2, talkshow_show_half) none does. They rise from nothing at a gap
# of LOWER_TEETH[0] mouth widths to full at LOWER_TEETH[1], LOWER_TEETH[2] mouth widths tall at
# most (and never over a third of the cavity), lit a little less than the upper teeth
# (LOWER_TEETH_LIGHT). Self-reenactment, mouth box on the frames whose real mouth is open:
# hbr_speaker12 19.49 -> 19.59 dB, avspeech_sample1 22.54 -> 22.55, talkshow_show_half 21.74
# (unchanged). Not in an open photo mouth's new gap: under the README demo's smile (its upper teeth
# ride up whole) they were a faint pink line, and the detector read her mouth less open (90th
# percentile of the re-detected opening 0.275 -> 0.244).
LOWER_TEETH = (0.22, 0.4, 0.09)
LOWER_TEETH_LIGHT = 0.85
# A photo's smile that shows its upper teeth alone (split 1) opens further into a cavity under
# them: in shadow by the teeth, its edge tint times UNDER_TEETH[1], lightening down to the
# tongue's (the deep tint) at UNDER_TEETH[0] of the way to the lower lip. Lit as a closed
# mouth's, darker by both lips and lightest halfway, the README demo's widest openings were a
# flat maroon crescent ringed in dark, a second pair of lips. The detector reads the shaded
# cavity a little less open (re-detected opening against the motion's own, 17 s demo:
# correlation 0.959 -> 0.927, on the widest quarter 0.707 -> 0.654 of the motion's); lower
# teeth there (the photo's own teeth's row, lit 0.85) were read less open still (correlation
# 0.833, widest quarter 0.598) and were left out.
UNDER_TEETH = (0.8, 0.6)
# An open photo mouth's halves part (split 0.5) on a new gap whose edges take the photo's own
# interior where it parts (_seam_row: its teeth, tongue or dark), fading to the cavity's tint by
# SEAM_REACH of the way to the gap's middle. Tinted to the middle, the gap was a dark red oval
# inside the photo's lighter teeth or darker shadow, a ring round it. Self-reenactment, mouth
# box on the frames whose real mouth is open: hbr_speaker9 22.73 -> 23.34 dB, interview
# 24.14 -> 24.24, un_speech_female 17.48 (unchanged); at 1.0 (the seam's colour over all but the
# middle) 23.85 and 24.61, but hbr_speaker9's opened mouth was a pale grey, read open by the
# detector in fewer frames (re-detected opening's 90th percentile 0.139 -> 0.100, 0.104 at 0.5).
SEAM_REACH = 0.5


def _cavity(m: Mouth, u, v, up2, lo2, lens, *, teeth: bool = True):
    """Mouth interior in the lips' colour tinted (``m.edge`` by the lips, ``m.deep`` inside:
    red, or grey in a photo with no colour), with ``teeth``: an upper-teeth band under ``up2``
    and, on a wide opening, lower teeth over ``lo2`` (:data:`LOWER_TEETH`). Under an open
    photo's own upper teeth (``m.split`` 1) it is in their shadow (:data:`UNDER_TEETH`); where
    an open photo's interior parts (``m.seam``), its edges take that interior's colour
    (:data:`SEAM_REACH`)."""
    cover = np.clip(np.minimum(v - up2, lo2 - v) + 0.5, 0, 1) * np.clip(lens * 4, 0, 1)
    cover = cover.astype(np.float32)
    gap = np.maximum(lo2 - up2, 1e-3)
    depth = np.clip((v - up2) / gap, 0, 1)
    centre = 1 - np.abs(2 * depth - 1)
    edge = m.edge
    if m.split == 1.0:
        centre, edge = smoothstep(depth / UNDER_TEETH[0]), edge * UNDER_TEETH[1]
    deep = (centre * lens)[..., None]
    colour = (m.colour * (edge + (m.deep - edge) * deep)).astype(np.float32)
    if m.seam is not None:
        us, rgb = m.seam
        by = np.stack([np.interp(u, us, rgb[:, c]) for c in range(3)], axis=-1)
        near = np.clip(1 - centre / SEAM_REACH, 0, 1)[..., None]
        colour = (colour * (1 - near) + by * near).astype(np.float32)
    if not teeth:
        return colour, cover
    # Upper teeth: a band under the upper lip, never filling the whole gap, in the face's light
    # (TEETH_OVER_SKIN), shaded darker towards the corners and towards their lower edge.
    colour = _teeth(colour, m, u, v - up2, np.minimum(0.55 * gap, 0.1 * m.width), 0.8, 1.0)
    wide = smoothstep((gap / max(m.width, 1e-3) - LOWER_TEETH[0])
                      / (LOWER_TEETH[1] - LOWER_TEETH[0]))
    tall = np.minimum(LOWER_TEETH[2] * m.width, gap / 3.0) * wide
    return _teeth(colour, m, u, lo2 - v, tall, 0.65, LOWER_TEETH_LIGHT), cover


def _teeth(colour, m: Mouth, u, d, tall, reach: float, light: float):
    """``colour`` with a row of teeth ``tall`` px from a lip (``d``: each pixel's distance from
    it, into the mouth), ``reach`` of the mouth's inner half-width to each side, lit ``light``
    times the upper teeth's colour, darker towards the corners and away from the lip."""
    band = (d < tall) & (tall > 0) & (np.abs(u) < reach * m.half)
    across = np.clip(1 - (u / (reach * m.half)) ** 2, 0, 1)
    away = np.clip(d / np.maximum(tall, 1e-3), 0, 1)
    shade = (light * (0.53 + 0.47 * across) * (1 - 0.3 * away))[..., None]
    soft = (np.clip(tall - d, 0, 1.5) / 1.5 * np.clip(across * 3, 0, 1))[..., None]
    return np.where(band[..., None], colour * (1 - soft) + m.teeth * shade * soft, colour)


def warp_eye(e: Eye, closure: float, mx: np.ndarray, my: np.ndarray) -> np.ndarray | None:
    """Close one eye by ``closure`` in 0..1 in place; returns a darkening factor ``(h, w)`` for
    the lash line (None when the eye is open)."""
    if closure <= 0.02:
        return None
    qx, qy = mx - e.o[0], my - e.o[1]
    u = qx * e.u[0] + qy * e.u[1]
    v = qx * e.v[0] + qy * e.v[1]
    up = np.interp(u, *e.upper)
    lo = np.interp(u, *e.lower)
    inside = np.abs(u) < e.half
    lid = up + closure * 0.92 * (lo - up)
    top = up - 0.9 * e.half                          # skin above this line does not move
    sel = inside & (v > top) & (v < lid)
    vs = top + (v - top) * (up - top) / np.maximum(lid - top, 1e-3)
    new_v = np.where(sel, vs, v)
    shift = new_v - v
    mx += (shift * e.v[0]).astype(np.float32)
    my += (shift * e.v[1]).astype(np.float32)
    lash = np.clip(1.6 - np.abs(v - lid), 0, 1) * inside
    edge = np.clip(1 - (u / e.half) ** 2, 0, 1) ** 0.5
    return (1 - 0.55 * closure * lash * edge).astype(np.float32)
