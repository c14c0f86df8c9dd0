"""The diffusion renderer's denoiser, conditions and chunked sampler (tiny configs, CPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from _render_diffusion_data import SMALL, randomized
from gesticulate.errors import InputError, OptionError
from gesticulate.models.init_weights import load_compatible
from gesticulate.models.renderer_attention import MaskedAudioAttnProcessor
from gesticulate.models.renderer_unet import RendererConfig, RendererUNet, Renderer_tiny
from gesticulate.render.conditions import Letterbox, audio_windows, frame_conditions, motion_masks, region_masks
from gesticulate.render.diffusion import denoise_chunk, frame_noise

S, T, A = 32, 3, 84


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def inputs(b: int = 1, t: int = T, *, seed: int = 0, masks: bool = True) -> dict:
    g = torch.Generator().manual_seed(seed)
    m = torch.zeros(b, t, 3, S, S)
    if masks:
        m[..., 0, 4:14, 10:22] = 1      # face
        m[..., 1, 10:14, 13:19] = 1     # lips
        m[..., 2, 20:30, 2:10] = 1      # hands
    return dict(pose=torch.rand(b, t, 3, S, S, generator=g), masks=m,
                audio=torch.randn(b, t, 5, A, generator=g), hand_conf=torch.rand(b, t, 2, generator=g),
                reference=torch.randn(b, 3, S, S, generator=g), reference_hand_conf=torch.rand(b, 2, generator=g))


def model(**kw) -> RendererUNet:
    torch.manual_seed(0)
    return randomized(Renderer_tiny(**{**SMALL, **kw}))


def test_forward_shape_and_determinism():
    m = model()
    x = torch.randn(2, T, 3, S, S)
    kw = inputs(2)
    motion = torch.randn(2, 1, 3, S, S)
    with torch.no_grad():
        a = m(x, torch.tensor([10, 900]), motion=motion, **kw)
        b = m(x, torch.tensor([10, 900]), motion=motion, **kw)
    assert a.shape == (2, T, 3, S, S)
    assert torch.equal(a, b)


def test_batch_equals_one_by_one():
    m = model()
    x = torch.randn(2, T, 3, S, S)
    kw = inputs(2)
    t = torch.tensor([100, 700])
    with torch.no_grad():
        both = m(x, t, **kw)
        one = m(x[1:], t[1:], **{k: v[1:] for k, v in kw.items()})
    assert torch.allclose(both[1:], one, atol=1e-5)


def test_save_load_round_trip_is_identical(tmp_path):
    m = model()
    m.save_pretrained(tmp_path)
    back = RendererUNet.from_pretrained(tmp_path)
    x = torch.randn(1, T, 3, S, S)
    with torch.no_grad():
        assert torch.equal(m(x, torch.tensor([500]), **inputs()), back(x, torch.tensor([500]), **inputs()))
    assert back.config == m.config
    # A config.json written before motion masks existed came from a renderer trained on boxes.
    import json
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg.pop("mask_shape") == "motion"
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    assert RendererUNet.from_pretrained(tmp_path).config.mask_shape == "box"


def test_unknown_config_keys_and_bad_sizes_are_rejected():
    with pytest.raises(OptionError, match="unknown renderer config"):
        RendererConfig.from_dict({"widht": 3})
    with pytest.raises(OptionError, match="divisible"):
        RendererConfig(image_size=30, block_channels=(16, 32, 32), attention_levels=(False, True, True))
    with pytest.raises(InputError, match="no renderer checkpoint"):
        RendererUNet.from_pretrained("/nonexistent/folder")


def test_audio_attention_is_zero_outside_the_masks_and_follows_audio_inside():
    """MMGT: each attn2 output is exactly zero outside the region masks, for any audio."""
    m = model()
    outs: list[list[torch.Tensor]] = [[], []]
    run = [0]

    def keep(mod, args, out):
        if out.shape[0] == T:               # the denoising pass (the reference pass has no audio)
            outs[run[0]].append(out)

    hooks = [mod.register_forward_hook(keep) for mod in m.modules()
             if isinstance(mod, MaskedAudioAttnProcessor)]
    x = torch.randn(1, T, 3, S, S)
    kw = inputs()
    with torch.no_grad():
        m(x, torch.tensor([300]), **kw)
        run[0] = 1
        m(x, torch.tensor([300]), **{**kw, "audio": kw["audio"] + 3.0})
    for h in hooks:
        h.remove()
    assert len(outs[0]) == len(outs[1]) >= 3
    for a, b in zip(*outs):                                      # (T, N, C) per attention layer
        side = int(round(a.shape[1] ** 0.5))
        cov = torch.nn.functional.adaptive_avg_pool2d(kw["masks"][0], side).flatten(2).sum(1)  # (T, N)
        outside = cov == 0
        assert outside.any() and (~outside).any()
        assert torch.equal(a[outside], torch.zeros_like(a[outside]))
        assert torch.equal(a[outside], b[outside])
        assert not torch.allclose(a[~outside], b[~outside])


def test_audio_changes_nothing_without_masks_and_something_with_them():
    m = model()
    x = torch.randn(1, T, 3, S, S)
    t = torch.tensor([300])
    with torch.no_grad():
        for masked in (False, True):
            kw = inputs(masks=masked)
            a = m(x, t, **kw)
            b = m(x, t, **{**kw, "audio": -kw["audio"]})
            assert torch.equal(a, b) != masked


def test_reference_hand_confidence_and_pose_all_change_the_output():
    m = model()
    x = torch.randn(1, T, 3, S, S)
    t = torch.tensor([300])
    kw = inputs()
    with torch.no_grad():
        base = m(x, t, **kw)
        for change in ({"drop_reference": torch.tensor([True])},
                       {"drop_audio": torch.tensor([True])},
                       {"hand_conf": 1 - kw["hand_conf"]},
                       {"pose": torch.zeros_like(kw["pose"])},
                       {"motion": torch.randn(1, 1, 3, S, S)}):
            assert (m(x, t, **{**kw, **change}) - base).abs().mean() > 1e-4, change


def test_reference_tokens_are_attended():
    """Without the channel concat the reference reaches the frames only through attention."""
    m = model(reference_concat=False)
    x = torch.randn(1, T, 3, S, S)
    kw = inputs()
    with torch.no_grad():
        a = m(x, torch.tensor([300]), **kw)
        b = m(x, torch.tensor([300]), **{**kw, "reference": torch.randn(1, 3, S, S)})
    assert (a - b).abs().mean() > 1e-4


def test_denoise_chunk_is_deterministic_and_cfg_matters():
    m = model()
    kw = inputs()
    cond = {**kw, "motion": None, "audio_on": True}
    noise = torch.stack([frame_noise(0, i, (3, S, S)) for i in range(T)])[None]
    a = denoise_chunk(m, noise, cond, num_steps=3, guidance_scale=1.0)
    b = denoise_chunk(m, noise, cond, num_steps=3, guidance_scale=1.0)
    c = denoise_chunk(m, noise, cond, num_steps=3, guidance_scale=3.0)
    assert a.shape == (1, T, 3, S, S) and torch.equal(a, b)
    assert (a - c).abs().mean() > 1e-4


def test_frame_noise_depends_on_seed_and_index_only():
    assert torch.equal(frame_noise(1, 5, (2, 2)), frame_noise(1, 5, (2, 2)))
    assert not torch.equal(frame_noise(1, 5, (2, 2)), frame_noise(1, 6, (2, 2)))
    assert not torch.equal(frame_noise(1, 5, (2, 2)), frame_noise(2, 5, (2, 2)))


def test_init_from_a_diffusers_folder_loads_matching_weights(tmp_path):
    """A tiny model saved in diffusers layout (unet/) initialises a fresh one by name and shape."""
    src = model(reference_concat=False)
    src.unet.save_pretrained(tmp_path / "unet")          # diffusers layout, safetensors
    assert (tmp_path / "unet" / "diffusion_pytorch_model.safetensors").is_file()
    torch.manual_seed(1)
    dst = Renderer_tiny(**SMALL)                          # reference concatenated: conv_in is wider
    before = {k: v.clone() for k, v in dst.state_dict().items()}
    rep = load_compatible(dst, tmp_path)
    sd_src, sd_dst = src.unet.state_dict(), dst.state_dict()
    assert "unet.conv_in.weight" in rep.widened
    w = sd_dst["unet.conv_in.weight"]
    assert torch.equal(w[:, :3], sd_src["conv_in.weight"]) and not w[:, 3:].any()
    assert len(rep.loaded) == len(sd_src) - 1 and not rep.mismatched
    for name in rep.loaded:
        assert torch.equal(sd_dst[name], sd_src[name[len("unet."):]])
    assert torch.equal(sd_dst["pose_encoder.net.0.weight"], before["pose_encoder.net.0.weight"])  # not in SD


def test_init_refuses_pickles_and_missing_weights(tmp_path):
    (tmp_path / "unet").mkdir()
    (tmp_path / "unet" / "diffusion_pytorch_model.bin").write_bytes(b"x")
    with pytest.raises(InputError, match="safetensors"):
        load_compatible(model(), tmp_path)


def test_region_masks_box_the_regions_and_skip_unseen_ones():
    kp = np.zeros((133, 3), np.float32)
    kp[91:112] = (8, 20, 0.9)        # left hand at one point
    kp[91, :2] = (6, 18)
    m = region_masks(kp, size=32)
    assert m.shape == (3, 32, 32)
    assert m[0].sum() == 0 and m[1].sum() == 0          # face and lips unseen
    assert m[2, 20, 8] == 1 and m[2, 0, 31] == 0


def test_motion_masks_follow_the_regions_shape_sweep_and_activity():
    """MMGT motion masks: a hand's mask is the hull of its points over the sweep (a diagonal
    forearm-long hand fills far less than its box), it reaches where the hand goes next, and
    its value is the region's activity."""
    t, size = 5, 64
    kp = np.zeros((t, 133, 3), np.float32)
    line = np.linspace(0, 1, 21)[:, None] * (30, 30)           # a thin diagonal hand
    for i in range(t):
        kp[i, 112:133, :2] = (10 + 4 * i, 10) + line
        kp[i, 112:133, 2] = 0.9
    act = np.zeros((t, 3), np.float32)
    act[:, 2] = 0.5
    m = motion_masks(kp, act, size=size, margin=0.1, sweep=0)
    assert m.shape == (t, 3, size, size) and m.dtype == np.uint8
    assert m[:, :2].max() == 0                                 # face and lips unseen
    assert set(np.unique(m[0, 2])) == {0, 128}                 # 0.5 of 255
    box = region_masks(kp[0], size=size, margin=0.1)[2]
    assert (m[0, 2] > 0).sum() < 0.5 * box.sum()
    swept = motion_masks(kp, act, size=size, margin=0.1, sweep=2)
    assert swept[0, 2, 36, 44] > 0 and m[0, 2, 36, 44] == 0      # where the hand is at frame 2
    # A still region gets no audio attention; the conditions measure activity themselves.
    f = frame_conditions(kp[:1].repeat(t, 0), size=size, shape="motion")
    assert f["masks"].max() == 0
    f = frame_conditions(kp, size=size, shape="motion")
    assert f["masks"][:, 2].max() > 0
    with pytest.raises(OptionError, match="mask shape"):
        frame_conditions(kp, size=size, shape="blob")


def test_letterbox_round_trip_and_audio_windows():
    box = Letterbox(40, 20, 32)
    img = np.random.default_rng(0).integers(0, 255, (20, 40, 3), dtype=np.uint8)
    sq = box.image(img)
    assert sq.shape == (32, 32, 3)
    back = box.unbox(sq)
    assert back.shape == img.shape and np.abs(back.astype(int) - img).mean() < 60
    kp = np.array([[[40.0, 20.0, 1.0]]])
    assert np.allclose(box.keypoints(kp)[0, 0, :2], (32, 24))
    f = np.arange(5, dtype=np.float32)[:, None]
    w = audio_windows(f, radius=1, num_frames=6)
    assert w.shape == (6, 3, 1) and w[0, :, 0].tolist() == [0, 0, 1] and w[5, :, 0].tolist() == [4, 4, 4]


def test_threads_sharing_one_model_keep_their_own_pass_state():
    """The attention context (mode, bank, masks) is per thread: two threads running one model
    with different masks get what each gets alone."""
    import copy
    import threading
    m = model()
    x = torch.randn(1, T, 3, S, S)
    kws = [inputs(1, seed=0), inputs(1, seed=1, masks=False)]
    with torch.no_grad():
        alone = [m(x, torch.tensor([500]), **kw) for kw in kws]
    results: dict = {}
    start = threading.Barrier(2)

    def run(i):
        start.wait()
        with torch.no_grad():
            results[i] = [m(x, torch.tensor([500]), **kws[i]) for _ in range(3)]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for i in range(2):
        assert all(torch.equal(r, alone[i]) for r in results[i])
    twin = copy.deepcopy(m)             # as AveragedModel copies it: its own context
    assert twin.ctx is not m.ctx
    assert all(p.ctx is twin.ctx for p in twin.unet.attn_processors.values())
    with torch.no_grad():
        assert torch.equal(twin(x, torch.tensor([500]), **kws[0]), alone[0])
