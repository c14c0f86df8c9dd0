"""Alignment to a reference skeleton recovers a known scale and offset."""

from __future__ import annotations

import numpy as np
import pytest

from gesticulate.errors import InputError, OptionError
from gesticulate.formats.align import align_to_reference, fit_alignment
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.sequence import SkeletonSequence


def _seq(t=6, seed=3) -> SkeletonSequence:
    rng = np.random.default_rng(seed)
    kp = np.zeros((t, 133, 3), np.float32)
    kp[..., :2] = rng.uniform(50, 400, (t, 133, 2))
    kp[..., 2] = 0.9
    kp[:, 13:23, 2] = 0.0  # legs unseen
    return SkeletonSequence(kp, 25.0, (512, 512))


@pytest.mark.parametrize("mode, scale", [("uniform", (1.7, 1.7)), ("csg", (0.6, 0.6)),
                                         ("per_axis", (1.3, 0.8))])
def test_recovers_known_map(mode, scale):
    seq = _seq()
    offset = np.array([37.0, -21.5])
    ref = seq.keypoints[0].astype(np.float64).copy()
    ref[:, :2] = ref[:, :2] * scale + offset
    ref[L.RIGHT_HIP, 2] = 0.0  # hidden in the photo: left out of the fit
    ref[L.RIGHT_HIP, :2] = 0.0
    s, o = fit_alignment(seq.keypoints[0], ref, mode=mode)
    np.testing.assert_allclose(s, scale, rtol=1e-5)
    np.testing.assert_allclose(o, offset, atol=1e-3)
    out = align_to_reference(seq, ref, image_size=(900, 700), mode=mode)
    assert out.image_size == (900, 700) and out.fps == 25.0
    want = seq.keypoints[..., :2] * np.float32(scale) + offset.astype(np.float32)
    np.testing.assert_allclose(out.keypoints[..., :2], want, atol=1e-2)
    np.testing.assert_array_equal(out.keypoints[..., 2], seq.keypoints[..., 2])


def test_noisy_points_least_squares_and_mean_anchor():
    seq = _seq()
    rng = np.random.default_rng(0)
    mean_pose = seq.keypoints.mean(axis=0)
    ref = mean_pose.astype(np.float64).copy()
    ref[:, :2] = ref[:, :2] * 2.0 + 10.0 + rng.normal(0, 0.5, (133, 2))
    s, _ = fit_alignment(mean_pose, ref)
    assert abs(s[0] - 2.0) < 0.02
    out = align_to_reference(seq, ref, image_size=(1024, 1024), anchor="mean")
    err = np.abs(out.keypoints.mean(axis=0)[L.LEFT_SHOULDER, :2] - ref[L.LEFT_SHOULDER, :2])
    assert err.max() < 5


def test_too_few_points_and_bad_options():
    seq = _seq()
    ref = seq.keypoints[0].copy()
    ref[:, 2] = 0.0
    ref[L.NOSE, 2] = 1.0
    with pytest.raises(InputError, match="too few"):
        align_to_reference(seq, ref, image_size=(512, 512))
    with pytest.raises(OptionError):
        fit_alignment(seq.keypoints[0], seq.keypoints[0], mode="affine")
    with pytest.raises(InputError, match="shape"):
        align_to_reference(seq, np.zeros((17, 3)), image_size=(512, 512))
