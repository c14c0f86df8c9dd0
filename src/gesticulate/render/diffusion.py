"""The ``diffusion`` renderer: skeletons + one photo (+ audio features) → frames, chunk by chunk.

Long videos are generated in overlapping windows of ``chunk_frames`` frames (EMO2 / EchoMimic
style). Each window after the first

* gets the ``motion_frames`` final frames before it as motion frames (EMO2: they enter the
  temporal attention as context), so motion runs on across the border;
* regenerates the last ``overlap`` frames of the previous window and cross-fades them in;
* attends to the *reference photo* like the first window did (never only to the previous
  chunk), and with ``color_anchor`` > 0 has its per-channel colour mean pulled towards the
  reference photo's: the two guards against the identity / colour drift users of the peers
  report after ~20 s.

Frame ``i`` always draws its initial noise from ``(seed, i)``, so with the deterministic DDIM
sampler the output depends only on the inputs and the seed, and chunked generation can be
compared with whole-sequence generation frame by frame. Memory is bounded by one window.
"""

from __future__ import annotations

import os
from typing import Iterator

import numpy as np
import torch

from gesticulate.errors import InputError, OptionError
from gesticulate.models.renderer_unet import RendererUNet
from gesticulate.models.schedulers import make_scheduler
from gesticulate.models.vae import VAE_DIR, LatentCodec, load_vae
from gesticulate.render.conditions import Letterbox, audio_windows, frame_conditions, hand_confidence
from gesticulate.skeleton.activity import ACTIVITY_REGIONS, region_activity
from gesticulate.windows import window_starts


def frame_noise(seed: int, index: int, shape: tuple) -> torch.Tensor:
    """The initial noise of frame ``index``: a function of ``(seed, index)`` only."""
    g = torch.Generator().manual_seed(int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0]))
    return torch.randn(shape, generator=g)


@torch.no_grad()
def denoise_chunk(model: RendererUNet, noise: torch.Tensor, cond: dict, *, num_steps: int,
                  guidance_scale: float, sampler: str = "ddim") -> torch.Tensor:
    """Sample one chunk ``(1, T, C, h, w)`` from its initial ``noise`` and conditions.

    ``cond`` holds ``pose`` (1, T, 3, H, W), ``masks`` (1, T, R, H, W), ``audio``
    (1, T, K, A), ``hand_conf`` (1, T, 2), ``reference`` (1, C, h, w), ``reference_hand_conf``
    (1, 2), ``motion`` (1, O, C, h, w) or None and ``audio_on`` (bool). Classifier-free
    guidance drops reference and audio together (row 1 of the batch).
    """
    sched = make_scheduler(sampler, model.config, num_steps=num_steps)
    use_cfg = guidance_scale != 1.0
    n = 2 if use_cfg else 1
    rep = lambda v: None if v is None else v.expand(n, *v.shape[1:])  # noqa: E731
    drop_ref = torch.arange(n, device=noise.device) == 1
    drop_audio = drop_ref | (not cond["audio_on"])
    bank = model.encode_reference(rep(cond["reference"]), motion=rep(cond["motion"]),
                                  reference_hand_conf=rep(cond["reference_hand_conf"]))
    extra = dict(pose=rep(cond["pose"]), masks=rep(cond["masks"]), audio=rep(cond["audio"]),
                 hand_conf=rep(cond["hand_conf"]), reference=rep(cond["reference"]), bank=bank,
                 drop_reference=drop_ref, drop_audio=drop_audio)
    x = noise * sched.init_noise_sigma                                        # (1, T, C, h, w)
    for t in sched.timesteps:
        x_in = sched.scale_model_input(x, t).expand(n, *x.shape[1:])          # (n, T, C, h, w)
        pred = model(x_in, t.to(noise.device).expand(n), **extra).float()
        if use_cfg:
            pred = pred[1:] + guidance_scale * (pred[:1] - pred[1:])          # (1, T, C, h, w)
        x = sched.step(pred, t, x).prev_sample
    return x


class DiffusionRenderer:
    """Render frames of one photo driven by skeletons with a trained renderer checkpoint.

    Parameters
    ----------
    checkpoint : a renderer checkpoint folder or ``train-renderer`` run folder.
    image : RGB uint8 ``(H, W, 3)``, already at the output size (letterboxed into the model's square).
    reference : ``(133, 3)`` keypoints of ``image`` in its pixels.
    num_steps : sampler steps per chunk (10 or fewer with DDIM).
    guidance_scale : classifier-free guidance on reference + audio (1 = off, half the cost).
    device : torch device; CUDA when available by default.
    seed : frame ``i`` starts from noise drawn from ``(seed, i)``.
    chunk_frames : frames per window (default: the model's training chunk).
    overlap : frames regenerated and cross-faded between windows.
    color_anchor : 0..1, how far each chunk's colour mean is pulled to the reference photo's.
    sampler : "ddim" (deterministic) or "dpm".
    """

    def __init__(self, checkpoint: str | os.PathLike, image: np.ndarray, reference: np.ndarray, *,
                 num_steps: int = 10, guidance_scale: float = 1.5, device: str | None = None,
                 seed: int = 0, chunk_frames: int | None = None, overlap: int = 2,
                 color_anchor: float = 0.5, sampler: str = "ddim", progress: bool = False):
        folder = RendererUNet.resolve_checkpoint(checkpoint)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = RendererUNet.from_pretrained(folder, device=self.device)
        self.codec = LatentCodec(load_vae(folder / VAE_DIR).to(self.device)) \
            if self.model.config.space == "latent" else None
        c = self.model.config
        self.chunk = int(chunk_frames or c.num_frames)
        if not 1 <= num_steps <= 1000:
            raise OptionError(f"num_steps={num_steps}; use 1..1000 (10 is a good default)")
        if not 0 <= overlap < self.chunk or c.motion_frames + self.chunk > c.max_frames:
            raise OptionError(f"chunk_frames={self.chunk}, overlap={overlap}: need 0 <= overlap < "
                              f"chunk_frames and motion_frames + chunk_frames <= {c.max_frames}")
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3:
            raise InputError(f"the photo must be RGB (H, W, 3), got shape {image.shape}")
        self.num_steps, self.guidance_scale, self.seed = num_steps, guidance_scale, seed
        self.overlap, self.color_anchor, self.sampler, self.progress = overlap, color_anchor, sampler, progress
        self.box = Letterbox(image.shape[1], image.shape[0], c.image_size)
        ref = to_tensor(self.box.image(image)).to(self.device)                # (1, 3, S, S)
        self.ref_mean = ref.mean((0, 2, 3))                                   # (3,) in -1..1
        self.ref = self.encode(ref)                                           # (1, C, h, w)
        self.ref_hand = torch.from_numpy(hand_confidence(reference))[None].to(self.device)

    # ---- model space <-> pixels ------------------------------------------------------------

    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        return pixels if self.codec is None else self.codec.encode(pixels)

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        return x.clamp(-1, 1) if self.codec is None else self.codec.decode(x)

    def conditions(self, kp_sq: np.ndarray, audio: np.ndarray | None, motion,
                   activity: np.ndarray | None = None, span: tuple[int, int] | None = None) -> dict:
        """Tensors of :func:`denoise_chunk` for the window ``span`` = (start, stop) (default:
        all) of square-frame keypoints ``(T, 133, 3)``; ``audio`` and ``motion`` are the
        window's. ``activity`` ``(T, 3)`` (face, lips, hands: stage 1's mask head's, or
        measured on the whole motion) weighs each region's mask frame by frame (MMGT's motion
        masks). A renderer trained on keypoint boxes gets boxes, weighted the same way."""
        c = self.model.config
        f = frame_conditions(kp_sq, size=c.image_size, regions=c.regions, margin=c.mask_margin,
                             shape=c.mask_shape, activity=activity, fps=c.fps, sweep=c.mask_sweep,
                             span=span)
        if activity is not None and c.mask_shape == "box":
            order = [ACTIVITY_REGIONS.index(r) for r in c.regions]
            s, e = (0, len(kp_sq)) if span is None else span
            f["masks"] = f["masks"] * np.asarray(activity, np.float32)[s:e, order, None, None]
        dev = self.device
        a = np.zeros((len(f["pose"]), 2 * c.audio_context + 1, c.audio_dim), np.float32) if audio is None else audio
        return {"pose": torch.from_numpy(f["pose"]).to(dev)[None].float() / 255,
                "masks": torch.from_numpy(f["masks"]).to(dev)[None].float() / 255,
                "audio": torch.from_numpy(a).to(dev)[None],
                "hand_conf": torch.from_numpy(f["hand"]).to(dev)[None],
                "reference": self.ref, "reference_hand_conf": self.ref_hand,
                "motion": motion, "audio_on": audio is not None}

    # ---- the chunk loop --------------------------------------------------------------------

    def render_sequence(self, keypoints: np.ndarray, features=None, *,
                        activity: np.ndarray | None = None) -> Iterator[np.ndarray]:
        """Yield one RGB uint8 frame ``(H, W, 3)`` per row of ``keypoints`` ``(T, 133, 3)``.

        ``features`` (an ``AudioFeatures`` at the keypoints' frame rate, or a ``(T, A)`` array)
        drives the audio attention on face, lips and hands; without it the audio is dropped.
        ``activity`` ``(T, 3)``: predicted face, lips and hands motion (a MotionDiT mask head's,
        ``SkeletonSequence.region_activity``), weighing the region masks; None: measured on
        ``keypoints`` (a renderer trained on keypoint boxes then gets its boxes unweighted).
        """
        for frame in self.render_sequence_square(keypoints, features, activity=activity):
            yield self.box.unbox(to_uint8(frame))

    def render_sequence_square(self, keypoints: np.ndarray, features=None, *,
                               activity: np.ndarray | None = None) -> Iterator[torch.Tensor]:
        """As :meth:`render_sequence`, but yields model-square frames ``(3, S, S)`` in -1..1."""
        from tqdm.auto import tqdm

        c = self.model.config
        kp = self.box.keypoints(np.asarray(keypoints, np.float32))
        if kp.ndim != 3 or kp.shape[1:] != (133, 3):
            raise InputError(f"keypoints must be (T, 133, 3), got {kp.shape}")
        total = len(kp)
        audio = None
        if features is not None:
            feats = features.stack() if hasattr(features, "stack") else np.asarray(features, np.float32)
            if feats.shape[1] != c.audio_dim:
                raise InputError(f"audio features have {feats.shape[1]} columns, the renderer was "
                                 f"trained with {c.audio_dim}; compute them as at training time")
            audio = audio_windows(feats, radius=c.audio_context, num_frames=total)
        if activity is None and c.mask_shape == "motion":   # measured once on the whole motion
            activity = region_activity(kp, fps=c.fps)
        # Windows are self.chunk long (only the last may be cut short by the end): a clip
        # shorter than the overlap is one window, not a window shorter than its own overlap.
        starts = window_starts(total, window=self.chunk, overlap=self.overlap)
        recent: list[torch.Tensor] = []        # the last emitted frames, pixels (3, S, S)
        pending: torch.Tensor | None = None    # the previous window's overlap frames, not yet emitted
        for s in tqdm(starts, desc="render chunks", disable=not self.progress, leave=False):
            e = min(s + self.chunk, total)     # frames [s, e); everything before s is emitted
            motion = None
            if recent and c.motion_frames:     # EMO2 motion frames: the final frames [s - O, s)
                motion = self.encode(torch.stack(recent[-c.motion_frames:]))[None]  # (1, O, C, h, w)
            cond = self.conditions(kp, None if audio is None else audio[s:e], motion, activity,
                                   span=(s, e))
            noise = torch.stack([frame_noise(self.seed, i, tuple(self.ref.shape[1:])) for i in range(s, e)])
            x = denoise_chunk(self.model, noise[None].to(self.device), cond, num_steps=self.num_steps,
                              guidance_scale=self.guidance_scale, sampler=self.sampler)
            frames = self.decode(x[0])                                        # (T, 3, S, S)
            if self.color_anchor:  # pull the chunk's colour mean towards the reference photo's
                shift = self.ref_mean - frames.mean((0, 2, 3))
                frames = (frames + self.color_anchor * shift[None, :, None, None]).clamp(-1, 1)
            if pending is not None and len(pending):  # cross-fade what both windows generated
                n = len(pending)
                w = (torch.arange(1, n + 1, device=frames.device, dtype=frames.dtype) / (n + 1))[:, None, None, None]
                frames[:n] = (1 - w) * pending + w * frames[:n]
            keep = len(frames) if e == total else len(frames) - self.overlap
            for f in frames[:keep]:
                recent = (recent + [f])[-max(c.motion_frames, 1):]
                yield f
            pending = frames[keep:]


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """RGB uint8 ``(H, W, 3)`` → ``(1, 3, H, W)`` float in -1..1."""
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float() / 127.5 - 1


def to_uint8(frame: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` in -1..1 → RGB uint8 ``(H, W, 3)``."""
    x = ((frame.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(1, 2, 0).cpu().numpy()
