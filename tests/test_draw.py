"""DWPose-style drawing: limb colours where the limbs are, nothing for unseen points."""

from __future__ import annotations

import numpy as np
import pytest

from gesticulate.errors import InputError, OptionError
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.draw import draw_pose_map, draw_skeleton, line_widths

SIZE = (512, 512)


def frontal_pose() -> np.ndarray:
    """A frontal upper body (133, 3) in a 512 x 512 frame; legs and feet unseen."""
    kp = np.zeros((133, 3), np.float32)
    body = {L.NOSE: (128, 60), L.LEFT_EYE: (136, 52), L.RIGHT_EYE: (120, 52),
            L.LEFT_EAR: (146, 56), L.RIGHT_EAR: (110, 56),
            L.LEFT_SHOULDER: (180, 120), L.RIGHT_SHOULDER: (76, 120),
            L.LEFT_ELBOW: (200, 170), L.RIGHT_ELBOW: (56, 170),
            L.LEFT_WRIST: (190, 200), L.RIGHT_WRIST: (66, 200),
            L.LEFT_HIP: (160, 250), L.RIGHT_HIP: (96, 250)}
    for i, xy in body.items():
        kp[i] = (*xy, 1.0)
    a = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    kp[L.FACE] = np.stack([128 + 14 * np.cos(a), 70 + 18 * np.sin(a), np.ones(68)], 1)
    for start, wrist, sign in ((91, L.LEFT_WRIST, 1), (112, L.RIGHT_WRIST, -1)):
        kp[start] = kp[wrist]
        for f in range(5):  # fingers fanning downwards, joints 12 px apart
            ang = np.radians(90 + sign * (60 - 25 * f))
            for j in range(4):
                r = 12 * (j + 1)
                kp[start + 1 + 4 * f + j] = (kp[wrist, 0] + r * np.cos(ang),
                                             kp[wrist, 1] + r * np.sin(ang), 1.0)
    kp[:, :2] *= 2
    return kp


def pixel(img: np.ndarray, xy) -> np.ndarray:
    return img[int(round(xy[1])), int(round(xy[0]))].astype(int)


def test_shape_dtype_and_black_background():
    img = draw_pose_map(frontal_pose(), size=(640, 480))
    assert img.shape == (480, 640, 3) and img.dtype == np.uint8
    assert (img[0:20, 0:20] == 0).all()  # far from the skeleton: black
    assert (img > 0).any(axis=-1).mean() > 0.01


@pytest.mark.parametrize("style, rgb", [("dwpose", (153, 0, 0)), ("mimicmotion", (0, 0, 153))])
def test_body_limb_colours(style, rgb):
    kp = frontal_pose()
    img = draw_pose_map(kp, size=SIZE, style=style)
    neck = 0.5 * (kp[L.LEFT_SHOULDER, :2] + kp[L.RIGHT_SHOULDER, :2])
    # neck -> right shoulder is OpenPose's first limb: red at 60 % (blue when drawn BGR)
    mid = 0.5 * (neck + kp[L.RIGHT_SHOULDER, :2])
    np.testing.assert_allclose(pixel(img, mid), rgb, atol=2)
    # right shoulder -> right elbow: orange (255, 170, 0) at 60 %
    mid = 0.5 * (kp[L.RIGHT_SHOULDER, :2] + kp[L.RIGHT_ELBOW, :2])
    want = (153, 102, 0) if style == "dwpose" else (0, 102, 153)
    np.testing.assert_allclose(pixel(img, mid), want, atol=2)


def test_hand_and_face_conventions():
    kp = frontal_pose()
    img = draw_pose_map(kp, size=SIZE, style="dwpose")
    hand = kp[L.LEFT_HAND]
    np.testing.assert_allclose(pixel(img, hand[4, :2]), (0, 0, 255), atol=1)   # blue joint
    # edge 3 (thumb joint 3 -> tip): hue 3/20 = orange-yellow
    np.testing.assert_allclose(pixel(img, 0.5 * (hand[3, :2] + hand[4, :2])), (255, 230, 0), atol=2)
    # edge 19 (little finger 19 -> 20): hue 19/20, a red-magenta
    np.testing.assert_allclose(pixel(img, 0.5 * (hand[19, :2] + hand[20, :2])), (255, 0, 77), atol=2)
    np.testing.assert_array_equal(pixel(img, kp[L.face(0), :2]), (255, 255, 255))  # white dot
    red = draw_pose_map(kp, size=SIZE, style="mimicmotion")
    assert pixel(red, hand[4, :2])[0] > 200 and pixel(red, hand[4, :2])[2] < 30  # red joint


def test_zero_confidence_draws_nothing():
    kp = frontal_pose()
    kp[:, 2] = 0.0
    assert not draw_pose_map(kp, size=SIZE).any()
    kp = frontal_pose()
    kp[L.RIGHT_ELBOW, 2] = 0.0  # unseen elbow: no upper-arm nor forearm limb
    img = draw_pose_map(kp, size=SIZE)
    for other in (L.RIGHT_SHOULDER, L.RIGHT_WRIST):
        mid = 0.5 * (kp[other, :2] + kp[L.RIGHT_ELBOW, :2])
        assert not pixel(img, mid).any()


def test_threshold_and_low_confidence_hand():
    kp = frontal_pose()
    kp[L.LEFT_HAND, 2] = 0.2
    img = draw_pose_map(kp, size=SIZE, threshold=0.3)
    assert not pixel(img, kp[L.LEFT_HAND][8, :2]).any()
    img = draw_pose_map(kp, size=SIZE, threshold=0.1)
    assert pixel(img, kp[L.LEFT_HAND][8, :2]).any()


def test_overlay_in_place_keeps_photo():
    canvas = np.full((512, 512, 3), 100, np.uint8)
    out = draw_skeleton(canvas, frontal_pose())
    assert out is canvas
    np.testing.assert_array_equal(canvas[0:20, 0:20], 100)  # the photo is not darkened
    assert (canvas != 100).any()


def test_echomimic_style_draws_hands_only():
    kp = frontal_pose()
    img = draw_pose_map(kp, size=SIZE, style="echomimic")
    assert not pixel(img, kp[L.face(0), :2]).any()
    neck = 0.5 * (kp[L.LEFT_SHOULDER, :2] + kp[L.RIGHT_SHOULDER, :2])
    assert not pixel(img, 0.5 * (neck + kp[L.RIGHT_SHOULDER, :2])).any()
    assert pixel(img, kp[L.LEFT_HAND][4, :2])[0] > 200  # red joint dot


def test_widths_scale_with_size_and_nan_is_skipped():
    assert line_widths((1024, 1024))[0] > line_widths((256, 256))[0] >= 1
    kp = frontal_pose()
    kp[L.LEFT_ELBOW, :2] = np.nan
    draw_pose_map(kp, size=SIZE)  # no exception
    with pytest.raises(OptionError, match="unknown pose-map style 'nope'"):
        draw_pose_map(kp, size=SIZE, style="nope")


@pytest.mark.parametrize("canvas,keypoints,match", [
    (np.zeros((64, 64, 3), np.float32), np.zeros((133, 3)), "RGB uint8"),
    (np.zeros((64, 64), np.uint8), np.zeros((133, 3)), "RGB uint8"),
    (np.zeros((64, 128, 3), np.uint8)[:, ::2], np.zeros((133, 3)), "C-contiguous"),
    (np.zeros((64, 64, 3), np.uint8), np.zeros((18, 3)), r"\(133, 3\)")])
def test_a_wrong_canvas_or_skeleton_is_an_input_error(canvas, keypoints, match):
    with pytest.raises(InputError, match=match):
        draw_skeleton(canvas, keypoints)
