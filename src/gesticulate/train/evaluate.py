"""Validation during training: loss on fixed val windows, and motion metrics of samples.

The motion metrics ask whether samples follow the audio: mean wrist speed of samples vs.
ground truth, and the correlation of wrist speed with the audio's onset envelope for samples
made with the clip's own audio vs. with another clip's audio (the shuffled-audio control),
and beat alignment (:mod:`gesticulate.metrics.beats`) of both against the clip's onsets.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from gesticulate.motion.diffusion import Conditions, sample_motion
from gesticulate.skeleton.normalize import NormStats, from_local
from gesticulate.train.data import ClipArrays, WindowDataset, collate, wrist_speed
from gesticulate.train.objective import ObjectiveConfig, diffusion_loss, prepare_batch


def fixed_val_batch(val: WindowDataset, *, max_windows: int, prev_frames: int, seed: int,
                    num_train_timesteps: int):
    """Val windows with fixed conditioning, noise and timesteps, so val losses compare."""
    rng = np.random.default_rng(seed)
    idx = np.linspace(0, len(val) - 1, min(max_windows, len(val))).round().astype(int)
    batch = collate([val[int(i)] for i in idx])
    plain = ObjectiveConfig(cond_dropout=0, style_dropout=0, style_vector_dropout=0,
                            speed_dropout=0, prev_known_prob=0.5, hand_known_prob=0)
    batch = prepare_batch(batch, rng, plain, prev_frames=prev_frames)
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(batch["motion"].shape, generator=g)
    t = torch.randint(0, num_train_timesteps, (len(idx),), generator=g)
    return batch, noise, t


@torch.no_grad()
def validation_loss(model, val_batch, scheduler, objective: ObjectiveConfig,
                    weights: torch.Tensor, device: torch.device) -> float:
    batch, noise, t = val_batch
    batch = {k: v.to(device) for k, v in batch.items()}
    loss = diffusion_loss(model, batch, scheduler, objective, noise=noise.to(device),
                          timesteps=t.to(device), weights=weights)
    return float(loss)


def onset_correlation(speed: np.ndarray, onset: np.ndarray, *, max_lag: int = 6) -> float:
    """Best Pearson correlation of wrist speed ``(T-1,)`` with onsets ``(T,)`` at lag 0..max_lag."""
    o = onset[1:len(speed) + 1]
    best = -1.0
    for lag in range(max_lag + 1):
        a, b = speed[lag:], o[:len(o) - lag]
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() > 10 and a[ok].std() > 0 and b[ok].std() > 0:
            best = max(best, float(np.corrcoef(a[ok], b[ok])[0, 1]))
    return best


def sample_clip(model, clip: ClipArrays, audio: np.ndarray, *, seed: int, num_steps: int = 10,
                guidance_scale: float = 2.0, sampler: str = "ddim") -> np.ndarray:
    """Normalised motion ``(T, J, 2)`` for ``audio`` with ``clip``'s first frame as reference."""
    dev = next(model.parameters()).device
    cond = Conditions(torch.from_numpy(clip.motion[0]).to(dev), torch.from_numpy(clip.visible[0]).to(dev))
    return sample_motion(model, audio, cond, seed=seed, num_steps=num_steps,
                         guidance_scale=guidance_scale, sampler=sampler)


def beat_alignment(z: np.ndarray, stats: NormStats, onset_frames, *, fps: float) -> float:
    """BA (:mod:`gesticulate.metrics.beats`, EMAGE with a deceleration filter) of normalised
    motion ``(T, J, 2)`` against audio beats."""
    from gesticulate.metrics.beats import beat_alignment as ba
    # Into a 100-pixel-shoulder frame: the metric re-normalises, the scale only has to be sane.
    kp = from_local(stats.denormalize(z), np.ones(z.shape[:2], np.float32),
                    root=np.array([256.0, 256.0]), scale=100.0)
    return float(ba(kp, np.asarray(onset_frames) / fps, fps=fps).ba)


def motion_metrics(model, clips: list[ClipArrays], stats: NormStats, *, fps: float,
                   seed: int = 0, max_clips: int = 4, **sampling) -> dict[str, float]:
    """Wrist speed and audio-following metrics of samples on up to ``max_clips`` val clips."""
    clips = clips[:max_clips]
    rows = {"wrist_speed": [], "wrist_speed_gt": [], "onset_corr": [], "onset_corr_shuffled": [],
            "onset_corr_gt": [], "ba": [], "ba_shuffled": []}
    for i, clip in enumerate(clips):
        other = clips[(i + 1) % len(clips)].audio if len(clips) > 1 else clip.audio[::-1]
        shuffled = np.resize(other, clip.audio.shape) if len(other) != len(clip.audio) else other
        z_own = sample_clip(model, clip, clip.audio, seed=seed, **sampling)
        z_ctrl = sample_clip(model, clip, shuffled, seed=seed, **sampling)
        own = wrist_speed(stats.denormalize(z_own), fps=fps)
        ctrl = wrist_speed(stats.denormalize(z_ctrl), fps=fps)
        if clip.onset_frames is not None:
            rows["ba"].append(beat_alignment(z_own, stats, clip.onset_frames, fps=fps))
            rows["ba_shuffled"].append(beat_alignment(z_ctrl, stats, clip.onset_frames, fps=fps))
        gt = wrist_speed(stats.denormalize(clip.motion), clip.visible, fps=fps)
        rows["wrist_speed"].append(np.nanmean(own))
        rows["wrist_speed_gt"].append(np.nanmean(gt))
        rows["onset_corr"].append(onset_correlation(own, clip.onset))
        rows["onset_corr_shuffled"].append(onset_correlation(ctrl, clip.onset))
        rows["onset_corr_gt"].append(onset_correlation(gt, clip.onset))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return {k: float(np.nanmean(v)) if v else float("nan") for k, v in rows.items()}
