"""An arm the photo shows only to its elbow, its forearm and hand lent by the other arm
mirrored (render/warp/lent.py)."""

from __future__ import annotations

import numpy as np

from gesticulate.render.warp.arms import ArmInfo
from gesticulate.render.warp.lent import (EXTRUDE_FROM, extruded, lenders, lends, lent_rig,
                                         lent_transform)
from gesticulate.render.warp.parts import Parts
from gesticulate.skeleton import layout as L

LH, RH = L.LEFT_HAND_START, L.RIGHT_HAND_START
H, W = 240, 200


def _parts(*, left_mode="upper", right_mode="full", right_hand=True, right_elbow=(150.0, 200.0)
           ) -> Parts:
    """The left arm leaves the picture at its elbow (130, 200); the right's forearm rises from
    ``right_elbow`` to a wrist at (170, 150), its hand above."""
    left = np.array([(100.0, 60.0), (130.0, 200.0), (160.0, 340.0), (170.0, 390.0)])
    rx, ry = right_elbow
    right = np.array([(60.0, 60.0), (rx, ry), (170.0, 150.0), (175.0, 135.0)])
    segs = {side: {piece: np.zeros((H, W), bool) for piece in ("upper", "fore", "hand")}
            for side in ("left", "right")}
    segs["right"]["fore"][150:200, 150:170] = True
    segs["right"]["hand"][130:150, 160:180] = right_hand
    return Parts(torso=np.zeros((H, W), bool), head=None,
                 arm_info={"left": ArmInfo(left_mode, left, False),
                           "right": ArmInfo(right_mode, right, right_hand)},
                 segments=segs, shoulder_width=40.0)


def _apply(m: np.ndarray, p) -> np.ndarray:
    return np.asarray(p, float) @ m[:, :2].T + m[:, 2]


def test_an_arm_cut_at_its_elbow_is_lent_the_other_whole_arm_only():
    assert lenders(_parts()) == {"left": "right"}
    assert lenders(_parts(left_mode="full")) == {}            # its own forearm and hand
    assert lenders(_parts(right_mode="upper")) == {}          # nothing to lend
    assert lenders(_parts(right_hand=False)) == {}            # no hand found to lend


def test_the_lent_arm_is_the_other_mirrored_onto_its_elbow_and_kept_in_the_picture():
    parts = _parts()
    shown = parts.segments["right"]["fore"] | parts.segments["right"]["hand"]
    m, shift = lent_transform(parts, "left", "right", shown)
    assert np.linalg.det(m[:, :2]) < 0                                  # mirrored
    assert np.allclose(shift, 0) and np.allclose(_apply(m, (150.0, 200.0)), (130.0, 200.0))
    # The mirror would put it past the right edge: moved in as far as it must.
    parts = _parts(right_elbow=(190.0, 200.0))
    shown = np.zeros((H, W), bool)
    shown[150:200, 20:100] = True
    m, shift = lent_transform(parts, "left", "right", shown)
    ys, xs = np.nonzero(shown)
    moved = _apply(m, np.stack([xs, ys], 1))
    assert np.isclose(moved[:, 0].max(), W - 1) and shift[0] < 0 and shift[1] == 0
    assert lent_transform(parts, "left", "right", np.zeros((H, W), bool)) is None
    # The rig: this arm's shoulder and elbow moved with it, the other's wrist and hand landmarks
    # mirrored onto it, a whole arm with a hand.
    ref = np.zeros((L.NUM_KEYPOINTS, 3))
    ref[RH:RH + 21, :2] = np.random.default_rng(0).uniform(160, 180, (21, 2))
    ref[RH:RH + 21, 2] = 0.9
    valid = np.zeros(L.NUM_KEYPOINTS, bool)
    valid[RH:RH + 21] = True
    rig, lref, seen = lent_rig(parts, ref, valid, "left", "right", m, shift)
    info = rig.arm_info["left"]
    assert info.mode == "full" and info.has_hand
    assert np.allclose(info.joints[:2], parts.arm_info["left"].joints[:2] + shift)
    assert np.allclose(info.joints[2], _apply(m, parts.arm_info["right"].joints[2]))
    assert np.allclose(lref[LH:LH + 21, :2], _apply(m, ref[RH:RH + 21, :2]))
    assert np.allclose(lref[[L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST], :2], info.joints[:3])
    assert seen[LH:LH + 21].all() and not valid[LH]                     # the photo's untouched
    assert parts.arm_info["left"].mode == "upper"


def test_the_lent_forearms_elbow_end_is_its_middle_drawn_on():
    """What lies by the other forearm's elbow (its own upper arm, a microphone's stem across
    it) is not lent: the elbow end takes the cross-section at EXTRUDE_FROM; a strip beside
    the forearm, apart from it, is dropped."""
    rgba = np.zeros((H, W, 4), np.uint8)
    elbow, wrist = np.array([100.0, 200.0]), np.array([100.0, 100.0])    # upright forearm
    rgba[100:205, 90:111] = (200, 160, 140, 255)                        # the forearm
    rgba[180:200, 90:111, :3] = (20, 20, 20)                            # a black stem at the elbow
    rgba[100:200, 130:136] = (220, 120, 60, 255)                        # a strip apart
    out = extruded(rgba, elbow, wrist)
    mid = int(200 - EXTRUDE_FROM * 100)
    assert (out[mid + 5:200, 92:109, :3] == (200, 160, 140)).all()       # no black stem
    assert (out[100:200, 130:136, 3] == 0).all()                         # the strip is gone
    assert (out[212:, :, 3] == 0).all()                                  # nothing past the elbow
    assert (out[100:mid - 2, 92:109] == rgba[100:mid - 2, 92:109]).all()  # the wrist end as was
    assert (extruded(rgba, elbow, elbow) == rgba).all()                 # no forearm: as it was


def test_the_lent_arm_shows_where_the_motion_has_that_hand_and_wrist():
    tgt = np.zeros((L.NUM_KEYPOINTS, 3))
    tgt[LH:LH + 21] = (120.0, 140.0, 0.9)
    tgt[L.LEFT_WRIST] = (120.0, 150.0, 0.9)
    assert lends(tgt, "left") and not lends(tgt, "right")
    for point in (L.LEFT_WRIST, slice(LH, LH + 21)):
        gone = tgt.copy()
        gone[point, 2] = 0.0
        assert not lends(gone, "left")
