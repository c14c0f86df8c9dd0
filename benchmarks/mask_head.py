"""Does MotionDiT's mask head (MMGT's motion masks) say where the motion moves?

Trains a small MotionDiT with ``mask_head`` on a built dataset (one run per ``--seeds``).
The head reads the model's final tokens, so it predicts each frame's face, lips and hands
activity together with the motion (MMGT's SMGA generates pose and masks together); its
target is the activity measured on the skeleton (:mod:`gesticulate.skeleton.activity`).
On every val and test clip::

    python benchmarks/mask_head.py --dataset DIR [--steps 400] [--seeds 0 1]

Printed per region, pooled over the held-out frames where the region is seen (Pearson r):

* ``r real``: the head reading the real held-out motion against the activity measured on it
  (how well it has learnt to see motion);
* ``r sample``: the head on a motion sampled from the clip's audio against the activity
  measured on that sample (what the renderer's masks need: masks that follow the motion it
  renders);
* ``r sample/real (own, shuf)``: the head on the sample against the real clip's activity, the
  sample drawn from the clip's own audio and from another held-out clip's (a control); the
  gap says how much of where the real speaker moves stage 1 hears in the audio;
* ``r loudness``: the clip's loudness (RMS) against its real activity, for scale;
* ``MAE real / const``: mean absolute error of the head on the real motion, and of the train
  split's mean activity as a constant guess.

Samples: DPM-Solver++ 10 steps, guidance 2, seed 0.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

SMALL = dict(window=48, prev_frames=8, patch_frames=2, width=96, depth=3, num_heads=4)
COLUMNS = ("r real", "r sample", "r sample/real own", "r sample/real shuf", "r loudness",
           "MAE real", "MAE const")


def held_out(data: Path, ckpt: Path):
    """The model, its generator, the held-out clips (audio rows, normalised motion, measured
    activity and where seen, loudness, first frame) and the train split's mean activity."""
    from gesticulate.data.clips import iter_clips
    from gesticulate.motion.diffusion import DiffusionGenerator
    from gesticulate.train.data import load_clips

    gen = DiffusionGenerator(ckpt, num_steps=10, device="cpu")
    cfg, stats = gen.model.config, gen.stats
    out, train_act = [], []
    for split in ("train", "val", "test"):
        arrays = load_clips(data, split=split, stats=stats, fps=cfg.fps, styles={}, phones=cfg.phones)
        raw = {c.record.clip_id: c for c in iter_clips(data, split=split)}
        for a in arrays:
            act, seen = a.activity, a.activity_seen > 0
            if split == "train":
                train_act.append(np.where(seen, act, np.nan))
                continue
            c = raw[a.clip_id]
            out.append(dict(clip=a.clip_id, audio=a.audio, motion=a.motion, visible=a.visible,
                            act=act, seen=seen,
                            rms=np.asarray(c.features.rms, np.float64)[:len(act)],
                            ref=c.skeleton.keypoints[0]))
    return gen, out, np.nanmean(np.concatenate(train_act), 0)


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3 or x.std() < 1e-9 or y.std() < 1e-9:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def score(gen, clips: list[dict], const: np.ndarray) -> dict[str, list[float]]:
    from gesticulate.motion.diffusion import predicted_activity, sample_motion
    from gesticulate.skeleton.activity import activity_from_local

    model, stats, fps = gen.model, gen.stats, gen.model.config.fps
    kw = dict(seed=0, num_steps=10, guidance_scale=2.0, sampler="dpm")
    pairs: dict[str, dict[str, list]] = {name: {} for name in ("face", "lips", "hands")}

    def add(name, key, x, y):
        pairs[name].setdefault(key, ([], []))
        pairs[name][key][0].append(x)
        pairs[name][key][1].append(y)

    for i, c in enumerate(clips):
        cond = gen.conditions(c["ref"], speed=1.0, style=None)
        n = len(c["act"])
        other = clips[(i + 1) % len(clips)]["audio"]
        other = np.resize(other, (n, other.shape[1]))                      # tiled to the length
        head_real = predicted_activity(model, c["motion"], c["visible"])
        z_own = sample_motion(model, c["audio"], cond, **kw)
        z_shuf = sample_motion(model, other, cond, **kw)
        head_own = predicted_activity(model, z_own)
        head_shuf = predicted_activity(model, z_shuf)
        ones = np.ones(z_own.shape[:2], np.float32)
        measured_own, _ = activity_from_local(stats.denormalize(z_own), ones, fps=fps)
        for r, name in enumerate(pairs):
            ok = c["seen"][:, r]
            truth = c["act"][ok, r]
            add(name, "r real", head_real[ok, r], truth)
            add(name, "r sample", head_own[:, r], measured_own[:, r])
            add(name, "r sample/real own", head_own[ok, r], truth)
            add(name, "r sample/real shuf", head_shuf[ok, r], truth)
            add(name, "r loudness", c["rms"][:n][ok], truth)
            add(name, "MAE real", head_real[ok, r], truth)
            add(name, "MAE const", np.full(ok.sum(), const[r]), truth)
    table = {}
    for name, cols in pairs.items():
        row = []
        for key in COLUMNS:
            x, y = (np.concatenate(v) for v in cols[key])
            row.append(float(np.abs(x - y).mean()) if key.startswith("MAE") else pearson(x, y))
        table[name] = row
    return table


def main() -> None:
    from gesticulate.train.motion import train

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", required=True, help="a built dataset with train and val/test splits")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--output", default=None, help="keep the runs here (default: a temporary folder)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.output or tempfile.mkdtemp(prefix="mask_head_"))
    results = {}
    for seed in args.seeds:
        t0 = time.time()
        ckpt = train(args.dataset, output=out / f"seed{seed}", steps=args.steps, seed=seed,
                     batch_size=16, checkpoint_every=args.steps, val_every=0, progress=False,
                     metric_clips=0, model={**SMALL, "mask_head": True})
        gen, clips, const = held_out(Path(args.dataset), ckpt)
        results[seed] = score(gen, clips, const)
        print(f"seed {seed}: trained {args.steps} steps in {time.time() - t0:.0f} s; "
              f"{len(clips)} held-out clips", flush=True)
    seeds = " / ".join(map(str, args.seeds))
    print("\n| region | " + " | ".join(f"{h} (seeds {seeds})" for h in COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for name in ("face", "lips", "hands"):
        cells = [" / ".join(f"{results[s][name][k]:.3f}" if c.startswith("MAE") else
                            f"{results[s][name][k]:+.2f}" for s in args.seeds)
                 for k, c in enumerate(COLUMNS)]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
