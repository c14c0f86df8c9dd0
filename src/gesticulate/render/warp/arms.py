"""An arm of the photo: its region about the shoulder–elbow–wrist bones, its sleeve, and its
pieces (upper arm, forearm, hand) (:mod:`gesticulate.render.warp.parts`)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gesticulate.render.warp import bones as B
from gesticulate.render.warp.hands import cloth_colours, like_hand
from gesticulate.render.warp.masks import on_segment, segment_distance, side_of


@dataclass
class ArmInfo:
    """What an arm of the photo shows.

    Attributes
    ----------
    mode : str
        ``"full"`` (shoulder, elbow, wrist inside the photo) or ``"upper"`` (the wrist is out of
        frame: the arm bends a little and stays pinned where it leaves the photo).
    joints : np.ndarray
        ``(4, 2)`` shoulder, elbow, wrist, hand centre in photo pixels (wrist and hand
        extrapolated along the arm when not seen).
    has_hand : bool
        The hand's wrist and knuckles were detected.
    """

    mode: str
    joints: np.ndarray
    has_hand: bool


def arm_info_of(ref: np.ndarray, valid: np.ndarray, side: str) -> ArmInfo | None:
    arm = B.ARMS[side]
    s, e, w = arm["shoulder"], arm["elbow"], arm["wrist"]
    if not (ref[s, 2] >= B.MIN_CONFIDENCE and valid[e] and ref[e, 2] >= B.RIG_CONFIDENCE):
        return None
    S, E = ref[s, :2].astype(np.float64), ref[e, :2].astype(np.float64)
    if np.linalg.norm(E - S) < 4:
        return None
    seen_w = bool(valid[w] and ref[w, 2] >= B.RIG_CONFIDENCE)
    has_hand = seen_w and B.hand_valid(valid, arm["hand_start"])
    if seen_w:
        W = ref[w, :2].astype(np.float64)
        H = B.hand_center(ref, arm["hand_start"]) if has_hand else W + 0.35 * (W - E)
        return ArmInfo("full", np.stack([S, E, W, H]), bool(has_hand))
    W = E + (E - S)                        # forearm continuing the upper arm, out of frame
    return ArmInfo("upper", np.stack([S, E, W, W + 0.35 * (W - E)]), False)


# A forearm's half-width (shoulder widths) on its side away from the body where it lies over
# the trunk (:func:`arm_region`).
FORE_HALF_WIDTH_OVER_TRUNK = 0.14
# How far (shoulder widths) from its bones a person pixel off the trunk may lie and still be
# sleeve: 0.35 took the side of a jacket and the chair beside a raised elbow along as a flap
# when the arm came down (hbr_speaker12, most-moved box PSNR -0.88 -> -0.70 dB at 0.2;
# ted_lia_driving1, whose arms swing wide, +5.58 -> +5.55 dB; 0.1 cost it 0.1 dB more).
SLEEVE_REACH = 0.2
# How far (shoulder widths) below a level forearm over the trunk its sleeve reaches. The elbow
# and wrist points run along the forearm's upper part, and a jacket sleeve hangs under it:
# desk_host_body.png's left sleeve reaches 0.26 below the bone, and with the body-side 0.1 its
# lower half and cuff buttons stayed on the torso, a copy of the cuff left on the desk as the
# hand rose. Same cloth: the median colour of the band's lower half within SLEEVE_COLOUR of the
# forearm's (desk_host_body's jacket under its sleeve 16, a white shirt sleeve on the same shirt
# (avspeech_sample2) 23, the black jackets of ted_lia_driving1/3 1-9; a bare or differently
# clad forearm, or a desk below it, on the shared photos 28-141). Not the median of each
# pixel's distance: that counts the weave too, and desk_host_body's navy jacket came 26 from
# itself, its sleeve's lower half and cuff left on the desk again.
SLEEVE_DRAPE = 0.22
SLEEVE_COLOUR = 26.0   # CIELAB distance (OpenCV's 8-bit scale) from the forearm's own colour
# ... and on past the wrist's point by CUFF_PAST shoulder widths: the point sits where the hand
# begins, inside the cuff, and desk_host_body.png's pointing hand left its cuff's lower half
# (white, and a sliver of the curled fingers) on his jacket, a pale ghost when the hand rose.
CUFF_PAST = 0.12
# A forearm nearer level than upright (within 45 degrees) has its sleeve hang below it. At 25
# degrees nothing changed on the shared clips but ted_lia_driving3 (hands re-detected 0.906 ->
# 0.893 in self-reenactment; avspeech_sample1's black sleeve at 28 degrees on her black jacket
# renders the same either way).
LEVEL = 1.0


def arm_region(person: np.ndarray, ref: np.ndarray, info: ArmInfo, side: str,
               neck: np.ndarray, sw: float, trunk: np.ndarray, core: np.ndarray,
               hand: np.ndarray | None, lab: np.ndarray | None = None,
               rival: np.ndarray | None = None) -> np.ndarray:
    """Pixels of one arm, the whole sleeve and nothing of the body beside it: around each
    bone, out to the person's edge on the side away from the body (at most 0.3 shoulder
    widths; a forearm over the trunk, :data:`FORE_HALF_WIDTH_OVER_TRUNK`), a sleeve's
    half-width (about 0.11 shoulder widths) on the side of the body, where no edge parts arm
    from jacket; every person pixel off the trunk nearer this arm than the trunk and within
    :data:`SLEEVE_REACH` of its bones; the sleeve hanging below a level forearm
    (:func:`_sleeve_below`); and the hand's own pixels. Kept where connected to the bones."""
    h, w = person.shape
    py, px = np.mgrid[0:h, 0:w].astype(np.float32)
    S, E, W, H = info.joints
    d_up, t_up = segment_distance(px, py, S, E)
    outward = ((px - S[0]) * (S[0] - neck[0]) + (py - S[1]) * (S[1] - neck[1])) > 0
    d_fore, t_fore = segment_distance(px, py, E, W)
    inner_up = np.where(side_of(px, py, S, E, core), 0.11 * sw, 0.3 * sw)
    # The forearm's side away from the body reaches out to the person's edge, but over the
    # trunk no edge parts a sleeve from the same jacket behind it: there it takes a sleeve's
    # width (avspeech_sample1's black sleeve raised across her black jacket carried a wedge of
    # the jacket along: most-moved box PSNR against the still photo +1.50 -> +2.03 dB, mean of
    # 12 clips +2.20 -> +2.27 dB; hbr_speaker7 +0.01 -> -0.02 dB).
    inner_fore = np.where(side_of(px, py, E, W, core), 0.1 * sw,
                          np.where(trunk, FORE_HALF_WIDTH_OVER_TRUNK * sw, 0.25 * sw))
    if info.mode != "full":
        inner_fore = inner_up
    region = ((d_up < inner_up) & ((t_up >= 0) | outward)) | (d_fore < inner_fore)
    if lab is not None and info.mode == "full" and abs(W[1] - E[1]) < LEVEL * abs(W[0] - E[0]):
        drape = _sleeve_below(lab, person, px, py, info, d_fore, t_fore, sw, trunk, hand, rival)
        if drape is not None:
            region |= drape
    if hand is not None:
        region |= hand
    elif info.mode == "full":
        d_hand, _ = segment_distance(px, py, W, H)
        region |= d_hand < 0.12 * sw
    # The sleeve beyond the body's outline: nearer this arm than the trunk.
    outside = person & ~trunk
    d_trunk = cv2.distanceTransform((~trunk).astype(np.uint8), cv2.DIST_L2, 3)
    region |= outside & (np.minimum(d_up, d_fore) < np.minimum(d_trunk, SLEEVE_REACH * sw)) \
        & ((t_up >= 0) | outward)
    region &= person
    # Keep the pieces that touch the arm's own bones (not a stray bit of torso).
    count, labels = cv2.connectedComponents(region.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, bool)
    for p in np.vstack([np.linspace(S, E, 8), np.linspace(E, W, 8)]):
        x, y = int(round(p[0])), int(round(p[1]))
        if 0 <= x < w and 0 <= y < h and labels[y, x] > 0:
            keep[labels[y, x]] = True
    return keep[labels]


def _sleeve_below(lab: np.ndarray, person: np.ndarray, px: np.ndarray, py: np.ndarray,
                  info: ArmInfo, d_fore: np.ndarray, t_fore: np.ndarray, sw: float,
                  trunk: np.ndarray, hand: np.ndarray | None, rival: np.ndarray | None
                  ) -> np.ndarray | None:
    """The sleeve hanging below a level forearm over the trunk: the pixels below the bone
    within :data:`SLEEVE_DRAPE` of it (and nearer it than the other arm's bones, ``rival``
    ``(3, 2)`` shoulder, elbow, wrist), when what lies in the lower half of that band is of the
    forearm's own cloth (its median within :data:`SLEEVE_COLOUR` of the forearm's colour along
    its bone: a sleeve on a jacket of the same cloth, where no edge shows how far the sleeve
    reaches). None for a forearm whose colour differs from what lies below it (a bare arm on a
    dress: that edge bounds the arm) or that shows too few pixels to read its colour.
    ``d_fore``, ``t_fore``: each pixel's distance to the forearm's bone and place along it."""
    _, E, W, _ = info.joints
    along = person & (d_fore < 0.05 * sw) & (t_fore > 0.15) & (t_fore < 0.85)
    if hand is not None:
        along &= ~hand
    if along.sum() < 12:
        return None
    below = side_of(px, py, E, W, (E + W) / 2 + np.array([0.0, 1.0]))
    # On a little past the wrist's point: the cuff around the wrist hangs below it too, as
    # deep as the sleeve (the distance to the bone's line there, not to its end).
    bone = W - E
    length = max(float(np.linalg.norm(bone)), 1.0)
    past = 1.0 + CUFF_PAST * sw / length
    across = np.abs((px - E[0]) * bone[1] - (py - E[1]) * bone[0]) / length
    depth = np.where(t_fore > 1, across, d_fore)
    near = person & trunk & below & (depth < SLEEVE_DRAPE * sw) & (t_fore >= 0) & (t_fore <= past)
    if not near.any():
        return None
    if rival is not None:
        for a, b in zip(rival[:-1], rival[1:]):
            near &= d_fore < segment_distance(px, py, a, b)[0]
    # The cloth is read in the band's lower half: a forearm as thick as the band fills its
    # upper half with its own colour whatever lies below it.
    low = near & (d_fore > 0.5 * SLEEVE_DRAPE * sw)
    if low.sum() < 12:
        return None
    colour = np.median(lab[along], axis=0)
    if np.linalg.norm(np.median(lab[low], axis=0) - colour) >= SLEEVE_COLOUR:
        return None
    return near


# The pixels within this many shoulder widths of a hand's cut, past its knuckles, are its
# fingertips' soft edge (split_arm) where their colour holds at least SKIN_SHARE of the skin's
# (_skin_blends).
FINGERTIP_EDGE = 0.03
SKIN_SHARE = 0.3


def _skin_blends(lab: np.ndarray, where: np.ndarray, around: np.ndarray,
                 skin: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The ``where`` pixels (bool ``(H, W)``) whose colour is a blend of the skin's and one
    of the non-skin colours ``around`` (3 k-means clusters) with at least SKIN_SHARE of skin
    in it, within one robust spread of that blend: a soft edge of skin, not the cloth."""
    out = np.zeros_like(where)
    centres = cloth_colours(lab, around, skin, 3) if where.any() else None
    if centres is None:
        return out
    mu, spread = skin
    px = lab[where] / spread
    ok = np.zeros(len(px), bool)
    for c in centres / spread:
        t, off = on_segment(px, c, mu / spread)
        ok |= (t >= SKIN_SHARE) & (off <= 1.0)
    out[where] = ok
    return out


def split_arm(region: np.ndarray, info: ArmInfo, hand: np.ndarray | None, sw: float,
              trunk: np.ndarray | None = None, lab: np.ndarray | None = None,
              skin: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """An arm's pixels cut into upper arm, forearm and hand: the hand's own pixels (``hand``,
    cut along its landmarks or skin; else the pixels past the wrist), then the nearer of the
    two bones (a forearm folded back along its upper arm keeps its whole width,
    :data:`FORE_HALF_WIDTH`). ``trunk``: where the body lies behind the arm (:func:`_trunk`);
    ``lab`` and ``skin``: the photo in CIELAB (:func:`lab_of`) and the face's skin colour
    (:func:`face_skin`), which keep cloth out of the hand. Pieces of a label cut off from its
    bone join the label they touch most, or touching none the nearest bone's
    (:func:`_join_strays`), so no pixel of the arm is lost and no piece bridges two bones that
    do not meet."""
    h, w = region.shape
    empty = np.zeros_like(region)
    if info.mode != "full":
        return {"upper": region.copy(), "fore": empty, "hand": empty}
    py, px = np.mgrid[0:h, 0:w].astype(np.float32)
    S, E, W, H = info.joints
    d_up, _ = segment_distance(px, py, S, E)
    d_fore, t_fore = segment_distance(px, py, E, W)
    d_palm, t_palm = segment_distance(px, py, W, H)
    if hand is not None and hand.any():
        hand = hand & region
        band = ~trunk if trunk is not None else np.ones_like(region)
    else:
        hand = region & (t_palm > 0.15) & (d_palm < np.minimum(d_fore, d_up))
        band = np.ones_like(region)
    if hand.any():
        # Fingers the cut missed (a fingertip past the landmarks, against the backdrop) stay
        # with the hand, not with a bone that passes near them; but over the trunk the band
        # is the body's cloth, and a hand resting there took the shirt above it along as a
        # dome (avspeech_sample2, interview_1wrQ6Msp7wM: most-moved box PSNR +0.04 and
        # +0.25 dB without it).
        d_hand = cv2.distanceTransform((~hand).astype(np.uint8), cv2.DIST_L2, 3)
        near = region & band & ~hand & (d_hand < np.minimum(d_fore, d_up)) & (d_hand < 0.1 * sw)
        if lab is not None and skin is not None and near.any():
            # ... and only what is coloured like the hand: beside the fingers lies the sleeve
            # too, which the band took along as a cloth flag on a raised hand (a patterned 3/4
            # sleeve on interview_1wrQ6Msp7wM). Past the knuckles, the fingertips' soft edge
            # (skin blended with the backdrop) is the hand's too: left to the upper arm,
            # hbr_speaker8's raised fingertips stayed in the air as a pink streak.
            tips = near & (d_hand <= FINGERTIP_EDGE * sw) & (t_palm > 1.0)   # H: knuckles
            around = region & ~hand & (d_hand < 0.4 * sw)
            near[near] = like_hand(lab, near, around, skin)
            # (blended with the cloth beside the hand or with what lies beyond the arm: the
            # backdrop, or the body)
            beyond = ~region & (d_hand < 0.2 * sw)
            near |= _skin_blends(lab, tips & ~near, around | beyond, skin)
        hand = hand | near
    # The elbow itself stays with the upper arm (the forearm piece, grown back into it, covers
    # the joint): cut with it, a bent arm's elbow swings away as a flap when the arm unbends.
    fore = region & ~hand & (d_fore < d_up) & (t_fore > 0.12)
    if folded(S, E, W):
        # A forearm folded back along its upper arm lies in front of it: the forearm's whole
        # width is the forearm's, even nearer the upper arm's bone (else a cuff beside the
        # wrist stayed on hbr_speaker12's upper arm as a dark patch when his arm came down).
        fore |= region & ~hand & (d_fore < FORE_HALF_WIDTH * sw) & (t_fore > 0.12)
    upper = region & ~hand & ~fore
    labels = {"upper": upper, "fore": fore, "hand": hand}
    bones = {"upper": (S, E), "fore": (E, W), "hand": (W, H)}
    near = {"upper": d_up, "fore": d_fore, "hand": d_palm}
    return _join_strays(labels, bones, near)


def _join_strays(labels: dict[str, np.ndarray], bones: dict[str, tuple],
                 near: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``labels`` (an arm's pieces) with every bit cut off from its piece's bone (``bones``:
    name -> its two ends) given to a neighbour: each stray bit (strays of several pieces that
    touch make one) joins the piece it shares most border with, or, touching none, the one
    whose bone is nearest (``near``: name -> each pixel's distance to it). All of a piece's
    strays joined one piece together before: hbr_speaker12's upper-arm bits by his raised hand
    took a bit of lapel by the shoulder along into the hand, the hand's strays took it on into
    the forearm, and it flew off with the forearm as a dark shard when the arm came down."""
    labels = dict(labels)
    h, w = next(iter(labels.values())).shape
    stray = np.zeros((h, w), bool)
    for name, (a, b) in bones.items():
        mask = labels[name]
        count, comp = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
        if count <= 2:
            continue
        keep = np.zeros(count, bool)
        for p in np.linspace(a, b, 10):
            x, y = int(round(p[0])), int(round(p[1]))
            if 0 <= x < w and 0 <= y < h and comp[y, x] > 0:
                keep[comp[y, x]] = True
        if not keep[1:].any():
            keep[1 + np.argmax(np.bincount(comp.ravel())[1:])] = True
        stray |= mask & ~keep[comp]
        labels[name] = mask & keep[comp]
    count, comp = cv2.connectedComponents(stray.astype(np.uint8), connectivity=8)
    for k in range(1, count):
        piece = comp == k
        ring = (cv2.dilate(piece.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0) & ~piece
        border = {n: int((ring & m).sum()) for n, m in labels.items()}
        if max(border.values()) > 0:
            best = max(border, key=border.get)
        else:
            shown = [n for n in near if labels[n].any()] or list(near)   # no piece of strays
            best = min(shown, key=lambda n: float(near[n][piece].mean()))
        labels[best] = labels[best] | piece
    return labels


# A forearm's half-width, shoulder widths, and the elbow angle under which it counts as folded
# back along its upper arm (split_arm, and hidden_sleeve's upper_under_forearm).
FORE_HALF_WIDTH = 0.12
FOLDED_DEG = 50.0


def folded(S: np.ndarray, E: np.ndarray, W: np.ndarray) -> bool:
    """Whether the elbow is bent to under :data:`FOLDED_DEG` (upper arm against forearm)."""
    u, f = S - E, W - E
    cos = float(u @ f) / max(float(np.linalg.norm(u) * np.linalg.norm(f)), 1e-9)
    return cos > np.cos(np.radians(FOLDED_DEG))
