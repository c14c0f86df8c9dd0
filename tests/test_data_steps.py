"""The build-dataset steps one by one, on synthetic inputs (no MediaPipe, no real data)."""

from __future__ import annotations

import numpy as np
import pytest

from gesticulate.data import postprocess, qc, shots, split
from gesticulate.data.clips import ClipRecord
from gesticulate.data.decode import NoAudioError, load_source_audio
from gesticulate.data.process import clip_windows
from gesticulate.data.sources import collect_sources
from gesticulate.errors import InputError
from gesticulate.skeleton import layout
from gesticulate.video import VideoWriter, iter_frames


def write_video(path, *, seconds=2.0, fps=25, size=(96, 80), cut_at=None, audio=True,
                sr=16000, seed=0):
    """A moving bar over a gradient; from frame ``cut_at`` on, another scene (hue, layout)."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * fps))
    y = None
    if audio:
        t = np.arange(int(seconds * sr)) / sr
        y = (0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 3 * t) > 0)).astype(np.float32)
    w, h = size
    with VideoWriter(path, fps=fps, size=size, audio=y, sr=sr if audio else None) as out:
        for k in range(n):
            second = cut_at is not None and k >= cut_at
            img = np.zeros((h, w, 3), np.uint8)
            img[..., 0 if not second else 2] = np.linspace(40, 200, w, dtype=np.uint8)[None]
            img[..., 1] = 60 if not second else 160
            x = (k * 2) % (w - 10)
            img[h // 3:h // 3 + 20, x:x + 10] = (250, 250, 250) if not second else (10, 10, 10)
            img += rng.integers(0, 4, img.shape, dtype=np.uint8)  # sensor noise
            out.write(img)
    return path


# ---------------------------------------------------------------- sources


def test_collect_sources_files_folders_lists(tmp_path):
    a = tmp_path / "spk1" / "a.mp4"
    b = tmp_path / "spk2" / "b.mov"
    for p in (a, b):
        p.parent.mkdir()
        p.write_bytes(b"x")
    (tmp_path / "spk1" / "a.wav").write_bytes(b"x")
    (tmp_path / "spk1" / "notes.txt").write_text("not a video")
    lst = tmp_path / "list.txt"
    lst.write_text(f"# my videos\n{a}\n\nspk2/b.mov\n")
    by_list = collect_sources([lst])
    by_folder = collect_sources(tmp_path)
    assert [s.path for s in by_list] == [s.path for s in by_folder]
    assert len(collect_sources([a, a, tmp_path / "spk1"])) == 1  # no duplicates
    src = {s.path: s for s in by_folder}
    assert src[str(a)].sidecar_audio == str(a.with_suffix(".wav"))
    assert src[str(b)].sidecar_audio is None
    assert src[str(a)].source_id.startswith("a-")
    by_speaker = collect_sources(tmp_path, speaker_from="folder")
    assert sorted(s.speaker_id for s in by_speaker) == ["spk1", "spk2"]
    with pytest.raises(InputError, match="does not exist"):
        collect_sources([tmp_path / "missing.mp4"])
    lst.write_text("nope.mp4\n")
    with pytest.raises(InputError, match="listed in"):
        collect_sources([lst])


# ---------------------------------------------------------------- decode


def test_audio_of_video_and_sidecar(tmp_path):
    v = write_video(tmp_path / "with.mp4", seconds=1.0)
    y = load_source_audio(str(v), duration_s=1.0)
    assert y.shape == (16000,) and np.abs(y).max() > 0.1
    silent = write_video(tmp_path / "silent.mp4", seconds=1.0, audio=False)
    with pytest.raises(NoAudioError, match="no audio"):
        load_source_audio(str(silent))
    import soundfile as sf
    sf.write(tmp_path / "silent.wav", np.full(8000, 0.25, np.float32), 8000)
    y = load_source_audio(str(silent), sidecar=str(tmp_path / "silent.wav"), duration_s=1.0)
    assert y.shape == (16000,) and abs(float(np.median(y)) - 0.25) < 0.01


# ---------------------------------------------------------------- shots


def test_shot_cut_found_in_a_synthetic_video(tmp_path):
    v = write_video(tmp_path / "cut.mp4", seconds=2.4, cut_at=31)
    tracker = shots.ShotTracker()
    for frame in iter_frames(v, fps=25):
        tracker.update(frame)
    assert shots.detect_cuts(np.array(tracker.distances)) == [31]
    assert shots.shots([31], 60) == [(0, 31), (31, 60)]
    calm = write_video(tmp_path / "calm.mp4", seconds=2.4)
    tracker = shots.ShotTracker()
    for frame in iter_frames(calm, fps=25):
        tracker.update(frame)
    assert shots.detect_cuts(np.array(tracker.distances)) == []


def test_adaptive_threshold_ignores_a_busy_shot():
    rng = np.random.default_rng(0)
    busy = 0.3 + 0.1 * rng.random(100)          # every frame changes a lot (e.g. a fast pan)
    busy[0] = 0.0
    assert shots.detect_cuts(busy) == []
    busy[50] = 0.95
    assert shots.detect_cuts(busy) == [50]


def _person(t: int, *, scale=100.0, x=200.0) -> np.ndarray:
    kp = np.zeros((t, 133, 3), np.float32)
    kp[:, layout.LEFT_SHOULDER] = (x + scale / 2, 300, 1)
    kp[:, layout.RIGHT_SHOULDER] = (x - scale / 2, 300, 1)
    return kp


def test_skeleton_cut_on_a_zoom_jump():
    kp = _person(40)
    kp[20:, layout.LEFT_SHOULDER, 0] += 40       # shoulders 40 % wider from frame 20 on
    kp[20:, layout.RIGHT_SHOULDER, 0] -= 0
    assert shots.skeleton_cuts(kp) == [20]
    kp = _person(40)
    kp[:, :, 0] += np.linspace(0, 30, 40)[:, None]  # a smooth walk is no cut
    assert shots.skeleton_cuts(kp) == []


def test_clip_windows():
    assert clip_windows(0, 10, clip_frames=250, min_frames=50) == []
    assert clip_windows(0, 60, clip_frames=250, min_frames=50) == [(0, 60)]
    w = clip_windows(100, 700, clip_frames=250, min_frames=50)
    assert w[0][0] == 100 and w[-1][1] == 700 and len(w) == 3
    assert all(b - a <= 250 for a, b in w) and all(w[i][1] == w[i + 1][0] for i in range(2))


# ---------------------------------------------------------------- post-processing


def test_crop_box_and_mapping():
    kp = _person(10, x=1100.0)
    kp[:, layout.NOSE] = (1100, 200, 1)
    box = postprocess.crop_box(kp, (1280, 720))
    x0, y0, side = box
    assert 0 <= x0 and x0 + side <= 1280 and 0 <= y0 and y0 + side <= 720
    assert x0 < 1100 - 50 and x0 + side > 1100 + 50     # the person is inside
    out = postprocess.apply_crop(kp, box, size=512)
    assert np.allclose(out[0, layout.NOSE, :2], ((1100 - x0) * 512 / side, (200 - y0) * 512 / side))
    frame = np.zeros((720, 1280, 3), np.uint8)
    assert postprocess.crop_frame(frame, box, size=64).shape == (64, 64, 3)
    wide = postprocess.crop_box(np.zeros((3, 133, 3), np.float32), (1280, 720))
    assert wide == (280.0, 0.0, 720.0)            # nobody seen: the centre square


def test_savgol_smoothing_reduces_jitter_and_keeps_unseen_points():
    rng = np.random.default_rng(0)
    t = 60
    truth = np.linspace(100, 160, t)
    kp = np.zeros((t, 133, 3), np.float32)
    kp[:, 9, 0] = truth + rng.normal(0, 2, t)
    kp[:, 9, 2] = 1.0
    kp[30:35, 9, 2] = 0.0                          # an unseen stretch
    kp[30:35, 9, 0] = 0.0
    sm = postprocess.smooth_keypoints(kp)
    seen = kp[:, 9, 2] > 0
    assert np.abs(sm[seen, 9, 0] - truth[seen]).mean() < 0.7 * np.abs(kp[seen, 9, 0] - truth[seen]).mean()
    jitter = lambda x: np.diff(x[:30], 2).std()  # noqa: E731  frame-to-frame acceleration
    assert jitter(sm[:, 9, 0]) < 0.2 * jitter(kp[:, 9, 0])
    assert np.all(sm[30:35, 9, 0] == 0.0) and np.all(sm[:, :, 2] == kp[:, :, 2])
    short = postprocess.smooth_keypoints(kp[:3])
    assert np.array_equal(short, kp[:3])


# ---------------------------------------------------------------- QC


def test_skeleton_quality_and_single_speaker():
    th = qc.QCThresholds()
    kp = np.zeros((10, 133, 3), np.float32)
    kp[:, [layout.NOSE, layout.LEFT_SHOULDER, layout.RIGHT_SHOULDER], 2] = 1
    kp[:, layout.FACE, 2] = 1
    scores, reason = qc.skeleton_quality(kp, th)
    assert scores["upper_body"] == 1.0 and reason.startswith("skeleton_quality: hands")
    kp[:8, layout.RIGHT_HAND, 2] = 1
    assert qc.skeleton_quality(kp, th)[1] == ""
    assert qc.single_speaker(np.array([1, 1, 1, 2]), th)[1] == ""
    scores, reason = qc.single_speaker(np.array([2, 2, 1, 2]), th)
    assert scores["multi_face"] == 0.75 and reason.startswith("multiple_speakers")
    assert qc.speech_present(np.array([0.9, 0.1, 0.1, 0.1]), th)[1].startswith("no_speech")


def _talking(t=150, fps=25.0, sr=16000, delay_frames=0, seed=0):
    """Keypoints whose mouth opens with a syllable envelope, and audio with that envelope
    delayed by ``delay_frames`` (positive: the sound comes after the mouth)."""
    rng = np.random.default_rng(seed)
    env = np.convolve(rng.random(t + 40) ** 3, np.ones(3) / 3, mode="same")
    mouth = env[20:20 + t]
    kp = np.zeros((t, 133, 3), np.float32)
    kp[:, [layout.MOUTH_LEFT_CORNER, layout.MOUTH_RIGHT_CORNER], 2] = 1
    kp[:, layout.MOUTH_LEFT_CORNER, :2] = (90, 100)
    kp[:, layout.MOUTH_RIGHT_CORNER, :2] = (110, 100)
    kp[:, [layout.INNER_LIP_TOP, layout.INNER_LIP_BOTTOM], 2] = 1
    kp[:, layout.INNER_LIP_TOP, :2] = np.stack([np.full(t, 100), 100 - 5 * mouth], 1)
    kp[:, layout.INNER_LIP_BOTTOM, :2] = np.stack([np.full(t, 100), 100 + 5 * mouth], 1)
    hop = int(sr / fps)
    sound = env[20 - delay_frames:20 - delay_frames + t]
    y = (rng.normal(0, 1, t * hop) * np.repeat(sound, hop)).astype(np.float32) * 0.2
    return kp, y


def test_av_sync_shift_and_reject_policies():
    kp, y = _talking(delay_frames=0)
    scores, reason, shift = qc.av_sync(kp, y, sr=16000, fps=25.0, th=qc.QCThresholds())
    assert scores["av_offset_frames"] == 0 and reason == "" and shift == 0
    kp, y = _talking(delay_frames=8)             # sound 8 frames after the mouth: video leads
    scores, reason, shift = qc.av_sync(kp, y, sr=16000, fps=25.0, th=qc.QCThresholds())
    assert scores["av_offset_frames"] == -8 and reason == "" and shift == 8
    # Reading the audio `shift` frames later lines it up again.
    from gesticulate.data.process import _audio_slice
    fixed = _audio_slice(y, 0, len(kp), shift, 25.0)
    assert qc.av_sync(kp, fixed, sr=16000, fps=25.0, th=qc.QCThresholds())[0]["av_offset_frames"] == 0
    th = qc.QCThresholds(sync_policy="reject")
    scores, reason, shift = qc.av_sync(kp, y, sr=16000, fps=25.0, th=th)
    assert reason.startswith("av_sync") and shift == 0


# ---------------------------------------------------------------- split


def _rec(i, speaker, status="kept"):
    return ClipRecord(clip_id=f"c{i:03d}", source=f"{speaker}.mp4", start_s=0, end_s=1, fps=25,
                      num_frames=25, speaker_id=speaker, status=status)


def test_split_by_speaker_never_by_clip():
    recs = [_rec(i, f"spk{i % 7}") for i in range(70)] + [_rec(99, "spk0", "rejected")]
    split.assign_splits(recs)
    by_speaker = {}
    for r in recs[:70]:
        by_speaker.setdefault(r.speaker_id, set()).add(r.split)
    assert all(len(s) == 1 for s in by_speaker.values())          # one split per speaker
    assert {next(iter(s)) for s in by_speaker.values()} == {"train", "val", "test"}
    assert recs[-1].split is None
    again = [_rec(i, f"spk{i % 7}") for i in reversed(range(70))]
    split.assign_splits(again)
    assert {r.clip_id: r.split for r in again} == {r.clip_id: r.split for r in recs[:70]}
    assert set(split.speaker_splits(["a"]).values()) == {"train"}


def test_an_unforeseen_failure_rejects_the_source_and_the_build_goes_on(tmp_path, monkeypatch):
    from gesticulate.data import process
    from gesticulate.data.sources import collect_sources

    v = write_video(tmp_path / "v.mp4", seconds=0.5)

    def boom(path, cfg):
        raise RuntimeError("decoder exploded")

    monkeypatch.setattr(process, "_track", boom)
    (src,) = collect_sources(v)
    (row,) = process.process_source(src, tmp_path / "out", process.BuildConfig())
    assert row.status == "rejected" and row.reason == "error: RuntimeError: decoder exploded"
    assert process.marker_path(tmp_path / "out", src.source_id).is_file()


# ---------------------------------------------------------------- engines


def _cpus_after_a_while(seconds: float) -> list[int]:
    import os
    import time

    time.sleep(seconds)  # long enough that each pool worker takes one task
    return sorted(os.sched_getaffinity(0))


@pytest.mark.skipif(not hasattr(__import__("os"), "sched_getaffinity"), reason="Linux only")
def test_a_worker_is_one_core_and_the_caller_gets_its_cores_back():
    import os

    from gesticulate.data.engines import run_tasks, usable_cpus

    before = usable_cpus()
    (alone,) = run_tasks(_cpus_after_a_while, [(0.0,)], workers=1)
    assert len(alone) == 1 and alone[0] in before
    assert sorted(os.sched_getaffinity(0)) == before
    if len(before) < 2:
        pytest.skip("one CPU: nothing to spread workers over")
    pooled = list(run_tasks(_cpus_after_a_while, [(1.0,), (1.0,)], workers=2))
    assert all(len(c) == 1 for c in pooled)
    assert sorted(c[0] for c in pooled) == before[:2]   # one worker per core, not both on one


# ---------------------------------------------------------------- segments


def test_long_videos_are_cut_into_segments_by_the_settings_alone(tmp_path):
    from gesticulate.data.process import BuildConfig, pending_segments, segments

    (six,) = collect_sources(write_video(tmp_path / "six.mp4", seconds=6.0))
    cfg = BuildConfig(segment_seconds=2.0)
    assert segments(six, cfg) == [(0, 50), (50, 100), (100, None)]   # the last takes the rest
    assert segments(six, BuildConfig(segment_seconds=3.5)) == [(0, None)]  # < 2 segments' worth
    assert segments(six, BuildConfig(segment_seconds=0)) == [(0, None)]
    assert [t[3:] for t in pending_segments(six, tmp_path / "out", cfg)] == [
        (0, 0, 50), (1, 50, 100), (2, 100, None)]
    (mute,) = collect_sources(write_video(tmp_path / "mute.mp4", seconds=6.0, audio=False))
    assert pending_segments(mute, tmp_path / "out", cfg) == []          # rejected untracked


def test_a_segmented_build_finds_a_cut_on_a_segment_border(tmp_path):
    from gesticulate.data.build import build_dataset
    from gesticulate.data.clips import read_manifest

    v = write_video(tmp_path / "v.mp4", seconds=3.0, cut_at=30)  # cut exactly at frame 30
    opts = dict(clip_seconds=1.0, min_clip_seconds=0.5, progress=False, report=False)
    build_dataset([v], output=tmp_path / "seg", segment_seconds=1.2, **opts)  # border at 30
    build_dataset([v], output=tmp_path / "whole", segment_seconds=0, **opts)
    spans = lambda d: [(r.start_s, r.end_s) for r in read_manifest(d)]  # noqa: E731
    assert spans(tmp_path / "seg") == spans(tmp_path / "whole")
    # Shots [0, 30) and [30, 75) in clips of at most 25 frames (without the cut: 0, 25, 50).
    assert sorted(round(a * 25) for a, _ in spans(tmp_path / "seg")) == [0, 15, 30, 52]
    assert not (tmp_path / "seg" / "tracks").exists() or not any((tmp_path / "seg" / "tracks").iterdir())


def test_a_truncated_long_video_ends_the_same_in_segments_as_in_one_pass(tmp_path):
    import av
    import soundfile as sf

    from gesticulate.data.build import build_dataset
    from gesticulate.data.clips import read_manifest

    # Matroska keeps its index in front, so a cut file still plays up to the cut (an mp4 cut
    # short loses its index and is unreadable); the sound comes from a .wav beside it.
    v = tmp_path / "v.mkv"
    with av.open(str(v), "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 96, 80, "yuv420p"
        for f in iter_frames(write_video(tmp_path / "src.mp4", seconds=8.0, audio=False)):
            c.mux(s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        c.mux(s.encode())
    sf.write(tmp_path / "v.wav", 0.1 * np.sin(np.arange(8 * 16000) * 0.1), 16000)
    v.write_bytes(v.read_bytes()[:int(v.stat().st_size * 0.55)])
    opts = dict(clip_seconds=2.0, min_clip_seconds=0.5, progress=False, report=False)
    rows = {}
    for name, seg in (("seg", 2.0), ("whole", 0)):
        build_dataset([v], output=tmp_path / name, segment_seconds=seg, **opts)
        rows[name] = [(r.start_s, r.end_s, r.reason.split(":")[0])
                      for r in read_manifest(tmp_path / name)]
    assert rows["seg"] == rows["whole"]
    assert 2.0 < max(end for _, end, _ in rows["seg"]) < 7.0, rows    # ends near the cut
