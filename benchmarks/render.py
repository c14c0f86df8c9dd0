"""Speed of the warp renderer: per-photo set-up time and ms per frame at 256 and 512.

Usage: ``python benchmarks/render.py [--photo PATH] [--frames N]``. Wall time and CPU time per
frame are both printed: on a shared machine the CPU time is the better measure of one core. Without ``--photo`` it uses
``skimage.data.astronaut()``. The target poses swing both forearms, nod and turn the head, open
the mouth and blink — every layer changes every frame, so no cached layer is reused.
Reference keypoints come from ``gesticulate.skeleton.extract`` when it exists, else from
MediaPipe Holistic directly.
"""

from __future__ import annotations

import argparse
import time

import cv2

from gesticulate.render.warp import WarpRenderer
from gesticulate.render.warp.testing import animate, reference_keypoints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", default=None)
    parser.add_argument("--frames", type=int, default=100)
    args = parser.parse_args()
    if args.photo:
        photo = cv2.cvtColor(cv2.imread(args.photo), cv2.COLOR_BGR2RGB)
    else:
        import skimage.data
        photo = skimage.data.astronaut()
    cv2.setNumThreads(1)          # the budget is one core per renderer
    for size in (256, 512):
        image = cv2.resize(photo, (size, size), interpolation=cv2.INTER_AREA)
        ref = reference_keypoints(image)
        t0 = time.perf_counter()
        renderer = WarpRenderer(image, ref)
        setup = time.perf_counter() - t0
        poses = [animate(ref, i, fps=25) for i in range(args.frames)]
        renderer.render(poses[0])
        t0, c0 = time.perf_counter(), time.process_time()
        for p in poses:
            renderer.render(p)
        ms = (time.perf_counter() - t0) / len(poses) * 1000
        cpu = (time.process_time() - c0) / len(poses) * 1000
        layers = ", ".join(f"{l.name}:{len(l.mesh.vertices)}v" for l in renderer.layers)
        print(f"{size}x{size}: setup {setup:.2f} s, {ms:.1f} ms/frame wall, {cpu:.1f} ms CPU "
              f"({1000 / ms:.0f} fps, {ms / 40:.2f} of real time at 25 fps) [{layers}]")


if __name__ == "__main__":
    main()
