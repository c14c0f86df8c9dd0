"""Video in and out through PyAV (its own libx264 and AAC; no system ffmpeg needed).

* :func:`probe_video` and :func:`iter_frames` read any container FFmpeg reads, streaming
  frames one at a time (memory bounded by one frame), optionally resampled to a frame rate.
* :class:`VideoWriter` writes H.264 + AAC mp4 atomically: frames and audio go to a hidden
  temporary file in the output folder, renamed to the final name only when the video is
  complete, and removed on any failure — no partial output is ever left under the final name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from gesticulate.atomic import atomic_file, check_output
from gesticulate.errors import InputError, OptionError, OutputError, input_file

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov")   # names that say MP4-family, which is what is written


@dataclass
class VideoInfo:
    """What a video file holds: frame rate (fps), frame count, size (pixels), duration (s), audio."""

    fps: float
    num_frames: int
    width: int
    height: int
    duration_s: float
    has_audio: bool


def _open(path: str | os.PathLike):
    path = input_file(path, "video", empty="give a complete video file")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise InputError(f"{path} is not a readable video ({e}); give an mp4, mov, avi, mkv "
                         "or webm file") from None
    if not container.streams.video:
        container.close()
        raise InputError(f"{path} has no video stream; give a video file")
    return container


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Read a video's header: fps, frame count (estimated from the duration if absent), size."""
    with _open(path) as c:
        s = c.streams.video[0]
        fps = float(s.average_rate or s.guessed_rate or 25)
        if s.duration is not None and s.time_base is not None:
            duration = float(s.duration * s.time_base)
        elif c.duration is not None:
            duration = c.duration / av.time_base
        else:
            duration = 0.0
        n = s.frames or int(round(duration * fps))
        return VideoInfo(fps=fps, num_frames=n, width=s.codec_context.width,
                         height=s.codec_context.height, duration_s=duration or n / fps,
                         has_audio=bool(c.streams.audio))


def iter_frames(path: str | os.PathLike, *, fps: float | None = None,
                start: int = 0) -> Iterator[np.ndarray]:
    """Yield RGB uint8 frames ``(H, W, 3)`` one at a time.

    With ``fps`` the frames are resampled by time: output frame ``k`` is the input frame shown
    at time ``k / fps`` (frames are dropped or repeated as needed). ``start`` (with ``fps``)
    begins at output frame ``start``, seeking to a keyframe before it instead of decoding
    from the beginning; the frames are exactly those a full pass yields from ``start`` on. A
    file that breaks off mid-stream raises :class:`InputError` after the frames that could
    be decoded.
    """
    if start and fps is None:
        raise OptionError(f"iter_frames(start={start}) needs fps: output frames are counted at "
                          "fps; give fps too")
    with _open(path) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        in_fps = float(stream.average_rate or stream.guessed_rate or fps or 25)
        try:
            if fps is None:
                for frame in c.decode(stream):
                    yield frame.to_ndarray(format="rgb24")
            else:
                yield from _resampled(c, stream, fps, in_fps, start, seek=True)
        except av.error.FFmpegError as e:
            raise InputError(f"{path} is corrupt or truncated ({e}); re-encode or re-download it") from None


_SEEK_MARGIN_S = 2.0  # seek this far before the wanted frame, so the first frame decoded precedes it


def _resampled(c, stream, fps: float, in_fps: float, start: int, *, seek: bool):
    """Output frames ``start, start + 1, ...`` of the stream resampled to ``fps``."""
    k, first_t, counting = 0, None, False
    if seek and start / fps > _SEEK_MARGIN_S and stream.time_base is not None:
        first = next(c.decode(stream), None)   # its time is time 0 of the resampling
        if first is not None and first.pts is not None and first.time is not None:
            first_t = float(first.time)
            c.seek(first.pts + int((start / fps - _SEEK_MARGIN_S) / stream.time_base),
                   stream=stream, backward=True, any_frame=False)
            counting = True
    for frame in c.decode(stream):
        t = float(frame.time) if frame.time is not None else k / fps
        first_t = t if first_t is None else first_t
        # Emit every output frame whose time falls in [t, t + 1/in_fps), the span this input
        # frame is shown for; so n input frames give round(n / in_fps * fps).
        end = t - first_t + 1.0 / in_fps - 1e-6
        if counting:  # the first frame after the seek: count what a full pass yields up to it
            counting = False
            while k / fps < end:
                k += 1
            if frame.time is None or k > start:  # landed past `start`: decode from the top
                c.seek(0, stream=stream, backward=True, any_frame=False)
                yield from _resampled(c, stream, fps, in_fps, start, seek=False)
                return
            continue
        img = None
        while k / fps < end:
            if k >= start:
                img = frame.to_ndarray(format="rgb24") if img is None else img
                yield img
            k += 1


class VideoWriter:
    """Write an H.264 (yuv420p) + AAC mp4 atomically.

    Parameters
    ----------
    path : path of the final video, named ``.mp4``, ``.m4v`` or ``.mov`` (the container is MP4
        whatever the name, so other names are refused); its folder must exist and be writable.
    fps : frames per second.
    size : (width, height) in pixels; made even (H.264 with yuv420p needs even sizes) by
        cropping the last row/column if needed.
    audio : optional mono float32 samples in -1..1 muxed in as AAC; its length sets the
        audio stream's duration.
    sr : the audio's sample rate (Hz).

    Use as a context manager: the file appears under ``path`` only if the block finishes.
    """

    def __init__(self, path: str | os.PathLike, *, fps: float, size: tuple[int, int],
                 audio: np.ndarray | None = None, sr: int | None = None,
                 crf: int = 20, preset: str = "veryfast") -> None:
        self.path = Path(path)
        if fps <= 0 or fps > 240:
            raise OptionError(f"fps {fps} is out of range; use a value between 1 and 240 (25 is usual)")
        check_video_output(self.path)
        self.fps = fps
        self.size = (int(size[0]) // 2 * 2, int(size[1]) // 2 * 2)
        if min(self.size) < 2:
            raise OptionError(f"video size {size} is too small")
        self.audio = None if audio is None else np.asarray(audio, dtype=np.float32).reshape(-1)
        self.sr = sr
        self._crf, self._preset = crf, preset
        self._tmp: str | None = None
        self._container = None
        self.frames_written = 0
        self._audio_pos = 0

    def __enter__(self) -> "VideoWriter":
        self._atomic = atomic_file(self.path, suffix=".mp4")
        self._tmp = str(self._atomic.__enter__())
        c = av.open(self._tmp, mode="w", format="mp4")
        self._container = c
        rate = Fraction(self.fps).limit_denominator(1001)
        v = c.add_stream("libx264", rate=rate)
        v.width, v.height = self.size
        v.pix_fmt = "yuv420p"
        v.options = {"crf": str(self._crf), "preset": self._preset}
        # One encoder thread: the frames come from render processes that use the other cores,
        # and x264's frame threads cost a fifth more CPU for the same stream.
        v.codec_context.thread_count = 1
        v.codec_context.time_base = 1 / rate
        self._video = v
        if self.audio is not None:
            a = c.add_stream("aac", rate=int(self.sr))
            a.layout = "mono"
            self._audio_stream = a
        return self

    def write(self, frame: np.ndarray) -> None:
        """Append one RGB uint8 frame ``(H, W, 3)`` (cropped to the even size if needed), or
        the same frame as :func:`to_i420` planes ``(H * 3 // 2, W)`` of exactly the even size."""
        w, h = self.size
        if frame.ndim == 2:
            if frame.shape != (h * 3 // 2, w):
                raise InputError(f"I420 planes of shape {frame.shape} do not fit the video's "
                                 f"{w}x{h}; give to_i420 of a {w}x{h} frame")
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="yuv420p")
        else:
            frame = np.ascontiguousarray(frame[:h, :w, :3])
            if frame.shape[:2] != (h, w):
                raise InputError(f"a frame of {frame.shape[1]}x{frame.shape[0]} pixels is smaller "
                                 f"than the video's {w}x{h}; give frames of the size the writer "
                                 "was opened with")
            vf = av.VideoFrame.from_ndarray(to_i420(frame), format="yuv420p")
        vf.pts = self.frames_written
        vf.time_base = self._video.codec_context.time_base
        self._mux(self._video.encode(vf))
        self.frames_written += 1
        if self.audio is not None:  # keep audio interleaved with the video for long files
            self._write_audio_until(int(self.frames_written / self.fps * self.sr))

    def _write_audio_until(self, end: int) -> None:
        end = min(end, len(self.audio))
        step = 1024 * 16
        while self._audio_pos < end:
            chunk = self.audio[self._audio_pos:min(end, self._audio_pos + step)]
            af = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
            af.sample_rate = int(self.sr)
            af.pts = self._audio_pos
            af.time_base = Fraction(1, int(self.sr))
            self._mux(self._audio_stream.encode(af))
            self._audio_pos += len(chunk)

    def _mux(self, packets) -> None:
        try:
            self._container.mux(packets)
        except OSError as e:
            raise OutputError(f"could not write {self.path}: {e.strerror or e}; "
                              "free some disk space or choose another folder") from None

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                if self.audio is not None:
                    self._write_audio_until(len(self.audio))
                    self._mux(self._audio_stream.encode(None))
                self._mux(self._video.encode(None))
            self._container.close()
        except BaseException as e:
            self._atomic.__exit__(type(e), e, e.__traceback__)
            raise
        # Renames the finished file into place, or removes it when the block failed.
        self._atomic.__exit__(exc_type, exc, tb)


def to_i420(frame: np.ndarray) -> np.ndarray:
    """RGB uint8 ``(H, W, 3)`` → the YUV 4:2:0 planes H.264 stores, ``(H' * 3 // 2, W')``
    uint8 (BT.601, video range), of the frame cropped to even ``H'``, ``W'`` as
    :class:`VideoWriter` crops it. Half the bytes of RGB: render workers send these."""
    import cv2
    h, w = frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2
    return cv2.cvtColor(np.ascontiguousarray(frame[:h, :w, :3]), cv2.COLOR_RGB2YUV_I420)


def check_video_output(path: str | os.PathLike, *, inputs: dict | None = None) -> Path:
    """:func:`check_output_path`, and a name that says MP4 (:data:`VIDEO_SUFFIXES`): the video
    is written as MP4 whatever the name, so ``talk.avi`` is refused."""
    path = check_output_path(path, inputs=inputs)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise OptionError(f"output {path.name}: videos are written as MP4 (H.264 + AAC); name "
                          f"the file {path.stem}.mp4")
    return path


def check_skeleton_output(path: str | os.PathLike, *, inputs: dict | None = None) -> Path:
    """:func:`check_output_path`, and a name ending in ``.npz``: skeletons are written as
    ``.npz`` whatever the name, so ``sample -o photo.png`` wrote them over a photo."""
    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise OptionError(f"output {path}: skeletons are written as .npz; name the file "
                          f"{path.stem}.npz")
    return check_output_path(path, inputs=inputs)


def check_output_path(path: str | os.PathLike, *, inputs: dict | None = None) -> Path:
    """Fail early, before any work, when the file ``path`` cannot be written or is one of
    ``inputs`` (:func:`~gesticulate.atomic.check_output`)."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"output {path} is a folder; give a file name such as {path / 'out.mp4'}")
    return check_output(path, inputs=inputs)
