"""BEAT2 / SMPL-X motion capture → 2D whole-body skeletons (synthetic poses; the real take in
../shared/data/mocap is imported in tests/test_data_import.py)."""

from __future__ import annotations

import numpy as np
import pytest

from gesticulate.errors import InputError
from gesticulate.formats.beat2 import NUM_JOINTS, load_beat2
from gesticulate.skeleton import layout as L


def _take(path, poses, fps=30):
    np.savez(path, poses=poses.astype(np.float32), trans=np.zeros((len(poses), 3)),
             betas=np.zeros(300, np.float32), mocap_frame_rate=np.int32(fps))
    return path


def _still(n=4):
    return np.zeros((n, 3 * NUM_JOINTS))


def _set(poses, joint, aa):
    poses[:, 3 * joint:3 * joint + 3] = aa
    return poses


def test_rest_pose_is_a_frontal_t_pose(tmp_path):
    seq = load_beat2(_take(tmp_path / "t.npz", _still()))
    kp = seq.keypoints[0]
    assert seq.keypoints.shape == (4, 133, 3) and seq.fps == 30.0
    ls, rs, lw, rw = (kp[i, :2] for i in (L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_WRIST,
                                          L.RIGHT_WRIST))
    assert ls[0] > rs[0] and lw[0] > ls[0] and rw[0] < rs[0]   # person's left on image right
    assert abs(lw[1] - ls[1]) < 2 and abs(rw[1] - rs[1]) < 2    # arms level in a T-pose
    assert kp[L.NOSE, 1] < ls[1] and kp[L.LEFT_HIP, 1] > ls[1]  # head up, hips down
    assert np.allclose(kp[L.LEFT_HAND_START, :2], lw) and np.allclose(kp[L.RIGHT_HAND_START, :2], rw)
    tips = kp[L.LEFT_HAND_START + np.array([8, 12, 16, 20]), 0]
    assert (tips > lw[0] + 20).all()                            # fingers point away from the body
    assert np.all(kp[L.FACE, 2] < 0.7) and np.all(kp[L.BODY, 2] == 1)


def test_rotations_move_the_limbs_they_should(tmp_path):
    down = _set(_still(), 16, (0, 0, -np.pi / 2))               # left shoulder: arm hangs down
    bent = _set(_still(), 18, (0, -np.pi / 2, 0))               # left elbow: forearm forward
    curl = _still()
    for j in (25, 26, 27):                                      # left index curls to the palm
        _set(curl, j, (0, 0, -1.0))
    rest = load_beat2(_take(tmp_path / "r.npz", _still())).keypoints[0]
    kd = load_beat2(_take(tmp_path / "d.npz", down)).keypoints[0]
    assert kd[L.LEFT_WRIST, 1] - kd[L.LEFT_SHOULDER, 1] > 150   # ~0.5 m below at 400 px/m
    assert abs(kd[L.LEFT_WRIST, 0] - kd[L.LEFT_SHOULDER, 0]) < 10
    kb = load_beat2(_take(tmp_path / "b.npz", bent)).keypoints[0]
    # Seen from the front, a forearm pointing at the camera is foreshortened to nothing.
    assert np.linalg.norm(kb[L.LEFT_WRIST, :2] - kb[L.LEFT_ELBOW, :2]) < 5
    kc = load_beat2(_take(tmp_path / "c.npz", curl)).keypoints[0]
    tip = L.LEFT_HAND_START + 8
    assert kc[tip, 0] < rest[tip, 0] - 20 and np.allclose(kc[L.LEFT_HAND_START + 12], rest[L.LEFT_HAND_START + 12])


def test_jaw_opens_the_mouth_and_a_turned_speaker_is_faced(tmp_path):
    gap = lambda kp: kp[L.INNER_LIP_BOTTOM, 1] - kp[L.INNER_LIP_TOP, 1]  # noqa: E731
    shut = load_beat2(_take(tmp_path / "s.npz", _still())).keypoints[0]
    opened = load_beat2(_take(tmp_path / "o.npz", _set(_still(), 22, (0.3, 0, 0)))).keypoints[0]
    assert gap(opened) > gap(shut) + 8
    assert np.allclose(opened[L.LEFT_EYE], shut[L.LEFT_EYE], atol=1e-3)
    turned = load_beat2(_take(tmp_path / "y.npz", _set(_still(), 0, (0, 1.2, 0)))).keypoints
    assert np.allclose(turned, load_beat2(tmp_path / "s.npz").keypoints, atol=1e-2)


@pytest.mark.parametrize("make, match", [
    (lambda p: p.write_bytes(b"not a zip"), "not a BEAT2"),
    (lambda p: np.savez(p, poses=np.zeros((10, 72))), "shape"),
    (lambda p: np.savez(p, trans=np.zeros((10, 3))), "not a BEAT2"),
    (lambda p: np.savez(p, poses=np.full((3, 165), np.nan)), "NaN"),
    (lambda p: np.savez(p, poses=np.array([{"a": 1}], dtype=object)), "not a BEAT2"),
])
def test_bad_files_say_what_is_wrong(tmp_path, make, match):
    path = tmp_path / "bad.npz"
    make(path)
    with pytest.raises(InputError, match=match):
        load_beat2(path)
