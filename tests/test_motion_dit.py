"""MotionDiT: shapes, config checks, conditioning effects, sampling determinism, CFG, save/load."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gesticulate.errors import InputError, OptionError
from gesticulate.models.motion_dit import (MotionDiT, MotionDiT_tiny, MotionDiTConfig,
                                           local_regions, style_vector)
from gesticulate.models.schedulers import make_scheduler
from gesticulate.motion.diffusion import Conditions, sample_motion

J, A = 121, 84
SMALL = dict(window=24, prev_frames=4, patch_frames=4, width=64, depth=2, num_heads=4)


def randomized(model: MotionDiT, seed: int = 0) -> MotionDiT:
    """Give the zero-initialised (adaLN-Zero) layers random weights so outputs depend on inputs."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    return model.eval()


def inputs(b=2, w=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(b, w, J, 2, generator=g), torch.randint(0, 1000, (b,), generator=g),
            torch.randn(b, w, A, generator=g))


def cond(seed=0, **kw):
    g = torch.Generator().manual_seed(seed)
    return Conditions(torch.randn(J, 2, generator=g), torch.ones(J), **kw)


@pytest.mark.parametrize("switch", [{}, {"audio_cross_attention": False}, {"audio_fusion": False},
                                    {"reference_tokens": False}, {"style_vector": False},
                                    {"speed_embedding": False}, {"mask_input": False},
                                    {"known_input": False}, {"patch_frames": 2},
                                    {"prediction_type": "epsilon"}, {"frame_head_kernel": 0},
                                    {"frame_head_kernel": 3}])
def test_forward_shape_for_every_switch(switch):
    model = MotionDiT_tiny(**{**SMALL, **switch})
    x, t, audio = inputs()
    out = model(x, t, audio=audio, reference=torch.randn(2, J, 2), style_id=torch.tensor([1, 0]),
                style_vec=torch.randn(2, 20), speed=torch.tensor([0.5, float("nan")]),
                drop_audio=torch.tensor([False, True]))
    assert out.shape == (2, 24, J, 2)
    assert torch.isfinite(out).all()


def test_zero_init_predicts_zero_and_nan_conditions_are_nulls():
    model = MotionDiT_tiny(**SMALL)
    x, t, audio = inputs()
    assert torch.all(model(x, t, audio=audio) == 0)  # adaLN-Zero: output layer starts at 0
    model = randomized(model)
    a = model(x, t, audio=audio, speed=torch.full((2,), float("nan")))
    b = model(x, t, audio=audio)  # speed None == all NaN == learned null speed
    assert torch.allclose(a, b)


@pytest.mark.parametrize("name,kwargs", [
    ("audio", dict(audio=True)), ("reference", dict(reference=True)), ("style", dict(style=True)),
    ("speed", dict(speed=True)), ("known", dict(known=True)), ("drop", dict(drop=True))])
def test_each_condition_changes_the_prediction(name, kwargs):
    model = randomized(MotionDiT_tiny(**SMALL))
    x, t, audio = inputs()
    base = dict(audio=audio, reference=torch.zeros(2, J, 2), style_id=torch.tensor([1, 1]),
                speed=torch.tensor([0.5, 0.5]), known=torch.zeros_like(x),
                known_mask=torch.zeros(2, 24, J), drop_audio=torch.tensor([False, False]))
    changed = dict(base)
    if "audio" in kwargs:
        changed["audio"] = audio + 1.0
    if "reference" in kwargs:
        changed["reference"] = torch.ones(2, J, 2)
    if "style" in kwargs:
        changed["style_id"] = torch.tensor([2, 2])
    if "speed" in kwargs:
        changed["speed"] = torch.tensor([2.0, 2.0])
    if "known" in kwargs:
        changed["known"], changed["known_mask"] = torch.ones_like(x), torch.ones(2, 24, J)
    if "drop" in kwargs:
        changed["drop_audio"] = torch.tensor([True, True])
    with torch.no_grad():
        assert not torch.allclose(model(x, t, **base), model(x, t, **changed)), name


def test_config_rejects_unknown_keys_and_bad_values():
    with pytest.raises(OptionError, match="unknown MotionDiT config keys"):
        MotionDiTConfig.from_dict({"width": 64, "widht": 32})
    with pytest.raises(OptionError, match="multiple of patch_frames"):
        MotionDiTConfig(window=30, patch_frames=4)
    with pytest.raises(OptionError, match="prev_frames"):
        MotionDiTConfig(window=24, prev_frames=24)
    with pytest.raises(OptionError, match="odd kernel"):
        MotionDiTConfig(frame_head_kernel=4)
    with pytest.raises(InputError, match="no MotionDiT checkpoint"):
        MotionDiT.resolve_checkpoint("/nonexistent/run")


def test_regions_map_into_local_index_space():
    r = local_regions()
    assert len(r["hands"]) == 42 and len(r["face"]) == 68 and len(r["lips"]) == 20
    assert len(r["body"]) == 11  # legs and feet are not in the local representation
    assert max(max(v) for v in r.values()) == J - 1


def test_style_vector_ignores_unseen_frames():
    z = np.zeros((10, J, 2), np.float32)
    vis = np.ones((10, J), bool)
    z[3] = 50.0
    vis[3] = False
    assert np.allclose(style_vector(z, vis), 0)
    assert style_vector(z).shape == (20,)


@pytest.mark.parametrize("sampler", ["dpm", "ddim"])
def test_sampling_is_deterministic_by_seed_and_long_audio_works(sampler):
    model = randomized(MotionDiT_tiny(**SMALL))
    audio = np.random.default_rng(0).normal(size=(70, A)).astype(np.float32)  # 4 windows
    kw = dict(num_steps=4, guidance_scale=2.0, sampler=sampler)
    a = sample_motion(model, audio, cond(), seed=3, **kw)
    b = sample_motion(model, audio, cond(), seed=3, **kw)
    c = sample_motion(model, audio, cond(), seed=4, **kw)
    assert a.shape == (70, J, 2)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_short_audio_gives_its_own_length():
    model = randomized(MotionDiT_tiny(**SMALL))
    audio = np.zeros((5, A), np.float32)
    assert sample_motion(model, audio, cond(), num_steps=2).shape == (5, J, 2)


def test_cfg_changes_the_output():
    model = randomized(MotionDiT_tiny(**SMALL))
    audio = np.random.default_rng(1).normal(size=(24, A)).astype(np.float32)
    off = sample_motion(model, audio, cond(), num_steps=4, guidance_scale=1.0)
    on = sample_motion(model, audio, cond(), num_steps=4, guidance_scale=3.0)
    assert np.abs(off - on).mean() > 1e-3


def test_known_frames_are_kept_exactly_in_later_windows():
    model = randomized(MotionDiT_tiny(**SMALL))
    audio = np.random.default_rng(2).normal(size=(44, A)).astype(np.float32)
    one = sample_motion(model, audio[:24], cond(), num_steps=3, seed=0)
    two = sample_motion(model, audio, cond(), num_steps=3, seed=0)
    # Window 1 starts at frame 20: frames 20-21 are given to it as known and kept exactly,
    # frames 22-23 are cross-faded with its own version of them; what precedes is untouched.
    assert np.array_equal(one[:22], two[:22])
    assert not np.allclose(one[22:], two[22:24])


def test_hands_first_changes_only_through_the_second_pass():
    model = randomized(MotionDiT_tiny(**SMALL))
    audio = np.random.default_rng(3).normal(size=(24, A)).astype(np.float32)
    plain = sample_motion(model, audio, cond(), num_steps=3)
    two = sample_motion(model, audio, cond(), num_steps=3, hands_first=True)
    hands = local_regions()["hands"]
    assert np.array_equal(plain[:, hands], two[:, hands])  # pass 1 plans the hands
    body = np.setdiff1d(np.arange(J), hands)
    assert not np.allclose(plain[:, body], two[:, body])   # pass 2 redoes the rest


def test_schedulers_come_from_diffusers_with_few_steps():
    cfg = MotionDiTConfig()
    s = make_scheduler("dpm", cfg, num_steps=10)
    assert type(s).__module__.startswith("diffusers.") and len(s.timesteps) == 10
    assert int(s.timesteps[0]) == 999  # trailing spacing starts from pure noise
    with pytest.raises(OptionError):
        make_scheduler("euler", cfg, num_steps=10)


def test_save_load_round_trip_gives_identical_samples(tmp_path):
    model = randomized(MotionDiT_tiny(**SMALL))
    model.save_pretrained(tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["width"] == 64 and (tmp_path / "model.safetensors").is_file()
    loaded = MotionDiT.from_pretrained(tmp_path)
    audio = np.random.default_rng(4).normal(size=(30, A)).astype(np.float32)
    a = sample_motion(model, audio, cond(), num_steps=3, seed=7)
    b = sample_motion(loaded, audio, cond(), num_steps=3, seed=7)
    assert np.array_equal(a, b)


def test_stitch_steps():
    from gesticulate.motion.diffusion import stitch_steps

    assert stitch_steps(100, 48, 8).tolist() == [39, 47, 79, 87]
    assert stitch_steps(30, 48, 8).tolist() == []

def test_the_mask_head_learns_to_read_activity_from_motion_it_has_not_seen():
    """The head sees only steps of the points, so what it learns on some motions holds on
    others: fitted to the measured activity of random hand and head movements, it reads new
    ones (correlation > 0.85 on hands and face; 0.97-0.99 when written)."""
    import numpy as np

    from gesticulate.models.motion_dit import MaskHead
    from gesticulate.skeleton import layout as L
    from gesticulate.skeleton.activity import activity_from_local
    from gesticulate.skeleton.normalize import LOCAL_ROW, NUM_LOCAL_POINTS

    def batch(rng, n=8, w=32):
        base = rng.normal(size=(n, 1, NUM_LOCAL_POINTS, 2))
        # piecewise steady velocities (a stroke, a hold), of the right hand and the head
        vel = np.repeat(rng.uniform(-0.06, 0.06, (n, w // 8, 1, 2)) * (rng.random((n, w // 8, 1, 1)) < 0.6), 8, 1)
        x = np.repeat(base, w, 1).copy()
        for rows, k in ((LOCAL_ROW[L.RIGHT_HAND], 0), (LOCAL_ROW[L.FACE], 1)):
            x[:, :, rows] += np.cumsum(vel[..., k:k + 1], 1)
        vis = np.ones(x.shape[:3], np.float32)
        act = np.stack([activity_from_local(m, vis[0], fps=25.0)[0] for m in x])
        return torch.tensor(x, dtype=torch.float32), torch.tensor(act)

    torch.manual_seed(0)
    head = MaskHead(NUM_LOCAL_POINTS, 32)
    opt = torch.optim.Adam(head.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    for _ in range(700):
        x, act = batch(rng)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(x, None), act)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, act = batch(np.random.default_rng(1))
    with torch.no_grad():
        pred = torch.sigmoid(head(x, None))
    for r in (0, 2):                                        # face, hands
        assert np.corrcoef(pred[..., r].flatten(), act[..., r].flatten())[0, 1] > 0.85


def test_a_checkpoint_with_the_first_audio_only_mask_head_loads_without_it(tmp_path, caplog):
    """Old checkpoints still load and sample: the one-release audio-only head (keys
    mask_head.0 / mask_head.2) is dropped with a warning, not a state-dict error."""
    import json

    from safetensors.torch import load_file, save_file

    from gesticulate.models.motion_dit import MotionDiT, MotionDiT_tiny
    m = MotionDiT_tiny()
    m.save_pretrained(tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**cfg, "mask_head": True}))
    w = load_file(tmp_path / "model.safetensors")
    d = cfg["width"]
    w.update({"mask_head.0.weight": torch.zeros(d // 2, d), "mask_head.0.bias": torch.zeros(d // 2),
              "mask_head.2.weight": torch.zeros(3, d // 2), "mask_head.2.bias": torch.zeros(3)})
    save_file(w, tmp_path / "model.safetensors")
    with caplog.at_level("WARNING"):
        back = MotionDiT.from_pretrained(tmp_path)
    assert not back.config.mask_head and "earlier kind" in caplog.text
    x = torch.randn(1, back.config.window, back.config.num_joints, 2)
    audio = torch.zeros(1, back.config.window, back.config.audio_dim)
    with torch.no_grad():
        assert torch.equal(back(x, torch.tensor([3]), audio=audio), m.eval()(x, torch.tensor([3]), audio=audio))
