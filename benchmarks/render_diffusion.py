"""Speed and memory of the diffusion renderer (random weights: speed does not depend on them).

    .venv/bin/python benchmarks/render_diffusion.py                 # tiny preset, CPU
    .venv/bin/python benchmarks/render_diffusion.py --preset S --size 512 --device cuda --num-steps 8

Prints frames per second of ``DiffusionRenderer.render_sequence`` (chunked sampling, pose
maps, masks, decoding included), the peak resident memory (CPU) or peak CUDA memory, and the
real-time factor at 25 fps. A latent preset uses the project's tiny VAE (random) as its codec.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny", choices=("tiny", "S", "B"))
    ap.add_argument("--size", type=int, default=None, help="frame side (default: the preset's)")
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--num-steps", type=int, nargs="+", default=[4, 10])
    ap.add_argument("--guidance-scale", type=float, nargs="+", default=[1.0, 1.5])
    ap.add_argument("--device", default=None)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from gesticulate.data.synthetic import template_pose
    from gesticulate.models.renderer_unet import PRESETS
    from gesticulate.models.vae import VAE_DIR, tiny_vae
    from gesticulate.render.diffusion import DiffusionRenderer

    over = {} if a.size is None else {"image_size": a.size}
    torch.manual_seed(0)
    model = PRESETS[a.preset](**over)
    c = model.config
    folder = tempfile.mkdtemp()
    model.save_pretrained(folder)
    if c.space == "latent":
        tiny_vae(latent_channels=c.latent_channels, factor=c.latent_factor).save_pretrained(f"{folder}/{VAE_DIR}")
    params = sum(p.numel() for p in model.parameters())
    del model
    s = c.image_size
    kp = template_pose(size=s)
    photo = np.full((s, s, 3), 128, np.uint8)
    seq = np.repeat(kp[None], a.frames, 0)
    seq[:, 91:133, 1] -= np.linspace(0, s / 10, a.frames)[:, None]
    audio = np.random.default_rng(0).normal(size=(a.frames, c.audio_dim)).astype(np.float32)
    dev = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
    for steps in a.num_steps:
        for g in a.guidance_scale:
            r = DiffusionRenderer(folder, photo, kp, num_steps=steps, guidance_scale=g, device=dev)
            if dev.startswith("cuda"):
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            t0 = time.perf_counter()
            n = sum(1 for _ in r.render_sequence(seq, audio))
            if dev.startswith("cuda"):
                torch.cuda.synchronize()
            dt = time.perf_counter() - t0
            mem = (torch.cuda.max_memory_allocated() / 2 ** 20 if dev.startswith("cuda")
                   else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            print(json.dumps({"preset": a.preset, "size": s, "space": c.space, "params_M": round(params / 1e6, 1),
                              "device": dev, "threads": a.threads, "num_steps": steps, "guidance_scale": g,
                              "chunk_frames": c.num_frames, "frames": n, "fps": round(n / dt, 3),
                              "realtime_factor_25fps": round(n / dt / 25, 4),
                              ("peak_cuda_MiB" if dev.startswith("cuda") else "peak_rss_MiB"): round(mem)}))


if __name__ == "__main__":
    main()
