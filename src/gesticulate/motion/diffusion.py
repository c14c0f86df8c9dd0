"""The ``diffusion`` stage-1 generator: MotionDiT sampled window after window.

Audio of any length is cut into windows of ``window`` frames that overlap by
``prev_frames``; each window after the first is given the previous window's last frames as
known (EMO2 / CSG continuity), so the motion runs on with no seam. Each window is denoised
by a ``diffusers`` scheduler (DPM-Solver++ or DDIM, 10 steps or fewer) with classifier-free
guidance on audio; the loop is written out in :func:`denoise_window`. The optional
hands-then-body mode (EMO2: hands are the end effector, the body follows) samples a window,
keeps its hands, and samples the rest again with the hands given.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from gesticulate.audio.features import AudioFeatures, num_frames
from gesticulate.audio.phones import model_audio
from gesticulate.errors import InputError, OptionError
from gesticulate.models.folders import META_NAME, STATS_NAME
from gesticulate.models.motion_dit import MotionDiT, local_regions, style_vector
from gesticulate.models.schedulers import SAMPLERS, make_scheduler
from gesticulate.motion.base import check_inputs, register
from gesticulate.skeleton.normalize import CONFIDENCE_THRESHOLD, NormStats, from_local, to_local
from gesticulate.skeleton.layout import neck, shoulder_width
from gesticulate.skeleton.sequence import SkeletonSequence
from gesticulate.windows import window_starts


@dataclass
class Conditions:
    """Everything but audio that conditions sampling (one sample; tensors on the device)."""

    reference: torch.Tensor        # (J, 2) normalised local reference pose
    reference_mask: torch.Tensor   # (J,) 1 where the reference point was seen
    style_id: int = 0              # 0 = unknown
    style_vec: torch.Tensor | None = None  # (20,) or None
    speed: float = float("nan")    # shoulder widths per second; NaN = not given


@torch.no_grad()
def denoise_window(model: MotionDiT, audio: torch.Tensor, cond: Conditions, *,
                   known: torch.Tensor, known_mask: torch.Tensor, generator: torch.Generator,
                   num_steps: int, guidance_scale: float, sampler: str) -> torch.Tensor:
    """Sample one window ``(W, J, 2)`` given its audio ``(W, A)`` and known values/mask."""
    cfg, dev = model.config, audio.device
    w, j = audio.shape[0], cfg.num_joints
    sched = make_scheduler(sampler, cfg, num_steps=num_steps)
    use_cfg = guidance_scale != 1.0
    n = 2 if use_cfg else 1  # batch row 0: with audio, row 1: learned null audio (CFG)
    audio_emb = model.encode_audio(audio[None].expand(n, -1, -1),
                                   torch.arange(n, device=dev) == 1)               # (n, W, D)
    audio_kv = model.audio_keys_values(audio_emb)  # once per window, not once per step
    rep = lambda v: None if v is None else v[None].expand(n, *v.shape)  # noqa: E731
    extra = dict(known=rep(known), known_mask=rep(known_mask), reference=rep(cond.reference),
                 reference_mask=rep(cond.reference_mask),
                 style_id=torch.full((n,), cond.style_id, device=dev), style_vec=rep(cond.style_vec),
                 speed=torch.full((n,), cond.speed, device=dev))
    noise = torch.randn((1, w, j, 2), generator=generator).to(dev)
    x = noise * sched.init_noise_sigma                                             # (1, W, J, 2)
    km = known_mask[None, ..., None] > 0
    for t in sched.timesteps:
        x_in = sched.scale_model_input(x, t).expand(n, -1, -1, -1)                 # (n, W, J, 2)
        pred = model(x_in, t.to(dev).expand(n), audio_emb=audio_emb, audio_kv=audio_kv,
                     **extra).float()
        if use_cfg:
            pred = pred[1:] + guidance_scale * (pred[:1] - pred[1:])              # (1, W, J, 2)
        if cfg.prediction_type == "sample":  # keep known values exact in the x0 estimate
            pred = torch.where(km, known[None], pred)
        x = sched.step(pred, t, x).prev_sample                                     # (1, W, J, 2)
    return torch.where(km, known[None], x)[0]                                      # (W, J, 2)


def stitch_steps(num_frames: int, window: int, prev_frames: int) -> np.ndarray:
    """Indices ``i`` of the steps (frame ``i`` → ``i + 1``) where :func:`sample_motion` joins
    a window on: into its first frame (it rewrites the overlap) and from the end of the
    overlap to its first new frame. A seamless sampler moves no faster there than elsewhere."""
    steps = [i for s in window_starts(num_frames, window=window, overlap=prev_frames)[1:]
             for i in (s - 1, s + prev_frames - 1)]
    return np.array([i for i in steps if i < num_frames - 1], dtype=int)


def sample_motion(model: MotionDiT, audio: np.ndarray, cond: Conditions, *, seed: int = 0,
                  num_steps: int = 10, guidance_scale: float = 2.0, sampler: str = "dpm",
                  hands_first: bool = False, progress: bool = False) -> np.ndarray:
    """Normalised motion ``(T, J, 2)`` for audio features ``(T, A)`` of any length.

    Windows start every ``window - prev_frames`` frames; window ``k > 0`` is given the first
    half of its overlap with what is already generated as known, and the second half is
    generated again and cross-faded in. Window ``k`` draws its noise from
    ``seed`` and ``k``, so the output depends only on the inputs and the seed.
    """
    cfg = model.config
    dev = next(model.parameters()).device
    w, p, j = cfg.window, cfg.prev_frames, cfg.num_joints
    t_total = audio.shape[0]
    starts = window_starts(t_total, window=w, overlap=p)
    a_pad = np.zeros((starts[-1] + w, audio.shape[1]), np.float32)  # zeros = silence
    out = torch.zeros(len(a_pad), j, 2, device=dev)
    a_pad[:t_total] = audio
    hands = torch.zeros(j, device=dev)
    hands[torch.as_tensor(local_regions()["hands"], device=dev)] = 1.0
    done = 0  # frames already generated
    for k, s in enumerate(tqdm(starts, desc="motion windows", disable=not progress, leave=False)):
        gen = torch.Generator().manual_seed(int(seed) * 100003 + k)
        known = out[s:s + w].clone()                                               # (W, J, 2)
        overlap = max(0, min(done - s, w))
        blend = overlap // 2 if k > 0 else 0
        known_mask = torch.zeros(w, j, device=dev)
        known_mask[:overlap - blend] = 1.0  # the first part of the overlap is given as known
        a = torch.from_numpy(a_pad[s:s + w]).to(dev)
        kw = dict(generator=gen, num_steps=num_steps, guidance_scale=guidance_scale, sampler=sampler)
        y = denoise_window(model, a, cond, known=known, known_mask=known_mask, **kw)
        if hands_first:  # EMO2: the hands are planned first, the body follows them
            known2 = torch.where(hands[None, :, None] > 0, y, known)
            y = denoise_window(model, a, cond, known=known2,
                               known_mask=torch.maximum(known_mask, hands[None].expand(w, -1)), **kw)
        # The rest of the overlap is generated again and cross-faded into what exists, which
        # spreads any mismatch over `blend` frames instead of one step.
        alpha = torch.arange(1, blend + 1, device=dev, dtype=y.dtype) / (blend + 1)
        o = slice(overlap - blend, overlap)
        y[o] = (1 - alpha[:, None, None]) * known[o] + alpha[:, None, None] * y[o]
        out[s:s + w] = y
        done = s + w
    return out[:t_total].cpu().numpy()


@register("diffusion")
class DiffusionGenerator:
    """Stage-1 motion from a trained MotionDiT checkpoint (the ``diffusion`` generator).

    Parameters
    ----------
    checkpoint : path
        A checkpoint folder (config.json, model.safetensors, stats.npz, meta.json) or a
        training run folder (its newest checkpoint is used).
    num_steps : int
        Denoising steps per window (1–50; 10 is plenty for DPM-Solver++).
    guidance_scale : float
        Classifier-free guidance on audio; 1 = off.
    sampler : {"dpm", "ddim"}
    hands_first : bool
        EMO2's end-effector mode: hands first, then the body given the hands (twice the cost).
    device : str or None
        "cuda", "cpu", ...; None picks CUDA when available.
    """

    smooth_samples = True   # sampled motion jitters: the pipeline smooths it (DCSG) before fitting

    def __init__(self, checkpoint: str | os.PathLike, *, num_steps: int = 10,
                 guidance_scale: float = 2.0, sampler: str = "dpm", hands_first: bool = False,
                 device: str | None = None, audio_encoder: str | os.PathLike | None = None):
        if not 1 <= int(num_steps) <= 50:
            raise OptionError(f"num_steps {num_steps} out of range; use 1 to 50 (10 is typical)")
        if sampler not in SAMPLERS:
            raise OptionError(f"unknown sampler {sampler!r}; use one of {', '.join(SAMPLERS)}")
        self.folder = MotionDiT.resolve_checkpoint(checkpoint)
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = MotionDiT.from_pretrained(self.folder, device=device)
        self.stats = NormStats.load(self.folder / STATS_NAME)
        meta_path = self.folder / META_NAME
        self.meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        self.num_steps, self.guidance_scale, self.sampler = int(num_steps), float(guidance_scale), sampler
        self.hands_first = hands_first
        self.encoder = self._encoder(audio_encoder, device)

    @property
    def hears_waveform(self) -> bool:
        """Whether :meth:`generate` needs the waveform (``audio=``): a speech encoder's model."""
        return self.encoder is not None

    def _encoder(self, folder, device):
        """The speech encoder the model was trained with: ``folder``, else the one its run
        names; None for a model without one."""
        dim = self.model.config.encoder_dim
        if not dim:
            if folder is not None:
                raise OptionError(f"--audio-encoder: {self.folder} was trained without a speech "
                                  "encoder; leave the option out")
            return None
        from gesticulate.audio.encoder import SpeechEncoder
        named = self.meta.get("audio_encoder", {})
        folder = folder or named.get("folder")
        if folder is None or not Path(folder).is_dir():
            raise InputError(f"{self.folder} hears the speech encoder of "
                             f"{named.get('folder', 'an unnamed folder')}, which is not there; "
                             "pass its folder with --audio-encoder")
        enc = SpeechEncoder(folder, device=device)
        if named.get("key") and enc.key != named["key"]:
            raise InputError(f"the speech encoder in {folder} is not the one {self.folder} was "
                             f"trained with (its config or weights differ); pass that one with "
                             "--audio-encoder")
        if enc.dim != dim:
            raise InputError(f"the speech encoder in {folder} gives {enc.dim} features per "
                             f"frame, the model was trained on {dim}; pass the encoder it was "
                             "trained with")
        return enc

    def conditions(self, reference: np.ndarray, *, speed: float, style: str | None) -> Conditions:
        """Reference pose (133, 3) pixels, speed multiplier and style name/file → Conditions."""
        dev = next(self.model.parameters()).device
        loc, conf = to_local(reference[None])
        vis = self.stats.visible(conf[0])
        ref = np.where(vis[:, None], self.stats.normalize(loc[0]), 0.0).astype(np.float32)
        style_id, style_vec = 0, None
        if style is not None:
            styles = self.meta.get("styles", {})
            if style in styles:
                style_id = int(styles[style])
            elif Path(style).is_file():  # a reference clip: its style vector
                kp = SkeletonSequence.load(style).keypoints
                sl, sc = to_local(kp)
                z = self.stats.normalize(sl)
                style_vec = torch.from_numpy(style_vector(z, sc > CONFIDENCE_THRESHOLD)).to(dev)
            else:
                raise OptionError(f"unknown style {style!r}; use one of {sorted(styles) or 'none'} "
                                  "or the path of a skeleton .npz clip to copy the style of")
        base = float(self.meta.get("median_wrist_speed", float("nan")))
        return Conditions(torch.from_numpy(ref).to(dev), torch.from_numpy(vis.astype(np.float32)).to(dev),
                          style_id, style_vec, speed * base)

    def generate(self, features: AudioFeatures, reference: np.ndarray, *,
                 image_size: tuple[int, int], seed: int = 0, speed: float = 1.0,
                 style: str | None = None, phones=None, audio=None,
                 progress: bool = False) -> SkeletonSequence:
        """Motion for ``features`` in the photo's pixel frame; see :class:`MotionGenerator`.

        ``speed`` scales the training set's median wrist speed (EMO2's speed condition);
        ``style`` is a speaker name of the training set or a skeleton .npz clip. ``phones``
        (phone timings, :func:`gesticulate.audio.phones.recognize_phones`) are heard by a
        model trained with them (``config.phones``); without them it hears zeros there, as in
        the training windows whose phones were dropped. ``audio`` is the waveform ``(y, sr)``,
        needed by a model that hears a speech encoder (:attr:`hears_waveform`).
        """
        ref = check_inputs(features, reference, image_size, speed).astype(np.float32)
        fps_model = float(self.model.config.fps)
        encoded = None
        if self.encoder is not None:
            if audio is None:
                raise InputError("this model hears a speech encoder: pass the waveform "
                                 "(audio=(y, sr)) to generate()")
            y, sr = audio
            encoded = self.encoder(y, sr, fps=float(features.fps), num_frames=features.num_frames)
        audio = model_audio(features, phones, phones=self.model.config.phones, encoded=encoded)
        if audio.shape[1] != self.model.config.audio_dim:
            raise InputError(f"audio features have {audio.shape[1]} columns, the checkpoint expects "
                             f"{self.model.config.audio_dim}; compute them with the same n_mels")
        t_out = features.num_frames
        t_model = num_frames(t_out / features.fps, fps_model)
        if t_model != t_out:  # resample features to the model's frame rate and back
            audio = _resample(audio, t_model)
        cond = self.conditions(ref, speed=speed, style=style)
        z = sample_motion(self.model, audio, cond, seed=seed, num_steps=self.num_steps,
                          guidance_scale=self.guidance_scale, sampler=self.sampler,
                          hands_first=self.hands_first, progress=progress)
        activity = predicted_activity(self.model, z) if self.model.config.mask_head else None
        if t_model != t_out:
            z = _resample(z.reshape(t_model, -1), t_out).reshape(t_out, *z.shape[1:])
            if activity is not None:
                activity = _resample(activity, t_out)
        local = self.stats.denormalize(z)
        root = neck(ref)
        scale = max(float(shoulder_width(ref)), 1.0)
        kp = from_local(local, np.ones(local.shape[:2], np.float32), root=root, scale=scale)
        return SkeletonSequence(kp, features.fps, image_size, region_activity=activity)


@torch.no_grad()
def predicted_activity(model: MotionDiT, motion: np.ndarray,
                       visible: np.ndarray | None = None) -> np.ndarray:
    """The mask head's face, lips and hands activity ``(T, 3)`` in 0..1 of a normalised motion
    ``(T, J, 2)`` (a finished sample; ``visible`` ``(T, J)`` where points are seen, default
    all): windows of the model's length (the last one shifted back to end with the motion, a
    short one padded with its last row), each frame from the window it is nearest the middle
    of."""
    cfg = model.config
    dev = next(model.parameters()).device
    t, w = len(motion), cfg.window
    vis = np.ones(np.shape(motion)[:2], np.float32) if visible is None else visible
    pad = lambda x: x if t >= w else np.concatenate([x, np.repeat(x[-1:], w - t, 0)])  # noqa: E731
    z, v = pad(np.asarray(motion, np.float32)), pad(np.asarray(vis, np.float32))
    starts = sorted({*range(0, max(len(z) - w, 0) + 1, w // 2), max(len(z) - w, 0)})
    out, best = np.zeros((len(z), 3), np.float32), np.full(len(z), np.inf)
    for s in starts:
        x = torch.from_numpy(np.ascontiguousarray(z[s:s + w]))[None].to(dev)
        seen = torch.from_numpy(np.ascontiguousarray(v[s:s + w]))[None].to(dev)
        p = torch.sigmoid(model.region_logits(x, seen))[0].float().cpu().numpy()  # (W, 3)
        d = np.abs(np.arange(s, s + w) - (s + (w - 1) / 2))
        take = d < best[s:s + w]
        out[s:s + w][take], best[s:s + w][take] = p[take], d[take]
    return out[:t]


def _resample(a: np.ndarray, n: int) -> np.ndarray:
    """Linear resampling of rows ``(T, F)`` → ``(n, F)`` (same start and end time)."""
    src = np.linspace(0, 1, len(a))
    dst = np.linspace(0, 1, n)
    return np.stack([np.interp(dst, src, a[:, i]) for i in range(a.shape[1])], 1).astype(np.float32)
