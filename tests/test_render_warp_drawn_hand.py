"""A hand clasped in the photo, unread and not borrowed, drawn from the motion's landmarks
(render/warp/drawn_hand.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gesticulate.render.warp import WarpRenderer
from gesticulate.render.warp.arms import ArmInfo
from gesticulate.render.warp.drawn_hand import (DrawnHand, Skin, away, draw_hand, drawn_hands,
                                                skin_of)
from gesticulate.render.warp.parts import Parts
from gesticulate.render.warp.testing import pose, reference_keypoints
from gesticulate.skeleton import layout as L

LH, RH = L.LEFT_HAND_START, L.RIGHT_HAND_START
SKIN = Skin(np.array([120.0, 80.0, 60.0]), np.array([200.0, 150.0, 120.0]))


def _open_hand(x: float = 100.0, y: float = 150.0, size: float = 40.0) -> np.ndarray:
    """An upright open hand's 21 landmarks ``(21, 3)``, its wrist at ``(x, y)``, the palm
    ``size`` px long, the fingers spread."""
    pts = [(0.0, 0.0)]
    for k, (dx, length) in enumerate(((-0.45, 0.7), (-0.3, 0.9), (0.0, 1.0), (0.25, 0.9),
                                      (0.45, 0.7))):
        base = (dx * 0.9, -0.35) if k == 0 else (dx, -1.0)
        spread = 0.5 * dx
        for j in range(1, 5):
            pts.append((base[0] + spread * j * length / 3, base[1] - j * length / 3))
    pts = np.array(pts) * size + [x, y]
    return np.column_stack([pts, np.ones(21)])


def test_the_drawn_hand_covers_its_palm_and_fingers_and_parts_them():
    hand = _open_hand()
    box, rgba, alpha = draw_hand(hand, SKIN, (200, 240), blur=0.0)
    x0, y0, w, h = box
    assert rgba.shape == (h, w, 4) and alpha.shape == (h, w)

    def cover(p) -> float:
        y, x = int(round(p[1])) - y0, int(round(p[0])) - x0
        return float(alpha[y, x]) if 0 <= y < h and 0 <= x < w else 0.0

    for i in (4, 8, 12, 16, 20):                  # the fingertips
        assert cover(hand[i]) > 0.9, i
    assert cover((hand[0] + hand[9]) / 2) > 0.9     # the palm
    # Between two fingertips, apart: no skin (the fingers are drawn one by one, not a mitten).
    assert cover((hand[8] + hand[12]) / 2) < 0.1
    # The box's corners lie off the hand: nothing.
    assert alpha[0, 0] == 0.0 and alpha[-1, -1] == 0.0 and alpha[0, -1] == 0.0
    # The skin's colours, lightest on a finger's axis and darker at its edge.
    mid = rgba[int(round(hand[10, 1])) - y0, int(round(hand[10, 0])) - x0, :3].astype(float)
    assert np.abs(mid - SKIN.light).max() < 25
    lo = np.minimum(SKIN.dark, SKIN.light) - 2
    hi = np.maximum(SKIN.dark, SKIN.light) + 2
    on = alpha > 0.99
    assert ((rgba[on][:, :3] >= lo) & (rgba[on][:, :3] <= hi)).all()


def test_the_drawn_wrist_reaches_back_to_the_forearm():
    hand = _open_hand()
    elbow = hand[0, :2] + [0.0, 80.0]
    box, _, alpha = draw_hand(hand, SKIN, (200, 240), elbow=elbow, blur=0.0)
    below = hand[0, :2] + [0.0, 12.0]               # between the wrist and the elbow
    assert alpha[int(below[1]) - box[1], int(below[0]) - box[0]] > 0.9
    # Without the elbow, the hand ends at its wrist.
    box, _, alpha = draw_hand(hand, SKIN, (200, 240), blur=0.0)
    y, x = int(below[1]) - box[1], int(below[0]) - box[0]
    assert y >= alpha.shape[0] or alpha[y, x] < 0.1


def test_a_hand_too_little_seen_or_outside_the_picture_is_not_drawn():
    hand = _open_hand()
    few = hand.copy()
    few[L.HAND_FOUND:, 2] = 0.0
    assert draw_hand(few, SKIN, (200, 240)) is not None         # just enough
    few[L.HAND_FOUND - 1, 2] = 0.0
    assert draw_hand(few, SKIN, (200, 240)) is None
    no_wrist = hand.copy()
    no_wrist[0, 2] = 0.0
    assert draw_hand(no_wrist, SKIN, (200, 240)) is None
    assert draw_hand(hand + [500.0, 0.0, 0.0], SKIN, (200, 240)) is None
    # Cut by the picture's edge: drawn inside it.
    box, rgba, alpha = draw_hand(hand + [85.0, 0.0, 0.0], SKIN, (200, 240))
    assert box[0] + box[2] == 200 and alpha.shape == (box[3], box[2]) and alpha.max() == 1.0
    # An unseen finger is left out, the rest drawn.
    part = hand.copy()
    part[17:21, 2] = 0.0
    box, _, alpha = draw_hand(part, SKIN, (200, 240), blur=0.0)
    tip = hand[20]
    assert alpha[int(tip[1]) - box[1], int(tip[0]) - box[0]] < 0.1


def _target(left_wrist, right_wrist, *, found: bool = True) -> np.ndarray:
    kp = np.zeros((L.NUM_KEYPOINTS, 3))
    kp[L.LEFT_WRIST] = (*left_wrist, 1.0)
    kp[L.RIGHT_WRIST] = (*right_wrist, 1.0)
    if found:
        kp[LH:LH + 21] = _open_hand(*left_wrist)
    return kp


def test_the_drawn_hand_shows_where_the_motion_opens_it_away_from_the_photos_pose():
    rest = _target((110.0, 150.0), (90.0, 150.0), found=False)
    # As the photo holds it, unread: the photo's pixels.
    assert away(rest, "left", rest) == 0.0
    # Found, but where the photo holds it: still the photo's.
    assert away(_target((110.0, 150.0), (90.0, 150.0)), "left", rest) == 0.0
    # Found and carried away from the other hand: drawn.
    assert away(_target((170.0, 110.0), (90.0, 150.0)), "left", rest) == 1.0
    # Both hands carried together (still clasped): the photo's.
    assert away(_target((150.0, 120.0), (130.0, 120.0)), "left", rest) == 0.0
    # Carried away but not found (laced again, turned from the camera): the photo's.
    assert away(_target((170.0, 110.0), (90.0, 150.0), found=False), "left", rest) == 0.0
    # In between: a share in steps of 1/32.
    half = away(_target((122.0, 150.0), (90.0, 150.0)), "left", rest)
    assert 0.0 < half < 1.0 and half * 32 == int(half * 32)
    # Its wrist unseen (the hand floats free of the arm): the photo's.
    lost = _target((170.0, 110.0), (90.0, 150.0))
    lost[L.LEFT_WRIST, 2] = 0.0
    assert away(lost, "left", rest) == 0.0
    # The other wrist unseen: moved against the picture.
    alone = _target((170.0, 110.0), (90.0, 150.0))
    alone[L.RIGHT_WRIST, 2] = 0.0
    assert away(alone, "left", rest) == 1.0
    alone = _target((110.0, 150.0), (90.0, 150.0))
    alone[L.RIGHT_WRIST, 2] = 0.0
    assert away(alone, "left", rest) == 0.0


def _parts(*, gap: int = 2) -> Parts:
    """Two arms, each hand a square below its wrist, ``gap`` px apart, each forearm a band above
    its hand."""
    h, w = 240, 200
    segs = {}
    for side, x0 in (("left", 100 + gap), ("right", 82)):
        hand = np.zeros((h, w), bool)
        hand[150:170, x0:x0 + 18] = True
        fore = np.zeros((h, w), bool)
        fore[100:150, x0:x0 + 18] = True
        segs[side] = {"upper": np.zeros((h, w), bool), "fore": fore, "hand": hand}
    joints = {"left": np.array([(120.0, 50.0), (110.0, 100.0), (110.0, 150.0), (110.0, 165.0)]),
              "right": np.array([(80.0, 50.0), (90.0, 100.0), (90.0, 150.0), (90.0, 165.0)])}
    return Parts(torso=np.zeros((h, w), bool), head=None,
                 arm_info={s: ArmInfo("full", joints[s], False) for s in joints},
                 segments=segs, shoulder_width=40.0)


class _Layer:
    def __init__(self, name: str):
        self.name = name


def test_only_clasped_hands_neither_read_nor_borrowed_are_drawn():
    image = np.full((240, 200, 3), (150, 100, 80), np.uint8)
    layers = [_Layer(n) for n in ("torso", "fore_left", "fore_right", "hand_left", "hand_right")]
    valid = np.zeros(L.NUM_KEYPOINTS, bool)
    drawn = drawn_hands(layers, _parts(), image, valid, set())
    assert [(d.side, d.index) for d in drawn] == [("left", 3), ("right", 4)]
    assert np.allclose(drawn[0].skin.dark, drawn[0].skin.light)      # one flat colour
    assert np.abs(drawn[0].skin.dark - (150, 100, 80)).max() < 1
    # Read in the photo: its own landmarks turn it.
    read = valid.copy()
    read[RH:RH + 21] = True
    assert [d.side for d in drawn_hands(layers, _parts(), image, read, set())] == ["left"]
    # Borrowed from the other: the other's pixels, mirrored.
    assert [d.side for d in drawn_hands(layers, _parts(), image, valid, {"left"})] == ["right"]
    # Apart from the other: a whole hand, kept.
    assert drawn_hands(layers, _parts(gap=20), image, valid, set()) == []


def test_the_skin_is_the_forearms_by_the_wrist_without_its_bracelet():
    image = np.full((240, 200, 3), (150, 100, 80), np.uint8)
    fore = np.zeros((240, 200), bool)
    fore[100:150, 100:118] = True
    image[140:146, 100:118] = (250, 230, 20)          # a yellow bracelet by the wrist
    image[100:110, 100:118] = (20, 20, 200)           # a blue sleeve by the elbow
    skin = skin_of(image, fore, np.array([109.0, 148.0]), np.array([109.0, 100.0]))
    assert np.abs(skin.dark - (150, 100, 80)).max() < 2
    assert np.abs(skin.light - (150, 100, 80)).max() < 2
    assert skin_of(image, np.zeros_like(fore), np.array([109.0, 148.0]),
                   np.array([109.0, 100.0])) is None


@pytest.fixture(scope="module", params=[0, 24], ids=["full", "letterboxed"])
def desk(shared_data, request):
    """The desk photo at 256 px, or with black bars of ``param`` rows above and below (the
    puppet then lives in the picture between them, shifted), its right hand unread (the hand's
    own layer then turns with the forearm alone, whatever the motion's fingers do)."""
    image = cv2.cvtColor(cv2.imread(str(shared_data / "photo" / "desk_host_body.png")),
                         cv2.COLOR_BGR2RGB)
    bar = request.param
    image = cv2.resize(image, (256, 256 - 2 * bar), interpolation=cv2.INTER_AREA)
    image = cv2.copyMakeBorder(image, bar, bar, 0, 0, cv2.BORDER_CONSTANT, value=0)
    ref = reference_keypoints(image)
    ref[RH:RH + 21, 2] = 0.0
    return image, ref, WarpRenderer(image, ref)


def _fresh(renderer: WarpRenderer, target: np.ndarray) -> np.ndarray:
    """``target`` rendered with no frame before it."""
    renderer._last = None
    renderer._cache.clear()
    return renderer.render(target)


def test_a_drawn_hand_replaces_its_own_layer_where_the_motion_opens_it(desk):
    image, ref, renderer = desk
    names = [layer.name for layer in renderer.layers]
    still = _fresh(renderer, ref)
    renderer._drawn = [DrawnHand("right", names.index("hand_right"), SKIN)]
    try:
        # The photo's own pose renders as it did.
        assert np.array_equal(_fresh(renderer, ref), still)
        target = pose(ref, fore={"right": 0.9})
        # The motion opens the hand: an open hand of the drawn skin at the motion's fingertip
        # (in the picture's pixels, bars and all).
        wrist = target[L.RIGHT_WRIST, :2]
        target[RH:RH + 21] = _open_hand(*wrist, size=18.0)
        out = renderer.render(target)
        tip = np.round(target[RH + 12, :2]).astype(int)
        near = out[tip[1] - 1:tip[1] + 2, tip[0] - 1:tip[0] + 2].reshape(-1, 3).astype(float)
        assert np.abs(near.mean(0) - (SKIN.dark + SKIN.light) / 2).max() < 45
        # Only the fingers move: a new picture, the same as with no frame before it.
        bent = target.copy()
        bent[RH + 9:RH + 13, :2] += [4.0, 3.0]
        again = renderer.render(bent)
        assert not np.array_equal(again, out)
        assert np.array_equal(again, _fresh(renderer, bent))
        assert np.array_equal(renderer.render(target), out)
    finally:
        renderer._drawn = []
        renderer._last = None


def test_the_shared_photos_clasped_hands_are_drawn_and_a_hand_apart_is_kept(shared_data):
    from gesticulate.evaluate.media import first_frame

    got = {}
    for clip in ("ted_lia_driving2_noaudio.mp4", "interview_1wrQ6Msp7wM.mp4"):
        image = first_frame(shared_data / "video" / clip)
        image = cv2.resize(image, (384, 384 * image.shape[0] // image.shape[1]),
                           interpolation=cv2.INTER_AREA)
        got[clip] = sorted(d.side for d in WarpRenderer(image, reference_keypoints(image))._drawn)
    assert got == {"ted_lia_driving2_noaudio.mp4": ["left", "right"],
                   "interview_1wrQ6Msp7wM.mp4": []}
