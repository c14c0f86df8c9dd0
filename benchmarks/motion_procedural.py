"""Time and memory of the procedural motion generator (stage 1) for long audio.

Synthetic speech features (bursts and pauses) and a synthetic frontal skeleton, so it runs
anywhere: ``python benchmarks/motion_procedural.py [--seconds 60 600]``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_motion import SIZE, frontal_reference, speech_features  # noqa: E402

from gesticulate.motion import get_generator  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, nargs="+", default=[10.0, 60.0, 600.0])
    ap.add_argument("--fps", type=float, default=25.0)
    args = ap.parse_args()
    gen = get_generator("procedural")
    ref = frontal_reference()
    for seconds in args.seconds:
        rng = np.random.default_rng(0)
        segs, t = [], 0.2
        while t < seconds:
            d = rng.uniform(1.5, 6.0)
            segs.append((t, min(seconds, t + d)))
            t += d + rng.uniform(0.3, 1.5)
        feats = speech_features(segs, duration_s=seconds, fps=args.fps)
        gen.generate(feats, ref, image_size=SIZE, seed=0)          # warm-up
        best = np.inf
        for _ in range(3):
            t0 = time.perf_counter()
            seq = gen.generate(feats, ref, image_size=SIZE, seed=0)
            best = min(best, time.perf_counter() - t0)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{seconds:6.0f} s audio, {len(seq)} frames at {args.fps:g} fps: "
              f"{best * 1000:8.1f} ms (best of 3), {best / seconds * 1000:.2f} ms per audio second, "
              f"RTF {best / seconds:.4f}, peak RSS so far {rss:.0f} MB")


if __name__ == "__main__":
    main()
