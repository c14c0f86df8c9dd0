"""RendererUNet: the pose-guided video denoiser of the ``diffusion`` renderer (stage 2).

A ``diffusers`` :class:`~diffusers.UNet2DConditionModel` (its weights keep diffusers' names, so
a Stable Diffusion 1.5 ``unet/`` folder initialises it by name and shape) walked block by block
by :meth:`RendererUNet.forward`, with the ideas of the papers added around it:

* reference branch (AnimateAnyone's ReferenceNet, EMO2's parallel reference network): the
  same UNet runs once over the reference image at t = 0 and its ``attn1`` inputs are attended
  to by every frame (:mod:`gesticulate.models.renderer_attention`); shared weights, so the
  branch costs no parameters and is computed once per chunk, not per denoising step;
* pose encoder (AnimateAnyone's pose guider): a small conv net over the DWPose pose maps,
  added to the features after ``conv_in`` (zero-initialised, so it starts as a no-op);
* temporal attention (AnimateDiff motion modules, ``diffusers`` TransformerTemporalModel)
  after every spatial transformer, over the chunk's frames with the previous chunk's last
  frames (EMO2 motion frames, taken from the reference pass) prepended as context;
* audio attention restricted to face, lips and hands masks (MMGT MM-HAA), in ``attn2``;
* hand confidence embeddings (EMO2): the mean keypoint confidence of each hand, Fourier
  features → diffusers' projection class embedding, added to the per-frame timestep embedding;
* the reference also concatenated to every frame's input channels (SVD-based MimicMotion /
  StableAnimator, the CSG seeds' stage 2): aligned copying of the static background and of
  unmoved parts is then a convolution, which a small model learns in minutes;
* classifier-free guidance: the reference and the audio can be dropped per sample.

Tensors: a sample is a chunk of T frames ``(B, T, C, h, w)`` in model space (pixels in -1..1,
or VAE latents); frames are folded into the batch for the 2-D layers (``(B*T, C, h, w)``).
The network only predicts; schedulers come from ``diffusers.schedulers``
(:mod:`gesticulate.render.diffusion` holds the sampling loop).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from gesticulate.config import checked
from gesticulate.errors import OptionError
from gesticulate.models.folders import Pretrained
from gesticulate.models.renderer_attention import AttentionContext, install_processors

HAND_FEATURES = 18  # 2 hands x (c, sin/cos of 4 frequencies)


@dataclass
class RendererConfig:
    """Architecture and conditioning of :class:`RendererUNet` (saved as config.json)."""

    # What a config.json written before a field existed meant (Pretrained.from_pretrained).
    LEGACY: ClassVar[dict] = {"mask_shape": "box"}   # renderers trained on keypoint boxes

    image_size: int = 64               # square frame side in pixels (the renderer letterboxes)
    space: str = "pixel"               # "pixel" (-1..1 RGB) or "latent" (VAE in the checkpoint's vae/)
    latent_channels: int = 4           # VAE latent channels (latent space only)
    latent_factor: int = 8             # VAE down-sampling factor (latent space only)
    block_channels: tuple = (32, 64, 128)  # UNet width per level
    attention_levels: tuple = (False, True, True)  # levels with reference/audio/temporal attention
    layers_per_block: int = 1          # resnets (+ transformers) per level
    num_heads: int = 4                 # attention heads (spatial and temporal)
    norm_groups: int = 8               # GroupNorm groups
    temporal: bool = True              # temporal attention after every spatial transformer
    num_frames: int = 8                # frames per training chunk T
    motion_frames: int = 2             # previous frames given as context O (EMO2 motion frames)
    max_frames: int = 64               # longest motion + chunk window the temporal positions cover
    audio_dim: int = 84                # per-frame audio features, AudioFeatures.stack()
    audio_context: int = 2             # audio frames on each side of a frame (2r+1 tokens)
    audio_token_dim: int = 64          # attn2 key width (768 loads SD1.5's attn2 weights)
    regions: tuple = ("face", "lips", "hands")  # MMGT audio masks (keys of render.conditions)
    mask_margin: float = 0.25          # region masks grown by this fraction of their size
    mask_shape: str = "motion"         # "motion": hulls weighted by activity; "box": keypoint boxes
    mask_sweep: int = 2                # motion masks cover the frames this far either side
    hand_confidence: bool = True       # EMO2 hand confidence embeddings
    reference_concat: bool = True      # SVD/MimicMotion: reference concatenated to each frame's input
    fps: float = 25.0                  # frame rate of the training clips
    num_train_timesteps: int = 1000    # DDPM steps in training
    beta_schedule: str = "scaled_linear"  # diffusers beta schedule (SD1.5's)
    prediction_type: str = "epsilon"   # "epsilon" (SD1.5), "v_prediction" or "sample"

    def __post_init__(self) -> None:
        self.block_channels = tuple(int(c) for c in self.block_channels)
        self.attention_levels = tuple(bool(a) for a in self.attention_levels)
        self.regions = tuple(self.regions)
        if self.mask_shape not in ("motion", "box"):
            raise OptionError(f"mask_shape={self.mask_shape!r}; use 'motion' or 'box'")
        if self.space not in ("pixel", "latent"):
            raise OptionError(f"space={self.space!r}; use 'pixel' or 'latent'")
        if len(self.attention_levels) != len(self.block_channels):
            raise OptionError("attention_levels needs one entry per block_channels level")
        if self.image_size % (self.factor * 2 ** (len(self.block_channels) - 1)):
            raise OptionError(f"image_size {self.image_size} must be divisible by "
                              f"{self.factor * 2 ** (len(self.block_channels) - 1)} for this UNet")
        if self.motion_frames + self.num_frames > self.max_frames:
            raise OptionError("motion_frames + num_frames must not exceed max_frames")

    @property
    def factor(self) -> int:
        """Pixels per model-space cell (1 in pixel space)."""
        return self.latent_factor if self.space == "latent" else 1

    @property
    def channels(self) -> int:
        """Channels C of the model space."""
        return self.latent_channels if self.space == "latent" else 3

    @classmethod
    def from_dict(cls, d: dict) -> "RendererConfig":
        return cls(**checked(cls, d, what="renderer config keys"))


def hand_features(conf: torch.Tensor) -> torch.Tensor:
    """Fourier features of hand confidences ``(..., 2)`` in 0..1 → ``(..., 18)``."""
    k = torch.arange(1, 5, device=conf.device, dtype=conf.dtype) * math.pi   # (4,)
    a = conf[..., None] * k                                                 # (..., 2, 4)
    return torch.cat([conf[..., None], a.sin(), a.cos()], -1).flatten(-2)   # (..., 18)


class PoseEncoder(nn.Module):
    """Pose maps ``(N, 3, H, W)`` in 0..1 → features ``(N, C0, H/f, W/f)`` (zero at init)."""

    def __init__(self, out_channels: int, factor: int, width: int = 16):
        super().__init__()
        layers, c = [nn.Conv2d(3, width, 3, padding=1), nn.SiLU()], width
        for _ in range(int(math.log2(factor))):
            layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), nn.SiLU()]
            c *= 2
        layers += [nn.Conv2d(c, c, 3, padding=1), nn.SiLU()]
        self.net = nn.Sequential(*layers)
        self.out = nn.Conv2d(c, out_channels, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, pose: torch.Tensor) -> torch.Tensor:
        return self.out(self.net(pose))


@dataclass
class ReferenceBank:
    """What the reference pass leaves for the denoising passes of one chunk (reused per step)."""

    tokens: dict           # attn1 name -> (B*(1+O), N, C); the first B rows are the reference
    motion: dict           # transformer name -> (B, O, C, H, W) motion-frame features
    batch: int             # B


class RendererUNet(Pretrained, nn.Module):
    """Pose-guided video denoiser; see the module docstring. Build with a preset factory."""

    config_class = RendererConfig
    checkpoint_kind = "renderer"
    train_command = "gesticulate train-renderer"

    def __init__(self, config: RendererConfig):
        super().__init__()
        from diffusers import UNet2DConditionModel
        from diffusers.models.transformers.transformer_temporal import TransformerTemporalModel

        self.config = c = config
        ch = c.block_channels
        down = tuple("CrossAttnDownBlock2D" if a else "DownBlock2D" for a in c.attention_levels)
        up = tuple("CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(c.attention_levels))
        self.unet = UNet2DConditionModel(
            sample_size=c.image_size // c.factor, out_channels=c.channels,
            in_channels=2 * c.channels if c.reference_concat else c.channels,
            down_block_types=down, up_block_types=up, block_out_channels=ch,
            layers_per_block=c.layers_per_block, norm_num_groups=c.norm_groups,
            cross_attention_dim=c.audio_token_dim, attention_head_dim=c.num_heads,
            class_embed_type="projection" if c.hand_confidence else None,
            projection_class_embeddings_input_dim=HAND_FEATURES if c.hand_confidence else None)
        self.ctx = AttentionContext()
        install_processors(self.unet, self.ctx, len(c.regions))
        self.pose_encoder = PoseEncoder(ch[0], c.factor)
        if c.hand_confidence:  # EMO2: starts as a no-op, learns what hand confidence means
            nn.init.zeros_(self.unet.class_embedding.linear_2.weight)
            nn.init.zeros_(self.unet.class_embedding.linear_2.bias)
        k = 2 * c.audio_context + 1
        d = c.audio_token_dim
        self.audio_proj = nn.Sequential(nn.Linear(c.audio_dim, d), nn.SiLU(), nn.Linear(d, d))
        self.audio_pos = nn.Parameter(torch.randn(k, d) * 0.02)
        self.null_audio = nn.Parameter(torch.zeros(k, d))   # CFG: the learned "no audio"
        self.temporal = nn.ModuleDict()
        if c.temporal:
            for name in self.transformer_names():
                width = self.unet.get_submodule(name).in_channels
                tm = TransformerTemporalModel(
                    num_attention_heads=c.num_heads, attention_head_dim=width // c.num_heads,
                    in_channels=width, norm_num_groups=c.norm_groups,
                    positional_embeddings="sinusoidal", num_positional_embeddings=c.max_frames)
                nn.init.zeros_(tm.proj_out.weight)  # AnimateDiff: motion modules start as identity
                nn.init.zeros_(tm.proj_out.bias)
                self.temporal[name.replace(".", "_")] = tm

    def transformer_names(self) -> list[str]:
        """Names of the UNet's spatial transformers, in the order a pass visits them."""
        u = self.unet
        names = [f"down_blocks.{i}.attentions.{j}" for i, b in enumerate(u.down_blocks)
                 for j in range(len(getattr(b, "attentions", [])))]
        names += [f"mid_block.attentions.{j}" for j in range(len(u.mid_block.attentions))]
        names += [f"up_blocks.{i}.attentions.{j}" for i, b in enumerate(u.up_blocks)
                  for j in range(len(getattr(b, "attentions", [])))]
        return names

    # ---- conditions -------------------------------------------------------------------------

    def embed(self, t: torch.Tensor, hand_conf: torch.Tensor | None) -> torch.Tensor:
        """Timestep ``(N,)`` (+ hand confidences ``(N, 2)``) → embedding ``(N, D_t)``."""
        u = self.unet
        emb = u.time_embedding(u.time_proj(t).to(self.unet.dtype))
        if self.config.hand_confidence and hand_conf is not None:
            emb = emb + u.class_embedding(hand_features(hand_conf).to(emb.dtype))
        return emb

    def audio_tokens(self, audio: torch.Tensor, drop: torch.Tensor | None) -> torch.Tensor:
        """Audio windows ``(B, T, K, A)`` → tokens ``(B*T, K, D)``; dropped samples get the null."""
        b, t = audio.shape[:2]
        tok = self.audio_proj(audio) + self.audio_pos                        # (B, T, K, D)
        if drop is not None:
            tok = torch.where(drop[:, None, None, None], self.null_audio.to(tok.dtype), tok)
        return tok.flatten(0, 1)                                             # (B*T, K, D)

    def set_masks(self, masks: torch.Tensor) -> None:
        """Region masks ``(N, R, H, W)`` at image size → coverage per token count, per level."""
        m = torch.nn.functional.adaptive_avg_pool2d(masks, self.config.image_size // self.config.factor)
        self.ctx.masks = {}
        for _ in self.config.block_channels:
            self.ctx.masks[m.shape[-1] * m.shape[-2]] = m.flatten(2).transpose(1, 2)  # (N, hw, R)
            m = torch.nn.functional.avg_pool2d(m, 2)

    # ---- passes --------------------------------------------------------------------------------

    def _walk(self, h: torch.Tensor, emb: torch.Tensor, audio: torch.Tensor | None, hook) -> torch.Tensor:
        """One pass through the UNet's blocks (diffusers' order), ``hook`` after each transformer."""
        u = self.unet
        skips = [h]
        for i, block in enumerate(u.down_blocks):
            for j, resnet in enumerate(block.resnets):
                h = resnet(h, emb)                                           # (N, C_i, H_i, W_i)
                if getattr(block, "attentions", None):
                    h = block.attentions[j](h, encoder_hidden_states=audio, return_dict=False)[0]
                    h = hook(f"down_blocks.{i}.attentions.{j}", h)
                skips.append(h)
            for ds in block.downsamplers or []:
                h = ds(h)                                                    # (N, C_i, H_i/2, W_i/2)
                skips.append(h)
        mid = u.mid_block
        h = mid.resnets[0](h, emb)
        for j, (attn, resnet) in enumerate(zip(mid.attentions, mid.resnets[1:])):
            h = attn(h, encoder_hidden_states=audio, return_dict=False)[0]
            h = resnet(hook(f"mid_block.attentions.{j}", h), emb)
        for i, block in enumerate(u.up_blocks):
            for j, resnet in enumerate(block.resnets):
                h = resnet(torch.cat([h, skips.pop()], 1), emb)               # skip connection
                if getattr(block, "attentions", None):
                    h = block.attentions[j](h, encoder_hidden_states=audio, return_dict=False)[0]
                    h = hook(f"up_blocks.{i}.attentions.{j}", h)
            for us in block.upsamplers or []:
                h = us(h)
        return u.conv_out(u.conv_act(u.conv_norm_out(h)))                    # (N, C, h, w)

    def encode_reference(self, reference: torch.Tensor, *, motion: torch.Tensor | None = None,
                         reference_hand_conf: torch.Tensor | None = None) -> ReferenceBank:
        """Reference pass at t = 0 over the reference ``(B, C, h, w)`` and motion frames ``(B, O, C, h, w)``.

        Returns the bank the denoising passes read; compute it once per chunk.
        """
        b = reference.shape[0]
        o = 0 if motion is None else motion.shape[1]
        x = reference if motion is None else torch.cat([reference, motion.flatten(0, 1)], 0)
        hand = None
        if reference_hand_conf is not None:  # motion frames: their hands are not known here
            hand = torch.cat([reference_hand_conf, reference_hand_conf.repeat_interleave(o, 0)], 0)
        if self.config.reference_concat:  # the reference is its own concatenated condition
            x = torch.cat([x, torch.cat([reference, reference.repeat_interleave(o, 0)])], 1)  # (B*(1+O), 2C, h, w)
        feats: dict = {}

        def keep(name, h):                                                   # (B*(1+O), C, H, W)
            if o:
                feats[name] = h[b:].reshape(b, o, *h.shape[1:])
            return h

        self.ctx.mode, self.ctx.bank = "write", {}
        try:
            t = torch.zeros(x.shape[0], device=x.device, dtype=torch.long)
            self._walk(self.unet.conv_in(x), self.embed(t, hand), None, keep)
            return ReferenceBank(self.ctx.bank, feats, b)
        finally:
            self.ctx.mode, self.ctx.bank = "off", {}

    def forward(self, x: torch.Tensor, t: torch.Tensor, *, pose: torch.Tensor, masks: torch.Tensor,
                audio: torch.Tensor, hand_conf: torch.Tensor | None = None,
                reference: torch.Tensor | None = None, motion: torch.Tensor | None = None,
                reference_hand_conf: torch.Tensor | None = None, bank: ReferenceBank | None = None,
                drop_reference: torch.Tensor | None = None,
                drop_audio: torch.Tensor | None = None) -> torch.Tensor:
        """Predict the diffusion target for a chunk.

        Parameters
        ----------
        x : (B, T, C, h, w) noisy frames in model space.
        t : (B,) diffusion timesteps.
        pose : (B, T, 3, H, W) DWPose pose maps in 0..1 at ``image_size``.
        masks : (B, T, R, H, W) region masks (face, lips, hands) in 0..1 at ``image_size``.
        audio : (B, T, 2r+1, A) audio feature windows around each frame.
        hand_conf : (B, T, 2) mean confidence of the left and right hand keypoints.
        reference : (B, C, h, w) the reference image in model space (always needed with
            ``reference_concat``; the attention branch can come from ``bank`` instead).
        motion : (B, O, C, h, w) clean previous frames (EMO2 motion frames) or None.
        reference_hand_conf : (B, 2) hand confidences of the reference photo.
        bank : a cached :meth:`encode_reference` result (sampling reuses it across steps).
        drop_reference, drop_audio : (B,) bool, True where the condition is dropped (CFG).

        Returns
        -------
        (B, T, C, h, w) the prediction (``config.prediction_type``).
        """
        b, nt = x.shape[:2]
        if bank is None:
            bank = self.encode_reference(reference, motion=motion, reference_hand_conf=reference_hand_conf)
        ctx = self.ctx
        ctx.mode, ctx.bank, ctx.frames = "read", bank.tokens, nt
        ctx.reference_on = (torch.ones(b, dtype=torch.bool, device=x.device) if drop_reference is None
                            else ~drop_reference)
        try:
            self.set_masks(masks.flatten(0, 1))                                  # per level
            tok = self.audio_tokens(audio, drop_audio)                           # (B*T, K, D)
            emb = self.embed(t.repeat_interleave(nt), None if hand_conf is None else hand_conf.flatten(0, 1))
            xin = x.flatten(0, 1)                                                # (B*T, C, h, w)
            if self.config.reference_concat:
                ref = reference * ctx.reference_on[:, None, None, None].to(reference.dtype)
                xin = torch.cat([xin, ref.repeat_interleave(nt, 0)], 1)          # (B*T, 2C, h, w)
            h = self.unet.conv_in(xin) + self.pose_encoder(pose.flatten(0, 1))  # (B*T, C0, h, w)

            def temporal(name, h):                                               # (B*T, C, H, W)
                key = name.replace(".", "_")
                if key not in self.temporal:
                    return h
                hv = h.reshape(b, nt, *h.shape[1:])                              # (B, T, C, H, W)
                ctx_frames = bank.motion.get(name)
                o = 0 if ctx_frames is None else ctx_frames.shape[1]
                if o:
                    hv = torch.cat([ctx_frames.to(hv.dtype), hv], 1)            # (B, O+T, C, H, W)
                out = self.temporal[key](hv.flatten(0, 1), num_frames=o + nt, return_dict=False)[0]
                return out.reshape(b, o + nt, *h.shape[1:])[:, o:].flatten(0, 1)

            out = self._walk(h, emb, tok, temporal)                               # (B*T, C, h, w)
        finally:
            ctx.mode, ctx.bank, ctx.masks, ctx.reference_on = "off", {}, {}, None
        return out.reshape(b, nt, *out.shape[1:])


# ---- size presets (DiT-style named factories); keyword overrides change any config field ------

def Renderer_tiny(**overrides) -> RendererUNet:
    """Tests and CPU experiments: 64 px in pixel space, widths 32/64/128 (~2 M parameters)."""
    return RendererUNet(RendererConfig.from_dict(overrides))


def Renderer_S(**overrides) -> RendererUNet:
    """GPU default: 512 px in a VAE's latent space (64x64x4), widths 128/256/512/512."""
    return RendererUNet(RendererConfig.from_dict({
        "image_size": 512, "space": "latent", "block_channels": (128, 256, 512, 512),
        "attention_levels": (True, True, True, False), "layers_per_block": 2, "num_heads": 8,
        "norm_groups": 32, "num_frames": 16, "motion_frames": 4, "audio_token_dim": 256, **overrides}))


def Renderer_B(**overrides) -> RendererUNet:
    """SD1.5's UNet shape (320/640/1280/1280, attn2 width 768): ``--init`` an SD1.5 folder loads it all."""
    return RendererUNet(RendererConfig.from_dict({
        "image_size": 512, "space": "latent", "block_channels": (320, 640, 1280, 1280),
        "attention_levels": (True, True, True, False), "layers_per_block": 2, "num_heads": 8,
        "norm_groups": 32, "num_frames": 16, "motion_frames": 4, "audio_token_dim": 768, **overrides}))


PRESETS = {"tiny": Renderer_tiny, "S": Renderer_S, "B": Renderer_B}
