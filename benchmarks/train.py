"""Training benchmarks for MotionDiT.

Speed (default): optimiser steps per second and memory for each preset, on the GPU when
there is one (bf16 autocast), else on this CPU::

    python benchmarks/train.py [--presets tiny S B] [--batch-size 32] [--steps 10]

Learning (``--learn``): train a preset on a dataset (a synthetic one with a known
audio→motion relation when ``--dataset`` is not given) and draw the curves of log.csv::

    python benchmarks/train.py --learn --steps 1500 --output /tmp/motion_run [--dataset DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def bench_speed(preset: str, *, batch_size: int, steps: int, device: torch.device) -> dict:
    from gesticulate.models.motion_dit import PRESETS
    from gesticulate.models.schedulers import make_noise_scheduler
    from gesticulate.train.objective import ObjectiveConfig, diffusion_loss, joint_weights, prepare_batch

    model = PRESETS[preset]().to(device)
    cfg = model.config
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    sched = make_noise_scheduler(cfg, device=device)
    rng = np.random.default_rng(0)
    b, w, j = batch_size, cfg.window, cfg.num_joints
    batch = {"motion": torch.randn(b, w, j, 2), "visible": torch.ones(b, w, j),
             "audio": torch.randn(b, w, cfg.audio_dim), "reference": torch.randn(b, j, 2),
             "reference_mask": torch.ones(b, j), "style_id": torch.ones(b, dtype=torch.long),
             "style_vec": torch.randn(b, 20), "speed": torch.ones(b)}
    obj = ObjectiveConfig()
    batch = {k: v.to(device) for k, v in prepare_batch(batch, rng, obj, prev_frames=cfg.prev_frames).items()}
    weights = joint_weights(obj.region_weights, j).to(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def step():
        noise = torch.randn_like(batch["motion"])
        t = torch.randint(0, 1000, (b,), device=device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
            loss = diffusion_loss(model, batch, sched, obj, noise=noise, timesteps=t, weights=weights)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    step()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    mem = (torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda"
           else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"preset": preset, "params_M": sum(p.numel() for p in model.parameters()) / 1e6,
            "steps_per_s": steps / dt, "samples_per_s": steps * b / dt, "memory_MiB": mem}


def plot_log(log: Path, out: Path) -> None:
    from gesticulate.extras import pyplot
    plt = pyplot(what="the training log plot")

    rows = list(csv.DictReader(open(log)))
    col = lambda k: np.array([float(r[k]) if r.get(k) else np.nan for r in rows])  # noqa: E731
    step = col("step")
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    ax[0].plot(step, col("loss"), label="train loss")
    ax[0].plot(step, col("val_loss"), label="val loss (EMA)")
    ax[0].set_yscale("log")
    ax[0].set_xlabel("step")
    ax[0].legend()
    ax[1].plot(step, col("onset_corr"), label="wrist speed ~ onsets, own audio")
    ax[1].plot(step, col("onset_corr_shuffled"), label="same, another clip's audio")
    ax[1].plot(step, col("ba"), "--", label="beat alignment, own audio")
    ax[1].plot(step, col("ba_shuffled"), "--", label="beat alignment, another clip's audio")
    ax[1].set_xlabel("step")
    ax[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", nargs="+", default=["tiny", "S", "B"])
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--learn", action="store_true")
    ap.add_argument("--dataset")
    ap.add_argument("--output", default=None)
    ap.add_argument("--val-every", type=int, default=100)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--model-json", default="{}", help="MotionDiTConfig overrides, e.g. '{\"window\": 48}'")
    ap.add_argument("--objective-json", default="{}", help="ObjectiveConfig overrides (ablations)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not args.learn:
        print(f"device: {torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'}, "
              f"threads {args.threads}, batch {args.batch_size}")
        for p in args.presets:
            r = bench_speed(p, batch_size=args.batch_size, steps=args.steps, device=device)
            print(f"{r['preset']:>4}  {r['params_M']:6.1f} M params  {r['steps_per_s']:7.2f} steps/s  "
                  f"{r['samples_per_s']:8.1f} windows/s  peak mem {r['memory_MiB']:8.0f} MiB")
        return
    from gesticulate.data.synthetic import make_synthetic_dataset
    from gesticulate.train import train

    out = Path(args.output or tempfile.mkdtemp(prefix="motion_run_"))
    data = args.dataset or str(make_synthetic_dataset(out / "synthetic", seed=0))
    t0 = time.perf_counter()
    ckpt = train(data, output=out / "run", preset=args.presets[0], steps=args.steps,
                 batch_size=args.batch_size, val_every=args.val_every,
                 checkpoint_every=max(args.steps // 4, 1), progress=sys.stderr.isatty(), lr=args.lr,
                 warmup_steps=min(100, args.steps // 10), model=json.loads(args.model_json),
                 objective=json.loads(args.objective_json))
    print(f"trained {args.steps} steps in {time.perf_counter() - t0:.0f} s → {ckpt}")
    print(open(out / "run" / "log.csv").read())
    plot_log(out / "run" / "log.csv", out / "curves.png")
    print(f"curves: {out / 'curves.png'}")


if __name__ == "__main__":
    main()
