"""Smoothing before rendering on/off, the ablation's smoothing row: the wrist acceleration of
MotionDiT samples, fitted to the photo as the pipeline does (``--no-smooth``: neither DCSG's
Savitzky-Golay pass nor the fit's smoothing), over the real val clips' own.

    python benchmarks/smoothing.py DATASET RUN [RUN ...]

RUN: training runs on DATASET (e.g. the ablation's ``full_seed0``, ``full_seed1``). Samples:
10 DPM-Solver++ steps, seed 0, each clip's own audio and phones.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from gesticulate.data.clips import clip_phones, iter_clips
from gesticulate.motion.diffusion import DiffusionGenerator
from gesticulate.pipeline import GeneratePipeline, smooth_learned
from gesticulate.skeleton import layout as L


def accel(kp: np.ndarray) -> float:
    """Mean wrist acceleration of ``(T, 133, 3)`` keypoints, in shoulder widths per frame²."""
    sw = np.nanmedian(np.linalg.norm(kp[:, 5, :2] - kp[:, 6, :2], axis=1))
    w = kp[:, [L.LEFT_WRIST, L.RIGHT_WRIST], :2] / sw
    ok = kp[:, [L.LEFT_WRIST, L.RIGHT_WRIST], 2] > 0.3
    a = np.linalg.norm(np.diff(w, 2, axis=0), axis=-1)
    m = ok[2:] & ok[1:-1] & ok[:-2]
    return float(a[m].mean())


def main() -> None:
    data = Path(sys.argv[1])
    for run in sys.argv[2:]:
        gen = DiffusionGenerator(run, num_steps=10, device="cpu")
        rows = []
        for clip in iter_clips(data, split="val"):
            kp, size = clip.skeleton.keypoints, clip.skeleton.image_size
            seq = gen.generate(clip.features, kp[0], image_size=size, seed=0,
                               phones=clip_phones(clip))
            off = GeneratePipeline(smooth=False).fit_motion(seq, kp[0], image_size=size)
            on = GeneratePipeline(smooth=True).fit_motion(smooth_learned(seq), kp[0],
                                                          image_size=size)
            rows.append((accel(kp), accel(off.keypoints), accel(on.keypoints)))
        r = np.mean(rows, 0)
        print(f"{Path(run).name}: wrist acceleration x real: smoothing off {r[1] / r[0]:.2f}, "
              f"on {r[2] / r[0]:.2f} ({len(rows)} val clips)")


if __name__ == "__main__":
    main()
