"""build-dataset end to end on short cuts of the real clips (../shared/data/video) and on
broken files: kept clips, rejections with reasons, A/V offset, two speakers, resume after
``kill -9``, and the Ray engine matching the local one."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gesticulate.data.build import build_dataset
from gesticulate.data.clips import STATS, clip_dir, iter_clips, read_manifest
from gesticulate.errors import OptionError
from gesticulate.skeleton.sequence import SkeletonSequence

pytestmark = pytest.mark.realdata

SR = 16000
FPS = 25
OPTS = dict(fps=FPS, clip_seconds=10.0, min_clip_seconds=1.0)
# Resume and engine tests track each 2-second video in two segments, so that cached segments are
# part of what a kill may interrupt and what engines must agree on.
SEG_OPTS = dict(fps=FPS, clip_seconds=1.0, min_clip_seconds=0.5, segment_seconds=1.0)


def _cut(srcs, dst, *, seconds, size, audio_delay_frames=0):
    """The first ``seconds`` of one or more videos side by side, each ``size`` px square,
    with the first one's audio (delayed by ``audio_delay_frames``: sound after the mouth)."""
    import cv2

    from gesticulate.data.decode import load_source_audio
    from gesticulate.video import VideoWriter, iter_frames

    n = int(round(seconds * FPS))
    y = load_source_audio(str(srcs[0]))
    y = np.concatenate([np.zeros(int(audio_delay_frames * SR / FPS), np.float32), y])
    y = y[:int(seconds * SR)]
    streams = [iter_frames(s, fps=FPS) for s in srcs]
    with VideoWriter(dst, fps=FPS, size=(size * len(srcs), size), audio=y, sr=SR) as w:
        for _, frames in zip(range(n), zip(*streams)):
            w.write(np.concatenate([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA)
                                    for f in frames], axis=1))
    return dst


@pytest.fixture(scope="module")
def videos(shared_data, tmp_path_factory) -> dict[str, Path]:
    from test_data_steps import write_video

    v = shared_data / "video"
    d = tmp_path_factory.mktemp("videos")
    out = {
        "a": _cut([v / "hbr_speaker7.mp4"], d / "a.mp4", seconds=2.0, size=384),
        "b": _cut([v / "hbr_speaker9.mp4"], d / "b.mp4", seconds=2.0, size=384),
        "two": _cut([v / "hbr_speaker8.mp4", v / "hbr_speaker12.mp4"], d / "two.mp4",
                    seconds=2.0, size=384),
        "shifted": _cut([v / "hbr_speaker7.mp4"], d / "shifted.mp4", seconds=3.2, size=512,
                        audio_delay_frames=10),
        "silent": write_video(d / "silent.mp4", seconds=1.2, audio=False),
        "nobody": write_video(d / "nobody.mp4", seconds=2.4, cut_at=31),
    }
    out["zero"] = d / "zero.mp4"
    out["zero"].write_bytes(b"")
    out["truncated"] = d / "truncated.mp4"
    data = out["a"].read_bytes()
    out["truncated"].write_bytes(data[:len(data) // 3])
    out["text"] = d / "text.mp4"
    out["text"].write_text("this is not a video\n")
    return out


@pytest.fixture(scope="module")
def full_build(videos, tmp_path_factory):
    out = tmp_path_factory.mktemp("full") / "ds"
    summary = build_dataset(list(videos.values()), output=out, write_video=True,
                            progress=False, **OPTS)
    rows = {Path(r.source).stem: [] for r in read_manifest(out)}
    for r in read_manifest(out):
        rows[Path(r.source).stem].append(r)
    return out, summary, rows


def test_kept_clips_are_complete(full_build):
    out, summary, rows = full_build
    assert [r.status for r in rows["a"]] == ["kept"] and [r.status for r in rows["b"]] == ["kept"]
    assert (out / STATS).is_file() and (out / "report.html").is_file()
    clips = list(iter_clips(out))
    assert len(clips) == summary.kept >= 3
    for c in clips:
        expected = 80 if c.record.source.endswith("shifted.mp4") else 50
        assert len(c.skeleton) == c.record.num_frames == c.features.num_frames == expected
        assert c.skeleton.image_size == (512, 512) and c.video_path is not None
        assert c.skeleton.confidence_source["hands"].startswith("MediaPipe hand detected")
        seen = c.skeleton.keypoints[..., 2] > 0.5
        xy = c.skeleton.keypoints[seen][:, :2]
        assert xy.min() > -64 and xy.max() < 576        # the person is inside the crop
        import soundfile as sf
        assert sf.info(str(c.audio_path)).samplerate == SR
        assert abs(sf.info(str(c.audio_path)).frames - c.record.num_frames * SR / FPS) <= 1
    speakers = {}
    for r in read_manifest(out):
        if r.status == "kept":
            speakers.setdefault(r.speaker_id, set()).add(r.split)
    assert all(len(s) == 1 for s in speakers.values())
    assert "multiple_speakers" in (out / "report.html").read_text()


def test_kept_clips_sway_with_the_real_chest(full_build):
    """hbr_speaker7's chest moves down and aside while MediaPipe's shoulders move the other way
    (skeleton.trunk): a clip cut from a tracked source travels with the chest, and says so."""
    from gesticulate.skeleton import layout as L
    from gesticulate.skeleton.trunk import TRACKED

    out, _, _ = full_build
    (c,) = [c for c in iter_clips(out) if c.record.source.endswith("shifted.mp4")]
    assert c.skeleton.confidence_source[TRACKED[0]] == TRACKED[1]
    scale = c.record.crop[2] / c.skeleton.image_size[0]         # crop px -> source px
    neck = L.neck(c.skeleton.keypoints) * scale
    travel = neck[60:] - neck[0]
    # The source at 512 px: 2/3 of the 768 px clip's travel (test_skeleton_trunk's figures).
    assert travel[:, 1].mean() > 1.0 and travel[:, 0].mean() > 0.33, travel[::5]


def test_broken_files_are_rejected_with_reasons(full_build):
    _, _, rows = full_build
    for name in ("zero", "truncated", "text"):
        (r,) = rows[name]
        assert r.status == "rejected" and r.reason.startswith("unreadable:"), r.reason
    assert "0 bytes" in rows["zero"][0].reason
    (r,) = rows["silent"]
    assert r.reason.startswith("no_audio:")
    # The drawn scene has a cut at frame 31: two shots, each checked, neither shows a person.
    nobody = sorted(rows["nobody"], key=lambda r: r.start_s)
    assert [round(r.start_s * FPS) for r in nobody] == [0, 31]
    assert all(r.reason.startswith("skeleton_quality") for r in nobody)


def test_two_people_are_rejected(full_build):
    _, _, rows = full_build
    (r,) = rows["two"]
    assert r.status == "rejected" and r.reason.startswith("multiple_speakers"), r.reason
    assert r.qc["multi_face"] > 0.5


def test_audio_shifted_by_10_frames_is_detected_and_fixed(full_build):
    _, _, rows = full_build
    (r,) = rows["shifted"]
    # Sound 10 frames after the mouth: the video leads, offset -10 in the metric's convention.
    assert abs(r.qc["av_offset_frames"] - (-10)) <= 2, r.qc
    assert r.status == "kept" and r.qc["av_shift_frames"] == -r.qc["av_offset_frames"]
    # The clip's audio was moved: it now matches the mouth within the tolerance.
    import soundfile as sf

    from gesticulate.metrics.sync import audio_envelope, estimate_av_offset, mouth_opening
    c = next(c for c in iter_clips(full_build[0]) if c.record.clip_id == r.clip_id)
    y, _ = sf.read(str(c.audio_path), dtype="float32")
    offset, _ = estimate_av_offset(mouth_opening(c.skeleton.keypoints),
                                   audio_envelope(y, sr=SR, fps=FPS), fps=FPS)
    assert abs(offset) <= 3


# ------------------------------------------------------------------ resume and engines


def _subset(videos):
    return [str(videos[k]) for k in ("a", "b", "zero")]


@pytest.fixture(scope="module")
def clean_subset(videos, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean") / "ds"
    build_dataset(_subset(videos), output=out, progress=False, report=False, **SEG_OPTS)
    assert not any((out / "tracks").iterdir())     # segment caches go once a source is done
    return out


def _same_dataset(a: Path, b: Path) -> None:
    assert (a / "manifest.jsonl").read_text() == (b / "manifest.jsonl").read_text()
    kept = [r.clip_id for r in read_manifest(a) if r.status == "kept"]
    assert sorted(p.name for p in (b / "clips").iterdir()) == sorted(kept)  # nothing doubled
    for cid in kept:
        ka = SkeletonSequence.load(clip_dir(a, cid) / "skeleton.npz").keypoints
        kb = SkeletonSequence.load(clip_dir(b, cid) / "skeleton.npz").keypoints
        assert np.array_equal(ka, kb)
    with np.load(a / STATS) as sa, np.load(b / STATS) as sb:
        assert np.array_equal(sa["mean"], sb["mean"]) and np.array_equal(sa["std"], sb["std"])


def _kill_when(args, env, *, when, timeout: float) -> None:
    """Start a build, SIGKILL it as soon as ``when()`` holds (or after ``timeout`` s)."""
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    t0 = time.monotonic()
    while p.poll() is None and not when() and time.monotonic() - t0 < timeout:
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait()
    if os.environ.get("GESTICULATE_DEBUG_KILLS"):
        print(f"killed at {time.monotonic() - t0:.1f} s:", sorted(
            str(q.relative_to(args[-2])) for q in Path(args[-2]).rglob("*")))


@pytest.mark.slow
def test_resume_after_kill_minus_9_matches_a_clean_run(videos, clean_subset, tmp_path):
    out = tmp_path / "ds"
    code = ("import sys, json; from gesticulate.data.build import build_dataset; "
            "build_dataset(json.loads(sys.argv[1]), output=sys.argv[2], progress=False, "
            f"report=False, workers=int(sys.argv[3]), **{SEG_OPTS!r})")
    args = [sys.executable, "-c", code, json.dumps(_subset(videos)), str(out)]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    rng = random.Random(3)
    # Kill points: once a segment is tracked, while a clip folder is being written, just after
    # a source's done marker, and at a random moment (seeded) with two workers (their pool
    # must die with the build).
    plan = [(lambda: any((out / "tracks").rglob("*.npz")), 120.0, 2),
            (lambda: any((out / "clips").glob("*")), 120.0, 1),
            (lambda: any((out / "sources").glob("*.json")), 120.0, 1),
            (lambda: False, rng.uniform(2.0, 15.0), 2)]
    for when, timeout, workers in plan:
        _kill_when(args + [str(workers)], env, when=when, timeout=timeout)
    assert (out / "build.json").is_file()          # the kills did land inside the build
    subprocess.run(args + ["2"], check=True, capture_output=True, env=env, timeout=300)
    _same_dataset(clean_subset, out)
    assert not [p for p in out.rglob(".*") if p.name != ".lock"]   # no temporaries left


def test_rerun_skips_done_sources_and_checks_settings(videos, clean_subset):
    before = (clean_subset / "manifest.jsonl").read_text()
    s = build_dataset(_subset(videos), output=clean_subset, progress=False, report=False,
                      **SEG_OPTS)
    assert s.num_processed == 0 and (clean_subset / "manifest.jsonl").read_text() == before
    with pytest.raises(OptionError, match="other settings"):
        build_dataset(_subset(videos), output=clean_subset, progress=False, report=False,
                      **dict(SEG_OPTS, fps=30))


@pytest.mark.slow
def test_ray_engine_matches_local(videos, clean_subset, tmp_path):
    out = tmp_path / "ds"
    build_dataset(_subset(videos), output=out, engine="ray", workers=2, progress=False,
                  report=False, **SEG_OPTS)
    _same_dataset(clean_subset, out)
