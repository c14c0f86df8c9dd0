"""The photo's hands: each hand's pixels, cut along its landmarks and the skin's colour, and a
hand lying on the other (:mod:`gesticulate.render.warp.parts`)."""

from __future__ import annotations

import cv2
import numpy as np

from gesticulate.render.warp import bones as B
from gesticulate.render.warp.masks import (blend_distance, colour_clusters, grown, lab_of,
                                           nearest_colour, segment_distance, shoulder_geometry,
                                           touching)
from gesticulate.render.warp.segment import fill_holes
from gesticulate.skeleton import layout as L


def finger_zone(ref: np.ndarray, start: int, shape: tuple[int, int]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Where the hand at ``start`` lies by its landmarks alone, in a picture of ``shape``
    ``(H, W)``: ``(zone, core, bones, r)``: the palm polygon and a capsule of radius ``r`` px
    along each finger, its tips ending ``r`` past the last landmark; the palm shrunk (pixels
    surely the hand's); the fingers' middles, narrower than a finger (bool ``(H, W)`` each)."""
    h, w = shape
    pts = ref[start:start + 21, :2].astype(np.float64)
    ok = ref[start:start + 21, 2] >= B.MIN_CONFIDENCE      # draw only what was seen
    palm_w = float(np.linalg.norm(pts[5] - pts[17]))
    palm_len = float(np.linalg.norm(pts[9] - pts[0]))
    side = max(palm_w, 0.6 * palm_len, 3.0)
    zone = np.zeros((h, w), np.uint8)
    bones = np.zeros((h, w), np.uint8)
    palm_idx = [i for i in (0, 1, 5, 9, 13, 17) if ok[i]]
    if len(palm_idx) >= 3:
        palm = pts[palm_idx].astype(np.float32)
        cv2.fillConvexPoly(zone, cv2.convexHull(palm).astype(np.int32), 1)
    core = zone.copy()
    r = max(1, int(round(0.13 * side)))
    for finger in L.HAND_FINGERS:
        chain = [0 if finger[0] == 1 else finger[0]] + list(finger)
        for a, b in zip(chain[:-1], chain[1:]):
            if not (ok[a] and ok[b]):
                continue
            p, q = np.round(pts[a]).astype(int), np.round(pts[b]).astype(int)
            cv2.line(zone, tuple(int(v) for v in p), tuple(int(v) for v in q), 1,
                     thickness=2 * r + 1)
            cv2.line(bones, tuple(int(v) for v in p), tuple(int(v) for v in q), 1,
                     thickness=max(1, r // 2) * 2 - 1)
    for tip in (4, 8, 12, 16, 20):
        if ok[tip]:
            cv2.circle(zone, tuple(int(v) for v in np.round(pts[tip])), r, 1, -1)
    core = cv2.erode(core, np.ones((3, 3), np.uint8), iterations=max(1, r // 2)) > 0
    return zone > 0, core, bones > 0, r


def hand_mask(image: np.ndarray, ref: np.ndarray, start: int, person: np.ndarray, *,
              lab: np.ndarray | None = None) -> np.ndarray:
    """The hand's own pixels ``(H, W)`` bool, cut along its 21 landmarks: the palm polygon
    and a capsule along each finger, refined by colour. Off the person mask (between the
    fingers, by the segmenter) a pixel stays only when it has the palm's skin colour; on it, it
    stays unless it is nearer the colours around the hand than the palm's (a hand in front of a
    light shirt does not carry the shirt with it). ``lab``: the image in CIELAB (:func:`lab_of`)
    when the caller has it."""
    h, w = image.shape[:2]
    zone, core, bones, r = finger_zone(ref, start, (h, w))
    if core.sum() < 12:
        return zone & person if (zone & person).any() else zone
    lab = lab_of(image) if lab is None else lab
    skin = lab[core]
    mu = np.median(skin, 0)
    spread = np.maximum(np.percentile(np.abs(skin - mu), 90, axis=0) * 1.5, [10.0, 5.0, 5.0])
    d_skin = np.linalg.norm((lab - mu) / spread, axis=2)
    # Cloth has no hue: a pixel greyer than the palm's skin would be at its lightness is not
    # the hand's, however near its lightness (hbr_speaker9's fingers lie across a grey shirt and a
    # black jacket; their edges and the gaps between them went with the hand as grey flaps).
    skinlike = ~_greyer_than_skin(lab.reshape(-1, 3), (mu, spread)).reshape(h, w)
    keep = zone & ~person & (d_skin <= 2.0) & skinlike
    ring = grown(zone, 2 * r) & ~zone & person
    # What lies around the hand on the person, less what looks like skin (the other hand, the
    # face, the wrist): the colours a pixel of the finger zone may belong to instead.
    around = lab[ring]
    around = around[np.linalg.norm((around - mu) / spread, axis=1) > 3.0]
    inside = zone & person & skinlike
    near = grown(zone, 2 * r) & person
    nearer_skin = (d_skin <= 2.0) & skinlike
    if len(around) >= 12:
        k = min(3, len(around))
        centres = colour_clusters(around, k)
        d_back = nearest_colour(lab[inside], centres, spread)
        ok = (d_skin[inside] <= d_back + 0.5) | (d_skin[inside] <= 3.0)
        inside = inside.copy()
        inside[inside] = ok
        # Past the zone, skin must be nearer the palm's colour than the clothes' too: the
        # spread of a blurred, shaded hand (hbr_speaker9) let the shirt and the jacket's edge
        # beside his fingertips pass for skin, carried with the hand as dark shards.
        nearer_skin[near] &= d_skin[near] < nearest_colour(lab[near], centres, spread)
    # ... and so is a finger's middle, whatever its colour (its shaded side).
    keep |= inside | core | (bones & person)
    keep = cv2.morphologyEx(keep.astype(np.uint8), cv2.MORPH_CLOSE,
                            np.ones((3, 3), np.uint8)) > 0
    keep &= zone
    # Skin just past the landmarks' zone (a finger the detector placed a little off, the
    # fingers of folded hands) is hand too, or it would stay on the body as a ghost.
    keep |= grown(keep, 2 * r) & person & nearer_skin
    keep = touching(keep, core)
    # Pinholes the colour tests left inside the hand (a finger's shaded side) are hand: seen
    # through, they showed the body behind the hand wherever it moved.
    return keep | (fill_holes(keep, np.pi * r * r) & zone)


# How far (in robust spreads, CIELAB) from the face's skin colour a pixel may be and still
# count as a hand's (:func:`like_hand`).
HAND_COLOUR = 2.5


def like_hand(lab: np.ndarray, near: np.ndarray, around: np.ndarray,
              skin: tuple[np.ndarray, np.ndarray], *, without_cloth: bool = True) -> np.ndarray:
    """``(N,)`` bool for the ``near`` pixels: skin-coloured (within :data:`HAND_COLOUR` robust
    spreads of ``skin``, the face's: a hand's own cut holds the cloth between its fingers too)
    and nearer skin than any cloth colour ``around`` (k-means clusters of the pixels there
    that are not skin-coloured). With fewer than 12 such pixels the cloth is unknown: the
    skin test alone decides, or, ``without_cloth=False``, no pixel is a hand's."""
    mu, spread = skin
    d_skin = np.linalg.norm((lab[near] - mu) / spread, axis=1)
    keep = d_skin <= HAND_COLOUR
    centres = cloth_colours(lab, around, skin, 4)
    if centres is not None:
        keep &= d_skin < nearest_colour(lab[near], centres, spread)
    elif not without_cloth:
        keep[:] = False
    return keep


def cloth_colours(lab: np.ndarray, around: np.ndarray, skin: tuple[np.ndarray, np.ndarray],
                  k: int) -> np.ndarray | None:
    """``k`` k-means colours ``(k, 3)`` (CIELAB) of the ``around`` pixels that are not
    skin-coloured (over 1.5 robust spreads from ``skin``, median and spread), from at most
    about 20000 of them (a sample of a large region is enough); None with fewer than 12."""
    mu, spread = skin
    cloth = lab[around]
    cloth = cloth[np.linalg.norm((cloth - mu) / spread, axis=1) > 1.5]
    if len(cloth) < 12:
        return None
    return colour_clusters(cloth[:: max(1, len(cloth) // 20000)], k)


# Skin shown on the torso is left out of its hidden fill's source when it is at most this share
# of the torso's visible pixels (a neckline, not a shirt of skin's colour).
BARE_SHARE = 0.25
# ... and only a patch of it with a core BARE_CORE px (at 512 px) from its edge: the pink
# diamonds printed on interview_1wrQ6Msp7wM's jacket (6-8 px across) are skin-coloured, and
# left out of the source (16 % of her torso's seen pixels), the print ran on under her hands
# with its pink diamonds copied from further off or missing: a pale, washed-out patch of print
# where her hands had lain.
BARE_CORE = 5.0


def bare_skin(lab: np.ndarray, visible: np.ndarray, skin: tuple | None) -> np.ndarray | None:
    """The skin-coloured patches among a torso's ``visible`` pixels (:func:`like_hand`: the
    face's colour, nearer it than the cloth's; :data:`BARE_CORE`): a neckline, bare arms. The
    hidden fill under an arm mirrors the torso across the hole's edge from as far as the hole
    is deep, and avspeech_sample1's neckline then showed as a skin blob on her top where her
    hand had lain. None without a face, or when skin is more than :data:`BARE_SHARE` of them
    (a shirt of skin's colour is cloth to copy)."""
    if skin is None or visible.sum() < 12:
        return None
    out = np.zeros(visible.shape, bool)
    out[visible] = like_hand(lab, visible, visible, skin)
    r = BARE_CORE * min(visible.shape) / 512.0
    if r >= 0.5 and out.any():
        # The patches' cores grown back, and 2 px further: their soft edges too (not all of
        # what touches them: a print's spots may touch a patch of skin). Skin beside the
        # hole, a core or none, is copied all the same
        # (:meth:`~gesticulate.render.warp.layers.LayerBuilder._unhidden`).
        out &= grown(~grown(~out, r), r + 2)
    if out.any():
        # Not the blend of two of the cloth's colours: the pinkish edge of a red tie on a white
        # shirt (avspeech_sample2: left out, his tie ran on under his hands without its edges,
        # and his hands re-detected fell 0.68 -> 0.63 in self-reenactment).
        mu, spread = skin
        centres = cloth_colours(lab, visible & ~out, skin, 4)
        if centres is not None:
            centres = centres / spread
            px = lab[out] / spread
            out[out] = blend_distance(px, centres) > np.linalg.norm(px - mu / spread, axis=1)
    return out if out.sum() <= BARE_SHARE * visible.sum() else None


# A hand lies under the other (:func:`hand_under_other`) where the other's pixels inside its own
# outline cover at least this share of a square shoulder width (about a finger's area).
HIDDEN_HAND_MIN = 0.01
# ... and only when its landmarks' wrist lies within this many shoulder widths of its arm's: the
# detector may put a second hand on the first (avspeech_sample1: her left hand's landmarks on
# her right hand, 0.33 from her left wrist, at confidence 0.51), whose layer then carried a
# blurred copy of the right hand away under the left.
HAND_WRIST_GAP = 0.15


def hand_under_other(segments: dict[str, dict[str, np.ndarray]], ref: np.ndarray,
                     valid: np.ndarray, sw: float) -> dict[str, np.ndarray]:
    """Of two hands that overlap in the photo, the lower one's pixels under the other: the
    other hand's pixels inside the convex outline of the lower one's seen landmarks and wrist
    (:data:`HIDDEN_HAND_MIN`, :data:`HAND_WRIST_GAP`).
    Both hands' own cuts give those pixels to the hand on top, so when it rose the lower hand
    was left in shreds, the shirt showing through where the fingers had lain
    (avspeech_sample2's folded hands). The lower hand is the one with more of it under the
    other. ``{side: mask}``, empty unless both hands are cut and one lies on the other."""
    under = {}
    for side, other in (("left", "right"), ("right", "left")):
        mine, theirs = segments.get(side, {}).get("hand"), segments.get(other, {}).get("hand")
        if mine is None or theirs is None or not mine.any() or not theirs.any():
            continue
        start, wrist = B.ARMS[side]["hand_start"], B.ARMS[side]["wrist"]
        idx = [wrist] + list(range(start, start + 21))
        pts = ref[idx][valid[idx], :2]
        if len(pts) < 6 or not (valid[wrist] and valid[start]) \
                or np.linalg.norm(ref[wrist, :2] - ref[start, :2]) > HAND_WRIST_GAP * sw:
            continue
        outline = np.zeros(mine.shape, np.uint8)
        cv2.fillConvexPoly(outline, cv2.convexHull(np.round(pts).astype(np.int32)), 1)
        hid = (outline > 0) & theirs
        if hid.sum() >= HIDDEN_HAND_MIN * sw * sw:
            under[side] = hid
    if len(under) == 2:                   # folded into each other: the one more covered is under
        keep = max(under, key=lambda s: int(under[s].sum()))
        under = {keep: under[keep]}
    return under


PARTIAL_HAND = 8          # seen landmarks of a hand enough to cut it along them


def hand_masks(image: np.ndarray, ref: np.ndarray, valid: np.ndarray, person: np.ndarray,
               lab: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Each hand's own pixels, by side: cut along its landmarks (:func:`hand_mask`) when the
    detector saw it, even in part (folded fingers, a hand cut by the frame's edge); for a seen
    wrist whose hand the detector missed, the skin beyond the wrist (:func:`skin_hands`). A
    hand left out stays drawn on the body as a ghost when its arm lifts. Hands are thin and
    often missed by the person segmenter (fingers against a desk); the keypoint detector saw
    them, so they are added to the person. ``lab``: the image in CIELAB, if at hand."""
    lab = lab_of(image) if lab is None else lab
    out = {}
    for side in ("left", "right"):
        start = B.ARMS[side]["hand_start"]
        if B.hand_valid(valid, start) or valid[start:start + 21].sum() >= PARTIAL_HAND:
            out[side] = hand_mask(image, ref, start, person, lab=lab)
    missed = [side for side in ("left", "right") if side not in out]
    if missed:
        out.update(skin_hands(lab, ref, valid, person, missed, taken=out))
    return out


def face_skin(lab: np.ndarray, ref: np.ndarray, valid: np.ndarray):
    """Median and spread (CIELAB) of the cheeks' skin in ``lab``, or None without a seen
    face."""
    h, w = lab.shape[:2]
    zone = np.zeros((h, w), np.uint8)
    for poly in ([1, 2, 3, 31, 29], [15, 14, 13, 35, 29]):
        idx = [L.face(i) for i in poly]
        if valid[idx].all():
            cv2.fillConvexPoly(zone, np.round(ref[idx, :2]).astype(np.int32), 1)
    zone = cv2.erode(zone, np.ones((3, 3), np.uint8)) > 0
    if zone.sum() < 20:
        return None
    skin = lab[zone]
    mu = np.median(skin, 0)
    # Robust (glasses and brows fall in the cheeks too), wide in lightness (a hand in shadow)
    # and in hue (a hand lit by other light than the face).
    spread = np.maximum(2.0 * 1.4826 * np.median(np.abs(skin - mu), 0), [60.0, 10.0, 12.0])
    return mu, spread


# A pixel lit at least as brightly as the face keeps at least this share of the face's chroma if
# it is skin; darker, the share falls with its lightness (skin in shadow greys).
SKIN_CHROMA = 0.4


def _greyer_than_skin(px: np.ndarray, skin: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``(N,)`` bool for CIELAB pixels ``px`` (OpenCV's 8-bit scale): greyer than the skin
    ``skin`` (median and spread; the face's, or a palm's in :func:`hand_mask`) would be at
    their lightness (:data:`SKIN_CHROMA`). The face's lightness spread
    is wide (a hand in shadow), so a light cloth's shade (ted_lia_driving2's white top, grey
    under her hands) passes the colour test; it has the cloth's (lack of) hue, not skin's."""
    mu = skin[0]
    chroma = np.hypot(px[:, 1] - 128.0, px[:, 2] - 128.0)
    floor = SKIN_CHROMA * float(np.hypot(mu[1] - 128.0, mu[2] - 128.0))
    return chroma < floor * np.clip(px[:, 0] / max(float(mu[0]), 1.0), 0.0, 1.0)


def skin_hands(lab: np.ndarray, ref: np.ndarray, valid: np.ndarray, person: np.ndarray,
               sides: list[str], *, taken: dict[str, np.ndarray] | None = None
               ) -> dict[str, np.ndarray]:
    """Hands the detector missed, by side: the person's pixels within 0.45 shoulder widths of
    the wrist and past it (not the forearm's bare skin), whose colour is nearer the face's
    skin than any of the clothes around (colour clusters of the person 0.45–0.8 shoulder widths
    from the wrist), connected to the wrist; each pixel goes to the nearer wrist, so folded
    hands are split between their arms."""
    geo = shoulder_geometry(ref, valid, person.shape[::-1])
    if geo is None:
        return {}
    face = face_skin(lab, ref, valid)
    if face is None:
        return {}
    sw = geo[2]
    h, w = person.shape
    py, px = np.mgrid[0:h, 0:w].astype(np.float32)
    dist = {side: np.hypot(px - ref[B.ARMS[side]["wrist"], 0], py - ref[B.ARMS[side]["wrist"], 1])
            for side in ("left", "right") if valid[B.ARMS[side]["wrist"]]}
    free = person.copy()
    for m in (taken or {}).values():
        free &= ~m
    out = {}
    for side in sides:
        wr = B.ARMS[side]["wrist"]
        if side not in dist or ref[wr, 2] < B.RIG_CONFIDENCE:
            continue
        d = dist[side]
        near = free & (d < 0.45 * sw)
        el = B.ARMS[side]["elbow"]
        if valid[el]:
            # Past the wrist only: a bare forearm is skin too, and stays with the forearm.
            _, t = segment_distance(px, py, ref[el, :2].astype(np.float64),
                                    ref[wr, :2].astype(np.float64))
            near &= t > 0.85
        for other, d_other in dist.items():
            if other != side:
                near &= d <= d_other
        keep = near.copy()        # the clothes around the hand: 0.45-0.8 sw from the wrist
        keep[near] = like_hand(lab, near, free & (d >= 0.45 * sw) & (d < 0.8 * sw), face,
                               without_cloth=False) & ~_greyer_than_skin(lab[near], face)
        keep = cv2.morphologyEx(keep.astype(np.uint8), cv2.MORPH_OPEN,
                                np.ones((3, 3), np.uint8)) > 0
        hand = touching(keep, d < 0.1 * sw)
        if hand.sum() >= 20:
            out[side] = hand
    return out
