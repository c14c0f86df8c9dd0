"""Train MotionDiT on a clip dataset: one CPU, one GPU, or many GPUs with torchrun.

AdamW with warm-up and cosine decay, gradient clipping, EMA weights (what sampling uses),
bf16 autocast on CUDA only, DDPM noise from ``diffusers``, checkpoints every
``checkpoint_every`` steps (see :mod:`gesticulate.train.checkpoint`), resume from the newest
checkpoint, a CSV log and validation at intervals. Batches, noise and conditioning dropouts
are drawn from generators seeded by (seed, step, rank), so a resumed run repeats exactly
what an uninterrupted one would have done.
"""

from __future__ import annotations

import csv
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from gesticulate.config import checked
from gesticulate.errors import OptionError
from gesticulate.models.motion_dit import PRESETS, MotionDiT
from gesticulate.train import ddp
from gesticulate.train.checkpoint import list_checkpoints, open_run, save_checkpoint, start_run
from gesticulate.train.data import WindowDataset, load_clips, load_stats, style_table, wrist_speed
from gesticulate.train.evaluate import fixed_val_batch, motion_metrics, validation_loss
from gesticulate.train.objective import ObjectiveConfig, diffusion_loss, joint_weights, prepare_batch

LOG_FIELDS = ("step", "loss", "val_loss", "lr", "steps_per_s", "wrist_speed", "wrist_speed_gt",
              "onset_corr", "onset_corr_shuffled", "ba", "ba_shuffled")


@dataclass
class TrainConfig:
    """One training run (saved as RUN/train_config.json; unknown keys rejected)."""

    dataset: str = ""                # dataset folder (manifest.jsonl, clips/, stats.npz)
    preset: str = "tiny"             # MotionDiT size: tiny, S, B
    steps: int = 2000                # optimiser steps
    batch_size: int = 32             # global batch (split over DDP ranks)
    lr: float = 3e-4                 # peak AdamW learning rate
    weight_decay: float = 0.01       # AdamW weight decay
    warmup_steps: int = 100          # linear warm-up, then cosine decay to 10%
    grad_clip: float = 1.0           # max global gradient norm
    ema_decay: float = 0.999         # EMA of weights (with a 1+s/10+s warm-up)
    seed: int = 0                    # everything random derives from it
    val_every: int = 250             # steps between validations (0 = never)
    checkpoint_every: int = 500      # steps between checkpoints (a final one is always written)
    keep_checkpoints: int = 2        # newest checkpoints kept
    val_windows: int = 64            # fixed val windows for the val loss
    metric_clips: int = 4            # val clips sampled for motion metrics (0 = skip)
    model: dict = field(default_factory=dict)      # MotionDiTConfig overrides (ablations)
    objective: dict = field(default_factory=dict)  # ObjectiveConfig overrides (ablations)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return cls(**checked(cls, d, what="training options"))


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Warm-up then cosine decay to 10% of ``cfg.lr``."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    q = (step - cfg.warmup_steps) / max(cfg.steps - cfg.warmup_steps, 1)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(q, 1.0))))


def make_noise_scheduler(model: MotionDiT):
    """The DDPM training schedule of ``model`` (diffusers)."""
    from diffusers import DDPMScheduler

    c = model.config
    return DDPMScheduler(num_train_timesteps=c.num_train_timesteps, beta_schedule=c.beta_schedule,
                         prediction_type=c.prediction_type, clip_sample=False)


def _after_step(step: int) -> None:
    """Hook called after every optimiser step (tests replace it to simulate a crash)."""


def train(dataset_dir: str | os.PathLike, *, output: str | os.PathLike, preset: str = "tiny",
          steps: int = 2000, batch_size: int = 32, lr: float = 3e-4, seed: int = 0,
          resume: bool = False, device: str | None = None, progress: bool = True,
          val_every: int = 250, checkpoint_every: int = 500, **options) -> Path:
    """Train a MotionDiT on ``dataset_dir``; checkpoints and ``log.csv`` go to ``output``.

    ``options`` are further :class:`TrainConfig` fields (``model={...}`` and
    ``objective={...}`` override MotionDiT / objective fields for ablations). With
    ``resume=True`` the run continues from its newest checkpoint with its saved options.
    Returns the newest checkpoint folder (loadable by ``MotionDiT.from_pretrained``).
    """
    if preset not in PRESETS:
        raise OptionError(f"unknown preset {preset!r}; use one of {', '.join(PRESETS)}")
    cfg = TrainConfig.from_dict(dict(dataset=str(dataset_dir), preset=preset, steps=steps,
                                     batch_size=batch_size, lr=lr, seed=seed, val_every=val_every,
                                     checkpoint_every=checkpoint_every, **options))
    run = Path(output)
    cfg, ckpt, note = open_run(run, cfg, resume=resume)
    info = ddp.setup(device)
    try:
        if note and info.is_main:
            tqdm.write(note)
        return _train(cfg, run, ckpt, info, progress)
    finally:
        ddp.teardown(info)


def _build(cfg: TrainConfig, info: ddp.DistInfo):
    """Model, EMA copy, optimizer, datasets and fixed validation batch for ``cfg``."""
    torch.manual_seed(cfg.seed)
    model = PRESETS[cfg.preset](**cfg.model).to(info.device)
    ema = PRESETS[cfg.preset](**cfg.model).to(info.device).requires_grad_(False)
    ema.load_state_dict(model.state_dict())
    mc = model.config
    stats = load_stats(cfg.dataset)
    styles = style_table(cfg.dataset, num_styles=mc.num_styles)
    train_clips = load_clips(cfg.dataset, split="train", stats=stats, fps=mc.fps, styles=styles)
    if train_clips[0].audio.shape[1] != mc.audio_dim:
        mc_overrides = {**cfg.model, "audio_dim": int(train_clips[0].audio.shape[1])}
        raise OptionError(f"dataset audio features have {mc_overrides['audio_dim']} columns, the "
                          f"model expects {mc.audio_dim}; pass model={{'audio_dim': "
                          f"{mc_overrides['audio_dim']}}}")
    data = WindowDataset(train_clips, window=mc.window, stats=stats, fps=mc.fps)
    val_clips = load_clips(cfg.dataset, split="val", stats=stats, fps=mc.fps, styles=styles)
    val = WindowDataset(val_clips, window=mc.window, stats=stats, fps=mc.fps) if val_clips else None
    speeds = np.concatenate([wrist_speed(stats.denormalize(c.motion), c.visible, fps=mc.fps)
                             for c in train_clips])
    meta = {"fps": mc.fps, "styles": styles, "median_wrist_speed": float(np.nanmedian(speeds)),
            "audio_dim": mc.audio_dim, "preset": cfg.preset, "dataset": cfg.dataset}
    return model, ema, stats, data, val, val_clips, meta


def _train(cfg: TrainConfig, run: Path, ckpt: Path | None, info: ddp.DistInfo, progress: bool) -> Path:
    if cfg.batch_size % info.world_size:
        raise OptionError(f"batch size {cfg.batch_size} is not divisible by the {info.world_size} "
                          "processes; pick a multiple")
    model, ema, stats, data, val, val_clips, meta = _build(cfg, info)
    objective = ObjectiveConfig(**cfg.objective)
    weights = joint_weights(objective.region_weights, model.config.num_joints).to(info.device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                            betas=(0.9, 0.99))
    start = start_run(run, cfg, ckpt, is_main=info.is_main, raw=model, ema=ema, optimizer=opt)
    ddp.barrier(info)
    net = ddp.wrap(model, info)
    sched = make_noise_scheduler(model)
    sched.alphas_cumprod = sched.alphas_cumprod.to(info.device)
    val_batch = (fixed_val_batch(val, max_windows=cfg.val_windows, prev_frames=model.config.prev_frames,
                                 seed=cfg.seed, num_train_timesteps=model.config.num_train_timesteps)
                 if val is not None else None)
    log = CsvLog(run / "log.csv", resume_step=start) if info.is_main else None
    bar = tqdm(total=cfg.steps, initial=start, desc="train", disable=not (progress and info.is_main))
    last = ckpt
    if start == 0 and log is not None and val_batch is not None and cfg.val_every:
        log.write({"step": 0, "val_loss": validation_loss(ema, val_batch, sched, objective, weights,
                                                          info.device)})  # where learning starts
    t0, loss_acc = time.perf_counter(), []
    for step in range(start, cfg.steps):
        loss = _train_step(net, model, ema, opt, data, sched, objective, weights, cfg, info, step)
        loss_acc.append(loss)
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.4f}")
        done = step + 1
        row = None
        if cfg.val_every and (done % cfg.val_every == 0 or done == cfg.steps):
            rate = len(loss_acc) / (time.perf_counter() - t0)
            row = {"step": done, "loss": float(np.mean(loss_acc)), "lr": lr_at(step, cfg),
                   "steps_per_s": rate}
            if info.is_main and val_batch is not None:
                row["val_loss"] = validation_loss(ema, val_batch, sched, objective, weights, info.device)
                if cfg.metric_clips:
                    row.update(motion_metrics(ema, val_clips, stats, fps=model.config.fps,
                                              seed=cfg.seed, max_clips=cfg.metric_clips))
            t0, loss_acc = time.perf_counter(), []
        if done % cfg.checkpoint_every == 0 or done == cfg.steps:
            if info.is_main:
                last = save_checkpoint(run, done, ema=ema, raw=model, optimizer=opt, stats=stats,
                                       meta=meta, state={"config": asdict(cfg)}, keep=cfg.keep_checkpoints)
            ddp.barrier(info)
        if row is not None and log is not None:
            log.write(row)  # after the checkpoint, so a resumed log never repeats a step
        _after_step(done)
    bar.close()
    return list_checkpoints(run)[-1] if info.is_main else last


def _train_step(net, model, ema, opt, data, sched, objective, weights, cfg, info, step) -> float:
    """One optimiser step on this rank's share of the batch; returns the mean loss over ranks."""
    rng = np.random.default_rng([cfg.seed, step, info.rank])
    gen = torch.Generator().manual_seed(int(rng.integers(2 ** 62)))
    per_rank = cfg.batch_size // info.world_size
    batch = prepare_batch(data.sample(rng, per_rank), rng, objective, prev_frames=model.config.prev_frames)
    batch = {k: v.to(info.device, non_blocking=True) for k, v in batch.items()}
    noise = torch.randn(batch["motion"].shape, generator=gen).to(info.device)
    t = torch.randint(0, model.config.num_train_timesteps, (per_rank,), generator=gen).to(info.device)
    for g in opt.param_groups:
        g["lr"] = lr_at(step, cfg)
    model.train()
    # bf16 autocast only on CUDA; CPU trains in fp32 (CPU autocast is slow and lossy here).
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=info.device.type == "cuda"):
        loss = diffusion_loss(net, batch, sched, objective, noise=noise, timesteps=t, weights=weights)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
    opt.step()
    decay = min(cfg.ema_decay, (1 + step) / (10 + step))
    with torch.no_grad():
        torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1 - decay)
    return ddp.all_reduce_mean(float(loss.detach()), info)


class CsvLog:
    """Append-only CSV of :data:`LOG_FIELDS`; on resume, rows after ``resume_step`` are dropped."""

    def __init__(self, path: Path, *, resume_step: int):
        self.path = path
        rows = []
        if path.is_file() and resume_step > 0:
            with open(path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= resume_step]
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=LOG_FIELDS, extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)

    def write(self, row: dict) -> None:
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=LOG_FIELDS, extrasaction="ignore").writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
