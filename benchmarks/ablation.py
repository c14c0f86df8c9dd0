"""Ablation of MotionDiT's paper ideas (issue 4's closing table).

Each variant switches one idea off (model config, objective or sampler), trains a small
MotionDiT from the same seed on the same data and is measured on the val clips. The data is
the synthetic set (known audio → motion relation, :mod:`gesticulate.data.synthetic`) or any
built dataset with a val split (``--dataset``, e.g. a BEAT2 take imported with
``gesticulate import-poses`` and split by time)::

    python benchmarks/ablation.py [--steps 300] [--threads 1] [--variants full no_xattn ...]
    python benchmarks/ablation.py --dataset DIR --steps 400

Printed as a Markdown table. Columns:

* ``val (own)``: the run's own val loss at the end (its own objective; not comparable where
  the variant changes the loss: masks, region / hand weights);
* ``val (common)``: val loss of every run's EMA model under the full model's objective
  (default region weights and confidence masks) on the same fixed val windows; comparable
  across all variants except ``no_prev`` (prev_frames 0: no known frames, a harder task) and
  ``parts`` (its z-scores are of another representation);
* ``corr own/shuf``: best correlation (lag 0..6 frames) of sampled wrist speed with the
  audio onset envelope, sampled with the clip's own audio / another clip's audio;
* ``BA own/shuf``: beat alignment (:mod:`gesticulate.metrics.beats`) of the same samples
  against the clip's audio beats;
* ``hand err``: mean distance of sampled hand points to the ground truth where seen, in
  shoulder widths (own audio; the synthetic hands follow the audio, so this is meaningful);
* ``acc x``: mean wrist acceleration of the own-audio samples / the data's (1 = as smooth as
  the data; jitter shows as > 1);
* ``border/inside``: mean joint speed at window borders / inside windows on a 60 s sample
  (val audio repeated); 1 = seamless, > 1 = a jump at the border;
* ``fingers x``: mean speed of the sampled finger points relative to their wrist / the data's
  (1 = fingers as alive as the data's; the local-parts row targets it);
* ``L1div hands x``: EMAGE's L1 diversity of the sampled hands / the data's (1 = as varied);
* ``lips own/shuf (offset)``: lip sync of the samples (:func:`gesticulate.metrics.sync.lip_sync`:
  best correlation, over ±15 frames, of the sampled mouth opening with the clip's loudness),
  with the clip's own audio / another clip's, and the own-audio sample's offset in frames
  (positive: the mouth lags the sound).

Samples: DPM-Solver++ 10 steps, guidance 2, seed 0. One training seed per run (``--seed``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

SMALL = dict(window=48, prev_frames=8, patch_frames=2, width=96, depth=3, num_heads=4)
FLAT = {"body": 1.0, "face": 1.0, "lips": 1.0, "hands": 1.0}
# name: (model overrides, objective overrides, sampler options, what it switches off)
VARIANTS = {
    "full": ({}, {}, {}, "all ideas on"),
    "no_xattn": ({"audio_cross_attention": False}, {}, {}, "audio cross-attention (EMO2)"),
    "no_fusion": ({"audio_fusion": False}, {}, {}, "per-frame audio fusion (CSG)"),
    "no_reference": ({"reference_tokens": False}, {}, {}, "reference-skeleton prefix (CSG)"),
    "no_style_speed": ({"style_vector": False, "speed_embedding": False}, {"style_dropout": 1.0}, {},
                       "style id/vector + speed embeddings (EMO2)"),
    "no_prev": ({"prev_frames": 0}, {"prev_known_prob": 0.0}, {}, "previous-motion frames (EMO2/CSG)"),
    "no_conf_mask": ({"mask_input": False}, {"use_confidence_mask": False}, {},
                     "confidence masks in loss and input (CSG/EMO2)"),
    "no_region_w": ({}, {"region_weights": FLAT}, {}, "region weights (MMGT)"),
    "no_hand_w": ({}, {"region_weights": {**FLAT, "lips": 2.0}}, {}, "hand-weighted objective (EMO2)"),
    "hands_first": ({}, {}, {"hands_first": True}, "(on) hands-then-body sampling (EMO2)"),
    "no_frame_head": ({"frame_head_kernel": 0}, {}, {}, "per-frame output head (ours)"),
    "velocity_w1": ({}, {"velocity_weight": 1.0}, {}, "velocity loss weight 10 → 1"),
    "augment": ({}, {}, {}, "(on) random scale, rotation, flip of the windows (CSG-405)"),
    "no_phones": ({}, {}, {}, "viseme channels of recognised phones in the audio input"),
    "parts": ({}, {}, {}, "(on) hands relative to wrists, face to the nose (CSG-405)"),
}
TRAIN_OPTIONS = {"augment": {"augment": True},     # variants that change training options
                 "no_phones": {"phones": False}, "parts": {"local_parts": True}}


def border_ratio(model, stats, audio: np.ndarray, cond, **sampling) -> float:
    """Mean joint speed at window borders / inside windows of one long sample."""
    from gesticulate.motion.diffusion import sample_motion, stitch_steps

    cfg = model.config
    z = stats.denormalize(sample_motion(model, audio, cond, seed=0, **sampling))
    v = np.linalg.norm(np.diff(z, axis=0), axis=-1).mean(1)                 # (T-1,)
    b = stitch_steps(len(z), cfg.window, cfg.prev_frames)
    return float(np.mean(v[b]) / np.mean(np.delete(v, b)))


def measure(ckpt: Path, data: Path, sampling: dict) -> dict:
    """All columns of the table but ``val (own)`` for one trained checkpoint."""
    import warnings

    from gesticulate.models.motion_dit import MotionDiT, local_regions
    from gesticulate.motion.diffusion import Conditions, sample_motion
    from gesticulate.skeleton.normalize import NormStats
    from gesticulate.train.data import load_clips, wrist_speed
    from gesticulate.train.evaluate import fixed_val_batch, normalized_beat_alignment, onset_correlation, validation_loss
    from gesticulate.train.data import WindowDataset
    from gesticulate.models.schedulers import make_noise_scheduler
    from gesticulate.train.objective import ObjectiveConfig, joint_weights
    from gesticulate.audio.phones import NUM_PHONE_CHANNELS
    from gesticulate.metrics.sync import lip_sync
    from gesticulate.skeleton.layout import (INNER_LIP_BOTTOM, INNER_LIP_TOP, LEFT_WRIST,
                                             MOUTH_LEFT_CORNER, MOUTH_RIGHT_CORNER, RIGHT_WRIST,
                                             UPPER_BODY_INDICES)
    from gesticulate.skeleton.normalize import LOCAL_ROW

    model = MotionDiT.from_pretrained(ckpt)
    cfg = model.config
    stats = NormStats.load(ckpt / "stats.npz")
    clips = load_clips(data, split="val", stats=stats, fps=cfg.fps, styles={}, phones=cfg.phones)
    # Common val loss: the full objective, on the full model's val windows and noise.
    obj = ObjectiveConfig()
    val = WindowDataset(clips, window=cfg.window, stats=stats, fps=cfg.fps)
    vb = fixed_val_batch(val, max_windows=64, prev_frames=cfg.prev_frames, seed=0,
                         num_train_timesteps=cfg.num_train_timesteps)
    vloss = validation_loss(model, vb, make_noise_scheduler(model.config), obj,
                            joint_weights(obj.region_weights, cfg.num_joints), torch.device("cpu"))
    hands = local_regions()["hands"]
    kw = dict(num_steps=10, guidance_scale=2.0, sampler="dpm", **sampling)
    rows = {k: [] for k in ("corr", "corr_sh", "ba", "ba_sh", "hand", "acc", "lips", "lips_sh",
                            "lips_offset", "fingers", "l1div")}
    from gesticulate.metrics.motion import l1_divergence
    from gesticulate.skeleton.normalize import from_local

    def hand_l1div(local):
        kp = from_local(local, np.ones(local.shape[:2], np.float32), root=np.zeros(2), scale=1.0)
        return l1_divergence(kp, region="hands")
    from gesticulate.skeleton.normalize import PART_ANCHOR
    hand_rows = [r for r in hands if PART_ANCHOR[r] >= 0]     # hand points but the wrists

    def finger_speed(local):
        rel = local[:, hand_rows] - local[:, PART_ANCHOR[hand_rows]]
        return float(np.abs(np.diff(rel, axis=0)).mean())
    lips = LOCAL_ROW[[INNER_LIP_TOP, INNER_LIP_BOTTOM, MOUTH_LEFT_CORNER, MOUTH_RIGHT_CORNER]]
    # AudioFeatures.stack(): n_mels log-mel columns, then onset, rms, pitch, vad (phones and
    # a speech encoder's features after)
    rms = cfg.audio_dim - cfg.encoder_dim - (NUM_PHONE_CHANNELS if cfg.phones else 0) - 3

    def mouth(z):
        p = stats.denormalize(z)[:, lips]
        return np.linalg.norm(p[:, 0] - p[:, 1], axis=-1) / np.maximum(
            np.linalg.norm(p[:, 2] - p[:, 3], axis=-1), 1e-6)
    wrists = [int(np.flatnonzero(np.asarray(UPPER_BODY_INDICES) == k)[0]) for k in (LEFT_WRIST, RIGHT_WRIST)]
    accel = lambda z: np.abs(np.diff(stats.denormalize(z)[:, wrists], 2, axis=0)).mean()  # noqa: E731
    for i, clip in enumerate(clips):
        other = clips[(i + 1) % len(clips)].audio
        cond = Conditions(torch.from_numpy(clip.motion[0]), torch.from_numpy(clip.visible[0]))
        z_own = sample_motion(model, clip.audio, cond, seed=0, **kw)
        z_sh = sample_motion(model, np.resize(other, clip.audio.shape), cond, seed=0, **kw)
        for z, c, b in ((z_own, "corr", "ba"), (z_sh, "corr_sh", "ba_sh")):
            rows[c].append(onset_correlation(wrist_speed(stats.denormalize(z), fps=cfg.fps), clip.onset))
            rows[b].append(normalized_beat_alignment(z, stats, clip.onset_frames, fps=cfg.fps))
        if len(clip.audio) >= 40:          # lip_sync's ±15-frame search needs 40 frames
            own, sh = (lip_sync(mouth(z), clip.audio[:, rms], fps=cfg.fps) for z in (z_own, z_sh))
            rows["lips"].append(own["lip_sync_score"])
            rows["lips_sh"].append(sh["lip_sync_score"])
            rows["lips_offset"].append(own["lip_sync_offset_frames"])
        d = np.linalg.norm(stats.denormalize(z_own)[:, hands] - stats.denormalize(clip.motion)[:, hands], axis=-1)
        seen = clip.visible[:, hands] > 0
        rows["hand"].append(float(d[seen].mean()))
        rows["acc"].append(accel(z_own) / accel(clip.motion))
        seen_hands = clip.visible[:, hand_rows].mean() > 0.5
        if seen_hands:
            rows["l1div"].append(hand_l1div(stats.denormalize(z_own))
                                 / max(hand_l1div(stats.denormalize(clip.motion)), 1e-9))
            rows["fingers"].append(finger_speed(stats.denormalize(z_own))
                                   / max(finger_speed(stats.denormalize(clip.motion)), 1e-9))
    long_audio = np.resize(np.concatenate([c.audio for c in clips]), (int(60 * cfg.fps), clips[0].audio.shape[1]))
    cond0 = Conditions(torch.from_numpy(clips[0].motion[0]), torch.from_numpy(clips[0].visible[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = {k: float(np.nanmean(v)) for k, v in rows.items()}
    out["val_common"] = vloss
    out["border"] = border_ratio(model, stats, long_audio, cond0, **kw)
    return out


def run_variant(name: str, data: Path, out: Path, *, steps: int, seed: int = 0) -> dict:
    import csv

    from gesticulate.train.motion import train

    model, objective, sampling, _ = VARIANTS[name]
    # hands_first only changes sampling: it reuses the full model's checkpoint.
    run = out / f"{'full' if name == 'hands_first' else name}_seed{seed}"
    t0 = time.perf_counter()
    if not (run / "log.csv").is_file():
        train(data, output=run, preset="tiny", steps=steps, batch_size=16, lr=1e-3, warmup_steps=20, seed=seed,
              val_every=steps, checkpoint_every=steps, progress=False, metric_clips=0,
              model={**SMALL, **model}, objective=objective, **TRAIN_OPTIONS.get(name, {}))
    secs = time.perf_counter() - t0
    log = list(csv.DictReader(open(run / "log.csv")))
    from gesticulate.models.motion_dit import MotionDiT
    r = measure(MotionDiT.resolve_checkpoint(run), data, sampling)
    r.update(name=name, val_start=float(log[0]["val_loss"]), val_own=float(log[-1]["val_loss"]),
             train_s=secs, total_s=time.perf_counter() - t0)
    return r


def table(results: list[dict]) -> str:
    head = ("| variant | switches off | val (own) start→end | val (common) | corr own / shuf | "
            "BA own / shuf | hand err (sw) | acc x | fingers x | L1div hands x | border/inside | "
            "lips own / shuf (offset) | train s |")
    lines = [head, "|" + "---|" * 13]
    for r in results:
        lines.append(f"| {r['name']} | {VARIANTS[r['name']][3]} | {r['val_start']:.3f}→{r['val_own']:.3f} | "
                     f"{r['val_common']:.3f} | {r['corr']:.2f} / {r['corr_sh']:.2f} | "
                     f"{r['ba']:.2f} / {r['ba_sh']:.2f} | {r['hand']:.3f} | {r['acc']:.1f} | "
                     f"{r.get('fingers', float('nan')):.2f} | {r.get('l1div', float('nan')):.2f} | "
                     f"{r['border']:.2f} | "
                     f"{r.get('lips', float('nan')):.2f} / {r.get('lips_sh', float('nan')):.2f} "
                     f"({r.get('lips_offset', float('nan')):+.1f}) | "
                     f"{r['train_s']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0, help="training seed (sampling always uses seed 0)")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--output", default=None, help="work folder (a rerun reuses trained variants)")
    ap.add_argument("--dataset", default=None, help="a built dataset with train and val splits "
                    "(default: the synthetic set)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from gesticulate.data.synthetic import make_synthetic_dataset

    out = Path(args.output or tempfile.mkdtemp(prefix="ablation_"))
    data = Path(args.dataset) if args.dataset else out / "synthetic"
    if not args.dataset and not (data / "manifest.jsonl").is_file():
        make_synthetic_dataset(data, seed=2)
    print(f"data {data}, model {json.dumps(SMALL)}, {args.steps} steps, batch 16, "
          f"{args.threads} thread(s), training seed {args.seed}")
    results = []
    for name in args.variants:
        r = run_variant(name, data, out, steps=args.steps, seed=args.seed)
        results.append(r)
        print(f"{name}: trained {r['train_s']:.0f} s, measured in {r['total_s'] - r['train_s']:.0f} s", flush=True)
    print(table(results))


if __name__ == "__main__":
    main()
