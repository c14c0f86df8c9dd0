"""`gesticulate export`: each format writes the expected files, atomically, with clear errors."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from gesticulate.errors import InputError, OptionError, OutputError
from gesticulate.formats import export as export_mod
from gesticulate.formats.echomimic import load_echomimic_dir
from gesticulate.formats.export import export
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.sequence import SkeletonSequence
from gesticulate.video import probe_video

T = 7


@pytest.fixture
def motion(tmp_path):
    rng = np.random.default_rng(0)
    kp = np.zeros((T, 133, 3), np.float32)
    base = rng.uniform(30, 90, (133, 2))
    kp[..., :2] = base + rng.normal(0, 2, (T, 133, 2))
    kp[..., 2] = 0.9
    path = tmp_path / "motion.npz"
    SkeletonSequence(kp, 12.0, (128, 96)).save(path)
    return path


def test_posemap_video(motion, tmp_path):
    out = export(motion, format="posemap-video", output=tmp_path / "p.mp4", progress=False)
    info = probe_video(out)
    assert (info.num_frames, info.width, info.height) == (T, 128, 96)
    assert abs(info.fps - 12.0) < 1e-6
    export(motion, format="posemap-video", output=tmp_path / "q.mp4", size=256, progress=False)
    assert (probe_video(tmp_path / "q.mp4").width, probe_video(tmp_path / "q.mp4").height) == (256, 192)


def test_posemap_png(motion, tmp_path):
    out = export(motion, format="posemap-png", output=tmp_path / "png", progress=False)
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"{i:05d}.png" for i in range(T)]
    img = cv2.imread(str(out / "00000.png"))
    assert img.shape == (96, 128, 3) and img.any()


def test_echomimic_and_openpose(motion, tmp_path):
    out = export(motion, format="echomimic", output=tmp_path / "echo")
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{i}.npy" for i in range(T))
    back = load_echomimic_dir(out)
    assert back.image_size == (768, 768) and len(back) == T
    out = export(motion, format="openpose-json", output=tmp_path / "json", size=(256, 192))
    files = sorted(out.glob("*_keypoints.json"))
    assert len(files) == T
    assert json.loads(files[0].read_text())["canvas_width"] == 256


@pytest.mark.parametrize("fmt", ["openpose-json", "posemap-png", "echomimic"])
def test_an_export_goes_into_a_new_or_empty_folder_only(motion, tmp_path, fmt, monkeypatch):
    """A folder with files in it is no output to replace: ``--output ~/Desktop`` deleted the
    desktop, and a folder of frames of the same format may be another tool's (OpenPose's own
    JSON, EchoMimicV2's poses), not an earlier export. An empty one is written into."""
    out = tmp_path / "out"
    out.mkdir()
    (out / ".DS_Store").write_text("")                # what a file browser leaves: still empty
    export(motion, format=fmt, output=out, progress=False)
    with pytest.raises(OutputError, match="other things in it"):
        export(motion, format=fmt, output=out, progress=False)
    kept = sorted(p.name for p in out.iterdir())
    monkeypatch.chdir(out)
    with pytest.raises(OutputError, match="the current folder"):
        export(motion, format=fmt, output=".", progress=False)
    assert sorted(p.name for p in out.iterdir()) == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["motion.npz", "out"]


def test_reference_image_aligns(motion, tmp_path, monkeypatch):
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), np.zeros((300, 200, 3), np.uint8))
    seq = SkeletonSequence.load(motion)
    ref = seq.keypoints[0].copy()
    ref[:, :2] = ref[:, :2] * 2 + 20  # the photo's person: twice as big, shifted
    monkeypatch.setattr(export_mod, "reference_skeleton", lambda p: (ref, (200, 300)))
    out = export(motion, format="openpose-json", output=tmp_path / "j",
                 reference_image=photo)
    data = json.loads(sorted(out.glob("*.json"))[0].read_text())
    assert (data["canvas_width"], data["canvas_height"]) == (200, 300)
    nose = data["people"][0]["pose_keypoints_2d"][:2]
    np.testing.assert_allclose(nose, ref[L.NOSE, :2], atol=0.05)


def test_errors_leave_nothing(motion, tmp_path, monkeypatch):
    with pytest.raises(OptionError, match="unknown"):
        export(motion, format="gif", output=tmp_path / "x")
    with pytest.raises(InputError, match="not found"):
        export(tmp_path / "none.npz", format="posemap-png", output=tmp_path / "x")
    with pytest.raises(InputError, match="reference photo"):
        export(motion, format="posemap-png", output=tmp_path / "x", reference_image=tmp_path / "n.png")
    with pytest.raises(OptionError, match=".mp4"):
        export(motion, format="posemap-video", output=tmp_path / "x.avi")
    with pytest.raises(OutputError, match="does not exist"):
        export(motion, format="posemap-png", output=tmp_path / "no" / "x")
    # a failure half-way leaves no output and no temporary folder
    from gesticulate.formats import posemap
    calls = []

    def failing(*a, **k):
        calls.append(1)
        if len(calls) > 3:
            raise RuntimeError("boom")
        return np.zeros((96, 128, 3), np.uint8)

    monkeypatch.setattr(posemap, "draw_pose_map", failing)
    with pytest.raises(RuntimeError):
        export(motion, format="posemap-png", output=tmp_path / "png", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["motion.npz"]


@pytest.mark.realdata
def test_real_sample_onto_real_photo(shared_data, tmp_path):
    """EchoMimicV2's demo poses drawn onto a real photo's person (MediaPipe reference)."""
    from gesticulate.formats.export import reference_skeleton
    photo = shared_data / "photo" / "desk_host_body.png"
    load_echomimic_dir(shared_data / "poses" / "echomimicv2_dwpose_01").save(tmp_path / "m.npz")
    out = export(tmp_path / "m.npz", format="openpose-json", output=tmp_path / "j",
                 reference_image=photo)
    ref, size = reference_skeleton(photo)
    data = json.loads(sorted(out.glob("*.json"))[0].read_text())
    assert (data["canvas_width"], data["canvas_height"]) == size
    body = np.asarray(data["people"][0]["pose_keypoints_2d"]).reshape(18, 3)
    ref_neck = (ref[L.LEFT_SHOULDER, :2] + ref[L.RIGHT_SHOULDER, :2]) / 2
    shoulders = np.linalg.norm(ref[L.LEFT_SHOULDER, :2] - ref[L.RIGHT_SHOULDER, :2])
    assert np.linalg.norm(body[1, :2] - ref_neck) < 0.15 * shoulders
    assert np.linalg.norm(body[0, :2] - ref[L.NOSE, :2]) < 0.15 * shoulders
