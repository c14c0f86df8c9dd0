"""The ``gesticulate`` command: a thin door onto the pipelines (each subcommand is a few lines).

Every error a user can cause is a :class:`~gesticulate.errors.GesticulateError`: printed as one
line that says what to do, exit status 2, no traceback, no partial output.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from gesticulate import __version__
from gesticulate.errors import GesticulateError


def _add_generate_options(p: argparse.ArgumentParser) -> None:
    from gesticulate.pipeline import MOTIONS, RENDERERS, GenerateOptions
    d = GenerateOptions()
    p.add_argument("--seed", type=int, default=d.seed, help="random seed (same seed, same video)")
    p.add_argument("--fps", type=float, default=d.fps, help="frames per second (default %(default)s)")
    p.add_argument("--size", type=int, default=d.size,
                   help="longer side of the video in pixels, aspect kept (default %(default)s)")
    p.add_argument("--motion", choices=MOTIONS, default=d.motion, help="stage-1 motion generator")
    p.add_argument("--checkpoint", help="run folder for --motion diffusion, dataset for retrieval")
    p.add_argument("--renderer", choices=RENDERERS, default=d.renderer, help="stage-2 renderer")
    p.add_argument("--speed", type=float, default=d.speed, help="gesture speed, 0.25..4 (default 1)")
    p.add_argument("--style", help="gesture style, where the generator has styles")
    p.add_argument("--no-phones", dest="phones", action="store_false",
                   help="don't use phone recognition for lip shapes")
    p.add_argument("--motion-output", help="also save the generated skeletons as .npz")


def _options(args):
    from gesticulate.pipeline import GenerateOptions
    return GenerateOptions(fps=args.fps, size=args.size, seed=args.seed, motion=args.motion,
                           checkpoint=args.checkpoint, renderer=args.renderer, speed=args.speed,
                           style=args.style, phones=args.phones)


def cmd_generate(args) -> None:
    from gesticulate.pipeline import GeneratePipeline
    result = GeneratePipeline(_options(args))(audio=args.audio, image=args.image,
                                              output=args.output, motion_output=args.motion_output,
                                              progress=not args.quiet)
    _done(result)


def cmd_demo(args) -> None:
    from gesticulate.demo import run_demo
    _done(run_demo(output=args.output, text=args.text, options=_options(args),
                   progress=not args.quiet))


def _done(result) -> None:
    t = result.timings
    total = sum(t.values())
    print(f"wrote {result.output} ({result.duration_s:.1f} s of video in {total:.1f} s, "
          f"real-time factor {total / max(result.duration_s, 1e-9):.2f})")


def cmd_extract(args) -> None:
    from gesticulate.skeleton.extract import extract
    extract(args.input, output=args.output, overlay=args.overlay, fps=args.fps,
            progress=not args.quiet)
    print(f"wrote {args.output}" + (f" and {args.overlay}" if args.overlay else ""))


def cmd_export(args) -> None:
    from gesticulate.formats.export import export
    out = export(args.motion, format=args.format, output=args.output, reference_image=args.reference,
                 size=args.size, style=args.style, threshold=args.threshold,
                 align_mode=args.align, progress=not args.quiet)
    print(f"wrote {out}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gesticulate",
        description="Speech audio + one photo -> a video of that person speaking and gesturing.")
    parser.add_argument("--version", action="version", version=f"gesticulate {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what each stage does")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("generate", help="speech + photo -> mp4")
    p.add_argument("--audio", required=True, help="speech: wav, flac, mp3, ogg or a video's audio")
    p.add_argument("--image", required=True, help="photo of one person (head and shoulders or upper body)")
    p.add_argument("--output", "-o", required=True, help="output .mp4")
    _add_generate_options(p)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("demo", help="render a demo video from bundled inputs (no download)")
    p.add_argument("--output", "-o", default="demo.mp4", help="output .mp4 (default %(default)s)")
    p.add_argument("--text", help="what the demo presenter says (spoken offline by eSpeak NG)")
    _add_generate_options(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("extract", help="whole-body skeletons (133 points) from an image or video")
    p.add_argument("input", help="image or video file")
    p.add_argument("--output", "-o", required=True, help="output .npz")
    p.add_argument("--overlay", help="also draw the skeletons over the input (.mp4 or .png)")
    p.add_argument("--fps", type=float, help="resample a video to this frame rate")
    p.set_defaults(func=cmd_extract)

    from gesticulate.formats.export import FORMATS
    from gesticulate.skeleton.draw import STYLES
    p = sub.add_parser("export", help="a motion .npz as pose maps, EchoMimicV2 or OpenPose files")
    p.add_argument("--motion", required=True, help="skeleton .npz (from generate/sample/extract)")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--output", "-o", required=True, help=".mp4 for posemap-video, else a folder")
    p.add_argument("--reference", help="photo to align the skeletons to (CSG's linear map)")
    p.add_argument("--size", type=int, help="longer side in pixels (echomimic: canvas side)")
    p.add_argument("--style", choices=STYLES, default="dwpose",
                   help="dwpose (ControlNet, AnimateAnyone), mimicmotion (MimicMotion, "
                        "StableAnimator) or echomimic (hands only)")
    p.add_argument("--threshold", type=float, default=0.3, help="hide points at or below this confidence")
    p.add_argument("--align", choices=("uniform", "per_axis", "csg"), default="uniform")
    p.set_defaults(func=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        args.func(args)
    except GesticulateError as e:
        print(f"gesticulate {args.command}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"gesticulate {args.command}: interrupted; no partial output was kept", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
