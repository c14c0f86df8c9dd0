"""The weave laid over a plain cloth's smooth fill (render/warp/weave.py)."""

from __future__ import annotations

import cv2
import numpy as np

from gesticulate.render.warp.cloth import fill_along
from gesticulate.render.warp.weave import woven


def _jacket(size: int = 512) -> np.ndarray:
    """A navy cloth with a fine weave (a pinstripe and grain) and one light seam down it."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:size, 0:size]
    grain = 6.0 * np.sin(xx * 2.1) + rng.normal(0, 3.0, (size, size))
    img = np.clip(np.array([40.0, 40.0, 90.0])[None, None] + grain[..., None], 0, 255)
    img[:, 20:26] = (220, 220, 230)                              # a seam
    return img.astype(np.uint8)


def _fine(img: np.ndarray, where: np.ndarray) -> float:
    """The fine detail's spread (what a 1.5 px blur takes away) over ``where``."""
    x = img.astype(np.float32)
    return float(np.abs(x - cv2.GaussianBlur(x, (0, 0), 1.5))[where].mean())


def test_a_plain_sleeve_s_fill_keeps_its_weave_and_not_its_seams():
    """Filled with its smooth shading alone, a hidden sleeve of a woven jacket came out as a
    flat, glossy blob (hbr_speaker12's arms, hidden under his raised forearms in the photo);
    the weave runs on over it, copied from the seen cloth, without the seam."""
    img = _jacket()
    hole = np.zeros(img.shape[:2], bool)
    hole[180:330, 180:330] = True
    src = ~hole
    flat = img.copy()
    flat[hole] = cv2.GaussianBlur(img, (0, 0), 8.0)[hole]
    out = woven(img, flat, hole, src, 1.0)
    inner = np.zeros_like(hole)
    inner[190:320, 190:320] = True
    seen = np.zeros_like(hole)
    seen[40:480, 360:480] = True
    assert _fine(flat, inner) < 0.3 * _fine(img, seen)
    assert 0.5 * _fine(img, seen) < _fine(out, inner) < 1.5 * _fine(img, seen)
    assert (out[hole].astype(int) - flat[hole]).max() < 40      # no copy of the seam's edge
    assert (out[~hole] == flat[~hole]).all()
    assert (woven(img, flat, hole, src, 1.0) == out).all()    # the same fill each time


def test_fill_along_weaves_a_plain_sleeve():
    """:func:`fill_along`'s smooth fill of a plain sleeve carries the weave."""
    img = _jacket()
    hole = np.zeros(img.shape[:2], bool)
    hole[150:360, 200:310] = True
    out = fill_along(img, hole, np.ones_like(hole), np.array([[255.0, 40.0], [255.0, 470.0]]))
    inner = np.zeros_like(hole)
    inner[160:350, 210:300] = True
    seen = np.zeros_like(hole)
    seen[40:480, 360:480] = True
    assert _fine(out, inner) > 0.5 * _fine(img, seen)


def test_the_torso_s_smooth_fill_keeps_each_cloth_s_own_weave():
    """The torso's hidden fill of plain cloth is its smooth shading (shading.py), which read as
    a patch of paint on a woven jacket where hbr_speaker7's forearms had lain; each cloth's
    fill carries that cloth's weave, and the plain shirt beside the jacket takes none of it."""
    from gesticulate.render.warp.cloth import fill_hidden
    img = _jacket()[:, 30:]                                      # no seam
    rng = np.random.default_rng(5)
    shirt = np.clip(235.0 + rng.normal(0, 0.7, (512, 60, 1)), 0, 255)
    img[:, 220:280] = shirt.astype(np.uint8)
    hole = np.zeros(img.shape[:2], bool)
    hole[200:330, 120:380] = True
    out = fill_hidden(img, hole, np.ones_like(hole), pattern=True, shade=True)
    jacket_in, shirt_in, jacket_seen = (np.zeros_like(hole) for _ in range(3))
    jacket_in[215:315, 135:205] = True
    shirt_in[215:315, 232:268] = True
    jacket_seen[20:180, 60:200] = True
    weave = _fine(img, jacket_seen)
    assert 0.5 * weave < _fine(out, jacket_in) < 1.5 * weave
    assert _fine(out, shirt_in) < 0.3 * weave
    assert np.abs(out[shirt_in].astype(int) - 235).max() < 20         # still the white shirt
    assert (out[~hole] == img[~hole]).all()
