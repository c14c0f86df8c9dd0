"""Initialise a model from weights the user has on disk, matching by name and shape (no network).

``--init FOLDER`` accepts a diffusers pipeline folder (its ``unet/`` is used, e.g. Stable
Diffusion 1.5), a diffusers model folder (``diffusion_pytorch_model.safetensors``), or one of
our own checkpoints (``model.safetensors``). Only safetensors are read (no pickles).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from gesticulate.errors import InputError

DIFFUSERS_WEIGHTS = "diffusion_pytorch_model.safetensors"


@dataclass
class InitReport:
    """What :func:`load_compatible` did: our parameter names loaded, and theirs left out."""

    loaded: list = field(default_factory=list)
    widened: list = field(default_factory=list)    # input channels grown (InstructPix2Pix trick)
    mismatched: list = field(default_factory=list)  # same name, other shape
    unused: list = field(default_factory=list)      # in the folder, not in the model


def _find_weights(folder: Path) -> tuple[Path, str]:
    """The weights file to read and the prefix our names carry for its keys."""
    for path, prefix in ((folder / "unet" / DIFFUSERS_WEIGHTS, "unet."),
                         (folder / DIFFUSERS_WEIGHTS, "unet."),
                         (folder / "model.safetensors", "")):
        if path.is_file():
            return path, prefix
    bins = list(folder.glob("**/*.bin")) + list(folder.glob("**/*.ckpt"))
    hint = (" (found pickled weights; convert them to safetensors first, they are not loaded "
            "for safety)") if bins else ""
    raise InputError(f"no weights to initialise from in {folder}: expected unet/{DIFFUSERS_WEIGHTS},"
                     f" {DIFFUSERS_WEIGHTS} or model.safetensors{hint}")


def load_compatible(model: torch.nn.Module, folder: str | os.PathLike) -> InitReport:
    """Copy every tensor of ``folder`` whose name and shape match one of ``model``'s.

    A 4-D convolution weight whose input channels are *fewer* on disk (SD's ``conv_in`` with 4
    channels, ours with 8 because the reference is concatenated) fills the leading channels
    and zeroes the rest, so the loaded network starts out computing what it did before.
    """
    from safetensors.torch import load_file

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"--init {folder} is not a folder; give a diffusers model folder on disk")
    path, prefix = _find_weights(folder)
    theirs = load_file(path, device="cpu")
    ours = model.state_dict()
    report = InitReport()
    new = {}
    for key, value in theirs.items():
        name = prefix + key
        if name not in ours and key in ours:   # our own checkpoint inside a diffusers layout
            name = key
        if name not in ours:
            report.unused.append(key)
            continue
        target = ours[name]
        if target.shape == value.shape:
            new[name] = value.to(target.dtype)
            report.loaded.append(name)
        elif (value.ndim == 4 and target.ndim == 4 and value.shape[0] == target.shape[0]
              and value.shape[2:] == target.shape[2:] and value.shape[1] < target.shape[1]):
            w = torch.zeros_like(target)
            w[:, : value.shape[1]] = value.to(target.dtype)
            new[name] = w
            report.widened.append(name)
        else:
            report.mismatched.append(name)
    model.load_state_dict(new, strict=False)
    return report
