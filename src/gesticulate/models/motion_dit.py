"""MotionDiT: a diffusion transformer from speech features to the whole-body skeleton (stage 1).

One window of ``W`` frames of the normalised local skeleton (``(W, 121, 2)``, z-scored; see
:mod:`gesticulate.skeleton.normalize`) is one sequence of ``W / patch_frames`` tokens (DiT's
patchify, along time). The ideas of the three papers, each switchable in
:class:`MotionDiTConfig` so an ablation can measure it:

* audio by cross-attention in every block (EMO2 Fig. 2) and by per-frame fusion into the
  motion tokens (CSG: audio features concatenated with the skeleton embedding);
* the reference photo's skeleton as prefix tokens, one per region (CSG ``initial_kp``);
* style id, style vector from a reference clip and speed, added to the timestep embedding
  (EMO2 §3: "style and speed embeddings are added on timestep");
* known frames and points as extra input channels: the previous window's last frames
  (EMO2/CSG continuity, so long audio is generated window after window) and, for the
  hands-then-body sampler, the hands (EMO2's end effector: hands first, the body follows);
* the visibility mask as an input channel (EMO2: hand masks added on the noisy latent);
* classifier-free guidance on audio through a learned null audio embedding;
* a per-frame output head: tokens are unpatchified to frame features and a temporal
  convolution runs across token borders before the per-frame output layer. DiT's linear
  unpatchify predicts each token's frames on their own, and on real motion capture that
  showed as jumps at every token border (a tiny model trained on a BEAT2 take: joint speed
  2.7x higher across token borders than within tokens, wrist acceleration 15-40x the data's;
  with this head 3-8x, and 2-5x with the velocity loss at weight 10);
  ``frame_head_kernel=0`` restores the linear unpatchify.

The network only predicts (x0, epsilon or v, per ``prediction_type``); schedulers come from
``diffusers.schedulers`` and the sampling loop lives in :mod:`gesticulate.motion.diffusion`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gesticulate.config import checked
from gesticulate.errors import OptionError
from gesticulate.models.folders import Pretrained
from gesticulate.skeleton.activity import ACTIVITY_REGIONS
from gesticulate.skeleton.layout import REGIONS
from gesticulate.skeleton.normalize import LOCAL_ROW, PART_ANCHOR

log = logging.getLogger(__name__)


def local_regions() -> dict[str, np.ndarray]:
    """Region index sets (MMGT masks, EMO2 hands) in the 121-point local index space."""
    return {name: LOCAL_ROW[idx][LOCAL_ROW[idx] >= 0] for name, idx in REGIONS.items()}


# Prefix-token regions of the reference skeleton (CSG); together they cover all 121 points.
REFERENCE_REGIONS = ("body", "face", "left_hand", "right_hand")
STYLE_VECTOR_DIM = 20  # see style_vector(): mean and std of 5 joints' (x, y)


@dataclass
class MotionDiTConfig:
    """Architecture and conditioning switches of :class:`MotionDiT` (saved as config.json)."""

    num_joints: int = 121            # local upper-body points (skeleton.normalize, 121)
    audio_dim: int = 84              # per-frame audio inputs: AudioFeatures.stack() (n_mels + 4),
                                     # then the phone channels when ``phones``, then the
                                     # encoder's ``encoder_dim`` features
    phones: bool = False             # viseme channels of recognised phones appended to the audio
                                     # (audio.phones.viseme_channels); off in checkpoints before them
    encoder_dim: int = 0             # width of a pretrained speech encoder's features appended
                                     # last (audio.encoder; 0: none)
    mask_head: bool = False          # MMGT: also predict face/lips/hands motion activity per
                                     # frame with the motion (the diffusion renderer's masks)
    fps: float = 25.0                # frame rate the model is trained at
    width: int = 256                 # transformer width D
    depth: int = 6                   # DiT blocks
    num_heads: int = 4               # attention heads
    mlp_ratio: float = 4.0           # MLP hidden size / D
    window: int = 200                # frames per model call (8 s; CSG: 250), previous included
    prev_frames: int = 8             # leading frames given as known (EMO2/CSG continuity)
    patch_frames: int = 4            # frames per token (DiT patchify along time)
    frame_head_kernel: int = 5       # temporal conv of the per-frame output head (0: linear)
    audio_layers: int = 2            # residual 1-D conv layers of the audio encoder
    audio_cross_attention: bool = True  # EMO2: audio by cross-attention in every block
    audio_fusion: bool = True        # CSG: audio fused into each motion token
    reference_tokens: bool = True    # CSG: the reference skeleton as prefix tokens
    num_styles: int = 16             # learned style ids (id 0 = unknown / no style)
    style_vector: bool = True        # style vector from a reference clip, added to t-emb
    speed_embedding: bool = True     # EMO2: mean wrist speed embedding, added to t-emb
    mask_input: bool = True          # EMO2: visibility mask as an input channel
    known_input: bool = True         # known frames / points as input channels (prev, hands)
    num_train_timesteps: int = 1000  # DDPM steps in training
    beta_schedule: str = "squaredcos_cap_v2"  # diffusers beta schedule (cosine, as MMGT)
    prediction_type: str = "sample"  # "sample" (x0, MMGT), "epsilon" or "v_prediction"

    @property
    def phone_columns(self) -> slice | None:
        """Where the phone channels sit in the audio input (after the features, before the
        encoder's); None without phones."""
        if not self.phones:
            return None
        from gesticulate.audio.phones import NUM_PHONE_CHANNELS
        end = self.audio_dim - self.encoder_dim
        return slice(end - NUM_PHONE_CHANNELS, end)

    def __post_init__(self) -> None:
        if self.window % self.patch_frames:
            raise OptionError(f"window {self.window} must be a multiple of patch_frames "
                              f"{self.patch_frames}")
        if not 0 <= self.prev_frames < self.window:
            raise OptionError(f"prev_frames {self.prev_frames} must be in [0, window)")
        if self.width % self.num_heads:
            raise OptionError(f"width {self.width} must be divisible by num_heads {self.num_heads}")
        if self.frame_head_kernel < 0 or (self.frame_head_kernel and self.frame_head_kernel % 2 == 0):
            raise OptionError(f"frame_head_kernel {self.frame_head_kernel}: use 0 (off) or an "
                              "odd kernel size such as 5")
        if self.prediction_type not in ("sample", "epsilon", "v_prediction"):
            raise OptionError(f"prediction_type {self.prediction_type!r}: use sample, epsilon "
                              "or v_prediction")

    @classmethod
    def from_dict(cls, d: dict) -> "MotionDiTConfig":
        """Build from a dict, rejecting keys this version does not know (STYLE.md rule 4)."""
        return cls(**checked(cls, d, what="MotionDiT config keys"))


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """adaLN modulation (DiT): x (B, N, D), shift/scale (B, D)."""
    return x * (1 + scale[:, None]) + shift[:, None]


def scalar_embedding(x: torch.Tensor, dim: int, *, max_period: float = 100.0) -> torch.Tensor:
    """Sinusoidal features of a real scalar per sample: (B,) → (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=x.device) / half)
    args = x[:, None].float() * freqs[None] * 10.0
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal timestep features as in DDPM/DiT: (B,) → (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / half)
    args = t[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class Attention(nn.Module):
    """Multi-head attention; self-attention when ``context`` is None."""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def keys_values(self, context: torch.Tensor) -> torch.Tensor:
        """Keys and values of ``context`` (B, M, D) → (2, B, H, M, d); cacheable."""
        b, m, d = context.shape
        h = self.num_heads
        return self.kv(context).view(b, m, 2, h, d // h).permute(2, 0, 3, 1, 4)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None,
                kv: torch.Tensor | None = None) -> torch.Tensor:
        b, n, d = x.shape
        h = self.num_heads
        q = self.q(x).view(b, n, h, d // h).transpose(1, 2)                 # (B, H, N, d)
        k, v = self.keys_values(x if context is None else context) if kv is None else kv
        y = F.scaled_dot_product_attention(q, k, v)                          # (B, H, N, d)
        return self.out(y.transpose(1, 2).reshape(b, n, d))                  # (B, N, D)


class MaskHead(nn.Module):
    """MMGT's motion masks as per-frame logits of face, lips and hands activity
    (:data:`ACTIVITY_REGIONS`) of a motion window: SMGA draws its masks from the poses it
    generates, so this head reads a motion, not the audio. It sees only the frame-to-frame
    steps of the points (where both frames are seen), also relative to their part's anchor
    (the hand's wrist, the nose tip: a lip's own movement, not the head's carrying it), never
    where the points are, so what it learns is how a region's movement reads as activity, not
    which training clip it is in."""

    def __init__(self, num_joints: int, width: int):
        super().__init__()
        self.register_buffer("anchor", torch.as_tensor(np.where(PART_ANCHOR >= 0, PART_ANCHOR,
                                                                np.arange(len(PART_ANCHOR)))),
                             persistent=False)
        self.inp = nn.Linear(5 * num_joints, width)
        self.convs = nn.ModuleList(nn.Conv1d(width, width, 5, padding=2) for _ in range(2))
        self.out = nn.Linear(width, len(ACTIVITY_REGIONS))

    def forward(self, motion: torch.Tensor, visible: torch.Tensor | None) -> torch.Tensor:
        """``motion`` (B, W, J, 2) normalised, ``visible`` (B, W, J) or None → (B, W, 3)."""
        vis = torch.ones_like(motion[..., 0]) if visible is None else visible
        both = vis[:, 1:] * vis[:, :-1]                                        # (B, W-1, J)
        step = motion.diff(dim=1) * both[..., None]                            # (B, W-1, J, 2)
        step = torch.cat([step[:, :1], step], 1)                               # frame 0 = frame 1
        both = torch.cat([both[:, :1], both], 1)
        own = step - step[:, :, self.anchor]                                   # 0 for the anchors
        h = F.silu(self.inp(torch.cat([step.flatten(2), own.flatten(2), both], -1)))  # (B, W, H)
        for conv in self.convs:
            h = h + F.gelu(conv(h.transpose(1, 2)).transpose(1, 2))
        return self.out(h)                                                     # (B, W, 3)


class DiTBlock(nn.Module):
    """Self-attention, audio cross-attention (EMO2) and MLP, each gated by adaLN-Zero (DiT)."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, cross: bool):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.cross = cross
        if cross:
            self.norm2 = nn.LayerNorm(dim, eps=1e-6)
            self.cross_attn = Attention(dim, num_heads)
        self.norm3 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"),
                                 nn.Linear(hidden, dim))
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(dim, 7 * dim))

    def forward(self, x: torch.Tensor, c: torch.Tensor, audio_kv: torch.Tensor | None) -> torch.Tensor:
        sh1, sc1, g1, g2, sh3, sc3, g3 = self.ada(c).chunk(7, dim=-1)          # 7 x (B, D)
        x = x + g1[:, None] * self.attn(modulate(self.norm1(x), sh1, sc1))    # (B, N, D)
        if self.cross and audio_kv is not None:
            x = x + g2[:, None] * self.cross_attn(self.norm2(x), kv=audio_kv)  # (B, N, D)
        return x + g3[:, None] * self.mlp(modulate(self.norm3(x), sh3, sc3))  # (B, N, D)


class MotionDiT(Pretrained, nn.Module):
    """Denoiser of a window of normalised local skeleton frames; see the module docstring."""

    config_class = MotionDiTConfig
    checkpoint_kind = "MotionDiT"
    train_command = "gesticulate train"

    @classmethod
    def upgrade(cls, config: dict, weights: dict[str, torch.Tensor]) -> tuple[dict, dict]:
        """The first mask head (one release) guessed activity from the audio alone and did not
        generalise; a checkpoint with it loads without a head, and the renderer measures its
        masks on the sampled motion instead."""
        if config.get("mask_head") and "mask_head.0.weight" in weights:
            log.warning("this MotionDiT's mask head is of an earlier kind and is not used: the "
                        "motion masks are measured on each sample (retrain with --mask-head for "
                        "a head)")
            config = {**config, "mask_head": False}
            weights = {k: v for k, v in weights.items() if not k.startswith("mask_head.")}
        return config, weights

    def __init__(self, config: MotionDiTConfig):
        super().__init__()
        self.config = cfg = config
        d, p, j = cfg.width, cfg.patch_frames, cfg.num_joints
        self.num_tokens = cfg.window // p
        # Per frame: noisy x (2J) [+ known values 2J + known mask J] [+ visibility mask J].
        frame_in = 2 * j + (3 * j if cfg.known_input else 0) + (j if cfg.mask_input else 0)
        self.motion_in = nn.Linear(p * frame_in, d)
        self.pos = nn.Parameter(torch.zeros(1, self.num_tokens, d))
        # Audio encoder: per-frame projection and a few residual temporal convolutions.
        self.audio_in = nn.Linear(cfg.audio_dim, d)
        self.audio_convs = nn.ModuleList(nn.Conv1d(d, d, 5, padding=2) for _ in range(cfg.audio_layers))
        self.audio_pos = nn.Parameter(torch.zeros(1, cfg.window, d))
        self.audio_null = nn.Parameter(torch.zeros(1, 1, d))  # learned null condition (CFG)
        if cfg.audio_fusion:
            self.audio_fuse = nn.Linear(p * d, d)
        if cfg.reference_tokens:
            regions = local_regions()
            self.ref_index = {r: torch.as_tensor(regions[r]) for r in REFERENCE_REGIONS}
            self.ref_in = nn.ModuleList(nn.Linear(3 * len(regions[r]), d) for r in REFERENCE_REGIONS)
            self.ref_type = nn.Parameter(torch.zeros(1, len(REFERENCE_REGIONS), d))
        self.t_embed = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        self.style_embed = nn.Embedding(cfg.num_styles, d)
        if cfg.style_vector:
            self.style_proj = nn.Linear(STYLE_VECTOR_DIM, d)
            self.style_null = nn.Parameter(torch.zeros(1, d))
        if cfg.speed_embedding:
            self.speed_embed = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
            self.speed_null = nn.Parameter(torch.zeros(1, d))
        self.blocks = nn.ModuleList(DiTBlock(d, cfg.num_heads, cfg.mlp_ratio, cfg.audio_cross_attention)
                                    for _ in range(cfg.depth))
        if cfg.mask_head:
            self.mask_head = MaskHead(j, max(32, d // 4))
        self.final_norm = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.final_ada = nn.Sequential(nn.SiLU(), nn.Linear(d, 2 * d))
        if cfg.frame_head_kernel:
            hf = max(64, d // 2)                                             # frame feature width
            self.final = nn.Linear(d, p * hf)
            self.frame_conv = nn.Conv1d(hf, hf, cfg.frame_head_kernel,
                                        padding=cfg.frame_head_kernel // 2)
            self.frame_out = nn.Linear(hf, 2 * j)
        else:
            self.final = nn.Linear(d, p * 2 * j)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.pos, std=0.02)
        nn.init.normal_(self.audio_pos, std=0.02)
        nn.init.normal_(self.style_embed.weight, std=0.02)
        # adaLN-Zero (DiT): every residual branch and the output start at zero.
        for blk in self.blocks:
            nn.init.zeros_(blk.ada[-1].weight)
            nn.init.zeros_(blk.ada[-1].bias)
        last = self.frame_out if self.config.frame_head_kernel else self.final
        for m in (self.final_ada[-1], last):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def encode_audio(self, audio: torch.Tensor, drop: torch.Tensor | None) -> torch.Tensor:
        """Audio features (B, W, A) → per-frame embeddings (B, W, D); ``drop`` (B,) → null."""
        a = self.audio_in(audio)                                             # (B, W, D)
        for conv in self.audio_convs:
            a = a + F.gelu(conv(a.transpose(1, 2)).transpose(1, 2))          # (B, W, D)
        a = a + self.audio_pos
        if drop is not None:
            a = torch.where(drop[:, None, None], self.audio_null.to(a.dtype).expand_as(a), a)
        return a

    def audio_keys_values(self, audio_emb: torch.Tensor) -> list[torch.Tensor | None]:
        """Per-block cross-attention keys/values of the audio (B, W, D); a sampler computes
        them once per window since they depend on neither x nor t."""
        if not self.config.audio_cross_attention:
            return [None] * len(self.blocks)
        return [blk.cross_attn.keys_values(audio_emb) for blk in self.blocks]

    def condition(self, t: torch.Tensor, style_id: torch.Tensor | None,
                  style_vec: torch.Tensor | None, speed: torch.Tensor | None) -> torch.Tensor:
        """Timestep + style + speed embedding (B, D), as EMO2 adds them on the timestep."""
        cfg, b = self.config, t.shape[0]
        c = self.t_embed(timestep_embedding(t, cfg.width))                   # (B, D)
        if style_id is None:
            style_id = torch.zeros(b, dtype=torch.long, device=t.device)
        c = c + self.style_embed(style_id.clamp(0, cfg.num_styles - 1))
        if cfg.style_vector:  # rows of NaN mean "no reference clip"
            sv = torch.full((b, STYLE_VECTOR_DIM), float("nan"), device=t.device) if style_vec is None else style_vec
            ok = torch.isfinite(sv).all(-1, keepdim=True)
            c = c + torch.where(ok, self.style_proj(torch.nan_to_num(sv)), self.style_null)
        if cfg.speed_embedding:  # NaN means "speed not given"
            sp = torch.full((b,), float("nan"), device=t.device) if speed is None else speed
            ok = torch.isfinite(sp)[:, None]
            emb = self.speed_embed(scalar_embedding(torch.log1p(torch.nan_to_num(sp).clamp(min=0)), cfg.width))
            c = c + torch.where(ok, emb, self.speed_null)
        return c

    def reference(self, ref: torch.Tensor, ref_mask: torch.Tensor) -> torch.Tensor:
        """Reference skeleton (B, J, 2) and mask (B, J) → prefix tokens (B, 4, D) (CSG)."""
        toks = []
        for lin, r in zip(self.ref_in, REFERENCE_REGIONS):
            idx = self.ref_index[r].to(ref.device)
            v = torch.cat([ref[:, idx] * ref_mask[:, idx, None], ref_mask[:, idx, None]], -1)
            toks.append(lin(v.flatten(1)))                                    # (B, D)
        return torch.stack(toks, 1) + self.ref_type                           # (B, 4, D)

    def forward(self, x: torch.Tensor, t: torch.Tensor, *, audio: torch.Tensor | None = None,
                audio_emb: torch.Tensor | None = None,
                audio_kv: list[torch.Tensor | None] | None = None, known: torch.Tensor | None = None, known_mask: torch.Tensor | None = None,
                visible: torch.Tensor | None = None, reference: torch.Tensor | None = None,
                reference_mask: torch.Tensor | None = None, style_id: torch.Tensor | None = None,
                style_vec: torch.Tensor | None = None, speed: torch.Tensor | None = None,
                drop_audio: torch.Tensor | None = None, masks_of: torch.Tensor | None = None):
        """Predict x0 / epsilon / v for a window (and, given ``masks_of``, a clean motion
        (B, W, J, 2) seen where ``visible`` says, the mask head's :meth:`region_logits` of it
        too, inside one call so that DDP sees every gradient; needs ``config.mask_head``).

        Parameters
        ----------
        x : (B, W, J, 2) noisy normalised local skeleton.
        t : (B,) integer diffusion timesteps.
        audio : (B, W, A) per-frame audio features, or
        audio_emb : (B, W, D) their embedding from :meth:`encode_audio` (it does not depend on
            x or t, so a sampler computes it once per window, not once per step), and
        audio_kv : its per-block keys/values from :meth:`audio_keys_values` (same reason).
        known, known_mask : (B, W, J, 2), (B, W, J) values given as known (previous frames,
            hands) and where; None = nothing known.
        visible : (B, W, J) visibility mask (1 = seen); None = all visible.
        reference, reference_mask : (B, J, 2), (B, J) the photo's skeleton and its validity.
        style_id : (B,) long, 0 = unknown. style_vec : (B, 20), NaN rows = none.
        speed : (B,) mean wrist speed in shoulder widths per second, NaN = not given.
        drop_audio : (B,) bool, True = use the learned null audio (CFG).

        Returns
        -------
        (B, W, J, 2) prediction of the configured ``prediction_type``; with ``masks_of`` a
        pair (that, (B, W, 3) region logits).
        """
        cfg = self.config
        b, w, j, _ = x.shape
        n = w // cfg.patch_frames
        parts = [x.flatten(2)]                                                 # (B, W, 2J)
        if cfg.known_input:
            if known is None:
                known, known_mask = torch.zeros_like(x), x.new_zeros(b, w, j)
            parts += [(known * known_mask[..., None]).flatten(2), known_mask]  # (B, W, 3J)
        if cfg.mask_input:
            parts.append(x.new_ones(b, w, j) if visible is None else visible)  # (B, W, J)
        frames = torch.cat(parts, -1)                                          # (B, W, F)
        h = self.motion_in(frames.reshape(b, n, -1)) + self.pos                # (B, N, D)
        a = self.encode_audio(audio, drop_audio) if audio_emb is None else audio_emb  # (B, W, D)
        if cfg.audio_fusion:
            h = h + self.audio_fuse(a.reshape(b, n, -1))                       # (B, N, D)
        if cfg.reference_tokens and reference is not None:
            rm = reference.new_ones(b, j) if reference_mask is None else reference_mask
            h = torch.cat([self.reference(reference, rm), h], 1)               # (B, 4 + N, D)
        c = self.condition(t, style_id, style_vec, speed)                      # (B, D)
        kvs = self.audio_keys_values(a) if audio_kv is None else audio_kv
        for blk, kv in zip(self.blocks, kvs):
            h = blk(h, c, kv)                                                  # (B, *, D)
        h = h[:, -n:]                                                          # (B, N, D)
        shift, scale = self.final_ada(c).chunk(2, dim=-1)
        out = self.final(modulate(self.final_norm(h), shift, scale))           # (B, N, p*F)
        if cfg.frame_head_kernel:
            f = out.reshape(b, w, -1)                                          # (B, W, F)
            f = f + F.gelu(self.frame_conv(f.transpose(1, 2)).transpose(1, 2))
            out = self.frame_out(f)                                            # (B, W, 2J)
        out = out.reshape(b, w, j, 2)                                          # (B, W, J, 2)
        return out if masks_of is None else (out, self.region_logits(masks_of, visible))

    def region_logits(self, motion: torch.Tensor, visible: torch.Tensor | None = None) -> torch.Tensor:
        """Per-frame logits ``(B, W, 3)`` of face, lips and hands activity of a normalised
        motion ``(B, W, J, 2)`` (:class:`MaskHead`); needs ``config.mask_head``."""
        return self.mask_head(motion, visible)


# ---- size presets (DiT-style named factories); keyword overrides change any config field

def MotionDiT_tiny(**overrides) -> MotionDiT:
    """Tests and CPU experiments: D=128, 3 blocks."""
    return MotionDiT(MotionDiTConfig.from_dict({"width": 128, "depth": 3, "num_heads": 4, **overrides}))


def MotionDiT_S(**overrides) -> MotionDiT:
    """The default: D=256, 4 blocks (≥ 30x faster than real time on this CPU, 10 steps + CFG)."""
    return MotionDiT(MotionDiTConfig.from_dict({"width": 256, "depth": 4, "num_heads": 4, **overrides}))


def MotionDiT_B(**overrides) -> MotionDiT:
    """GPU training at scale: D=512, 12 blocks."""
    return MotionDiT(MotionDiTConfig.from_dict({"width": 512, "depth": 12, "num_heads": 8, **overrides}))


PRESETS = {"tiny": MotionDiT_tiny, "S": MotionDiT_S, "B": MotionDiT_B}


def style_vector(local_z: np.ndarray, visible: np.ndarray | None = None) -> np.ndarray:
    """A reference clip's style: mean and std of nose, elbows and wrists, ``(20,)`` float32.

    ``local_z`` is ``(T, 121, 2)`` normalised local coordinates; ``visible`` ``(T, 121)``
    bool selects the frames counted per point (all when None).
    """
    idx = LOCAL_ROW[[0, 7, 8, 9, 10]]
    x = local_z[:, idx]                                                      # (T, 5, 2)
    w = np.ones(x.shape[:2], bool) if visible is None else visible[:, idx]
    w = w[..., None].astype(np.float64)
    n = np.maximum(w.sum(0), 1.0)
    mean = (x * w).sum(0) / n
    std = np.sqrt((((x - mean) ** 2) * w).sum(0) / n)
    return np.concatenate([mean.ravel(), std.ravel()]).astype(np.float32)
