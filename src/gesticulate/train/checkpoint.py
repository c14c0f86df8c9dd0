"""Training-run checkpoints: self-describing, atomic, pickle-free.

::

    RUN/checkpoints/step_00001000/
      config.json           model config (rebuilds the model)
      model.safetensors     EMA weights (what sampling uses)
      ...                   what sampling needs besides (MotionDiT: stats.npz, meta.json;
                            a latent renderer: vae/)
      train_state/          for resume only
        model.safetensors       raw (non-EMA) weights
        optimizer.safetensors   AdamW moments, keys "<param index>.<name>"
        optimizer.json          AdamW param groups
        state.json              step, train config

A checkpoint is built in a hidden sibling folder and renamed into place, so a crash leaves
either the old or the new one complete, never half of one.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import torch
from safetensors.torch import load_file, save_file

from gesticulate.atomic import atomic_dir, holds, is_empty
from gesticulate.errors import OptionError, OutputError
from gesticulate.models.folders import CONFIG_NAME, WEIGHTS_NAME


def list_checkpoints(run: str | os.PathLike) -> list[Path]:
    """Complete checkpoints of a run, oldest first."""
    d = Path(run) / "checkpoints"
    return sorted(p for p in d.glob("step_*")
                  if (p / CONFIG_NAME).is_file() and (p / "train_state" / "state.json").is_file())


def checkpoint_folder(run: str | os.PathLike, step: int) -> Path:
    """Where the checkpoint of ``step`` of a run lives."""
    return Path(run) / "checkpoints" / f"step_{step:08d}"


def write_checkpoint(run: str | os.PathLike, step: int, *, ema, raw, optimizer: torch.optim.Optimizer,
                     state: dict, keep: int = 2, extra: Callable[[Path], None] | None = None) -> Path:
    """Write ``RUN/checkpoints/step_<step>`` atomically and drop all but the newest ``keep``.

    The folder holds the EMA model (``save_pretrained``: config + safetensors), whatever
    ``extra(folder)`` adds (normalisation stats, a VAE ...), and ``train_state/``: the raw
    weights and the optimizer state as safetensors + JSON, never a pickle.
    """
    final = checkpoint_folder(run, step)
    final.parent.mkdir(parents=True, exist_ok=True)
    with atomic_dir(final, previous=holds("train_state"), what="checkpoint") as tmp:
        ema.save_pretrained(tmp)
        if extra is not None:
            extra(tmp)
        ts = tmp / "train_state"
        ts.mkdir()
        save_file({k: v.detach().cpu().contiguous() for k, v in raw.state_dict().items()},
                  ts / WEIGHTS_NAME)
        tensors, groups = optimizer_to_flat(optimizer)
        save_file(tensors, ts / "optimizer.safetensors")
        (ts / "optimizer.json").write_text(json.dumps(groups))
        (ts / "state.json").write_text(json.dumps({"step": step, **state}, indent=2))
    for old in list_checkpoints(run)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def optimizer_to_flat(optimizer: torch.optim.Optimizer) -> tuple[dict, list]:
    """Optimizer state as safetensors-ready tensors and JSON-ready param groups."""
    sd = optimizer.state_dict()
    tensors = {f"{i}.{name}": (v if torch.is_tensor(v) else torch.tensor(v)).detach().cpu().contiguous()
               for i, st in sd["state"].items() for name, v in st.items()}
    return tensors, sd["param_groups"]


def load_training_state(ckpt: Path, *, raw: torch.nn.Module, ema: torch.nn.Module,
                        optimizer: torch.optim.Optimizer) -> dict:
    """Restore raw and EMA weights and the optimizer from ``ckpt``; return its state.json."""
    dev = next(raw.parameters()).device
    raw.load_state_dict(load_file(ckpt / "train_state" / WEIGHTS_NAME, device=str(dev)))
    ema.load_state_dict(load_file(ckpt / WEIGHTS_NAME, device=str(dev)))
    flat = load_file(ckpt / "train_state" / "optimizer.safetensors", device=str(dev))
    groups = json.loads((ckpt / "train_state" / "optimizer.json").read_text())
    state: dict[int, dict] = {}
    for key, v in flat.items():
        i, name = key.split(".", 1)
        state.setdefault(int(i), {})[name] = v.cpu() if name == "step" else v
    for g in groups:
        g["betas"] = tuple(g["betas"])
    optimizer.load_state_dict({"state": state, "param_groups": groups})
    return json.loads((ckpt / "train_state" / "state.json").read_text())


TRAIN_CONFIG = "train_config.json"


def open_run(run: Path, cfg, *, resume: bool):
    """The options and checkpoint a training run goes on with: ``(cfg, None)`` for a new run;
    for ``resume`` of an existing one its saved options (only the step count comes from ``cfg``,
    so a run can be extended), its newest checkpoint, and a note when the given options
    differed. A run folder that holds checkpoints is never trained over without ``resume``."""
    ckpts = list_checkpoints(run)
    if not ckpts and run.is_dir() and not (run / TRAIN_CONFIG).is_file() and not is_empty(run):
        raise OutputError(f"{run} is a folder with other things in it; give a new or empty "
                          "--output folder for the training run (its log and checkpoints)")
    if ckpts and not resume:
        raise OptionError(f"{run} already holds a training run; pass --resume to continue it "
                          "or choose another --output folder")
    if not ckpts:
        return cfg, None, ""
    saved = type(cfg).from_dict({**getattr(type(cfg), "LEGACY", {}),
                                 **json.loads((run / TRAIN_CONFIG).read_text()), "steps": cfg.steps})
    differ = sorted(k for k, v in asdict(cfg).items() if asdict(saved)[k] != v)
    note = (f"resuming {run} with its saved options ({', '.join(differ)} given differently)"
            if differ else "")
    return saved, ckpts[-1], note


def start_run(run: Path, cfg, ckpt: Path | None, *, is_main: bool, raw, ema,
              optimizer: torch.optim.Optimizer) -> int:
    """The step a run starts at: ``ckpt``'s, with weights and optimizer restored from it, or 0
    for a new run, whose folder and ``train_config.json`` the main process writes."""
    if ckpt is not None:
        return int(load_training_state(ckpt, raw=raw, ema=ema, optimizer=optimizer)["step"])
    if is_main:
        run.mkdir(parents=True, exist_ok=True)
        (run / TRAIN_CONFIG).write_text(json.dumps(asdict(cfg), indent=2))
    return 0
