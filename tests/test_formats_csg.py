"""CSG-405 pose arrays: local representation inverse, spaces, 123-point files, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from gesticulate.errors import InputError, OptionError
from gesticulate.formats.csg import (LEGS, csg_array_to_sequence, from_csg_local, iter_csg_dir,
                                     load_csg_file, to_csg_local)
from gesticulate.skeleton import layout as L


def _global(t=5, seed=0) -> np.ndarray:
    """Random global keypoints (T, 133, 3) in -1..1 with confidences."""
    rng = np.random.default_rng(seed)
    kp = rng.uniform(-0.8, 0.8, (t, 133, 3))
    kp[..., 2] = rng.uniform(0.0, 1.0, (t, 133))
    return kp


@pytest.mark.parametrize("face_scale, mouth_scale", [(1.0, 1.0), (2.0, 3.0)])
def test_local_round_trip(face_scale, mouth_scale):
    kp = _global()
    local = to_csg_local(kp, face_scale=face_scale, mouth_scale=mouth_scale)
    assert local.shape == (5, 134, 3) and (local[:, 0, 2] == 1).all()
    np.testing.assert_allclose(local[:, 0, :2], (kp[:, 5, :2] + kp[:, 6, :2]) / 2)
    # hands are relative to their wrist, so the hand's wrist point is near the body wrist
    np.testing.assert_allclose(local[:, 1 + L.LEFT_HAND_START, :2],
                               kp[:, L.LEFT_HAND_START, :2] - kp[:, L.LEFT_WRIST, :2])
    back = from_csg_local(local, face_scale=face_scale, mouth_scale=mouth_scale)
    np.testing.assert_allclose(back, kp, atol=1e-12)


def test_load_local_file_in_minus1_1(tmp_path):
    kp = _global()
    arr = to_csg_local(kp)[:, None].astype(np.float32)  # (T, P=1, 134, 3)
    np.save(tmp_path / "clip_a.npy", arr)
    seq = load_csg_file(tmp_path / "clip_a.npy")
    assert seq.fps == 25.0 and seq.image_size == (512, 512)
    np.testing.assert_allclose(seq.keypoints[..., :2], (kp[..., :2] + 1) / 2 * 512, atol=1e-3)
    np.testing.assert_allclose(seq.keypoints[..., 2], kp[..., 2], atol=1e-6)
    unit = load_csg_file(tmp_path / "clip_a.npy", space="unit", image_size=(100, 200))
    np.testing.assert_allclose(unit.keypoints[..., 1], kp[..., 1] * 200, atol=1e-3)


def test_123_points_without_confidence():
    kp = _global()
    no_legs = np.delete(kp[..., :2], LEGS, axis=1)  # (T, 123, 2), like CSG's sample_poses
    no_legs[:, 0] = 0.0  # (0, 0) marks a missing point
    seq = csg_array_to_sequence(no_legs, space="pixels", image_size=(64, 64))
    assert (seq.keypoints[:, LEGS, 2] == 0).all() and (seq.keypoints[:, 0, 2] == 0).all()
    assert (seq.keypoints[:, L.LEFT_HAND, 2] == 1).all()
    np.testing.assert_allclose(seq.keypoints[:, L.RIGHT_HAND, :2], kp[:, L.RIGHT_HAND, :2], atol=1e-6)


def test_folder_and_refusals(tmp_path):
    np.save(tmp_path / "b.npy", _global(3).astype(np.float32))
    np.save(tmp_path / "a.npy", _global(2).astype(np.float32))
    names = [(n, len(s)) for n, s in iter_csg_dir(tmp_path)]
    assert names == [("a", 2), ("b", 3)]
    with open(tmp_path / "c.npy", "wb") as f:  # a pickled object array is never loaded
        np.save(f, np.array({"x": 1}, dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="pickled files are refused"):
        load_csg_file(tmp_path / "c.npy")
    np.save(tmp_path / "d.npy", np.zeros((4, 17, 3)))
    with pytest.raises(InputError, match="not a CSG-405 pose array"):
        load_csg_file(tmp_path / "d.npy")
    with pytest.raises(OptionError):
        csg_array_to_sequence(_global(), space="cm")
    with pytest.raises(InputError, match="not found"):
        list(iter_csg_dir(tmp_path / "none"))
