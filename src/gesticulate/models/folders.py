"""Self-describing checkpoint folders (DESIGN.md): ``config.json`` + ``model.safetensors``.

A model's ``from_pretrained`` takes such a folder, or a training run folder whose newest
``checkpoints/step_*`` is used; this module finds which.
"""

from __future__ import annotations

import os
from pathlib import Path

from gesticulate.errors import InputError

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


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
