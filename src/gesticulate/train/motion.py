"""``gesticulate train``: train MotionDiT on a clip dataset (the loop is :mod:`gesticulate.train.loop`).

A step draws windows of normalised motion and audio (:mod:`gesticulate.train.data`), their
conditioning dropouts and known frames (:mod:`gesticulate.train.objective`) and DDPM noise;
validation logs the loss on fixed val windows and, optionally, motion metrics of samples
(:mod:`gesticulate.train.evaluate`). A checkpoint holds the normalisation statistics and a
``meta.json`` (fps, style table, median wrist speed) besides the EMA model.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import ClassVar
from pathlib import Path

import numpy as np
import torch

from gesticulate.errors import OptionError
from gesticulate.audio.phones import NUM_PHONE_CHANNELS
from gesticulate.models.motion_dit import PRESETS, MotionDiTConfig
from gesticulate.models.schedulers import make_noise_scheduler
from gesticulate.train import loop
from gesticulate.models.folders import META_NAME, STATS_NAME
from gesticulate.train.data import WindowDataset, load_clips, load_stats, style_table, wrist_speed
from gesticulate.train.evaluate import fixed_val_batch, sample_metrics, validation_loss
from gesticulate.train.objective import ObjectiveConfig, diffusion_loss, joint_weights, prepare_batch


@dataclass
class TrainConfig(loop.LoopConfig):
    """One MotionDiT training run (saved as RUN/train_config.json; unknown keys rejected)."""

    val_windows: int = 64            # fixed val windows for the val loss
    metric_clips: int = 4            # val clips sampled for motion metrics (0 = skip)
    objective: dict = field(default_factory=dict)  # ObjectiveConfig overrides (ablations)
    augment: bool = False            # random scale, rotation, left-right flip (train.augment)
    phones: bool = True              # viseme channels of recognised phones in the audio input
    audio_encoder: str | None = None  # a pretrained speech encoder's folder (audio.encoder)
    local_parts: bool = False        # hands relative to their wrists, face to the nose (normalize)

    LEGACY: ClassVar[dict] = {"phones": False}   # runs started before the phones heard none


class MotionTask(loop.Task):
    """MotionDiT on the windows of a dataset's train split; val windows and clips for validation."""

    name = "train"
    validate_at_start = True

    def __init__(self, cfg: TrainConfig, info, ckpt=None, progress: bool = True):
        torch.manual_seed(cfg.seed)
        self.cfg, self.device = cfg, info.device
        encoder = None
        if cfg.audio_encoder:
            from gesticulate.audio.encoder import SpeechEncoder
            encoder = SpeechEncoder(cfg.audio_encoder, device=str(info.device))
        overrides = {"phones": cfg.phones, "encoder_dim": encoder.dim if encoder else 0,
                     **cfg.model}
        overrides.setdefault("audio_dim", MotionDiTConfig.audio_dim + overrides["encoder_dim"]
                             + (NUM_PHONE_CHANNELS if overrides["phones"] else 0))
        self.model = model = PRESETS[cfg.preset](**overrides).to(info.device)
        mc = model.config
        self.stats = stats = load_stats(cfg.dataset, parts=cfg.local_parts)
        styles = style_table(cfg.dataset, num_styles=mc.num_styles)
        train_clips = load_clips(cfg.dataset, split="train", stats=stats, fps=mc.fps, styles=styles,
                                 phones=mc.phones, encoder=encoder)
        if train_clips[0].audio.shape[1] != mc.audio_dim:
            n = int(train_clips[0].audio.shape[1])
            raise OptionError(f"dataset audio features have {n} columns, the model expects "
                              f"{mc.audio_dim}; pass model={{'audio_dim': {n}}}")
        self.data = WindowDataset(train_clips, window=mc.window, stats=stats, fps=mc.fps,
                                  augment=cfg.augment)
        self.val_clips = load_clips(cfg.dataset, split="val", stats=stats, fps=mc.fps, styles=styles,
                                    phones=mc.phones, encoder=encoder)
        val = WindowDataset(self.val_clips, window=mc.window, stats=stats, fps=mc.fps) if self.val_clips else None
        speeds = np.concatenate([wrist_speed(stats.denormalize(c.motion), c.visible, fps=mc.fps)
                                 for c in train_clips])
        self.meta = {"fps": mc.fps, "styles": styles, "median_wrist_speed": float(np.nanmedian(speeds)),
                     "audio_dim": mc.audio_dim, "preset": cfg.preset, "dataset": cfg.dataset}
        if encoder is not None:
            self.meta["audio_encoder"] = {"folder": str(Path(cfg.audio_encoder).resolve()),
                                          "key": encoder.key, "kind": encoder.kind}
        self.objective = ObjectiveConfig(**cfg.objective)
        self.weights = joint_weights(self.objective.region_weights, mc.num_joints).to(info.device)
        self.sched = make_noise_scheduler(mc, device=info.device)
        self.val_batch = (fixed_val_batch(val, max_windows=cfg.val_windows, prev_frames=mc.prev_frames,
                                          seed=cfg.seed, num_train_timesteps=mc.num_train_timesteps)
                          if val is not None else None)

    def batch(self, rng, gen, size):
        raw = self.data.sample(rng, size)
        mc = self.model.config
        batch = prepare_batch(raw, rng, self.objective, prev_frames=mc.prev_frames,
                              phone_columns=mc.phone_columns)
        return {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}

    def loss(self, net, batch, rng, gen):
        size = len(batch["motion"])
        noise = torch.randn(batch["motion"].shape, generator=gen).to(self.device)
        t = torch.randint(0, self.model.config.num_train_timesteps, (size,), generator=gen).to(self.device)
        return diffusion_loss(net, batch, self.sched, self.objective, noise=noise, timesteps=t,
                              weights=self.weights)

    def validate(self, ema, *, start=False):
        if self.val_batch is None:
            return {}
        row = {"val_loss": validation_loss(ema, self.val_batch, self.sched, self.objective,
                                           self.weights, self.device)}
        if self.cfg.metric_clips and not start:
            row.update(sample_metrics(ema, self.val_clips, self.stats, fps=self.model.config.fps,
                                      seed=self.cfg.seed, max_clips=self.cfg.metric_clips))
        return row

    def save_extra(self, folder: Path) -> None:
        self.stats.save(folder / STATS_NAME)
        (folder / META_NAME).write_text(json.dumps(self.meta, indent=2))


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
    if options.get("audio_encoder"):   # a resume from elsewhere finds it again
        options["audio_encoder"] = str(Path(options["audio_encoder"]).resolve())
    cfg = TrainConfig.from_dict(dict(dataset=str(dataset_dir), preset=preset, steps=steps,
                                     batch_size=batch_size, lr=lr, seed=seed, val_every=val_every,
                                     checkpoint_every=checkpoint_every, **options))
    return loop.run(cfg, output, MotionTask, resume=resume, device=device, progress=progress)
