"""FGD: the Fréchet distance, the motion autoencoder's training, saving, hash and behaviour."""

from __future__ import annotations

import json

import numpy as np
import pytest

from _metrics_helpers import SHOULDER_WIDTH_PX as SW, still
from gesticulate.errors import InputError, OutputError
from gesticulate.metrics.fgd import FGDConfig, FGDEncoder, fgd, frechet_distance, train_fgd_encoder

CFG = FGDConfig(window=16, stride=8, hidden=32, latent=8)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def gesture_clips(n: int, *, seed: int, num_frames: int = 64) -> list[np.ndarray]:
    """Arms swinging with random frequency, amplitude and phase (a toy motion distribution)."""
    rng = np.random.default_rng(seed)
    t = np.arange(num_frames) / 25.0
    clips = []
    for _ in range(n):
        kp = still(num_frames)
        for joints, sign in (((7, 9, *range(91, 112)), 1), ((8, 10, *range(112, 133)), -1)):
            f, a, p = rng.uniform(0.5, 2.0), rng.uniform(0.1, 0.4), rng.uniform(0, 6.3)
            kp[:, list(joints), 1] += (sign * a * SW * np.sin(2 * np.pi * f * t + p))[:, None]
        clips.append(kp)
    return clips


def test_frechet_distance_known_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (4000, 4))
    b = rng.normal(1, 1, (4000, 4))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(a, b) == pytest.approx(4.0, rel=0.05)       # ‖μa−μb‖² = 4
    c = rng.normal(0, 2, (4000, 4))                                     # Tr: 4·(1 + 4 − 2·2) = 4
    assert frechet_distance(a, c) == pytest.approx(4.0, rel=0.08)
    few = rng.normal(0, 1, (5, 16))                                     # singular covariances
    assert np.isfinite(frechet_distance(few, few + 0.1))
    with pytest.raises(InputError):
        frechet_distance(a, b[:, :3])


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    out = tmp_path_factory.mktemp("fgd") / "enc"
    return train_fgd_encoder(gesture_clips(24, seed=0), output=out, steps=150, seed=0,
                             config=CFG, progress=False), out


def test_fgd_self_zero_and_grows_with_noise(encoder):
    enc, _ = encoder
    real = gesture_clips(24, seed=1)
    same_dist = gesture_clips(24, seed=2)
    assert fgd(enc, real, real) == pytest.approx(0.0, abs=1e-6)
    values = []
    for sd in (0.0, 0.05, 0.2):
        rng = np.random.default_rng(3)
        noisy = [c.copy() for c in same_dist]
        for c in noisy:
            c[..., :2] += rng.normal(0, sd * SW, c[..., :2].shape)
        values.append(fgd(enc, noisy, real))
    assert values[0] < values[1] < values[2], values
    assert values[2] > 5 * values[0], values


def test_encoder_roundtrip_hash_and_tamper_check(encoder, tmp_path):
    enc, folder = encoder
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors",
                                                         "stats.npz"]
    again = FGDEncoder.from_pretrained(folder)
    assert again.hash == enc.hash and len(enc.hash) == 16
    clips = gesture_clips(2, seed=5)
    np.testing.assert_allclose(again.features(clips), enc.features(clips), rtol=1e-6)
    assert again.features(clips).shape == (2 * 7, CFG.latent)          # (64-16)/8+1 windows
    cfg = json.loads((folder / "config.json").read_text())
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("model.safetensors", "stats.npz"):
        (bad / name).write_bytes((folder / name).read_bytes())
    (bad / "config.json").write_text(json.dumps({**cfg, "hash": "0" * 16}))
    with pytest.raises(InputError, match="hash"):
        FGDEncoder.from_pretrained(bad)
    (bad / "config.json").write_text(json.dumps({**cfg, "extra": 1}))
    with pytest.raises(InputError, match="unknown"):
        FGDEncoder.from_pretrained(bad)
    with pytest.raises(OutputError):
        enc.save(folder)


def test_train_is_deterministic_and_rejects_short_clips(tmp_path):
    clips = gesture_clips(4, seed=0)
    a = train_fgd_encoder(clips, output=tmp_path / "a", steps=3, seed=7, config=CFG, progress=False)
    b = train_fgd_encoder(clips, output=tmp_path / "b", steps=3, seed=7, config=CFG, progress=False)
    assert a.hash == b.hash
    with pytest.raises(InputError, match="frames"):
        train_fgd_encoder([c[:10] for c in clips], output=tmp_path / "c", steps=3, config=CFG,
                          progress=False)
    assert not (tmp_path / "c").exists()
