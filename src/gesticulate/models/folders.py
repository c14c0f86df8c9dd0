"""Self-describing checkpoint folders (DESIGN.md): ``config.json`` + ``model.safetensors``.

One convention for every network we train (MotionDiT, the renderer, the FGD autoencoder):
the constructor's config as JSON next to the weights as safetensors, so a folder rebuilds its
own model, as in diffusers. :class:`Pretrained` gives a module built from one config
dataclass its ``save_pretrained`` / ``from_pretrained``; :func:`write_model` and
:func:`read_model` are the two halves for a folder that holds more (the FGD encoder).

A model's ``from_pretrained`` takes such a folder, or a training run folder whose newest
``checkpoints/step_*`` is used (:func:`resolve_checkpoint`).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import torch

from gesticulate.errors import InputError

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
META_NAME = "meta.json"      # a motion run: fps, layout, what the model was trained on
STATS_NAME = "stats.npz"     # a motion run: normalisation statistics


def is_checkpoint(folder: Path) -> bool:
    return (folder / CONFIG_NAME).is_file() and (folder / WEIGHTS_NAME).is_file()


def resolve_checkpoint(folder: str | os.PathLike, *, kind: str = "model",
                       command: str = "gesticulate train") -> Path:
    """A checkpoint folder: ``folder`` itself, or the newest ``checkpoints/step_*`` of a run.

    ``kind`` and ``command`` name the model and the command that makes one, for the error.
    """
    folder = Path(folder)
    if is_checkpoint(folder):
        return folder
    steps = sorted((folder / "checkpoints").glob("step_*")) if folder.is_dir() else []
    steps = [s for s in steps if is_checkpoint(s)]
    if not steps:
        raise InputError(f"no {kind} checkpoint in {folder} (expected {CONFIG_NAME} and "
                         f"{WEIGHTS_NAME}, or a training run folder); train one with `{command}`")
    return steps[-1]


def write_model(folder: str | os.PathLike, config: dict, model: torch.nn.Module, *,
                sort_keys: bool = False) -> None:
    """Write ``config`` as ``config.json`` and ``model``'s state as ``model.safetensors`` into
    the existing ``folder``."""
    from safetensors.torch import save_file

    folder = Path(folder)
    (folder / CONFIG_NAME).write_text(json.dumps(config, indent=2, sort_keys=sort_keys))
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
              folder / WEIGHTS_NAME)


def read_model(folder: str | os.PathLike) -> tuple[dict, dict[str, torch.Tensor]]:
    """The config dict and the CPU state dict that :func:`write_model` wrote into ``folder``."""
    from safetensors.torch import load_file

    folder = Path(folder)
    return json.loads((folder / CONFIG_NAME).read_text()), load_file(folder / WEIGHTS_NAME, device="cpu")


class Pretrained:
    """``save_pretrained`` / ``from_pretrained`` for a module whose constructor takes one config
    dataclass (``self.config``). A subclass names ``config_class`` (with a strict ``from_dict``,
    so a config written by another version fails loudly), and the ``checkpoint_kind`` and
    ``train_command`` that the missing-checkpoint error names."""

    config_class: type
    checkpoint_kind: str
    train_command: str

    def save_pretrained(self, folder: str | os.PathLike) -> None:
        """Write ``config.json`` and ``model.safetensors`` into an existing ``folder``."""
        write_model(folder, asdict(self.config), self)

    @classmethod
    def upgrade(cls, config: dict, weights: dict[str, torch.Tensor]) -> tuple[dict, dict]:
        """A checkpoint written by an earlier version → what this version loads (a subclass
        says how; here unchanged)."""
        return config, weights

    @classmethod
    def resolve_checkpoint(cls, folder: str | os.PathLike) -> Path:
        """A checkpoint folder of this model: ``folder`` itself, or a run's newest checkpoint."""
        return resolve_checkpoint(folder, kind=cls.checkpoint_kind, command=cls.train_command)

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike, *, device=None):
        """Rebuild a model from a checkpoint folder (or a training run's newest checkpoint)."""
        config, weights = read_model(cls.resolve_checkpoint(folder))
        # A config written before a field existed gets the value that meant (LEGACY), not today's default.
        config, weights = cls.upgrade({**getattr(cls.config_class, "LEGACY", {}), **config}, weights)
        model = cls(cls.config_class.from_dict(config))
        model.load_state_dict(weights)
        return model.to(device or "cpu").eval()
