"""Attention processors of the renderer's denoiser: reference attention and masked audio attention.

They replace the ``diffusers`` processors of the UNet's spatial transformer blocks, so the
weights keep diffusers' names (a Stable Diffusion 1.5 ``unet/`` folder loads by name) and the
renderer only changes *what* each attention attends to:

* ``attn1`` (self-attention) — ReferenceNet (AnimateAnyone; EMO2's parallel reference
  network): a first pass of the same UNet over the reference image *writes* the hidden states
  entering every ``attn1`` into a bank; the denoising pass *reads* them and attends over the
  concatenation ``[x; ref]`` of its own tokens and the reference tokens, so appearance flows
  from the photo into every frame by attention rather than by warping.
* ``attn2`` (cross-attention) — MMGT's motion-masked audio attention: frame tokens attend to
  that frame's audio tokens, and the result is kept only inside the face, lips and hands masks
  (each region with its own query embedding and gain, MMGT's hierarchical audio attention);
  outside every mask the output is exactly zero, so audio cannot change those features here.

Both read per-call state (mode, banks, masks, dropouts) from one :class:`AttentionContext`
that the model fills before each pass. The context is thread-local: each thread that runs the
same model sees its own state, so two threads sampling with one model cannot mix their masks
or reference banks.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class AttentionContext(threading.local):
    """State shared by the processors during one UNet pass, one copy per thread (a thread
    that first touches it starts from the defaults below).

    Attributes
    ----------
    mode : "write" (reference pass), "read" (denoising pass) or "off" (plain attention).
    bank : layer name -> reference tokens ``(B, N, C)`` written by the reference pass.
    frames : frames per sample T in the read pass (tokens are ``(B*T, N, C)``).
    reference_on : ``(B,)`` bool, False where the reference is dropped (classifier-free guidance).
    masks : token count N -> region masks ``(B*T, N, R)`` in 0..1 at that feature resolution.
    """

    mode: str = "off"
    bank: dict = field(default_factory=dict)
    frames: int = 1
    reference_on: torch.Tensor | None = None
    masks: dict = field(default_factory=dict)

    def __deepcopy__(self, memo) -> "AttentionContext":
        # A copied model (EMA, AveragedModel) gets a fresh context of its own: per-call state
        # is never worth copying, and a thread-local cannot be pickled.
        return AttentionContext()


def _attend(attn, q_in: torch.Tensor, kv_in: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """diffusers ``Attention`` weights applied to queries ``q_in`` and keys/values ``kv_in``."""
    b = q_in.shape[0]
    q = attn.to_q(q_in)                                                   # (b, N, inner)
    k, v = attn.to_k(kv_in), attn.to_v(kv_in)                             # (b, M, inner)
    hd = q.shape[-1] // attn.heads
    q, k, v = (z.view(b, -1, attn.heads, hd).transpose(1, 2) for z in (q, k, v))  # (b, h, *, hd)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)         # (b, h, N, hd)
    out = out.transpose(1, 2).reshape(b, -1, attn.heads * hd)             # (b, N, inner)
    return attn.to_out[1](attn.to_out[0](out))                            # (b, N, C)


class ReferenceAttnProcessor:
    """Self-attention over ``[x; reference]`` tokens (no parameters of its own)."""

    def __init__(self, ctx: AttentionContext, name: str):
        self.ctx, self.name = ctx, name

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None,
                 temb=None, **kwargs):
        ctx = self.ctx
        if ctx.mode == "write":
            ctx.bank[self.name] = hidden_states                           # (B*(1+O), N, C)
        if ctx.mode != "read" or self.name not in ctx.bank:
            return _attend(attn, hidden_states, hidden_states, None)
        b = ctx.reference_on.shape[0]
        ref = ctx.bank[self.name][:b].repeat_interleave(ctx.frames, 0)    # (B*T, N, C)
        kv = torch.cat([hidden_states, ref], 1)                           # (B*T, 2N, C)
        mask = None
        if not bool(ctx.reference_on.all()):  # dropped reference: its keys are masked out
            n = hidden_states.shape[1]
            on = ctx.reference_on.repeat_interleave(ctx.frames)           # (B*T,)
            mask = torch.ones(len(on), 1, 1, kv.shape[1], dtype=torch.bool, device=kv.device)
            mask[:, 0, 0, n:] = on[:, None]
        return _attend(attn, hidden_states, kv, mask)


class MaskedAudioAttnProcessor(nn.Module):
    """Cross-attention to audio tokens, kept only inside the region masks (MMGT MM-HAA).

    Parameters
    ----------
    ctx : the shared context (masks per resolution).
    dim : channels C of the tokens.
    num_regions : R masks (face, lips, hands by default).
    """

    def __init__(self, ctx: AttentionContext, dim: int, num_regions: int):
        super().__init__()
        self.ctx = ctx  # shared state, not a submodule
        # MMGT: each region queries the audio with its own emphasis; lips ⊂ face, so lip
        # tokens get both gains (the hierarchy: the lips follow the audio most closely).
        self.region_embed = nn.Parameter(torch.zeros(num_regions, dim))
        self.region_gain = nn.Parameter(torch.ones(num_regions))

    def forward(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None,
                temb=None, **kwargs):
        ctx = self.ctx
        if ctx.mode != "read" or encoder_hidden_states is None:
            return torch.zeros_like(hidden_states)                        # no audio here
        m = ctx.masks[hidden_states.shape[1]].to(hidden_states.dtype)     # (B*T, N, R)
        q = hidden_states + m @ self.region_embed.to(hidden_states.dtype)  # (B*T, N, C)
        out = _attend(attn, q, encoder_hidden_states, None)               # (B*T, N, C)
        gate = m @ self.region_gain.to(hidden_states.dtype)               # (B*T, N), 0 outside
        return out * gate[..., None]


def install_processors(unet, ctx: AttentionContext, num_regions: int) -> None:
    """Give every spatial transformer block of ``unet`` the renderer's processors.

    ``attn1`` gets :class:`ReferenceAttnProcessor` (keyed by its module name, identical in every
    pass) and ``attn2`` a :class:`MaskedAudioAttnProcessor` whose parameters are saved with the
    model as ``...attn2.processor.region_*``.
    """
    for name, module in unet.named_modules():
        if name.endswith("attn1"):
            module.set_processor(ReferenceAttnProcessor(ctx, name))
        elif name.endswith("attn2"):
            module.set_processor(MaskedAudioAttnProcessor(ctx, module.to_q.in_features, num_regions))
