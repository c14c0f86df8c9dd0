import os
import stat

import av
import numpy as np
import pytest

from gesticulate.errors import InputError, OptionError, OutputError
from gesticulate.video import VideoWriter, iter_frames, probe_video, to_i420


def _write(path, *, seconds=1.3, fps=25, size=(64, 48), sr=16000, audio=True):
    y = (0.2 * np.sin(np.arange(int(sr * seconds)) * 2 * np.pi * 220 / sr)).astype(np.float32)
    n = int(round(seconds * fps))
    with VideoWriter(path, fps=fps, size=size, audio=y if audio else None, sr=sr) as w:
        for i in range(n):
            w.write(np.full((size[1], size[0], 3), (i * 7) % 255, np.uint8))
    return n, y


@pytest.mark.parametrize("seconds,fps", [(1.3, 25), (0.52, 30), (2.0, 24)])
def test_mp4_streams_and_duration(tmp_path, seconds, fps):
    out = tmp_path / "a.mp4"
    n, y = _write(out, seconds=seconds, fps=fps)
    with av.open(str(out)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert v.codec_context.name == "h264" and a.codec_context.name == "aac"
        vdur = float(v.duration * v.time_base)
        adur = float(a.duration * a.time_base)
    assert abs(vdur - seconds) <= 1 / fps
    assert abs(adur - seconds) <= 1024 / 16000 + 1e-3  # one AAC frame of padding at most
    info = probe_video(out)
    assert info.num_frames == n and info.has_audio and (info.width, info.height) == (64, 48)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_frames_round_trip_and_resample(tmp_path):
    out = tmp_path / "a.mp4"
    n, _ = _write(out, seconds=2.0, fps=25, audio=False)
    frames = list(iter_frames(out))
    assert len(frames) == n and frames[0].shape == (48, 64, 3)
    assert abs(int(frames[10].mean()) - 70) <= 3
    assert len(list(iter_frames(out, fps=10))) == 20


@pytest.mark.parametrize("in_fps,out_fps", [(30, 25), (25, 25), (24, 30)])
def test_starting_mid_video_gives_exactly_the_frames_of_a_full_pass(tmp_path, in_fps, out_fps):
    out = tmp_path / "a.mp4"
    with VideoWriter(out, fps=in_fps, size=(64, 48)) as w:   # 7 s: starts past 2 s seek
        for i in range(7 * in_fps):
            img = np.zeros((48, 64, 3), np.uint8)
            img[:, :, 0], img[:, :, 1] = i % 256, (i // 256) * 40  # every frame unique
            w.write(img)
    full = list(iter_frames(out, fps=out_fps))
    for start in (1, 49, 50, 51, 99, 100, len(full) - 1, len(full), len(full) + 7):
        part = list(iter_frames(out, fps=out_fps, start=start))
        assert len(part) == max(0, len(full) - start), start
        assert all(np.array_equal(a, b) for a, b in zip(part, full[start:])), start
    with pytest.raises(OptionError, match="needs fps"):
        next(iter_frames(out, start=3))


def test_odd_size_is_made_even(tmp_path):
    out = tmp_path / "odd.mp4"
    with VideoWriter(out, fps=25, size=(65, 49)) as w:
        w.write(np.zeros((49, 65, 3), np.uint8))
    assert probe_video(out).width == 64


def test_i420_planes_encode_as_their_rgb_frame(tmp_path):
    """Render workers send to_i420 planes: the same video as the RGB frames they came from,
    and the colours survive (BT.601 video range, as H.264 players expect)."""
    rng = np.random.default_rng(0)
    frames = [np.clip(rng.normal(c, 30, (48, 64, 3)), 0, 255).astype(np.uint8)
              for c in ((200, 40, 40), (40, 160, 220), (90, 90, 90))]
    frames = [np.repeat(np.repeat(f[::8, ::8], 8, 0), 8, 1) for f in frames]  # 8x8 blocks
    for name, convert in (("rgb.mp4", lambda f: f), ("yuv.mp4", to_i420)):
        with VideoWriter(tmp_path / name, fps=25, size=(64, 48)) as w:
            for f in frames:
                w.write(convert(f))
    a = list(iter_frames(tmp_path / "rgb.mp4"))
    b = list(iter_frames(tmp_path / "yuv.mp4"))
    assert len(a) == len(b) == 3
    for x, y, f in zip(a, b, frames):
        np.testing.assert_array_equal(x, y)
        assert np.abs(x.astype(int) - f).mean() < 6     # the colours come back
    with pytest.raises(InputError, match="do not fit the video's 64x48"):
        with VideoWriter(tmp_path / "bad.mp4", fps=25, size=(64, 48)) as w:
            w.write(to_i420(np.zeros((24, 32, 3), np.uint8)))
    assert not (tmp_path / "bad.mp4").exists()


def test_a_frame_smaller_than_the_video_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="32x24 pixels is smaller than the video's 64x48"):
        with VideoWriter(tmp_path / "x.mp4", fps=25, size=(64, 48)) as w:
            w.write(np.zeros((24, 32, 3), np.uint8))
    assert os.listdir(tmp_path) == []


def test_failure_leaves_no_file(tmp_path):
    out = tmp_path / "x.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(out, fps=25, size=(32, 32)) as w:
            w.write(np.zeros((32, 32, 3), np.uint8))
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []


def test_output_errors(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        VideoWriter(tmp_path / "missing" / "x.mp4", fps=25, size=(32, 32))
    with pytest.raises(OutputError, match="is a folder"):
        VideoWriter(tmp_path, fps=25, size=(32, 32))
    with pytest.raises(OptionError):
        VideoWriter(tmp_path / "x.mp4", fps=0, size=(32, 32))
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(OutputError, match="permission"):
            VideoWriter(ro / "x.mp4", fps=25, size=(32, 32))
    finally:
        ro.chmod(stat.S_IRWXU)


@pytest.mark.parametrize("content", [b"", b"this is not a video", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 50])
def test_bad_videos(tmp_path, content):
    p = tmp_path / "bad.mp4"
    p.write_bytes(content)
    with pytest.raises(InputError):
        list(iter_frames(p))


def test_truncated_video(tmp_path):
    good = tmp_path / "good.mp4"
    _write(good, seconds=2.0, audio=False, size=(128, 96))
    data = good.read_bytes()
    bad = tmp_path / "trunc.mp4"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError):
        frames = list(iter_frames(bad))
        assert len(frames) == 50  # a silent cut would be a bug: either an error or all frames


def test_i420_of_an_odd_frame_is_that_of_its_even_crop():
    rng = np.random.default_rng(1)
    odd = rng.integers(0, 256, (49, 65, 3), dtype=np.uint8)
    np.testing.assert_array_equal(to_i420(odd), to_i420(np.ascontiguousarray(odd[:48, :64])))
    assert to_i420(odd).shape == (72, 64)
