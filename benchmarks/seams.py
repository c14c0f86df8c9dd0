"""Seam check of a trained MotionDiT: joint speed at window borders vs inside windows.

Samples ``--seconds`` of motion for an audio file (repeated when shorter) with the
checkpoint's own window and prev_frames, and prints the mean joint speed (shoulder widths
per frame, un-normalised local coordinates) at the steps where a window is joined on (into
its first frame, and from the end of the overlap to its first new frame:
``gesticulate.motion.diffusion.stitch_steps``), inside windows, their ratio (1 = no seam),
and the border speeds' percentile among the inside speeds. A border step may also cross a
token boundary (the
model patchifies ``patch_frames`` frames per token), so the border is also compared with the
inside steps that cross a token boundary; ``token/within`` shows jumps between tokens
anywhere in a window (patch jitter), which is a different defect from a window seam::

    python benchmarks/seams.py --checkpoint RUN --audio speech.wav [--seconds 60] [--seeds 2]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch


def border_speeds(model, stats, audio: np.ndarray, cond, *, seed: int, **sampling):
    """Per-step mean joint speed ``(T-1,)`` of one sample and the indices of border steps."""
    from gesticulate.motion.diffusion import sample_motion, stitch_steps

    cfg = model.config
    z = stats.denormalize(sample_motion(model, audio, cond, seed=seed, **sampling))
    v = np.linalg.norm(np.diff(z, axis=0), axis=-1).mean(1)                 # (T-1,)
    return v, stitch_steps(len(z), cfg.window, cfg.prev_frames)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--audio", required=True)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--num-steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from gesticulate.audio.features import load_features
    from gesticulate.audio.phones import model_audio
    from gesticulate.motion.diffusion import DiffusionGenerator
    from gesticulate.data.synthetic import template_pose

    gen = DiffusionGenerator(args.checkpoint, num_steps=args.num_steps)
    model, cfg = gen.model, gen.model.config
    feats = load_features(args.audio, fps=cfg.fps)
    phones = None
    if cfg.phones:
        from gesticulate.audio.io import AUDIO_SR, load_audio
        from gesticulate.audio.phones import recognize_phones
        phones = recognize_phones(load_audio(args.audio, sr=AUDIO_SR), sr=AUDIO_SR)
    a = model_audio(feats, phones, phones=cfg.phones)
    audio = np.resize(a, (int(round(args.seconds * cfg.fps)), a.shape[1])).astype(np.float32)
    cond = gen.conditions(template_pose(), speed=1.0, style=None)
    border, inside, token, within = [], [], [], []
    for seed in range(args.seeds):
        v, b = border_speeds(model, gen.stats, audio, cond, seed=seed, num_steps=args.num_steps,
                             guidance_scale=2.0, sampler="dpm")
        border.extend(v[b])
        inside.extend(np.delete(v, b))
        # Step i goes from frame i to i + 1; it crosses a token boundary when i + 1 - start is
        # a multiple of patch_frames, for the window that generated frame i + 1.
        stride = cfg.window - cfg.prev_frames
        owner = np.minimum(np.arange(1, len(v) + 1) // stride, max((len(v) - cfg.window) // stride + 1, 0))
        crosses = ((np.arange(1, len(v) + 1) - owner * stride) % cfg.patch_frames) == 0
        crosses[b] = False
        rest = np.ones(len(v), bool)
        rest[b] = False
        token.extend(v[crosses])
        within.extend(v[rest & ~crosses])
    border, inside, token, within = map(np.array, (border, inside, token, within))
    pct = float((inside[None] < border[:, None]).mean() * 100)
    print(f"{args.checkpoint}: window {cfg.window}, prev_frames {cfg.prev_frames}, "
          f"{args.seconds:g} s x {args.seeds} seeds, {len(border)} borders")
    print(f"joint speed border {border.mean():.4f}  inside {inside.mean():.4f}  "
          f"ratio {border.mean() / inside.mean():.2f}  (borders at the {pct:.0f}th percentile "
          f"of inside steps on average; inside p90 {np.percentile(inside, 90):.4f})")
    print(f"inside steps crossing a token boundary {token.mean():.4f}, within a token "
          f"{within.mean():.4f}: border / token-boundary {border.mean() / token.mean():.2f}, "
          f"token/within {token.mean() / within.mean():.2f} (patch_frames {cfg.patch_frames})")


if __name__ == "__main__":
    main()
