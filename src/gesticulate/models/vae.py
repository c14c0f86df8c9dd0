"""The VAE of latent-space renderers: a small ``diffusers`` AutoencoderKL the project trains,
or one the user has on disk (e.g. Stable Diffusion 1.5's ``vae/``), loaded with no network.

A latent renderer checkpoint keeps its VAE in a ``vae/`` subfolder (diffusers layout:
``config.json`` + ``diffusion_pytorch_model.safetensors``), so the folder rebuilds itself.
Pixel-space renderers (``RendererConfig.space = "pixel"``) have no VAE.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from gesticulate.errors import InputError

VAE_DIR = "vae"


def tiny_vae(*, latent_channels: int = 4, factor: int = 8):
    """A small AutoencoderKL (~1 M parameters per side) with a ``factor`` x down-sampling."""
    from diffusers import AutoencoderKL

    levels = int(np.log2(factor)) + 1
    ch = tuple(min(32 * 2 ** i, 128) for i in range(levels))
    return AutoencoderKL(in_channels=3, out_channels=3, latent_channels=latent_channels,
                         down_block_types=("DownEncoderBlock2D",) * levels,
                         up_block_types=("UpDecoderBlock2D",) * levels,
                         block_out_channels=ch, layers_per_block=1, norm_num_groups=16)


def load_vae(folder: str | os.PathLike):
    """An AutoencoderKL from a diffusers folder on disk (``folder`` or ``folder/vae``); no network."""
    from diffusers import AutoencoderKL

    folder = Path(folder)
    if (folder / VAE_DIR / "config.json").is_file():
        folder = folder / VAE_DIR
    if not (folder / "config.json").is_file():
        raise InputError(f"no VAE in {folder} (expected config.json and "
                         "diffusion_pytorch_model.safetensors in diffusers layout)")
    if not any(folder.glob("*.safetensors")):
        raise InputError(f"{folder} has no .safetensors weights; pickled .bin files are not "
                         "loaded for safety: convert them to safetensors first")
    return AutoencoderKL.from_pretrained(folder, local_files_only=True, use_safetensors=True).eval()


class LatentCodec:
    """Images ``(N, 3, H, W)`` in -1..1 ⇄ scaled latents ``(N, C, H/f, W/f)`` (frozen VAE)."""

    def __init__(self, vae):
        self.vae = vae.requires_grad_(False).eval()
        self.scale = float(getattr(vae.config, "scaling_factor", 1.0) or 1.0)

    @torch.no_grad()
    def encode(self, images: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        dist = self.vae.encode(images.to(self.vae.dtype)).latent_dist
        z = dist.mean if generator is None else dist.sample(generator)
        return z * self.scale

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return self.vae.decode(latents.to(self.vae.dtype) / self.scale).sample.clamp(-1, 1)


def train_vae(frames: np.ndarray, *, steps: int = 2000, batch_size: int = 8, lr: float = 1e-3,
              kl_weight: float = 1e-6, seed: int = 0, device: str | None = None,
              latent_channels: int = 4, factor: int = 8, progress: bool = True):
    """Train :func:`tiny_vae` on RGB frames ``(N, H, W, 3)`` uint8 (L1 + small KL); returns it.

    The scaling factor is set to 1 / std of the training latents (as SD's 0.18215 was), so the
    diffusion model sees latents of unit scale.
    """
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    vae = tiny_vae(latent_channels=latent_channels, factor=factor).to(dev).train()
    opt = torch.optim.AdamW(vae.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    data = torch.from_numpy(np.asarray(frames)).permute(0, 3, 1, 2)          # (N, 3, H, W) uint8
    for _ in tqdm(range(steps), desc="vae", disable=not progress):
        x = data[rng.integers(0, len(data), batch_size)].to(dev).float() / 127.5 - 1
        post = vae.encode(x).latent_dist
        rec = vae.decode(post.sample()).sample
        loss = (rec - x).abs().mean() + kl_weight * post.kl().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    vae.eval()
    with torch.no_grad():
        x = data[: min(len(data), 64)].to(dev).float() / 127.5 - 1
        std = float(vae.encode(x).latent_dist.mean.std())
    vae.register_to_config(scaling_factor=1.0 / max(std, 1e-6))
    return vae
