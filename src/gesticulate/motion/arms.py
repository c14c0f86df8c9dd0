"""Arm and hand motion for the procedural generator: gesture tracks → wrist targets → joints.

The wanted wrist position is the photo's rest wrist, plus a "home" in gesture space (raised,
towards the body midline, moving every gesture unit: speakers lift their hands while talking
and drop them in pauses, or bring them together), plus the gesture keyframes and a slow
wander while speaking. Targets are clamped to a body-plausible region (above the waist, below
the top of the head, on the arm's own side of the midline, inside the photo), solved by 2-link
IK with the photo's bone lengths and elbow bend (an arm whose elbow the frame's edge cuts turns
its forearm about that elbow instead, the elbow sliding along the edge, :func:`arm_mode`),
joint-limited, speed-limited
(:data:`JOINT_SPEED`), smoothed zero-phase in angle space and eased in from the photo's pose.
The hand turns with the forearm, plus the keyframes' wrist flex and an idle turn in speech
(:func:`_wrist_turn`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d

from gesticulate.motion import gestures as G
from gesticulate.motion.style import JOINED_REACH, framing, raised_wrist
from gesticulate.motion.kinematics import (ARMS, ELBOW_SOFT, ArmChain, arm_angles, bend_sign,
                                           clamp_elbow, elbow_limit, forward_two_link, limit_rate,
                                           pose_hand, rotate, soft_clip, solve_arm, wrap_angle)
from gesticulate.skeleton import layout as L

SHOULDER_RANGE = np.deg2rad(45.0)   # upper arm stays within this of its photo direction
IK_STIFFNESS = (0.7, 0.1)           # shoulder / elbow resistance in solve_arm
ELBOW_ONLY_GAIN = 0.35              # elbow seen, wrist not: a gentler upper-arm motion
CLASP_GAP = 0.3                     # wrists this far apart (sw) when the hands are together
EDGE_MARGIN = 0.06                  # a handless wrist (or an elbow) this near the frame's edge
EDGE_ELBOW_CONFIDENCE = 0.5         # an elbow on the frame's edge found this surely is pinned
MIDLINE_GAP = 0.1                   # a moving wrist stays this far (sw) on its own side
SOFT_EDGE = 0.12                    # a wanted wrist slows over this much (sw) before a limit
FRAME_MARGIN = 0.02                 # a moving wrist stays this share of the frame inside it
# A hand held higher than HIGH_HAND_DROP shoulder widths under the neck may drop to that height
# (_bounds), in a close-up holding it raised on an arm whose elbow the picture shows
# (ArmContext.close_up_raised; procedural.CLOSE_UP_SCALE: the lectern speaker,
# un_speech_female) to CLOSE_UP_RAISED_DROP ...
HIGH_HAND_DROP = 0.8
CLOSE_UP_RAISED_DROP = 1.0
# ... and its shoulder resists the IK less (solve_arm's stiffness, against IK_STIFFNESS), within
# CLOSE_UP_RAISED_RANGE of the photo's direction (against SHOULDER_RANGE): such a hand moves
# from the shoulder, its elbow low at the frame's edge. un_speech_female's real right wrist
# reaches 0.64 shoulder widths out from her neck (5th percentile, frames MediaPipe finds her
# elbow and wrist) with her upper arm turned out by up to 12 degrees (98-111 degrees, 5th to
# 95th percentile, against 99 in the photo); with the seated speakers' stiff shoulder ours
# reached 0.44 and her hand variance was 0.65x real (0.035 against 0.054 sw²). Shoulder
# stiffness 0.5 / 0.45 / 0.4 / 0.2: hand variance 0.70x / 0.72x / 0.74x / 1.04x, 90th
# percentile wrist speed in speech 1.16x -> 1.22x / 1.26x / 1.32x / 1.63x (the bar is 1.35x;
# benchmarks/gestures.py, 20 seeds). At 0.45 her upper arm swung out to 122 degrees (95th
# percentile) and the elbow's skin and the microphone's neck cut with it stood out as flaps;
# held within 15 degrees, to 114, hand variance 0.70x.
CLOSE_UP_RAISED_STIFFNESS = (0.45, 0.1)
CLOSE_UP_RAISED_RANGE = np.deg2rad(15.0)
# A home wanders mostly up from a hand resting low, mostly down from one the photo holds high:
# its vertical draw (-0.3..1.0 of the spread, up) is shifted down by HOME_DOWN as the photo's
# wrist rises from HOME_HIGH[1] to HOME_HIGH[0] shoulder widths under the neck.
HOME_HIGH = (0.3, 0.8)
HOME_DOWN = 0.7
# Fastest turn of the shoulder or the elbow, rad/s (kinematics.limit_rate: a jump is spread
# over a ramp at half this speed, centred on it). As the wanted wrist sweeps from out of reach
# to across the body, the damped IK's answer can cross from one solution to another (elbow
# straight, then folded past its limit, which the clamp maps to the other end): the synthetic
# seated photo's forearm turned 2.1 rad in 3 frames and its wrist flew 78-90 px (half a
# shoulder width) in one. Real speakers' fastest forearms on the shared clips turn 0.3-0.7
# rad per frame at 25 fps (7-18 rad/s), tracker glitches aside.
JOINT_SPEED = 12.0
# A pinned elbow slides along the frame's edge it sits on by this share of the wanted wrist's
# travel along that edge, within EDGE_SLIDE_RANGE shoulder widths: a close-up's arm moves from
# the shoulder too, so its wrist travels instead of only turning about the elbow
# (avspeech_sample1's real wrist: hand variance 0.028 sw², ours 0.014 with the elbow fixed).
EDGE_SLIDE = 0.8
EDGE_SLIDE_RANGE = 0.3
SLIDE_SMOOTH_S = 0.5
# A forearm turned to the camera (:func:`_foreshortened`) is drawn at least FORE_MIN of its
# length; that share changes by at most FORE_STEP times the joints' step (radians) a frame and
# is smoothed over FORE_SMOOTH seconds. Smoothed over 0.04 s, it took the seated class's wrist
# acceleration to 1.33x the real one (the bar is 1.2x).
FORE_MIN = 0.6
FORE_STEP = 0.25
FORE_SMOOTH = 0.15
FLEX_RAD = 0.5                      # wrist flex of a gesture keyframe's unit, radians


@dataclass
class ArmContext:
    """What every arm needs from the generator (arrays over T frames)."""

    ref: np.ndarray                 # (133, 3) the photo's skeleton
    seen: np.ndarray                # (133,) bool, points the photo really shows
    image_size: tuple[int, int]
    fps: float
    speed: float
    lean: np.ndarray                # (T,) torso lean, radians
    pivot: np.ndarray               # (2,) torso pivot
    ramp: np.ndarray                # (T,) ease-in 0..1
    spread: float                   # how far the hands' home wanders between gesture units, sw
    fingers: float                  # finger articulation gain
    clasps: list = field(default_factory=list)   # pauses [(a, b)) with the hands together
    speech: np.ndarray | None = None             # (T,) speech activity 0..1, for the drift
    drift: float = 0.06                          # idle wander of the hands in speech (s.d., sw)
    pause_drift: float = 0.0                     # ... in pauses, as a share of that
    wrist: float = 0.0                           # idle turn of the hand in speech (s.d., rad)
    tempo: float = 1.0                           # stroke phases' length, relative (Style.tempo)
    close_up_raised: frozenset = frozenset()     # sides holding a hand raised in a close-up
                                                 # (CLOSE_UP_RAISED_DROP ...)
    pair: np.random.SeedSequence | None = None   # draws both arms share (same seed, same draws)
    # Hands held as one (style.joined_hands): given ``offsets``, move_arm only records there
    # each arm's wanted wrist offset with its rest and limits (side -> (offset, rest, lo, hi));
    # given ``shared``, it moves the wrist by that instead of its own (joined_offset).
    offsets: dict | None = None
    shared: np.ndarray | None = None


def arm_mode(arm: ArmChain, ref: np.ndarray, seen: np.ndarray, image_size: tuple[int, int]
             ) -> str | None:
    """How the generator may move ``arm``: ``"free"``; ``"pinned"``, its elbow on the frame's
    edge (a close-up cuts the arm there) sliding only along that edge while the forearm and
    hand the photo shows turn about it (moving the elbow off the edge would bring the sleeve
    the border cut into view);
    or None, following the torso only: the photo does not show its elbow, or cuts its hand off
    at the frame's edge, or the arm rests below the frame (:func:`rests_below`). A pinned arm
    needs its wrist, hand and a forearm of its own in the photo, and its elbow inside the
    picture (on a pixel, as the warp renderer rigs it). ``ref (133, 3)``: the photo's
    skeleton, ``seen (133,)`` the points it really shows."""
    sw = float(L.shoulder_width(ref))
    upper = float(np.linalg.norm(ref[arm.elbow, :2] - ref[arm.shoulder, :2]))
    if (upper < 0.15 * sw or not _hand_shown(arm, ref, image_size)
            or rests_below(arm, ref, seen, image_size)):
        return None
    if seen[arm.elbow]:
        return "free"
    w, h = image_size
    x, y = ref[arm.elbow, :2]
    fore = float(np.linalg.norm(ref[arm.wrist, :2] - ref[arm.elbow, :2]))
    if (ref[arm.elbow, 2] >= EDGE_ELBOW_CONFIDENCE and seen[arm.wrist] and fore > 0.15 * sw
            and 0 <= x <= w - 1 and 0 <= y <= h - 1
            and not L.inside(ref[arm.elbow], image_size, EDGE_MARGIN)
            and L.hand_found(ref, arm.hand)):
        return "pinned"
    return None


def close_up_raised(ref: np.ndarray, seen: np.ndarray, image_size: tuple[int, int]
                    ) -> frozenset:
    """The sides of a close-up (:func:`~gesticulate.motion.style.framing`) that hold their hand
    raised (:func:`~gesticulate.motion.style.raised_wrist`) on an arm whose elbow it shows
    (:func:`arm_mode` free): such a hand may drop to :data:`CLOSE_UP_RAISED_DROP`, not
    :data:`HIGH_HAND_DROP` (ArmContext.close_up_raised). Empty for any other framing."""
    if framing(ref, seen, image_size)[0] != "close-up":
        return frozenset()
    return frozenset(arm.side for arm in ARMS if arm_mode(arm, ref, seen, image_size) == "free"
                     and raised_wrist(ref, seen, arm.wrist))


def rests_below(arm: ArmChain, ref: np.ndarray, seen: np.ndarray,
                image_size: tuple[int, int]) -> bool:
    """Whether ``arm`` rests below the frame: its elbow within :data:`EDGE_MARGIN` of the
    bottom edge and no hand of its own in the picture (the wrist not seen, or its hand not
    found), as a lectern speaker's arm on the lectern. Its forearm runs out of the picture
    and there is none to show; lifted by the elbow (as an arm whose hand is hidden inside the
    picture is), un_speech_female's left arm lost its elbow to MediaPipe on the border: found
    in 148 of 300 generated frames (``benchmarks/gesture_integrity.py``, auto), in 296 held
    still. Both generators hold such an arm."""
    own_hand = bool(seen[arm.wrist]) and bool(L.hand_found(ref, arm.hand))
    return not own_hand and float(ref[arm.elbow, 1]) > (1.0 - EDGE_MARGIN) * image_size[1]


def move_arm(out: np.ndarray, arm: ArmChain, ctx: ArmContext, strokes: list, spans: list, *,
             mode: str | None, rng: np.random.Generator,
             turn_rng: np.random.Generator | None = None) -> None:
    """Write elbow, wrist and hand of ``arm`` into ``out (T, 133, 2)`` in place.

    Shoulders in ``out`` must already carry the torso motion. ``mode``: the arm's
    :func:`arm_mode`; an arm it does not let move only follows the torso rigidly. ``turn_rng``
    draws the hand's idle turn (:func:`_wrist_turn`; ``rng`` when None).
    """
    ref, T = ctx.ref, ctx.ramp.shape[0]
    # Drawn first, for an arm that stays still too: the other arm's turn does not depend on it.
    idle_turn = _wrist_turn(ctx, rng=turn_rng or rng)
    points = np.r_[arm.elbow, arm.wrist, np.arange(arm.hand.start, arm.hand.stop)]
    rigid = rotate(np.broadcast_to(ref[points, :2], (T, len(points), 2)), ctx.lean,
                   np.broadcast_to(ctx.pivot, (T, 2)))
    out[:, points] = rigid
    s_ref, e_ref, w_ref = ref[arm.shoulder, :2], ref[arm.elbow, :2], ref[arm.wrist, :2]
    alpha0, beta0, upper, fore = arm_angles(s_ref, e_ref, w_ref)
    sw, neck = float(L.shoulder_width(ref)), L.neck(ref)
    if mode is None:
        return
    pinned, raised = mode == "pinned", arm.side in ctx.close_up_raised
    past = np.zeros(T)          # how much the elbow's limit held a wanted fold back (free arms)
    wrist_seen = bool(ctx.seen[arm.wrist]) and fore > 0.15 * sw
    if fore < 0.15 * sw:   # no usable forearm in the photo: a plausible one hanging on
        fore = 0.8 * upper
    side = 1.0 if s_ref[0] >= neck[0] else -1.0
    bend = bend_sign(beta0, s_ref[0], neck[0])
    effector = arm.wrist if wrist_seen else arm.elbow
    rest = rigid[:, 1] if wrist_seen else rigid[:, 0]
    gain = 1.0 if wrist_seen else ELBOW_ONLY_GAIN
    track = G.keyframe_track(strokes, arm.side, num_frames=T, fps=ctx.fps,
                             speed=ctx.speed / ctx.tempo)
    home = _home(arm, ctx, strokes, spans, rng=rng, rest=ref[effector, :2], sw=sw, side=side,
                 wrist_seen=wrist_seen)
    offset = (np.stack([side * track[:, 0], -track[:, 1]], axis=1) * sw * gain + home
              + _drift(ctx, rng=rng, sw=sw, side=side) * gain)
    lo, hi = _bounds(rest, ctx, sw=sw, side=side, shoulder=s_ref,
                     drop=CLOSE_UP_RAISED_DROP if raised else HIGH_HAND_DROP)
    offset = _fit_offsets(offset, rest, lo, hi)
    if ctx.offsets is not None:     # a pass that only reads what each arm wants
        ctx.offsets[arm.side] = (offset, rest, lo, hi)
        return
    if ctx.shared is not None:
        offset = ctx.shared
    target = _clamp_target(rest + ctx.ramp[:, None] * offset, rest, lo, hi, sw=sw)
    shoulder = out[:, arm.shoulder]
    alpha_rest = alpha0 + ctx.lean
    slide = np.zeros((T, 2))
    if pinned and wrist_seen:
        slide = _edge_slide(target - w_ref, e_ref, ctx, sw=sw)
        # The upper arm keeps the photo's angle (not the torso's lean) and the forearm points
        # from the photo's elbow at the wanted wrist; the arm is moved back onto that elbow
        # below. The forearm's turn is measured from the photo's forearm, within half a turn
        # of it: measured from the upper arm and wrapped there, a hand rising past the upper
        # arm's line read as a full turn, and the clamp flipped the forearm to point down in
        # the next frame (avspeech_sample1, seed 3: p90 wrist speed 7.3 shoulder widths/s,
        # 0.39 without the flips).
        v = target - (e_ref + slide)
        alpha = np.full(T, alpha0)
        beta = beta0 + wrap_angle(np.arctan2(v[:, 1], v[:, 0]) - alpha0 - beta0)
        beta = clamp_elbow(beta, bend=bend, beta0=beta0)
    elif wrist_seen:
        alpha, beta = solve_arm(shoulder, target, upper=upper, fore=fore,
                                alpha_rest=alpha_rest, beta_rest=beta0,
                                stiffness=_stiffness(ctx, raised))
        # The wanted fold within half a turn of the photo's: solve_arm's angle is unwrapped,
        # and a fold of 274 degrees (a bend of -86 backwards) was clamped to the fold's limit,
        # -86 to the straight arm's, one after the other.
        folded = beta0 + wrap_angle(beta - beta0)
        beta = clamp_elbow(folded, bend=bend, beta0=beta0)
        # How much of the wanted fold the elbow's limit held back (in the limit's soft span).
        past = np.clip(bend * (folded - beta) / ELBOW_SOFT, 0.0, 1.0)
    else:
        v = target - shoulder
        alpha, beta = np.arctan2(v[:, 1], v[:, 0]), np.full(T, beta0)
    reach = CLOSE_UP_RAISED_RANGE if raised else SHOULDER_RANGE
    dalpha = np.clip(wrap_angle(alpha - alpha_rest), -reach, reach)
    # Joint speeds bounded (a pose that jumps between two IK solutions turns over a few
    # frames), zero-phase smoothing in angle space (no jitter from clamping), then the ease-in.
    step = JOINT_SPEED * ctx.speed / ctx.fps
    dalpha = gaussian_filter1d(limit_rate(dalpha, step), 1.0, mode="nearest") * ctx.ramp
    dbeta = gaussian_filter1d(limit_rate(beta - beta0, step), 1.0, mode="nearest") * ctx.ramp
    elbow, wrist = forward_two_link(shoulder, alpha_rest + dalpha, beta0 + dbeta,
                                    upper=upper, fore=fore)
    # A free arm's forearm turns to the camera where the limit held its fold back (a pinned
    # one is aimed from its elbow on the frame's edge, with no IK).
    if wrist_seen and not pinned:
        near = np.clip((bend * (beta0 + dbeta) - elbow_limit(bend, beta0) + ELBOW_SOFT)
                       / ELBOW_SOFT, 0.0, 1.0)
        wrist = elbow + _foreshortened(target - elbow, wrist - elbow, past, near, fore, ctx,
                                       step)[:, None] * (wrist - elbow)
    e0, w0 = forward_two_link(s_ref[None], np.array([alpha0]), np.array([beta0]),
                              upper=upper, fore=fore)
    out[:, arm.elbow] = e_ref + (elbow - e0)
    out[:, arm.wrist] = w_ref + (wrist - w0)
    flex = gaussian_filter1d(limit_rate(FLEX_RAD * track[:, 2] * side, step), 1.0,
                             mode="nearest") + idle_turn
    turn = ctx.lean + dalpha + dbeta + ctx.ramp * flex
    out[:, arm.hand] = pose_hand(ref[arm.hand, :2], w_ref, out[:, arm.wrist], turn,
                                 spread=ctx.ramp * 0.08 * ctx.fingers * track[:, 3],
                                 curl=ctx.ramp * 0.25 * ctx.fingers * track[:, 4],
                                 point=ctx.ramp * track[:, 5])
    if pinned:
        out[:, points] -= (out[:, arm.elbow] - (e_ref + slide))[:, None]


def _foreshortened(want: np.ndarray, forearm: np.ndarray, past: np.ndarray, near: np.ndarray,
                   fore: float, ctx: ArmContext, step: float) -> np.ndarray:
    """``(T,)``: the forearm's drawn length over its full one, for a wanted wrist nearer the
    elbow along the forearm than the elbow's fold lets it come (``want``, ``forearm``:
    ``(T, 2)`` from the elbow; ``past``, ``(T,)``: how much the limit held the wanted fold
    back): the forearm turns towards the camera instead, down to :data:`FORE_MIN`, smoothed
    and eased in as the joints are, and only while the elbow is drawn within the limit's soft
    span (``near``, 0 to 1 across it): smoothed slower than the fold, the forearm stayed short
    after the elbow had unfolded (a seated photo's arm, drawn at 0.86 of its length bent 10
    degrees)."""
    u = forearm / max(fore, 1e-9)
    s = 1.0 - past * (1.0 - np.clip((want * u).sum(1) / max(fore, 1e-9), FORE_MIN, 1.0))
    s = gaussian_filter1d(limit_rate(s, FORE_STEP * step), FORE_SMOOTH * ctx.fps, mode="nearest")
    return 1.0 - (1.0 - s) * ctx.ramp * near


def _edge_slide(travel: np.ndarray, elbow: np.ndarray, ctx: ArmContext, *, sw: float
                ) -> np.ndarray:
    """``(T, 2)``: how far a pinned ``elbow`` slides along the frame's edge nearest it, for the
    wanted wrist's ``travel (T, 2)`` from its rest: :data:`EDGE_SLIDE` of the travel along that
    edge, within :data:`EDGE_SLIDE_RANGE` shoulder widths, smoothed and eased in as the joints
    are. Along the edge, the sleeve the border cuts stays cut there."""
    along = edge_along(elbow, ctx.image_size)
    r = EDGE_SLIDE_RANGE * sw
    u = r * np.tanh(EDGE_SLIDE * (travel @ along) / r)
    # Past the frame's corner too (avspeech_sample1's elbow, 34 px from it at 512 px, goes
    # 75 px at most): the arm then leaves the picture there, as a real one does. Held inside,
    # her close-up class fell to hand variance 0.65x and L1 0.68x.
    u = gaussian_filter1d(u, SLIDE_SMOOTH_S * ctx.fps, mode="nearest") * ctx.ramp
    return u[:, None] * along[None]


def edge_along(point: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """The unit vector ``(2,)`` along the frame's edge nearest ``point`` (x for the top and
    bottom edges, y for the sides)."""
    w, h = image_size
    x, y = point
    return np.array([1.0, 0.0]) if min(y, h - 1 - y) <= min(x, w - 1 - x) else np.array([0.0, 1.0])


def pinned_elbows(ref: np.ndarray, seen: np.ndarray, image_size: tuple[int, int]
                  ) -> dict[int, np.ndarray]:
    """The elbows the frame's edge pins (:func:`arm_mode`), each with the unit vector along
    its edge (:func:`edge_along`)."""
    return {arm.elbow: edge_along(ref[arm.elbow, :2], image_size) for arm in ARMS
            if arm_mode(arm, ref, seen, image_size) == "pinned"}


# Two hands held as one (ctx.shared) reach their one target with a freer shoulder and elbow
# than IK_STIFFNESS gives: with it, each wrist landed short of the target in its own arm's
# (mirrored) way, and the wrists of the tests' synthetic clasp parted by up to 0.11-0.15
# shoulder widths (3 seeds, each style); so, by 0.02-0.03 (the clasp moving 0.09 at the 95th
# percentile).
JOINED_STIFFNESS = (0.2, 0.05)


def _stiffness(ctx: ArmContext, raised: bool) -> tuple[float, float]:
    """The IK's stiffness for an arm (:func:`~gesticulate.motion.kinematics.solve_arm`)."""
    if raised:
        return CLOSE_UP_RAISED_STIFFNESS
    return JOINED_STIFFNESS if ctx.shared is not None else IK_STIFFNESS


def joined_offset(offsets: dict, *, sw: float) -> np.ndarray:
    """The one wrist offset ``(T, 2)`` of two hands held as one: the mean of the two arms'
    wanted offsets (``offsets``: side -> (offset, rest, lo, hi), pixels), shrunk to fit both
    arms' limits (:func:`_fit_offsets`) and to :data:`~gesticulate.motion.style.JOINED_REACH`
    shoulder widths ``sw`` (pixels)."""
    shared = np.mean([o for o, _, _, _ in offsets.values()], axis=0)
    for _, rest, lo, hi in offsets.values():
        shared = _fit_offsets(shared, rest, lo, hi)
    reach = np.percentile(np.linalg.norm(shared, axis=1), 95)
    return shared * min(1.0, JOINED_REACH * sw / reach) if reach > 1e-6 else shared


def _hand_shown(arm: ArmChain, ref: np.ndarray, image_size: tuple[int, int]) -> bool:
    """Whether the photo shows this arm's hand well enough to gesture with it: its landmarks
    found, or its wrist clear of the frame's edge. A wrist guessed at the edge with no hand
    (arms folded below a portrait's crop) has no hand and forearm texture to move: lifted, it
    shows a torn sleeve, so such an arm only follows the torso."""
    if L.hand_found(ref, arm.hand):
        return True
    return bool(L.inside(ref[arm.wrist], image_size, EDGE_MARGIN))


def _home(arm: ArmChain, ctx: ArmContext, strokes: list, spans: list, *,
          rng: np.random.Generator, rest: np.ndarray, sw: float, side: float,
          wrist_seen: bool) -> np.ndarray:
    """Offset ``(T, 2)`` (pixels) of the effector's resting place while a phrase is gestured.

    A gestured phrase lifts the hands towards a home in front of the body; the home moves to a
    new place every gesture unit (1–2.5 s), up to ``ctx.spread`` shoulder widths sideways and
    up or down (mostly up from a hand the photo holds low, mostly down from one it holds high:
    :data:`HOME_HIGH`), as speakers shift where they hold their hands; the move goes with
    a stroke's preparation, so it speeds the hand on towards the stroke rather than away from
    it. In a phrase of mostly two-handed strokes both arms take these draws from ``ctx.pair``:
    their homes move at the same moments, mirrored. Pauses in ``ctx.clasps`` bring the hands
    together. An arm whose wrist is not seen gets a small fixed lift of the elbow instead.
    """
    T, fps, speed = ctx.ramp.shape[0], ctx.fps, ctx.speed
    ref, neck = ctx.ref, L.neck(ctx.ref)
    centre = np.array([0.65 * ref[arm.shoulder, 0] + 0.35 * neck[0], neck[1] + 1.05 * sw])
    home = np.zeros((T, 2))
    frames = np.array([s.frame for s in strokes if s.hands in (arm.side, "both")], dtype=int)
    paired = np.array([s.frame for s in strokes if s.hands == "both"], dtype=int)
    shared = np.random.default_rng(ctx.pair) if ctx.pair is not None else None
    inward = max(side * (rest[0] - neck[0]) / sw - MIDLINE_GAP - SOFT_EDGE, 0.0)
    lo_drop, hi_drop = HOME_HIGH
    down = HOME_DOWN * float(np.clip((hi_drop - (rest[1] - neck[1]) / sw) / (hi_drop - lo_drop),
                                     0.0, 1.0))

    def place(lo, hi, cuts, k, lift, wanders):
        base = k * (centre - rest) - np.array([0.0, lift]) * sw
        for (p, q), (u, v) in zip(zip([lo, *cuts], [*cuts, hi]), wanders):
            # sideways -1..1 (outwards +), up -0.3..1.0 (mostly up) less ``down`` for a hand
            # held high, times the style's spread
            spot = base + np.array([side * u, down - v]) * ctx.spread * sw
            # The home stays clear of the midline limit, so a gesture has room to move there.
            spot[0] = side * max(side * spot[0], -inward * sw)
            home[p:q] = spot

    for a, b in spans:
        k, lift = rng.uniform(0.3, 0.55), rng.uniform(0.08, 0.2)
        mine = frames[(frames >= a) & (frames < b)]
        cuts = _unit_cuts(mine, a, rng=rng, fps=fps / speed)    # draws even when unused
        both = paired[(paired >= a) & (paired < b)]
        if shared is not None:     # both arms draw these, in the same order, whatever they do
            pair = (shared.uniform(0.3, 0.55), shared.uniform(0.08, 0.2))
            pcuts = _unit_cuts(both, a, rng=shared, fps=fps / speed)
            pwanders = [(shared.uniform(-1.0, 1.0), shared.uniform(-0.3, 1.0))
                        for _ in range(len(pcuts) + 1)]
        if not mine.size:
            continue
        lo, hi = max(0, a - int(0.3 * fps / speed)), min(T, b + int(0.35 * fps / speed))
        if not wrist_seen:
            home[lo:hi] = np.array([side * 0.06, -0.04]) * sw * k / 0.375
            continue
        wanders = [(rng.uniform(-1.0, 1.0), rng.uniform(-0.3, 1.0)) for _ in range(len(cuts) + 1)]
        everyone = sum(a <= s.frame < b for s in strokes)
        if shared is not None and 2 * both.size >= everyone:
            # A phrase of mostly two-handed strokes: both homes move at the same moments,
            # mirrored (hands that each wandered on their own moved at different times).
            place(lo, hi, pcuts, *pair, pwanders)
        else:
            place(lo, hi, cuts, k, lift, wanders)
    if wrist_seen:
        for a, b in ctx.clasps:    # hands together in front of the body, each on its side
            home[a:b] = _clasp_point(ctx, sw=sw) + np.array([side * CLASP_GAP / 2 * sw, 0]) - rest
    return gaussian_filter1d(home, 0.2 * fps / speed, axis=0, mode="nearest")


DRIFT_SHARED = 0.7    # the share (correlation) of the hands' idle wander they have in common


def _drift(ctx: ArmContext, *, rng: np.random.Generator, sw: float,
           side: float) -> np.ndarray:
    """A slow wander ``(T, 2)`` (pixels) of the hand: a speaking hand is never quite still,
    nor is a listening one; ``ctx.drift`` shoulder widths (s.d.) over ~0.35 s in speech, a
    share ``ctx.pause_drift`` of that in pauses. With ``ctx.pair``, :data:`DRIFT_SHARED` of it
    is common to both hands, mirrored by the arm's ``side`` (+1 right of the neck)."""
    T = ctx.ramp.shape[0]
    level = _idle_level(ctx)
    sigma = 0.35 * ctx.fps / ctx.speed
    noise = np.stack([G.smooth_noise(rng, T, sigma), G.smooth_noise(rng, T, sigma)], axis=1)
    if ctx.pair is not None:
        # Part of the wander both hands share, mirrored: hands drift together.
        shared = np.random.default_rng([*ctx.pair.generate_state(2), 1])   # not the home's
        common = np.stack([G.smooth_noise(shared, T, sigma), G.smooth_noise(shared, T, sigma)],
                          axis=1) * np.array([side, 1.0])
        noise = DRIFT_SHARED * common + np.sqrt(1.0 - DRIFT_SHARED ** 2) * noise
    return noise * (ctx.drift * sw) * level[:, None]


def _wrist_turn(ctx: ArmContext, *, rng: np.random.Generator) -> np.ndarray:
    """The hand's idle turn about the wrist ``(T,)`` (radians): ``ctx.wrist`` s.d. over
    ~0.2 s in speech, a share ``ctx.pause_drift`` of that in pauses. Real speakers' hands turn
    against the forearm all the time (on 9 shared clips 0.08–1.07 rad s.d., median 0.38, tracker
    glitches aside); hands held rigid on the forearm, turning only on strokes (0.0–0.13),
    looked carved."""
    return G.smooth_noise(rng, ctx.ramp.shape[0], 0.2 * ctx.fps / ctx.speed) * ctx.wrist \
        * _idle_level(ctx)


def _idle_level(ctx: ArmContext) -> np.ndarray:
    """``(T,)`` how much of the idle motion (drift, wrist turn) plays: 1 in speech, a share
    ``ctx.pause_drift`` in pauses."""
    level = np.ones(ctx.ramp.shape[0]) if ctx.speech is None else ctx.speech
    return ctx.pause_drift + (1.0 - ctx.pause_drift) * level


def _clasp_point(ctx: ArmContext, *, sw: float) -> np.ndarray:
    """Where the hands meet in a clasp: in front of the body midline, at the height of the
    photo's wrists, kept between the chest and the belly."""
    ref, neck = ctx.ref, L.neck(ctx.ref)
    y = 0.5 * (ref[L.LEFT_WRIST, 1] + ref[L.RIGHT_WRIST, 1]) - 0.1 * sw
    return np.array([neck[0], np.clip(y, neck[1] + 0.9 * sw, neck[1] + 1.6 * sw)])


def _unit_cuts(strokes: np.ndarray, a: int, *, rng: np.random.Generator, fps: float
               ) -> list[int]:
    """Frames where one gesture unit ends and the next begins, for a phrase starting at ``a``
    with the arm's stroke frames ``strokes``: the preparation (0.25 s before) of the first
    stroke after 1–2.5 s of the unit."""
    cuts, due = [], a + rng.uniform(1.0, 2.5) * fps
    for f in np.sort(strokes):
        if f >= due:
            cuts.append(int(f - 0.25 * fps))
            due = f + rng.uniform(1.0, 2.5) * fps
    return cuts


def _bounds(rest: np.ndarray, ctx: ArmContext, *, sw: float, side: float,
            shoulder: np.ndarray, drop: float = HIGH_HAND_DROP
            ) -> tuple[np.ndarray, np.ndarray]:
    """Where a body can put the wrist and the photo shows it, ``(lo, hi)`` each ``(T, 2)``.

    Above the waist and at most 0.05 shoulder widths below the rest pose (hands resting on a
    desk must not sink into it) unless the photo holds them higher than ``drop`` shoulder
    widths below the neck (chest height, :data:`HIGH_HAND_DROP`), which they may drop to;
    below the top of the head; on its own side of the body midline (:data:`MIDLINE_GAP`, so
    the hands never pass through each other), at most 1.1 outside the shoulder, inside the
    photo (:data:`FRAME_MARGIN`); the rest pose itself is always allowed.
    """
    ref, seen = ctx.ref, ctx.seen
    w, h = ctx.image_size
    neck = L.neck(ref)
    if seen[L.LEFT_HIP] and seen[L.RIGHT_HIP]:
        waist = 0.5 * (ref[L.LEFT_HIP, 1] + ref[L.RIGHT_HIP, 1]) - 0.1 * sw
    else:
        waist = neck[1] + 1.9 * sw
    top = ref[L.NOSE, 1] - 0.3 * sw if seen[L.NOSE] else neck[1] - 1.2 * sw
    y_lo, y_hi = max(top, FRAME_MARGIN * h), min(waist, (1 - FRAME_MARGIN) * h)
    inner, outer = neck[0] + side * MIDLINE_GAP * sw, shoulder[0] + side * 1.1 * sw
    x_lo, x_hi = (max(min(inner, outer), FRAME_MARGIN * w),
                  min(max(inner, outer), (1 - FRAME_MARGIN) * w))
    # Hands held high in the photo may drop to chest height (drop); low ones must not sink.
    y_hi = np.minimum(y_hi, np.maximum(rest[:, 1] + 0.05 * sw, neck[1] + drop * sw))
    lo = np.stack([np.minimum(x_lo, rest[:, 0]), np.minimum(y_lo, rest[:, 1])], axis=1)
    hi = np.stack([np.maximum(x_hi, rest[:, 0]), np.maximum(y_hi, rest[:, 1])], axis=1)
    return lo, hi


def _fit_offsets(offset: np.ndarray, rest: np.ndarray, lo: np.ndarray, hi: np.ndarray
                 ) -> np.ndarray:
    """``offset (T, 2)`` scaled, per axis and direction, so that its 95th percentile reaches
    no further than 90 % of the room between the rest pose and the limit: gestures shrink where
    the photo leaves little room (a hand by the frame's edge) and keep their shape, instead of
    running into the limit and stopping there (on hbr_speaker9 the wanted wrist went a third of
    a shoulder width past the frame's edge, and the hand froze against it)."""
    out = offset.copy()
    for axis in (0, 1):
        v = offset[:, axis]
        for sign, room in ((1.0, hi[:, axis] - rest[:, axis]), (-1.0, rest[:, axis] - lo[:, axis])):
            part = sign * v > 0
            if not part.any():
                continue
            reach = np.percentile(sign * v[part], 95)
            if reach > 1e-6:
                k = min(1.0, 0.9 * float(np.median(room)) / reach)
                out[part, axis] *= k
    return out


def _clamp_target(target: np.ndarray, rest: np.ndarray, lo: np.ndarray, hi: np.ndarray, *,
                  sw: float) -> np.ndarray:
    """Wanted positions kept inside the limits (:func:`_bounds`), softly."""
    soft = SOFT_EDGE * sw
    return np.stack([soft_clip(target[:, a], lo[:, a], hi[:, a], rest[:, a], soft)
                     for a in (0, 1)], axis=1)
