"""One checkpoint convention (models/folders.py): folders written the way the three hand-written
``save_pretrained`` / ``save`` of before wrote them still load, and are written byte for byte
the same."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from _render_diffusion_data import SMALL as RENDERER_SMALL, randomized
from gesticulate.metrics.fgd import FGDConfig, FGDEncoder, MotionAutoencoder
from gesticulate.models.motion_dit import MotionDiT, MotionDiT_tiny
from gesticulate.models.renderer_unet import Renderer_tiny, RendererUNet
from gesticulate.skeleton.normalize import NUM_LOCAL_POINTS, NormStats

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def write_old_layout(folder, config: dict, model: torch.nn.Module, *, sort_keys: bool = False) -> None:
    """``config.json`` + ``model.safetensors`` exactly as the code before issue 12 wrote them."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=sort_keys))
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
              folder / "model.safetensors")


def same_files(a, b) -> bool:
    return sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir()) and all(
        (a / p.name).read_bytes() == (b / p.name).read_bytes() for p in a.iterdir())


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("cls, make, overrides", [
    (MotionDiT, MotionDiT_tiny, dict(window=24, prev_frames=4, patch_frames=4, width=64, depth=2)),
    (RendererUNet, Renderer_tiny, RENDERER_SMALL),
])
def test_old_model_folders_load_and_new_ones_are_the_same_bytes(tmp_path, cls, make, overrides):
    torch.manual_seed(0)
    model = randomized(make(**overrides))
    old = tmp_path / "old"
    write_old_layout(old, asdict(model.config), model)
    loaded = cls.from_pretrained(old)
    assert loaded.config == model.config and same_weights(loaded, model)
    (tmp_path / "new").mkdir()
    model.save_pretrained(tmp_path / "new")
    assert same_files(old, tmp_path / "new")
    run = tmp_path / "run" / "checkpoints" / "step_00000004"      # a run folder resolves too
    run.parent.mkdir(parents=True)
    old.rename(run)
    assert same_weights(cls.from_pretrained(tmp_path / "run"), model)


def test_old_fgd_encoder_folder_loads_and_new_ones_are_the_same_bytes(tmp_path):
    cfg = FGDConfig(window=16, stride=8, hidden=8, latent=4)
    torch.manual_seed(0)
    model = MotionAutoencoder(cfg)
    rng = np.random.default_rng(0)
    stats = NormStats(mean=rng.normal(size=(NUM_LOCAL_POINTS, 2)).astype(np.float32),
                      std=rng.uniform(0.5, 2, (NUM_LOCAL_POINTS, 2)).astype(np.float32))
    enc = FGDEncoder(model, cfg, stats)
    old = tmp_path / "old"
    write_old_layout(old, {**asdict(cfg), "hash": enc.hash}, model, sort_keys=True)
    stats.save(old / "stats.npz")
    loaded = FGDEncoder.from_pretrained(old)
    assert loaded.config == cfg and loaded.hash == enc.hash and same_weights(loaded.model, model)
    assert same_files(old, enc.save(tmp_path / "new"))
