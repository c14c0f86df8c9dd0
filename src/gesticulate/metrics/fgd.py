"""FGD: Fréchet distance between motion sets in the latent space of a motion autoencoder.

FGD (Yoon et al. 2020; used by EMAGE, EMO2, DiffSHEG) needs an autoencoder trained on the
data; numbers are only comparable under the same encoder, so every encoder carries a hash of
its config, weights and statistics (:attr:`FGDEncoder.hash`) that reports print beside FGD.

The encoder sees windows of ``window`` frames of upper-body local coordinates (neck root,
shoulder-width scale, 121 points, :mod:`gesticulate.skeleton.normalize`) z-scored with the
dataset's statistics; unseen points (confidence under ``min_confidence``) are set to the mean
and left out of the reconstruction loss. A checkpoint folder holds ``config.json``,
``model.safetensors`` and ``stats.npz`` (no pickle).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gesticulate.atomic import atomic_dir, check_folder_output
from gesticulate.config import checked
from gesticulate.errors import InputError, OptionError
from gesticulate.metrics._local import as_keypoints
from gesticulate.models.folders import (CONFIG_NAME, STATS_NAME, WEIGHTS_NAME, read_model,
                                        write_model)
from gesticulate.skeleton.normalize import NUM_LOCAL_POINTS, NormStats, to_local


@dataclass
class FGDConfig:
    window: int = 32              # frames per window (1.3 s at 25 fps)
    stride: int = 16              # hop between windows when extracting features
    hidden: int = 256             # conv channels
    latent: int = 128             # size of the feature FGD is computed on
    min_confidence: float = 0.3   # points under it are unseen (masked)
    num_points: int = NUM_LOCAL_POINTS

    @classmethod
    def from_dict(cls, d: dict) -> "FGDConfig":
        return cls(**checked(cls, d, what="FGD config keys", error=InputError,
                              hint='the checkpoint was written by another version — retrain it with `gesticulate train-fgd`'))


class MotionAutoencoder(nn.Module):
    """1-D temporal conv autoencoder: (B, window, 2·points) → latent (B, latent) → back."""

    def __init__(self, cfg: FGDConfig):
        super().__init__()
        assert cfg.window % 4 == 0, "window must be a multiple of 4 (two stride-2 convs)"
        c, h, self.t4 = 2 * cfg.num_points, cfg.hidden, cfg.window // 4
        act = nn.LeakyReLU(0.2)
        self.enc = nn.Sequential(
            nn.Conv1d(c, h, 3, padding=1), act,
            nn.Conv1d(h, h, 4, stride=2, padding=1), act,   # window/2
            nn.Conv1d(h, h, 4, stride=2, padding=1), act)   # window/4
        self.to_latent = nn.Linear(h * self.t4, cfg.latent)
        self.from_latent = nn.Linear(cfg.latent, h * self.t4)
        self.dec = nn.Sequential(
            act, nn.ConvTranspose1d(h, h, 4, stride=2, padding=1), act,
            nn.ConvTranspose1d(h, h, 4, stride=2, padding=1), act,
            nn.Conv1d(h, c, 3, padding=1))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        h = self.enc(x.transpose(1, 2))                     # (B, hidden, window/4)
        return self.to_latent(h.flatten(1))                 # (B, latent)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = self.from_latent(z).view(len(z), -1, self.t4)   # (B, hidden, window/4)
        return self.dec(h).transpose(1, 2)                  # (B, window, 2·points)


def _sequences(data) -> list[np.ndarray]:
    """Clips, SkeletonSequences or (T, 133, 3) arrays → list of keypoint arrays."""
    return [as_keypoints(getattr(d, "skeleton", d)) for d in data]


def _windows(kps: list[np.ndarray], stats: NormStats, cfg: FGDConfig,
             stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Z-scored windows ``(N, window, 2·points)`` and their seen-masks, same shape."""
    xs, ms = [], []
    for kp in kps:
        local, conf = to_local(kp)
        z = stats.normalize(local)                              # (T, P, 2)
        seen = np.repeat((conf >= cfg.min_confidence)[..., None], 2, axis=-1)
        z = np.where(seen, z, 0.0).reshape(len(z), -1)
        seen = seen.reshape(len(z), -1)
        for s in range(0, len(z) - cfg.window + 1, stride):
            xs.append(z[s:s + cfg.window])
            ms.append(seen[s:s + cfg.window])
    if not xs:
        raise InputError(f"no sequence has {cfg.window} frames; FGD needs clips of at least "
                         f"{cfg.window} frames")
    return np.stack(xs).astype(np.float32), np.stack(ms).astype(np.float32)


class FGDEncoder:
    """A trained motion autoencoder used as FGD's feature extractor."""

    def __init__(self, model: MotionAutoencoder, config: FGDConfig, stats: NormStats):
        self.model, self.config, self.stats = model.eval(), config, stats

    @property
    def hash(self) -> str:
        """First 16 hex digits of the SHA-256 of config, weights and statistics."""
        h = hashlib.sha256(json.dumps(asdict(self.config), sort_keys=True).encode())
        for name, t in sorted(self.model.state_dict().items()):
            h.update(name.encode())
            h.update(t.detach().cpu().contiguous().numpy().astype("<f4").tobytes())
        h.update(self.stats.mean.astype("<f4").tobytes())
        h.update(self.stats.std.astype("<f4").tobytes())
        return h.hexdigest()[:16]

    @torch.no_grad()
    def features(self, data, *, batch_size: int = 256) -> np.ndarray:
        """Latent features ``(N, latent)`` of every window (hop ``config.stride``) of the data."""
        x, _ = _windows(_sequences(data), self.stats, self.config, self.config.stride)
        out = [self.model.encode(torch.from_numpy(x[i:i + batch_size]))
               for i in range(0, len(x), batch_size)]
        return torch.cat(out).double().numpy()

    def save(self, folder: str | os.PathLike) -> Path:
        """Write ``config.json`` (with the hash), ``model.safetensors`` and ``stats.npz`` into a
        new folder, atomically."""
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        with atomic_dir(folder, what="FGD encoder") as tmp:
            write_model(tmp, {**asdict(self.config), "hash": self.hash}, self.model, sort_keys=True)
            self.stats.save(tmp / STATS_NAME)
        return folder

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike) -> "FGDEncoder":
        """Load a folder written by :meth:`save` / :func:`train_fgd_encoder`."""
        folder = Path(folder)
        need = (CONFIG_NAME, WEIGHTS_NAME, STATS_NAME)
        if not all((folder / n).is_file() for n in need):
            raise InputError(f"{folder} is not an FGD encoder folder (needs {', '.join(need)}); "
                             "train one with `gesticulate train-fgd --dataset DIR`")
        d, weights = read_model(folder)
        saved_hash = d.pop("hash", None)
        cfg = FGDConfig.from_dict(d)
        model = MotionAutoencoder(cfg)
        model.load_state_dict(weights)
        enc = cls(model, cfg, NormStats.load(folder / STATS_NAME))
        if saved_hash is not None and saved_hash != enc.hash:
            raise InputError(f"{folder}: weights do not match the hash in config.json; the "
                             "folder was modified — retrain or restore it")
        return enc


def train_fgd_encoder(data, *, output: str | os.PathLike, steps: int = 3000, seed: int = 0,
                      config: FGDConfig | None = None, stats: NormStats | None = None,
                      batch_size: int = 64, lr: float = 1e-3, device: str = "cpu",
                      progress: bool = True) -> FGDEncoder:
    """Train the FGD motion autoencoder and save it to ``output``.

    Parameters
    ----------
    data : iterable of Clip, SkeletonSequence or np.ndarray (T, 133, 3)
        Training motion, e.g. ``iter_clips(root, split="train")``.
    output : folder to create (must not exist or be empty).
    steps, seed, batch_size, lr, device
        Optimisation settings (Adam; masked MSE reconstruction).
    config : FGDConfig, optional
    stats : NormStats, optional
        The dataset's statistics (``stats.npz``); fitted on ``data`` when None.
    """
    from tqdm import tqdm

    cfg = config or FGDConfig()
    if steps < 1:
        raise OptionError(f"steps must be at least 1, got {steps}")
    check_folder_output(output, what="FGD encoder")        # before the training, not after
    kps = _sequences(data)
    if not kps:
        raise InputError("no training motion given; point train-fgd at a dataset with train clips")
    if stats is None:
        pairs = [to_local(k) for k in kps]
        stats = NormStats.fit([p[0] for p in pairs], [p[1] for p in pairs],
                              threshold=cfg.min_confidence)
    x, m = _windows(kps, stats, cfg, stride=max(1, cfg.window // 8))
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = MotionAutoencoder(cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    model.train()
    for _ in tqdm(range(steps), desc="train FGD encoder", disable=not progress):
        i = rng.integers(0, len(x), size=min(batch_size, len(x)))
        xb, mb = torch.from_numpy(x[i]).to(device), torch.from_numpy(m[i]).to(device)
        rec = model.decode(model.encode(xb))
        loss = (((rec - xb) ** 2) * mb).sum() / mb.sum().clamp(min=1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    enc = FGDEncoder(model.cpu(), cfg, stats)
    enc.save(output)
    return enc


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray, *, eps: float = 1e-6) -> float:
    """Fréchet distance ‖μa−μb‖² + Tr(Σa + Σb − 2(ΣaΣb)^½) between two feature sets.

    ``feats_*`` are ``(N, D)`` with N ≥ 2. As in the reference FID code, when the matrix square
    root is not finite (near-singular covariances, e.g. N < D) ``eps·I`` is added to both
    covariances; a small imaginary part from numerical error is dropped.
    """
    from scipy import linalg

    a, b = np.asarray(feats_a, np.float64), np.asarray(feats_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise InputError(f"Fréchet distance needs two (N, D) sets with N >= 2 and the same D; "
                         f"got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with np.errstate(all="ignore"):
        covmean = linalg.sqrtm(s_a @ s_b)
    if not np.isfinite(covmean).all():
        off = np.eye(len(s_a)) * eps
        covmean = linalg.sqrtm((s_a + off) @ (s_b + off))
    covmean = covmean.real
    d = mu_a - mu_b
    return float(max(d @ d + np.trace(s_a) + np.trace(s_b) - 2 * np.trace(covmean), 0.0))


def fgd(encoder: FGDEncoder, generated, real) -> float:
    """FGD between generated and real motion (each an iterable of clips / sequences / arrays)."""
    return frechet_distance(encoder.features(generated), encoder.features(real))
