"""EchoMimicV2 pose dicts: exact round trip on the real sample, safe loading, placement."""

from __future__ import annotations

import os

import numpy as np
import pytest

from gesticulate.errors import InputError
from gesticulate.formats.echomimic import (canvas_params, load_echomimic_dir, read_pose_file,
                                           save_echomimic_dir)
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.sequence import SkeletonSequence

SAMPLE = "poses/echomimicv2_dwpose_01"


def _trusted(path) -> dict:
    # Only for the trusted sample and our own output (data/README.md).
    return np.load(path, allow_pickle=True).item()


@pytest.mark.realdata
def test_sample_round_trip_is_exact(shared_data, tmp_path):
    src = shared_data / SAMPLE
    seq = load_echomimic_dir(src, clip_confidence=False)
    assert seq.keypoints.shape == (336, 133, 3) and seq.image_size == (768, 768)
    save_echomimic_dir(seq, tmp_path / "out")
    for i in range(len(seq)):
        a, b = _trusted(src / f"{i}.npy"), _trusted(tmp_path / "out" / f"{i}.npy")
        assert list(a) == list(b) and list(a["bodies"]) == list(b["bodies"])
        assert a["num"] == b["num"] and a["draw_pose_params"] == b["draw_pose_params"]
        np.testing.assert_array_equal(a["bodies"]["subset"], b["bodies"]["subset"])
        for x, y in ((a["bodies"]["score"], b["bodies"]["score"]),
                     (a["hands_score"], b["hands_score"]), (a["faces_score"], b["faces_score"])):
            np.testing.assert_array_equal(x, y)  # DWPose scores are float32 values: exact
        for x, y in ((a["bodies"]["candidate"], b["bodies"]["candidate"]),
                     (a["hands"], b["hands"]), (a["faces"], b["faces"])):
            assert x.shape == y.shape and x.dtype == y.dtype
            # coordinates pass through float32 pixels: equal to 1e-6 of the canvas (< 0.001 px)
            np.testing.assert_allclose(x, y, rtol=0, atol=1e-6)


@pytest.mark.realdata
def test_sample_conventions(shared_data):
    seq = load_echomimic_dir(shared_data / SAMPLE)
    kp = seq.keypoints
    assert kp[..., 2].max() <= 1.0 and seq.fps == 24.0
    assert (kp[:, L.FEET, 2] == 0).all()  # the format has no feet
    # hands[0] is the person's left hand: its wrist sits on the body's left wrist
    d_left = np.linalg.norm(kp[:, L.LEFT_HAND_START, :2] - kp[:, L.LEFT_WRIST, :2], axis=1)
    d_cross = np.linalg.norm(kp[:, L.LEFT_HAND_START, :2] - kp[:, L.RIGHT_WRIST, :2], axis=1)
    assert np.median(d_left) < 15 < np.median(d_cross)
    # the person's left shoulder is on the image's right
    assert (kp[:, L.LEFT_SHOULDER, 0] > kp[:, L.RIGHT_SHOULDER, 0]).mean() > 0.95


def _random_seq(size=(320, 240), t=3, seed=0) -> SkeletonSequence:
    rng = np.random.default_rng(seed)
    kp = np.zeros((t, 133, 3), np.float32)
    kp[..., 0] = rng.uniform(0, size[0], (t, 133))
    kp[..., 1] = rng.uniform(0, size[1], (t, 133))
    kp[..., 2] = rng.uniform(0.05, 1.0, (t, 133))
    kp[:, 0, 2] = 0.0  # an unseen nose
    return SkeletonSequence(kp, 25.0, size)


def test_placement_in_echomimic_canvas(tmp_path):
    seq = _random_seq()
    save_echomimic_dir(seq, tmp_path / "p", size=768)
    imh, imw, rb, re_, cb, ce = canvas_params((320, 240), size=768)
    assert (imh, imw, re_ - rb, ce - cb) == (576, 768, 576, 768) and rb == 96
    back = load_echomimic_dir(tmp_path / "p", fps=25.0)
    assert back.image_size == (768, 768) and len(back) == 3
    seen = seq.keypoints[..., 2] > 0
    seen[:, L.FEET] = False
    want = seq.keypoints[..., :2] * 2.4 + np.array([0, 96], np.float32)
    np.testing.assert_allclose(back.keypoints[..., :2][seen], want[seen], atol=1e-3)
    np.testing.assert_allclose(back.keypoints[..., 2][seen], seq.keypoints[..., 2][seen], atol=1e-6)
    d = _trusted(tmp_path / "p" / "0.npy")
    assert d["bodies"]["subset"][0, 0] == -1 and d["bodies"]["candidate"][0].tolist() == [-1, -1]


def test_malicious_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    np.save(tmp_path / "0.npy", np.array({"bodies": Evil()}, dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="not an EchoMimicV2"):
        read_pose_file(tmp_path / "0.npy")
    with pytest.raises(InputError):
        load_echomimic_dir(tmp_path)
    assert not marker.exists()


def test_controlnet_aux_dict_without_scores(tmp_path):
    d = {"bodies": {"candidate": np.full((18, 2), 0.5), "subset": np.arange(18.0)[None]},
         "hands": np.full((2, 21, 2), -1.0), "faces": np.full((1, 68, 2), 0.25)}
    d["bodies"]["subset"][0, 3] = -1
    np.save(tmp_path / "0.npy", np.array(d, dtype=object), allow_pickle=True)
    seq = load_echomimic_dir(tmp_path, image_size=(200, 100))
    kp = seq.keypoints[0]
    assert seq.image_size == (200, 100)
    assert kp[L.RIGHT_ELBOW, 2] == 0 and kp[L.LEFT_ELBOW, 2] == 1  # OpenPose 3 = r-elbow
    assert (kp[L.HANDS, 2] == 0).all() and (kp[L.FACE, 2] == 1).all()
    np.testing.assert_allclose(kp[L.face(0), :2], (50, 25))


def test_bad_folders(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_echomimic_dir(tmp_path / "missing")
    with pytest.raises(InputError, match="no 0.npy"):
        load_echomimic_dir(tmp_path)
    seq = _random_seq(t=3)
    save_echomimic_dir(seq, tmp_path / "p")
    (tmp_path / "p" / "1.npy").unlink()
    with pytest.raises(InputError, match="missing"):
        load_echomimic_dir(tmp_path / "p")
    np.save(tmp_path / "p" / "1.npy", np.zeros(3))
    with pytest.raises(InputError, match="not an EchoMimicV2"):
        load_echomimic_dir(tmp_path / "p")
