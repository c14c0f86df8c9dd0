"""2D arm kinematics and hand posing."""

from __future__ import annotations

import numpy as np
import pytest

from gesticulate.motion.gestures import keyframe_track, phrases, pick_strokes, Stroke
from gesticulate.motion.kinematics import (arm_angles, bend_sign, clamp_elbow, forward_two_link,
                                           limit_rate, pose_hand, solve_arm, wrap_angle)


def test_forward_keeps_lengths_and_round_trips_angles():
    rng = np.random.default_rng(0)
    alpha, beta = rng.uniform(-np.pi, np.pi, 50), rng.uniform(-2.5, 2.5, 50)
    shoulder = rng.uniform(0, 500, (50, 2))
    elbow, wrist = forward_two_link(shoulder, alpha, beta, upper=90.0, fore=70.0)
    assert np.allclose(np.linalg.norm(elbow - shoulder, axis=1), 90.0)
    assert np.allclose(np.linalg.norm(wrist - elbow, axis=1), 70.0)
    a, b, u, f = arm_angles(shoulder[0], elbow[0], wrist[0])
    assert np.isclose(wrap_angle(a - alpha[0]), 0) and np.isclose(wrap_angle(b - beta[0]), 0)
    assert np.isclose(u, 90.0) and np.isclose(f, 70.0)


@pytest.mark.parametrize("bend", [1.0, -1.0])
def test_soft_ik_reaches_a_reachable_target_when_not_stiff(bend):
    shoulder = np.zeros((1, 2))
    alpha0, beta0 = np.array([1.4]), 1.2 * bend
    _, target = forward_two_link(shoulder, np.array([1.2]), np.array([1.5 * bend]),
                                 upper=100.0, fore=80.0)
    alpha, beta = solve_arm(shoulder, target, upper=100.0, fore=80.0, alpha_rest=alpha0,
                            beta_rest=beta0, stiffness=(0.0, 0.0), num_iters=20)
    _, wrist = forward_two_link(shoulder, alpha, beta, upper=100.0, fore=80.0)
    assert np.linalg.norm(wrist - target) < 0.5
    assert np.sign(beta[0]) == bend


def test_stiff_shoulder_moves_the_elbow_less():
    shoulder = np.zeros((1, 2))
    alpha0, beta0 = np.array([np.pi / 2]), 1.5
    _, rest = forward_two_link(shoulder, alpha0, np.array([beta0]), upper=100.0, fore=80.0)
    target = rest + np.array([[0.0, -40.0]])
    moved = {}
    for k in (0.0, 1.2):
        a, b = solve_arm(shoulder, target, upper=100.0, fore=80.0, alpha_rest=alpha0,
                         beta_rest=beta0, stiffness=(k, 0.1))
        moved[k] = abs(a[0] - alpha0[0])
    assert moved[1.2] < 0.5 * moved[0.0]


def test_clamp_elbow_prevents_hyperextension():
    beta = np.array([-0.5, 0.0, 0.05, 1.0, 3.0])
    out = clamp_elbow(beta, bend=1.0, beta0=1.0)
    assert np.all(out > 0) and out.max() <= np.deg2rad(150.0) + 1e-9
    assert bend_sign(-0.8, 100.0, 200.0) == -1.0
    assert bend_sign(0.0, 300.0, 200.0) == 1.0 and bend_sign(0.0, 100.0, 200.0) == -1.0


def test_limit_rate_turns_a_jump_into_a_centred_ramp():
    x = np.r_[np.zeros(10), np.full(10, 2.0)]
    y = limit_rate(x, 0.5)
    assert np.abs(np.diff(y)).max() <= 0.5 + 1e-9
    assert np.allclose(y[:6], 0.0) and np.allclose(y[-6:], 2.0)
    assert np.isclose(y[9] + y[10], 2.0)                       # centred on the jump
    slow = np.sin(np.linspace(0, 3, 40))
    assert np.allclose(limit_rate(slow, 0.5), slow)             # slower than the limit: as is


def test_pose_hand_is_rigid_without_finger_changes():
    rng = np.random.default_rng(1)
    hand = rng.uniform(0, 50, (21, 2))
    wrist = np.array([[10.0, 20.0], [30.0, 5.0]])
    out = pose_hand(hand, hand[0], wrist, np.array([0.0, 0.7]), spread=np.zeros(2),
                    curl=np.zeros(2))
    d_ref = np.linalg.norm(hand[:, None] - hand[None], axis=-1)
    for t in range(2):
        assert np.allclose(np.linalg.norm(out[t, :, None] - out[t, None], axis=-1), d_ref)
        assert np.allclose(out[t, 0], wrist[t])


def test_curl_shortens_fingers_a_little():
    hand = np.zeros((21, 2))
    for k in range(5):
        for j in range(4):
            hand[1 + 4 * k + j] = ((k - 2) * 8.0, -(15 + 10 * j))
    out = pose_hand(hand, hand[0], np.zeros((1, 2)), np.zeros(1), spread=np.zeros(1),
                    curl=np.array([0.3]))
    tip_ref, tip = np.linalg.norm(hand[8]), np.linalg.norm(out[0, 8])
    assert 0.7 * tip_ref < tip < tip_ref


def test_phrases_merge_short_pauses():
    vad = np.zeros(100)
    vad[10:30] = 1
    vad[33:50] = 1      # 3-frame pause: same phrase at 25 fps
    vad[80:95] = 1
    assert phrases(vad, fps=25.0) == [(10, 50), (80, 95)]


def test_pick_strokes_keeps_the_strongest_apart():
    score = np.zeros(100)
    score[[10, 12, 30, 31, 60]] = [0.5, 0.9, 0.4, 0.8, 0.05]
    kept = pick_strokes(score, np.array([10, 12, 30, 31, 60]), fps=25.0, refractory_s=0.4,
                        threshold=0.1)
    assert kept.tolist() == [12, 31]


def test_gesture_units_chain_without_retracting():
    strokes = [Stroke(40, 1.0, "beat", "right", 0.3), Stroke(55, 1.0, "beat", "right", 0.3)]
    track = keyframe_track(strokes, "right", num_frames=120, fps=25.0, speed=1.0)
    assert track.shape == (120, 6)
    assert np.abs(track[:, 1]).max() > 0.2
    # Between the two strokes the hand does not fall back to rest.
    assert np.abs(track[42:52, :2]).sum(axis=1).min() > 0.02
    assert np.allclose(track[:20], 0) and np.allclose(track[-5:], 0, atol=1e-3)
    assert np.allclose(keyframe_track(strokes, "left", num_frames=120, fps=25.0, speed=1.0), 0)


def test_a_held_stroke_stays_longer_before_it_goes_back():
    quick = keyframe_track([Stroke(40, 1.0, "open", "right", 0.5)], "right", num_frames=120,
                           fps=25.0, speed=1.0)
    held = keyframe_track([Stroke(40, 1.0, "open", "right", 0.5, hold_s=0.5)], "right",
                          num_frames=120, fps=25.0, speed=1.0)
    assert np.allclose(held[:41], quick[:41])                 # same preparation and stroke
    away = lambda tr: np.abs(tr[:, :2]).sum(axis=1)           # noqa: E731
    assert away(held)[60] > 0.8 * away(held)[40] and away(quick)[60] < 0.8 * away(quick)[40]
    assert np.allclose(held[-5:], 0, atol=1e-3)               # and it does go back


def test_pointing_straightens_the_index_and_curls_the_others():
    from gesticulate.motion.kinematics import pose_hand
    from gesticulate.skeleton import layout as L
    track = keyframe_track([Stroke(40, 1.0, "point", "left", 0.5)], "left", num_frames=100,
                           fps=25.0, speed=1.0)
    assert track[40, 5] > 0.95 and track[:20, 5].max() < 1e-6   # point channel on the stroke
    # An open hand: fingers fanned upwards from the wrist at (0, 0).
    hand = np.zeros((21, 2))
    for k, finger in enumerate(L.HAND_FINGERS):
        direction = np.array([np.sin(0.3 * (k - 2)), -1.0])
        for j, i in enumerate(finger):
            hand[i] = direction * (1.0 + j)
    T = 2
    out = pose_hand(hand, np.zeros(2), np.zeros((T, 2)), np.zeros(T), spread=np.zeros(T),
                    curl=np.zeros(T), point=np.array([0.0, 1.0]))
    tip = lambda f: np.linalg.norm(out[:, f[-1]] - out[:, f[0]], axis=1)   # noqa: E731
    assert np.isclose(tip(L.HAND_INDEX)[1], tip(L.HAND_INDEX)[0])           # index straight
    for f in (L.HAND_MIDDLE, L.HAND_RING, L.HAND_LITTLE):
        assert tip(f)[1] < 0.6 * tip(f)[0]                                 # others curled


def test_soft_clip_slows_at_a_limit_instead_of_stopping_dead():
    """A hand or joint pushed past a limit keeps moving, slower and slower, and never crosses
    it; the middle is untouched, and so is the rest pose even when it lies near a limit (a
    hard clip froze the hand on the limit for as long as the wanted one stayed beyond)."""
    from gesticulate.motion.kinematics import soft_clip
    v = np.linspace(-3.0, 3.0, 601)
    lo, hi = np.full_like(v, -1.0), np.full_like(v, 1.0)
    out = soft_clip(v, lo, hi, np.zeros_like(v), 0.3)
    assert (out > -1).all() and (out < 1).all()
    assert (np.diff(out) > 0).all()                              # strictly rising: no plateau
    mid = np.abs(v) <= 0.7
    assert np.allclose(out[mid], v[mid])
    near = soft_clip(np.array([0.95, 1.0]), np.full(2, -1.0), np.full(2, 1.0), np.full(2, 0.95), 0.3)
    assert near[0] == 0.95 and 0.95 < near[1] < 1.0


def test_gestures_shrink_to_the_room_the_photo_leaves():
    """An arm whose hand rests near the frame's edge: its outward gestures are scaled to the
    room there, keeping their shape, and the inward ones are left as they are."""
    from gesticulate.motion.arms import _fit_offsets
    t = np.linspace(0, 4 * np.pi, 200)
    offset = np.stack([100 * np.sin(t), 20 * np.cos(t)], axis=1)
    rest = np.zeros((200, 2))
    lo = np.full((200, 2), -150.0)
    hi = np.stack([np.full(200, 40.0), np.full(200, 150.0)], axis=1)   # 40 px to the edge
    out = _fit_offsets(offset, rest, lo, hi)
    assert np.percentile(out[:, 0], 95) <= 0.9 * 40 + 1e-6
    pos = offset[:, 0] > 0
    ratio = out[pos, 0] / offset[pos, 0]
    assert np.allclose(ratio, ratio[0])                         # one scale: the shape is kept
    assert np.allclose(out[~pos, 0], offset[~pos, 0]) and np.allclose(out[:, 1], offset[:, 1])
