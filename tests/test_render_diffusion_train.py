"""train-renderer on a tiny synthetic video dataset (drawn moving figures), CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from _render_diffusion_data import SMALL, make_video_dataset
from gesticulate.data.clips import iter_clips
from gesticulate.errors import InputError, OptionError
from gesticulate.render.diffusion import DiffusionRenderer
from gesticulate.train.renderer import train_renderer
from gesticulate.video import iter_frames


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_video_dataset(tmp_path_factory.mktemp("data"), num_clips=2, frames=10)


def run(dataset, out, **kw):
    opts = dict(steps=3, batch_size=2, model=SMALL, progress=False, val_every=2, checkpoint_every=2)
    return train_renderer(dataset, output=out, **{**opts, **kw})


def test_train_writes_a_checkpoint_the_renderer_loads(dataset, tmp_path):
    ckpt = run(dataset, tmp_path / "run")
    assert ckpt.name == "step_00000003"
    for f in ("config.json", "model.safetensors", "train_state/optimizer.safetensors"):
        assert (ckpt / f).is_file(), f
    log = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,loss,val_loss") and len(log) == 3
    assert all(np.isfinite(float(r.split(",")[1])) for r in log[1:])
    clip = next(iter_clips(dataset))
    photo = next(iter(iter_frames(clip.video_path)))
    r = DiffusionRenderer(tmp_path / "run", photo, clip.skeleton.keypoints[0], num_steps=2)
    frames = list(r.render_sequence(clip.skeleton.keypoints[:5], clip.features))
    assert len(frames) == 5 and frames[0].shape == photo.shape and frames[0].dtype == np.uint8


def test_resume_repeats_an_uninterrupted_run_exactly(dataset, tmp_path):
    whole = run(dataset, tmp_path / "a", steps=4)
    run(dataset, tmp_path / "b", steps=2)
    with pytest.raises(OptionError, match="--resume"):
        run(dataset, tmp_path / "b", steps=4)
    resumed = run(dataset, tmp_path / "b", steps=4, resume=True)
    a, b = load_file(whole / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_latent_space_with_the_projects_own_vae(dataset, tmp_path):
    model = {**SMALL, "space": "latent", "latent_factor": 4, "block_channels": (16, 32),
             "image_size": 32}
    ckpt = run(dataset, tmp_path / "run", steps=2, model=model, vae_steps=2)
    assert (ckpt / "vae" / "config.json").is_file()
    clip = next(iter_clips(dataset))
    photo = next(iter(iter_frames(clip.video_path)))
    r = DiffusionRenderer(ckpt, photo, clip.skeleton.keypoints[0], num_steps=2)
    assert r.ref.shape == (1, 4, 8, 8)
    frames = list(r.render_sequence(clip.skeleton.keypoints[:4]))
    assert len(frames) == 4 and frames[0].shape == photo.shape


def test_a_dataset_without_videos_is_refused(tmp_path):
    from gesticulate.data.synthetic import make_synthetic_dataset
    data = make_synthetic_dataset(tmp_path / "d", num_speakers=3, clips_per_speaker=1, seconds=1.0)
    with pytest.raises(InputError, match="--write-video"):
        run(data, tmp_path / "run")


def test_unknown_options_are_refused(dataset, tmp_path):
    with pytest.raises(OptionError, match="unknown renderer training options"):
        run(dataset, tmp_path / "run", learning_rate=1.0)
    with pytest.raises(OptionError, match="preset"):
        run(dataset, tmp_path / "run", preset="XL")
