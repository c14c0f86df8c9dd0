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
    shoulder_line: tuple[np.ndarray, np.ndarray] | None = None  # point, unit normal (down)
    shoulder_width: float = 0.0


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


def _arm_region(person: np.ndarray, ref: np.ndarray, info: ArmInfo, side: str,
                neck: np.ndarray, sw: float) -> np.ndarray:
    """Pixels of one arm: capsules around its bones (radii from the shoulder width) and the
    hull of its hand points, inside the person mask, connected to the bones."""
    h, w = person.shape
    py, px = np.mgrid[0:h, 0:w].astype(np.float32)
    S, E, W, H = info.joints
    d_up, t_up = _segment_distance(px, py, S, E)
    outward = ((px - S[0]) * (S[0] - neck[0]) + (py - S[1]) * (S[1] - neck[1])) > 0
    region = (d_up < 0.2 * sw) & ((t_up >= 0) | outward)
    d_fore, _ = _segment_distance(px, py, E, W)
    region |= d_fore < 0.16 * sw
    if info.has_hand:
        start = B.ARMS[side]["hand_start"]
        pts = ref[start:start + 21, :2].astype(np.float32)
        hull = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(hull, cv2.convexHull(pts).astype(np.int32), 1)
        k = max(3, int(0.12 * sw) | 1)
        region |= cv2.dilate(hull, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    elif info.mode == "full":
        d_hand, _ = _segment_distance(px, py, W, H)
        region |= d_hand < 0.12 * sw
    region &= person
    # Keep the pieces that touch the arm's own bones (not a stray bit of torso).
    count, labels = cv2.connectedComponents(region.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, bool)
    for p in np.linspace(S, W, 12):
        x, y = int(round(p[0])), int(round(p[1]))
        if 0 <= x < w and 0 <= y < h and labels[y, x] > 0:
            keep[labels[y, x]] = True
    return keep[labels]


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
    else:
        depth = 2.0 * sw
        lh, rh = ls + depth * normal, rs + depth * normal
    quad = np.array([ls + 0.12 * sw * out_l, rs - 0.12 * sw * out_l,
                     rh - 0.25 * sw * out_l, lh + 0.25 * sw * out_l])
    # Run on past the hips to the bottom of the photo (a desk or the frame hides the rest).
    far = quad[2:] + 4.0 * sw * normal
    poly = np.vstack([quad[:2], far]).astype(np.float32)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, np.round(poly).astype(np.int32), 1)
    return mask > 0


def split_parts(person: np.ndarray, ref: np.ndarray, valid: np.ndarray) -> Parts:
    """Cut the person mask ``(H, W)`` bool into layers using the reference keypoints."""
    h, w = person.shape
    geo = shoulder_geometry(ref, valid, (w, h))
    face_ok = valid[list(B.HEAD_RIGID)].sum() >= 10
    if geo is None:
        # No shoulders: one head layer over everything when a face is seen, else a torso.
        if face_ok:
            return Parts(torso=np.zeros_like(person), head=person.copy())
        return Parts(torso=person.copy(), head=None)
    mid, normal, sw = geo
    parts = Parts(torso=person.copy(), head=None, shoulder_line=(mid, normal), shoulder_width=sw)
    taken = np.zeros_like(person)
    for side in ("left", "right"):
        info = _arm_info(ref, valid, side)
        if info is None:
            continue
        region = _arm_region(person, ref, info, side, mid, sw) & ~taken
        if region.sum() < 50:
            continue
        parts.arms[side], parts.arm_info[side] = region, info
        taken |= region
    py, px = np.mgrid[0:h, 0:w].astype(np.float32)
    below = (px - mid[0]) * normal[0] + (py - mid[1]) * normal[1]   # signed, + below the line
    if face_ok:
        parts.head = person & (below < 0) & ~taken
    # Torso: the rest, plus the part of the arms that lies over the trunk (hidden texture).
    torso = person & ~taken & (below >= -3 if face_ok else True)
    parts.hidden = taken & _trunk(ref, mid, normal, sw, (h, w)) & (below >= 0)
    parts.torso = torso | parts.hidden
    return parts


def hand_regions(ref: np.ndarray, valid: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Pixels ``(H, W)`` bool covered by the detected hands: the hull of each hand's points
    grown by about half a finger's width. Hands are thin and often missed by the person
    segmenter (fingers against a desk); the keypoint detector saw them, so they are added."""
    h, w = shape
    out = np.zeros((h, w), np.uint8)
    for side in ("left", "right"):
        start = B.ARMS[side]["hand_start"]
        if not B.hand_valid(valid, start):
            continue
        pts = ref[start:start + 21]
        pts = pts[pts[:, 2] >= B.MIN_CONFIDENCE, :2].astype(np.float32)
        palm = np.linalg.norm(B.hand_center(ref, start) - ref[start, :2])
        one = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(one, cv2.convexHull(pts).astype(np.int32), 1)
        k = max(3, int(0.35 * palm) | 1)
        out |= cv2.dilate(one, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return out > 0
