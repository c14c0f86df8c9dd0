"""build-dataset throughput: frames per second per worker, and the speed-up from 1 to 2 workers.

Each setting runs in a fresh process on a fresh output folder (imports, MediaPipe graphs and
librosa's first compile are paid inside the measured time, as a user pays them)::

    .venv/bin/python benchmarks/build_dataset.py [VIDEOS...] [--workers 1 2] [--engine local]

Defaults to ../shared/data/video. Frames counted are the frames that went through skeleton
tracking (all clips, kept or rejected, at 25 fps); videos rejected before decoding (no audio,
unreadable) cost almost nothing and count no frames.

``--long SECONDS`` measures instead one long video (the first input looped to that length,
written to a temporary file), where workers can only share the work through segments
(``--segment-seconds``, default 20 here)::

    .venv/bin/python benchmarks/build_dataset.py ../shared/data/video/un_speech_female.mp4 --long 90
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "video"


def _child(args) -> None:
    from gesticulate.data.build import build_dataset
    from gesticulate.data.clips import read_manifest

    t0 = time.perf_counter()
    s = build_dataset(args.videos, output=args.output, workers=args.workers, engine=args.engine,
                      fps=args.fps, segment_seconds=args.segment_seconds, progress=False,
                      report=False)
    wall = time.perf_counter() - t0
    rows = read_manifest(args.output)
    frames = sum(r.num_frames for r in rows)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    rc = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"wall_s": wall, "frames": frames, "kept": s.kept, "rejected": s.rejected,
                      "kept_hours": s.kept_hours, "reasons": s.reasons,
                      "cpu_s": ru.ru_utime + ru.ru_stime + rc.ru_utime + rc.ru_stime,
                      "max_rss_mb_self": ru.ru_maxrss / 1024,
                      "max_rss_mb_worker": rc.ru_maxrss / 1024}))


def _spin(seconds: float) -> float:
    t = time.perf_counter()
    while time.perf_counter() - t < seconds:
        pass
    return time.process_time()


def cpu_available(n: int, seconds: float = 3.0) -> float:
    """Cores' worth of CPU that ``n`` busy processes get together right now (a shared or
    capped machine gives less than ``n``; then no worker count can speed the build up)."""
    from multiprocessing import get_context

    with get_context("spawn").Pool(n) as pool:
        return sum(pool.map(_spin, [seconds] * n)) / seconds


def looped(video: str, seconds: float, out: Path) -> Path:
    """``video`` (frames and sound) repeated until ``seconds`` long, as an H.264 + AAC mp4."""
    import numpy as np

    from gesticulate.data.decode import load_source_audio
    from gesticulate.video import VideoWriter, iter_frames, probe_video

    fps = 25.0
    audio = load_source_audio(video)
    n = int(seconds * fps)
    audio = np.resize(audio, int(seconds * 16000))
    info = probe_video(video)
    with VideoWriter(out, fps=fps, size=(info.width, info.height), audio=audio, sr=16000) as w:
        k = 0
        while k < n:
            for frame in iter_frames(video, fps=fps):
                if k >= n:
                    break
                w.write(frame)
                k += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("videos", nargs="*", default=[str(DEFAULT)])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--engine", default="local")
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument("--output")
    ap.add_argument("--segment-seconds", type=float, default=None,
                    help="segment length (default: the builder's 60, or 20 with --long)")
    ap.add_argument("--long", type=float, default=0.0,
                    help="benchmark one video looped to this many seconds instead")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        args.workers = args.workers[0]
        return _child(args)
    if args.segment_seconds is None:
        args.segment_seconds = 20.0 if args.long else 60.0
    tmp_long = None
    if args.long:
        tmp_long = tempfile.TemporaryDirectory(prefix="bench_long_")
        src = args.videos[0] if Path(args.videos[0]).is_file() else str(DEFAULT / "un_speech_female.mp4")
        t0 = time.perf_counter()
        args.videos = [str(looped(src, args.long, Path(tmp_long.name) / "long.mp4"))]
        print(f"one video: {Path(src).name} looped to {args.long:g} s ({time.perf_counter() - t0:.0f} s "
              f"to write), segments of {args.segment_seconds:g} s")
    results = {}
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}; CPU this "
          f"session gets: 1 process {cpu_available(1):.2f} cores, 2 processes "
          f"{cpu_available(2):.2f} cores")
    for w in args.workers:
        with tempfile.TemporaryDirectory(prefix="bench_build_") as tmp:
            cmd = [sys.executable, __file__, *args.videos, "--workers", str(w), "--engine",
                   args.engine, "--fps", str(args.fps), "--output", str(Path(tmp) / "ds"),
                   "--segment-seconds", str(args.segment_seconds), "--child"]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
        results[w] = r
        print(f"workers={w}: {r['frames']} frames in {r['wall_s']:.1f} s = "
              f"{r['frames'] / r['wall_s']:.2f} frames/s ({r['frames'] / r['wall_s'] / w:.2f} "
              f"per worker); CPU {r['cpu_s']:.1f} s; peak RSS main {r['max_rss_mb_self']:.0f} MB,"
              f" largest worker {r['max_rss_mb_worker']:.0f} MB; kept {r['kept']} "
              f"({r['kept_hours'] * 60:.2f} min), rejected {r['rejected']} {r['reasons']}",
              flush=True)
    if 1 in results and 2 in results:
        print(f"speed-up 1 -> 2 workers: {results[1]['wall_s'] / results[2]['wall_s']:.2f}x "
              f"(load average after: {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
