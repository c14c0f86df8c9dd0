"""A hand the photo shows but no detector can read, borrowed from the other hand, mirrored.

A hand laced with the other in the lap (hbr_speaker7's left) is one blob to the warp: carried
where the motion opens the hands, it stays a fingerless lump, and the detector, like a viewer,
finds no hand in it (in his self-reenactment, 0.35 of the frames where the real clip has it;
his right hand, whose landmarks the photo gives, 0.96). Where one hand's landmarks are found in
the photo and the other's are not, and the two lie against each other, the unread one is drawn,
in the frames where the motion has it clear of the other hand, as the found one's pixels
mirrored onto its wrist, meeting its forearm as the found one meets its own, turned (its
fingers too) with the motion's hand as the found one is (a person's two hands are mirror
images), in the unread hand's own hue. A frame whose motion has no such hand (laced,
as in the photo) shows the photo's own pixels: the photo's own pose renders the photo.

A hand apart from the other is kept, read or not: interview_1wrQ6Msp7wM's left, cupped and
seen edge-on, is not found in the photo, but it is a whole hand; borrowed, it was re-detected
in 0.59 of her self-reenactment's frames (0.03 kept), but it was her right hand's darker,
shadowed skin on a differently turned palm, and the jacket's fill showed where her own fingers
had lain.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from gesticulate.render.warp import bones as B
from gesticulate.render.warp.parts import Parts, grown, lab_of
from gesticulate.skeleton import layout as L

# The borrowed hand shows wholly where the share of its box (round its landmarks) that the
# other hand's box overlaps is OVERLAP[0] or less, not at all from OVERLAP[1].
OVERLAP = (0.15, 0.4)
# ... and only for a hand whose pixels cover at least this share of the found hand's (a hand
# hidden behind the body, or a wrist at the photo's edge, has none to replace), lying within
# AGAINST shoulder widths of it.
SEEN_SHARE = 0.3
AGAINST = 0.03


def borrowers(parts: Parts, valid: np.ndarray) -> dict[str, str]:
    """``{side: other side}`` for each hand the photo shows unread (fewer than
    :data:`~gesticulate.skeleton.layout.HAND_FOUND` of its landmarks among the photo's
    ``valid`` points) against the other hand, found: the hands to borrow, and from which."""
    info = parts.arm_info
    found = {side: int(valid[B.ARMS[side]["hand_start"]:][:21].sum()) >= L.HAND_FOUND
             for side in B.ARMS}
    out = {}
    for side, other in (("left", "right"), ("right", "left")):
        if side not in info or other not in info:
            continue
        if found[side] or not found[other] or info[side].mode != "full" \
                or info[other].mode != "full":
            continue
        mine, theirs = parts.segments[side]["hand"], parts.segments[other]["hand"]
        if theirs.any() and mine.sum() >= SEEN_SHARE * theirs.sum() \
                and (grown(mine, max(2.0, AGAINST * parts.shoulder_width)) & theirs).any():
            out[side] = other
    return out


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


def borrowed_rig(parts: Parts, reference: np.ndarray, valid: np.ndarray, side: str,
                 other: str) -> tuple[Parts, np.ndarray, np.ndarray]:
    """The rig of ``side``'s borrowed hand: ``(parts, reference, valid)`` with ``other``'s hand
    landmarks mirrored onto ``side``'s (:func:`mirror_transform`), so that the borrowed hand
    and its fingers turn to the motion's as the found hand's do."""
    m = mirror_transform(parts, side, other)
    ref, seen = reference.copy(), valid.copy()
    mine, theirs = B.ARMS[side]["hand_start"], B.ARMS[other]["hand_start"]
    ref[mine:mine + 21, :2] = ref[theirs:theirs + 21, :2] @ m[:, :2].T + m[:, 2]
    ref[mine:mine + 21, 2] = ref[theirs:theirs + 21, 2]
    seen[mine:mine + 21] = valid[theirs:theirs + 21]
    info = parts.arm_info[side]
    joints = info.joints.copy()
    joints[3] = m[:, :2] @ parts.arm_info[other].joints[3] + m[:, 2]
    arm_info = dict(parts.arm_info)
    arm_info[side] = replace(info, joints=joints, has_hand=parts.arm_info[other].has_hand)
    return replace(parts, arm_info=arm_info), ref, seen


def borrowed_texture(rgba: np.ndarray, image: np.ndarray, parts: Parts, side: str,
                     other: str) -> tuple[np.ndarray, np.ndarray]:
    """``other``'s hand layer (RGBA uint8 ``(H, W, 4)``, photo pixels) mirrored onto
    ``side``'s wrist, its hue moved to that of ``side``'s own hand pixels in the photo
    ``image`` (RGB uint8; the mean CIELAB a and b): ``(rgb uint8 (H, W, 3), alpha float32
    (H, W))``. Not its lightness: hbr_speaker7's left hand, laced under his right, is in its
    shade, and the open hand made that dark was redder than his real one (most-moved box
    19.03 dB, hue only 19.22)."""
    h, w = rgba.shape[:2]
    out = cv2.warpAffine(rgba, mirror_transform(parts, side, other), (w, h),
                         flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    rgb, alpha = np.ascontiguousarray(out[..., :3]), out[..., 3].astype(np.float32) / 255.0
    own = parts.segments[side]["hand"]
    lent = alpha > 0.5
    if own.any() and lent.any():
        lab = lab_of(rgb)
        lab += (lab_of(image)[own].mean(0) - lab[lent].mean(0)) * [0.0, 1.0, 1.0]
        rgb = cv2.cvtColor(np.clip(lab + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    return rgb, alpha


def shown(target: np.ndarray, tv: np.ndarray, side: str) -> float:
    """How much of ``side``'s borrowed hand shows in the frame ``target`` (``tv`` its seen
    points), 0..1 in steps of 1/32: all of it where the motion has that hand
    (:data:`~gesticulate.skeleton.layout.HAND_FOUND` of its points seen) clear of the other
    hand, none where it has none (a hand laced in the other, as the photo's) or where the two
    hands' boxes overlap (:data:`OVERLAP`)."""
    other = "right" if side == "left" else "left"
    mine, theirs = B.ARMS[side]["hand_start"], B.ARMS[other]["hand_start"]
    seen = tv[mine:mine + 21]
    if seen.sum() < L.HAND_FOUND:
        return 0.0
    pts = target[mine:mine + 21, :2][seen]
    lo, hi = pts.min(0), pts.max(0)
    share = 0.0
    if tv[theirs:theirs + 21].sum() >= L.HAND_FOUND:
        them = target[theirs:theirs + 21, :2][tv[theirs:theirs + 21]]
        inter = np.clip(np.minimum(hi, them.max(0)) - np.maximum(lo, them.min(0)), 0, None)
        share = float(inter.prod() / max(np.prod(np.maximum(hi - lo, 1.0)), 1.0))
    x = float(np.clip((OVERLAP[1] - share) / (OVERLAP[1] - OVERLAP[0]), 0.0, 1.0))
    return round(x * x * (3 - 2 * x) * 32) / 32
