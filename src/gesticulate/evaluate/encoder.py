"""The FGD encoder of an evaluation: given, cached in the report folder, or trained on the spot.

FGD is only comparable under one encoder, so every report prints the encoder's hash
(:attr:`gesticulate.metrics.fgd.FGDEncoder.hash`). ``gesticulate train-fgd`` trains a proper
one (:func:`train_fgd`); without it, :func:`evaluation_encoder` trains a small quick one on the
dataset's train split and caches it in the report folder with a provenance file, so a second
evaluation into the same folder reuses it (same hash, comparable numbers).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from gesticulate.errors import InputError, OptionError

CACHE_DIR = "fgd_encoder"
PROVENANCE = "fgd_encoder.json"
QUICK_STEPS = 300   # steps of the encoder trained on the spot (seconds on a CPU)
# The encoder trained on the spot is small: a test split of a few clips gives tens of windows,
# and a 128-d latent would leave the covariances of FGD rank-deficient (N < D); 32 dimensions
# and a hop of 8 frames (more windows) keep the Fréchet distance better conditioned.
QUICK_CONFIG = {"hidden": 128, "latent": 32, "stride": 8}


def _train_clips(dataset_dir, split: str) -> list:
    from gesticulate.data.clips import iter_clips

    return [c.skeleton for c in iter_clips(dataset_dir, split=split)]


def _dataset_stats(dataset_dir):
    from gesticulate.data.clips import STATS
    from gesticulate.skeleton.normalize import NormStats

    path = Path(dataset_dir) / STATS
    return NormStats.load(path) if path.is_file() else None


def train_fgd(dataset_dir: str | os.PathLike, *, output: str | os.PathLike, steps: int = 3000,
              seed: int = 0, split: str = "train", config: dict | None = None,
              progress: bool = True):
    """Train the FGD motion autoencoder on a dataset split (``gesticulate train-fgd``).

    Parameters
    ----------
    dataset_dir : a dataset folder (``gesticulate build-dataset``).
    output : the encoder folder to create (must not exist or be empty).
    steps : optimisation steps (Adam, batch 64); 3000 ≈ a few minutes on a CPU.
    seed : same seed, same data → same weights and hash.
    split : which clips it learns from ("train"; a dataset with no train split may use "test"
        or "val", which makes FGD measure distance from data the encoder was fitted to).
    config : :class:`~gesticulate.metrics.fgd.FGDConfig` fields to change (window, stride,
        hidden, latent, min_confidence); None keeps the defaults.
    progress : show a progress bar on stderr.

    Returns
    -------
    FGDEncoder
        Saved in ``output``; ``.hash`` identifies it in reports.
    """
    from gesticulate.metrics.fgd import FGDConfig, train_fgd_encoder

    if steps < 1:
        raise OptionError(f"--steps {steps}: use 1 or more (3000 is the default)")
    clips = _train_clips(dataset_dir, split)
    if not clips:
        raise InputError(f"{dataset_dir} has no {split} clips to train the FGD encoder on; "
                         "use a dataset with a train split or pass --split")
    return train_fgd_encoder(clips, output=output, steps=steps, seed=seed,
                             config=FGDConfig.from_dict(config or {}),
                             stats=_dataset_stats(dataset_dir), progress=progress)


def _provenance(dataset_dir, split: str, steps: int, seed: int) -> dict:
    return {"dataset": str(Path(dataset_dir).resolve()), "split": split, "steps": steps,
            "seed": seed, "config": QUICK_CONFIG}


def evaluation_encoder(dataset_dir, *, workdir: Path, previous: Path | None, given,
                       eval_split: str, seed: int, steps: int = QUICK_STEPS,
                       progress: bool = True) -> tuple[object, dict]:
    """The encoder an evaluation uses and a description of it for the report.

    ``given`` is an encoder folder (used as is). Otherwise an encoder cached in the previous
    report folder ``previous`` is copied into ``workdir`` when it was trained on the same
    dataset, split, steps and seed; else one is trained on the train split (the evaluated
    split when the dataset has no train clips, said so in the description) into ``workdir``.
    """
    from gesticulate.metrics.fgd import FGDEncoder

    if given is not None:
        enc = FGDEncoder.from_pretrained(given)
        return enc, {"hash": enc.hash, "path": str(Path(given).resolve()), "source": "given"}
    split = "train" if _train_clips(dataset_dir, "train") else eval_split
    want = _provenance(dataset_dir, split, steps, seed)
    if previous is not None and (previous / PROVENANCE).is_file():
        have = json.loads((previous / PROVENANCE).read_text())
        if {k: have.get(k) for k in want} == want:
            try:
                enc = FGDEncoder.from_pretrained(previous / CACHE_DIR)
            except InputError:
                enc = None
            if enc is not None and enc.hash == have.get("hash"):
                shutil.copytree(previous / CACHE_DIR, workdir / CACHE_DIR)
                (workdir / PROVENANCE).write_text(json.dumps(have, indent=2, sort_keys=True))
                return enc, {**have, "path": CACHE_DIR, "source": "cached"}
    enc = train_fgd(dataset_dir, output=workdir / CACHE_DIR, steps=steps, seed=seed, split=split,
                    config=QUICK_CONFIG, progress=progress)
    info = {**want, "hash": enc.hash}
    (workdir / PROVENANCE).write_text(json.dumps(info, indent=2, sort_keys=True))
    note = "" if split == "train" else (
        f"the dataset has no train clips, so the FGD encoder was trained on the {split} split "
        "itself: FGD then measures distance from the ground truth in a space fitted to it")
    return enc, {**info, "path": CACHE_DIR, "source": "trained", "note": note}
