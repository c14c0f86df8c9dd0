"""Split the person into puppet layers (RENDERING.md, "Parts"): torso, head + neck, and one
layer per arm (upper arm, forearm and hand), each a pixel region of the photo.

Arms are capsules around shoulder–elbow–wrist (and the hand's points) cut from the person mask;
an arm is rigged only when its shoulder and elbow are inside the photo with confidence, so a
portrait without arms animates the head and shoulders only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from gesticulate.render.warp import bones as B
from gesticulate.render.warp.segment import fill_holes
from gesticulate.skeleton import layout as L


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
    # (:func:`_hidden_hand`).
    hidden_hand: dict[str, np.ndarray] = field(default_factory=dict)
    shoulder_line: tuple[np.ndarray, np.ndarray] | None = None  # point, unit normal (down)
    shoulder_width: float = 0.0
    hands: dict[str, np.ndarray] = field(default_factory=dict)  # each hand's own pixels
    # Per arm, its pieces: {"upper": mask, "fore": mask, "hand": mask} (empty masks allowed).
    segments: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    skin: tuple | None = None  # the face's skin colour: CIELAB median and spread

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


def _segment_distance(px: np.ndarray, py: np.ndarray, a: np.ndarray, b: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Distance of points to segment ``a``–``b`` and the projection parameter ``t``."""
    d = b - a
    n2 = max(float(d @ d), 1e-9)
    t = ((px - a[0]) * d[0] + (py - a[1]) * d[1]) / n2
    tc = np.clip(t, 0.0, 1.0)
    return np.hypot(px - (a[0] + tc * d[0]), py - (a[1] + tc * d[1])), t


def shoulder_geometry(ref: np.ndarray, valid: np.ndarray, size: tuple[int, int]
                      ) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Shoulder midpoint, unit "down" normal of the shoulder line and shoulder width (pixels),
    or None when a shoulder is not seen (it may lie just outside the frame: then it is used
    anyway when its confidence is fair)."""
    ls, rs = ref[L.LEFT_SHOULDER], ref[L.RIGHT_SHOULDER]
    if min(ls[2], rs[2]) < B.MIN_CONFIDENCE:
        return None
    a, b = ls[:2].astype(np.float64), rs[:2].astype(np.float64)
    width = float(np.linalg.norm(a - b))
    if width < 4:
        return None
    along = (a - b) / width
    normal = np.array([-along[1], along[0]])
    if normal[1] < 0:
        normal = -normal
    return 0.5 * (a + b), normal, width


def _arm_info(ref: np.ndarray, valid: np.ndarray, side: str) -> ArmInfo | None:
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


# An arm piece's pixel is backdrop seen through it (:func:`backdrop_in_arm`) within
# BACKDROP_NEAR spreads of the backdrop's colours beside it and at most BACKDROP_RATIO of its
# distance to the piece's own; spreads of BACKDROP_SPREAD (CIELAB).
BACKDROP_NEAR = 1.5
BACKDROP_RATIO = 0.5
BACKDROP_SPREAD = np.array([20.0, 8.0, 8.0], np.float32)
BACKDROP_BLOCK = 0.06       # shoulder widths: the side of the smallest block of backdrop


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
    ring = grown(per, max(3.0, 0.04 * sw)) & ~grown(per, max(1.0, 0.015 * sw))
    py, px = np.mgrid[box[0].start:box[0].start + reg.shape[0],
                      box[1].start:box[1].start + reg.shape[1]].astype(np.float32)
    d, _ = _segment_distance(px, py, bone[0], bone[1])
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


def components_below(mask: np.ndarray, area: float) -> np.ndarray:
    """The connected components of ``mask`` smaller than ``area`` pixels."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=4)
    small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < area)
    small = small[small > 0]
    return np.isin(labels, small) if len(small) else np.zeros(mask.shape, bool)


def mask_box(mask: np.ndarray, margin: int, *, even: bool = False) -> tuple[slice, slice]:
    """The box around ``mask``'s pixels (``(H, W)`` bool, some set) grown by ``margin`` px, as
    slices (cut at the picture's edges); with ``even``, it starts on even rows and columns, so
    :func:`~gesticulate.render.warp.fill.inpaint`'s half-scale grid there is the whole
    picture's."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    y0, x0 = max(rows[0] - margin, 0), max(cols[0] - margin, 0)
    if even:
        y0, x0 = y0 & ~1, x0 & ~1
    return slice(y0, rows[-1] + margin + 1), slice(x0, cols[-1] + margin + 1)


def lab_of(image: np.ndarray) -> np.ndarray:
    """An RGB uint8 image in CIELAB, float32 ``(H, W, 3)`` (OpenCV's 8-bit scaling)."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)


def nearest_colour(samples: np.ndarray, centres: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """``(N,)`` distance of each colour sample to the nearest of ``centres``, per channel in
    units of ``spread``."""
    return np.min([np.linalg.norm((samples - c) / spread, axis=1) for c in centres], axis=0)


def blend_distance(samples: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """``(N,)`` distance of each colour sample ``(N, 3)`` to the nearest blend of two of
    ``colours`` ``(K, 3)`` (a point on the segment between them; a colour itself counts)."""
    out = np.full(len(samples), np.inf)
    for i, a in enumerate(colours):
        for b in colours[i:]:
            d = b - a
            t = np.clip((samples - a) @ d / max(float(d @ d), 1e-9), 0.0, 1.0)
            out = np.minimum(out, np.linalg.norm(samples - a - t[:, None] * d, axis=1))
    return out


def colour_clusters(samples: np.ndarray, k: int) -> np.ndarray:
    """``k`` k-means centres ``(k, 3)`` of colour samples ``(N, 3)`` float32, the same for
    the same samples: k-means++ draws from OpenCV's per-thread generator, whose state depends
    on every earlier draw in the process (a web worker's second job with the same photo cut
    its hands differently), so it is seeded first."""
    cv2.setRNGSeed(0)
    _, _, centres = cv2.kmeans(np.ascontiguousarray(samples, np.float32), k, None,
                               (cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0), 2, cv2.KMEANS_PP_CENTERS)
    return centres


# Colours of a region's source pixels that make up less than this share of them and lie
# further than OUTLIER_LAB (CIELAB) from every common colour, and from every blend of two, are
# not its cloth. The flecks on hbr_speaker12's sleeves were 3-5 % of them.
OUTLIER_SHARE = 0.05
OUTLIER_LAB = 30.0


def odd_colours(lab: np.ndarray, source: np.ndarray, *,
                share: float = OUTLIER_SHARE) -> np.ndarray:
    """The ``source`` pixels ``(H, W)`` bool of rare odd colours: a fleck of the hand, the
    chair under an elbow or a lit fold that the segmenter or the cut gave a sleeve. The
    source's colours (``lab``: the image in CIELAB, :func:`lab_of`) in 4 k-means clusters; a
    cluster with less than ``share`` of the pixels, further than :data:`OUTLIER_LAB` from
    each common one and from each blend of two common ones (a pattern's edges), is odd."""
    bad = np.zeros(source.shape, bool)
    n = int(source.sum())
    if n < 200:
        return bad
    lab = lab[source]
    centres = colour_clusters(lab[:: max(1, n // 20000)], 4)      # a sample is enough
    label = np.linalg.norm(lab[:, None] - centres[None], axis=2).argmin(1)
    shares = np.bincount(label, minlength=len(centres)) / n
    common = centres[shares >= share]
    if len(common) in (0, len(centres)):
        return bad
    odd = (shares < share) & (blend_distance(centres, common) > OUTLIER_LAB)
    bad[source] = odd[label]
    return bad


def _side_of(px: np.ndarray, py: np.ndarray, a: np.ndarray, b: np.ndarray,
             toward: np.ndarray) -> np.ndarray:
    """True for pixels on the same side of the line a→b as the point ``toward``."""
    d = b - a
    side = (px - a[0]) * d[1] - (py - a[1]) * d[0]
    ref = (toward[0] - a[0]) * d[1] - (toward[1] - a[1]) * d[0]
    return side * ref > 0


# A forearm's half-width (shoulder widths) on its side away from the body where it lies over
# the trunk (:func:`_arm_region`).
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


def _arm_region(person: np.ndarray, ref: np.ndarray, info: ArmInfo, side: str,
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
    d_up, t_up = _segment_distance(px, py, S, E)
    outward = ((px - S[0]) * (S[0] - neck[0]) + (py - S[1]) * (S[1] - neck[1])) > 0
    d_fore, t_fore = _segment_distance(px, py, E, W)
    inner_up = np.where(_side_of(px, py, S, E, core), 0.11 * sw, 0.3 * sw)
    # The forearm's side away from the body reaches out to the person's edge, but over the
    # trunk no edge parts a sleeve from the same jacket behind it: there it takes a sleeve's
    # width (avspeech_sample1's black sleeve raised across her black jacket carried a wedge of
    # the jacket along: most-moved box PSNR against the still photo +1.50 -> +2.03 dB, mean of
    # 12 clips +2.20 -> +2.27 dB; hbr_speaker7 +0.01 -> -0.02 dB).
    inner_fore = np.where(_side_of(px, py, E, W, core), 0.1 * sw,
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
        d_hand, _ = _segment_distance(px, py, W, H)
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


# Pixels of an arm this far (shoulder widths) from its bones, off the trunk and away from its
# wrist and shoulder (:data:`FOREIGN_JOINT`: a shirt's cuff, a watch, a collar), may be
# something else the segmenter took for the person (:func:`_foreign`).
FOREIGN_OFF_BONE = 0.08
FOREIGN_JOINT = 0.3
# ... when their colour is under this share of the arm's (less its hand and wrist): the white
# armchair was 6.7 % of hbr_speaker7's right sleeve.
FOREIGN_SHARE = 0.1
FOREIGN_THICK = 0.04      # ... in pieces at least this thick (shoulder widths)


def _foreign(lab: np.ndarray, region: np.ndarray, info: ArmInfo, hand: np.ndarray | None,
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
    d_up, _ = _segment_distance(px, py, S, E)
    sleeve = region.copy()
    # Not at the shoulder's cap either, where the body's own cloth and jewellery meet the arm
    # (ted_lia_driving2's beaded collar).
    near = (d_up < FOREIGN_OFF_BONE * sw) | (np.hypot(px - S[0], py - S[1]) < FOREIGN_JOINT * sw)
    if info.mode == "full":
        d_fore, _ = _segment_distance(px, py, E, W)
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


# The body's cloth an upper arm's region took beside it (:func:`_body_beside_arm`) is read in
# stretches of this many equal parts of the bone.
BESIDE_BINS = 8


def _body_beside_arm(lab: np.ndarray, region: np.ndarray, person: np.ndarray, info: ArmInfo,
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
    d_up, t_up = _segment_distance(px, py, S, E)
    inner = _side_of(px, py, S, E, core)
    arm = region & ~hand[box] if hand is not None else region
    upper = arm & inner & (d_up < 0.3 * sw) & (t_up >= 0) & (t_up <= 1)
    out = np.zeros_like(region)
    if info.mode == "full":
        d_fore, t_fore = _segment_distance(px, py, E, W)
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
    below = _side_of(px, py, E, W, (E + W) / 2 + np.array([0.0, 1.0]))
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
            near &= d_fore < _segment_distance(px, py, a, b)[0]
    # The cloth is read in the band's lower half: a forearm as thick as the band fills its
    # upper half with its own colour whatever lies below it.
    low = near & (d_fore > 0.5 * SLEEVE_DRAPE * sw)
    if low.sum() < 12:
        return None
    colour = np.median(lab[along], axis=0)
    if np.linalg.norm(np.median(lab[low], axis=0) - colour) >= SLEEVE_COLOUR:
        return None
    return near


def _split_arm(region: np.ndarray, info: ArmInfo, hand: np.ndarray | None, sw: float,
               trunk: np.ndarray | None = None, lab: np.ndarray | None = None,
               skin: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """An arm's pixels cut into upper arm, forearm and hand: the hand's own pixels (``hand``,
    cut along its landmarks or skin; else the pixels past the wrist), then the nearer of the
    two bones (a forearm folded back along its upper arm keeps its whole width,
    :data:`FORE_HALF_WIDTH`). ``trunk``: where the body lies behind the arm (:func:`_trunk`);
    ``lab`` and ``skin``: the photo in CIELAB (:func:`lab_of`) and the face's skin colour
    (:func:`_face_skin`), which keep cloth out of the hand. Pieces of a label cut off from its
    bone join the label they touch most, or touching none the nearest bone's
    (:func:`_join_strays`), so no pixel of the arm is lost and no piece bridges two bones that
    do not meet."""
    h, w = region.shape
    empty = np.zeros_like(region)
    if info.mode != "full":
        return {"upper": region.copy(), "fore": empty, "hand": empty}
    py, px = np.mgrid[0:h, 0:w].astype(np.float32)
    S, E, W, H = info.joints
    d_up, _ = _segment_distance(px, py, S, E)
    d_fore, t_fore = _segment_distance(px, py, E, W)
    d_palm, t_palm = _segment_distance(px, py, W, H)
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
            # sleeve on interview_1wrQ6Msp7wM).
            near[near] = _like_hand(lab, near, region & ~hand & (d_hand < 0.4 * sw), skin)
        hand = hand | near
    # The elbow itself stays with the upper arm (the forearm piece, grown back into it, covers
    # the joint): cut with it, a bent arm's elbow swings away as a flap when the arm unbends.
    fore = region & ~hand & (d_fore < d_up) & (t_fore > 0.12)
    if _folded(S, E, W):
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
# back along its upper arm (_split_arm).
FORE_HALF_WIDTH = 0.12
FOLDED_DEG = 50.0


def _folded(S: np.ndarray, E: np.ndarray, W: np.ndarray) -> bool:
    """Whether the elbow is bent to under :data:`FOLDED_DEG` (upper arm against forearm)."""
    u, f = S - E, W - E
    cos = float(u @ f) / max(float(np.linalg.norm(u) * np.linalg.norm(f)), 1e-9)
    return cos > np.cos(np.radians(FOLDED_DEG))


# How far (in robust spreads, CIELAB) from the face's skin colour a pixel may be and still
# count as a hand's (:func:`_like_hand`).
HAND_COLOUR = 2.5


def _like_hand(lab: np.ndarray, near: np.ndarray, around: np.ndarray,
               skin: tuple[np.ndarray, np.ndarray], *, without_cloth: bool = True) -> np.ndarray:
    """``(N,)`` bool for the ``near`` pixels: skin-coloured (within :data:`HAND_COLOUR` robust
    spreads of ``skin``, the face's: a hand's own cut holds the cloth between its fingers too)
    and nearer skin than any cloth colour ``around`` (k-means clusters of the pixels there
    that are not skin-coloured). With fewer than 12 such pixels the cloth is unknown: the
    skin test alone decides, or, ``without_cloth=False``, no pixel is a hand's."""
    mu, spread = skin
    d_skin = np.linalg.norm((lab[near] - mu) / spread, axis=1)
    keep = d_skin <= HAND_COLOUR
    cloth = lab[around]
    cloth = cloth[np.linalg.norm((cloth - mu) / spread, axis=1) > 1.5]
    if len(cloth) >= 12:                    # a sample of a large region is enough
        centres = colour_clusters(cloth[:: max(1, len(cloth) // 20000)], 4)
        keep &= d_skin < nearest_colour(lab[near], centres, spread)
    elif not without_cloth:
        keep[:] = False
    return keep


# Skin shown on the torso is left out of its hidden fill's source when it is at most this share
# of the torso's visible pixels (a neckline, not a shirt of skin's colour).
BARE_SHARE = 0.25


def bare_skin(lab: np.ndarray, visible: np.ndarray, skin: tuple | None) -> np.ndarray | None:
    """The skin-coloured pixels among a torso's ``visible`` ones (:func:`_like_hand`: the
    face's colour, nearer it than the cloth's): a neckline, bare arms. The hidden fill under
    an arm mirrors the torso across the hole's edge from as far as the hole is deep, and
    avspeech_sample1's neckline then showed as a skin blob on her top where her hand had lain.
    None without a face, or when skin is more than :data:`BARE_SHARE` of them (a shirt of
    skin's colour is cloth to copy)."""
    if skin is None or visible.sum() < 12:
        return None
    out = np.zeros(visible.shape, bool)
    out[visible] = _like_hand(lab, visible, visible, skin)
    if out.any():
        # Not the blend of two of the cloth's colours: the pinkish edge of a red tie on a white
        # shirt (avspeech_sample2: left out, his tie ran on under his hands without its edges,
        # and his hands re-detected fell 0.68 -> 0.63 in self-reenactment).
        mu, spread = skin
        cloth = lab[visible & ~out]
        cloth = cloth[np.linalg.norm((cloth - mu) / spread, axis=1) > 1.5]
        if len(cloth) >= 12:
            centres = colour_clusters(cloth[:: max(1, len(cloth) // 20000)], 4) / spread
            px = lab[out] / spread
            out[out] = blend_distance(px, centres) > np.linalg.norm(px - mu / spread, axis=1)
    return out if out.sum() <= BARE_SHARE * visible.sum() else None


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
    skin = None if lab is None else _face_skin(lab, ref, valid)
    parts = Parts(torso=person.copy(), head=None, shoulder_line=(mid, normal), shoulder_width=sw,
                  skin=skin)
    taken = np.zeros_like(person)
    trunk = _trunk(ref, mid, normal, sw, (h, w))
    core = mid + 1.2 * sw * normal                  # a point inside the trunk, mid-chest
    infos = {side: _arm_info(ref, valid, side) for side in ("left", "right")}
    body = None if lab is None or not (person & trunk).any() else np.median(lab[person & trunk], 0)
    for side, other in (("left", "right"), ("right", "left")):
        info = infos[side]
        if info is None:
            continue
        hand = (hands or {}).get(side) if info.mode == "full" else None
        rival = None if infos[other] is None else infos[other].joints[:3]
        region = _arm_region(person, ref, info, side, mid, sw, trunk, core, hand, lab,
                             rival) & ~taken
        if lab is not None:
            region &= ~_foreign(lab, region, info, hand, sw, trunk)
            if body is not None:
                region &= ~_body_beside_arm(lab, region, person, info, hand, sw, core, body)
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
    _to_arms(rest & ~touching(rest, trunk), parts, taken, sw, by_hand=True)
    if lab is not None:
        _held(lab, person & ~taken, parts, ref, valid, taken, sw)
    sleeves: set[str] = set()
    past: dict[str, np.ndarray | None] = {}
    for side, region in parts.arms.items():
        parts.segments[side] = _split_arm(region, parts.arm_info[side], parts.hands.get(side), sw,
                                          trunk, lab, skin)
        upper = parts.segments[side]["upper"]
        if lab is not None and _same_cloth(lab, upper, person & ~taken & grown(upper, 0.3 * sw)):
            sleeves.add(side)             # the upper arm in the body's own cloth
        hidden_upper = _hidden_upper(parts.segments[side], parts.arm_info[side], sw,
                                     sleeve=side in sleeves)
        if hidden_upper is not None:
            parts.hidden_upper[side], past[side] = hidden_upper
    parts.hidden_hand = _hidden_hand(parts.segments, ref, valid, sw)
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
    # most-moved box +0.10 dB). Only a sleeve of the body's own cloth: a bare arm beside a
    # dress (ted_lia_driving2) left a dress-coloured ghost of itself when it swung out.
    side = np.zeros_like(person)
    for s_ in sleeves:
        seg = parts.segments[s_]
        S, E = parts.arm_info[s_].joints[:2]
        d, t = _segment_distance(px, py, S, 2 * E - S)     # on past the elbow: the sleeve's end
        band = _side_of(px, py, S, E, core) | (d < SIDE_PAST_BONE * sw)
        # ... the forearm's and hand's beside the upper arm only, up to the sleeve's end round
        # the elbow: a forearm hanging on down from it lies past the sleeve, over the backdrop
        # as often as over the body.
        end = 0.5 + SIDE_PAST_BONE * sw / (2.0 * max(float(np.linalg.norm(E - S)), 1.0))
        side |= (seg["upper"] | ((seg["fore"] | seg["hand"]) & (t <= end))) & band
    # From the armpit down: above it the arm's inner side is the shoulder's cap, and a body
    # run on there stood as a pale block over the backdrop when the shoulders moved
    # (avspeech_sample2's white shirt).
    side &= below >= SIDE_BELOW * sw
    # ... and near the body: an arm held out, backdrop between it and the body, is not over it.
    side &= grown(torso, SIDE_NEAR * sw)
    side &= touching(side | torso, torso)
    hidden = taken & (trunk | closed | side)
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


# A hand lies under the other (:func:`_hidden_hand`) where the other's pixels inside its own
# outline cover at least this share of a square shoulder width (about a finger's area).
HIDDEN_HAND_MIN = 0.01
# ... and only when its landmarks' wrist lies within this many shoulder widths of its arm's: the
# detector may put a second hand on the first (avspeech_sample1: her left hand's landmarks on
# her right hand, 0.33 from her left wrist, at confidence 0.51), whose layer then carried a
# blurred copy of the right hand away under the left.
HAND_WRIST_GAP = 0.15


def _hidden_hand(segments: dict[str, dict[str, np.ndarray]], ref: np.ndarray,
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


def _held(lab: np.ndarray, free: np.ndarray, parts: Parts, ref: np.ndarray, valid: np.ndarray,
          taken: np.ndarray, sw: float) -> None:
    """Give each hand what it holds: the pieces of the body (``free``, less the head) that
    touch the hand (its own pixels, or a disc at the wrist when the detector missed it), lie
    wholly within :data:`HELD_REACH` of it and off the body's outline, between squares
    :data:`HELD_MIN` and :data:`HELD_AREA` on a side and :data:`HELD_THICK` thick, in none of
    the colours of the body around the hand (3 clusters, from :data:`HELD_REACH` to
    :data:`HELD_AROUND`) nor the hand's, nor a blend of two of them (further than
    :data:`OUTLIER_LAB`).
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
        grab = touching(np.isin(labels, ok), grown(hand, 2))
        if not grab.any():
            continue
        parts.arms[side] = parts.arms[side] | grab
        if side in parts.hands:
            parts.hands[side] = parts.hands[side] | grab
        taken |= grab
        body &= ~grab


# How far past the upper arm's bone (shoulder widths) the body's side runs on under an arm
# hanging against it (split_parts): the demo's arm swung out 32 px at the elbow (0.17 sw), more
# than the 26 px of sleeve between its bone and the suit.
SIDE_PAST_BONE = 0.12
SIDE_BELOW = 0.35         # ... from this far below the shoulder line (shoulder widths)
SIDE_NEAR = 0.3           # ... and within this of the visible body (the demo's: 0.25)


# The upper arm's sleeve half-width (shoulder widths): the visible sleeve's own (its 95th
# percentile distance from the bone), held within these bounds.
UPPER_HALF_WIDTH = (0.14, 0.22)


# Above this radius (px) a mask is grown by its distance transform: a dilation's cost grows
# with the disc, and the hands' surroundings (0.6 shoulder widths, 120 px on a 512 px photo)
# took 0.5 of the 2.2 s set-up of pats_oliver_slice18.png (under the profiler).
GROWN_BY_DISTANCE = 12


def grown(mask: np.ndarray, radius: float) -> np.ndarray:
    """``mask`` dilated by a disc of ``radius`` px (at least 1)."""
    r = max(1, int(round(radius)))
    if r > GROWN_BY_DISTANCE:
        if not mask.any():
            return np.zeros(mask.shape, bool)
        return cv2.distanceTransform((~mask.astype(bool)).astype(np.uint8), cv2.DIST_L2,
                                     cv2.DIST_MASK_PRECISE) <= r
    return cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) > 0


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


def _same_cloth(lab: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the pixels ``a`` and ``b`` are of one cloth: their median colours within
    :data:`SLEEVE_COLOUR` (CIELAB); False when either has fewer than 20 pixels."""
    if a.sum() < 20 or b.sum() < 20:
        return False
    return float(np.linalg.norm(np.median(lab[a], 0) - np.median(lab[b], 0))) < SLEEVE_COLOUR


def _hidden_upper(seg: dict[str, np.ndarray], info: ArmInfo, sw: float, *,
                  sleeve: bool = True) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The upper arm's pixels its forearm or hand covers in the photo: the pixels of those
    pieces inside the upper arm's sleeve (within its half-width of the shoulder-elbow bone,
    rounded at the shoulder, short of the elbow). When the forearm swings away they show the
    sleeve, not the backdrop and a torn outline. A forearm folded back along the upper arm
    hides the sleeve's outer part too, so the little left seen does not measure its width: a
    ``sleeve`` (of the body's own cloth; a bare arm is thinner) is taken at the widest
    half-width (hbr_speaker12's arms, hands up by his shoulders in the photo, came down as thin
    sticks beside a torn jacket). A bare arm is measured on each side of its bone
    (:func:`_half_widths`).

    Returns None when there are none, else the pixels and, of a folded sleeve, those of them
    past its edge on a side where it is seen all along the bone (or None): there lies the body,
    and :func:`split_parts` leaves the ones the torso fills to the torso alone.
    pats_oliver_slice18.png's sleeve is seen 0.10 sw inside its bone, his fist folded up
    against it: at 0.22 sw, the fist's pixels on his jacket's front were filled as sleeve and
    carried off with the upper arm, a square dark flap over his chest. (Cut at the seen edge
    wherever the torso does not fill them, interview_1wrQ6Msp7wM's forearm, folded up at her
    body's side, left a wedge of backdrop between forearm and sleeve; a sleeve not folded,
    measured on each side too, lost avspeech_sample2's fill by the elbow, -0.05 dB.)"""
    if info.mode != "full":
        return None
    h, w = seg["upper"].shape
    py, px = np.mgrid[0:h, 0:w].astype(np.float32)
    S, E = info.joints[:2]
    d, t = _segment_distance(px, py, S, E)
    seen = d[seg["upper"] & (t > 0.2) & (t < 0.9)]
    if seen.size < 20:
        return None
    lo, hi = UPPER_HALF_WIDTH
    folded = sleeve and _folded(*info.joints[:3])
    half = hi * sw if folded else float(np.clip(np.percentile(seen, 95), lo * sw, hi * sw))
    if not sleeve:
        half = _half_widths(seg, px, py, d, t, half, S, E, sw, bare=True)
    # Round at the shoulder (d is the distance to the shoulder point there): a hand raised to
    # the shoulder hid its top, and cut at the joint, the hand's outline notched it.
    over = (seg["fore"] | seg["hand"]) & (d < half) & (t < 0.95)
    if over.sum() < HIDDEN_UPPER_MIN:
        return None
    past = None
    if folded:
        past = over & (d >= _half_widths(seg, px, py, d, t, half, S, E, sw, bare=False))
    return over, (past if past is not None and past.any() else None)


# Fewer pixels of an upper arm hidden by its forearm than this are none (_hidden_upper).
HIDDEN_UPPER_MIN = 20


# The least an upper arm is hidden past its bone on a side it is seen on, and how far a bare
# arm is on a side it is not seen on that its forearm does not cover (_half_widths), shoulder
# widths: the outline's own blur.
BARE_EDGE = 0.03


def _half_widths(seg: dict[str, np.ndarray], px: np.ndarray, py: np.ndarray,
                 d: np.ndarray, t: np.ndarray, half: float, S: np.ndarray, E: np.ndarray,
                 sw: float, *, bare: bool) -> np.ndarray:
    """``(H, W)``: how far from the bone S-E (``d``, ``t`` along it) an upper arm is hidden,
    on each side of it: no further than it is seen there where it is seen all along the bone
    (:func:`_seen_along`), else ``half``; a ``bare`` arm only :data:`BARE_EDGE` on a side it
    is not seen on that its forearm and hand do not cover either (the bone on or past the
    arm's edge).

    The bone need not run down the arm's middle (MediaPipe's shoulder point sits at the joint,
    inside the arm's inner edge), and past the seen edge lies the body, not the arm.
    un_speech_female's right upper arm shows 0.07 sw of skin inside its bone and 0.18
    outside; hidden 0.18 out on both sides, a wedge of fill stood out from her arm's inner
    edge by the elbow when her forearm came down."""
    out = np.full(d.shape, half, np.float32)
    one = _side_of(px, py, S, E, S + np.array([E[1] - S[1], S[0] - E[0]]))
    cover = seg["fore"] | seg["hand"]
    for side in (one, ~one):
        # Read short of the elbow, where the forearm's root lies beside the upper arm.
        along = side & (t > 0.2) & (t < 0.8)
        part = seg["upper"] & along
        if _seen_along(t[part], 0.2, 0.8):
            out[side] = min(half, max(float(np.percentile(d[part], 95)), BARE_EDGE * sw))
        elif bare:
            band = along & (d < half)
            if cover[band].sum() < 0.5 * band.sum():
                out[side] = min(half, BARE_EDGE * sw)
    return out


def _seen_along(t: np.ndarray, a: float, b: float, bins: int = 14, share: float = 0.8) -> bool:
    """Whether positions ``t`` along a bone cover at least ``share`` of ``bins`` equal steps
    between ``a`` and ``b``."""
    counts, _ = np.histogram(t, bins=bins, range=(a, b))
    return bool((counts > 0).mean() >= share)


def touching(mask: np.ndarray, near: np.ndarray) -> np.ndarray:
    """The 8-connected components of ``mask`` that overlap ``near``."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    ids = np.unique(labels[near & mask])
    return np.isin(labels, ids[ids > 0])


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


def _face_skin(lab: np.ndarray, ref: np.ndarray, valid: np.ndarray):
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
    face = _face_skin(lab, ref, valid)
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
            _, t = _segment_distance(px, py, ref[el, :2].astype(np.float64),
                                     ref[wr, :2].astype(np.float64))
            near &= t > 0.85
        for other, d_other in dist.items():
            if other != side:
                near &= d <= d_other
        keep = near.copy()        # the clothes around the hand: 0.45-0.8 sw from the wrist
        keep[near] = _like_hand(lab, near, free & (d >= 0.45 * sw) & (d < 0.8 * sw), face,
                                without_cloth=False) & ~_greyer_than_skin(lab[near], face)
        keep = cv2.morphologyEx(keep.astype(np.uint8), cv2.MORPH_OPEN,
                                np.ones((3, 3), np.uint8)) > 0
        hand = touching(keep, d < 0.1 * sw)
        if hand.sum() >= 20:
            out[side] = hand
    return out
