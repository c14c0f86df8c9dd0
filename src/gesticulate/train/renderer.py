"""``gesticulate train-renderer``: train the diffusion renderer on the clips of a built dataset.

Each training sample is a chunk of ``num_frames`` consecutive frames of one clip, the
``motion_frames`` frames before it (EMO2 motion frames; dropped for the whole batch half the
time, so the first chunk of a video is learned too) and a reference frame drawn at random from
the same clip (AnimateAnyone / EMO2: another frame of the same video is the "photo").
Frames come from the clip's ``video.mp4`` (``build-dataset --write-video``), conditions from
its skeleton and audio features (:mod:`gesticulate.render.conditions`).

The loss is the diffusion MSE with MMGT's region weights (extra weight inside the face, lips
and hands masks); reference and audio are dropped at random for classifier-free guidance.
The loop is MotionDiT's (:mod:`gesticulate.train.loop`: one CPU, one GPU with bf16 autocast
or many with torchrun; AdamW with warm-up and cosine decay, EMA weights, exact resume); a
checkpoint holds the VAE in ``vae/`` besides the EMA model for a latent-space renderer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from tqdm.auto import tqdm

from gesticulate.data.clips import iter_clips
from gesticulate.errors import InputError, OptionError
from gesticulate.models.renderer_unet import PRESETS, RendererUNet
from gesticulate.models.schedulers import make_noise_scheduler
from gesticulate.models.vae import VAE_DIR, LatentCodec, load_vae, train_vae
from gesticulate.render.conditions import Letterbox, audio_windows, frame_conditions
from gesticulate.train.loop import LoopConfig, Task, run


@dataclass
class RendererTrainConfig(LoopConfig):
    """One renderer training run (saved as RUN/train_config.json; unknown keys rejected)."""

    what: ClassVar[str] = "renderer training options"

    dataset: str = ""                # dataset folder (manifest.jsonl, clips/ with video.mp4)
    batch_size: int = 4              # chunks per step (split over DDP ranks)
    lr: float = 1e-4                 # peak AdamW learning rate
    init: str | None = None          # diffusers folder on disk to initialise from (name + shape)
    vae: str | None = None           # VAE folder for latent models (else init's vae/, else trained)
    vae_steps: int = 2000            # steps of the project's own VAE when none is given
    drop_reference: float = 0.05     # CFG: probability a sample loses its reference
    drop_audio: float = 0.1          # CFG: probability a sample loses its audio
    drop_motion: float = 0.5         # probability a batch has no motion frames (first chunks)
    region_weights: dict = field(default_factory=lambda: {"face": 1.0, "lips": 2.0, "hands": 1.0})
    max_clips: int = 0               # clips loaded per split (0 = all)
    max_minutes: float = 0.0         # stop (with a checkpoint) after this wall-clock time (0 = off)
    model: dict = field(default_factory=dict)  # RendererConfig overrides


class ClipFrames:
    """Frames and per-frame conditions of the clips of one split, in memory (uint8).

    ``frames`` (T, S, S, 3), ``pose`` (T, 3, S, S), ``masks`` (T, R, S, S), ``hand`` (T, 2) and
    ``audio`` (T, 2r+1, A) per clip, letterboxed into the model's square.
    """

    def __init__(self, root, *, split: str, config, max_clips: int = 0):
        from gesticulate.video import iter_frames

        self.clips = []
        c = config
        for clip in iter_clips(root, split=split):
            if clip.video_path is None:
                continue
            w, h = clip.skeleton.image_size
            box = Letterbox(int(w), int(h), c.image_size)
            frames = np.stack([box.image(f) for f in iter_frames(clip.video_path)])
            n = min(len(frames), len(clip.skeleton.keypoints))
            cond = frame_conditions(box.keypoints(clip.skeleton.keypoints[:n]), size=c.image_size,
                                    regions=c.regions, margin=c.mask_margin, shape=c.mask_shape,
                                    fps=clip.skeleton.fps, sweep=c.mask_sweep)
            audio = audio_windows(clip.features.stack(), radius=c.audio_context, num_frames=n)
            if audio.shape[-1] != c.audio_dim:
                raise OptionError(f"dataset audio features have {audio.shape[-1]} columns, the model "
                                  f"expects {c.audio_dim}; pass model={{'audio_dim': {audio.shape[-1]}}}")
            if n >= c.num_frames + c.motion_frames:
                self.clips.append(dict(frames=frames[:n], audio=audio, **cond))
            if max_clips and len(self.clips) >= max_clips:
                break

    def __len__(self) -> int:
        return len(self.clips)

    def sample(self, rng: np.random.Generator, batch: int, *, frames: int, motion: int) -> dict:
        """A batch of chunks as numpy arrays (see :func:`to_batch` for the tensors)."""
        out: dict = {k: [] for k in ("frames", "pose", "masks", "hand", "audio", "ref", "ref_hand", "motion")}
        for _ in range(batch):
            c = self.clips[int(rng.integers(len(self.clips)))]
            s = int(rng.integers(0, len(c["frames"]) - frames - motion + 1)) + motion
            r = int(rng.integers(len(c["frames"])))
            for k in ("frames", "pose", "masks", "hand", "audio"):
                out[k].append(c[k][s:s + frames])
            out["motion"].append(c["frames"][s - motion:s])
            out["ref"].append(c["frames"][r])
            out["ref_hand"].append(c["hand"][r])
        return {k: np.stack(v) for k, v in out.items()}


def to_batch(b: dict, device, codec: LatentCodec | None, generator=None) -> dict:
    """Numpy batch → model-space tensors on ``device``."""
    def pix(x):                                   # (..., S, S, 3) uint8 -> (N, 3, S, S) in -1..1
        t = torch.from_numpy(x).to(device).reshape(-1, *x.shape[-3:]).permute(0, 3, 1, 2).float()
        t = t / 127.5 - 1
        return t if codec is None else codec.encode(t, generator=generator)

    bsz, nt = b["frames"].shape[:2]
    x0 = pix(b["frames"]).reshape(bsz, nt, *pix(b["frames"][:1, :1]).shape[1:])
    o = b["motion"].shape[1]
    motion = pix(b["motion"]).reshape(bsz, o, *x0.shape[2:]) if o else None
    f = lambda k: torch.from_numpy(b[k]).to(device).float()  # noqa: E731
    return dict(x0=x0, motion=motion, reference=pix(b["ref"]), pose=f("pose") / 255,
                masks=f("masks") / 255, hand_conf=f("hand"), audio=f("audio"), reference_hand_conf=f("ref_hand"))


def renderer_loss(net, model: RendererUNet, batch: dict, sched, cfg: RendererTrainConfig,
                  rng: np.random.Generator, gen: torch.Generator) -> torch.Tensor:
    """Region-weighted diffusion MSE of one batch (MMGT: extra weight on face, lips, hands)."""
    c = model.config
    x0 = batch["x0"]
    b = x0.shape[0]
    dev = x0.device
    noise = torch.randn(x0.shape, generator=gen).to(dev)
    t = torch.randint(0, c.num_train_timesteps, (b,), generator=gen).to(dev)
    xt = sched.add_noise(x0, noise, t)
    target = {"epsilon": noise, "sample": x0}.get(c.prediction_type)
    if target is None:
        target = sched.get_velocity(x0, noise, t)
    drop_ref = torch.from_numpy(rng.random(b) < cfg.drop_reference).to(dev)
    drop_audio = torch.from_numpy(rng.random(b) < cfg.drop_audio).to(dev)
    motion = None if rng.random() < cfg.drop_motion else batch["motion"]
    pred = net(xt, t, pose=batch["pose"], masks=batch["masks"], audio=batch["audio"],
               hand_conf=batch["hand_conf"], reference=batch["reference"], motion=motion,
               reference_hand_conf=batch["reference_hand_conf"], drop_reference=drop_ref,
               drop_audio=drop_audio)
    m = batch["masks"].flatten(0, 1)                                          # (B*T, R, H, W)
    m = torch.nn.functional.adaptive_avg_pool2d(m, x0.shape[-1]).reshape(*x0.shape[:2], len(c.regions), *x0.shape[-2:])
    gains = torch.tensor([cfg.region_weights.get(r, 0.0) for r in c.regions], device=dev)
    w = 1 + (m * gains[None, None, :, None, None]).sum(2, keepdim=True)      # (B, T, 1, h, w)
    return (w * (pred.float() - target.float()) ** 2).mean()


def _setup_vae(cfg: RendererTrainConfig, model: RendererUNet, train: ClipFrames, ckpt, info, progress):
    """The frozen VAE of a latent model: the checkpoint's, --vae, --init's vae/, or trained here."""
    if model.config.space != "latent":
        return None
    for folder in (ckpt, cfg.vae, cfg.init):
        if folder is not None and ((Path(folder) / VAE_DIR).is_dir() or folder == cfg.vae):
            return LatentCodec(load_vae(folder).to(info.device))
    frames = np.concatenate([c["frames"] for c in train.clips])
    vae = train_vae(frames, steps=cfg.vae_steps, seed=cfg.seed, device=str(info.device),
                    latent_channels=model.config.latent_channels, factor=model.config.latent_factor,
                    progress=progress and info.is_main)
    return LatentCodec(vae)


class RendererTask(Task):
    """The renderer on chunks of the dataset's train clips; fixed val chunks for validation."""

    name = "train-renderer"

    def __init__(self, cfg: RendererTrainConfig, info, ckpt: Path | None, progress: bool):
        from gesticulate.models.init_weights import load_compatible

        torch.manual_seed(cfg.seed)
        self.cfg, self.device, self.max_minutes = cfg, info.device, cfg.max_minutes
        self.model = model = PRESETS[cfg.preset](**cfg.model).to(info.device)
        c = model.config
        if cfg.init is not None and ckpt is None:
            rep = load_compatible(model, cfg.init)
            if info.is_main:
                tqdm.write(f"init from {cfg.init}: {len(rep.loaded)} tensors loaded, {len(rep.widened)} "
                           f"widened, {len(rep.mismatched)} of another shape, {len(rep.unused)} unused")
        self.data = ClipFrames(cfg.dataset, split="train", config=c, max_clips=cfg.max_clips)
        if not len(self.data):
            raise InputError(f"no train clip in {cfg.dataset} has a video.mp4 at least "
                             f"{c.num_frames + c.motion_frames} frames long; build the dataset with "
                             "--write-video")
        self.val = ClipFrames(cfg.dataset, split="val", config=c, max_clips=cfg.max_clips)
        self.codec = _setup_vae(cfg, model, self.data, ckpt, info, progress)
        self.sched = make_noise_scheduler(c, device=info.device)

    def batch(self, rng, gen, size):
        c = self.model.config
        raw = self.data.sample(rng, size, frames=c.num_frames, motion=c.motion_frames)
        return to_batch(raw, self.device, self.codec, generator=gen if self.codec is not None else None)

    def loss(self, net, batch, rng, gen):
        return renderer_loss(net, self.model, batch, self.sched, self.cfg, rng, gen)

    def validate(self, ema, *, start=False):
        if not len(self.val):
            return {}
        return {"val_loss": validation_loss(ema, self.val, self.codec, self.sched, self.cfg, self.device)}

    def save_extra(self, folder: Path) -> None:
        if self.codec is not None:
            self.codec.vae.save_pretrained(folder / VAE_DIR, safe_serialization=True)


def train_renderer(dataset_dir: str | os.PathLike, *, output: str | os.PathLike, preset: str = "tiny",
                   steps: int = 2000, batch_size: int = 4, lr: float = 1e-4, seed: int = 0,
                   init: str | os.PathLike | None = None, resume: bool = False,
                   device: str | None = None, progress: bool = True, **options) -> Path:
    """Train a diffusion renderer on ``dataset_dir``; checkpoints and ``log.csv`` go to ``output``.

    ``options`` are further :class:`RendererTrainConfig` fields (``model={...}`` overrides
    renderer config fields). ``init`` is a diffusers folder on disk (e.g. Stable Diffusion 1.5)
    whose weights are copied where name and shape match. Returns the newest checkpoint folder
    (loadable by ``RendererUNet.from_pretrained`` and ``DiffusionRenderer``).
    """
    if preset not in PRESETS:
        raise OptionError(f"unknown preset {preset!r}; use one of {', '.join(PRESETS)}")
    cfg = RendererTrainConfig.from_dict(dict(dataset=str(dataset_dir), preset=preset, steps=steps,
                                             batch_size=batch_size, lr=lr, seed=seed,
                                             init=None if init is None else str(init), **options))
    return run(cfg, output, RendererTask, resume=resume, device=device, progress=progress)


@torch.no_grad()
def validation_loss(ema: RendererUNet, val: ClipFrames, codec, sched, cfg, device, *, batches: int = 2) -> float:
    """Loss of the EMA model on fixed validation chunks (same seed every time)."""
    ema.eval()
    out = []
    for i in range(batches):
        rng = np.random.default_rng([cfg.seed, 10 ** 9, i])
        gen = torch.Generator().manual_seed(i)
        c = ema.config
        raw = val.sample(rng, max(1, cfg.batch_size), frames=c.num_frames, motion=c.motion_frames)
        out.append(float(renderer_loss(ema, ema, to_batch(raw, device, codec), sched, cfg, rng, gen)))
    return float(np.mean(out))
