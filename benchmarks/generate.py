"""Benchmark `generate`: wall time, real-time factor and peak memory.

    python benchmarks/generate.py [--durations 10 60] [--sizes 256 512]

Each configuration runs in a fresh process (so peak RSS is its own). Audio: real speech from
../shared/data/audio when present, else speech synthesised offline; photo: desk_host_body.png
from ../shared/data/photo when present, else the bundled astronaut. Target on a 2-core CPU:
RTF <= 0.5 at 512 px, 25 fps; peak RSS <= 2 GB for 60 s. "peak MB" is the main process;
"worker MB" the largest child process that has ended (a render worker or the audio analysis;
forked, so most of its pages are shared with the main).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

CHILD = r"""
import json, resource, sys, time
import numpy as np, soundfile as sf
from gesticulate.pipeline import GeneratePipeline
audio, image, out, seconds, size = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
y, sr = sf.read(audio, dtype="float32")
y = y if y.ndim == 1 else y.mean(1)
reps = int(np.ceil(seconds * sr / len(y)))
y = np.tile(y, reps)[: int(seconds * sr)]
if image == "astronaut":
    from skimage.data import astronaut
    image = astronaut()
t = time.perf_counter()
r = GeneratePipeline(size=size)(audio=(y, sr), image=image, output=out, progress=False)
wall = time.perf_counter() - t
print(json.dumps({"wall_s": wall, "timings": r.timings, "frames": len(r.motion),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def inputs(tmp: Path) -> tuple[str, str]:
    if DATA.is_dir():
        return str(DATA / "audio" / "beat_scott_0_2_2.wav"), str(DATA / "photo" / "desk_host_body.png")
    import soundfile as sf
    from gesticulate.audio.tts import synthesize
    from gesticulate.demo import DEMO_TEXT
    y, sr = synthesize(DEMO_TEXT)
    sf.write(tmp / "speech.wav", y, sr)
    return str(tmp / "speech.wav"), "astronaut"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--durations", type=float, nargs="+", default=[10, 60])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        audio, image = inputs(Path(tmp))
        print(f"audio: {audio}\nphoto: {image}")
        print(f"{'seconds':>8} {'size':>5} {'wall s':>8} {'RTF':>6} {'peak MB':>8} {'worker MB':>9}"
              "  stages (s)")
        for size in args.sizes:
            for seconds in args.durations:
                out = str(Path(tmp) / "bench.mp4")
                p = subprocess.run([sys.executable, "-c", CHILD, audio, image, out, str(seconds),
                                    str(size)], capture_output=True, text=True)
                if p.returncode != 0:
                    print(p.stderr[-2000:])
                    continue
                r = json.loads(p.stdout.strip().splitlines()[-1])
                stages = " ".join(f"{k}={v:.2f}" for k, v in r["timings"].items())
                print(f"{seconds:8.0f} {size:5d} {r['wall_s']:8.2f} {r['wall_s'] / seconds:6.3f} "
                      f"{r['peak_rss_mb']:8.0f} {r['worker_peak_rss_mb']:9.0f}  {stages}")


if __name__ == "__main__":
    main()
