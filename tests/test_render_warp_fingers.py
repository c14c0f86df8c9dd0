"""Finger bones of the warp renderer: each finger turns about its knuckle and stretches along
itself (pose.Poser._fingers), and the hand layer's vertices follow the finger they lie on
(rig._finger_shares)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from gesticulate.render.warp import bones as B
from gesticulate.render.warp.pose import FINGER_TURN, Poser
from gesticulate.render.warp.rig import _finger_shares
from gesticulate.skeleton import layout as L

HS = L.LEFT_HAND_START
INDEX, LITTLE = 1, 4            # their slots in bones.FINGER_CHAINS


def _open_hand() -> np.ndarray:
    """(133, 3): an open hand, fingers straight up 12 px apart, the thumb out to the left."""
    kp = np.zeros((133, 3))
    hand = np.zeros((21, 2))
    hand[0] = (100, 200)
    hand[1:5] = [(86, 190), (76, 180), (68, 170), (62, 160)]          # thumb
    for k, finger in enumerate(L.HAND_FINGERS[1:]):
        x = 84 + 12 * k
        hand[list(finger)] = [(x, 150), (x, 135), (x, 124), (x, 114)]
    kp[HS:HS + 21, :2] = hand
    kp[HS:HS + 21, 2] = 1.0
    return kp


def _poser(kp: np.ndarray) -> SimpleNamespace:
    return SimpleNamespace(ref=kp.astype(np.float64), valid=kp[:, 2] > 0.5, lone={})


def _turned(kp: np.ndarray, finger: int, angle: float) -> np.ndarray:
    out = kp.copy()
    chain = [HS + j for j in B.FINGER_CHAINS[finger]]
    c, s = np.cos(angle), np.sin(angle)
    knuckle = kp[chain[0], :2]
    out[chain, :2] = (kp[chain, :2] - knuckle) @ np.array([[c, -s], [s, c]]).T + knuckle
    return out


def _apply(m: np.ndarray, p: np.ndarray) -> np.ndarray:
    return m[:, :2] @ p + m[:, 2]


def test_a_finger_turns_about_its_knuckle_and_the_others_stay_with_the_hand():
    kp = _open_hand()
    ident = np.hstack([np.eye(2), np.zeros((2, 1))])
    tgt = _turned(kp, INDEX, 0.3)
    out = Poser._fingers(_poser(kp), HS, tgt, tgt[:, 2] > 0.5, ident, True)
    chain = [HS + j for j in B.FINGER_CHAINS[INDEX]]
    assert np.linalg.norm(_apply(out[INDEX], kp[chain[-1], :2]) - tgt[chain[-1], :2]) < 0.5
    assert np.linalg.norm(_apply(out[INDEX], kp[chain[0], :2]) - kp[chain[0], :2]) < 1e-6
    for k in (0, 2, 3, 4):
        assert np.allclose(out[k], ident, atol=1e-9), k
    # Carried by the hand: the knuckle goes where the hand takes it.
    moved = np.hstack([np.eye(2), np.array([[5.0], [-3.0]])])
    out = Poser._fingers(_poser(kp), HS, tgt + [5.0, -3.0, 0.0], tgt[:, 2] > 0.5, moved, True)
    assert np.linalg.norm(_apply(out[INDEX], kp[chain[0], :2]) - (kp[chain[0], :2] + [5, -3])) \
        < 1e-6


def test_a_finger_turns_at_most_finger_turn_and_a_curled_one_goes_with_the_hand():
    kp = _open_hand()
    ident = np.hstack([np.eye(2), np.zeros((2, 1))])
    chain = [HS + j for j in B.FINGER_CHAINS[LITTLE]]
    tgt = _turned(kp, LITTLE, -1.2)
    out = Poser._fingers(_poser(kp), HS, tgt, tgt[:, 2] > 0.5, ident, True)
    before = kp[chain[-1], :2] - kp[chain[0], :2]
    after = _apply(out[LITTLE], kp[chain[-1], :2]) - _apply(out[LITTLE], kp[chain[0], :2])
    turn = np.arctan2(before[0] * after[1] - before[1] * after[0], before @ after)
    assert abs(turn + FINGER_TURN) < 1e-6
    # Curled into the palm (its tip by its knuckle): no direction to follow.
    curled = kp.copy()
    curled[chain[1:], :2] = kp[chain[0], :2] + [1.0, 2.0]
    out = Poser._fingers(_poser(kp), HS, curled, curled[:, 2] > 0.5, ident, True)
    assert np.allclose(out[LITTLE], ident)
    # A photo without the hand, or the target without it: every finger is the hand.
    gone = kp.copy()
    gone[HS:HS + 21, 2] = 0
    assert all(np.allclose(m, ident) for m in
               Poser._fingers(_poser(kp), HS, gone, gone[:, 2] > 0.5, ident, True))
    assert all(np.allclose(m, ident) for m in
               Poser._fingers(_poser(kp), HS, tgt, tgt[:, 2] > 0.5, ident, False))


def test_the_hand_layer_follows_the_finger_it_lies_on():
    kp = _open_hand()
    valid = kp[:, 2] > 0.5
    index_tip, middle_tip = kp[HS + 8, :2], kp[HS + 12, :2]
    v = np.array([index_tip, (index_tip + middle_tip) / 2, (100, 175), (100, 60), (150, 130)])
    shares = _finger_shares(v, kp, valid, HS)
    assert shares[0, INDEX] > 0.9                            # on the index's tip
    assert abs(shares[1, INDEX] - shares[1, INDEX + 1]) < 1e-6 and shares[1].sum() > 0.95
    assert shares[2].sum() == 0                              # the palm
    assert shares[3].sum() == 0 and shares[4].sum() == 0     # far above, far beside
    assert (shares.sum(1) <= 1 + 1e-9).all()
