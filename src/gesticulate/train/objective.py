"""The MotionDiT training objective: conditioning dropouts, masks, region weights, loss.

Every idea is a field of :class:`ObjectiveConfig`, so an ablation can switch it off:
CFG condition dropout (CSG: 10%), previous frames and hands given as known (EMO2/CSG
continuity, EMO2 hands first), confidence masks (CSG: points at or below 0.7 out of the loss;
EMO2 hand masks), region weights for face, lips and hands (MMGT; EMO2's hands as end effector)
and a velocity term on the predicted clean motion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from gesticulate.models.motion_dit import MotionDiT, local_regions


@dataclass
class ObjectiveConfig:
    """Knobs of the loss and of the training-time conditioning."""

    cond_dropout: float = 0.1        # P(audio → learned null), for CFG (CSG, MMGT)
    style_dropout: float = 0.1       # P(style id → 0, unknown)
    style_vector_dropout: float = 0.5  # P(no style vector), so sampling works without one
    speed_dropout: float = 0.1       # P(speed not given)
    prev_known_prob: float = 0.9     # P(the first prev_frames frames are given as known)
    hand_known_prob: float = 0.2     # P(hands given as known): trains the body-follows pass
    use_confidence_mask: bool = True  # mask unseen points out of the loss (CSG 0.7, EMO2)
    region_weights: dict = field(default_factory=lambda: {
        "body": 1.0, "face": 1.0, "lips": 2.0, "hands": 2.0})  # MMGT face 1 / lips 2; EMO2 hands
    velocity_weight: float = 10.0    # frame-to-frame velocity loss on x0 (1 left real mocap jittery)
    phone_dropout: float = 0.1       # P(phone channels zeroed): samples without recognised phones
    mask_weight: float = 0.1         # weight of the motion-mask head's loss (config.mask_head)


def joint_weights(region_weights: dict[str, float], num_joints: int) -> torch.Tensor:
    """Per-joint loss weights ``(J,)``; later regions in the dict override earlier ones."""
    w = torch.ones(num_joints)
    regions = local_regions()
    for name, value in region_weights.items():
        if name not in regions:
            from gesticulate.errors import OptionError
            raise OptionError(f"unknown region {name!r} in region_weights; use "
                              f"{', '.join(regions)}")
        w[torch.as_tensor(regions[name])] = float(value)
    return w


def prepare_batch(batch: dict[str, torch.Tensor], rng: np.random.Generator,
                  cfg: ObjectiveConfig, *, prev_frames: int,
                  phone_columns: slice | None = None) -> dict[str, torch.Tensor]:
    """Draw the per-sample conditioning choices (dropouts, known frames and hands).

    Adds ``known_mask`` (B, W, J), ``drop_audio`` (B,) and NaN-blanks dropped style vectors
    and speeds; zeroes the ``phone_columns`` of the audio of the windows whose phones are
    dropped (the model then also works where no phones were recognised). All randomness comes from ``rng`` so a batch split over DDP ranks after this
    call gives the same loss as the whole batch.
    """
    b, w, j = batch["visible"].shape
    coin = lambda p: torch.from_numpy(rng.random(b) < p)  # noqa: E731
    out = dict(batch)
    known = torch.zeros(b, w, j)
    # Between prev_frames / 2 and prev_frames leading frames are known: the sampler gives
    # fewer than prev_frames when it cross-fades the rest of the overlap.
    n_prev = torch.from_numpy(rng.integers((prev_frames + 1) // 2, prev_frames + 1, b))
    rows = coin(cfg.prev_known_prob)
    known[rows[:, None] & (torch.arange(w)[None] < n_prev[:, None])] = 1.0
    hands = torch.zeros(j)
    hands[torch.as_tensor(local_regions()["hands"])] = 1.0
    known = torch.maximum(known, coin(cfg.hand_known_prob).float()[:, None, None] * hands)
    out["known_mask"] = known * batch["visible"]  # only seen points can be given
    out["drop_audio"] = coin(cfg.cond_dropout)
    out["style_id"] = torch.where(coin(cfg.style_dropout), 0, batch["style_id"])
    sv = batch["style_vec"].clone()
    sv[coin(cfg.style_vector_dropout)] = float("nan")
    out["style_vec"] = sv
    out["speed"] = torch.where(coin(cfg.speed_dropout), float("nan"), batch["speed"])
    if phone_columns is not None:
        drop = coin(cfg.phone_dropout)
        audio = batch["audio"].clone()
        audio[drop, :, phone_columns] = 0.0
        out["audio"] = audio
    return out


def predicted_x0(model: MotionDiT, pred, x_t, t, scheduler) -> torch.Tensor:
    """The clean-motion estimate implied by a prediction of the model's ``prediction_type``."""
    kind = model.config.prediction_type
    if kind == "sample":
        return pred
    a = scheduler.alphas_cumprod.to(x_t.device)[t].view(-1, 1, 1, 1)
    if kind == "epsilon":
        return (x_t - (1 - a).sqrt() * pred) / a.sqrt()
    return a.sqrt() * x_t - (1 - a).sqrt() * pred  # v_prediction


def diffusion_loss(model, batch: dict[str, torch.Tensor], scheduler, cfg: ObjectiveConfig, *,
                   noise: torch.Tensor, timesteps: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Mean over samples of each sample's weighted, masked error (so DDP shards average exactly).

    ``model`` may be wrapped (DDP); ``batch`` comes from :func:`prepare_batch` on the model's
    device; ``noise`` (B, W, J, 2), ``timesteps`` (B,), ``weights`` (J,) per-joint weights.
    """
    core = model.module if hasattr(model, "module") else model
    x0 = batch["motion"]                                                   # (B, W, J, 2)
    x_t = scheduler.add_noise(x0, noise, timesteps)                         # (B, W, J, 2)
    known = batch["known_mask"]
    heads = core.config.mask_head
    pred = model(x_t, timesteps, audio=batch["audio"], known=x0, known_mask=known,
                 visible=batch["visible"], reference=batch["reference"],
                 reference_mask=batch["reference_mask"], style_id=batch["style_id"],
                 style_vec=batch["style_vec"], speed=batch["speed"], drop_audio=batch["drop_audio"],
                 masks_of=x0 if heads else None)
    if heads:
        pred, logits = pred
    kind = core.config.prediction_type
    target = {"sample": x0, "epsilon": noise}.get(kind)
    if target is None:
        target = scheduler.get_velocity(x0, noise, timesteps)
    w = weights.to(x0.device)[None, None] * (1.0 - known)                    # (B, W, J)
    if cfg.use_confidence_mask:
        w = w * batch["visible"]
    err = ((pred.float() - target) ** 2).sum(-1)                            # (B, W, J)
    loss = (err * w).sum((1, 2)) / w.sum((1, 2)).clamp(min=1.0)             # (B,)
    if cfg.velocity_weight > 0:
        # Known values are what the sampler keeps, so the step from the last known frame to
        # the first new one is in this term: it is what makes windows join without a seam.
        x0_hat = predicted_x0(core, pred.float(), x_t, timesteps, scheduler)
        x0_hat = torch.where(known[..., None] > 0, x0, x0_hat)
        dv = ((x0_hat.diff(dim=1) - x0.diff(dim=1)) ** 2).sum(-1)          # (B, W-1, J)
        wv = weights.to(x0.device)[None, None] * (1.0 - known[:, 1:] * known[:, :-1])
        if cfg.use_confidence_mask:
            wv = wv * batch["visible"][:, 1:] * batch["visible"][:, :-1]
        loss = loss + cfg.velocity_weight * (dv * wv).sum((1, 2)) / wv.sum((1, 2)).clamp(min=1.0)
    if heads:
        # The targets: each region's measured activity (skeleton.activity), where it was seen.
        act, seen = batch["activity"], batch["activity_seen"]                 # (B, W, 3) x2
        bce = F.binary_cross_entropy_with_logits(logits.float(), act, reduction="none")
        loss = loss + cfg.mask_weight * (bce * seen).sum((1, 2)) / seen.sum((1, 2)).clamp(min=1.0)
    return loss.mean()
