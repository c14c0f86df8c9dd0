"""Forward kinematics of a photo's skeleton under the retrieval library's rig parameters
(:mod:`~gesticulate.motion.retrieval_index`): the library's bone directions and length ratios
drive the photo's own bones, so the photo keeps its body shape and bone lengths, with the
limits :func:`retarget` keeps (a hand's bend on its forearm, a foreshortened bone's growth, an
elbow the frame's edge pins, a forearm that would turn its wrist out of the picture)."""

from __future__ import annotations

import numpy as np

from gesticulate.motion import retrieval_index as R
from gesticulate.motion.kinematics import ARMS, limit_rate, rotate, soft_clip, wrap_angle
from gesticulate.skeleton import layout as L

# The arm bones in the rig (R.BONES): upper arm and forearm, left arm then right.
ARM_BONES = [R.BONES.index(b) for b in ((L.LEFT_SHOULDER, L.LEFT_ELBOW),
                                        (L.LEFT_ELBOW, L.LEFT_WRIST),
                                        (L.RIGHT_SHOULDER, L.RIGHT_ELBOW),
                                        (L.RIGHT_ELBOW, L.RIGHT_WRIST))]
# Each finger bone turns with its hand's wrist→middle-finger bone plus this share of its own
# change: 2D finger detections are noisy and the photo's hand is posed differently from the
# library's, so full per-bone articulation splays fingers.
FINGER_GAIN = 0.5


def retarget(local: np.ndarray, seen: np.ndarray, params: np.ndarray, head: np.ndarray, *,
             max_stretch: float = 1.1, pinned: dict | None = None,
             held: set | frozenset = frozenset(), frame: tuple | None = None) -> np.ndarray:
    """Forward kinematics of the photo's skeleton under rig parameters.

    Parameters
    ----------
    local : np.ndarray, shape (133, 2)
        The photo's keypoints with the neck at 0 and shoulder width 1.
    seen : np.ndarray, shape (133,), bool
        Photo points really seen. Without both shoulders nothing below the head moves; an
        arm bends only when its elbow is seen (otherwise it follows its shoulder rigidly).
    params : np.ndarray, shape (T, NUM_PARAMS)
        Rig parameters (:func:`gesticulate.motion.retrieval_index.motion_params`).
    head : np.ndarray, shape (T, len(HEAD), 2)
        The photo's head points per frame (with mouth and lid motion) before the head turns.
    pinned : dict, optional
        Elbows on the frame's edge → the unit vector along that edge
        (:func:`~gesticulate.motion.arms.pinned_elbows`): such an elbow follows its shoulder
        along the edge only, never off it, while the forearm and hand below it move.
    held : set of int, optional
        Elbows whose arm only follows its shoulder though the elbow is seen (an arm resting
        below the frame, :func:`~gesticulate.motion.arms.rests_below`; two hands held together
        unread, :func:`~gesticulate.motion.style.joined_hands`).
    frame : (lo, hi), optional
        The picture's corners ``(2,)`` each, in ``local``'s units: a forearm never turns its
        wrist out of there (:func:`_inside_turns`), and its hand turns with it. A wrist the
        upper arm or the body carries out is not turned back in (none is, on the shared clips).

    Returns
    -------
    np.ndarray, shape (T, 133, 2)
        Local keypoints; bones keep the photo's length times a ratio in
        ``[0.6, max_stretch]``, a foreshortened arm bone's up to ``max_stretch`` times its full
        length (:func:`_foreshortened`).
    """
    T = params.shape[0]
    pinned = pinned or {}
    params = _wrists_limited(params)
    out = np.repeat(local[None], T, axis=0)
    body = bool(seen[L.LEFT_SHOULDER] and seen[L.RIGHT_SHOULDER])
    neck = np.zeros((T, 2))
    if body:
        off = params[:, R.P_TORSO]
        neck = off * np.minimum(1.0, 0.3 / np.maximum(np.linalg.norm(off, axis=1), 1e-9))[:, None]
        full = _foreshortened(local, seen, pinned)
        still = {c for arm in ((L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_HAND),
                               (L.RIGHT_ELBOW, L.RIGHT_WRIST, L.RIGHT_HAND))
                 if not seen[arm[0]] or arm[0] in held
                 for c in np.r_[arm[0], arm[1], np.arange(133)[arm[2]]]}
        held_back = {}      # a hand's root bone → how far its forearm was held back
        for b, (p, c) in enumerate(R.BONES):
            base = neck if p == R.NECK else out[:, p]
            vec = local[c] - (0.0 if p == R.NECK else local[p])
            if c in still:          # an arm without a seen elbow (or held) follows its shoulder
                out[:, c] = base + vec
                continue
            if c in pinned:
                along = pinned[c]
                moved = base + vec - local[c]
                out[:, c] = local[c] + (moved @ along)[:, None] * along[None]
                continue
            ang = params[:, R.P_ANGLE.start + b]
            if R.FINGER_ROOT[b] >= 0 and R.FINGER_ROOT[b] != b:
                root = params[:, R.P_ANGLE.start + R.FINGER_ROOT[b]]
                ang = root + FINGER_GAIN * (ang - root)
            if R.FINGER_ROOT[b] >= 0:
                ang = ang + held_back.get(R.FINGER_ROOT[b], 0.0)
            loglen = params[:, R.P_LOGLEN.start + b]
            ratio = np.exp(np.clip(loglen, np.log(0.6), np.log(max_stretch)))
            if b in full:       # an arm bone the photo shows foreshortened
                ratio = np.where(loglen > 0, _grown(loglen, full[b], max_stretch), ratio)
            if b in _HAND_ROOT_OF and frame is not None:  # a forearm: its wrist in the picture
                least, most = _inside_turns(base, vec * ratio[:, None], *frame)
                kept = soft_clip(ang, least, most, np.zeros_like(ang), INSIDE_SOFT)
                back = limit_rate(kept - ang, INSIDE_STEP)
                held_back[_HAND_ROOT_OF[b]] = back
                ang = ang + back
            cs, sn = np.cos(ang) * ratio, np.sin(ang) * ratio
            out[:, c] = base + np.stack([cs * vec[0] - sn * vec[1], sn * vec[0] + cs * vec[1]], 1)
    hp = params[:, R.P_HEAD]
    ok = seen[R.HEAD]
    centre = local[R.HEAD][ok].mean(axis=0) if ok.any() else local[R.HEAD].mean(axis=0)
    shift = hp[:, 2:] * np.minimum(
        1.0, 0.25 / np.maximum(np.linalg.norm(hp[:, 2:], axis=1), 1e-9))[:, None]
    a = np.exp(np.clip(hp[:, 1], -0.08, 0.08) + 1j * np.clip(hp[:, 0], -0.6, 0.6))[:, None]
    z = (head[..., 0] - centre[0]) + 1j * (head[..., 1] - centre[1])
    z = a * z
    out[:, R.HEAD, 0] = centre[0] + neck[:, :1] + shift[:, :1] + z.real
    out[:, R.HEAD, 1] = centre[1] + neck[:, 1:] + shift[:, 1:] + z.imag
    return out


# Each forearm's bone → its hand's root bone (R.FOREARM the other way round).
_HAND_ROOT_OF = {fore: R.HAND_ROOT[start] for start, fore in R.FOREARM.items()}
# A forearm slows over this much turn before the turn that takes its wrist out of the picture
# (the hand turns with it). Unbounded, the library's forearm turns (up to 140-167 degrees:
# hbr_speaker12's hands raised from her lap, un_speech_female's wrist behind her lectern)
# swung avspeech_sample1's raised hand, its elbow on the frame's bottom edge, round and out of
# the picture in 4 seeds of 20, and kept_up's least turn then flipped it to the elbow's other
# side, half a turn in one frame. Far from every edge the bound is half a turn either way: a
# gained turn past it stops there instead of coming round the other side.
INSIDE_SOFT = np.deg2rad(20.0)
# ... and the turn it is held back by changes by at most this much a frame
# (kinematics.limit_rate): the bound itself jumps where an edge comes within the forearm's
# reach short of a turn past it (the wrist's circle touching the edge: 0.8 shoulder widths
# in one frame, for a forearm turned 150 degrees from pointing along that edge). The limiter
# ramps over both sides of a jump, so it holds a turn back before the jump too: at 14
# degrees the close-up class's hand variance fell to 0.63x real (0.67x at 20 and 30; 20
# seeds, benchmarks/gestures.py --retrieval). With it (and the library's fingers interpolated
# the short way round), the largest hand step per frame on the shared clips went from 0.26 to
# 0.24 shoulder widths (avspeech_sample1) and 0.54 to 0.52 (avspeech_sample2).
INSIDE_STEP = np.deg2rad(20.0)
_INSIDE_STEPS = np.deg2rad(np.arange(0.0, 181.0, 3.0))


def _inside_turns(elbow: np.ndarray, forearm: np.ndarray, lo: np.ndarray, hi: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(least, most)``, each ``(T,)``: how far (radians, at most half a turn) the forearm
    ``forearm (T, 2)`` turns either way about ``elbow (T, 2)`` before its end leaves the box
    ``lo``–``hi`` (each ``(2,)``), widened to hold the unturned end (a wrist by the edge may
    still move inwards). Sampled every 3 degrees and interpolated linearly between the last
    sample inside and the first outside (so it moves with the elbow without 3-degree steps;
    it still jumps where an edge comes within the turning end's reach, :data:`INSIDE_STEP`)."""
    rest = elbow + forearm
    lo, hi = np.minimum(lo, rest), np.maximum(hi, rest)                    # (T, 2)
    out = []
    for sign in (1.0, -1.0):
        a = sign * _INSIDE_STEPS
        z = (forearm[:, 0] + 1j * forearm[:, 1])[:, None] * np.exp(1j * a)[None]   # turned
        end = np.stack([elbow[:, :1] + z.real, elbow[:, 1:] + z.imag], axis=2)   # (T, S, 2)
        room = np.minimum(end - lo[:, None], hi[:, None] - end).min(axis=2)   # (T, S), >= 0 in
        room[:, 0] = np.maximum(room[:, 0], 0.0)
        gone = room < 0
        k = np.where(gone.any(axis=1), gone.argmax(axis=1), len(a))          # first outside
        last = np.maximum(k - 1, 0)
        t = np.arange(len(elbow))
        inside = room[t, last]
        outside = room[t, np.minimum(k, len(a) - 1)]
        share = np.where(k < len(a), inside / np.maximum(inside - outside, 1e-12), 0.0)
        out.append(a[last] + sign * share * _INSIDE_STEPS[1])
    return out[1], out[0]


# A hand turns at most WRIST_RANGE from the photo's bend on its forearm (a smooth squeeze over
# the last WRIST_SOFT, kinematics.soft_clip): past what a wrist bends, seen from any side. The
# library's hands (root bone against forearm, shared clips) turn 8-16 degrees (median), 46-56
# (90th percentile) and 97-176 (99th) from their clip's mean bend (before the library's flipped
# hands were interpolated, retrieval_index.HAND_FLIP); the last is a tracker's flip, which,
# gained and blended, left the desk speaker's generated hand pointing down from a raised
# forearm. At 60 degrees the lectern speaker's hand variance fell from 0.65x hers to
# 0.649x and the seated class's from 0.83x to 0.80x (benchmarks/gestures.py --retrieval).
WRIST_RANGE = np.deg2rad(90.0)
WRIST_SOFT = np.deg2rad(20.0)


def _wrists_limited(params: np.ndarray) -> np.ndarray:
    """``params`` with each hand's root bone (and its fingers with it) turned back to within
    :data:`WRIST_RANGE` of its forearm's turn (a copy)."""
    params = params.copy()
    angles = params[:, R.P_ANGLE]
    for start, root in R.HAND_ROOT.items():
        fore = angles[:, R.FOREARM[start]]
        # Not wrapped: the library's bends lie within half a turn, and one gained past it
        # stays on its side (wrapped, 181 degrees came out at -90).
        bend = angles[:, root] - fore
        zero = np.zeros_like(bend)
        shift = soft_clip(bend, zero - WRIST_RANGE, zero + WRIST_RANGE, zero, WRIST_SOFT) - bend
        # the root, its fingers and the link from the body's wrist point to the hand's
        angles[:, R.FINGER_ROOT == root] += shift[:, None]
    return params


# A forearm is about this share of the upper arm (anthropometric tables: 0.78-0.82), and an
# upper arm seldom looks shorter in a photo than it is: it hangs or swings across the picture.
FOREARM_PER_UPPER = 0.8
# A bone the photo shows shorter than this share of its full length is too short to turn by
# (its direction is a few pixels' detection noise): it grows as one this short would.
MIN_SHOWN = 1.0 / 3.0
_UPPER_ARMS = ARM_BONES[::2]     # shoulder → elbow of each arm


def _foreshortened(local: np.ndarray, seen: np.ndarray, pinned: dict | None = None
                   ) -> dict[int, float]:
    """Arm bones the photo ``local (133, 2)`` shows shorter than their full length (a forearm
    pointing at the camera): bone index → full length over the photo's length (at most
    ``1 / MIN_SHOWN``). The full upper arm is the longer seen upper arm, the full forearm
    :data:`FOREARM_PER_UPPER` of it. An elbow the frame's edge cuts (``pinned``) gives no
    length: its upper arm is not measured and its forearm never grows."""
    pinned = pinned or {}
    upper = [float(np.linalg.norm(local[c] - local[p])) for p, c in
             (R.BONES[b] for b in _UPPER_ARMS) if seen[p] and seen[c] and c not in pinned]
    if not upper:
        return {}
    out = {}
    for b in ARM_BONES:
        p, c = R.BONES[b]
        if not (seen[p] and seen[c]) or p in pinned or c in pinned:
            continue
        now = float(np.linalg.norm(local[c] - local[p]))
        want = max(upper) * (1.0 if b in _UPPER_ARMS else FOREARM_PER_UPPER)
        if now > 1e-3 and want > now * 1.05:
            out[b] = min(want / now, 1.0 / MIN_SHOWN)
    return out


def _grown(loglen: np.ndarray, full: float, max_stretch: float) -> np.ndarray:
    """Length ratio (against the photo) of a foreshortened bone that the library lengthens by
    ``exp(loglen) > 1``: the gain in length counts in full lengths (the library speakers'
    median bone is near its full length), so a forearm the photo shows end-on grows as far in
    the picture as the library's does, up to ``max_stretch`` times its full length. A library
    bone that shortens shortens it as any bone (``retarget``): one seen end-on has little
    length left to lose, and counted in full lengths too, the shortening moved the desk
    speaker's hands 1.37x as fast as hers in speech (1.23x so; shared clips, 20 seeds)."""
    return np.minimum(1.0 + (np.exp(loglen) - 1.0) * full, full * max_stretch)


# A hand the photo holds low does not sink more than SINK shoulder widths below where the photo
# holds it (moved with the shoulder), as the procedural generator's (arms._bounds): it rests on
# a desk or in a lap. The library's seated speakers drop their hands into their laps, and
# pats_oliver_slice18.png's left hand, on a glass desk, went down behind the desk's edge, where
# MediaPipe lost it (benchmarks/gesture_integrity.py --retrieval: hands re-detected 0.882).
# A hand held higher than ``drop`` shoulder widths under the neck may drop to that height
# (arms.HIGH_HAND_DROP, CLOSE_UP_RAISED_DROP). Every sink below the photo's height is squeezed
# (soft_clip over arms.SOFT_EDGE, more than SINK: the squeeze starts at the photo's height).
# Kept, the desk speaker's downward strokes are cut short (talkshow_show_half, the same host at
# his desk), and his 90th percentile wrist speed in speech falls (benchmarks/gestures.py
# --retrieval, generated / real; 0.83x unkept, the bar 0.65x). Lifted by turning the forearm
# alone, at SINK 0.05, 0.10 and 0.15: pats_oliver_slice18.png's hands re-detected in 0.943,
# 0.910 and 0.893 of the frames (the bar is 0.90), the desk speaker's 90th percentile 0.59x,
# 0.68x and 0.76x; turned and foreshortened (SHORTEST), at 0.05 and 0.10: 0.965 and 0.918,
# 0.76x and 0.79x.
SINK = 0.05
# ... lifted by turning the forearm about the elbow, as far as it lies across (the least turn
# that lifts the wrist enough), and by foreshortening it (pointing it a little towards the
# camera, down to SHORTEST of its length, retarget's least) as far as it hangs: turned alone, a
# forearm swinging through straight down flipped its wrist to the elbow's other side in one
# frame (0.6 shoulder widths), the least turn being on the other side past the vertical.
SHORTEST = 0.6


def kept_up(out: np.ndarray, local: np.ndarray, seen: np.ndarray, drops: dict[str, float],
            *, soft: float) -> np.ndarray:
    """``out`` ``(T, 133, 2)`` (local keypoints, :func:`retarget`'s) with each arm of ``drops``
    (side → drop, shoulder widths under the neck) whose elbow and wrist the photo shows
    (``local``, ``seen``) kept from sinking (:data:`SINK`): its wrist lifted towards the limit
    (squeezed over ``soft``, :func:`~gesticulate.motion.kinematics.soft_clip`) by turning the
    forearm about the elbow and foreshortening it (:data:`SHORTEST`), its hand carried rigidly
    and turned with it. A wrist whose elbow lies too low for the forearm to reach the limit
    stays as high as it reaches. The neck is the shoulders' middle in ``out`` (it moves with the
    torso), as :func:`retarget`'s ``local`` has it at the photo's."""
    out = out.copy()
    neck_y = 0.5 * (out[:, L.LEFT_SHOULDER, 1] + out[:, L.RIGHT_SHOULDER, 1])
    for arm in ARMS:
        if arm.side not in drops or not (seen[arm.elbow] and seen[arm.wrist]):
            continue
        rest = local[arm.wrist, 1] + out[:, arm.shoulder, 1] - local[arm.shoulder, 1]
        limit = np.maximum(rest + SINK, neck_y + drops[arm.side])
        want = soft_clip(out[:, arm.wrist, 1], np.full(len(out), -1e6), limit, rest, soft)
        idx = np.nonzero(want < out[:, arm.wrist, 1] - 1e-9)[0]
        if not len(idx):
            continue
        e, w, y = out[idx, arm.elbow], out[idx, arm.wrist], want[idx]
        v = w - e
        length = np.maximum(np.linalg.norm(v, axis=1), 1e-9)
        phi = np.arctan2(v[:, 1], v[:, 0])
        s = np.clip((y - e[:, 1]) / length, -1.0, 1.0)
        turns = wrap_angle(np.stack([np.arcsin(s) - phi, np.pi - np.arcsin(s) - phi], axis=1))
        theta = turns[np.arange(len(idx)), np.argmin(np.abs(turns), axis=1)]
        turned = rotate(w[:, None], theta, e)[:, 0]
        # Foreshortened: drawn in along itself (a forearm pointing up would only sink more).
        down = v[:, 1] > 1e-9
        k = np.where(down, (y - e[:, 1]) / np.where(down, v[:, 1], 1.0), 1.0)
        short = e + np.clip(k, SHORTEST, 1.0)[:, None] * v
        across = np.where(down, np.abs(np.cos(phi)), 1.0)[:, None]
        lifted = across * turned + (1 - across) * short
        d = lifted - e
        turn = np.arctan2(d[:, 1], d[:, 0]) - phi
        out[idx, arm.wrist] = lifted
        out[idx, arm.hand] = rotate(out[idx, arm.hand], turn, w) + (lifted - w)[:, None]
    return out
