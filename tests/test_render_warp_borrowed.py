"""A hand the photo shows unread, or mostly under the other, borrowed from the other hand
mirrored (render/warp/borrowed.py)."""

from __future__ import annotations

import numpy as np

from gesticulate.render.warp.arms import ArmInfo
from gesticulate.render.warp.borrowed import (borrowed_rig, borrowed_texture, borrowers,
                                              mirror_transform, shown)
from gesticulate.render.warp.parts import Parts
from gesticulate.skeleton import layout as L

LH, RH = L.LEFT_HAND_START, L.RIGHT_HAND_START


def _parts(*, left_fore=(70.0, 100.0), left_area=300, right_mode="full", apart=False) -> Parts:
    """Two arms mirror images about x = 100 (but for the left elbow ``left_fore``), each hand a
    square of pixels below its wrist (the left's ``left_area`` of them), the two squares
    joined by a bridge of pixels between them unless ``apart`` (hands laced)."""
    h, w = 240, 200
    left = np.array([(80.0, 50.0), left_fore, (75.0, 150.0), (75.0, 165.0)])
    right = np.array([(120.0, 50.0), (130.0, 100.0), (125.0, 150.0), (125.0, 165.0)])
    segs = {}
    for side, x0, area in (("left", 65, left_area), ("right", 115, 300)):
        hand = np.zeros((h, w), bool)
        side_len = int(np.sqrt(area))
        hand[150:150 + side_len, x0:x0 + side_len] = True
        if side == "right" and not apart:
            hand[152:156, 80:116] = True            # its fingers reach the other hand
        segs[side] = {"upper": np.zeros((h, w), bool), "fore": np.zeros((h, w), bool),
                      "hand": hand}
    return Parts(torso=np.zeros((h, w), bool), head=None,
                 arm_info={"left": ArmInfo("full", left, False),
                           "right": ArmInfo(right_mode, right, True)},
                 segments=segs, shoulder_width=40.0)


def _valid(left_points: int = 0) -> np.ndarray:
    valid = np.zeros(L.NUM_KEYPOINTS, bool)
    valid[RH:RH + 21] = True
    valid[LH:LH + left_points] = True
    return valid


def _apply(m: np.ndarray, p) -> np.ndarray:
    return m[:, :2] @ np.asarray(p, float) + m[:, 2]


def test_an_unread_hand_is_borrowed_from_the_found_one_only():
    assert borrowers(_parts(), _valid()) == {"left": "right"}
    # Found in the photo (5 points or more): its own pixels are kept.
    assert borrowers(_parts(), _valid(L.HAND_FOUND)) == {}
    assert borrowers(_parts(), _valid(L.HAND_FOUND - 1)) == {"left": "right"}
    # Hardly seen (behind the body, past the border): nothing to replace.
    assert borrowers(_parts(left_area=64), _valid()) == {}
    # The other arm leaves the photo: its hand is no whole hand to lend.
    assert borrowers(_parts(right_mode="upper"), _valid()) == {}
    # Apart from the other hand: a whole hand, kept as the photo shows it.
    assert borrowers(_parts(apart=True), _valid()) == {}


def test_a_read_hand_mostly_under_the_other_is_borrowed_too():
    """A hand the detector reads is borrowed where COVERED of it or more lies under the other
    (avspeech_sample2's right hand, under his left, rose as a flat patch of skin)."""
    from gesticulate.render.warp.borrowed import COVERED
    found = _valid(L.HAND_FOUND)
    for hidden_share, borrowed in ((COVERED + 0.05, {"left": "right"}), (COVERED - 0.05, {})):
        parts = _parts()
        own = int(parts.segments["left"]["hand"].sum())
        hidden = np.zeros_like(parts.torso)
        n = int(round(hidden_share * own / (1.0 - hidden_share)))
        hidden.flat[:n] = True
        parts.hidden_hand = {"left": hidden}
        assert borrowers(parts, found) == borrowed


def test_the_mirror_puts_the_other_hand_on_this_wrist_as_it_meets_its_forearm():
    parts = _parts()
    m = mirror_transform(parts, "left", "right")
    right, left = parts.arm_info["right"].joints, parts.arm_info["left"].joints
    assert np.linalg.det(m[:, :2]) < 0                       # mirrored, not turned over
    assert np.allclose(_apply(m, right[2]), left[2])          # wrist onto wrist
    assert np.allclose(_apply(m, right[1]), left[1])          # mirror-image arms: elbow too
    assert np.allclose(_apply(m, right[3]), left[3])
    # The left forearm raised: the borrowed hand turns with it (it meets the forearm as the
    # right hand meets its own).
    parts = _parts(left_fore=(30.0, 130.0))
    m = mirror_transform(parts, "left", "right")
    left = parts.arm_info["left"].joints
    fore = (left[2] - left[1]) / np.linalg.norm(left[2] - left[1])
    out = _apply(m, right[2] + (right[2] - right[1])) - left[2]
    assert np.allclose(out / np.linalg.norm(out), fore)


def test_the_borrowed_rig_and_texture_are_the_other_hands_mirrored():
    parts = _parts()
    ref = np.zeros((L.NUM_KEYPOINTS, 3))
    rng = np.random.default_rng(0)
    ref[RH:RH + 21, :2] = [125.0, 150.0] + rng.uniform(-10, 10, (21, 2))
    ref[RH:RH + 21, 2] = 0.9
    valid = _valid()
    new, bref, seen = borrowed_rig(parts, ref, valid, "left", "right")
    m = mirror_transform(parts, "left", "right")
    assert np.allclose(bref[LH:LH + 21, :2], ref[RH:RH + 21, :2] @ m[:, :2].T + m[:, 2])
    assert seen[LH:LH + 21].all() and new.arm_info["left"].has_hand
    assert not parts.arm_info["left"].has_hand and not valid[LH]      # the photo's untouched
    # The texture: the right hand's pixels land on the left's place, mirrored.
    rgba = np.zeros((240, 200, 4), np.uint8)
    rgba[150:167, 115:132] = (200, 100, 50, 255)
    rgba[150:167, 115] = (0, 255, 0, 255)               # its inner edge (towards the body)
    rgb, alpha = borrowed_texture(rgba, m)
    assert alpha[155:162, 70:80].min() > 0.99 and alpha[:, 100:].max() == 0
    ys, xs = np.nonzero((rgb[..., 1] > 200) & (alpha > 0.5))
    assert len(xs) and 82 <= xs.mean() <= 86                     # mirrored: inner edge inner


def _upright(x: float, lean: float) -> np.ndarray:
    """A hand's 21 landmarks, fingers up: wrist at (x, 200), knuckles 20 px above it, tips 50
    px above, ``lean`` px sideways."""
    pts = np.zeros((21, 2))
    pts[0] = (x, 200.0)
    for k, finger in enumerate(L.HAND_FINGERS):
        base = x + 6.0 * (k - 2)
        for j, point in enumerate(finger):
            f = (j + 1) / len(finger)
            pts[point] = (base + lean * f, 180.0 - 30.0 * f)
    return pts


def test_the_borrowed_hand_shows_where_the_motion_has_it_away_from_the_photos_pose():
    """Raised, or turned where it lay: all of it. Not in the motion, or where the photo has it
    (laced there; the whole body swayed a little counts as there): none of it."""
    rest = np.zeros((L.NUM_KEYPOINTS, 3))
    rest[LH:LH + 21] = np.c_[_upright(90, -10), np.ones(21)]   # the photo's, laced
    rest[L.RIGHT_WRIST] = (110.0, 200.0, 1.0)                   # the other wrist
    tgt = rest.copy()
    assert shown(tgt, "left", rest) == 0.0
    tgt[LH:LH + 21, :2] = _upright(60, 18)                      # raised
    assert shown(tgt, "left", rest) == 1.0
    none = tgt.copy()
    none[LH:LH + 21, 2] = 0.0
    assert shown(none, "left", rest) == 0.0
    swayed = rest.copy()
    swayed[[*range(LH, LH + 21), L.RIGHT_WRIST], 0] += 15.0
    assert shown(swayed, "left", rest) == 0.0
    turned = rest.copy()                  # turned a quarter round its middle, where it lay
    middle = rest[LH:LH + 21, :2].mean(0)
    turned[LH:LH + 21, :2] = (rest[LH:LH + 21, :2] - middle) @ np.array([[0, 1], [-1, 0]]) \
        + middle
    assert shown(turned, "left", rest) == 1.0
    tgt = rest.copy()
    tgt[LH:LH + 21, 0] += 7.0             # a little off its place: part, in 1/32 steps
    part = shown(tgt, "left", rest)
    assert 0.0 < part < 1.0 and (part * 32) % 1 == 0


def test_a_read_hand_the_motion_has_without_landmarks_shows_where_its_wrist_moved():
    """generate's fitted motion drops a hand the photo shows in part: a read (covered) hand
    shows by how far its wrist moved against its own elbow, or the other hand left it; an
    unread one not at all."""
    rest = np.zeros((L.NUM_KEYPOINTS, 3))
    rest[LH:LH + 21] = np.c_[_upright(90, -10), np.ones(21)]   # the photo's own landmarks
    rest[L.LEFT_WRIST] = (90.0, 200.0, 1.0)
    rest[L.LEFT_ELBOW] = (60.0, 150.0, 1.0)
    rest[L.RIGHT_WRIST] = (110.0, 200.0, 1.0)
    tgt = rest.copy()
    tgt[LH:LH + 21, 2] = 0.0                                    # no landmarks in the motion
    assert shown(tgt, "left", rest, read=True) == 0.0           # where the photo has it
    swayed = tgt.copy()
    swayed[[L.LEFT_WRIST, L.LEFT_ELBOW, L.RIGHT_WRIST], 0] += 15.0
    assert shown(swayed, "left", rest, read=True) == 0.0
    left = tgt.copy()
    left[L.RIGHT_WRIST, 1] -= 60.0                              # the other hand rose
    assert shown(left, "left", rest, read=True) == 1.0
    raised = tgt.copy()
    raised[L.LEFT_WRIST, 1] -= 60.0
    assert shown(raised, "left", rest, read=True) == 1.0
    assert shown(raised, "left", rest) == 0.0                   # unread: laced, as the photo


def test_a_read_hand_is_away_from_its_own_landmarks_against_its_own_elbow():
    """A read hand's rest is its own landmarks: turned or carried off by its forearm, it
    shows; and where the other hand leaves it: uncovered in place, its own layer was a flat
    paddle of skin where the other had lain (avspeech_sample2's right hand)."""
    rest = np.zeros((L.NUM_KEYPOINTS, 3))
    rest[LH:LH + 21] = np.c_[_upright(90, -10), np.ones(21)]
    rest[L.LEFT_WRIST] = (90.0, 200.0, 1.0)
    rest[L.LEFT_ELBOW] = (60.0, 150.0, 1.0)
    rest[L.RIGHT_WRIST] = (110.0, 200.0, 1.0)
    assert shown(rest, "left", rest, read=True) == 0.0
    left = rest.copy()
    left[L.RIGHT_WRIST, 1] -= 60.0                              # the other hand rose
    assert shown(left, "left", rest, read=True) == 1.0
    assert shown(left, "left", rest) == 1.0
    raised = rest.copy()
    raised[[*range(LH, LH + 21), L.LEFT_WRIST], 1] -= 60.0      # carried up by its forearm
    assert shown(raised, "left", rest, read=True) == 1.0


def test_a_read_hand_shows_as_the_other_hand_turns_up_off_it_about_a_still_wrist():
    """avspeech_sample2's left hand turns up off his right, its wrist staying on the desk: its
    landmarks, not its wrist, say the right hand is uncovered. Moved a little, or carried with
    the body, it still covers it."""
    rest = np.zeros((L.NUM_KEYPOINTS, 3))
    rest[LH:LH + 21] = np.c_[_upright(90, -10), np.ones(21)]   # the covered hand's own
    rest[L.LEFT_WRIST] = (90.0, 200.0, 1.0)
    rest[L.LEFT_ELBOW] = (60.0, 150.0, 1.0)
    flat = _upright(130, 0)[:, ::-1]                           # the other lying across it
    rest[RH:RH + 21] = np.c_[flat, np.ones(21)]
    rest[L.RIGHT_WRIST] = (*flat[0], 1.0)
    tgt = rest.copy()
    tgt[LH:LH + 21, 2] = 0.0                                    # its landmarks not in the motion
    assert shown(tgt, "left", rest, read=True) == 0.0
    up = tgt.copy()                       # turned up a quarter round its own still wrist
    w = rest[L.RIGHT_WRIST, :2]
    up[RH:RH + 21, :2] = (rest[RH:RH + 21, :2] - w) @ np.array([[0, 1], [-1, 0]]) + w
    assert shown(up, "left", rest, read=True) == 1.0
    nudged = tgt.copy()
    nudged[RH:RH + 21, 0] += 3.0
    assert shown(nudged, "left", rest, read=True) == 0.0
    swayed = tgt.copy()
    swayed[[*range(RH, RH + 21), L.RIGHT_WRIST, L.LEFT_WRIST, L.LEFT_ELBOW], 0] += 15.0
    assert shown(swayed, "left", rest, read=True) == 0.0
    unseen = up.copy()
    unseen[L.LEFT_WRIST, 2] = 0.0                               # its own wrist lost: unknown
    assert shown(unseen, "left", rest, read=True) == 0.0


def test_what_the_lending_hand_wears_at_its_wrist_is_not_lent():
    """A watch on the lending hand's wrist is painted over with its skin (avspeech_sample2's
    borrowed right hand wore his left wrist's watch too); the rest of the hand is as it was,
    and a hand with nothing at its wrist is lent as it is."""
    from gesticulate.render.warp.borrowed import bare_wrist
    ref = np.zeros((L.NUM_KEYPOINTS, 3))
    valid = np.zeros(L.NUM_KEYPOINTS, bool)
    ref[L.RIGHT_WRIST, :2], ref[RH + 9, :2] = (60.0, 100.0), (140.0, 100.0)   # palm: 80 px
    valid[[L.RIGHT_WRIST, RH + 9]] = True
    rgba = np.zeros((200, 240, 4), np.uint8)
    rgba[80:120, 40:170] = (205, 150, 120, 255)                 # the hand, in skin
    plain = rgba.copy()
    rgba[80:120, 50:72, :3] = (30, 30, 35)                      # a watch across the wrist
    out = bare_wrist(rgba, ref, valid, "right")
    watch = np.abs(out[80:120, 50:72, :3].astype(int) - (205, 150, 120)).max()
    assert watch <= 12, watch
    assert np.array_equal(out[80:120, 80:170], rgba[80:120, 80:170])
    assert np.array_equal(out[..., 3], rgba[..., 3])
    assert np.array_equal(bare_wrist(plain, ref, valid, "right"), plain)
    # Its outline, the blend of the watch and the skin (under the odd colours' limit), goes
    # too: left, it showed as a grey ring where the watch had been.
    rgba[80:120, [49, 72], :3] = (170, 126, 103)                # a fifth of the way to it
    out = bare_wrist(rgba, ref, valid, "right")
    ring = np.abs(out[80:120, [49, 72], :3].astype(int) - (205, 150, 120)).max()
    assert ring <= 12, ring


def test_the_own_hand_and_the_borrowed_one_cross_fade_with_nothing_showing_through():
    from gesticulate.render.warp.renderer import _crossfaded
    canvas = np.zeros((20, 20, 4), np.uint8)
    canvas[..., 0] = 255                                         # red under both hands
    solid = np.ones((10, 10), np.float32)
    own = ((5, 5, 10, 10), np.dstack([np.zeros((10, 10, 2), np.uint8),
                                      np.full((10, 10, 2), 255, np.uint8)]), solid)
    lent = ((5, 5, 10, 10), np.dstack([np.zeros((10, 10), np.uint8),
                                       np.full((10, 10), 255, np.uint8),
                                       np.zeros((10, 10), np.uint8),
                                       np.full((10, 10), 255, np.uint8)]), solid)
    for share, want in ((0.5, (0, 128, 128)), (0.25, (0, 64, 191)), (1.0, (0, 255, 0))):
        out = canvas.copy()
        _crossfaded(out, own, lent, share)
        assert np.abs(out[10, 10, :3].astype(int) - want).max() <= 1, (share, out[10, 10])
        assert (out[0, 0, :3] == (255, 0, 0)).all()              # away from the hands: as was


def test_a_watch_standing_out_of_the_wrist_is_cut_off_the_lent_hand():
    """A watch's case wider than the wrist: painted over in skin, it stood out of the lent
    wrist as a flat bump of skin (avspeech_sample2's borrowed right hand, a paddle); it is cut
    off at the wrist's own width, and the wrist and palm stay."""
    from gesticulate.render.warp.borrowed import bare_wrist
    ref = np.zeros((L.NUM_KEYPOINTS, 3))
    valid = np.zeros(L.NUM_KEYPOINTS, bool)
    ref[L.RIGHT_WRIST, :2], ref[RH + 9, :2] = (60.0, 100.0), (140.0, 100.0)   # palm: 80 px
    valid[[L.RIGHT_WRIST, RH + 9]] = True
    rgba = np.zeros((200, 240, 4), np.uint8)
    rgba[80:120, 20:170] = (205, 150, 120, 255)                 # the forearm's end and hand
    rgba[62:138, 50:72] = (30, 30, 35, 255)                     # a watch, 18 px out each side
    rgba[58:80, 95:106] = (205, 150, 120, 255)                  # a thumb spread out, apart
    out = bare_wrist(rgba, ref, valid, "right")
    assert (out[62:75, 50:72, 3] == 0).all() and (out[125:138, 50:72, 3] == 0).all()
    assert (out[82:118, 20:170, 3] == 255).all()                # the wrist and hand stay
    assert np.abs(out[82:118, 50:72, :3].astype(int) - (205, 150, 120)).max() <= 12
    assert (out[58:80, 95:106, 3] == 255).all()                 # and the thumb
