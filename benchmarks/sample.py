"""Sampling speed of MotionDiT: seconds to generate 60 s of motion at 25 fps, per preset.

Untrained weights (speed does not depend on them); DPM-Solver++ with classifier-free guidance
(two rows per step), windows of ``window`` frames after one another as in real use::

    python benchmarks/sample.py [--presets tiny S B] [--seconds 60] [--num-steps 10] [--threads 2]

Prints wall seconds, the real-time factor (generation time / audio time), how many times
faster than real time, and the process CPU time (on a shared, loaded machine the wall time
includes waiting for a core, and the CPU time shows how much of the cores it used). Target:
S at least 30x faster than real time on 2 cores.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def bench(preset: str, *, seconds: float, num_steps: int, guidance_scale: float, sampler: str,
          hands_first: bool, repeats: int) -> tuple[float, float, int]:
    from gesticulate.models.motion_dit import PRESETS
    from gesticulate.motion.diffusion import Conditions, sample_motion

    model = PRESETS[preset]().eval()
    with torch.no_grad():  # non-zero outputs, as a trained model's
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    cfg = model.config
    t = int(round(seconds * cfg.fps))
    audio = np.random.default_rng(0).normal(size=(t, cfg.audio_dim)).astype(np.float32)
    cond = Conditions(torch.zeros(cfg.num_joints, 2), torch.ones(cfg.num_joints), 1, None, 0.5)
    best, cpu = float("inf"), float("inf")
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        with torch.inference_mode():
            sample_motion(model, audio, cond, num_steps=num_steps, guidance_scale=guidance_scale,
                          sampler=sampler, hands_first=hands_first)
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    windows = 1 + max(0, int(np.ceil((t - cfg.window) / (cfg.window - cfg.prev_frames))))
    return best, cpu, windows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", nargs="+", default=["tiny", "S", "B"])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--num-steps", type=int, default=10)
    ap.add_argument("--guidance-scale", type=float, default=2.0)
    ap.add_argument("--sampler", default="dpm", choices=["dpm", "ddim"])
    ap.add_argument("--hands-first", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{args.seconds:g} s of motion at 25 fps, {args.num_steps} {args.sampler} steps, "
          f"guidance {args.guidance_scale}, hands_first={args.hands_first}, {args.threads} threads, "
          f"best of {args.repeats}")
    for p in args.presets:
        s, cpu, windows = bench(p, seconds=args.seconds, num_steps=args.num_steps,
                           guidance_scale=args.guidance_scale, sampler=args.sampler,
                           hands_first=args.hands_first, repeats=args.repeats)
        print(f"{p:>4}: {s:6.2f} s for {windows} windows  RTF {s / args.seconds:.4f}  "
              f"{args.seconds / s:6.1f}x faster than real time  (CPU time {cpu:.2f} s over "
              f"{args.threads} thread(s); {args.seconds / cpu:.1f}x per core)")


if __name__ == "__main__":
    main()
