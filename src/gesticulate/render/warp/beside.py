"""What lies in or beside an arm's region that is not the arm: backdrop seen through it, a
foreign object on it, the body beside it; and the arm's own thin edge the body's pixels hold
(:mod:`gesticulate.render.warp.parts`)."""

from __future__ import annotations

import cv2
import numpy as np

from gesticulate.render.warp.arms import ArmInfo, SLEEVE_COLOUR
from gesticulate.render.warp.masks import (colour_clusters, components_below, grown, mask_box,
                                           nearest_colour, odd_colours, segment_distance, side_of,
                                           touching)


# An arm piece's pixel is backdrop seen through it (:func:`backdrop_in_arm`) within
# BACKDROP_NEAR spreads of the backdrop's colours beside it and at most BACKDROP_RATIO of its
# distance to the piece's own; spreads of BACKDROP_SPREAD (CIELAB). A piece between a hand's
# fingers is backdrop (:func:`backdrop_between`) when BETWEEN_SHARE of its pixels are within
# BACKDROP_NEAR of the backdrop's colours within BETWEEN_REACH shoulder widths of it.
BACKDROP_NEAR = 1.5
BACKDROP_RATIO = 0.5
BACKDROP_SPREAD = np.array([20.0, 8.0, 8.0], np.float32)
BACKDROP_BLOCK = 0.06       # shoulder widths: the side of the smallest block of backdrop
BETWEEN_SHARE = 0.5
BETWEEN_REACH = 0.15


def backdrop_in_arm(lab: np.ndarray, region: np.ndarray, person: np.ndarray,
                    bone: np.ndarray, sw: float, body: np.ndarray | None = None) -> np.ndarray:
    """``(H, W)`` bool: pixels of an arm piece's ``region`` that are the backdrop seen beside
    or through it (the segmenter gave hbr_speaker8's raised hand a block of blue backdrop
    around its fingers, which her forearm's layer carried over her body as a blue patch with
    the fingers' outlines in it): nearer the colours of the backdrop just outside the person
    by the piece than those of the piece along its ``bone`` ``(2, 2)`` and of the ``body``
    (colour centres ``(K, 3)``: un_speech_female's black dress on her shoulder is no backdrop,
    though a dark head in the audience stood beside it)."""
    if not region.any():
        return np.zeros_like(region)
    box = mask_box(region, int(0.3 * sw))
    reg, per, lb = region[box], person[box], lab[box]
    ring = _just_outside(per, sw)
    py, px = np.mgrid[box[0].start:box[0].start + reg.shape[0],
                      box[1].start:box[1].start + reg.shape[1]].astype(np.float32)
    d, _ = segment_distance(px, py, bone[0], bone[1])
    own = reg & (d < 0.06 * sw)
    if ring.sum() < 20 or own.sum() < 20:
        return np.zeros_like(region)
    back = colour_clusters(lb[ring], min(3, int(ring.sum())))
    mine = colour_clusters(lb[own], min(3, int(own.sum())))
    if body is not None and len(body):
        mine = np.concatenate([mine, body])
    d_back = np.full(reg.shape, np.inf, np.float32)
    d_own = np.full(reg.shape, np.inf, np.float32)
    d_back[reg] = nearest_colour(lb[reg], back, BACKDROP_SPREAD)
    d_own[reg] = nearest_colour(lb[reg], mine, BACKDROP_SPREAD)
    seen = (d_back < BACKDROP_NEAR) & (d_back < BACKDROP_RATIO * d_own)
    # ... in blocks: single pixels of the arm's soft edge against the backdrop are the arm's.
    seen &= ~components_below(seen, (BACKDROP_BLOCK * sw) ** 2)
    # ... with its rim, where a finger's soft edge blends into it (an outline left floating).
    seen |= grown(seen, max(1.0, 0.012 * sw)) & reg & (d_back < d_own)
    # ... and the threads of the piece left between it and the rest (the soft edges of the
    # fingers the hand's cut left to the forearm, which floated beside the hand as lines).
    if seen.any():
        k = 2 * max(1, int(round(0.012 * sw))) + 1
        rest = reg & ~seen
        kept = cv2.morphologyEx(rest.astype(np.uint8), cv2.MORPH_OPEN,
                                cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
        seen |= rest & ~kept & grown(seen, 2 * k)
    out = np.zeros_like(region)
    out[box] = seen
    return out


def _just_outside(person: np.ndarray, sw: float) -> np.ndarray:
    """The backdrop just outside ``person`` (bool ``(H, W)``), off its blurred edge."""
    return grown(person, max(3.0, 0.04 * sw)) & ~grown(person, max(1.0, 0.015 * sw))


def backdrop_between(lab: np.ndarray, bits: np.ndarray, person: np.ndarray, sw: float
                     ) -> np.ndarray:
    """``(H, W)`` bool: the pieces of ``bits`` (what the segmenter gave the person between a
    hand's fingers, cut off from the body by the hand) that are the backdrop: at least
    :data:`BETWEEN_SHARE` of their pixels within :data:`BACKDROP_NEAR` spreads of the colours of
    the backdrop just outside the person within :data:`BETWEEN_REACH` of them. Unlike
    :func:`backdrop_in_arm` no piece's own colours compete: where they lie, off the body, the
    hand's cut (:func:`~gesticulate.render.warp.hands.hand_mask`) already found them no hand.
    ted_lia_driving1's fingers lay over the stage's black band, as black as his jacket; the
    gaps between them, carried with his hand, showed as black stripes on the red stage once it
    rose."""
    out = np.zeros_like(bits)
    if not bits.any():
        return out
    box = mask_box(bits, int(0.3 * sw))
    inside, lb = bits[box], lab[box]
    ring = _just_outside(person[box], sw) & grown(inside, BETWEEN_REACH * sw)
    if ring.sum() < 20:
        return out
    back = colour_clusters(lb[ring], 3)
    near = np.zeros(inside.shape, bool)
    near[inside] = nearest_colour(lb[inside], back, BACKDROP_SPREAD) < BACKDROP_NEAR
    count, labels = cv2.connectedComponents(inside.astype(np.uint8), connectivity=8)
    share = np.bincount(labels[inside], weights=near[inside], minlength=count) \
        / np.maximum(np.bincount(labels[inside], minlength=count), 1)
    out[box] = inside & (share[labels] >= BETWEEN_SHARE)
    return out


# Pixels of an arm this far (shoulder widths) from its bones, off the trunk and away from its
# wrist and shoulder (:data:`FOREIGN_JOINT`: a shirt's cuff, a watch, a collar), may be
# something else the segmenter took for the person (:func:`foreign_in_arm`).
FOREIGN_OFF_BONE = 0.08
FOREIGN_JOINT = 0.3
# ... when their colour is under this share of the arm's (less its hand and wrist): the white
# armchair was 6.7 % of hbr_speaker7's right sleeve.
FOREIGN_SHARE = 0.1
FOREIGN_THICK = 0.04      # ... in pieces at least this thick (shoulder widths)


def foreign_in_arm(lab: np.ndarray, region: np.ndarray, info: ArmInfo, hand: np.ndarray | None,
                   sw: float, trunk: np.ndarray) -> np.ndarray:
    """The pixels of an arm's ``region`` that are not the arm: the sleeve's rare odd colours
    (:func:`odd_colours` of the region less its hand and wrist, under :data:`FOREIGN_SHARE`)
    off the trunk, at least :data:`FOREIGN_OFF_BONE` from its bones and
    :data:`FOREIGN_JOINT` from its shoulder. The armchair's white arm beside hbr_speaker7's
    elbows, in the person mask, came along with his arms as white shards; cut off, it stays
    with the body."""
    h, w = region.shape
    py, px = np.mgrid[0:h, 0:w].astype(np.float32)
    S, E, W, _ = info.joints
    d_up, _ = segment_distance(px, py, S, E)
    sleeve = region.copy()
    # Not at the shoulder's cap either, where the body's own cloth and jewellery meet the arm
    # (ted_lia_driving2's beaded collar).
    near = (d_up < FOREIGN_OFF_BONE * sw) | (np.hypot(px - S[0], py - S[1]) < FOREIGN_JOINT * sw)
    if info.mode == "full":
        d_fore, _ = segment_distance(px, py, E, W)
        near |= d_fore < FOREIGN_OFF_BONE * sw
        sleeve &= np.hypot(px - W[0], py - W[1]) >= FOREIGN_JOINT * sw   # a cuff, a watch
    if hand is not None:
        sleeve &= ~hand
    cand = sleeve & ~trunk & ~near
    if not cand.any():
        return np.zeros_like(region)
    odd = odd_colours(lab, sleeve, share=FOREIGN_SHARE) & cand
    # Pieces, not the sleeve's rim: its edge pixels are blends with the backdrop, and cut off
    # they stayed on the body as an outline of the arm.
    r = max(1, int(round(FOREIGN_THICK * sw / 2)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    core = cv2.morphologyEx(odd.astype(np.uint8), cv2.MORPH_OPEN, kernel) > 0
    return odd & grown(core, 2 * r)


# Two colours (CIELAB, OpenCV's 8-bit scale) are of different materials when one is at least
# this many times as light as the other, or their hue and saturation differ by SLEEVE_COLOUR: a
# white shirt's lit and shaded sides differ by 1.3 times in lightness (avspeech_sample2), a
# bare arm on a black dress by 3.5-11 times (un_speech_female).
OTHER_LIGHTNESS = 2.0


def _other_material(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the CIELAB colours ``a`` and ``b`` are of different materials
    (:data:`OTHER_LIGHTNESS`)."""
    lo, hi = sorted((max(float(a[0]), 1.0), max(float(b[0]), 1.0)))
    return hi >= OTHER_LIGHTNESS * lo or float(np.linalg.norm(a[1:] - b[1:])) >= SLEEVE_COLOUR


# The body's cloth an upper arm's region took beside it (:func:`body_beside_arm`) is read in
# stretches of this many equal parts of the bone.
BESIDE_BINS = 8


def body_beside_arm(lab: np.ndarray, region: np.ndarray, person: np.ndarray, info: ArmInfo,
                    hand: np.ndarray | None, sw: float, core: np.ndarray, body: np.ndarray
                    ) -> np.ndarray:
    """The body an arm's ``region`` took beside the arm where the arm is of another material
    (:func:`_other_material`) than the trunk (``body``: the trunk's median colour, CIELAB).
    The arm's colour is read where it is surely arm: along each of :data:`BESIDE_BINS`
    stretches of the upper arm, on its outer side (within 0.1 shoulder widths of the bone: a
    short sleeve ends part way down); for the forearm, on its bone's middle (within 0.05, from
    0.15 to 0.85 of its length; over the trunk both its sides may be body, and a cuff of
    another colour at its end is not the forearm's colour). Where it differs from the body's,
    the pixels nearer that bone (not the hand's) and nearer the body's colour than the arm's
    go back to the body (those touching it): on the upper arm its inner side only, where the
    body lies beside it. The bones' geometric half-widths reach past a bare arm's edge onto a
    dress beside it (un_speech_female's black dress under both arms and under her forearm):
    the layers carried black shards of the dress away with the arm, and the dress showed torn
    where they had been. A sleeve of the body's own cloth is kept whole."""
    full = np.zeros_like(region)
    if not region.any():
        return full
    # Worked in the box around the region: on the whole picture pats_oliver_slice18.png's two
    # arms took 77 ms of its set-up.
    h, w = region.shape
    ys, xs = np.nonzero(region)
    box = (slice(max(ys.min() - 2, 0), min(ys.max() + 3, h)),
           slice(max(xs.min() - 2, 0), min(xs.max() + 3, w)))
    py, px = np.mgrid[box].astype(np.float32)
    lab, region, person = lab[box], region[box], person[box]
    S, E, W, _ = info.joints
    d_up, t_up = segment_distance(px, py, S, E)
    inner = side_of(px, py, S, E, core)
    arm = region & ~hand[box] if hand is not None else region
    upper = arm & inner & (d_up < 0.3 * sw) & (t_up >= 0) & (t_up <= 1)
    out = np.zeros_like(region)
    if info.mode == "full":
        d_fore, t_fore = segment_distance(px, py, E, W)
        upper &= d_up <= d_fore
        seen = arm & (d_fore < 0.05 * sw) & (t_fore > 0.15) & (t_fore < 0.85)
        if seen.sum() >= 10:
            out |= _nearer_body(lab, arm & (d_fore < d_up) & (t_fore >= 0) & (t_fore <= 1),
                                np.median(lab[seen], axis=0), body)
    bins = np.clip((t_up * BESIDE_BINS).astype(int), 0, BESIDE_BINS - 1)
    outer = region & ~inner & (d_up < 0.1 * sw)
    for b in range(BESIDE_BINS):
        seen = outer & (bins == b)
        if seen.sum() >= 10:
            out |= _nearer_body(lab, upper & (bins == b), np.median(lab[seen], axis=0), body)
    if out.any():
        full[box] = touching(out, grown(person & ~region, 1))
    return full


def _nearer_body(lab: np.ndarray, cand: np.ndarray, arm: np.ndarray, body: np.ndarray
                 ) -> np.ndarray:
    """The ``cand`` pixels nearer the ``body`` colour than the ``arm``'s, when the two are of
    other materials (:func:`_other_material`); none otherwise."""
    if not cand.any() or not _other_material(arm, body):
        return np.zeros_like(cand)
    colours = lab[cand]
    out = cand.copy()
    out[cand] = np.linalg.norm(colours - body, axis=1) < np.linalg.norm(colours - arm, axis=1)
    return out


def same_cloth(lab: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the pixels ``a`` and ``b`` are of one cloth: their median colours within
    :data:`SLEEVE_COLOUR` (CIELAB); False when either has fewer than 20 pixels."""
    if a.sum() < 20 or b.sum() < 20:
        return False
    return float(np.linalg.norm(np.median(lab[a], 0) - np.median(lab[b], 0))) < SLEEVE_COLOUR


# A strip of the body's pixels outside the trunk thinner than EDGE_THIN shoulder widths (at
# least 3 px) and EDGE_LONG long, lying EDGE_AWAY from the trunk (its median pixel) and
# touching an arm, of that arm's colour beside it (its median within EDGE_LAB in CIELAB), is
# that arm's edge (:func:`arm_edges`). ted_lia_driving1's outstretched forearm has a dark,
# motion-blurred underside, 3-4 px thick and 54 px long, that the arm's capsule missed; the
# torso kept it, 56 px from the trunk, and left it on the backdrop as a dark stroke once the
# arm rose. Of another colour such a strip is something the segmenter took for the person; a
# thicker or shorter one of the arm's colour is as often: un_speech_female's microphone stem
# beside her dark arm (49 px long, 6 px thick), hbr_speaker12's armchair's crease (13 px
# long). They stay with the torso.
EDGE_THIN = 0.035
EDGE_LONG = 0.2
EDGE_AWAY = 0.2
EDGE_LAB = 20.0


def arm_edges(lab: np.ndarray, rest: np.ndarray, trunk: np.ndarray,
              arms: dict[str, np.ndarray], sw: float) -> dict[str, np.ndarray]:
    """``{side: mask}``: the thin strips of ``rest`` (the body's pixels below the shoulder line
    that no layer has taken) that are the edge of the arm ``arms[side]`` (:data:`EDGE_THIN`);
    ``trunk``: the trunk's likely silhouette; ``lab``: the photo in CIELAB."""
    out: dict[str, np.ndarray] = {}
    if not arms or not rest.any():
        return out
    k = max(3, int(round(EDGE_THIN * sw)) | 1)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    thin = rest & ~trunk & ~(cv2.morphologyEx(rest.astype(np.uint8), cv2.MORPH_OPEN, disc) > 0)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(thin.astype(np.uint8), 8)
    if count < 2:
        return out
    away = cv2.distanceTransform((~trunk).astype(np.uint8), cv2.DIST_L2, 3)
    # The arm's colour beside a strip is read from k / 2 to 2k px off it: an arm's edge may have
    # taken the near part of a stem beside it.
    near, reach = np.ones((k, k), np.uint8), np.ones((4 * k + 1, 4 * k + 1), np.uint8)
    for i in range(1, count):
        x, y, w, h = stats[i, :4]
        if max(w, h) < EDGE_LONG * sw:
            continue
        box = np.s_[max(0, y - 2 * k):y + h + 2 * k, max(0, x - 2 * k):x + w + 2 * k]
        strip = labels[box] == i
        if np.median(away[box][strip]) <= EDGE_AWAY * sw:
            continue
        beside = (cv2.dilate(strip.astype(np.uint8), reach) > 0) \
            & ~(cv2.dilate(strip.astype(np.uint8), near) > 0)
        edge = cv2.dilate(strip.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        colour = np.median(lab[box][strip], axis=0)
        for side, region in arms.items():
            own = region[box] & beside
            if not (region[box] & edge).any() or not own.any():
                continue
            if np.linalg.norm(np.median(lab[box][own], axis=0) - colour) <= EDGE_LAB:
                mask = out.setdefault(side, np.zeros_like(rest))
                mask[box] |= strip
                break
    return out
