"""Whole-body skeletons (COCO-WholeBody 133) from a photo or a video with MediaPipe Holistic.

* :func:`extract_image` — one photo of one person → ``(133, 3)``; refuses photos with no
  person or with several people (counted by :func:`count_people`).
* :func:`extract_video` — a video streamed frame by frame in tracking mode → a
  :class:`~gesticulate.skeleton.sequence.SkeletonSequence`; memory is bounded by a few frames.
* :func:`extract` — the job behind ``gesticulate extract INPUT --output poses.npz
  [--overlay overlay.mp4|png]``.

Only ``model_complexity=1`` is used: ``mediapipe==0.10.21`` ships that model in its wheel, and
0 and 2 try to download theirs (DESIGN.md).
"""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np
from tqdm import tqdm

from gesticulate._native import quiet_native_stderr
from gesticulate.errors import InputError, OptionError, input_file
from gesticulate.skeleton.clean import drop_folded_guesses
from gesticulate.skeleton.mediapipe_map import CONFIDENCE_SOURCE, results_to_coco133
from gesticulate.skeleton.sequence import SkeletonSequence

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"}

# Holistic works on normalised coordinates, so photos are detected at no more than this size
# (px, longer side); a 8000x6000 photo costs the same as a 1280 one and loses nothing visible.
MAX_DETECTION_SIDE = 1280
# A face counts as a person when the face detector scores it at least this...
MIN_FACE_SCORE = 0.5
# ...and it is at least this fraction of the widest face's width, so that a tiny face in a
# poster or a far-away crowd does not make a portrait "two people".
MIN_FACE_RATIO = 0.25

NO_PERSON = ("no person found in the photo; use a photo showing one person's head and "
             "shoulders or upper body")


class Holistic:
    """MediaPipe Holistic, ``model_complexity=1``, with its native log lines silenced.

    Its models load lazily (the hand models when a hand first shows up) and each load logs to
    stderr from C++, so every call runs with file descriptor 2 silenced; MediaPipe's own
    failures still reach Python as exceptions.
    """

    def __init__(self, *, static_image_mode: bool, refine_face: bool,
                 min_confidence: float = 0.5) -> None:
        import mediapipe as mp  # imported late: it takes a second and only extraction needs it
        with quiet_native_stderr():
            self._graph = mp.solutions.holistic.Holistic(
                static_image_mode=static_image_mode, model_complexity=1,
                refine_face_landmarks=refine_face, min_detection_confidence=min_confidence,
                min_tracking_confidence=0.5)
            # The graph opens its models on its own threads after start; one call on a blank
            # frame waits for that, so their log lines land while stderr is silenced.
            self._graph.process(np.zeros((64, 64, 3), np.uint8))

    def process(self, image: np.ndarray):
        """Holistic results for an RGB uint8 frame (normalised landmark lists or None)."""
        with quiet_native_stderr():
            return self._graph.process(image)

    def __enter__(self) -> "Holistic":
        return self

    def __exit__(self, *exc) -> None:
        self._graph.close()


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """RGB uint8 ``(H, W, 3)``, C-contiguous; greyscale is repeated, alpha dropped."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise InputError(f"image has dtype {image.dtype}; give RGB uint8 pixels (0..255)")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or min(image.shape[:2]) < 1:
        raise InputError(f"image has shape {image.shape}; give an RGB image (H, W, 3)")
    return np.ascontiguousarray(image[:, :, :3])


def _shrink(image: np.ndarray, max_side: int) -> np.ndarray:
    """``image`` with its longer side at most ``max_side`` (area averaging)."""
    h, w = image.shape[:2]
    s = max_side / max(h, w)
    if s >= 1:
        return image
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def count_people(image: np.ndarray) -> int:
    """Number of people in an RGB photo, counted by their faces.

    MediaPipe face detection with the full-range model (``model_selection=1``, which finds
    several faces at any distance). Faces scored below :data:`MIN_FACE_SCORE` or narrower than
    :data:`MIN_FACE_RATIO` times the widest face are not counted. (The short-range model was
    tried as a second opinion and dropped: it takes hands for faces in real interview frames.)

    Parameters
    ----------
    image : np.ndarray, shape (H, W, 3), uint8
        RGB photo.

    Returns
    -------
    int
        0 when no face is seen (a person seen from behind counts 0 here).
    """
    import mediapipe as mp
    small = _shrink(_as_rgb(image), MAX_DETECTION_SIDE)
    with quiet_native_stderr(), mp.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=MIN_FACE_SCORE) as detector:
        return count_faces(detector.process(small).detections)


def count_faces(detections) -> int:
    """Faces among MediaPipe face detections that count as people: those at least
    :data:`MIN_FACE_RATIO` times as wide as the widest (a poster or a far-away crowd is not
    a second speaker)."""
    widths = [d.location_data.relative_bounding_box.width for d in detections or ()]
    return sum(w >= MIN_FACE_RATIO * max(widths) for w in widths) if widths else 0


def extract_image(image: np.ndarray, *, min_confidence: float = 0.5) -> np.ndarray:
    """Skeleton of the one person in an RGB photo.

    Holistic in static-image mode with the refined face mesh (iris points), on the photo
    shrunk to at most :data:`MAX_DETECTION_SIDE` pixels; coordinates refer to the photo as given.

    Parameters
    ----------
    image : np.ndarray, shape (H, W, 3), uint8
        RGB photo (greyscale ``(H, W)`` and RGBA are accepted too).
    min_confidence : float
        Holistic's ``min_detection_confidence``.

    Returns
    -------
    np.ndarray, shape (133, 3), float32
        x, y in pixels of ``image`` and confidence in 0..1 (0 = not seen). A wrist MediaPipe
        guessed for an arm hanging out of the picture is not seen
        (:func:`gesticulate.skeleton.clean.drop_folded_guesses`).

    Raises
    ------
    InputError
        No person in the photo, or more than one.
    """
    if not 0.0 < min_confidence < 1.0:
        raise OptionError(f"min_confidence {min_confidence} is out of range; use a value in (0, 1)")
    rgb = _as_rgb(image)
    h, w = rgb.shape[:2]
    small = _shrink(rgb, MAX_DETECTION_SIDE)
    n = count_people(small)
    if n > 1:
        raise InputError(f"{n} people found in the photo; use a photo showing only one person "
                         "(crop the others out)")
    with Holistic(static_image_mode=True, refine_face=True, min_confidence=min_confidence) as hol:
        results = hol.process(small)
    if results.pose_landmarks is None and results.face_landmarks is None:
        hint = f" (this one is only {w}x{h} pixels)" if min(w, h) < 128 else ""
        raise InputError(NO_PERSON + hint)
    return drop_folded_guesses(results_to_coco133(results, image_size=(w, h)), (w, h))


def _prefetch(frames: Iterator[np.ndarray], *, depth: int = 4) -> Iterator[np.ndarray]:
    """Decode ``frames`` in a background thread so decoding overlaps with Holistic.

    Both PyAV decoding and MediaPipe release the GIL, so on two cores the two run side by side.
    Exceptions of the decoder are raised in the caller; stopping early stops the thread.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def run() -> None:
        try:
            for frame in frames:
                if not put(frame):
                    return
            put(done)
        except BaseException as e:  # handed to the consumer, raised there
            put(e)

    thread = threading.Thread(target=run, name="gesticulate-decode", daemon=True)
    thread.start()
    try:
        while (item := q.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def iter_video_keypoints(path: str | os.PathLike, *, fps: float | None = None,
                         refine_face: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(frame, keypoints)`` for each frame of a video, in order, streaming.

    Parameters
    ----------
    path : path of the video.
    fps : resample to this frame rate (frames dropped or repeated); None keeps the video's.
    refine_face : run Holistic's refined face mesh (attention model with iris points), as
        photos do. Off by default for speed: it was up to ~40 % slower in an uncontended
        measurement, and on the sample photos it moves the 68 iBUG points by only 1–3 % of
        the outer-eye-corner distance.

    Yields
    ------
    frame : np.ndarray, shape (H, W, 3), uint8
        The decoded RGB frame.
    keypoints : np.ndarray, shape (133, 3), float32
        x, y in pixels of ``frame`` and confidence (all 0 where no person is tracked).
    """
    from gesticulate.video import iter_frames
    yield from _tracked(_prefetch(iter_frames(path, fps=fps)), refine_face=refine_face)


def _tracked(frames: Iterable[np.ndarray], *, refine_face: bool
             ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(frame, keypoints (133, 3))`` of each RGB frame, Holistic in tracking mode."""
    with Holistic(static_image_mode=False, refine_face=refine_face) as hol:
        for frame in frames:
            h, w = frame.shape[:2]
            yield frame, results_to_coco133(hol.process(np.ascontiguousarray(frame)),
                                            image_size=(w, h))


def track_frames(frames: Iterable[np.ndarray], *, progress: bool = False,
                 desc: str = "re-detect") -> np.ndarray:
    """Skeletons ``(T, 133, 3)`` of RGB frames already in memory, tracked as one video
    (Holistic in tracking mode, as :func:`extract_video`); all 0 where no person is found."""
    bar = tqdm(frames, desc=desc, unit="frame", disable=not progress, leave=False)
    out = [kp for _, kp in _tracked(bar, refine_face=False)]
    return np.stack(out) if out else np.zeros((0, 133, 3), np.float32)


def _check_fps(fps: float | None) -> None:
    if fps is not None and not 0 < fps <= 240:
        raise OptionError(f"fps {fps} is out of range; use a value between 1 and 240 (25 is usual)")


def extract_video(path: str | os.PathLike, *, fps: float | None = None, progress: bool = True,
                  refine_face: bool = False) -> SkeletonSequence:
    """Skeletons of the person in every frame of a video (Holistic in tracking mode).

    Parameters
    ----------
    path : path of the video (anything FFmpeg reads).
    fps : resample to this frame rate; None keeps the video's own.
    progress : show a progress bar on stderr.
    refine_face : see :func:`iter_video_keypoints`.

    Returns
    -------
    SkeletonSequence
        keypoints ``(T, 133, 3)`` in pixels of the video's frames, at ``fps``; the shoulders
        and hips moved with the chest's texture where it is followed
        (:mod:`gesticulate.skeleton.trunk`, said in ``confidence_source``).
    """
    from gesticulate.skeleton.trunk import Background, reanchor_frames
    from gesticulate.video import probe_video
    _check_fps(fps)
    info = probe_video(path)
    out_fps = fps or info.fps
    keypoints = []
    with Background(reanchor=reanchor_frames(out_fps)) as trunk, \
            tqdm(total=_expected_frames(info, fps), unit="frame", desc="skeletons",
                 disable=not progress) as bar:
        for frame, kp in iter_video_keypoints(path, fps=fps, refine_face=refine_face):
            keypoints.append(kp)
            trunk.feed(frame, kp)
            bar.update(1)
        if not keypoints:
            raise InputError(f"{path} holds no decodable video frames; give another video")
        return _sequence(keypoints, trunk, fps=out_fps, size=(info.width, info.height))


def _sequence(keypoints: list[np.ndarray], trunk, *, fps: float,
              size: tuple[int, int]) -> SkeletonSequence:
    """The extracted sequence, its trunk moved with the chest's texture (``trunk``: the
    :class:`~gesticulate.skeleton.trunk.Background` tracker fed its frames)."""
    from gesticulate.skeleton.trunk import steady_trunk, tracked_source
    kp, tracked = steady_trunk(np.stack(keypoints), trunk.travel, fps=fps, epochs=trunk.epochs)
    return SkeletonSequence(kp, fps=fps, image_size=size,
                            confidence_source=tracked_source(CONFIDENCE_SOURCE, tracked))


def _expected_frames(info, fps: float | None) -> int | None:
    n = info.num_frames if fps is None else int(round(info.duration_s * fps))
    return n or None


# --- the `gesticulate extract` job ------------------------------------------------------------

def _input_kind(path: Path) -> str:
    """"image" or "video", from the suffix, else from what PIL / FFmpeg can open."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path):
            return "image"
    except (UnidentifiedImageError, OSError, ValueError):
        pass
    import av
    try:
        with av.open(str(path)) as c:
            if c.streams.video:
                return "video"
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError):
        pass
    raise InputError(f"{path} is neither an image nor a video this tool can read; give a photo "
                     "(JPEG, PNG, WebP) or a video (mp4, mov, avi, mkv, webm)")


def _draw(frame: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """The skeleton drawn over a copy of ``frame`` (DWPose style, confidence > 0.3)."""
    from gesticulate.skeleton.draw import draw_skeleton
    return draw_skeleton(np.ascontiguousarray(frame.copy()), keypoints)


def _write_image_atomically(path: Path, image: np.ndarray) -> None:
    from PIL import Image
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    try:
        Image.fromarray(image).save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _check_outputs(output: Path, overlay: Path | None, kind: str, source: Path) -> None:
    """Fail before any work when an output cannot be written, has the wrong type or is the
    ``source`` read."""
    from gesticulate.atomic import same_file
    from gesticulate.video import check_output_path, check_skeleton_output
    check_skeleton_output(output, inputs={"input": source})
    if overlay is None:
        return
    if same_file(overlay, output):
        raise OptionError(f"--overlay and --output both name {output}; give the drawing and "
                          "the skeletons different names")
    check_output_path(overlay, inputs={"input": source})
    want = IMAGE_SUFFIXES if kind == "image" else {".mp4"}
    if overlay.suffix.lower() not in want:
        example = "overlay.png" if kind == "image" else "overlay.mp4"
        raise OptionError(f"--overlay {overlay}: for {kind} input the overlay is written as "
                          f"{'an image' if kind == 'image' else 'an mp4 video'}; name it e.g. {example}")


def extract(input_path: str | os.PathLike, *, output: str | os.PathLike,
            overlay: str | os.PathLike | None = None, fps: float | None = None,
            progress: bool = True) -> SkeletonSequence:
    """Extract skeletons from an image or a video into ``output`` (``.npz``), atomically.

    Parameters
    ----------
    input_path : a photo (one person) or a video.
    output : the ``.npz`` to write (:meth:`SkeletonSequence.save` format).
    overlay : optional path of the skeleton drawn over the input: an mp4 for a video input,
        a PNG (or JPEG) for an image input.
    fps : resample a video to this frame rate; for an image, the fps stored in the file
        (default 25).
    progress : show a progress bar on stderr.

    Returns
    -------
    SkeletonSequence
        What was written; one frame for an image.
    """
    path, output = input_file(input_path, "input"), Path(output)
    overlay = None if overlay is None else Path(overlay)
    _check_fps(fps)
    kind = _input_kind(path)
    _check_outputs(output, overlay, kind, path)
    if kind == "image":
        from gesticulate.image import load_image
        rgb = load_image(path)
        seq = SkeletonSequence(extract_image(rgb)[None], fps=fps or 25.0,
                               image_size=(rgb.shape[1], rgb.shape[0]),
                               confidence_source=CONFIDENCE_SOURCE)
        if overlay is not None:
            _write_image_atomically(overlay, _draw(rgb, seq.keypoints[0]))
        seq.save(output)
        return seq
    seq = _extract_video_job(path, overlay=overlay, fps=fps, progress=progress)
    seq.save(output)
    return seq


def _extract_video_job(path: Path, *, overlay: Path | None, fps: float | None,
                       progress: bool) -> SkeletonSequence:
    """Stream the video once: keypoints collected, overlay frames written as they come (so
    the overlay shows MediaPipe's own shoulders and hips, before the trunk correction of
    :mod:`gesticulate.skeleton.trunk` that the saved skeletons have)."""
    from contextlib import nullcontext

    from gesticulate.skeleton.trunk import Background, reanchor_frames
    from gesticulate.video import VideoWriter, probe_video
    info = probe_video(path)
    out_fps = fps or info.fps
    writer = (VideoWriter(overlay, fps=out_fps, size=(info.width, info.height))
              if overlay is not None else nullcontext())
    keypoints = []
    with writer, Background(reanchor=reanchor_frames(out_fps)) as trunk, \
            tqdm(total=_expected_frames(info, fps), unit="frame", desc="skeletons",
                 disable=not progress) as bar:
        for frame, kp in iter_video_keypoints(path, fps=fps):
            keypoints.append(kp)
            trunk.feed(frame, kp)
            if overlay is not None:
                writer.write(_draw(frame, kp))
            bar.update(1)
        if not keypoints:
            raise InputError(f"{path} holds no decodable video frames; give another video")
        if not any(kp[:, 2].max() > 0 for kp in keypoints):
            raise InputError(f"no person found in any frame of {path}; use a video showing "
                             "one person's upper body")
        seq = _sequence(keypoints, trunk, fps=out_fps, size=(info.width, info.height))
    return seq
