"""A desk in front of the person (gesticulate.render.warp.surface) and the backdrop filled on
each side of its edge."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from gesticulate.render.warp.backdrop import fill_backdrop
from gesticulate.render.warp.fill import inpaint
from gesticulate.render.warp.masks import grown, lab_of
from gesticulate.render.warp.surface import find_surface

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
WALL, DESK, SUIT, SKIN = (70, 110, 170), (150, 95, 60), (30, 35, 60), (225, 170, 140)
EDGE = 200                                     # the desk's top edge, row


def desk_scene(seed: int = 0, *, slope: float = 0.0, upscale: int = 1):
    """A person at a desk: a textured blue wall, a brown desk from row EDGE (at the middle
    column; the edge rises ``slope`` per column) down, a navy torso ending at the desk, a hand
    resting on the desk; the segmenter's mask takes a strip of the desk under the torso too.
    ``upscale``: the scene drawn at 256 px, then enlarged this many times."""
    rng = np.random.default_rng(seed)
    img = np.empty((256, 256, 3), np.float32)
    img[:] = WALL
    # Night windows: blocks of lit and dark panes, the texture the backdrop fill copies.
    panes = rng.uniform(-45, 45, (32, 32, 1)).repeat(8, 0).repeat(8, 1)
    img += panes
    img[::16] = WALL
    yy, xx = np.mgrid[0:256, 0:256]
    desk = yy >= EDGE + slope * (xx - 128)
    img[desk] = DESK
    img += rng.normal(0, 3, img.shape)
    person = np.zeros((256, 256), bool)
    person[60:EDGE, 80:176] = True                             # torso
    person &= ~desk
    cv2.circle(img, (128, 45), 22, SKIN, -1)
    cv2.circle(person.view(np.uint8), (128, 45), 22, 1, -1)
    img[person] = SUIT
    img[:45][person[:45]] = SKIN
    hand = np.zeros_like(person)
    cv2.ellipse(hand.view(np.uint8), (100, 208), (14, 9), 0, 0, 360, 1, -1)
    img[hand] = SKIN
    person |= hand
    person |= desk & (yy < EDGE + 8 + slope * (xx - 128)) & (xx >= 120) & (xx < 176)  # the
    # desk, taken for the person
    img = np.clip(img, 0, 255).astype(np.uint8)
    if upscale > 1:
        big = (256 * upscale, 256 * upscale)
        img = cv2.resize(img, big, interpolation=cv2.INTER_NEAREST)
        person = cv2.resize(person.astype(np.uint8), big, interpolation=cv2.INTER_NEAREST) > 0
        hand = cv2.resize(hand.astype(np.uint8), big, interpolation=cv2.INTER_NEAREST) > 0
    return img, person, hand


@pytest.mark.parametrize("slope,upscale", [(0.04, 1), (-0.04, 1), (0.0, 3), (0.03, 3)])
def test_a_sloped_or_large_desk_is_found_where_it_is(slope, upscale):
    img, person, hand = desk_scene(slope=slope, upscale=upscale)
    surface = find_surface(img, person, grown(person, 6 * upscale), lowest=120 * upscale,
                           keep=hand)
    assert surface is not None
    # The edge at the middle column and the slope, within a pixel of the 256-px scene.
    middle = surface.y0 + surface.slope * (128 * upscale - 0.5 * (upscale - 1))
    assert abs(middle - (EDGE * upscale + 0.5 * (upscale - 1))) <= upscale
    assert abs(surface.slope - slope) <= 0.006
    # Each side is filled from its own side: no desk above the edge, no windows below it.
    hole = grown(person, 6 * upscale)
    filled = fill_backdrop(img, hole, surface=surface).astype(np.float32)
    below = surface.below(hole.shape)
    near = grown(np.diff(below, axis=0, prepend=False), 12 * upscale)
    desk_like = np.linalg.norm(filled - np.array(DESK, np.float32), axis=-1) < 30
    assert desk_like[hole & near & below].mean() > 0.95
    assert desk_like[hole & near & ~below].mean() < 0.02


def test_a_desks_edge_is_found_and_its_strip_is_desk():
    img, person, hand = desk_scene()
    surface = find_surface(img, person, grown(person, 6), lowest=120, keep=hand)
    assert surface is not None
    assert abs(surface.y0 - EDGE) <= 2 and abs(surface.slope) <= 0.01
    desk = surface.desk(lab_of(img), person, hand)
    strip = np.zeros_like(person)
    strip[EDGE + 2:EDGE + 8, 122:174] = True
    assert desk[strip].mean() > 0.9                   # the desk strip goes back to the backdrop
    assert not (desk & hand).any() and not desk[:EDGE].any()


def test_no_desk_behind_a_standing_person_or_above_the_chest():
    img, person, hand = desk_scene()
    # The edge lies above the row the caller gives (a window's bar behind the shoulders).
    assert find_surface(img, person, grown(person, 6), lowest=EDGE + 10, keep=hand) is None
    # A standing person in a red dress crossing the line where the wall meets the floor: the
    # person does not end at the line, so it is no desk.
    img[EDGE:][person[EDGE:]] = (200, 40, 40)
    person[EDGE:250, 80:176] = True
    img[EDGE:250, 80:176] = (200, 40, 40)
    assert find_surface(img, person, grown(person, 6), lowest=120, keep=hand) is None
    # No edge at all: a plain wall.
    flat = np.full_like(img, 120)
    flat[person] = SUIT
    assert find_surface(flat, person, grown(person, 6), lowest=120) is None


def test_the_backdrop_is_filled_on_each_side_of_the_desks_edge():
    img, person, hand = desk_scene()
    surface = find_surface(img, person, grown(person, 6), lowest=120, keep=hand)
    hole = grown(person, 6)
    split = fill_backdrop(img, hole, surface=surface).astype(np.float32)
    plain = inpaint(img, hole).astype(np.float32)          # a fill that knows of no edge
    under = hole.copy()
    under[:EDGE + 3] = False                                   # where the hand and strip lay
    over = hole.copy()
    over[:EDGE - 30] = False
    over[EDGE - 3:] = False                                    # above the edge

    def desk_like(x):
        return float((np.linalg.norm(x - np.array(DESK, np.float32), axis=-1) < 30).mean())

    assert desk_like(split[under]) > 0.95              # desk below the edge ...
    assert desk_like(split[over]) < 0.02               # ... and none above it
    assert desk_like(plain[over]) > 0.1                # the measure sees the desk run up
    assert (split[~hole] == img[~hole]).all()
    # The same when the fill reads the grown band's plain backdrop (backdrop.clean_hole): each
    # side reads its own side's band only.
    grown_fill = fill_backdrop(img, hole, surface=surface, grow=6).astype(np.float32)
    assert desk_like(grown_fill[under]) > 0.95 and desk_like(grown_fill[over]) < 0.02


def test_the_desks_side_is_filled_again_for_the_smaller_hole():
    """The renderer starts the backdrop's fill before it knows which of the person below the
    desk's edge is behind the desk (the photo's again). Backdrop.refill_below fills the desk's
    side for the final, smaller hole as a fill made for it would, from the desk it uncovered,
    and leaves the side above the edge as it was."""
    from gesticulate.render.warp.backdrop import Backdrop
    img, person, hand = desk_scene()
    surface = find_surface(img, person, grown(person, 6), lowest=120, keep=hand)
    big = grown(person, 6)
    small = big & ~(surface.below(big.shape) & ~grown(hand, 6))      # the hand's hole only
    first = Backdrop(img, big, surface=surface, grow=6)
    above = first.filled()[:EDGE - 2]
    first.refill_below(small)
    fresh = Backdrop(img, small, surface=surface, grow=6)
    assert len(first.sides) == len(first._below) == len(fresh.sides)
    again, want = first.filled(), fresh.filled()
    below = surface.below(big.shape)
    assert (again[below & small] == want[below & small]).all()
    assert (again[:EDGE - 2] == above).all()
    assert not (first.filled()[below & small] == Backdrop(img, big, surface=surface,
                                                          grow=6).filled()[below & small]).all()


needs_desk_host = pytest.mark.skipif(not (SHARED / "photo" / "desk_host_body.png").is_file(),
                                     reason="needs ../shared/data")


@pytest.fixture(scope="module")
def desk_host():
    """desk_host_body.png (512 px), its skeleton and its warp renderer."""
    from gesticulate.image import load_image
    from gesticulate.render.warp.renderer import WarpRenderer
    from gesticulate.render.warp.testing import reference_keypoints

    img = load_image(SHARED / "photo" / "desk_host_body.png")
    ref = reference_keypoints(img)
    return img, ref, WarpRenderer(img, ref)


@needs_desk_host
def test_desk_host_the_desk_stays_a_desk_when_the_hand_rises(desk_host):
    """desk_host_body.png: his right hand rests on a glossy desk. Raised, it leaves desk where
    it lay (not the night windows, not its reflection), and it carries no desk with it."""
    from gesticulate.render.warp.testing import pose
    from gesticulate.skeleton import layout as L

    img, ref, r = desk_host
    desk_lab = np.median(lab_of(img)[470:490, 10:50].reshape(-1, 3), axis=0)   # left of the hand
    side = "right" if ref[L.RIGHT_WRIST, 0] < ref[L.LEFT_WRIST, 0] else "left"
    start = L.RIGHT_HAND_START if side == "right" else L.LEFT_HAND_START
    x0, y0 = np.floor(ref[start:start + 21, :2].min(0)).astype(int)
    x1, y1 = np.ceil(ref[start:start + 21, :2].max(0)).astype(int)
    raised = pose(ref, upper={side: 0.9 if side == "right" else -0.9},
                  fore={side: 1.2 if side == "right" else -1.2})
    out = lab_of(r.render(raised))

    def desk_like(rows):
        d = np.linalg.norm(out[rows, x0:x1].reshape(-1, 3) - desk_lab, axis=1)
        return float((d < 20).mean())

    # Where the hand and its reflection lay (the desk's edge is at row 462-466): desk. Without
    # the desk found, 0.74 of it was, the night windows having run down over it; with the
    # desk's rows run on across the hole (backdrop.SHIFTMAP_MIN) and the pencil on it copied
    # too, 0.80 ...
    assert desk_like(slice(465, y1 + 20)) > 0.85
    # ... and the desk had run up into the windows above its edge (0.14).
    assert desk_like(slice(440, 458)) < 0.05


@needs_desk_host
def test_desk_host_the_set_up_is_the_same_every_time(desk_host):
    """The backdrop is filled on a thread beside the rest of the set-up, from the moment the
    person's hole is known; what comes out is the same every time (OpenCV's shift-map run on
    halves of the picture gave one of two fills, depending on what ran beside it)."""
    from gesticulate.render.warp.renderer import WarpRenderer

    img, ref, first = desk_host
    second = WarpRenderer(img, ref)
    assert np.array_equal(first.background, second.background)
    assert [layer.name for layer in first.layers] == [layer.name for layer in second.layers]
    for a, b in zip(first.layers, second.layers):
        assert np.array_equal(a.texture, b.texture)
    assert (first.background != first.image).any(axis=2).mean() > 0.1    # the person's hole


@needs_desk_host
def test_desk_host_the_hand_on_the_desk_leaves_its_reflection_behind(desk_host):
    """His right hand's fingertips are mirrored in the glossy desk; the hand's cut took the
    reflection, which rose with the hand as brown flecks under his fingers. Below the desk's
    edge, what of the hand lies below its landmarks' zone, column by column, is the desk's;
    the fingers, and the web between them, stay the hand's."""
    from gesticulate.render.warp import bones as B
    from gesticulate.render.warp.hands import finger_zone, hand_masks
    from gesticulate.render.warp.segment import person_alpha
    from gesticulate.render.warp.surface import desk_in_front

    img, _, r = desk_host
    ref, valid = r.reference, r._valid
    _, person = person_alpha(img)
    lab = lab_of(img)
    uncut = hand_masks(img, ref, valid, person, lab)
    side = max(uncut, key=lambda s: ref[B.ARMS[s]["hand_start"], 1])    # the one on the desk
    hands = dict(uncut)
    surface, desk, reflection = desk_in_front(img, person | uncut[side], hands, ref, valid, lab,
                                              grow=12)
    assert surface is not None
    gone = uncut[side] & ~hands[side]
    assert gone.sum() > 150, gone.sum()                              # the reflection
    assert (reflection == gone).all() and (desk | ~gone).all()
    zone = finger_zone(ref, B.ARMS[side]["hand_start"], img.shape[:2])[0]
    assert not (gone & zone).any()
    tips = ref[B.ARMS[side]["hand_start"] + np.array([8, 12, 16]), 1]
    above = np.arange(img.shape[0])[:, None] < tips.min()
    # The fingers and the web between them stay (cut past the zone anywhere, 36 px of them
    # went, above the fingertips).
    assert (gone & above).sum() <= 2, (gone & above).sum()
    # The hand's layer carries no reflection: 202 px of it lay past the fingertips before.
    hand = r.parts.segments[side]["hand"]
    assert (hand & (np.arange(img.shape[0])[:, None] > tips.max() + 8)).sum() == 0


@needs_desk_host
def test_desk_host_the_tie_runs_on_under_his_pointing_hand(desk_host):
    """His striped tie, between a plain navy jacket and a white shirt, read as plain cloth near
    the pointing hand that lay on it, and the fill drew it as a dark round blob (the tie and
    the jacket one colour cluster in the shading). The stripes run on under the hand."""
    from gesticulate.skeleton import layout as L

    img, ref, r = desk_host
    torso = next(layer for layer in r.layers if layer.name == "torso")
    fill = torso.texture[8:-8, 8:-8, :3].astype(np.float32).mean(2)
    grey = img.astype(np.float32).mean(2)
    mid = 0.5 * (ref[L.LEFT_SHOULDER, :2] + ref[L.RIGHT_SHOULDER, :2])
    sw = float(np.linalg.norm(ref[L.LEFT_SHOULDER, :2] - ref[L.RIGHT_SHOULDER, :2]))
    seen = grey[int(mid[1] + 0.3 * sw):int(mid[1] + 0.6 * sw)]      # the tie above the hand
    ratios = []
    for x in range(int(mid[0] - 0.15 * sw), int(mid[0] + 0.1 * sw)):
        hidden = np.flatnonzero(r.parts.hidden[:, x])
        if len(hidden) > 40 and seen[:, x].mean() < 80 and seen[:, x].std() > 20:   # the tie
            ratios.append(fill[hidden, x].std() / seen[:, x].std())
    assert len(ratios) >= 8, len(ratios)
    assert np.mean(ratios) > 0.5, np.mean(ratios)                    # 0.35 before: a blob


def test_a_desk_lit_unevenly_is_found():
    """A glass desk's edge catches the light brighter on one side than the other (on
    pats_oliver_slice18.png and talkshow_show_half 33 of CIELAB's 8-bit lightness apart, the
    same hue): its lightness counts half, so the desk is found (it was not), while a desk of
    another hue on each side is still none."""
    img, person, hand = desk_scene()
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
    desk_rows = np.zeros(person.shape, bool)
    desk_rows[EDGE:] = True
    right = desk_rows & (np.arange(256)[None] >= 128)
    lab[..., 0][right] = np.clip(lab[..., 0][right] + 33, 0, 255)     # lit: lighter, same hue
    lit = cv2.cvtColor(lab.astype(np.uint8), cv2.COLOR_LAB2RGB)
    surface = find_surface(lit, person, grown(person, 6), lowest=120, keep=hand)
    assert surface is not None and abs(surface.y0 - EDGE) <= 2
    lab[..., 1][right] = np.clip(lab[..., 1][right] + 30, 0, 255)     # and redder: two desks
    other = cv2.cvtColor(lab.astype(np.uint8), cv2.COLOR_LAB2RGB)
    assert find_surface(other, person, grown(person, 6), lowest=120, keep=hand) is None


def test_row_medians_are_numpys_median_row_by_row():
    """find_surface reads the gradient's median beside the hole on each row in one sort per
    slope (3331 np.median calls took 0.54 s of desk_host_body.png's set-up): the same values."""
    from gesticulate.render.warp.surface import _row_medians
    rng = np.random.default_rng(0)
    for _ in range(200):
        h, w = rng.integers(1, 20, 2)
        values = rng.normal(size=(h, w, 3)).astype(np.float32)
        mask = rng.random((h, w)) < 0.4
        mask[:, 0] |= rng.random(h) < 0.5
        rows = mask.any(1) & (rng.random(h) < 0.8)
        out = _row_medians(values, mask, rows)
        for r in np.flatnonzero(rows):
            assert np.array_equal(out[r], np.median(values[r, mask[r]], axis=0))
        assert np.isnan(out[~rows]).all()


def test_an_arm_below_a_desks_edge_is_the_desks_unless_it_reaches_down_there():
    """Below a desk's edge, an upper arm or forearm whose bone ends well above the edge is the
    desk's reflection of it (or the arm seen through glass): the desk's. A forearm whose wrist
    reaches down past the edge is the arm, over the desk's front."""
    from gesticulate.render.warp.surface import DESK_CLEAR, Surface, arm_below
    surface = Surface(y0=100.0, slope=0.0, colours=np.zeros((2, 3), np.float32))
    sw = 100.0
    yy, xx = np.mgrid[0:160, 0:160]
    upper = (xx >= 20) & (xx < 40) & (yy >= 20) & (yy < 120)        # runs on under the edge
    fore = (xx >= 40) & (xx < 60) & (yy >= 60) & (yy < 130)
    hand = (xx >= 60) & (yy >= 110)
    seg = {"upper": upper, "fore": fore, "hand": hand}
    above = 100 - DESK_CLEAR * sw - 1
    joints = np.array([[30, 20], [30, above], [50, 60]], np.float64)   # all above: a reflection
    out = arm_below(surface, seg, joints, sw)
    assert set(out) == {"upper", "fore"}
    assert (out["upper"] == (upper & (yy > 100))).all() and out["upper"].sum() == 20 * 19
    reaching = np.array([[30, 20], [30, above], [50, 125]], np.float64)   # the wrist below
    assert set(arm_below(surface, seg, reaching, sw)) == {"upper"}
    close = np.array([[30, 20], [30, 100 - 0.5 * DESK_CLEAR * sw], [50, 60]], np.float64)
    assert arm_below(surface, seg, close, sw) == {}               # the elbow at the edge
