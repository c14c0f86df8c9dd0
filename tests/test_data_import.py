"""Peers' pose data (EchoMimicV2 folders, CSG-405 arrays) imported into the clip format."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from gesticulate.data.clips import iter_clips, read_manifest
from gesticulate.data.importers import find_pose_sources, import_poses, resample
from gesticulate.errors import InputError
from gesticulate.skeleton.sequence import SkeletonSequence


def _speech(shared_data, seconds: float) -> np.ndarray:
    from gesticulate.data.decode import load_source_audio
    y = load_source_audio(str(shared_data / "audio" / "radio31.wav"))
    return y[:int(seconds * 16000)]


def test_resample_to_fps():
    kp = np.zeros((24, 133, 3), np.float32)
    kp[:, 0, 0] = np.arange(24)
    out = resample(SkeletonSequence(kp, 24.0, (64, 64)), 25.0)
    assert out.shape[0] == 25 and out[0, 0, 0] == 0 and out[-1, 0, 0] == 23


@pytest.mark.realdata
def test_import_echomimic_and_csg(shared_data, tmp_path):
    from gesticulate.formats.echomimic import load_echomimic_dir

    poses = shared_data / "poses" / "echomimicv2_dwpose_01"
    audio = tmp_path / "audio"
    audio.mkdir()
    sf.write(audio / f"{poses.name}.wav", _speech(shared_data, 8.0), 16000)
    # A CSG-405-style clip (global 133 points, -1..1) made from the same poses, with audio next
    # to it, and one without audio, and one that is not a pose array.
    seq = load_echomimic_dir(poses)
    csg = tmp_path / "csg"
    csg.mkdir()
    xy = seq.keypoints[:100, :, :2] / np.array(seq.image_size, np.float32) * 2 - 1
    arr = np.concatenate([xy, seq.keypoints[:100, :, 2:]], axis=-1)
    np.save(csg / "clipA.npy", arr)
    np.save(csg / "clipB.npy", arr)
    np.save(csg / "broken.npy", np.zeros((5, 7)))
    sf.write(csg / "clipA.wav", _speech(shared_data, 4.0), 16000)
    assert sorted(f for _, f in find_pose_sources([poses, csg])) == ["csg"] * 3 + ["echomimic"]

    s = import_poses([poses, csg], output=tmp_path / "ds", audio_dir=audio, clip_seconds=5.0,
                     progress=False)
    rows = {r.clip_id: r for r in read_manifest(tmp_path / "ds")}
    by_source = {}
    for r in rows.values():
        by_source.setdefault(r.source.split("/")[-1], []).append(r)
    assert by_source["clipB.npy"][0].reason.startswith("no_audio")
    assert by_source["broken.npy"][0].reason.startswith("unreadable")
    # 336 frames at 24 fps = 14 s → 350 frames at 25 fps → three clips of at most 5 s; the
    # audio is 8 s, so the last clip is silence and fails the speech check.
    echo = sorted(by_source[poses.name], key=lambda r: r.start_s)
    assert [r.num_frames for r in echo] == [117, 116, 117]
    assert echo[-1].reason.startswith("no_speech")
    kept = list(iter_clips(tmp_path / "ds"))
    assert s.kept == len(kept) >= 1
    for c in kept:
        assert c.skeleton.image_size == (512, 512) and len(c.skeleton) == c.features.num_frames
        # the clip says where its confidences came from: the pose file, not MediaPipe
        assert "MediaPipe" not in str(c.skeleton.confidence_source)
        assert c.skeleton.confidence_source
    with pytest.raises(InputError, match="no pose sequences"):
        import_poses([audio], output=tmp_path / "ds2", progress=False)


@pytest.mark.realdata
def test_import_beat2_mocap_with_its_speech(shared_data, tmp_path):
    take = shared_data / "mocap" / "2_scott_0_1_1.npz"   # 63.5 s at 30 fps + its .wav beside it
    assert find_pose_sources([take.parent]) == [(take, "beat2")]
    s = import_poses([take], output=tmp_path / "ds", progress=False, report=False)
    rows = read_manifest(tmp_path / "ds")
    assert s.kept == len(rows) == 7, [r.reason for r in rows]      # 1588 frames at 25 fps
    assert sum(r.num_frames for r in rows) == 1588
    # Captured jaw motion follows the speech: the A/V check finds it in sync (|offset| <= 1).
    assert all(abs(r.qc["av_offset_frames"]) <= 1 for r in rows)
    for c in iter_clips(tmp_path / "ds"):
        kp = c.skeleton.keypoints
        assert len(kp) == c.features.num_frames and (kp[:, :17, 2] == 1).all()
        # Real gesturing: the wrists travel, on average, more than 0.2 shoulder widths a second.
        from gesticulate.skeleton.layout import LEFT_WRIST, RIGHT_WRIST, shoulder_width
        speed = np.linalg.norm(np.diff(kp[:, [LEFT_WRIST, RIGHT_WRIST], :2], axis=0), axis=-1)
        assert speed.mean() * 25 / np.median(shoulder_width(kp)) > 0.2
