"""Split the person into puppet layers (RENDERING.md, "Parts"): torso, head + neck, and one
layer per arm (upper arm, forearm and hand), each a pixel region of the photo.

Arms are capsules around shoulder–elbow–wrist (and the hand's points) cut from the person mask;
an arm is rigged only when its shoulder and elbow are inside the photo with confidence, so a
portrait without arms animates the head and shoulders only.

:func:`split_parts` puts together what its neighbours cut: an arm's region and pieces
(:mod:`~gesticulate.render.warp.arms`), the sleeve its forearm hides
(:mod:`~gesticulate.render.warp.hidden_sleeve`), the hands (:mod:`~gesticulate.render.warp.hands`),
what lies in or beside an arm that is not it (:mod:`~gesticulate.render.warp.beside`), with the
masks and colours they share (:mod:`~gesticulate.render.warp.masks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from gesticulate.render.warp import bones as B
from gesticulate.render.warp.arms import ArmInfo, arm_info_of, arm_region, split_arm
from gesticulate.render.warp.beside import (arm_edges, backdrop_between, body_beside_arm,
                                            foreign_in_arm, same_cloth)
from gesticulate.render.warp.hands import face_skin, hand_under_other
from gesticulate.render.warp.hidden_sleeve import HIDDEN_UPPER_MIN, upper_under_forearm
from gesticulate.render.warp.masks import (OUTLIER_LAB, blend_distance, colour_clusters,
                                           components_below, grown, lab_of, mask_box,
                                           segment_distance, shoulder_geometry, side_of, touching)
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.tracks import smoothstep


@dataclass
class Parts:
    """Pixel regions ``(H, W)`` bool of each layer and the geometry they were cut with."""

    torso: np.ndarray
    head: np.ndarray | None
    arms: dict[str, np.ndarray] = field(default_factory=dict)
    arm_info: dict[str, ArmInfo] = field(default_factory=dict)
    hidden: np.ndarray | None = None      # torso pixels covered by an arm in the photo
    hidden_head: np.ndarray | None = None  # neck pixels covered by a raised hand
    # Per arm, the upper arm's pixels its own forearm or hand covers in the photo (a forearm
    # raised alongside the upper arm): the upper arm's layer holds them, filled with its cloth.
    hidden_upper: dict[str, np.ndarray] = field(default_factory=dict)
    # The hand the other one lies on in the photo: its pixels under the other hand, which its
    # layer holds (the other hand's pixels there, blurred) and draws under the other's
    # (:func:`hand_under_other`).
    hidden_hand: dict[str, np.ndarray] = field(default_factory=dict)
    shoulder_line: tuple[np.ndarray, np.ndarray] | None = None  # point, unit normal (down)
    shoulder_width: float = 0.0
    hands: dict[str, np.ndarray] = field(default_factory=dict)  # each hand's own pixels
    # Per arm, its pieces: {"upper": mask, "fore": mask, "hand": mask} (empty masks allowed).
    segments: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    skin: tuple | None = None  # the face's skin colour: CIELAB median and spread
    # The backdrop between a hand's fingers that its arm took (split_parts): its layers leave
    # it out, as the backdrop seen through them (beside.backdrop_between).
    between: np.ndarray | None = None

    def arm_pixels(self) -> np.ndarray:
        """Both arms' pixels, upper arm to hand (bool ``(H, W)``)."""
        out = np.zeros_like(self.torso)
        for piece in self.arms.values():
            out |= piece
        return out

    def hand_pixels(self) -> np.ndarray:
        """Both arms' hand pieces (bool ``(H, W)``)."""
        out = np.zeros_like(self.torso)
        for seg in self.segments.values():
            if seg.get("hand") is not None:
                out |= seg["hand"]
        return out

    def trim_hidden_upper(self, side: str, off: np.ndarray) -> None:
        """``off`` (bool ``(H, W)``) taken from the side's ``hidden_upper``, which is dropped
        when fewer than :data:`HIDDEN_UPPER_MIN` pixels are left (as one so small is never
        made)."""
        if side in self.hidden_upper:
            kept = self.hidden_upper[side] & ~off
            if kept.sum() >= HIDDEN_UPPER_MIN:
                self.hidden_upper[side] = kept
            else:
                del self.hidden_upper[side]


def _trunk(ref: np.ndarray, mid: np.ndarray, normal: np.ndarray, sw: float,
           shape: tuple[int, int]) -> np.ndarray:
    """The trunk's likely silhouette ``(H, W)`` bool: a quadrilateral from just outside the
    shoulders down to just outside the hips (or straight down to the bottom of the photo when
    the hips are not seen). Arm pixels inside it hide torso; outside it, background."""
    h, w = shape
    ls, rs = ref[L.LEFT_SHOULDER, :2].astype(np.float64), ref[L.RIGHT_SHOULDER, :2].astype(np.float64)
    out_l = (ls - rs) / max(np.linalg.norm(ls - rs), 1e-9)       # towards the left shoulder
    hips = ref[[L.LEFT_HIP, L.RIGHT_HIP]]
    if (hips[:, 2] >= B.MIN_CONFIDENCE).all():
        lh, rh = hips[0, :2].astype(np.float64), hips[1, :2].astype(np.float64)
        # The hip keypoints are joints, inside the body: the trunk there is at least about as
        # wide as the shoulders.
        hip_mid, half = 0.5 * (lh + rh), max(0.5 * np.linalg.norm(lh - rh) + 0.25 * sw, 0.5 * sw)
    else:
        # No hips: straight down at the shoulders' width. Widened as for seen hips, it took
        # portrait_s2.jpg's whole upper arm and the backdrop beside it for hidden shirt: a flat
        # grey slab where the arm had lain once EchoMimicV2's DWPose motion swung it out.
        hip_mid, half = mid + 2.0 * sw * normal, 0.5 * sw
    quad = np.array([ls + 0.12 * sw * out_l, rs - 0.12 * sw * out_l,
                     hip_mid - half * out_l, hip_mid + half * out_l])
    # Run on past the hips to the bottom of the photo (a desk or the frame hides the rest).
    far = quad[2:] + 4.0 * sw * normal
    poly = np.vstack([quad[:2], far]).astype(np.float32)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, np.round(poly).astype(np.int32), 1)
    return mask > 0


def split_parts(person: np.ndarray, ref: np.ndarray, valid: np.ndarray,
                hands: dict[str, np.ndarray] | None = None, lab: np.ndarray | None = None) -> Parts:
    """Cut the person mask ``(H, W)`` bool into layers using the reference keypoints, the
    hands' own pixels (:func:`hand_masks`) and the photo's colours (``lab``, :func:`lab_of`)."""
    h, w = person.shape
    geo = shoulder_geometry(ref, valid, (w, h))
    face_ok = valid[list(B.HEAD_RIGID)].sum() >= 10
    if geo is None:
        # No shoulders: one head layer over everything when a face is seen, else a torso.
        if face_ok:
            return Parts(torso=np.zeros_like(person), head=person.copy())
        return Parts(torso=person.copy(), head=None)
    mid, normal, sw = geo
    skin = None if lab is None else face_skin(lab, ref, valid)
    parts = Parts(torso=person.copy(), head=None, shoulder_line=(mid, normal), shoulder_width=sw,
                  skin=skin)
    taken = np.zeros_like(person)
    trunk = _trunk(ref, mid, normal, sw, (h, w))
    core = mid + 1.2 * sw * normal                  # a point inside the trunk, mid-chest
    infos = {side: arm_info_of(ref, valid, side) for side in ("left", "right")}
    body = None if lab is None or not (person & trunk).any() else np.median(lab[person & trunk], 0)
    order = ("left", "right")
    for side, other in (order, order[::-1]):
        info = infos[side]
        if info is None:
            continue
        hand = (hands or {}).get(side) if info.mode == "full" else None
        rival = None if infos[other] is None else infos[other].joints[:3]
        region = arm_region(person, ref, info, side, mid, sw, trunk, core, hand, lab,
                            rival) & ~taken
        # Not the other hand's own cut (its landmarks saw it there): hbr_speaker8's fingertips,
        # laid on her other shoulder, went with that upper arm, a pink blob left on it when
        # her hand came down.
        # (The arm cut second gives way only to the hand the first one kept.)
        first = side == order[0]
        theirs = None
        if infos[other] is not None and infos[other].mode == "full":
            theirs = (hands or {}).get(other) if first else parts.hands.get(other)
        if theirs is not None:
            region &= ~theirs if hand is None else ~(theirs & ~hand)
        if lab is not None:
            region &= ~foreign_in_arm(lab, region, info, hand, sw, trunk)
            if body is not None:
                region &= ~body_beside_arm(lab, region, person, info, hand, sw, core, body)
        if region.sum() < 50:
            continue
        parts.arms[side], parts.arm_info[side] = region, info
        if hand is not None:
            parts.hands[side] = hand & region
        taken |= region
    py, px = np.mgrid[0:h, 0:w].astype(np.float32)
    below = (px - mid[0]) * normal[0] + (py - mid[1]) * normal[1]   # signed, + below the line
    if face_ok:
        above = person & (below < 0) & ~taken
        parts.head = _with_face(above, ref, valid)
        # Bits above the shoulder line cut off from the head (a raised hand's fingertips the
        # arm's capsules missed) go with the nearest arm.
        taken_head = _to_arms(above & ~parts.head, parts, taken, sw)
        parts.head |= taken_head          # the rest above the line stays with the head
    # ... and so do small bits below it cut off from the body by a hand: between the fingers
    # of ted_lia_driving1's outstretched hand, they were left on the backdrop, and the body's
    # closing below took half his hand for hidden torso, a dark blob left floating there.
    rest = person & ~taken & (below >= 0)
    before = taken.copy()
    _to_arms(rest & ~touching(rest, trunk), parts, taken, sw, by_hand=True)
    if lab is not None:
        # ... where they are the backdrop, not drawn by the arm's layers (seen through them).
        parts.between = backdrop_between(lab, taken & ~before, person, sw)
        # ... and thin strips along an arm, off the trunk, of its colour: its edge (the rest
        # again: the arms took some of it).
        for s_, edge in arm_edges(lab, person & ~taken & (below >= 0), trunk, parts.arms,
                                  sw).items():
            parts.arms[s_] = parts.arms[s_] | edge
            taken |= edge
        _held(lab, person & ~taken, parts, ref, valid, taken, sw)
    sleeves: set[str] = set()
    past: dict[str, np.ndarray | None] = {}
    for side, region in parts.arms.items():
        parts.segments[side] = split_arm(region, parts.arm_info[side], parts.hands.get(side), sw,
                                         trunk, lab, skin)
        upper = parts.segments[side]["upper"]
        if lab is not None and same_cloth(lab, upper, person & ~taken & grown(upper, 0.3 * sw)):
            sleeves.add(side)             # the upper arm in the body's own cloth
        hidden_upper = upper_under_forearm(parts.segments[side], parts.arm_info[side], sw,
                                           sleeve=side in sleeves)
        if hidden_upper is not None:
            parts.hidden_upper[side], past[side] = hidden_upper
    parts.hidden_hand = hand_under_other(parts.segments, ref, valid, sw)
    # Torso: the rest, plus the part of the arms that lies over the body (hidden texture): over
    # the trunk, or enclosed by the rest of the body (a hand held over the collarbone). Hidden
    # parts above the shoulder line go to the head layer, hidden neck behind a raised hand.
    torso = person & ~taken & (below >= -3 if face_ok else True)
    k = max(3, int(0.3 * sw) | 1)
    closed = cv2.morphologyEx((person & ~taken).astype(np.uint8), cv2.MORPH_CLOSE,
                              cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    # ... or the body's side under an arm hanging against it: the arm's pixels between the
    # visible body and the upper arm's bone (the demo's sleeve, cut from its bulky suit along
    # a line through the cloth, swung out and showed the backdrop in a wedge between the two),
    # the forearm's and hand's too where they lie there (folded up against the sleeve,
    # pats_oliver_slice18.png's forearm left a black triangle by his elbow; hbr_speaker12's
    # most-moved box +0.10 dB). Elsewhere only a sleeve of the body's own cloth: a bare arm
    # beside a dress (ted_lia_driving2) left a dress-coloured ghost of itself when it swung out.
    side = np.zeros_like(person)
    # ... but, whatever the arm's cloth, where the photo's bottom border holds the body (its
    # hips unseen, the renderer's LOWER bone stays put: Poser.lower) more than the shoulders
    # carry it (torso_share under LOW_HELD): the arm goes with its shoulder, the body's bottom
    # stays, and the body's side behind the arm shows.
    # un_speech_female's bare arm by the lectern, her trunk swayed 31 px, left a 25 px wedge
    # of backdrop between her elbow and her dress. (Hips seen carry the body's bottom along;
    # there, ted_lia_driving2's bare arm left a shard of fill beside it when it came in.)
    held_low = torso_share(below, parts, (w, h), ref) < LOW_HELD
    held_low &= not valid[[L.LEFT_HIP, L.RIGHT_HIP]].all()
    for s_, seg in parts.segments.items():
        S, E = parts.arm_info[s_].joints[:2]
        d, t = segment_distance(px, py, S, 2 * E - S)     # on past the elbow: the sleeve's end
        band = side_of(px, py, S, E, core) | (d < SIDE_PAST_BONE * sw)
        # ... the forearm's and hand's beside the upper arm only, up to the sleeve's end round
        # the elbow: a forearm hanging on down from it lies past the sleeve, over the backdrop
        # as often as over the body.
        end = 0.5 + SIDE_PAST_BONE * sw / (2.0 * max(float(np.linalg.norm(E - S)), 1.0))
        if s_ in sleeves:
            side |= (seg["upper"] | ((seg["fore"] | seg["hand"]) & (t <= end))) & band
        side |= seg["upper"] & band & held_low
    # From the armpit down: above it the arm's inner side is the shoulder's cap, and a body
    # run on there stood as a pale block over the backdrop when the shoulders moved
    # (avspeech_sample2's white shirt).
    side &= below >= SIDE_BELOW * sw
    # ... and near the body: an arm held out, backdrop between it and the body, is not over it.
    side &= grown(torso, SIDE_NEAR * sw)
    side &= touching(side | torso, torso)
    # ... or an arm's pixels above the line with the body on both sides in their row, no
    # backdrop between (hbr_speaker8's fingers over her neck and collar, wider than the
    # closing: the backdrop showed as a blue patch there when her hand came down; a hand
    # over the chin, the face on both sides, is the face's hidden pixels so).
    flanked = _flanked(taken & (below < 0), person & ~taken, person, ROW_FLANK * sw)
    hidden = taken & (trunk | closed | side | flanked)
    # Above the line, a piece thinner than 3 px and smaller than a square SLIVER shoulder
    # widths on a side is no neck: the rows of hidden pixels along an arm's top just above the
    # line went to the head layer as 1 px slivers, which the head carried off over the
    # shoulder as a white tick (ted_lia_driving2's dress). They stay with the torso, which
    # reaches 3 px above the line.
    up = hidden & (below < 0)
    sliver = np.zeros_like(up)
    if face_ok:
        sliver = up & ~touching(up, cv2.morphologyEx(up.astype(np.uint8), cv2.MORPH_OPEN,
                                                   np.ones((3, 3), np.uint8)) > 0)
        sliver &= components_below(sliver, (SLIVER * sw) ** 2)
    parts.hidden = hidden & ((below >= 0) | sliver)
    parts.torso = torso | parts.hidden
    for s_, beyond in past.items():         # the torso's own, past the seen sleeve's edge
        if beyond is not None:
            parts.trim_hidden_upper(s_, beyond & parts.hidden)
    if face_ok and parts.head is not None:
        parts.hidden_head = up & ~parts.hidden
        parts.head = parts.head | parts.hidden_head
    return parts


# A piece hidden above the shoulder line thinner than 3 px and smaller than a square SLIVER
# shoulder widths on a side is the torso's, not the neck's (split_parts).
SLIVER = 0.1
# An arm's pixel above the shoulder line is over the body (:func:`_flanked`) with the body's
# pixels within this many shoulder widths of it on both sides in its row.
ROW_FLANK = 0.5


def _flanked(mask: np.ndarray, body: np.ndarray, person: np.ndarray, reach: float
             ) -> np.ndarray:
    """The ``mask`` pixels whose row has ``body`` pixels on both sides of them within
    ``reach`` px, with only ``person`` pixels between."""
    if not mask.any():
        return np.zeros_like(mask)
    cols = np.broadcast_to(np.arange(mask.shape[1]), mask.shape)
    out = mask.copy()
    for step in (1, -1):                      # the left side, then the right (rows reversed)
        b, seen, c = body[:, ::step], person[:, ::step], cols
        last_body = np.maximum.accumulate(np.where(b, c, -1), axis=1)
        last_gap = np.maximum.accumulate(np.where(~seen, c, -1), axis=1)
        ok = (last_body >= 0) & (last_body > last_gap) & (c - last_body <= reach)
        out &= ok[:, ::step]
    return out


def _to_arms(bits: np.ndarray, parts: Parts, taken: np.ndarray, sw: float, *,
             by_hand: bool = False) -> np.ndarray:
    """Give each arm of ``parts`` the components of ``bits`` within 0.1 shoulder widths of it
    (``by_hand``: of its hand, and only those of less area than a square 0.25 shoulder widths
    on a side); ``taken`` is updated in place. Returns the bits no arm took."""
    bits = bits.copy()
    if by_hand:
        _, labels, stats, _ = cv2.connectedComponentsWithStats(bits.astype(np.uint8), 8)
        big = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] > (0.25 * sw) ** 2)
        bits &= ~np.isin(labels, big[big > 0])
    for side in parts.arms:
        of = parts.hands.get(side) if by_hand else parts.arms[side]
        if of is None or not of.any():
            continue
        near = cv2.dilate(of.astype(np.uint8), np.ones((3, 3), np.uint8),
                          iterations=max(1, int(0.1 * sw))) > 0
        grab = touching(bits, near)
        parts.arms[side] = parts.arms[side] | grab
        taken |= grab
        bits &= ~grab
    return bits


# A hand's held object (split_parts): a piece of the body's pixels touching the hand, within
# HELD_REACH of it, of none of the colours of the body around the hand (HELD_AROUND farther
# out), no larger than a square HELD_AREA on a side (shoulder widths).
HELD_REACH = 0.35
HELD_AROUND = 0.6
HELD_AREA = 0.35
HELD_MIN = 0.05           # ... and no smaller than this square
HELD_THICK = 0.015        # ... made of parts at least twice this thick
HELD_TOUCH = 2.0          # ... touching the hand within this many px at 512 px


def _held(lab: np.ndarray, free: np.ndarray, parts: Parts, ref: np.ndarray, valid: np.ndarray,
          taken: np.ndarray, sw: float) -> None:
    """Give each hand what it holds: the pieces of the body (``free``, less the head) that
    touch the hand (within :data:`HELD_TOUCH` of its own pixels, or of a disc at the wrist when
    the detector missed it), lie wholly within :data:`HELD_REACH` of it and off the body's
    outline, between squares :data:`HELD_MIN` and :data:`HELD_AREA` on a side and
    :data:`HELD_THICK` thick, in none of the colours of the body around the hand (3 clusters,
    from :data:`HELD_REACH` to :data:`HELD_AROUND`) nor the hand's, nor a blend of two of them
    (further than :data:`OUTLIER_LAB`).
    ted_lia_driving1's clicker stayed on his jacket when his hand went; it goes with the hand
    now, and the body under it is filled as under the hand. ``parts`` (arms and hands) and
    ``taken`` are updated in place."""
    h, w = free.shape
    body = free & ~taken & (~parts.head if parts.head is not None else True)
    outside = grown(~(free | taken), 2)      # held in front of the body, not on its outline
    for side in list(parts.arms):
        hand = parts.hands.get(side)
        if hand is None or not hand.any():
            wr = B.ARMS[side]["wrist"]
            if not valid[wr]:
                continue
            hand = np.zeros((h, w), np.uint8)
            cv2.circle(hand, tuple(int(v) for v in np.round(ref[wr, :2])),
                       max(2, int(0.1 * sw)), 1, -1)
            hand = hand > 0
        zone = body & grown(hand, HELD_AROUND * sw)
        near = zone & grown(hand, HELD_REACH * sw)
        around = zone & ~near
        if near.sum() < 4 or around.sum() < 50:
            continue
        # Not a blend of two of the cloth's colours and the hand's (a shadow, a fold, the rim
        # where a finger meets the cloth).
        colours = np.vstack([colour_clusters(lab[around], 3), np.median(lab[hand], axis=0)])
        odd = np.zeros_like(zone)
        odd[zone] = blend_distance(lab[zone], colours) > OUTLIER_LAB
        r = max(1, int(round(HELD_THICK * sw)))
        odd = cv2.morphologyEx(odd.astype(np.uint8), cv2.MORPH_OPEN, cv2.getStructuringElement(
            cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) > 0
        # An object ends near the hand: a piece running on past the reach is clothing (a tie's
        # end, a shirt between a jacket's edges). And it is held in front of the body: a piece
        # on the body's outline is the outline's (ted_lia_driving2's beads at her wrist).
        _, labels, stats, _ = cv2.connectedComponentsWithStats(odd.astype(np.uint8), 8)
        beyond = np.unique(labels[odd & (~near | outside)])
        area = stats[:, cv2.CC_STAT_AREA]
        ok = np.flatnonzero((area <= (HELD_AREA * sw) ** 2) & (area >= (HELD_MIN * sw) ** 2))
        ok = np.setdiff1d(ok[ok > 0], beyond)
        grab = touching(np.isin(labels, ok), grown(hand, max(1.0, HELD_TOUCH * min(h, w) / 512)))
        if not grab.any():
            continue
        parts.arms[side] = parts.arms[side] | grab
        if side in parts.hands:
            parts.hands[side] = parts.hands[side] | grab
        taken |= grab
        body &= ~grab


def torso_share(below: np.ndarray, parts: Parts, size: tuple[int, int],
                ref: np.ndarray) -> np.ndarray:
    """How much a point ``below`` the shoulder line (signed distance, px) goes with the torso
    bone rather than the hips' (LOWER): 1 at the shoulder line, 0 at the hips or the bottom of
    the photo, whichever is nearer. ``parts`` must have its shoulder line."""
    mid, normal = parts.shoulder_line
    w, h = size
    reach = (h - 1 - mid[1]) / max(normal[1], 0.3)
    hips = ref[[L.LEFT_HIP, L.RIGHT_HIP]]
    if (hips[:, 2] >= B.MIN_CONFIDENCE).all() and hips[:, 1].mean() < h - 1:
        reach = min(reach, float((hips[:, :2].mean(0) - mid) @ normal))
    reach = max(reach, 0.25 * parts.shoulder_width, 8.0)
    return 1.0 - smoothstep(below / reach)


# Where the body goes with the torso less than this and its hips are unseen, it runs on under
# an upper arm of any cloth to just past the bone (split_parts).
LOW_HELD = 0.5


# How far past the upper arm's bone (shoulder widths) the body's side runs on under an arm
# hanging against it (split_parts): the demo's arm swung out 32 px at the elbow (0.17 sw), more
# than the 26 px of sleeve between its bone and the suit.
SIDE_PAST_BONE = 0.12
SIDE_BELOW = 0.35         # ... from this far below the shoulder line (shoulder widths)
SIDE_NEAR = 0.3           # ... and within this of the visible body (the demo's: 0.25)


# Loose hair beside the head (strays_beside_head): what the backdrop's median over
# STRAY_MEDIAN face widths (wider than a strand) differs from by more than STRAY_CONTRAST
# (CIELAB), within STRAY_REACH face widths of the face's middle, in components that touch the
# person's grown hole and end before that reach; none where more than STRAY_BUSY of the
# backdrop there differs so (lettering, a city at night: a strand is not told from them).
STRAY_MEDIAN = 0.16
STRAY_CONTRAST = 12.0
STRAY_REACH = 1.3
STRAY_BUSY = 0.1


def _face_middle(ref: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The face's middle ``(2,)`` and width (px) from its seen points; None when fewer than
    10 are seen or the face is under 8 px wide."""
    pts = ref[L.FACE, :2][valid[L.FACE]]
    if len(pts) < 10:
        return None
    width = float(np.ptp(pts[:, 0]))
    return (pts.mean(0), width) if width >= 8.0 else None


def around_head(ref: np.ndarray, valid: np.ndarray, size: tuple[int, int],
                reach: float = STRAY_REACH) -> np.ndarray | None:
    """``(H, W)`` bool: within ``reach`` face widths of the face's middle (``size`` ``(H,
    W)``); None without a face (:func:`_face_middle`)."""
    middle = _face_middle(ref, valid)
    return None if middle is None else _within(middle, reach, size)


def _within(middle: tuple[np.ndarray, float], reach: float, size: tuple[int, int]) -> np.ndarray:
    """``(H, W)`` bool: within ``reach`` face widths of the face's ``middle``
    (:func:`_face_middle`)."""
    (cx, cy), width = middle
    yy, xx = np.ogrid[0:size[0], 0:size[1]]
    return (xx - cx) ** 2 + (yy - cy) ** 2 < (reach * width) ** 2


def strays_beside_head(image: np.ndarray, lab: np.ndarray, hole: np.ndarray, ref: np.ndarray,
                       valid: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool: loose hair the segmenter left out of the person, beyond the grown
    ``hole`` around them, on a plain backdrop. un_speech_female's strand by her cheek lay
    beyond the hole; it stayed in the backdrop where it was and hung in the air beside her head
    once her head moved. Taken into the hole, it is shown while the head is where the photo
    has it and filled over once the head moves (the hole's ring)."""
    out = np.zeros(hole.shape, bool)
    middle = _face_middle(ref, valid)
    if middle is None:
        return out
    near = _within(middle, STRAY_REACH, hole.shape)
    if not near.any():
        return out
    width = middle[1]
    k = 2 * int(round(STRAY_MEDIAN * width / 2)) + 1
    box = mask_box(near, k + 2)               # the work in the box around the reach
    near, hole_b = near[box], hole[box]
    backdrop = lab_of(cv2.medianBlur(np.ascontiguousarray(image[box]), k))
    free = near & ~hole_b
    differs = free & (np.linalg.norm(lab[box] - backdrop, axis=2) > STRAY_CONTRAST)
    if not differs.any() or differs.sum() > STRAY_BUSY * free.sum():
        return out
    _, label = cv2.connectedComponents(differs.astype(np.uint8), connectivity=8)
    beyond = grown(~near, 1.5)
    beyond[[0, -1], :] = True
    beyond[:, [0, -1]] = True
    touching_hole = np.unique(label[grown(hole_b, 1.5) & differs])
    keep = np.setdiff1d(touching_hole, np.r_[0, np.unique(label[beyond & differs])])
    out[box] = np.isin(label, keep)
    return out


def _with_face(region: np.ndarray, ref: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The components of ``region`` that hold a seen face point (the head and its hair)."""
    h, w = region.shape
    seeds = np.zeros((h, w), bool)
    for i in list(B.HEAD_RIGID) + list(B.HEAD_BODY):
        if valid[i]:
            x, y = np.round(ref[i, :2]).astype(int)
            if 0 <= x < w and 0 <= y < h:
                seeds[y, x] = True
    if not (seeds & region).any():
        return region
    return touching(region, seeds)
