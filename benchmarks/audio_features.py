"""Benchmark the audio front end: load, features, phones — wall time and peak memory.

    python benchmarks/audio_features.py [--durations 60 600] [--fps 25]

Each duration runs in a fresh process (peak RSS is its own; the numba compile of librosa's
kernels is warmed up on 1 s first and reported apart; the test wav is written by another
process). Audio: real speech from
../shared/data/audio/beat_scott_0_2_2.wav when present, else speech synthesised offline,
repeated to the length asked for and written as a 44.1 kHz stereo wav so that loading also
resamples and downmixes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

PREP = r"""
import sys
import numpy as np, soundfile as sf, soxr
from gesticulate.audio import synthesize
src, seconds, tmp = sys.argv[1], float(sys.argv[2]), sys.argv[3]
if src == "tts":
    y, sr = synthesize("Speech for the benchmark. It has pauses, stresses and long words, "
                       "like an ordinary talk in front of an audience.")
else:
    y, sr = sf.read(src, dtype="float32")
    y = y if y.ndim == 1 else y.mean(1)
y = soxr.resample(y, sr, 44100)
y = np.tile(y, int(np.ceil(seconds * 44100 / len(y))))[: int(seconds * 44100)]
sf.write(tmp, np.stack([y, 0.5 * y], 1), 44100)
"""

CHILD = r"""
import json, resource, sys, time
import numpy as np
from gesticulate.audio import compute_features, load_audio, recognize_phones
tmp, fps = sys.argv[1], float(sys.argv[2])
noise = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
t = time.perf_counter(); compute_features(noise, sr=16000, fps=fps)
warm = time.perf_counter() - t
t = time.perf_counter(); audio = load_audio(tmp); load_s = time.perf_counter() - t
t = time.perf_counter(); feats = compute_features(audio, sr=16000, fps=fps)
feat_s = time.perf_counter() - t
t = time.perf_counter(); phones = recognize_phones(audio[: 16 * 16000], sr=16000)
phone_s = time.perf_counter() - t
print(json.dumps({"seconds": len(audio) / 16000, "warmup_s": warm, "load_s": load_s,
                  "features_s": feat_s, "frames": feats.num_frames, "phones_16s_s": phone_s,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", type=float, nargs="+", default=[60.0, 600.0])
    parser.add_argument("--fps", type=float, default=25.0)
    args = parser.parse_args()
    wav = DATA / "audio" / "beat_scott_0_2_2.wav"
    src = str(wav) if wav.exists() else "tts"
    print(f"audio: {src}")
    print(f"{'audio s':>8} {'warm-up s':>9} {'load s':>7} {'features s':>10} {'RTF':>7} "
          f"{'phones 16 s':>11} {'peak RSS MB':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in args.durations:
            wav_path = str(Path(tmp) / "bench.wav")
            subprocess.run([sys.executable, "-c", PREP, src, str(seconds), wav_path], check=True)
            cmd = [sys.executable, "-c", CHILD, wav_path, str(args.fps)]
            r = json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                          text=True).stdout.strip().splitlines()[-1])
            print(f"{seconds:8.0f} {r['warmup_s']:9.2f} {r['load_s']:7.2f} "
                  f"{r['features_s']:10.2f} {r['features_s'] / seconds:7.4f} "
                  f"{r['phones_16s_s']:11.2f} {r['peak_rss_mb']:11.0f}")


if __name__ == "__main__":
    main()
