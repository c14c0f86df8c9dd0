"""Speed of DWPose-style pose-map drawing: ms per frame per style at 512² and 768².

Usage: ``python benchmarks/draw.py [--poses FOLDER] [--frames N]``. ``--poses`` is an
EchoMimicV2 pose folder (e.g. ``../shared/data/poses/echomimicv2_dwpose_01``); without it a
synthetic whole body with every point seen is drawn (the worst case: every limb, hand and
face point). Target: < 3 ms per 512² frame.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gesticulate.skeleton.draw import STYLES, draw_pose_map


def synthetic(n: int, size: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    kp = np.zeros((n, 133, 3), np.float32)
    kp[..., :2] = rng.uniform(0.1 * size, 0.9 * size, (n, 133, 2))
    kp[..., 2] = 1.0
    return kp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poses", default=None)
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()
    if args.poses:
        from gesticulate.formats.echomimic import load_echomimic_dir
        seq = load_echomimic_dir(args.poses)
        base, base_size = seq.keypoints[:args.frames], seq.image_size[0]
    else:
        base, base_size = synthetic(args.frames, 512), 512
    for size in (512, 768):
        kp = base.copy()
        kp[..., :2] *= size / base_size
        for style in STYLES:
            draw_pose_map(kp[0], size=(size, size), style=style)  # warm-up
            runs = []
            for _ in range(3):  # best of 3: the machine is shared, the minimum is the cost
                t = time.perf_counter()
                for k in kp:
                    draw_pose_map(k, size=(size, size), style=style)
                runs.append((time.perf_counter() - t) / len(kp) * 1e3)
            print(f"{size}x{size} {style:12s} {min(runs):6.2f} ms/frame (median of runs "
                  f"{np.median(runs):.2f})")


if __name__ == "__main__":
    main()
