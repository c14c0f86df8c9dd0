"""Fit any motion to one photo before it is rendered (RENDERING.md, "Retargeting").

A motion may come from a generator made for this photo, from a video of another person, or
from another tool with its tracker's glitches. Stage 2 only ever sees the result of
:func:`retarget`, a function of the whole sequence (so every frame of the render is a function
of the motion alone, whatever the number of render workers):

1. **Clean** (:mod:`gesticulate.skeleton.clean`): points below confidence 0.3 are missing; a
   point that leaves its neighbours for 1–3 frames (a Hampel filter over 7 frames), a limb
   longer than it ever is (a wrist flung across the frame), a limb turned over and back within
   0.1 s, a wrist snapped onto its elbow while its hand is lost, and a hand far from the arm's
   wrist are dropped.
2. **One similarity** from the motion to the photo: scale by shoulder width (face width when
   either has no shoulders), position by the neck at the motion's first seen frame. The
   motion's own travel (a speaker walking) is kept, bounded so the head and shoulders stay in
   the frame; the hips follow only the part of it the neck shares (a walk, not a lean).
3. **Bone directions from the motion, bone lengths from the photo**: the shoulder line, upper
   arms and forearms are rebuilt joint by joint from their angles; a bone may look shorter than
   its full length where the motion's does (foreshortening, down to 70 %), never longer; the
   shoulder line narrows as the motion's narrows from its first frame (a turn towards profile,
   down to 60 %, when the motion starts at the photo's shoulder tilt), never widens. Hands
   and face move as groups relative to the wrist and the nose, scaled to the photo's. The
   head is the exception: how it sits over the shoulders (a lean, a camera above or beside
   the speaker) is the person's and the camera's, so another person's head is drawn at the
   photo's carriage and its face at the photo's roll, tilting and rolling as theirs do about
   their own medians.
4. **The photo's own pose**: a motion that starts from it (a clip's own skeleton, tracked,
   against the photo's, detected: a few pixels apart) is anchored to it, so its first frame
   is the photo and a still limb is drawn exactly where the photo has it (a soft dead zone
   takes the tracker's jitter), while its head travels from the photo's nose as the motion's
   does; any other motion eases in from the photo's pose over 0.5 s.
5. **Gaps** (:mod:`gesticulate.skeleton.tracks`): up to 0.3 s are interpolated; longer ones
   ease back to the photo's pose over 0.5 s and ease out again when the point returns.
6. **Smoothing**: zero-phase Savitzky–Golay, over 0.6 s where a limb is at rest and 0.15 s in
   a stroke (adapted to its speed), over 0.4 s on the trunk (0.2 s for a trunk whose travel
   was read from the chest's texture, :mod:`gesticulate.skeleton.trunk`, which also has no
   dead zone); never on the mouth or the eyelids.

Points filled by 4–5 get confidence :data:`FILLED` (used by the renderer, >= 0.3, but below the
0.5 the metrics count as "seen").
"""

from __future__ import annotations

import numpy as np

from gesticulate.skeleton import layout as L
from gesticulate.skeleton.clean import (ARMS, MISSING, all_seen, clean, face_width, moments,
                                        scale_of)
from gesticulate.skeleton.tracks import (anchor, bridged, ease_in, fill, smoothed, steady,
                                         still_near, unwrap_seen)

FILLED = 0.45            # confidence of interpolated or eased points
SMOOTH_BODY_S = 0.4      # smoothing of the trunk: it moves slowly, and its keypoints jitter
SMOOTH_HEAD_S = 0.2      # smoothing of the head's own travel (its face points barely jitter)
SMOOTH_TRACKED_S = 0.2   # ... of a trunk travel read from the chest's texture (no jitter)
FORESHORTEN = 0.7        # a bone may look this much shorter than its full length
# A motion anchored to the photo: its bone lengths over the photo's. Down to 0.6,
# hbr_speaker12's forearms, raised in the photo and foreshortened to 0.4 of that along his
# thighs, were drawn half as long again, his hands 20 px below the real ones (most-moved
# quarter over still: +0.83 dB at 0.6, +1.00 at 0.4).
LENGTH_RANGE = (0.4, 1.4)
ANCHOR_ANGLE = 0.35      # rad: a motion's first pose this close to the photo's is the photo's
# The trunk's dead zones about the photo's pose: neck travel (shoulder widths) and shoulder-line
# tilt (radians). The shoulder keypoints lift and tilt with the arms (a shrug as a hand rises)
# by a few percent of the shoulder width while the jacket below them stays put, so a trunk that
# followed them slid the whole torso's texture. Self-reenactment, most-moved frames, against the
# still photo, from 0.015 / 0.015: interview_1wrQ6Msp7wM -0.78 -> +0.07 dB (SSIM -0.057 ->
# +0.003), avspeech_sample2 -0.56 -> -0.04 dB, hbr_speaker7 -0.05 -> +0.43 dB; hbr_speaker9,
# whose trunk does sway a little, +1.90 -> +1.66 dB.
TRUNK_STILL = 0.03
TILT_STILL = 0.045
# The shoulder line of a motion that starts from the photo narrows with the motion's (a turn
# towards profile) down to this share of the photo's width, outside a dead zone of this width.
TURN_RANGE = 0.6
TURN_STILL = 0.06
HEAD_GROUP = np.array([L.LEFT_EYE, L.RIGHT_EYE, L.LEFT_EAR, L.RIGHT_EAR]
                      + list(range(L.FACE_START, L.FACE_START + 68)))
HEAD_POINTS = (L.NOSE, L.LEFT_EYE, L.RIGHT_EYE, L.LEFT_EAR, L.RIGHT_EAR)   # kept in the frame


def _scale_ratio(ref: np.ndarray, kp: np.ndarray) -> float:
    """Photo size over motion size, measured the same way on both: shoulder widths when both
    show shoulders, face widths otherwise."""
    shoulders = [L.LEFT_SHOULDER, L.RIGHT_SHOULDER]
    if all_seen(ref[None], shoulders)[0] and all_seen(kp, shoulders).sum() >= max(1, 0.2 * len(kp)):
        return scale_of(ref[None]) / scale_of(kp)
    return face_width(ref[None]) / face_width(kp)


def _robust_max(x: np.ndarray) -> float:
    return float(np.percentile(x, 95)) if len(x) else float("nan")


def _angle(v: np.ndarray) -> np.ndarray:
    return np.arctan2(v[..., 1], v[..., 0])


def _unit(a: np.ndarray) -> np.ndarray:
    return np.stack([np.cos(a), np.sin(a)], -1)


def _rotate(p: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Rotate ``(T, K, 2)`` points by angles ``(T,)``."""
    c, s = np.cos(a)[:, None], np.sin(a)[:, None]
    return np.stack([c * p[..., 0] - s * p[..., 1], s * p[..., 0] + c * p[..., 1]], -1)


class _Track:
    """A retargeted quantity over time: values, where defined, and where truly seen."""

    def __init__(self, values, seen, defined=None, motion=None, anchored=False):
        self.values = values
        self.seen = seen
        self.defined = seen.copy() if defined is None else defined
        self.motion = values if motion is None else motion   # before fitting to the photo
        self.anchored = anchored          # the motion starts from the photo's pose


def retarget(keypoints: np.ndarray, *, fps: float, reference: np.ndarray,
             size: tuple[int, int], smooth: bool = True,
             trunk_tracked: bool = False) -> np.ndarray:
    """Fit a motion to a photo.

    Parameters
    ----------
    keypoints : np.ndarray
        ``(T, 133, 3)`` the motion, in pixels of its own frame (any person, any tool).
    fps : float
        Frames per second of the motion.
    reference : np.ndarray
        ``(133, 3)`` the photo's skeleton in its pixels.
    size : tuple
        ``(w, h)`` of the photo in pixels.
    smooth : bool
        Zero-phase smoothing of joint angles, hands and root (on by default).
    trunk_tracked : bool
        The motion's trunk travel was read from the chest's texture
        (:mod:`gesticulate.skeleton.trunk`): it is kept as it is, small moves too, where a
        detector's shoulders get a dead zone (:data:`TRUNK_STILL`) and slower smoothing.

    Returns
    -------
    np.ndarray
        ``(T, 133, 3)`` float32 in the photo's pixels, the photo's bone lengths.
    """
    kp = clean(keypoints, fps=fps)
    ref = np.nan_to_num(np.asarray(reference, np.float64))
    ref[:, 2] = np.where(ref[:, 2] >= MISSING, ref[:, 2], 0.0)
    t = len(kp)
    out = np.zeros((t, L.NUM_KEYPOINTS, 3))
    if t == 0:
        return out.astype(np.float32)
    shoulders = [L.LEFT_SHOULDER, L.RIGHT_SHOULDER]
    body_anchor = (all_seen(ref[None], shoulders)[0]
                   and all_seen(kp, shoulders).sum() >= max(1, 0.2 * t))
    face_anchor = all_seen(ref[None], [L.NOSE])[0] and all_seen(kp, [L.NOSE]).any()
    if not body_anchor and not face_anchor:
        return kp.astype(np.float32)     # nothing to fit to: the motion as it is, cleaned
    s = _scale_ratio(ref, kp)
    if not np.isfinite(s) or s <= 0:
        return kp.astype(np.float32)

    root_m, root_ok, root_p, root = _root(kp, ref, s, size, body=body_anchor, fps=fps,
                                          smooth=smooth, tracked=trunk_tracked)
    # Every point not rebuilt below moves rigidly with the root, scaled.
    out[..., :2] = root[:, None] + s * (kp[..., :2] - root_m[:, None])
    out[..., 2] = kp[..., 2]
    if not body_anchor:
        _place_group(out, kp, ref, HEAD_GROUP, L.NOSE, root, s, fps=fps)
        out[:, L.NOSE, :2] = root
        out[:, L.NOSE, 2] = np.where(root_ok, kp[:, L.NOSE, 2], FILLED)
        return out.astype(np.float32)
    # The shoulders as one rigid line through the neck, tilted as the motion's (two separately
    # jittering shoulders would make the whole trunk wobble and breathe).
    line = _line_angle(kp, ref, L.LEFT_SHOULDER, L.RIGHT_SHOULDER, fps=fps, smooth=smooth)
    half = 0.5 * _shoulder_width(kp, ref, line.anchored, fps=fps, smooth=smooth)
    for sign, sh in ((1, L.LEFT_SHOULDER), (-1, L.RIGHT_SHOULDER)):
        _put(out, sh, root + sign * half[:, None] * _unit(line.values), line)
    _place_hips(out, kp, ref, root, root_p, s, fps=fps)
    for side in ARMS:
        _place_arm(out, kp, ref, side, s, fps=fps, smooth=smooth)
    _place_head(out, kp, ref, root, root_m, root_p, s, size, fps=fps, smooth=smooth)
    return out.astype(np.float32)


def _root(kp: np.ndarray, ref: np.ndarray, s: float, size: tuple[int, int], *, body: bool,
          fps: float, smooth: bool, tracked: bool):
    """The root (the neck, or the nose without shoulders) in the motion and on the photo:
    ``(root_m (T, 2), seen (T,), root_p (2,), root (T, 2))``, the motion's travel kept,
    smoothed like the trunk, still near the start and inside the frame."""
    if body:
        shoulders = [L.LEFT_SHOULDER, L.RIGHT_SHOULDER]
        root_m, root_ok, root_p = L.neck(kp), all_seen(kp, shoulders), L.neck(ref)
    else:
        root_m, root_ok, root_p = kp[:, L.NOSE, :2], all_seen(kp, [L.NOSE]), ref[L.NOSE, :2]
    root_m = bridged(root_m, root_ok)           # the body is somewhere in every frame
    travel = s * (root_m - root_m[int(np.argmax(root_ok))])
    tracked = tracked and body
    if smooth:
        travel = smoothed(travel, fps=fps, seconds=SMOOTH_TRACKED_S if tracked else SMOOTH_BODY_S)
    if not tracked:
        travel = still_near(travel, np.zeros(2), width=TRUNK_STILL * scale_of(ref[None]))
    travel = _bounded_travel(travel, ref, size)
    return root_m, root_ok, root_p, root_p + travel


def _place_arm(out: np.ndarray, kp: np.ndarray, ref: np.ndarray, side: str, s: float, *,
               fps: float, smooth: bool) -> None:
    """Elbow and wrist from the shoulder by the bones' angles and lengths, then the hand."""
    sh, el, wr, _ = ARMS[side]
    parent, fore = out[:, sh, :2], None
    for a, b in ((sh, el), (el, wr)):
        rest = _angle(ref[b, :2] - ref[a, :2]) if ref[a, 2] and ref[b, 2] else None
        ang = _bone_angle(kp, None, a, b, fps=fps, smooth=smooth, rest=rest)
        length = _lengths(kp, ref, a, b, s, ang.anchored, fps=fps, smooth=smooth)
        _put(out, b, parent + length[:, None] * _unit(ang.values), ang)
        parent, fore = out[:, b, :2], ang
    _place_hand(out, kp, ref, side, s, fore, fps=fps, smooth=smooth)


def _place_head(out: np.ndarray, kp: np.ndarray, ref: np.ndarray, root: np.ndarray,
                root_m: np.ndarray, root_p: np.ndarray, s: float, size: tuple[int, int], *,
                fps: float, smooth: bool) -> None:
    """The nose from the neck (the neck's length, the photo's at the start; the photo's
    carriage, tilted as the motion's head tilts about its own median), or, for a motion that
    starts from the photo's pose, the photo's nose carried by the motion's own travel; then
    the face as a group about it, at the photo's roll for another person's
    (:func:`_roll_offset`)."""
    neck_len = np.linalg.norm(ref[L.NOSE, :2] - root_p) if ref[L.NOSE, 2] else None
    rest = float(_angle(ref[L.NOSE, :2] - root_p)) if neck_len else None
    head = _bone_angle(kp, root_m, L.NOSE, None, fps=fps, smooth=smooth, rest=rest)
    if rest is not None and not head.anchored and head.seen.any():
        # Another person's head is drawn at the photo's carriage, turned as theirs turns
        # about their own: how a head sits over the shoulders (a lean, a camera above or
        # beside them) is the person's and the camera's, not a gesture. Drawn at theirs,
        # hbr_speaker12's head (83 degrees above his neck's line, the photo's 106) slid
        # pats_oliver_slice18's a sixth of a shoulder width sideways off his collar, which
        # the warp tore open.
        own = float(np.median(head.motion[head.seen]))
        turn, _ = fill(head.motion - own, head.seen, 0.0, fps=fps)
        head.values = ease_in(rest + turn, rest, fps=fps)
        roll = _roll_offset(kp, ref)
    else:
        roll = None
    nose_m = np.linalg.norm(kp[:, L.NOSE, :2] - root_m, axis=1)
    ok = all_seen(kp, [L.NOSE])
    scale = s
    if neck_len and ok.sum() >= 3:
        scale = float(np.clip(neck_len / np.median(nose_m[ok]), 0.8 * s, 1.25 * s))
    nose_len = scale * np.where(ok, nose_m, np.median(nose_m[ok]) if ok.any() else 0.0)
    nose_len, _ = fill(nose_len, ok, None, fps=fps)         # short gaps bridged, long: median
    if smooth and ok.any():
        nose_len = steady(nose_len, fps=fps, slow=0.3 * float(np.median(nose_len)))
    if neck_len and ok.any():
        gain = neck_len / max(nose_len[int(np.argmax(ok))], 1e-6)
        if 0.8 < gain < 1.25:
            nose_len = still_near(nose_len * gain, neck_len, width=0.02 * neck_len)
    nose = root + nose_len[:, None] * _unit(head.values)
    if head.anchored:
        # A motion that starts from the photo's pose: the head goes where the motion's goes,
        # from the photo's nose. Built from the neck, it would also take the trunk's dead
        # zones (TRUNK_STILL, TILT_STILL), which hold the neck still while the shoulder
        # keypoints ride up with the arms: a real nod of 5 px (hbr_speaker7) was drawn as
        # 0.8 px. Long gaps fall back to the neck's construction.
        first = int(np.argmax(ok))
        own = ref[L.NOSE, :2] + s * (kp[:, L.NOSE, :2] - kp[first, L.NOSE, :2]) - nose
        own, _ = fill(own, ok, np.zeros(2), fps=fps)
        if smooth:
            own = smoothed(own, fps=fps, seconds=SMOOTH_HEAD_S)
        # Kept in the frame by the head's own points: with the shoulders too, a portrait
        # whose shoulders touch its edges held the head to half its travel (portrait_6.jpg).
        nose = ref[L.NOSE, :2] + _bounded_travel(nose + own - ref[L.NOSE, :2], ref, size,
                                                 HEAD_POINTS)
    _put(out, L.NOSE, nose, head)
    _place_group(out, kp, ref, HEAD_GROUP, L.NOSE, out[:, L.NOSE, :2], s, fps=fps, turn=roll)


def _roll_offset(kp: np.ndarray, ref: np.ndarray) -> float | None:
    """The turn (radians) from the motion's median eye line to the photo's, or None when
    either has no two eyes seen: another person's face is drawn at the photo's roll, rolling
    as theirs rolls about its own median, as their head's carriage (:func:`_place_head`).
    Their roll is not their carriage: a head turned or leant sideways moves the nose off the
    neck's line with the eyes level (hbr_speaker12's face turned with his carriage rolled
    pats_oliver_slice18's by 22 degrees)."""
    eyes = [L.LEFT_EYE, L.RIGHT_EYE]
    ok = all_seen(kp, eyes)
    if not ok.any() or not all_seen(ref[None], eyes)[0]:
        return None
    line = kp[ok][:, L.LEFT_EYE, :2] - kp[ok][:, L.RIGHT_EYE, :2]
    photo = ref[L.LEFT_EYE, :2] - ref[L.RIGHT_EYE, :2]
    turn = _angle(photo) - np.median(_angle(line))
    return float(np.angle(np.exp(1j * turn)))


def _line_angle(kp: np.ndarray, ref: np.ndarray, a: int, b: int, *, fps: float,
                smooth: bool) -> _Track:
    """Angle over time of the line b→a (the shoulders), eased to the photo's in long gaps and
    smoothed like the trunk."""
    ok = all_seen(kp, [a, b])
    ang = unwrap_seen(_angle(kp[:, a, :2] - kp[:, b, :2]), ok)
    rest = _turn_of_first(float(_angle(ref[a, :2] - ref[b, :2])), ang, ok)
    vals, defined = fill(ang, ok, rest, fps=fps, period=2 * np.pi)
    if smooth:
        vals = smoothed(vals, fps=fps, seconds=SMOOTH_BODY_S)
    vals, anchored = anchor(vals, ok, rest, limit=ANCHOR_ANGLE, fps=fps)
    if anchored:
        vals = still_near(vals, rest, width=TILT_STILL)
    if defined.all() and not anchored and abs(vals[0] - rest) > 0.05:
        vals = ease_in(vals, rest, fps=fps)
    return _Track(vals, ok, defined, anchored=anchored)


def _shoulder_width(kp: np.ndarray, ref: np.ndarray, anchored: bool, *, fps: float,
                    smooth: bool) -> np.ndarray:
    """The shoulder line's length over time ``(T,)`` on the photo: the photo's, narrowed where
    the motion's own narrows from its first frame (the speaker turning towards profile:
    ted_lia_driving3's shoulders narrow to 0.64 of the first frame's), down to
    :data:`TURN_RANGE`; never wider (a shrug as the arms rise widens the keypoints while the
    jacket stays put), and not at all within a dead zone (:data:`TURN_STILL`) that takes the
    tracker's jitter. As for the bones (:func:`_lengths`), this holds for a motion whose
    shoulder line starts at the photo's tilt (``anchored``: a clip's own skeleton, or anyone
    who starts facing the camera as the photo does, their own width the reference); any other
    keeps the photo's width."""
    photo = float(L.shoulder_width(ref))
    ok = all_seen(kp, [L.LEFT_SHOULDER, L.RIGHT_SHOULDER])
    if not anchored or not ok.any():
        return np.full(len(kp), photo)
    rel = _change_from_first(
        L.shoulder_width(kp), ok, fps=fps, bounds=(TURN_RANGE, 1.0), still=TURN_STILL,
        smoother=(lambda x: smoothed(x, fps=fps, seconds=SMOOTH_BODY_S)) if smooth else None)
    return photo * rel


def _change_from_first(raw: np.ndarray, ok: np.ndarray, *, fps: float, smoother,
                       bounds: tuple[float, float], still: float) -> np.ndarray:
    """A length's change ``(T,)`` from its first seen frame (``raw (T,)``, seen where ``ok``):
    gaps filled (long ones ease back to the first frame's), smoothed by ``smoother`` (or not,
    None), as a ratio within ``bounds``, with a dead zone ``still`` about 1."""
    first = int(np.argmax(ok))
    motion, _ = fill(raw, ok, raw[first], fps=fps)
    if smoother is not None:
        motion = smoother(motion)
    rel = np.clip(motion / max(motion[first], 1e-6), *bounds)
    return still_near(rel, 1.0, width=still)


def _place_hips(out: np.ndarray, kp: np.ndarray, ref: np.ndarray, root: np.ndarray,
                root_p: np.ndarray, s: float, *, fps: float) -> None:
    """The hips as the photo's pair, carried by the part of their travel that the neck shares.

    Hip keypoints of a seated speaker drift by a tenth of a shoulder width while the body does
    not move; a walking speaker's hips travel with the neck. So per axis the hips follow the
    smaller of the two travels when both go the same way, and stay put otherwise: the bottom
    of the body moves with a walk and not with a lean or a tracker's drift."""
    hips = [L.LEFT_HIP, L.RIGHT_HIP]
    ok = all_seen(kp, hips)
    if not all_seen(ref[None], hips)[0] or not ok.any():
        out[:, hips, 2] = np.where(ok[:, None], kp[:, hips, 2], 0.0)
        return
    centre_m, defined = bridged(kp[:, hips, :2].mean(1), ok), np.ones(len(ok), bool)
    first = int(np.argmax(ok))
    travel = smoothed(s * (centre_m - centre_m[first]), fps=fps, seconds=SMOOTH_BODY_S)
    neck = root - root_p
    shared = np.where(np.sign(travel) == np.sign(neck),
                      np.sign(neck) * np.minimum(np.abs(travel), np.abs(neck)), 0.0)
    ref_centre = ref[hips, :2].mean(0)
    for j in hips:
        out[:, j, :2] = ref_centre + shared + (ref[j, :2] - ref_centre)
        out[:, j, 2] = np.where(ok, kp[:, j, 2], np.where(defined, FILLED, 0.0))


def _bounded_travel(travel: np.ndarray, ref: np.ndarray, size: tuple[int, int],
                    points=HEAD_POINTS + (L.LEFT_SHOULDER, L.RIGHT_SHOULDER)) -> np.ndarray:
    """Keep the photo's ``points`` (head and shoulders) inside the frame wherever the motion
    travels."""
    w, h = size
    idx = [i for i in points if ref[i, 2] >= MISSING]
    if not idx:
        return travel
    pts = ref[idx, :2]
    margin = 0.02 * max(w, h)
    lo = np.array([margin, margin]) - pts.min(0)
    hi = np.array([w - 1 - margin, h - 1 - margin]) - pts.max(0)
    lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)     # the photo's own place is allowed
    return np.clip(travel, lo, hi)


def _turn_of_first(rest: float, ang: np.ndarray, ok: np.ndarray) -> float:
    """The photo's angle ``rest`` on the turn of the first seen angle of the unwrapped track
    ``ang``, which the motion starts from (gaps ease to the turn nearest their own ends:
    :func:`fill`'s ``period``). On the turn of the track's median instead, ted_lia_driving1's
    right forearm, held out sideways (-166 degrees) and later swung across and down (median
    36), started a full turn from the photo's: easing in swung it round once in 4 frames."""
    if not ok.any():
        return rest
    return rest + 2 * np.pi * np.round((ang[int(np.argmax(ok))] - rest) / (2 * np.pi))


def _bone_angle(kp: np.ndarray, origin: np.ndarray | None, a: int, b: int | None, *,
                fps: float, rest: float | None, smooth: bool) -> _Track:
    """Angle over time of the bone ``origin``→``a`` (``b`` None) or ``a``→``b``."""
    if b is None:
        v = kp[:, a, :2] - origin
        ok = all_seen(kp, [L.LEFT_SHOULDER, L.RIGHT_SHOULDER, a])
    else:
        v = kp[:, b, :2] - kp[:, a, :2]
        ok = all_seen(kp, [a, b])
    ok &= np.linalg.norm(v, axis=1) > 1e-6
    ang = unwrap_seen(_angle(v), ok)
    if rest is not None:
        rest = _turn_of_first(rest, ang, ok)
    vals, defined = fill(ang, ok, rest, fps=fps, period=2 * np.pi)
    if smooth:
        vals = steady(vals, fps=fps, slow=0.6)
    motion = vals
    vals, anchored = anchor(vals, ok, rest, limit=ANCHOR_ANGLE, fps=fps)
    if anchored:
        vals = still_near(vals, rest, width=0.04)
    if rest is not None and defined.all() and not anchored and abs(vals[0] - rest) > 0.05:
        vals = ease_in(vals, rest, fps=fps)
    return _Track(vals, ok, defined, motion, anchored)


def _lengths(kp: np.ndarray, ref: np.ndarray, a: int, b: int, s: float, anchored: bool, *,
             fps: float, smooth: bool) -> np.ndarray:
    """Length over time ``(T,)`` of the bone a→b on the photo.

    A motion that starts from the photo's pose (``anchored``) keeps its own length changes
    relative to its first frame (foreshortening as the limb turns to or from the camera),
    within 0.4–1.4 of the photo's length (:data:`LENGTH_RANGE`). Any other keeps the photo's
    full length, shortened where the motion's bone looks shorter than its full length (down to
    70 %), never longer; the full length is the photo's own unless the photo shows the bone
    foreshortened (shorter than the motion's, scaled), then up to 1/0.7 of it."""
    ok = all_seen(kp, [a, b])
    raw = np.linalg.norm(kp[:, a, :2] - kp[:, b, :2], axis=1)
    full_m = _robust_max(raw[ok]) if ok.any() else float("nan")
    photo = float(np.linalg.norm(ref[b, :2] - ref[a, :2])) if ref[a, 2] and ref[b, 2] else None
    if not ok.any():
        return np.full(len(kp), photo if photo else 1.0)
    base = photo if photo else s * full_m
    if photo is not None and anchored:          # long gaps ease back to the photo's length
        rel = _change_from_first(
            raw, ok, fps=fps, bounds=LENGTH_RANGE, still=0.03,
            smoother=(lambda x: steady(x, fps=fps, slow=0.3 * full_m)) if smooth else None)
    else:
        if photo is not None:
            base = max(photo, min(s * full_m, photo / FORESHORTEN))
        rel = np.clip(raw / max(full_m, 1e-6), FORESHORTEN, 1.0)
        rel, _ = fill(rel, ok, min(1.0, photo / base) if photo else 1.0, fps=fps)
        if smooth:
            rel = np.clip(steady(rel, fps=fps, slow=0.3), FORESHORTEN, 1.0)
        if photo is not None:               # from the photo's own length, as the angles ease in
            rel = ease_in(rel, photo / base, fps=fps)
    return base * rel


def _put(out: np.ndarray, j: int, xy: np.ndarray, track: _Track) -> None:
    out[:, j, :2] = xy
    out[:, j, 2] = np.where(track.seen, out[:, j, 2], np.where(track.defined, FILLED, 0.0))


def _place_hand(out: np.ndarray, kp: np.ndarray, ref: np.ndarray, side: str, s: float,
                fore: _Track, *, fps: float, smooth: bool) -> None:
    """The 21 hand points as a group in the forearm's frame (the motion's smoothed forearm
    in, the retargeted forearm out: a short forearm's jittering angle does not swing the
    hand), scaled to the photo's hand, placed at the retargeted wrist."""
    sh, el, wr, hand = ARMS[side]
    idx = np.arange(hand, hand + 21)
    fore_m, fore_o = fore.motion, fore.values
    ok = all_seen(kp, [el, wr, hand]) & ((kp[:, idx, 2] >= MISSING).mean(1) >= 0.8)
    # Left with most of its points for a moment only, it is a glitch as in clean (the rest of
    # avspeech_sample2's right hand, under his left, was read for a single frame, and its
    # borrowed copy flashed in for it).
    ok &= ~moments(ok, fps=fps)
    local = _rotate(kp[:, idx, :2] - kp[:, wr, None, :2], -fore_m)        # (T, 21, 2)
    size_m = np.linalg.norm(local[:, L.HAND_MIDDLE[0]], axis=1)
    rest = None
    scale = s
    if all_seen(ref[None], [el, wr, hand])[0] and (ref[idx, 2] >= MISSING).mean() >= 0.8:
        ref_fore = _angle(ref[wr, :2] - ref[el, :2])
        rest = _rotate((ref[idx, :2] - ref[wr, :2])[None], np.array([-ref_fore]))[0]
        if ok.sum() >= 3:
            palm = np.linalg.norm(rest[L.HAND_MIDDLE[0]])
            scale = float(np.clip(palm / np.percentile(size_m[ok], 90), 0.7 * s, 1.4 * s))
    local = scale * local
    vals, defined = fill(local, ok, rest, fps=fps)
    if smooth:
        palm = np.percentile(size_m[ok], 90) * scale if ok.any() else 1.0
        vals = steady(vals, fps=fps, slow=0.6 * palm)
    if rest is not None:
        vals, anchored = anchor(vals, ok, rest, fps=fps,
                                limit=0.8 * np.linalg.norm(rest[L.HAND_MIDDLE[0]]))
        if not anchored and defined.all():
            vals = ease_in(vals, rest, fps=fps)
    xy = out[:, wr, None, :2] + _rotate(vals, fore_o)
    out[:, idx, :2] = xy
    conf = np.where(ok[:, None], np.maximum(kp[:, idx, 2], MISSING),
                    np.where(defined, FILLED, 0.0)[:, None])
    out[:, idx, 2] = np.where(defined[:, None], conf, 0.0)


def _place_group(out: np.ndarray, kp: np.ndarray, ref: np.ndarray, idx: np.ndarray, centre: int,
                 at: np.ndarray, s: float, *, fps: float, turn: float | None = None) -> None:
    """The face (eyes, ears, 68 points) as a group about the nose, scaled to the photo's face
    width and turned by ``turn`` radians (:func:`_roll_offset`); missing faces follow the
    head with the photo's face."""
    fw_m, fw_p = face_width(kp), face_width(ref[None])
    scale = fw_p / fw_m if np.isfinite(fw_m) and np.isfinite(fw_p) else s
    scale = float(np.clip(scale, 0.7 * s, 1.4 * s))
    ok = all_seen(kp, [centre]) & ((kp[:, idx, 2] >= MISSING).mean(1) >= 0.5)
    local = scale * (kp[:, idx, :2] - kp[:, centre, None, :2])
    if turn is not None:
        local = _rotate(local, np.full(len(local), turn))
    rest = None
    if ref[centre, 2] and (ref[idx, 2] >= MISSING).mean() >= 0.5:
        rest = ref[idx, :2] - ref[centre, :2]
    vals, defined = fill(local, ok, rest, fps=fps)
    if rest is not None and np.isfinite(fw_p):
        vals, anchored = anchor(vals, ok, rest, limit=0.15 * fw_p, fps=fps)
        if not anchored and defined.all():
            vals = ease_in(vals, rest, fps=fps)
    out[:, idx, :2] = at[:, None] + vals
    conf = np.where(ok[:, None], kp[:, idx, 2], np.where(defined, FILLED, 0.0)[:, None])
    out[:, idx, 2] = np.where(defined[:, None], conf, 0.0)
