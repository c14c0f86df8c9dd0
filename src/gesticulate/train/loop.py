"""The training loop both trainings use: MotionDiT (:mod:`gesticulate.train.motion`) and the
diffusion renderer (:mod:`gesticulate.train.renderer`).

A :class:`Task` says what is trained (the model, a batch, its loss, validation, what a
checkpoint holds besides the weights); :func:`run` does the rest, the same for both: AdamW
with warm-up and cosine decay (a torch ``LambdaLR``), gradient clipping, EMA weights (torch's
``AveragedModel``; what sampling uses), bf16 autocast on CUDA only, one CPU or many GPUs with
torchrun (:mod:`gesticulate.train.ddp`), checkpoints every ``checkpoint_every`` steps (see
:mod:`gesticulate.train.checkpoint`), resume from the newest checkpoint, a CSV log and
validation at intervals. Batches, noise and conditioning dropouts are drawn from generators
seeded by (seed, step, rank), so a resumed run repeats exactly what an uninterrupted one
would have done.
"""

from __future__ import annotations

import csv
import math
import os
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, ClassVar

import numpy as np
import torch
from torch.optim.lr_scheduler import LambdaLR
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm.auto import tqdm

from gesticulate.config import checked
from gesticulate.errors import OptionError
from gesticulate.train import ddp
from gesticulate.train.checkpoint import (checkpoint_folder, open_run, start_run,
                                          write_checkpoint)

LOG_FIELDS = ("step", "loss", "val_loss", "lr", "steps_per_s", "wrist_speed", "wrist_speed_gt",
              "onset_corr", "onset_corr_shuffled", "ba", "ba_shuffled")


@dataclass
class LoopConfig:
    """The options every training run has (saved as RUN/train_config.json; unknown keys
    rejected); a training's own config adds its fields and may change the defaults."""

    what: ClassVar[str] = "training options"  # named in the unknown-key error
    # Values of fields added later, for saved configs written before them (a resumed run
    # goes on as it started, not with today's defaults).
    LEGACY: ClassVar[dict] = {}

    dataset: str = ""                # dataset folder (manifest.jsonl, clips/, stats.npz)
    preset: str = "tiny"             # model size: tiny, S, B
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
    model: dict = field(default_factory=dict)  # model config overrides (ablations)

    @classmethod
    def from_dict(cls, d: dict):
        return cls(**checked(cls, d, what=cls.what))


class Task(ABC):
    """What one training trains; :func:`run` drives it. A subclass builds ``model`` (on the
    device, seeded by the config) and its data in ``__init__``."""

    name: str = "train"              # progress bar label
    validate_at_start: bool = False  # log the validation before the first step (step 0)
    max_minutes: float = 0.0         # stop, with a checkpoint, after this wall-clock time (0 = off)
    model: torch.nn.Module

    @abstractmethod
    def batch(self, rng: np.random.Generator, gen: torch.Generator, size: int) -> dict:
        """This rank's ``size`` training samples of one step, on the device."""

    @abstractmethod
    def loss(self, net: torch.nn.Module, batch: dict, rng: np.random.Generator,
             gen: torch.Generator) -> torch.Tensor:
        """The loss of ``batch`` through ``net`` (``model``, DDP-wrapped when there are several
        processes); noise and dropouts come from ``gen`` and ``rng``."""

    @abstractmethod
    def validate(self, ema: torch.nn.Module, *, start: bool = False) -> dict[str, float]:
        """Log columns measured on the EMA model (main process only); ``{}`` when there is no
        validation data. ``start``: before the first step."""

    @abstractmethod
    def save_extra(self, folder: Path) -> None:
        """Add what sampling needs besides config and weights to a checkpoint ``folder``."""


def run(cfg: LoopConfig, output: str | os.PathLike, make_task: Callable[..., Task], *, resume: bool,
        device: str | None, progress: bool) -> Path:
    """Train ``make_task(cfg, info, ckpt, progress)``'s model with ``cfg`` into run folder
    ``output``; with ``resume`` go on from its newest checkpoint with its saved options.
    Returns the newest checkpoint folder."""
    folder = Path(output)
    cfg, ckpt, note = open_run(folder, cfg, resume=resume)
    info = ddp.setup(device)
    ended = False
    try:
        if note and info.is_main:
            tqdm.write(note)
        if cfg.batch_size % info.world_size:
            raise OptionError(f"batch size {cfg.batch_size} is not divisible by the {info.world_size} "
                              "processes; pick a multiple")
        last = fit(cfg, folder, ckpt, info, make_task(cfg, info, ckpt, progress), progress=progress)
        ended = True
        return last
    finally:
        ddp.teardown(info, synchronize=ended)


def warmup_cosine(step: int, *, warmup_steps: int, steps: int) -> float:
    """The learning-rate factor at ``step``: linear warm-up over ``warmup_steps``, then cosine
    decay to 0.1 at ``steps``."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    q = (step - warmup_steps) / max(steps - warmup_steps, 1)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(q, 1.0)))


def lr_schedule(optimizer: torch.optim.Optimizer, cfg: LoopConfig, *, start: int) -> LambdaLR:
    """:func:`warmup_cosine` of ``cfg.lr`` as a torch scheduler, at step ``start``. It follows
    from the step alone, so a checkpoint needs no scheduler state (and those written before it
    existed resume)."""
    for g in optimizer.param_groups:
        g["initial_lr"] = cfg.lr  # what LambdaLR scales; restored optimizer groups may lack it
    return LambdaLR(optimizer, partial(warmup_cosine, warmup_steps=cfg.warmup_steps, steps=cfg.steps),
                    last_epoch=start - 1)


def ema_of(model: torch.nn.Module, *, decay: float) -> AveragedModel:
    """An EMA copy of ``model``: at step ``s`` it moves towards the weights by ``1 - d`` with
    ``d = min(decay, (1 + s) / (10 + s))``, so early steps count while the average warms up.
    ``ema.module`` is the averaged model; set ``n_averaged`` to ``s + 1`` before step ``s``."""
    def update(ema_params, params, n_averaged) -> None:
        s = int(n_averaged) - 1
        get_ema_multi_avg_fn(min(decay, (1 + s) / (10 + s)))(ema_params, params, n_averaged)

    ema = AveragedModel(model, multi_avg_fn=update).requires_grad_(False)
    ema.n_averaged.fill_(1)  # the copy made here is the first average, so step 0 already averages
    return ema


def fit(cfg: LoopConfig, folder: Path, ckpt: Path | None, info: ddp.DistInfo, task: Task, *,
        progress: bool) -> Path:
    """The loop: ``cfg.steps`` optimiser steps of ``task`` in run ``folder``, from ``ckpt`` (or
    from scratch)."""
    model = task.model
    ema = ema_of(model, decay=cfg.ema_decay)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))
    start = start_run(folder, cfg, ckpt, is_main=info.is_main, raw=model, ema=ema.module, optimizer=opt)
    ema.n_averaged.fill_(start + 1)
    lr_sched = lr_schedule(opt, cfg, start=start)
    ddp.barrier(info)
    net = ddp.wrap(model, info)
    log = CsvLog(folder / "log.csv", resume_step=start) if info.is_main else None
    bar = tqdm(total=cfg.steps, initial=start, desc=task.name, disable=not (progress and info.is_main))
    if start == 0 and log is not None and cfg.val_every and task.validate_at_start:
        row = task.validate(ema.module, start=True)
        if row:
            log.write({"step": 0, **row})  # where learning starts
    deadline = time.monotonic() + 60 * task.max_minutes if task.max_minutes else math.inf
    t0, losses, last = time.perf_counter(), [], ckpt
    for step in range(start, cfg.steps):
        lr = lr_sched.get_last_lr()[0]
        losses.append(_train_step(net, task, ema, opt, lr_sched, cfg, info, step))
        bar.update(1)
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
        done = step + 1
        stop = done == cfg.steps or _past(deadline, info)
        row = None
        if cfg.val_every and (done % cfg.val_every == 0 or stop):
            row = {"step": done, "loss": float(np.mean(losses)), "lr": lr,
                   "steps_per_s": len(losses) / (time.perf_counter() - t0)}
            if info.is_main:
                row.update(task.validate(ema.module))
            t0, losses = time.perf_counter(), []
        if done % cfg.checkpoint_every == 0 or stop:
            if info.is_main:
                write_checkpoint(folder, done, ema=ema.module, raw=model, optimizer=opt,
                                 state={"config": asdict(cfg)}, keep=cfg.keep_checkpoints,
                                 extra=task.save_extra)
            last = checkpoint_folder(folder, done)
            ddp.barrier(info)
        if row is not None and log is not None:
            log.write(row)  # after the checkpoint, so a resumed log never repeats a step
        if stop:
            break
    bar.close()
    return last                # the newest checkpoint, on every rank


def _past(deadline: float, info: ddp.DistInfo) -> bool:
    """Whether any rank is past ``deadline`` (so every rank stops at the same step)."""
    if deadline == math.inf:
        return False
    return ddp.all_reduce_mean(float(time.monotonic() > deadline), info) > 0


def _train_step(net, task: Task, ema: AveragedModel, opt, lr_sched, cfg: LoopConfig,
                info: ddp.DistInfo, step: int) -> float:
    """One optimiser step on this rank's share of the batch; returns the mean loss over ranks."""
    rng = np.random.default_rng([cfg.seed, step, info.rank])
    gen = torch.Generator().manual_seed(int(rng.integers(2 ** 62)))
    batch = task.batch(rng, gen, cfg.batch_size // info.world_size)
    task.model.train()
    # bf16 autocast only on CUDA; CPU trains in fp32 (CPU autocast is slow and lossy here).
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=info.device.type == "cuda"):
        loss = task.loss(net, batch, rng, gen)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(task.model.parameters(), cfg.grad_clip)
    opt.step()
    lr_sched.step()
    ema.update_parameters(task.model)
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
