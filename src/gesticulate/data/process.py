"""Everything done to one source video: decode → shots → skeletons → QC → post-processing →
clips written atomically → the source's done marker.

The expensive part, decoding and tracking every frame, is done per *segment* of
``segment_seconds``: a video longer than that is tracked by several workers at once
(:func:`track_segment`, each seeking to its first frame and caching its arrays in
``DIR/tracks/<source_id>/``), and :func:`process_source` then joins the segments and does the
rest in one worker. Segment borders depend only on the video and the settings, so the result
is a deterministic function of the source file and the :class:`BuildConfig`: a source
processed twice (a resumed build, another engine, other worker counts) gives the same records
and clips. (Tracking restarts at a border, so keypoints there may differ slightly from a
whole-video pass; shot cuts and face counts do not.)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from gesticulate.data import postprocess, qc, shots
from gesticulate.data.clips import ClipRecord, write_clip
from gesticulate.audio.io import AUDIO_SR
from gesticulate.data.decode import NoAudioError, load_source_audio
from gesticulate.data.sources import Source
from gesticulate.errors import InputError
from gesticulate.skeleton.mediapipe_map import CONFIDENCE_SOURCE
from gesticulate.skeleton.sequence import SkeletonSequence

MARKERS = "sources"   # DIR/sources/<source_id>.json: written once a source's clips are all done
TRACKS = "tracks"     # DIR/tracks/<source_id>/<segment>.npz: tracked segments, until the marker
# Version of the tracked segments' contents: 1 = graded hand and face confidences
# (skeleton.mediapipe_map); 2 = the chest's travel (skeleton.trunk); segments of an older build
# are tracked again on resume.
TRACK_VERSION = 2


@dataclass(frozen=True)
class BuildConfig:
    """Settings that decide a build's output (a resumed build must use the same ones)."""

    fps: float = 25.0
    clip_seconds: float = 10.0
    min_clip_seconds: float = 2.0
    crop_size: int = postprocess.CROP_SIZE
    write_video: bool = False
    face_every: int = 5
    segment_seconds: float = 60.0   # videos twice this long or more are tracked in segments
    thresholds: qc.QCThresholds = field(default_factory=qc.QCThresholds)

    def to_json(self) -> dict:
        return asdict(self)


def marker_path(output: str | os.PathLike, source_id: str) -> Path:
    return Path(output) / MARKERS / f"{source_id}.json"


def _round(d: dict) -> dict:
    # Rounded so that manifests compare equal across engines and resumed runs.
    return {k: round(float(v), 4) for k, v in d.items()}


def _rejected(src: Source, reason: str, *, suffix: str = "source", start: float = 0.0,
              end: float = 0.0, fps: float, num_frames: int = 0, scores: dict | None = None):
    return ClipRecord(clip_id=f"{src.source_id}-{suffix}", source=src.path, start_s=round(start, 4),
                      end_s=round(end, 4), fps=fps, num_frames=num_frames,
                      speaker_id=src.speaker_id, status="rejected", reason=reason,
                      qc=_round(scores or {}))


def clip_windows(start: int, end: int, *, clip_frames: int, min_frames: int) -> list[tuple[int, int]]:
    """Split the shot ``[start, end)`` into near-equal pieces of at most ``clip_frames`` frames.

    A shot shorter than ``min_frames`` gives no window. Pieces are at least
    ``min(end - start, clip_frames // 2)`` frames long.
    """
    n = end - start
    if n < min_frames:
        return []
    k = -(-n // clip_frames)
    edges = [start + round(i * n / k) for i in range(k + 1)]
    return list(zip(edges[:-1], edges[1:]))


@dataclass
class _Track:
    keypoints: np.ndarray          # (T, 133, 3) source pixels
    face_frames: np.ndarray        # (K,) frame indices where faces were counted
    face_counts: np.ndarray        # (K,)
    distances: np.ndarray          # (T,) histogram distances
    image_size: tuple[int, int]
    error: str = ""                # decode error that ended the stream early
    source: dict | None = None     # where the confidences came from (SkeletonSequence);
                                   # None: this builder's MediaPipe tracking
    travel: np.ndarray | None = None   # (T, 2) the chest's travel (skeleton.trunk), source px
    epochs: np.ndarray | None = None   # (T,) its epochs (TrunkTracker.epochs)


def _track(path: str, cfg: BuildConfig, start: int = 0, stop: int | None = None) -> _Track:
    """One streaming pass over frames ``[start, stop)``: skeleton, face count and histogram
    distance of every frame (face frames are numbered from the video's first frame)."""
    from gesticulate.data.track import FrameTracker
    from gesticulate.skeleton.trunk import Background, reanchor_frames
    from gesticulate.video import iter_frames

    kps, face_frames, face_counts = [], [], []
    shot_tracker = shots.ShotTracker()
    size, error = (0, 0), ""
    first = max(start - 1, 0)  # the frame before `start` gives its histogram distance
    with FrameTracker(face_every=cfg.face_every, start=start) as tracker, \
            Background(reanchor=reanchor_frames(cfg.fps)) as trunk:
        try:
            for k, frame in enumerate(iter_frames(path, fps=cfg.fps, start=first), first):
                if stop is not None and k >= stop:
                    break
                shot_tracker.update(frame)
                if k < start:
                    continue
                size = (frame.shape[1], frame.shape[0])
                kp, faces = tracker.process(frame)
                trunk.feed(frame, kp)
                kps.append(kp)
                if faces is not None:
                    face_frames.append(k)
                    face_counts.append(faces)
        except InputError as e:
            error = str(e)
        travel, epochs = trunk.travel, trunk.epochs
    kp = np.stack(kps) if kps else np.zeros((0, 133, 3), np.float32)
    distances = np.array(shot_tracker.distances[start - first:])
    return _Track(kp, np.array(face_frames, int), np.array(face_counts, int), distances, size,
                  error, travel=travel, epochs=epochs)


def segments(src: Source, cfg: BuildConfig) -> list[tuple[int, int | None]]:
    """Frame ranges ``[start, stop)`` a source is tracked in (the last one open-ended), from
    the video's header; one range for short or unreadable videos."""
    from gesticulate.video import probe_video

    try:
        n = int(round(probe_video(src.path).duration_s * cfg.fps))
    except Exception:  # noqa: BLE001 - process_source records why the file is unreadable
        return [(0, None)]
    size = int(round(cfg.segment_seconds * cfg.fps))
    if cfg.segment_seconds <= 0 or n < 2 * size:
        return [(0, None)]
    starts = list(range(0, n - size + 1, size))  # the last segment takes the remainder
    return [(a, b) for a, b in zip(starts, starts[1:] + [None])]


def _segment_path(output: Path, src: Source, index: int) -> Path:
    return Path(output) / TRACKS / src.source_id / f"{index:05d}.npz"


def pending_segments(src: Source, output: str | os.PathLike, cfg: BuildConfig) -> list[tuple]:
    """Arguments of :func:`track_segment` for the segments of a long source not yet cached
    (none for a short source, tracked inside :func:`process_source`, or for one without audio,
    rejected there before any tracking)."""
    from gesticulate.video import probe_video

    parts = segments(src, cfg)
    if len(parts) < 2 or not (src.sidecar_audio or probe_video(src.path).has_audio):
        return []
    return [(src, str(output), cfg, i, a, b) for i, (a, b) in enumerate(parts)
            if _cached_segment(_segment_path(Path(output), src, i)) is None]


def track_segment(src: Source, output: str | os.PathLike, cfg: BuildConfig, index: int,
                  start: int, stop: int | None) -> int:
    """Track frames ``[start, stop)`` of a source and cache the arrays atomically."""
    path = _segment_path(Path(output), src, index)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        tr = _track(src.path, cfg, start, stop)
    except Exception:  # noqa: BLE001 - left uncached: process_source meets it and records it
        return index
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".npz")
    os.close(fd)
    try:
        np.savez(tmp, keypoints=tr.keypoints, face_frames=tr.face_frames,
                 face_counts=tr.face_counts, distances=tr.distances,
                 image_size=np.array(tr.image_size), error=np.array(tr.error),
                 travel=tr.travel, epochs=tr.epochs, version=np.int32(TRACK_VERSION))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return index


def _cached_segment(path: Path) -> _Track | None:
    """A segment tracked earlier, or None (none cached, or cached by an older tracker)."""
    if not path.is_file():
        return None
    with np.load(path) as d:
        if (int(d["version"]) if "version" in d else 0) != TRACK_VERSION:
            return None
        return _Track(d["keypoints"], d["face_frames"], d["face_counts"], d["distances"],
                      tuple(int(v) for v in d["image_size"]), str(d["error"]),
                      travel=d["travel"], epochs=d["epochs"])


def _source_track(src: Source, output: Path, cfg: BuildConfig) -> _Track:
    """The whole source's track: its cached segments joined (any missing one tracked here),
    ending with the first segment where the stream ends or breaks off, as one pass would."""
    parts = segments(src, cfg)
    if len(parts) < 2:
        return _track(src.path, cfg)
    tracks = []
    for i, (a, b) in enumerate(parts):
        path = _segment_path(output, src, i)
        tr = _cached_segment(path)
        if tr is None:
            tr = _track(src.path, cfg, a, b)
        tracks.append(tr)
        if tr.error or (b is not None and len(tr.keypoints) < b - a):
            break  # the stream broke off, or ended before its header said: nothing follows
    size = next((t.image_size for t in tracks if t.image_size != (0, 0)), (0, 0))
    # Each segment's trunk was followed on its own: its epochs are its own.
    epochs, next_epoch = [], 0
    for t in tracks:
        epochs.append(t.epochs + next_epoch)
        next_epoch += int(t.epochs.max()) + 1 if len(t.epochs) else 0
    return _Track(np.concatenate([t.keypoints for t in tracks]),
                  np.concatenate([t.face_frames for t in tracks]).astype(int),
                  np.concatenate([t.face_counts for t in tracks]).astype(int),
                  np.concatenate([t.distances for t in tracks]), size, tracks[-1].error,
                  travel=np.concatenate([t.travel.reshape(-1, 2) for t in tracks]),
                  epochs=np.concatenate(epochs).astype(np.int64))


def _audio_slice(audio: np.ndarray, a: int, b: int, shift: int, fps: float) -> np.ndarray:
    """Samples of frames ``[a, b)`` shifted by ``shift`` frames, zero-padded outside the track."""
    s0 = int(round((a + shift) * AUDIO_SR / fps))
    s1 = s0 + int(round((b - a) * AUDIO_SR / fps))
    out = np.zeros(s1 - s0, np.float32)
    lo, hi = max(s0, 0), min(s1, len(audio))
    if hi > lo:
        out[lo - s0:hi - s0] = audio[lo:hi]
    return out


@dataclass
class _Kept:
    record: ClipRecord
    skeleton: SkeletonSequence
    features: object
    audio: np.ndarray
    box: tuple[float, float, float]
    span: tuple[int, int]


def _check_clip(src: Source, tr: _Track, audio: np.ndarray, a: int, b: int,
                cfg: BuildConfig) -> ClipRecord | _Kept:
    """QC and post-processing of frames ``[a, b)``: a rejected record, or a kept clip."""
    from gesticulate.audio.features import compute_features
    from gesticulate.skeleton.trunk import steady_trunk, tracked_source

    th, fps = cfg.thresholds, cfg.fps
    kp = tr.keypoints[a:b]
    scores: dict = {}
    base = dict(suffix=f"{a:07d}", start=a / fps, end=b / fps, fps=fps, num_frames=b - a)
    s, reason = qc.skeleton_quality(kp, th)
    scores.update(s)
    if not reason:
        sel = (tr.face_frames >= a) & (tr.face_frames < b)
        s, reason = qc.single_speaker(tr.face_counts[sel], th)
        scores.update(s)
    shift = 0
    if not reason:
        s, reason, shift = qc.av_sync(kp, _audio_slice(audio, a, b, 0, fps), sr=AUDIO_SR,
                                      fps=fps, th=th)
        scores.update(s, av_shift_frames=shift)
    if reason:
        return _rejected(src, reason, scores=scores, **base)
    clip_audio = _audio_slice(audio, a, b, shift, fps)
    feats = compute_features(clip_audio, sr=AUDIO_SR, fps=fps)
    s, reason = qc.speech_present(feats.vad, th)
    scores.update(s)
    if reason:
        return _rejected(src, reason, scores=scores, **base)
    source = tr.source or CONFIDENCE_SOURCE
    if tr.travel is not None:
        # The trunk moved as the chest's texture did (skeleton.trunk), not with the arms.
        kp, tracked = steady_trunk(kp, tr.travel[a:b], fps=fps, epochs=tr.epochs[a:b])
        source = tracked_source(source, tracked)
    box = postprocess.crop_box(kp, tr.image_size)
    local = postprocess.apply_crop(kp, box, size=cfg.crop_size)
    local = postprocess.smooth_keypoints(local)
    record = _rejected(src, "", scores=scores, **base)
    record.status = "kept"
    record.crop = [round(v, 2) for v in box]
    skel = SkeletonSequence(local, fps, (cfg.crop_size, cfg.crop_size), source)
    return _Kept(record, skel, feats, clip_audio, box, (a, b))


def _write_videos(src: Source, kept: list[_Kept], cfg: BuildConfig, staging: Path) -> dict:
    """Second pass over the source: the cropped video of each kept clip (``write_video``)."""
    from gesticulate.video import VideoWriter, iter_frames

    paths, i, writer = {}, 0, None
    try:
        for k, frame in enumerate(iter_frames(src.path, fps=cfg.fps)):
            while i < len(kept) and k >= kept[i].span[1]:
                if writer is not None:
                    writer.__exit__(None, None, None)
                    writer = None
                i += 1
            if i >= len(kept):
                break
            c = kept[i]
            if k < c.span[0]:
                continue
            if writer is None:
                paths[c.record.clip_id] = staging / f"{c.record.clip_id}.mp4"
                writer = VideoWriter(paths[c.record.clip_id], fps=cfg.fps,
                                     size=(cfg.crop_size, cfg.crop_size), audio=c.audio,
                                     sr=AUDIO_SR).__enter__()
            writer.write(postprocess.crop_frame(frame, c.box, size=cfg.crop_size))
        if writer is not None:
            writer.__exit__(None, None, None)
            writer = None
    finally:
        if writer is not None:
            writer.__exit__(RuntimeError, None, None)
    return paths


def process_source(src: Source, output: str | os.PathLike, cfg: BuildConfig) -> list[ClipRecord]:
    """Build all clips of one source and write its done marker; returns its manifest rows.

    Any problem with the file (unreadable, no audio, truncated, or one that breaks a decoder or
    model in an unforeseen way) becomes a rejected row with the error as its reason, so one bad
    video never stops a build; problems writing the output propagate.
    """
    output = Path(output)
    try:
        records, kept = _analyse(src, output, cfg)
    except Exception as e:  # noqa: BLE001 - recorded in the manifest, traceback on stderr
        import traceback
        traceback.print_exc()
        records, kept = [_rejected(src, f"error: {type(e).__name__}: {e}", fps=cfg.fps)], []
    _write_kept(src, output, kept, cfg)
    return _finish(src, output, records + [c.record for c in kept])


def _analyse(src: Source, output: Path, cfg: BuildConfig) -> tuple[list[ClipRecord], list[_Kept]]:
    """Rejected rows and kept clips (not yet written) of one source."""
    from gesticulate.video import probe_video

    try:
        info = probe_video(src.path)
        audio = load_source_audio(src.path, sidecar=src.sidecar_audio, duration_s=info.duration_s)
    except NoAudioError as e:
        return [_rejected(src, f"no_audio: {e}", end=info.duration_s, fps=cfg.fps)], []
    except (InputError, OSError) as e:
        return [_rejected(src, f"unreadable: {e}", fps=cfg.fps)], []
    tr = _source_track(src, output, cfg)
    records: list[ClipRecord] = []
    num = len(tr.keypoints)
    if tr.error:
        # Keep what decoded, minus the last second (often damaged), and record the rest.
        num = max(0, num - int(cfg.fps))
        records.append(_rejected(src, f"unreadable: {tr.error}", suffix=f"{num:07d}-tail",
                                 start=num / cfg.fps, end=len(tr.keypoints) / cfg.fps,
                                 fps=cfg.fps, num_frames=len(tr.keypoints) - num))
    cuts = sorted(set(shots.detect_cuts(tr.distances[:num]))
                  | set(shots.skeleton_cuts(tr.keypoints[:num])))
    kept: list[_Kept] = []
    clip_frames = max(1, int(round(cfg.clip_seconds * cfg.fps)))
    min_frames = max(1, int(round(cfg.min_clip_seconds * cfg.fps)))
    for s0, s1 in shots.shots(cuts, num):
        windows = clip_windows(s0, s1, clip_frames=clip_frames, min_frames=min_frames)
        if not windows:
            records.append(_rejected(
                src, f"too_short: shot of {(s1 - s0) / cfg.fps:.2f} s "
                f"(need {cfg.min_clip_seconds:g} s)", suffix=f"{s0:07d}", start=s0 / cfg.fps,
                end=s1 / cfg.fps, fps=cfg.fps, num_frames=s1 - s0))
        for a, b in windows:
            out = _check_clip(src, tr, audio, a, b, cfg)
            (kept if isinstance(out, _Kept) else records).append(out)
    return records, kept


def _write_kept(src: Source, output: Path, kept: list[_Kept], cfg: BuildConfig) -> None:
    staging = None
    try:
        videos = {}
        if cfg.write_video and kept:
            (output / "clips").mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=output / "clips", prefix=f".{src.source_id}."))
            videos = _write_videos(src, kept, cfg, staging)
        for c in kept:
            write_clip(output, c.record.clip_id, skeleton=c.skeleton, features=c.features,
                       audio=c.audio, sr=AUDIO_SR, video_path=videos.get(c.record.clip_id))
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _finish(src: Source, output: Path, records: list[ClipRecord]) -> list[ClipRecord]:
    """Write the source's done marker atomically (after its clips), then return its rows."""
    path = marker_path(output, src.source_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump({"source": src.path, "source_id": src.source_id,
                       "records": [asdict(r) for r in records]}, f, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    shutil.rmtree(output / TRACKS / src.source_id, ignore_errors=True)  # the marker has it all
    return records
