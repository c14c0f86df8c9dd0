"""Skeleton extraction speed: MediaPipe Holistic (tracking mode) → 133 points, frames per second.

Target (issue 2): at least 20 frames/s on 512-pixel frames on a 2-core CPU.

Three figures per clip of ../shared/data/video (skipped with a message when absent):

* ``track``: Holistic + mapping on frames already decoded and resized to 512 px (longer side),
  as :func:`gesticulate.skeleton.extract.iter_video_keypoints` runs it (``refine_face=False``);
* ``track+iris``: the same with the refined face mesh (what photos use);
* ``extract_video``: the whole call on the original file (decoding in a background thread),
  which also follows the trunk by the chest's texture;
* ``trunk``: that trunk tracking alone (:func:`gesticulate.skeleton.trunk.track_trunk`) on the
  512-px frames, milliseconds per frame.

With ``--scales`` it also feeds each clip at smaller sizes and prints how far the keypoints move
from those found at 512 px (median distance in % of the shoulder width, per part), to judge
whether shrinking frames before Holistic buys speed at little cost.

    .venv/bin/python benchmarks/extract.py [--frames 90] [--scales]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import cv2
import numpy as np

from gesticulate.skeleton import layout as L
from gesticulate.skeleton.extract import Holistic, extract_video
from gesticulate.skeleton.trunk import track_trunk
from gesticulate.skeleton.mediapipe_map import results_to_coco133
from gesticulate.video import iter_frames

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "video"
CLIPS = ("hbr_speaker7.mp4", "hbr_speaker12.mp4", "interview_1wrQ6Msp7wM.mp4",
         "talkshow_show_half.mp4")


def frames_at(path: Path, side: int, n: int) -> list[np.ndarray]:
    """First ``n`` frames resized so that the longer side is ``side`` pixels."""
    out = []
    for frame in iter_frames(path):
        h, w = frame.shape[:2]
        s = side / max(h, w)
        out.append(cv2.resize(frame, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA))
        if len(out) == n:
            break
    return out


def track(frames: list[np.ndarray], *, refine_face: bool,
          out_size: tuple[int, int] | None = None) -> tuple[float, float, np.ndarray]:
    """(frames/s, CPU ms per frame, keypoints (T, 133, 3)) of Holistic tracking over ``frames``.

    CPU time (all threads of this process) is less sensitive than wall time to other work on
    the machine."""
    with Holistic(static_image_mode=False, refine_face=refine_face) as hol:
        hol.process(frames[0])  # load the models outside the timing
        kps, t0, c0 = [], time.perf_counter(), time.process_time()
        for f in frames:
            h, w = f.shape[:2]
            kps.append(results_to_coco133(hol.process(f), image_size=out_size or (w, h)))
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    return len(frames) / dt, 1000 * cpu / len(frames), np.stack(kps)


def scale_error(ref: np.ndarray, test: np.ndarray) -> dict[str, float]:
    """Median distance per part, in % of the shoulder width, over points seen in both."""
    sw = np.median(L.shoulder_width(ref))
    out = {}
    for name in ("body", "face", "left_hand", "right_hand"):
        idx = L.REGIONS[name] if name != "body" else np.arange(0, 11)
        seen = (ref[:, idx, 2] > 0.5) & (test[:, idx, 2] > 0.5)
        d = np.linalg.norm(ref[:, idx, :2] - test[:, idx, :2], axis=-1)[seen]
        out[name] = 100 * float(np.median(d)) / sw if d.size else float("nan")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=90, help="frames per clip (default 90)")
    ap.add_argument("--scales", action="store_true", help="also measure smaller input sizes")
    args = ap.parse_args()
    clips = [DATA / c for c in CLIPS if (DATA / c).is_file()]
    if not clips:
        print(f"no sample videos at {DATA}; nothing to measure")
        return
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'clip':28s} {'frames':>6s} {'track':>14s} {'track+iris':>14s} {'extract_video':>14s}"
          f" {'trunk':>8s}")
    print(f"{'':28s} {'':6s} {'frames/s (cpu ms/frame)':>30s}")
    for clip in clips:
        frames = frames_at(clip, 512, args.frames)
        fps_track, cpu_track, ref = track(frames, refine_face=False)
        fps_iris, cpu_iris, _ = track(frames, refine_face=True)
        t0, c0 = time.perf_counter(), time.process_time()
        seq = extract_video(clip, progress=False)
        fps_full = len(seq) / (time.perf_counter() - t0)
        cpu_full = 1000 * (time.process_time() - c0) / len(seq)
        t0 = time.perf_counter()
        track_trunk(frames, ref)
        ms_trunk = 1000 * (time.perf_counter() - t0) / len(frames)
        print(f"{clip.name:28s} {len(frames):6d} {fps_track:6.1f} ({cpu_track:4.0f} ms) "
              f"{fps_iris:6.1f} ({cpu_iris:4.0f} ms) {fps_full:6.1f} ({cpu_full:4.0f} ms)"
              f" {ms_trunk:5.1f} ms"
              f"  [extract_video: {len(seq)} frames at {seq.image_size[0]}x{seq.image_size[1]}]")
        if args.scales:
            size = frames[0].shape[1], frames[0].shape[0]
            for side in (384, 256):
                small = [cv2.resize(f, None, fx=side / 512, fy=side / 512,
                                    interpolation=cv2.INTER_AREA) for f in frames]
                fps_s, cpu_s, kp = track(small, refine_face=False, out_size=size)
                err = "  ".join(f"{k} {v:.1f}%" for k, v in scale_error(ref, kp).items())
                print(f"    at {side} px: {fps_s:6.1f} frames/s ({cpu_s:4.0f} ms); median shift vs 512 px: {err}")


if __name__ == "__main__":
    main()
