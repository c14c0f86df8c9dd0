"""Speed and audio-following of the ``retrieval`` generator on a synthetic library.

::

    python benchmarks/motion_retrieval.py [--library-minutes 2] [--seconds 60] [--repeats 3]

Prints the index build time, the first call (candidate bank built) and the best warm call for
``--seconds`` of motion at 25 fps, and, on the library's held-out speakers, the correlation of
wrist speed with the loudness envelope of the audio the motion was made for, beside the same
with another clip's audio (chance level) and the ground truth's.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def wrist_speed(kp: np.ndarray) -> np.ndarray:
    return np.linalg.norm(np.diff(kp[:, [9, 10], :2], axis=0), axis=2).mean(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library-minutes", type=float, default=2.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from gesticulate.data.clips import iter_clips
    from gesticulate.data.synthetic import audio_features, make_synthetic_dataset, speech_onsets, template_pose
    from gesticulate.motion.retrieval import RetrievalGenerator

    with tempfile.TemporaryDirectory() as tmp:
        clips = max(1, int(round(args.library_minutes * 60 / 8.0 / 4)))   # 4 train speakers, 8 s
        root = make_synthetic_dataset(Path(tmp) / "ds", clips_per_speaker=clips)
        t0 = time.perf_counter()
        gen = RetrievalGenerator(root)
        build = time.perf_counter() - t0
        ref = template_pose()
        rng = np.random.default_rng(0)
        T = int(round(args.seconds * 25))
        on, st = speech_onsets(T, rng)
        feats = audio_features(on, st, T, rng)
        t0 = time.perf_counter()
        gen.generate(feats, ref, image_size=(512, 512), seed=0)
        first = time.perf_counter() - t0
        warm = []
        for s in range(args.repeats):
            t0 = time.perf_counter()
            gen.generate(feats, ref, image_size=(512, 512), seed=s + 1)
            warm.append(time.perf_counter() - t0)
        print(f"library {gen.library.num_frames} frames ({gen.library.num_frames / 25 / 60:.1f} min); "
              f"index built in {build * 1000:.0f} ms")
        print(f"{args.seconds:.0f} s of motion: first call {first * 1000:.0f} ms, warm "
              f"{min(warm) * 1000:.0f} ms ({args.seconds / min(warm):.0f}x faster than real time)")
        held = [c for split in ("val", "test") for c in iter_clips(root, split=split)]
        own, other, truth = [], [], []
        for i, c in enumerate(held):
            env = c.features.rms[1:]
            nxt = held[(i + 1) % len(held)].features
            for seed in range(3):
                own.append(np.corrcoef(wrist_speed(gen.generate(c.features, ref, image_size=(512, 512),
                                                                seed=seed).keypoints), env)[0, 1])
                other.append(np.corrcoef(wrist_speed(gen.generate(nxt, ref, image_size=(512, 512),
                                                                  seed=seed).keypoints), env)[0, 1])
            truth.append(np.corrcoef(wrist_speed(c.skeleton.keypoints), env)[0, 1])
        print(f"corr(wrist speed, loudness) on {len(held)} held-out clips: own audio "
              f"{np.mean(own):.3f}, another clip's audio {np.mean(other):.3f}, ground truth "
              f"{np.mean(truth):.3f}")


if __name__ == "__main__":
    main()
