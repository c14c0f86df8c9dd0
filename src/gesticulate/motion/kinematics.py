"""2D arm and hand kinematics in the photo's pixel frame.

An arm is a two-link chain shoulder → elbow → wrist whose link lengths are the photo's bone
lengths, kept exactly: the pose is carried by two angles, ``alpha`` (direction of the upper arm)
and ``beta`` (elbow angle, forearm direction minus upper-arm direction), so any sequence of
angles has the photo's bone lengths by construction (RENDERING.md, "Retargeting": copy
directions, keep lengths). The hand is attached rigidly to the wrist and turns with the forearm;
fingers get only small, clamped spread and curl changes (photo fingers overlap).

Angles are in radians, measured like ``atan2(dy, dx)`` in image coordinates (x right, y down).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gesticulate.skeleton import layout as L


@dataclass(frozen=True)
class ArmChain:
    """133-layout indices of one arm and its hand; ``side`` is the person's side."""

    side: str
    shoulder: int
    elbow: int
    wrist: int
    hand_start: int

    @property
    def hand(self) -> slice:
        return slice(self.hand_start, self.hand_start + 21)


LEFT_ARM = ArmChain("left", L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_HAND_START)
RIGHT_ARM = ArmChain("right", L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST, L.RIGHT_HAND_START)
ARMS = (LEFT_ARM, RIGHT_ARM)

# Elbow flexion range (radians, in the photo's bend direction): never through straight
# (no hyperextension) and never folded flat.
ELBOW_MIN = np.deg2rad(8.0)
ELBOW_MAX = np.deg2rad(150.0)
ELBOW_SOFT = np.deg2rad(15.0)


def wrap_angle(a: np.ndarray) -> np.ndarray:
    """Angles wrapped into [-pi, pi)."""
    return (np.asarray(a) + np.pi) % (2.0 * np.pi) - np.pi


def unit(angle: np.ndarray) -> np.ndarray:
    """Unit vectors ``(..., 2)`` for angles ``(...)``."""
    return np.stack([np.cos(angle), np.sin(angle)], axis=-1)


def rotate(points: np.ndarray, angle: np.ndarray, pivot: np.ndarray) -> np.ndarray:
    """Rotate ``points (..., N, 2)`` by ``angle (...)`` radians about ``pivot (..., 2)``."""
    c, s = np.cos(angle)[..., None], np.sin(angle)[..., None]
    d = points - pivot[..., None, :]
    x = c * d[..., 0] - s * d[..., 1]
    y = s * d[..., 0] + c * d[..., 1]
    return np.stack([x, y], axis=-1) + pivot[..., None, :]


def arm_angles(shoulder: np.ndarray, elbow: np.ndarray, wrist: np.ndarray):
    """Upper-arm angle ``alpha``, elbow angle ``beta`` and lengths of a pose ``(2,)`` each."""
    upper, fore = elbow - shoulder, wrist - elbow
    alpha = np.arctan2(upper[1], upper[0])
    beta = wrap_angle(np.arctan2(fore[1], fore[0]) - alpha)
    return float(alpha), float(beta), float(np.hypot(*upper)), float(np.hypot(*fore))


def bend_sign(beta0: float, shoulder_x: float, neck_x: float) -> float:
    """Direction the elbow bends (+1/-1): the photo's, or elbow-outward when it is straight."""
    if abs(beta0) > np.deg2rad(3.0):
        return float(np.sign(beta0))
    # A straight arm: bend so the forearm turns towards the body midline (elbow stays out).
    return 1.0 if shoulder_x >= neck_x else -1.0


def solve_arm(shoulder: np.ndarray, target: np.ndarray, *, upper: float, fore: float,
              alpha_rest: np.ndarray, beta_rest: float, stiffness: tuple[float, float] = (1.2, 0.1),
              num_iters: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Damped inverse kinematics of a 2-link arm that prefers bending the elbow.

    Minimises ``|wrist(alpha, beta) - target|² + (k_a L)² (alpha - alpha_rest)²
    + (k_b L)² (beta - beta_rest)²`` with ``L = upper + fore`` by a few Gauss-Newton steps,
    all frames at once. In a 2D picture an exact IK must swing the elbow out whenever the hand
    comes in or up (a real arm foreshortens the forearm instead); a stiff shoulder keeps the
    elbow near its place and lets the forearm do the gesture, and the wrist lands near, not
    exactly on, the wanted spot.

    Parameters
    ----------
    shoulder, target : np.ndarray, shape (T, 2)
        Shoulder positions and wanted wrist positions (pixels).
    upper, fore : float
        Upper-arm and forearm lengths (pixels).
    alpha_rest : np.ndarray, shape (T,)
        Rest direction of the upper arm per frame (the start of the search).
    beta_rest : float
        Rest elbow angle.
    stiffness : (float, float)
        ``(k_a, k_b)``: how much the shoulder and the elbow resist leaving their rest angles.

    Returns
    -------
    alpha, beta : np.ndarray, shape (T,)
    """
    length = upper + fore
    la, lb = (stiffness[0] * length) ** 2, (stiffness[1] * length) ** 2
    alpha = np.array(alpha_rest, dtype=np.float64)
    beta = np.full_like(alpha, beta_rest)
    for _ in range(num_iters):
        pa, pb = unit(alpha + np.pi / 2), unit(alpha + beta + np.pi / 2)
        wrist = shoulder + upper * unit(alpha) + fore * unit(alpha + beta)
        r = target - wrist
        ja, jb = upper * pa + fore * pb, fore * pb          # dW/dalpha, dW/dbeta, (T, 2)
        a11 = (ja * ja).sum(1) + la
        a12 = (ja * jb).sum(1)
        a22 = (jb * jb).sum(1) + lb
        g1 = (ja * r).sum(1) - la * (alpha - alpha_rest)
        g2 = (jb * r).sum(1) - lb * (beta - beta_rest)
        det = a11 * a22 - a12 * a12
        alpha = alpha + (a22 * g1 - a12 * g2) / det
        beta = beta + (a11 * g2 - a12 * g1) / det
    return alpha, beta


def forward_two_link(shoulder: np.ndarray, alpha: np.ndarray, beta: np.ndarray, *,
                     upper: float, fore: float) -> tuple[np.ndarray, np.ndarray]:
    """Elbow and wrist ``(T, 2)`` from shoulder ``(T, 2)`` and angles ``(T,)``."""
    elbow = shoulder + upper * unit(alpha)
    wrist = elbow + fore * unit(alpha + beta)
    return elbow, wrist


def elbow_limit(bend: float, beta0: float) -> float:
    """The most an elbow may fold (radians of flexion): :data:`ELBOW_MAX`, or the photo's own
    fold (``bend * beta0``) where that is more."""
    return max(ELBOW_MAX, bend * beta0)


def clamp_elbow(beta: np.ndarray, *, bend: float, beta0: float) -> np.ndarray:
    """Keep the elbow within [ELBOW_MIN, ELBOW_MAX] of flexion, widened to include the photo,
    squeezed softly over the last :data:`ELBOW_SOFT` (on interview_1wrQ6Msp7wM, whose photo
    folds the forearm up against the upper arm, the wanted flexion ran past the limit in half
    the frames and the hand stood still there)."""
    flex = bend * np.asarray(beta, np.float64)
    lo = min(ELBOW_MIN, bend * beta0)
    hi = elbow_limit(bend, beta0)
    rest = np.full_like(flex, bend * beta0)
    return bend * soft_clip(flex, np.full_like(flex, lo), np.full_like(flex, hi), rest, ELBOW_SOFT)


def limit_rate(x: np.ndarray, step: float) -> np.ndarray:
    """``x (T,)`` changing by at most ``step`` per frame, symmetrically in time: the mean of a
    forward and a backward pass of a rate limiter, so a jump becomes a ramp centred on it (no
    lag; ``step / 2`` per frame but for one frame of ``step`` in its middle) and a signal
    slower than ``step`` is returned unchanged."""
    x = np.asarray(x, np.float64)
    fwd, bwd = x.copy(), x.copy()
    for t in range(1, len(x)):
        fwd[t] = fwd[t - 1] + np.clip(x[t] - fwd[t - 1], -step, step)
        bwd[-t - 1] = bwd[-t] + np.clip(x[-t - 1] - bwd[-t], -step, step)
    return 0.5 * (fwd + bwd)


def soft_clip(v: np.ndarray, lo: np.ndarray, hi: np.ndarray, rest: np.ndarray,
              soft: float) -> np.ndarray:
    """``v`` kept inside ``[lo, hi]`` by a smooth squeeze over the last ``soft`` before each
    bound (never past ``rest``, which stays where it is): a joint or a hand pushed towards a
    limit slows and keeps moving a little instead of stopping dead on it, as a hard clip made
    it do (a frozen hand, then a jump)."""
    v = np.asarray(v, np.float64)
    top = np.maximum(hi - soft, np.minimum(rest, hi))
    bot = np.minimum(lo + soft, np.maximum(rest, lo))
    w_hi = np.maximum(hi - top, 1e-9)
    w_lo = np.maximum(bot - lo, 1e-9)
    out = np.where(v > top, top + w_hi * np.tanh((v - top) / w_hi), v)
    return np.where(v < bot, bot - w_lo * np.tanh((bot - v) / w_lo), out)


def pose_hand(hand: np.ndarray, wrist_ref: np.ndarray, wrist: np.ndarray, turn: np.ndarray,
              *, spread: np.ndarray, curl: np.ndarray, point: np.ndarray | None = None
              ) -> np.ndarray:
    """Move the 21 hand points rigidly with the wrist, plus small finger spread and curl.

    Parameters
    ----------
    hand : np.ndarray, shape (21, 2)
        The photo's hand points (pixels), DWPose order.
    wrist_ref : np.ndarray, shape (2,)
        The photo's body wrist (keypoint 9 or 10), the hand's pivot.
    wrist : np.ndarray, shape (T, 2)
        Body wrist per frame.
    turn : np.ndarray, shape (T,)
        Rotation of the hand per frame (forearm turn plus wrist flex), radians.
    spread : np.ndarray, shape (T,)
        Finger fan-out in radians per finger slot (clamped to ±0.12).
    curl : np.ndarray, shape (T,)
        Finger curl 0..0.35: phalanges pulled towards their knuckle, as a curl looks from
        the front (clamped).
    point : np.ndarray, shape (T,), optional
        Pointing 0..1: the index straightens and the other fingers curl up to 0.6 (a fist
        seen from the front), the thumb half as much.

    Returns
    -------
    np.ndarray, shape (T, 21, 2)
    """
    T = wrist.shape[0]
    rel = np.broadcast_to(hand - wrist_ref, (T, 21, 2)).copy()
    spread = np.clip(spread, -0.12, 0.12)
    curl = np.clip(curl, 0.0, 0.35)
    point = np.zeros(T) if point is None else np.clip(point, 0.0, 1.0)
    base = rel[:, 0]
    # The fan's orientation (index → little) decides which way "spread" turns each finger.
    fan = np.cross(hand[5] - hand[0], hand[17] - hand[0])
    fan_sign = 1.0 if fan >= 0 else -1.0
    for k, finger in enumerate(L.HAND_FINGERS):
        idx = np.array(finger)
        rel[:, idx] = rotate(rel[:, idx], fan_sign * (k - 2) * spread, base)
        knuckle = rel[:, idx[0]][:, None, :]
        weight = np.array([0.35, 0.65, 0.9]) * (0.5 if k == 0 else 1.0)
        c = curl * (1.0 - point) + (0.0 if finger == L.HAND_INDEX else 0.6 * point)
        shrink = 1.0 - c[:, None, None] * weight[None, :, None]
        rel[:, idx[1:]] = knuckle + (rel[:, idx[1:]] - knuckle) * shrink
    rel = rotate(rel, turn, np.zeros((T, 2)))
    return rel + wrist[:, None, :]
