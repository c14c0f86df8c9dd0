"""A hand the photo shows but no detector can read, or shows too little of, borrowed from the
other hand, mirrored.

A hand laced with the other in the lap (hbr_speaker7's left) is one blob to the warp: carried
where the motion opens the hands, it stays a fingerless lump, and the detector, like a viewer,
finds no hand in it (in his self-reenactment, 0.35 of the frames where the real clip has it;
his right hand, whose landmarks the photo gives, 0.96). Where one hand's landmarks are found in
the photo and the other's are not, and the two lie against each other, the unread one is drawn,
in the frames where the motion has it found (read, so not laced) and away from its place in
the photo, as the found one's pixels mirrored onto its wrist, meeting its forearm as the found
one meets its own, turned (its fingers too) with the motion's hand as the found one is (a
person's two hands are mirror images). A frame whose motion has no such hand (laced in the
other, as in the photo), or has it where the photo has it, shows the photo's own pixels: the
photo's own pose renders the photo.

The motion must carry the hand's landmarks: a skeleton from a real clip or another tool
(``render --motion``, ``reenact``, ``import-poses``) does; ``generate``'s, made from the photo's
keypoints, has none for a hand the photo's detection did not find.

A hand the detector reads but that lies mostly under the other (:data:`COVERED`) is borrowed
the same way: the photo shows too little of it to carry (avspeech_sample2's right hand, under
his left, rose as a flat patch of skin that no detector took for a hand; the mirrored left one
is found, its watch left off, :func:`bare_wrist`). It lies where its own landmarks are. It
shows where the motion moves it from there against its own elbow (where the motion has no
landmarks of it, as ``generate``'s fitted motion has none of a hand the photo shows in part:
where its wrist moves), and where the other hand leaves it: uncovered in place, its own layer
was a flat paddle of skin with the other's finger shadows across it. (avspeech_sample2's
self-reenactment, the right hand a hand now each time his left turns up off it: most-moved box
+1.45 -> +1.05 dB against the still photo, the paddle being the real hand's own pixels where
the mirrored one is not; hands re-detected 0.722 -> 0.794, a figure that moves by several
hundredths between runs.)

A hand apart from the other is kept, read or not: interview_1wrQ6Msp7wM's left, cupped and
seen edge-on, is not found in the photo, but it is a whole hand; borrowed, it was re-detected
in 0.59 of her self-reenactment's frames (0.03 kept), but it was her right hand's darker,
shadowed skin on a differently turned palm, and the jacket's fill showed where her own fingers
had lain. Given the unread hand's hue (its pixels' mean CIELAB a and b), hbr_speaker7's borrowed
hand changed the most-moved box by 0.003 dB; given its lightness too, it came out darker and
redder than his real open hand (the laced hand lies in shade; -0.19 dB): the other hand's
colours are kept.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import cv2
import numpy as np

from gesticulate.render.warp import bones as B
from gesticulate.render.warp.cloth import painted_over
from gesticulate.render.warp.masks import grown, lab_of, mask_box, touching
from gesticulate.render.warp.parts import Parts
from gesticulate.render.warp.pose import Poser
from gesticulate.render.warp.rig import BORDER, Layer, build_layer, mesh_step
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.tracks import smoothstep

# The borrowed hand shows wholly where the motion has it found (a detector read it: no hand
# laced in the other) and AT_REST[1] of its size or more away from its place in the photo (an
# unread hand's: the other hand's mirrored onto its wrist; a read one's: its own landmarks),
# not at all within AT_REST[0]: the photo's own pose
# renders the photo. By the share of each hand's box (round its landmarks) that the other's
# overlaps, hbr_speaker7's hands steepled, fingertips touching, overlapped as much as laced
# ones: his left hand faded into the photo's laced lump, a ghost of two hands (re-detected in
# 6 of his self-reenactment's 15 frames 83-97, 11 now; the real clip's in 13; over the whole
# clip his hands in 105 of the 133 frames where the motion has them, 103 now: in frames 13-35
# his hands, raised a little and apart in the real clip, overlap low in his lap in the render,
# the borrowed hand wholly over his right one now, not a ghost of it).
AT_REST = (0.1, 0.25)
# A hand is borrowed only where its pixels cover at least SEEN_SHARE of the found hand's (a
# hand hidden behind the body, or a wrist at the photo's edge, has none to replace) and lie
# within AGAINST shoulder widths (2 px at least) of them. (Chosen, not tuned; of the shared
# photos and clips' first frames only hbr_speaker7's hand is unread and borrowed, laced.)
SEEN_SHARE = 0.3
AGAINST = 0.03
# A hand the detector reads is borrowed too where COVERED of it or more lies under the other
# (parts.hidden_hand): avspeech_sample2's right hand, 0.35 of it under his left, rose as a
# flat patch of skin with a jagged edge where the left hand's fingers had lain, and
# ted_lia_driving3's, 0.24 under her left, with a pink patch beside its fingers. (Of the shared
# photos and clips' first frames they are the only ones.)
COVERED = 0.2


# Pixels over which a lent hand fades out at the photo's border (borrowed_texture).
CUT_FADE = 8.0
# What the lending hand wears at its wrist is not lent (bare_wrist): its pixels within
# WRIST_BAND palm lengths (wrist to middle knuckle) of the wrist's point further than WRIST_ODD
# (CIELAB) from the palm's median colour (from a half to one palm length out) are painted over
# from the hand's other pixels. avspeech_sample2's right hand, borrowed from his left, wore his
# watch too: two watches. (Self-reenactment with and without it: hbr_speaker7's most-moved box
# +0.73 -> +0.79 dB; avspeech_sample2's hands re-detected 0.722 -> 0.691, the bare wrist found
# less often than the watched one; ted_lia_driving3's 0.967 -> 0.984.)
WRIST_BAND = 0.6
WRIST_ODD = 30.0
# ... with the pixels within WORN_EDGE palm lengths (1 px at least) of those: the watch's outline,
# its blend with the skin round it, nearer the palm's colour than WRIST_ODD, stayed as a grey
# ring on the borrowed wrist.
WORN_EDGE = 0.03
# ... and what it wears out past the hand's own width is cut off: the pixels nearer the wrist
# than the band's end that lie, across the hand's axis, outside the 3rd-97th percentiles of the
# hand's pixels from the band's end to WORN_PAST[0] palm lengths past it (widened by
# WORN_PAST[1] palm lengths each side), in pieces that meet what it wears, fading out over
# WORN_PAST[2] px. avspeech_sample2's watch case, painted over in skin, stood out of the
# borrowed wrist as a flat bump, a paddle. (Self-reenactment: his most-moved box +1.05 ->
# +1.03 dB, hands re-detected 0.794 -> 0.773; hbr_speaker7's +0.79 -> +0.78 dB, 0.812 -> 0.827;
# ted_lia_driving3's +2.79 -> +2.78 dB, 0.980 -> 0.984: a frame or two each.)
WORN_PAST = (0.25, 0.05, 1.5)


class Borrowed(NamedTuple):
    """A hand drawn as the other's, mirrored (:func:`borrow_hands`)."""

    side: str
    index: int            # of the hand's own layer, which it is drawn with
    layer: Layer
    poser: Poser          # the rig's, with the other hand's landmarks mirrored onto this one
    rest: np.ndarray      # where the hand lies in the photo (:func:`shown`), (133, 3)
    read: bool            # the photo's detection read it (:func:`hand_read`; lent as
    #                       :func:`covered`): ``rest`` is the photo's own points


def hand_read(valid: np.ndarray, side: str) -> bool:
    """The photo's detection read ``side``'s hand: :data:`~gesticulate.skeleton.layout.
    HAND_FOUND` of its landmarks or more among the photo's ``valid`` points."""
    hs = B.ARMS[side]["hand_start"]
    return int(valid[hs:hs + 21].sum()) >= L.HAND_FOUND


def borrowers(parts: Parts, valid: np.ndarray) -> dict[str, str]:
    """``{side: other side}`` for each hand the photo shows unread (:func:`hand_read`), or read
    but :func:`covered`, against the other hand, read: the hands to borrow, and from which."""
    info = parts.arm_info
    found = {side: hand_read(valid, side) for side in B.ARMS}
    out = {}
    for side, other in (("left", "right"), ("right", "left")):
        if side not in info or other not in info:
            continue
        mine, theirs = parts.segments[side]["hand"], parts.segments[other]["hand"]
        if (found[side] and not covered(parts, side)) or not found[other] \
                or info[side].mode != "full" or info[other].mode != "full":
            continue
        if theirs.any() and mine.sum() >= SEEN_SHARE * theirs.sum() \
                and (grown(mine, max(2.0, AGAINST * parts.shoulder_width)) & theirs).any():
            out[side] = other
    return out


def covered(parts: Parts, side: str) -> bool:
    """:data:`COVERED` of ``side``'s hand or more lies under the other."""
    hidden = parts.hidden_hand.get(side)
    if hidden is None or side not in parts.segments:
        return False
    n = int(hidden.sum())
    return n > 0 and n >= COVERED * (n + int(parts.segments[side]["hand"].sum()))


def mirror_transform(parts: Parts, side: str, other: str) -> np.ndarray:
    """``(2, 3)`` affine (photo pixels) taking ``other``'s hand onto ``side``'s wrist: mirrored
    left to right, and turned so that it meets ``side``'s forearm as ``other``'s hand meets
    its own."""
    _, e_o, w_o, _ = parts.arm_info[other].joints
    _, e_s, w_s, _ = parts.arm_info[side].joints
    fore_o = (w_o - e_o) * [-1.0, 1.0]              # the other forearm, mirrored
    fore_s = w_s - e_s
    turn = np.arctan2(fore_s[1], fore_s[0]) - np.arctan2(fore_o[1], fore_o[0])
    c, s = np.cos(turn), np.sin(turn)
    m = np.array([[c, -s], [s, c]]) @ np.diag([-1.0, 1.0])
    return np.hstack([m, (w_s - m @ w_o)[:, None]])


def with_hand_of(reference: np.ndarray, valid: np.ndarray, side: str, other: str,
                 m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Copies of ``(reference, valid)`` with ``side``'s hand landmarks ``other``'s moved by the
    affine ``m`` ``(2, 3)``, their confidences and validity ``other``'s."""
    ref, seen = reference.copy(), valid.copy()
    mine, theirs = B.ARMS[side]["hand_start"], B.ARMS[other]["hand_start"]
    ref[mine:mine + 21, :2] = ref[theirs:theirs + 21, :2] @ m[:, :2].T + m[:, 2]
    ref[mine:mine + 21, 2] = ref[theirs:theirs + 21, 2]
    seen[mine:mine + 21] = valid[theirs:theirs + 21]
    return ref, seen


def borrowed_rig(parts: Parts, reference: np.ndarray, valid: np.ndarray, side: str,
                 other: str) -> tuple[Parts, np.ndarray, np.ndarray]:
    """The rig of ``side``'s borrowed hand: ``(parts, reference, valid)`` with ``other``'s hand
    landmarks mirrored onto ``side``'s (:func:`mirror_transform`), so that the borrowed hand
    and its fingers turn to the motion's as the found hand's do."""
    m = mirror_transform(parts, side, other)
    ref, seen = with_hand_of(reference, valid, side, other, m)
    info = parts.arm_info[side]
    joints = info.joints.copy()
    joints[3] = m[:, :2] @ parts.arm_info[other].joints[3] + m[:, 2]
    arm_info = dict(parts.arm_info)
    arm_info[side] = replace(info, joints=joints, has_hand=parts.arm_info[other].has_hand)
    return replace(parts, arm_info=arm_info), ref, seen


def borrowed_texture(rgba: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A layer's texture (RGBA uint8 ``(H, W, 4)``, photo pixels) moved by the affine ``m``
    ``(2, 3)`` (:func:`mirror_transform`: another hand's onto this wrist): ``(rgb uint8
    (H, W, 3), alpha float32 (H, W))``. Faded out over
    :data:`CUT_FADE` px at the photo's border: a hand the border cuts (hbr_speaker7's right)
    lent its cut edge, and the dark underside there, as a brown bar across the borrowed hand's
    heel once it rose into the picture."""
    h, w = rgba.shape[:2]
    y, x = np.ogrid[:h, :w]
    edge = np.minimum(np.minimum(y, h - 1 - y), np.minimum(x, w - 1 - x))
    fade = np.clip(edge / CUT_FADE, 0.0, 1.0)
    rgba = rgba.copy()
    rgba[..., 3] = (rgba[..., 3] * fade + 0.5).astype(np.uint8)
    out = cv2.warpAffine(rgba, m, (w, h),
                         flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return np.ascontiguousarray(out[..., :3]), out[..., 3].astype(np.float32) / 255.0


def bare_wrist(rgba: np.ndarray, reference: np.ndarray, valid: np.ndarray, side: str
               ) -> np.ndarray:
    """A copy of ``side``'s hand layer texture (RGBA uint8, photo pixels) without what it wears
    at its wrist (:data:`WRIST_BAND`, :data:`WORN_EDGE`): a watch, a bracelet, a cuff's edge,
    painted over with its own skin, and cut off where it stands out past the hand's width
    (:data:`WORN_PAST`); as it is where the wrist or the middle knuckle is not seen."""
    wrist, hs = B.ARMS[side]["wrist"], B.ARMS[side]["hand_start"]
    if not (valid[wrist] and valid[hs + 9]):
        return rgba
    w, knuckle = reference[wrist, :2], reference[hs + 9, :2]
    palm = float(np.linalg.norm(knuckle - w))
    hand = rgba[..., 3] > 127
    if palm < 2.0 or not hand.any():
        return rgba
    box = mask_box(hand, int(np.ceil(palm)))
    yy, xx = np.indices(hand[box].shape)
    px, py = xx + box[1].start - w[0], yy + box[0].start - w[1]
    d = np.hypot(px, py) / palm
    lab = lab_of(np.ascontiguousarray(rgba[box][..., :3]))
    skin = hand[box] & (d >= 0.5) & (d <= 1.0)
    if skin.sum() < 20:
        return rgba
    odd = np.linalg.norm(lab - np.median(lab[skin], axis=0), axis=2) > WRIST_ODD
    worn = hand[box] & (d < WRIST_BAND) & odd
    if not worn.any():
        return rgba
    worn = grown(worn, WORN_EDGE * palm) & hand[box]
    out = rgba.copy()
    out[box][..., :3] = painted_over(np.ascontiguousarray(rgba[box][..., :3]), worn,
                                     hand[box] & ~worn)
    # What it wears out past the hand's width (a watch's case) is cut off (WORN_PAST).
    axis = (knuckle - w) / palm
    across, along = px * -axis[1] + py * axis[0], px * axis[0] + py * axis[1]
    past = hand[box] & ~worn & (along >= WRIST_BAND * palm) \
        & (along <= (WRIST_BAND + WORN_PAST[0]) * palm)
    if past.sum() >= 10:
        lo, hi = np.percentile(across[past], [3, 97]) + np.array([-1, 1]) * WORN_PAST[1] * palm
        beyond = np.maximum(lo - across, across - hi)
        alpha = out[box][..., 3]
        outside = (alpha > 0) & (along < WRIST_BAND * palm) & (beyond > 0)
        cut = touching(outside, worn)
        fade = np.clip(1.0 - beyond / WORN_PAST[2], 0.0, 1.0)
        alpha[cut] = (alpha[cut] * fade[cut]).astype(np.uint8)
    return out


def borrow_hands(layers: list[Layer], parts: Parts, reference: np.ndarray, valid: np.ndarray,
                 size: tuple[int, int], *, scale: float, grow: int) -> list[Borrowed]:
    """The borrowed hands of a rig whose ``layers`` are built (:func:`borrowers`): each the
    other hand's layer mirrored, rigged to the other's landmarks mirrored. ``scale``: the
    picture's size in units of 512 px; ``grow``: the layers' (:func:`rig.build_layer`)."""
    names = [layer.name for layer in layers]
    out = []
    for side, other in borrowers(parts, valid).items():
        mine, theirs = f"hand_{side}", f"hand_{other}"
        if mine not in names or theirs not in names:
            continue
        texture = bare_wrist(layers[names.index(theirs)].texture[BORDER:-BORDER, BORDER:-BORDER],
                             reference, valid, other)
        rgb, alpha = borrowed_texture(texture, mirror_transform(parts, side, other))
        region = alpha > 0.01
        rig, ref, seen = borrowed_rig(parts, reference, valid, side, other)
        layer = build_layer(mine, region, rgb, alpha, ref, seen, rig,
                            spacing=mesh_step(region, 0.0, scale, fine=True), grow=grow)
        if layer is not None:
            layer.name = f"borrowed_{side}"
            # A hand read in the photo lies where its own landmarks are; an unread one, laced in
            # the other, where the motion has none of it or the other's mirrored.
            own = hand_read(valid, side)
            out.append(Borrowed(side, names.index(mine), layer, Poser(ref, seen, rig, size),
                                reference if own else ref, own))
    return out


def shown(target: np.ndarray, side: str, rest: np.ndarray, *, read: bool = False) -> float:
    """How much of ``side``'s borrowed hand shows in the frame ``target`` ``(133, 3)``, 0..1 in
    steps of 1/32: all of it where the motion has that hand (:func:`~gesticulate.skeleton.
    layout.hand_found`) away from its ``rest`` ``(133, 3)``, :attr:`Borrowed.rest` (an unread
    hand's: the borrowed rig's reference, this hand the other's mirrored; a read one's: the
    photo's own points); none where it has none (a hand laced in the other, as the photo's) or
    at its rest (:data:`AT_REST`). How far from its rest: the landmarks' mean distance from
    the rest's about their middles (a hand turned or opened in place) plus how far that middle
    moved against the other wrist (a ``read`` hand's, :attr:`Borrowed.read`: against its own
    elbow; either unseen: the picture), over the hand's size; of a read hand the motion has
    without landmarks, how far its wrist moved against its own elbow. A read hand shows too as
    far as the other hand has left it (:func:`_uncovered`)."""
    mine = L.LEFT_HAND if side == "left" else L.RIGHT_HAND
    # Moved against the other wrist (laced hands go together), or for a read hand lying under
    # the other against its own elbow.
    other = "right" if side == "left" else "left"
    anchor = B.ARMS[side]["elbow"] if read else B.ARMS[other]["wrist"]
    if not L.hand_found(target, mine, B.MIN_CONFIDENCE):
        if not read:
            return 0.0
        # A read hand the motion carries without its landmarks (generate's fitted motion drops
        # a hand the photo shows in part): how far its wrist moved.
        wrist, seen = B.ARMS[side]["wrist"], rest[mine, 2] >= B.MIN_CONFIDENCE
        if min(target[wrist, 2], rest[wrist, 2]) < B.MIN_CONFIDENCE or seen.sum() < 3:
            return 0.0
        size = max(float(np.ptp(rest[mine][seen, :2], axis=0).max()), 1.0)
        ct, cr = target[wrist, :2], rest[wrist, :2]
        turned = 0.0
    else:
        both = (target[mine, 2] >= B.MIN_CONFIDENCE) & (rest[mine, 2] >= B.MIN_CONFIDENCE)
        if both.sum() < 3:
            return 1.0
        t, r = target[mine][both, :2], rest[mine][both, :2]
        ct, cr = t.mean(0), r.mean(0)
        size = max(float(np.ptp(r, axis=0).max()), 1.0)
        turned = float(np.linalg.norm((t - ct) - (r - cr), axis=1).mean())
    if min(target[anchor, 2], rest[anchor, 2]) >= B.MIN_CONFIDENCE:
        ct, cr = ct - target[anchor, :2], cr - rest[anchor, :2]
    away = (turned + float(np.linalg.norm(ct - cr))) / size
    if read:
        away = max(away, _uncovered(target, side, rest, size))
    lo, hi = AT_REST
    return round(float(smoothstep((away - lo) / (hi - lo))) * 32) / 32


def _uncovered(target: np.ndarray, side: str, rest: np.ndarray, size: float) -> float:
    """How far the other hand has left ``side``'s, read and lying under it in the photo: the
    mean distance its landmarks (seen in ``target`` and the photo's ``rest``; too few: its
    wrist) moved against this hand's wrist, over this hand's ``size`` (px); 0 where a wrist is
    unseen. Uncovered where it lay, the hand's own layer was the photo's hand with what the
    other had hidden filled with its skin: a flat paddle with the other's finger shadows across
    it that no detector took for a hand (avspeech_sample2's right hand, each time his left
    turned up off it, the wrist staying on the desk)."""
    other = "right" if side == "left" else "left"
    wrist, other_wrist = B.ARMS[side]["wrist"], B.ARMS[other]["wrist"]
    if min(target[wrist, 2], target[other_wrist, 2], rest[wrist, 2], rest[other_wrist, 2]) \
            < B.MIN_CONFIDENCE:
        return 0.0
    hand = L.LEFT_HAND if other == "left" else L.RIGHT_HAND
    both = (target[hand, 2] >= B.MIN_CONFIDENCE) & (rest[hand, 2] >= B.MIN_CONFIDENCE)
    pts = np.arange(L.NUM_KEYPOINTS)[hand][both] if both.sum() >= 3 else [other_wrist]
    now = target[pts, :2] - target[wrist, :2]
    then = rest[pts, :2] - rest[wrist, :2]
    return float(np.linalg.norm(now - then, axis=1).mean()) / size
