"""``gesticulate build-dataset``: videos → a training set (DESIGN.md "Data", issue 3).

Work runs in two rounds: the segments of long videos are tracked in parallel
(:func:`gesticulate.data.process.track_segment`), then each source is finished by one worker.

Resume design: every source ends with a done marker (``DIR/sources/<source_id>.json``, its
manifest rows) written atomically *after* its clips. A run skips sources with a marker, redoes
the others from the start (clip folders are replaced atomically, so a half-done source leaves
nothing doubled) except for the segments already tracked (each cached atomically), and rebuilds
the manifest, the splits and ``stats.npz`` from all markers at the end. A run killed at any
moment (``kill -9``) therefore ends, once restarted, with the same manifest as an
uninterrupted run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from gesticulate.atomic import OS_CLUTTER
from gesticulate.data import engines
from gesticulate.data.clips import STATS, ClipRecord, write_manifest
from gesticulate.data.process import (TRACKS, BuildConfig, marker_path, pending_segments,
                                      process_source, track_segment)
from gesticulate.data.qc import QCThresholds
from gesticulate.data.sources import Source, collect_sources
from gesticulate.data.split import assign_splits
from gesticulate.errors import OptionError, OutputError

CONFIG = "build.json"
LOCK = ".lock"


@dataclass
class BuildSummary:
    """What a build produced."""

    output: Path
    num_sources: int
    num_processed: int             # sources processed in this run (the rest were done before)
    kept: int
    rejected: int
    kept_hours: float
    reasons: dict                  # reject code -> count


def _check_options(fps: float, clip_seconds: float, min_clip_seconds: float, workers: int,
                   segment_seconds: float = 60.0) -> None:
    if not 1 <= fps <= 120:
        raise OptionError(f"fps={fps}; use a frame rate between 1 and 120 (25 is usual)")
    if not 0 < min_clip_seconds <= clip_seconds:
        raise OptionError(f"clip_seconds={clip_seconds}, min_clip_seconds={min_clip_seconds}: "
                          "need 0 < min_clip_seconds <= clip_seconds")
    if workers < 1:
        raise OptionError(f"workers={workers}; use 1 or more")
    if segment_seconds != 0 and not segment_seconds >= max(clip_seconds, 1.0):
        raise OptionError(f"segment_seconds={segment_seconds}; use 0 (never split a video) or "
                          f"at least {max(clip_seconds, 1.0):g} s (the clip length; 60 is usual)")


def _lock(output: Path):
    """An exclusive lock on the output folder (released by the OS even after ``kill -9``)."""
    import fcntl

    f = open(output / LOCK, "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise OutputError(f"another build is writing to {output}; wait for it to finish or "
                          "choose another --output") from None
    return f


def _check_config(output: Path, cfg: BuildConfig) -> None:
    """The first run records its settings; a resumed run must use the same ones."""
    path = output / CONFIG
    want = cfg.to_json()
    if path.is_file():
        have = json.loads(path.read_text())
        if have != want:
            diff = sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))
            raise OptionError(f"{output} was built with other settings ({', '.join(diff)} "
                              "differ); resume with the same settings or use a new --output")
        return
    fd, tmp = tempfile.mkstemp(dir=output, prefix=".build.")
    with os.fdopen(fd, "w") as f:
        json.dump(want, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def _ours(p: Path) -> bool:
    """Whether ``p`` is the build's lock, one of its temporaries (:func:`_temporary`) or an
    operating system's clutter (``.DS_Store``): a folder of only these is empty."""
    return p.name == LOCK or p.name in OS_CLUTTER or _temporary(p)


# A temporary the build writes: named by ``tempfile`` from a hidden prefix ending in a dot,
# then 8 random letters, digits or underscores, then maybe a suffix (``.build.x1y2z3w4``,
# ``.clip_0001.a8b9c0d1.tmp``). A user's own hidden files (``.git``, ``.gitignore``,
# ``.env.local``, ``.eslintrc.json``) are no such name, and are never removed.
_TEMPORARY = re.compile(r"\..+\.[a-z0-9_]{8}(\.[A-Za-z0-9]+)?")


def _temporary(p: Path) -> bool:
    """Whether ``p`` is one of the build's temporaries (:data:`_TEMPORARY`)."""
    return _TEMPORARY.fullmatch(p.name) is not None


def _clean_temporaries(output: Path) -> None:
    """Remove what a killed run left half-written (hidden temp files and folders), and the
    tracked segments of sources that were finished just before the kill."""
    tracks = sorted((output / TRACKS).glob("*")) if (output / TRACKS).is_dir() else []
    for folder in (output, output / "clips", output / "sources", *tracks):
        if folder.is_dir():
            for p in filter(_temporary, folder.glob(".*")):
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    for t in tracks:
        if marker_path(output, t.name).is_file():
            shutil.rmtree(t, ignore_errors=True)


def _read_marker(output: Path, src: Source) -> list[ClipRecord] | None:
    path = marker_path(output, src.source_id)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        return [ClipRecord(**r) for r in data["records"]]
    except (ValueError, KeyError, TypeError):
        return None  # unreadable marker: redo the source


def _fit_stats(output: Path, records: list[ClipRecord]) -> None:
    """``stats.npz``: mean/std of the local representation over the train split."""
    from gesticulate.data.clips import clip_dir
    from gesticulate.skeleton.normalize import NormStats, to_local
    from gesticulate.skeleton.sequence import SkeletonSequence

    locals_, confs = [], []
    for r in sorted(records, key=lambda r: r.clip_id):
        if r.status == "kept" and r.split == "train":
            kp = SkeletonSequence.load(clip_dir(output, r.clip_id) / "skeleton.npz").keypoints
            loc, conf = to_local(kp)
            locals_.append(loc)
            confs.append(conf)
    path = output / STATS
    if not locals_:
        path.unlink(missing_ok=True)
        return
    fd, tmp = tempfile.mkstemp(dir=output, prefix=".stats.", suffix=".npz")
    os.close(fd)
    NormStats.fit(locals_, confs).save(tmp)
    os.replace(tmp, path)


def _progress(total: int, enabled: bool, what: str):
    from tqdm import tqdm

    return tqdm(total=total, unit=" tasks", desc=f"build-dataset ({what})", disable=not enabled)


def _work_estimate(path) -> float:
    """Frames in a video (from its header), or its size in bytes when that cannot be read."""
    from gesticulate.video import probe_video
    try:
        return float(probe_video(path).num_frames)
    except Exception:  # noqa: BLE001 - unreadable sources are rejected later, with a reason
        return os.path.getsize(path) / 1e6 if os.path.isfile(path) else 0.0


def build_dataset(inputs, *, output: str | os.PathLike, fps: float = 25.0,
                  clip_seconds: float = 10.0, min_clip_seconds: float = 2.0, workers: int = 1,
                  engine: str = "local", ray_address: str | None = None,
                  write_video: bool = False, speaker_from: str = "source",
                  val_fraction: float = 0.1, test_fraction: float = 0.1,
                  thresholds: QCThresholds | None = None, segment_seconds: float = 60.0,
                  report: bool = True, progress: bool = True) -> BuildSummary:
    """Turn videos into a training set in ``output`` (see :mod:`gesticulate.data.clips`).

    Parameters
    ----------
    inputs : path or list of paths
        Video files, folders (searched recursively) and text files listing paths.
    output : path
        Dataset folder; created if missing. Running again on the same folder resumes.
    fps : float
        Frame rate of the clips (videos are resampled).
    clip_seconds, min_clip_seconds : float
        Shots are cut into near-equal clips of at most ``clip_seconds``; shots shorter than
        ``min_clip_seconds`` are rejected (``too_short``).
    workers : int
        Parallel workers, each one source at a time on one core (see
        :mod:`gesticulate.data.engines`); 1 runs in this process, on one core.
    engine : {"local", "ray"}
        A process pool on this machine, or Ray (``ray_address`` of a cluster, or None for a
        local Ray instance with ``workers`` CPUs).
    write_video : bool
        Also write each clip's cropped video (``video.mp4``, H.264 + AAC).
    speaker_from : {"source", "folder"}
        Speaker id per video, or the video's folder name (for per-speaker folders).
    val_fraction, test_fraction : float
        Fractions of speakers held out; splits are by speaker, never by clip.
    thresholds : QCThresholds or None
        Quality-control limits; None uses the defaults.
    segment_seconds : float
        Videos at least twice this long are tracked in segments of about this length by
        several workers at once (0: one worker per video). Segments are joined before shots
        and clips are cut; only the skeleton tracker restarts at a border.
    report : bool
        Write ``report.html`` (counts, hours, reasons, QC histograms, overlays).
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    BuildSummary
    """
    _check_options(fps, clip_seconds, min_clip_seconds, workers, segment_seconds)
    cfg = BuildConfig(fps=float(fps), clip_seconds=float(clip_seconds),
                      min_clip_seconds=float(min_clip_seconds), write_video=bool(write_video),
                      segment_seconds=float(segment_seconds),
                      thresholds=thresholds or QCThresholds())
    sources = collect_sources(inputs, speaker_from=speaker_from)
    return run_build(sources, process_source, (), output=output, cfg=cfg, workers=workers,
                     engine=engine, ray_address=ray_address, val_fraction=val_fraction,
                     test_fraction=test_fraction, report=report, progress=progress,
                     segmented=True)


def run_build(sources: list[Source], fn, extra: tuple, *, output: str | os.PathLike,
              cfg: BuildConfig, workers: int, engine: str, ray_address: str | None,
              val_fraction: float, test_fraction: float, report: bool,
              progress: bool, segmented: bool = False) -> BuildSummary:
    """The resumable driver shared by video builds and pose imports.

    ``fn(source, output, cfg, *extra)`` processes one source, writes its clips and then its
    done marker (:func:`gesticulate.data.process._finish`); sources with a marker are skipped.
    With ``segmented``, the segments of long videos are tracked first, in parallel.
    """
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise OutputError(f"output {out} is a file; give a folder for the dataset")
    if out.is_dir() and not (out / CONFIG).is_file() \
            and any(not _ours(p) for p in out.iterdir()):
        raise OutputError(f"output {out} is a folder with other things in it and no dataset "
                          f"({CONFIG}); give a new or empty folder for the dataset (a dataset "
                          "there is resumed)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create {out}: {e.strerror}; choose another --output") from None
    lock = _lock(out)
    try:
        _check_config(out, cfg)
        _clean_temporaries(out)
        todo = [s for s in sources if _read_marker(out, s) is None]
        # Longest first so workers finish together (LPT scheduling): a pool that starts the
        # longest video last waits on it alone. Work goes with the frame count, not the size.
        todo.sort(key=lambda s: -_work_estimate(s.path))
        tasks = [(s, str(out), cfg, *extra) for s in todo]
        pre = [t for s in todo for t in pending_segments(s, out, cfg)] if segmented else []
        pre.sort(key=lambda t: -(t[5] - t[4] if t[5] is not None else float("inf")))
        what = "segments, then videos" if pre else "videos"
        with _progress(len(pre) + len(todo), progress, what) as bar:
            for fn_, batch in ((track_segment, pre), (fn, tasks)):
                for _ in engines.run_tasks(fn_, batch, workers=workers, engine=engine,
                                           ray_address=ray_address):
                    bar.update(1)
        summary = _finalize(out, sources, len(todo), val_fraction, test_fraction)
        if report:
            from gesticulate.data.report import write_dataset_report
            write_dataset_report(out)
        return summary
    finally:
        lock.close()


def _finalize(out: Path, sources: list[Source], processed: int, val: float,
              test: float) -> BuildSummary:
    """Manifest, splits and statistics from the done markers of ``sources``."""
    records: list[ClipRecord] = []
    for s in sources:
        rows = _read_marker(out, s)
        assert rows is not None, f"source {s.source_id} finished without a marker"
        # The speaker may come from a different --speaker-from than the marker's run.
        records.extend(replace(r, speaker_id=s.speaker_id) for r in rows)
    assign_splits(records, val=val, test=test)
    _fit_stats(out, records)
    write_manifest(out, records)
    kept = [r for r in records if r.status == "kept"]
    reasons: dict[str, int] = {}
    for r in records:
        if r.status != "kept":
            code = r.reason.split(":", 1)[0]
            reasons[code] = reasons.get(code, 0) + 1
    return BuildSummary(out, len(sources), processed, len(kept), len(records) - len(kept),
                        sum(r.end_s - r.start_s for r in kept) / 3600.0, reasons)
