"""A hand the photo shows but cannot lend to the motion, drawn from the motion's landmarks.

Hands clasped round something in the photo (ted_lia_driving2's, round a presenter's clicker)
are one lump of skin that no detector reads. No landmarks tell the warp where its fingers are,
and no other hand can be borrowed (:mod:`~gesticulate.render.warp.borrowed`: neither is read),
so where the motion opens the hands the warp carried the lump out of the photo, stretched: a
grey, fingerless shape with the dress's white across it, and a translucent ghost of it where
the hands came apart in front of the body. A detector seldom found a hand in it (in her
self-reenactment, her left hand in 5 of the 36 frames where the motion has it).

Such a hand, unread in the photo and not borrowed, is drawn where the motion has it found
(:func:`~gesticulate.skeleton.layout.hand_found`) and away from where the photo holds it: a
palm and five fingers along the motion's 21 landmarks, each finger a capsule that narrows to
its tip, lit as a cylinder is, in the photo's own skin (the forearm's colours by the wrist,
:func:`skin_of`), its wrist where the warped forearm ends. It is not the person's hand (its
nails, creases and knuckles are not drawn), but it is a hand of her skin in the motion's pose
where the warp drew a smear. A frame whose motion has the hand unfound (laced in the other, as
in the photo), or found where the photo holds it, shows the photo's own pixels: the photo's
own pose renders the photo.

ted_lia_driving2's self-reenactment (512 px): hands re-detected in 0.372 of the frames where
the motion has them, from 0.186 (the real clip's own frames: 0.558; a first version, whose
hands differed from these by sub-pixel shifts, 0.465: MediaPipe finds the drawn hand in 16 to
20 of the 43 frames); its most-moved box PSNR 16.60 -> 16.59 dB, the whole box's 18.31 ->
18.33; the other shared clips' figures did not change. Of the shared photos and clips' first
frames (scaled to 512 px from the file) her two hands are drawn, and ted_lia_driving3's
right, under her left: read and borrowed in the benchmark's frames, unread in these. The
motion must carry the hand's landmarks: ``generate``'s, made from the photo's keypoints, has
none of a hand the photo did not read.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from gesticulate.render.warp import bones as B
from gesticulate.render.warp.borrowed import hand_read
from gesticulate.render.warp.masks import grown, lab_of, segment_distance
from gesticulate.render.warp.parts import Parts
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.tracks import smoothstep

# Each finger's (thumb to little, :data:`~gesticulate.skeleton.layout.HAND_FINGERS`) half-width
# at its base as a share of the hand's length (:func:`hand_length`); it narrows to TIP of that at
# its tip. Wider than a real finger (about a fifth of the palm's width): a low-resolution
# detection spreads the landmarks of fingers that lie against each other, and drawn at their
# own width they parted like a rake's teeth (ted_lia_driving2's pointing hand). Drawn little
# finger first, the thumb last, over the palm.
WIDTHS = (0.15, 0.14, 0.145, 0.14, 0.12)
TIP = 0.8
PALM = (0,) + tuple(finger[0] for finger in L.HAND_FINGERS)     # the wrist and the knuckles
# The skin between the fingers: the palm reaches WEB of the way from each knuckle to the next
# joint.
WEB = 0.75
# The palm's edge darkens over this share of the hand's length (its roundness).
PALM_ROUND = 0.12
# The wrist, WRIST[0] of the hand's length wide each side, runs WRIST[1] of it back towards the
# elbow, under the palm: it bridges the hand to where the warped forearm ends (the photo's
# forearm stops where its hand's lump began).
WRIST = (0.2, 0.45)
# Drawn SUPER times finer and averaged down: the edges are smooth.
SUPER = 3
# Lit as a cylinder: a finger's axis takes the skin's light shade, its edge the dark one (so
# fingers lying side by side part along a darker line), in between by the cylinder's facing
# c (0..1) as (1 - EDGE_SHADE) c + EDGE_SHADE c^2: a little darker than linear, off the axis.
EDGE_SHADE = 0.25
# The shades run over SHADES of the forearm's own (10th to 90th percentile of brightness): at
# the whole range the fingers' edges drew dark outlines, a cartoon's.
SHADES = 0.4
# A hand within TOGETHER shoulder widths of the other is clasped with it: ted_lia_driving2's
# hands lie 0.04 apart round her clicker, interview_1wrQ6Msp7wM's 0.52.
TOGETHER = 0.1
# The drawn hand shows wholly when its wrist has moved AWAY[1] or more of the hand's length
# from where the photo holds it (against the other wrist, as hands clasped go together), not at
# all within AWAY[0]: the photo's own pose renders the photo.
AWAY = (0.15, 0.4)


class Skin(NamedTuple):
    """The photo's skin, RGB float: a dark and a light shade of one colour."""

    dark: np.ndarray      # (3,)
    light: np.ndarray     # (3,)


def skin_of(image: np.ndarray, fore: np.ndarray, wrist: np.ndarray, elbow: np.ndarray
            ) -> Skin | None:
    """The skin of a forearm's segment ``fore`` ``(H, W)`` bool in ``image`` (RGB uint8) within
    half the forearm of its ``wrist`` (its bare end), less the 30 % of its pixels farthest from
    their median colour (a bracelet, a cuff's edge; one that covers more of it is kept): their
    median colour scaled towards the 10th and 90th percentiles of their brightness
    (:data:`SHADES`; scaled, not lightened in CIELAB: a dark skin's light shade keeps its
    warmth); None where under 20 pixels are left."""
    length = float(np.linalg.norm(wrist - elbow))
    ys, xs = np.nonzero(fore)
    near = np.hypot(xs - wrist[0], ys - wrist[1]) <= max(0.5 * length, 3.0)
    if near.sum() < 20:
        return None
    rgb = image[ys[near], xs[near]].astype(np.float64)
    lab = lab_of(image[ys[near], xs[near]][None])[0]
    d = np.linalg.norm(lab - np.median(lab, axis=0), axis=1)
    rgb = rgb[d <= max(np.percentile(d, 70), 1.0)]
    if len(rgb) < 20:
        return None
    mid = np.median(rgb, axis=0)
    bright = rgb.mean(axis=1)
    lo, hi = np.percentile(bright, [10, 90]) / max(float(mid.mean()), 1.0)
    lo, hi = 1 + SHADES * (lo - 1), 1 + SHADES * (hi - 1)
    return Skin(np.clip(mid * lo, 0, 255), np.clip(mid * hi, 0, 255))


def hand_length(hand: np.ndarray) -> float:
    """How big the hand of landmarks ``hand`` ``(21, 2)`` is, px: the longest of its palm's
    length (wrist to middle knuckle), its width (index to little knuckle) and its middle
    finger's length, each as the palm's length would be (an edge-on or pointing hand
    foreshortens some of them)."""
    palm = np.linalg.norm(hand[9] - hand[0])
    width = np.linalg.norm(hand[17] - hand[5]) * 1.15
    finger = np.linalg.norm(np.diff(hand[9:13], axis=0), axis=1).sum() * 1.05
    return float(max(palm, width, finger, 2.0))


def draw_hand(points: np.ndarray, skin: Skin, size: tuple[int, int], *,
              elbow: np.ndarray | None = None, blur: float = 0.5) -> tuple | None:
    """A hand drawn along its landmarks ``points`` ``(21, 3)`` (output pixels, confidence) in
    ``skin``, in a picture of ``size`` ``(W, H)``: ``(box (x, y, w, h), rgba uint8 (h, w, 4),
    alpha float32 (h, w))`` as a warped layer is drawn, or None where it falls outside the
    picture, or its wrist (point 0) or under :data:`~gesticulate.skeleton.layout.HAND_FOUND`
    of its points are unseen (a finger is drawn where all its points are seen).
    ``elbow`` ``(2,)``: where the forearm comes from (:data:`WRIST`); ``blur``: the Gaussian
    s.d. (px) its colours are softened by, as a photo's edges are."""
    W, H = size
    hand, seen = _filled(points)
    if seen.sum() < L.HAND_FOUND or not seen[0]:
        return None
    length = hand_length(hand)
    if elbow is not None:
        back = np.asarray(elbow, np.float64) - hand[0]
        back = back / max(float(np.linalg.norm(back)), 1e-6) * WRIST[1] * length
        wrist = np.stack([hand[0] + back, hand[0]])
    pad = 0.2 * length + 2
    every = hand if elbow is None else np.vstack([hand, wrist])
    x0 = int(max(np.floor(every[:, 0].min() - pad), 0))
    y0 = int(max(np.floor(every[:, 1].min() - pad), 0))
    x1 = int(min(np.ceil(every[:, 0].max() + pad), W))
    y1 = int(min(np.ceil(every[:, 1].max() + pad), H))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    s = SUPER
    gy, gx = np.mgrid[0:(y1 - y0) * s, 0:(x1 - x0) * s].astype(np.float32)
    gx = (gx + 0.5) / s + x0 - 0.5                   # each fine sample's point, picture px
    gy = (gy + 0.5) / s + y0 - 0.5
    shade = np.full(gx.shape, -1.0, np.float32)      # 0 (edge) .. 1 (facing); -1 off the hand
    if elbow is not None:
        lit = _finger(gx, gy, wrist, WRIST[0] * length, tip=1.0)
        shade[lit >= 0] = lit[lit >= 0]
    palm = np.zeros(gx.shape, np.uint8)
    web = [hand[k] + WEB * (hand[k + 1] - hand[k])
           for k in PALM[2:] if seen[k:k + 2].all()]         # the four fingers' knuckles
    # The polygon in fine samples, on a 1/16 grid (cv2's shift): sample (i, j) lies at (x0 +
    # (j + 0.5) / s - 0.5, ...) in the picture.
    poly = (np.vstack([hand[[i for i in PALM if seen[i]]], *web]) - [x0 - 0.5, y0 - 0.5]) * s \
        - 0.5
    if len(poly) >= 3:
        hull = cv2.convexHull(poly.astype(np.float32))
        cv2.fillConvexPoly(palm, np.round(hull * 16).astype(np.int32), 1, shift=4)
    if palm.any():
        inside = cv2.distanceTransform(palm, cv2.DIST_L2, 3) / s
        on = palm > 0
        shade[on] = np.sqrt(np.clip(inside[on] / (PALM_ROUND * length), 0, 1))
    for chain, width in list(zip(L.HAND_FINGERS, WIDTHS))[::-1]:
        if not seen[list(chain)].all():
            continue
        lit = _finger(gx, gy, hand[list(chain)], width * length)
        on = lit >= 0
        shade[on] = lit[on]
    if not (shade >= 0).any():
        return None
    cover = (shade >= 0).astype(np.float32)
    lit = np.clip(shade, 0, 1) * (1 - EDGE_SHADE) + EDGE_SHADE * np.clip(shade, 0, 1) ** 2
    rgb = skin.dark[None, None] + (skin.light - skin.dark)[None, None] * lit[..., None]
    h, w = y1 - y0, x1 - x0
    alpha = cv2.resize(cover, (w, h), interpolation=cv2.INTER_AREA)
    rgb = cv2.resize((rgb * cover[..., None]).astype(np.float32), (w, h),
                     interpolation=cv2.INTER_AREA)
    rgb = np.where(alpha[..., None] > 0, rgb / np.maximum(alpha[..., None], 1e-3),
                   (skin.dark + skin.light) / 2)     # off the hand: no colour to blur in
    rgb = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    if blur > 0:
        rgb = cv2.GaussianBlur(rgb, (0, 0), blur)
    rgba = np.dstack([rgb, (alpha * 255 + 0.5).astype(np.uint8)])
    return (x0, y0, w, h), rgba, alpha


def _finger(gx: np.ndarray, gy: np.ndarray, joints: np.ndarray, radius: float, *,
            tip: float = TIP) -> np.ndarray:
    """A finger's shading at the points ``(gx, gy)``: along the polyline ``joints`` ``(K, 2)``,
    a capsule of ``radius`` at its base narrowing to ``tip`` of it at its tip, lit as a
    cylinder (1 on its axis, 0 at its edge); -1 off it."""
    seg = np.linalg.norm(np.diff(joints, axis=0), axis=1)
    along = np.r_[0.0, np.cumsum(seg)] / max(float(seg.sum()), 1e-6)
    out = np.full(gx.shape, -1.0, np.float32)
    for k in range(len(joints) - 1):
        d, t = segment_distance(gx, gy, joints[k], joints[k + 1])
        t = np.clip(t, 0.0, 1.0)
        r = radius * (1 - (1 - tip) * (along[k] + t * (along[k + 1] - along[k])))
        lit = np.where(d <= r, np.sqrt(np.clip(1 - (d / r) ** 2, 0, 1)), -1.0)
        np.maximum(out, lit, out=out)
    return out


def away(target: np.ndarray, side: str, rest: np.ndarray) -> float:
    """How much of ``side``'s drawn hand shows in the frame ``target`` ``(133, 3)``, 0..1 in
    steps of 1/32 (:data:`AWAY`): none where the motion has that hand unfound or its wrist
    unseen (as a lent arm, :func:`~gesticulate.render.warp.lent.lends`); else by how far its
    wrist moved from the photo's ``rest`` ``(133, 3)`` against the other wrist (unseen in
    either: against the picture), over the motion's hand's length."""
    mine = _hand(side)
    wrist = B.ARMS[side]["wrist"]
    if not L.hand_found(target, mine, B.MIN_CONFIDENCE) \
            or min(target[wrist, 2], rest[wrist, 2]) < B.MIN_CONFIDENCE:
        return 0.0
    other = B.ARMS["right" if side == "left" else "left"]["wrist"]
    moved = target[wrist, :2] - rest[wrist, :2]
    if min(target[other, 2], rest[other, 2]) >= B.MIN_CONFIDENCE:
        moved = moved - (target[other, :2] - rest[other, :2])
    share = float(np.linalg.norm(moved)) / hand_length(_filled(target[mine])[0])
    lo, hi = AWAY
    return round(float(smoothstep((share - lo) / (hi - lo))) * 32) / 32


class DrawnHand(NamedTuple):
    """A hand drawn from the motion's landmarks (:func:`drawn_hands`)."""

    side: str
    index: int            # of the hand's own layer, which it is cross-faded with
    skin: Skin


def drawn_hands(layers: list, parts: Parts, image: np.ndarray, valid: np.ndarray,
                borrowed: set[str]) -> list[DrawnHand]:
    """The hands of a rig whose ``layers`` are built to draw from the motion: each hand the
    photo shows (its layer) on an arm it shows whole, unread (:func:`~gesticulate.render.warp.
    borrowed.hand_read`), not ``borrowed``, by the other hand (within :data:`TOGETHER`:
    clasped, a lump), whose forearm shows enough skin (:func:`skin_of`). A hand apart from the
    other is a whole hand, kept: carried, it is the person's own hand in the photo's shape
    (interview_1wrQ6Msp7wM's left, cupped and unread, drawn, came out a flat hand of sausage
    fingers beside her real one, 90 px tall)."""
    names = [layer.name for layer in layers]
    out = []
    for side, info in parts.arm_info.items():
        other = "right" if side == "left" else "left"
        if info.mode != "full" or side in borrowed or hand_read(valid, side) \
                or f"hand_{side}" not in names or other not in parts.segments:
            continue
        mine, theirs = parts.segments[side]["hand"], parts.segments[other]["hand"]
        if not (grown(mine, max(2.0, TOGETHER * parts.shoulder_width)) & theirs).any():
            continue
        _, elbow, wrist, _ = info.joints
        skin = skin_of(image, parts.segments[side]["fore"], wrist, elbow)
        if skin is not None:
            out.append(DrawnHand(side, names.index(f"hand_{side}"), skin))
    return out


def hand_points(target: np.ndarray, side: str, wrist: np.ndarray) -> np.ndarray:
    """The motion's landmarks of ``side``'s hand in ``target`` ``(133, 3)``, moved so that its
    wrist lies at ``wrist`` ``(2,)`` (where the warped forearm ends; an unseen point 0 is the
    body's wrist point), on a 1/8 px grid, each confidence 1 (seen) or 0: ``(21, 3)``, what
    :func:`draw_hand` draws, so that the frame's key (the points) is exact."""
    hand = target[_hand(side)].astype(np.float64)
    seen = hand[:, 2] >= B.MIN_CONFIDENCE
    body = target[B.ARMS[side]["wrist"]]
    if not seen[0] and body[2] >= B.MIN_CONFIDENCE:
        hand[0, :2], seen[0] = body[:2], True
    hand[:, :2] += wrist - hand[0, :2]
    hand[:, :2] = np.round(hand[:, :2] * 8) / 8
    hand[:, 2] = seen
    return hand


def _hand(side: str) -> slice:
    return L.LEFT_HAND if side == "left" else L.RIGHT_HAND


def _filled(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A hand's landmarks ``(21, 3)`` as ``(xy (21, 2) float64, seen (21,) bool)``, its unseen
    points at the seen ones' mean (all at 0 where none is seen)."""
    seen = points[:, 2] >= B.MIN_CONFIDENCE
    xy = points[:, :2].astype(np.float64).copy()
    xy[~seen] = xy[seen].mean(0) if seen.any() else 0.0
    return xy, seen
