"""Peers' pose data → the same clip format (issue 3, item 6), so a user who has CSG-405 poses,
EchoMimicV2 / DWPose pose folders or BEAT2 motion capture can train without re-extracting
skeletons.

Readers are :mod:`gesticulate.formats.csg` (one ``<clip>.npy`` per clip),
:mod:`gesticulate.formats.echomimic` (a folder of per-frame ``N.npy`` dicts) and
:mod:`gesticulate.formats.beat2` (SMPL-X ``<take>.npz``, projected to 2D). Poses carry no
sound, so each pose sequence is paired with an audio (or video) file of the same name, found
next to it or in ``audio_dir``. The sequence then goes through the steps that need no pixels:
resampling to ``fps``, splitting into clips, skeleton QC, A/V sync from the mouth, speech
present, speaker crop and smoothing; then clips, done markers, manifest, splits and
statistics exactly as :func:`gesticulate.data.build.build_dataset` writes them (resumable the
same way).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gesticulate.data.process import BuildConfig, _finish, _Kept, _rejected, _write_kept, \
    clip_windows
from gesticulate.data.sources import SIDECAR_AUDIO_EXTENSIONS, VIDEO_EXTENSIONS, Source, \
    source_id_for
from gesticulate.errors import InputError, OptionError
from gesticulate.skeleton.sequence import SkeletonSequence

FORMATS = ("auto", "csg", "echomimic", "beat2")


def _is_echomimic_dir(p: Path) -> bool:
    return p.is_dir() and (p / "0.npy").is_file()


def find_pose_sources(inputs, *, format: str = "auto") -> list[tuple[Path, str]]:
    """``(path, format)`` of every pose sequence in ``inputs``.

    An EchoMimicV2 folder (holding ``0.npy``) is one sequence; any other folder is searched for
    EchoMimicV2 sub-folders, CSG-405 ``<clip>.npy`` files and BEAT2 ``<take>.npz`` files; a
    ``.npy`` file is a CSG clip, a ``.npz`` file a BEAT2 take.
    """
    if format not in FORMATS:
        raise OptionError(f"pose format {format!r} is unknown; use one of {', '.join(FORMATS)}")
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    found: list[tuple[Path, str]] = []
    for item in inputs:
        p = Path(item)
        if not p.exists():
            raise InputError(f"pose input {p} does not exist; give pose folders or .npy files")
        if _is_echomimic_dir(p) and format in ("auto", "echomimic"):
            found.append((p, "echomimic"))
        elif p.is_dir():
            for sub in sorted(p.iterdir()):
                if _is_echomimic_dir(sub) and format in ("auto", "echomimic"):
                    found.append((sub, "echomimic"))
                elif sub.is_file() and _file_format(sub, format):
                    found.append((sub, _file_format(sub, format)))
        elif p.is_file() and _file_format(p, format):
            found.append((p, _file_format(p, format)))
    if not found:
        raise InputError(f"no pose sequences found in {', '.join(map(str, inputs))}; expected "
                         "EchoMimicV2 folders (0.npy, 1.npy, ...), CSG-405 <clip>.npy files or "
                         "BEAT2 <take>.npz files")
    return sorted(set(found))


def _file_format(p: Path, format: str) -> str | None:
    fmt = {".npy": "csg", ".npz": "beat2"}.get(p.suffix)
    return fmt if fmt is not None and format in ("auto", fmt) else None


def _audio_for(pose: Path, audio_dir: Path | None) -> str | None:
    stem = pose.stem if pose.is_file() else pose.name
    for folder in ([audio_dir] if audio_dir else []) + [pose.parent]:
        for ext in SIDECAR_AUDIO_EXTENSIONS + VIDEO_EXTENSIONS:
            cand = folder / f"{stem}{ext}"
            if cand.is_file():
                return str(cand)
    return None


def _load(path: Path, fmt: str, *, pose_fps: float | None, space: str) -> SkeletonSequence:
    if fmt == "beat2":
        from gesticulate.formats.beat2 import load_beat2
        seq = load_beat2(path)
        return seq if pose_fps is None else SkeletonSequence(seq.keypoints, pose_fps, seq.image_size,
                                                             seq.confidence_source)
    if fmt == "echomimic":
        from gesticulate.formats.echomimic import FPS, load_echomimic_dir
        return load_echomimic_dir(path, fps=pose_fps or FPS)
    from gesticulate.formats.csg import FPS, load_csg_file
    return load_csg_file(path, fps=pose_fps or FPS, space=space)


def resample(seq: SkeletonSequence, fps: float) -> np.ndarray:
    """Keypoints ``(T', 133, 3)`` at ``fps``: the nearest source frame for each target time."""
    if abs(seq.fps - fps) < 1e-6:
        return seq.keypoints
    n = max(1, int(round(len(seq) / seq.fps * fps)))
    idx = np.minimum(np.round(np.arange(n) * seq.fps / fps).astype(int), len(seq) - 1)
    return seq.keypoints[idx]


def import_source(src: Source, output: str | os.PathLike, cfg: BuildConfig,
                  pose_fps: float | None, space: str) -> list:
    """One pose sequence → QC'd clips and its done marker (the import twin of
    :func:`gesticulate.data.process.process_source`)."""
    from gesticulate.data.decode import load_source_audio
    from gesticulate.data.process import _check_clip, _Track

    output = Path(output)
    path = Path(src.path)
    fmt = "echomimic" if path.is_dir() else {".npz": "beat2"}.get(path.suffix, "csg")
    try:
        seq = _load(path, fmt, pose_fps=pose_fps, space=space)
    except InputError as e:
        return _finish(src, output, [_rejected(src, f"unreadable: {e}", fps=cfg.fps)])
    if src.sidecar_audio is None:
        return _finish(src, output, [_rejected(
            src, f"no_audio: no audio or video named like {Path(src.path).name} next to it "
            "or in the audio folder; poses need their soundtrack to train on", fps=cfg.fps)])
    kp = resample(seq, cfg.fps)
    try:
        audio = load_source_audio(src.sidecar_audio, duration_s=len(kp) / cfg.fps)
    except InputError as e:
        return _finish(src, output, [_rejected(src, f"no_audio: {e}", fps=cfg.fps)])
    # No pixels: no shot cuts and no face count; every other check applies.
    tr = _Track(kp, np.zeros(0, int), np.zeros(0, int), np.zeros(len(kp)), seq.image_size,
                source=seq.confidence_source or {"all": f"unknown ({src.path})"})
    records, kept = [], []
    clip_frames = max(1, int(round(cfg.clip_seconds * cfg.fps)))
    min_frames = max(1, int(round(cfg.min_clip_seconds * cfg.fps)))
    windows = clip_windows(0, len(kp), clip_frames=clip_frames, min_frames=min_frames)
    if not windows:
        records.append(_rejected(src, f"too_short: {len(kp) / cfg.fps:.2f} s of poses (need "
                                 f"{cfg.min_clip_seconds:g} s)", fps=cfg.fps))
    for a, b in windows:
        out = _check_clip(src, tr, audio, a, b, cfg)
        (kept if isinstance(out, _Kept) else records).append(out)
    _write_kept(src, output, kept, cfg)
    return _finish(src, output, records + [c.record for c in kept])


def import_poses(inputs, *, output: str | os.PathLike, audio_dir: str | os.PathLike | None = None,
                 format: str = "auto", pose_fps: float | None = None, space: str = "minus1_1",
                 fps: float = 25.0, clip_seconds: float = 10.0, min_clip_seconds: float = 2.0,
                 workers: int = 1, engine: str = "local", ray_address: str | None = None,
                 speaker_from: str = "source", val_fraction: float = 0.1,
                 test_fraction: float = 0.1, thresholds=None, report: bool = True,
                 progress: bool = True):
    """Import CSG-405 / EchoMimicV2 pose data as a training set in ``output``.

    Parameters
    ----------
    inputs : path or list of paths
        EchoMimicV2 pose folders (``0.npy``, ...), CSG-405 ``<clip>.npy`` files, BEAT2 SMPL-X
        ``<take>.npz`` files, or folders holding them.
    audio_dir : path or None
        Where ``<name>.wav`` (or any audio/video file named like the pose sequence) is; the
        pose's own folder is searched too.
    format : {"auto", "csg", "echomimic", "beat2"}
    pose_fps : float or None
        Frame rate of the poses (default: the format's, 25 for CSG-405, 24 for EchoMimicV2,
        the file's ``mocap_frame_rate`` for BEAT2).
    space : {"minus1_1", "unit", "pixels"}
        Coordinate space of CSG-405 arrays (see :mod:`gesticulate.formats.csg`).
    fps, clip_seconds, min_clip_seconds, workers, engine, ray_address, speaker_from,
    val_fraction, test_fraction, thresholds, report, progress
        As :func:`gesticulate.data.build.build_dataset`.

    Returns
    -------
    BuildSummary
    """
    from gesticulate.data.build import _check_options, run_build
    from gesticulate.data.qc import QCThresholds

    _check_options(fps, clip_seconds, min_clip_seconds, workers)
    if speaker_from not in ("source", "folder"):
        raise OptionError(f"speaker_from={speaker_from!r}; use 'source' or 'folder'")
    cfg = BuildConfig(fps=float(fps), clip_seconds=float(clip_seconds),
                      min_clip_seconds=float(min_clip_seconds), write_video=False,
                      thresholds=thresholds or QCThresholds())
    adir = Path(audio_dir) if audio_dir is not None else None
    if adir is not None and not adir.is_dir():
        raise InputError(f"audio folder {adir} does not exist; give the folder of <name>.wav files")
    sources = []
    for path, _ in find_pose_sources(inputs, format=format):
        sid = source_id_for(path)
        speaker = sid if speaker_from == "source" else path.resolve().parent.name
        sources.append(Source(str(path.resolve()), sid, speaker, _audio_for(path, adir)))
    return run_build(sources, import_source, (pose_fps, space), output=output, cfg=cfg,
                     workers=workers, engine=engine, ray_address=ray_address,
                     val_fraction=val_fraction, test_fraction=test_fraction, report=report,
                     progress=progress)
