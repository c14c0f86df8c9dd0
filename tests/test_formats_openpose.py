"""OpenPose body orders and per-frame OpenPose JSON files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gesticulate.errors import InputError, OptionError
from gesticulate.formats.openpose import (load_openpose_json_dir, openpose_to_frame,
                                          save_openpose_json_dir)
from gesticulate.skeleton.openpose_body import to_openpose18, to_openpose_body
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.sequence import SkeletonSequence


def _seq(t=4, size=(640, 360), seed=1) -> SkeletonSequence:
    rng = np.random.default_rng(seed)
    kp = np.zeros((t, 133, 3), np.float32)
    kp[..., 0] = rng.uniform(0, size[0], (t, 133))
    kp[..., 1] = rng.uniform(0, size[1], (t, 133))
    kp[..., 2] = rng.uniform(0.1, 1.0, (t, 133))
    kp[:, [3, 50, 100], 2] = 0.0  # some unseen points
    return SkeletonSequence(kp, 30.0, size)


def test_openpose18_order_and_neck():
    kp = _seq().keypoints[0]
    op = to_openpose18(kp)
    assert op.shape == (18, 3)
    for j, coco in enumerate([0, None, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3]):
        if coco is not None:
            np.testing.assert_array_equal(op[j], kp[coco])
    np.testing.assert_allclose(op[1, :2], (kp[5, :2] + kp[6, :2]) / 2, rtol=1e-6)
    assert op[1, 2] == min(kp[5, 2], kp[6, 2])
    b25 = to_openpose_body(kp, order="body25")
    np.testing.assert_allclose(b25[8, :2], (kp[11, :2] + kp[12, :2]) / 2, rtol=1e-6)
    np.testing.assert_array_equal(b25[19:], kp[17:23])  # feet in the same order


@pytest.mark.parametrize("body", ["coco18", "body25"])
def test_json_round_trip(tmp_path, body):
    seq = _seq()
    save_openpose_json_dir(seq, tmp_path / "j", body=body)
    files = sorted((tmp_path / "j").glob("*.json"))
    assert [f.name for f in files][:2] == ["pose_000000000000_keypoints.json",
                                           "pose_000000000001_keypoints.json"]
    data = json.loads(files[0].read_text())
    assert len(data["people"][0]["pose_keypoints_2d"]) == 3 * (18 if body == "coco18" else 25)
    assert (data["canvas_width"], data["canvas_height"]) == (640, 360)
    back = load_openpose_json_dir(tmp_path / "j", fps=30.0)
    assert back.image_size == seq.image_size and back.fps == 30.0 and len(back) == len(seq)
    shared = np.ones(133, bool)
    if body == "coco18":
        shared[L.FEET] = False
        assert (back.keypoints[:, L.FEET, 2] == 0).all()
    seen = (seq.keypoints[..., 2] > 0) & shared
    np.testing.assert_array_equal(back.keypoints[seen], seq.keypoints[seen])  # exact
    assert (back.keypoints[~seen & shared] == 0).all()


def test_reader_variants():
    body = np.zeros((18, 3))
    body[2] = (0.25, 0.5, 0.9)  # normalised coordinates, r-shoulder
    face70 = np.tile([0.5, 0.5, 1.0], 70)
    data = {"canvas_width": 200, "canvas_height": 100,
            "people": [{"pose_keypoints_2d": [], "hand_left_keypoints_2d": []},
                       {"pose_keypoints_2d": body.reshape(-1).tolist(),
                        "face_keypoints_2d": face70.tolist()}]}
    kp, size = openpose_to_frame(data)
    assert size == (200, 100)
    np.testing.assert_allclose(kp[L.RIGHT_SHOULDER], (50, 50, 0.9), rtol=1e-6)
    assert (kp[L.FACE, 2] == 1).all() and (kp[L.HANDS, 2] == 0).all()
    empty, _ = openpose_to_frame({"people": []}, image_size=(10, 10))
    assert not empty.any()
    with pytest.raises(InputError, match="30 values"):
        openpose_to_frame({"people": [{"pose_keypoints_2d": [1.0] * 30}]}, image_size=(9, 9))


def test_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_openpose_json_dir(tmp_path / "none")
    with pytest.raises(InputError, match="no .json"):
        load_openpose_json_dir(tmp_path)
    (tmp_path / "a_000000000000_keypoints.json").write_text('{"people": []}')
    with pytest.raises(OptionError, match="image_size"):
        load_openpose_json_dir(tmp_path)
    assert len(load_openpose_json_dir(tmp_path, image_size=(64, 48))) == 1
    (tmp_path / "a_000000000001_keypoints.json").write_text("{broken")
    with pytest.raises(InputError, match="not readable JSON"):
        load_openpose_json_dir(tmp_path, image_size=(64, 48))
    with pytest.raises(OptionError, match="body order"):
        save_openpose_json_dir(_seq(), tmp_path / "x", body="mpii")
