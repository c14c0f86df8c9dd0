"""Region activity (skeleton.activity): what the motion masks are weighted by and the mask
head learns."""

import numpy as np

from gesticulate.skeleton import layout as L
from gesticulate.skeleton.activity import ACTIVITY_SPEED, activity_from_local, region_activity
from gesticulate.skeleton.normalize import LOCAL_ROW, NUM_LOCAL_POINTS


def _still(t=30):
    rng = np.random.default_rng(0)
    return np.repeat(rng.normal(size=(1, NUM_LOCAL_POINTS, 2)), t, 0), np.ones((t, NUM_LOCAL_POINTS))


def test_each_region_is_measured_in_its_own_frame():
    fps = 25.0
    # The head nods (the whole face moves, the mouth with it): face active, lips not.
    local, vis = _still()
    face = LOCAL_ROW[L.FACE]
    local[:, face, 1] += 0.1 * np.sin(np.arange(30) / 3.0)[:, None]
    act, seen = activity_from_local(local, vis, fps=fps)
    assert seen.all()
    assert act[:, 0].mean() > 0.5 and act[:, 1].max() < 1e-6 and act[:, 2].max() < 1e-6
    # Only the lower lip moves: lips active, and the face a little (20 of its 68 points move).
    local, vis = _still()
    lower = LOCAL_ROW[[L.face(i) for i in (56, 57, 58, 65, 66, 67)]]
    local[:, lower, 1] += 0.03 * np.sin(np.arange(30) / 1.5)[:, None]
    act, _ = activity_from_local(local, vis, fps=fps)
    assert act[:, 1].mean() > 0.3 > act[:, 0].mean() and act[:, 2].max() < 1e-6
    # One hand sweeps at 1 shoulder width / s: hands active at 1 - exp(-1 / speed).
    local, vis = _still()
    right = LOCAL_ROW[L.RIGHT_HAND]
    local[:, right, 0] += (np.arange(30) / fps)[:, None]
    act, _ = activity_from_local(local, vis, fps=fps)
    assert np.allclose(act[5:-5, 2], 1 - np.exp(-1.0 / ACTIVITY_SPEED["hands"]), atol=1e-3)


def test_an_unseen_region_has_no_activity_and_says_so():
    local, vis = _still()
    local[:, LOCAL_ROW[L.LEFT_HAND], 0] += np.arange(30)[:, None]       # moves, but unseen
    vis[:, LOCAL_ROW[L.HANDS]] = 0
    act, seen = activity_from_local(local, vis, fps=25.0)
    assert not seen[:, 2].any() and act[:, 2].max() == 0
    assert seen[:, :2].all()


def test_activity_of_pixels_does_not_depend_on_the_frame_size():
    from gesticulate.data.synthetic import template_pose
    kp = np.repeat(template_pose(size=512)[None], 40, 0)
    kp[:, L.RIGHT_HAND, 0] += 3.0 * np.arange(40)[:, None]
    kp[:, :, :2] += np.random.default_rng(1).normal(0, 0.2, kp[:, :, :2].shape)
    a = region_activity(kp, fps=25.0)
    big = kp.copy()
    big[..., :2] *= 2.5
    assert a.shape == (40, 3) and a[:, 2].min() > a[:, 0].max()
    assert np.allclose(region_activity(big, fps=25.0), a, atol=1e-5)


def test_clips_shorter_than_the_smoothing_window_are_measured():
    local, vis = _still(2)
    local[1, LOCAL_ROW[L.RIGHT_HAND], 0] += 0.04
    act, seen = activity_from_local(local, vis, fps=25.0)
    assert act.shape == (2, 3) and seen.all() and act[:, 2].min() > 0.5
    assert activity_from_local(local[:1], vis[:1], fps=25.0)[0].shape == (1, 3)
