"""The ``gesticulate`` command: a thin door onto the pipelines (each subcommand is a few lines).

Every error a user can cause is a :class:`~gesticulate.errors.GesticulateError`: printed as one
line that says what to do, exit status 2, no traceback, no partial output.
"""

from __future__ import annotations

import argparse
import logging
import sys

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
    p.add_argument("--renderer-checkpoint", help="run folder for --renderer diffusion")
    p.add_argument("--speed", type=float, default=d.speed, help="gesture speed, 0.25..4 (default 1)")
    p.add_argument("--style", help="gesture style, where the generator has styles; procedural "
                   "and retrieval: auto (default: read from the photo and voice), calm, "
                   "conversational, presenter, lively; retrieval also: a speaker of its dataset")
    p.add_argument("--no-phones", dest="phones", action="store_false",
                   help="don't use phone recognition for lip shapes")
    p.add_argument("--hands-first", action="store_true",
                   help="EMO2: a learned model plans the hands, then the body given them "
                        "(--motion diffusion; twice the sampling time)")
    p.add_argument("--audio-encoder", help="folder of the speech encoder a --motion diffusion "
                   "run was trained with, where it is not where the run says")
    _add_smooth_option(p)
    p.add_argument("--motion-output", help="also save the generated skeletons as .npz")


def _add_smooth_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-smooth", dest="smooth", action="store_false",
                   help="render the motion as it is: no zero-phase smoothing of body and hands "
                        "before rendering (the mouth and eyelids are never smoothed)")


def _options(args):
    from gesticulate.pipeline import GenerateOptions
    return GenerateOptions(fps=args.fps, size=args.size, seed=args.seed, motion=args.motion,
                           checkpoint=args.checkpoint, renderer=args.renderer,
                           renderer_checkpoint=args.renderer_checkpoint, speed=args.speed,
                           style=args.style, phones=args.phones,
                           hands_first=args.hands_first, audio_encoder=args.audio_encoder,
                           smooth=args.smooth)


def cmd_generate(args) -> None:
    from gesticulate.pipeline import GeneratePipeline
    result = GeneratePipeline(_options(args))(audio=args.audio, image=args.image,
                                              output=args.output, motion_output=args.motion_output,
                                              progress=not args.quiet)
    _done(result)


def cmd_render(args) -> None:
    from gesticulate.pipeline import GenerateOptions, GeneratePipeline
    fps = args.fps
    if fps is None:  # the motion's own rate (at most 60 fps, the video's limit)
        from gesticulate.skeleton.sequence import SkeletonSequence
        fps = min(SkeletonSequence.load(args.motion).fps, 60.0)
    o = GenerateOptions(fps=fps, size=args.size, seed=args.seed, renderer=args.renderer,
                        renderer_checkpoint=args.renderer_checkpoint, smooth=args.smooth)
    _done(GeneratePipeline(o).render(motion=args.motion, image=args.image, audio=args.audio,
                                     output=args.output, progress=not args.quiet))


def cmd_demo(args) -> None:
    from gesticulate.demo import run_demo
    _done(run_demo(output=args.output, text=args.text, options=_options(args),
                   motion_output=args.motion_output, progress=not args.quiet))


def _done(result) -> None:
    if result.style:
        print(result.style)
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


def _build_kwargs(args) -> dict:
    return dict(output=args.output, fps=args.fps, clip_seconds=args.clip_seconds,
                min_clip_seconds=args.min_clip_seconds, workers=args.workers, engine=args.engine,
                ray_address=args.ray_address, speaker_from=args.speaker_from,
                val_fraction=args.val_fraction, test_fraction=args.test_fraction,
                progress=not args.quiet)


def cmd_build_dataset(args) -> None:
    from gesticulate.data.build import build_dataset
    _print_build(build_dataset(args.inputs, write_video=args.video,
                               segment_seconds=args.segment_seconds, **_build_kwargs(args)))


def cmd_import_poses(args) -> None:
    from gesticulate.data.importers import import_poses
    _print_build(import_poses(args.inputs, audio_dir=args.audio_dir, format=args.format,
                              pose_fps=args.pose_fps, space=args.space, **_build_kwargs(args)))


def _print_build(s) -> None:
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(s.reasons.items())) or "none"
    print(f"{s.output}: {s.kept} clips kept ({s.kept_hours * 60:.1f} min), {s.rejected} rejected "
          f"({reasons}); {s.num_processed} of {s.num_sources} sources processed in this run")


def cmd_inspect(args) -> None:
    from gesticulate.data.report import inspect
    from gesticulate.data.report import format_summary
    path, summary = inspect(args.dataset, path=args.output, num_overlays=args.overlays, seed=args.seed)
    print(format_summary(summary))
    print(f"report: {path}")


def cmd_train(args) -> None:
    from gesticulate.train.motion import train
    run = train(args.dataset, output=args.output, preset=args.preset, steps=args.steps,
                batch_size=args.batch_size, lr=args.lr, seed=args.seed, resume=args.resume,
                device=args.device, progress=not args.quiet, val_every=args.val_every,
                checkpoint_every=args.checkpoint_every, augment=args.augment,
                phones=not args.no_phones, audio_encoder=args.audio_encoder,
                local_parts=args.local_parts,
                model={"mask_head": True} if args.mask_head else {})
    print(f"trained run in {run}")


def cmd_sample(args) -> None:
    from gesticulate.motion.diffusion import DiffusionGenerator
    from gesticulate.pipeline import GeneratePipeline
    from gesticulate.video import check_skeleton_output
    check_skeleton_output(args.output, inputs={"audio": args.audio, "photo": args.image,
                                               "style clip": args.style})
    gen = DiffusionGenerator(args.checkpoint, num_steps=args.steps, guidance_scale=args.guidance,
                             sampler=args.sampler, hands_first=args.hands_first, device=args.device,
                             audio_encoder=args.audio_encoder)
    pipe = GeneratePipeline(fps=args.fps, size=args.size, phones=gen.model.config.phones)
    y, sr = pipe.load_audio(args.audio)
    photo, reference = pipe.prepare_photo(args.image)
    seq = gen.generate(pipe.features(y, sr), reference, image_size=(photo.shape[1], photo.shape[0]),
                       seed=args.seed, speed=args.speed, style=args.style,
                       phones=pipe.phone_timings(y, sr), audio=(y, sr), progress=not args.quiet)
    seq.save(args.output)
    print(f"wrote {args.output} ({len(seq)} frames at {seq.fps:g} fps)")


def cmd_train_fgd(args) -> None:
    from gesticulate.evaluate.encoder import train_fgd
    enc = train_fgd(args.dataset, output=args.output, steps=args.steps, seed=args.seed,
                    progress=not args.quiet)
    print(f"wrote FGD encoder {args.output} (hash {enc.hash})")


def cmd_evaluate(args) -> None:
    from gesticulate.evaluate.run import evaluate
    evaluate(args.dataset, split=args.split, generators=args.generator or ["procedural"],
             output=args.output, generated=args.generated, seed=args.seed,
             fgd_encoder=args.fgd_encoder, max_clips=args.max_clips, video=not args.no_video,
             size=args.size, num_samples=args.num_samples, progress=not args.quiet)
    print(f"wrote {args.output}/metrics.json, metrics.md and report.html")


def cmd_reenact(args) -> None:
    from gesticulate.evaluate.reenact import reenact
    result = reenact(args.clips, output=args.output, renderer=args.renderer,
                     renderer_checkpoint=args.renderer_checkpoint, drive=args.drive,
                     size=args.size, seed=args.seed, max_seconds=args.max_seconds,
                     progress=not args.quiet)
    from gesticulate.evaluate.reenact_report import markdown
    print(markdown(result))
    print(f"wrote {args.output}/reenact.json, reenact.md and index.html")


def cmd_train_renderer(args) -> None:
    from gesticulate.train.renderer import train_renderer
    run = train_renderer(args.dataset, output=args.output, preset=args.preset, steps=args.steps,
                         batch_size=args.batch_size, lr=args.lr, seed=args.seed, init=args.init,
                         resume=args.resume, device=args.device, progress=not args.quiet)
    print(f"trained renderer in {run}")


def cmd_serve(args) -> None:
    from gesticulate.web.server import serve
    serve(host=args.host, port=args.port, workers=args.workers)


def _add_training_options(p, *, batch_size: int, lr: float) -> None:
    p.add_argument("--dataset", required=True, help="dataset folder (gesticulate build-dataset)")
    p.add_argument("--output", "-o", required=True, help="run folder (checkpoints, log.csv)")
    p.add_argument("--preset", choices=("tiny", "S", "B"), default="tiny", help="model size")
    p.add_argument("--steps", type=int, default=2000, help="optimisation steps")
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--lr", type=float, default=lr, help="learning rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from the run's last checkpoint")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: a GPU when there is one)")


def _add_build_options(p) -> None:
    p.add_argument("--output", "-o", required=True, help="dataset folder (a rerun resumes)")
    p.add_argument("--fps", type=float, default=25.0, help="clip frame rate (default 25)")
    p.add_argument("--clip-seconds", type=float, default=10.0, help="longest clip (default 10)")
    p.add_argument("--min-clip-seconds", type=float, default=2.0, help="shortest clip kept (default 2)")
    from gesticulate.data.engines import usable_cpus
    cores = len(usable_cpus())
    p.add_argument("--workers", type=int, default=cores,
                   help=f"parallel workers, one core each (default {cores}: every core usable here)")
    p.add_argument("--engine", choices=("local", "ray"), default="local")
    p.add_argument("--ray-address", help="Ray cluster address (default: a local Ray instance)")
    p.add_argument("--speaker-from", choices=("source", "folder"), default="source",
                   help="speaker id: one per video, or the video's folder name")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--test-fraction", type=float, default=0.1)


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

    from gesticulate.pipeline import RENDERERS
    p = sub.add_parser("render", help="skeleton .npz + photo + speech -> mp4 (stage 2 alone)")
    p.add_argument("--motion", required=True, help="skeleton .npz (gesticulate sample/extract)")
    p.add_argument("--image", required=True, help="photo of the person")
    p.add_argument("--audio", required=True, help="the speech the motion was made from")
    p.add_argument("--output", "-o", required=True, help="output .mp4")
    p.add_argument("--fps", type=float,
                   help="output frame rate; the motion is resampled (default: the motion's own)")
    p.add_argument("--size", type=int, default=512, help="longer side of the video in pixels")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--renderer", choices=RENDERERS, default="warp")
    p.add_argument("--renderer-checkpoint", help="run folder for --renderer diffusion")
    _add_smooth_option(p)
    p.set_defaults(func=cmd_render)

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

    p = sub.add_parser("build-dataset", help="turn videos into a training set (CSG-405 pipeline)")
    p.add_argument("inputs", nargs="+", help="video files, folders, or text files listing paths")
    _add_build_options(p)
    p.add_argument("--video", action="store_true", help="also write each clip's cropped video")
    p.add_argument("--segment-seconds", type=float, default=60.0,
                   help="track videos of twice this length or more in segments of about this "
                        "length on several workers (default 60; 0 = one worker per video)")
    p.set_defaults(func=cmd_build_dataset)

    p = sub.add_parser("import-poses", help="CSG-405, EchoMimicV2 or BEAT2 poses (+ audio) -> a training set")
    p.add_argument("inputs", nargs="+", help="pose folders/files, or folders holding them")
    _add_build_options(p)
    p.add_argument("--audio-dir", help="folder of <name>.wav next to the pose sequences")
    p.add_argument("--format", choices=("auto", "csg", "echomimic", "beat2"), default="auto")
    p.add_argument("--pose-fps", type=float, help="frame rate of the poses (default: the format's)")
    p.add_argument("--space", choices=("minus1_1", "unit", "pixels"), default="minus1_1",
                   help="coordinate space of CSG-405 arrays")
    p.set_defaults(func=cmd_import_poses)

    p = sub.add_parser("inspect", help="a dataset's counts, hours, rejections, QC plots (HTML)")
    p.add_argument("dataset", help="dataset folder")
    p.add_argument("--output", "-o", help="report path (default DATASET/report.html)")
    p.add_argument("--overlays", type=int, default=4, help="clips shown with skeleton overlays")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("train", help="train MotionDiT (stage 1); torchrun for several GPUs")
    _add_training_options(p, batch_size=32, lr=3e-4)
    p.add_argument("--val-every", type=int, default=250)
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--augment", action="store_true",
                   help="augment the training windows: random scale, rotation and left-right flip")
    p.add_argument("--mask-head", action="store_true",
                   help="also learn to predict how much face, lips and hands move in each frame "
                        "of a motion (MMGT's motion masks, saved with each sample; the diffusion "
                        "renderer's audio attention is kept to them)")
    p.add_argument("--local-parts", action="store_true",
                   help="learn each hand relative to its wrist and the face relative to the "
                        "nose (CSG-405's per-part representation), the body as it is")
    p.add_argument("--no-phones", action="store_true",
                   help="do not feed the model the viseme channels of recognised phones "
                        "(prosody features only, as models trained before them)")
    p.add_argument("--audio-encoder", help="folder of a pretrained speech encoder (transformers "
                   "save_pretrained: wav2vec2, HuBERT, WavLM, Whisper) whose features the model "
                   "hears too; kept per clip in the dataset; needs the encoder extra")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sample", help="speech + photo -> skeleton .npz with a trained MotionDiT")
    p.add_argument("--checkpoint", required=True, help="run folder (gesticulate train)")
    p.add_argument("--audio", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--output", "-o", required=True, help="output .npz")
    p.add_argument("--fps", type=float, default=25.0)
    p.add_argument("--size", type=int, default=512,
                   help="longer side of the photo frame the skeletons are in (default 512)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--style", help="speaker name from the training set, or a skeleton .npz clip")
    p.add_argument("--speed", type=float, default=1.0, help="multiplier of the data's wrist speed")
    p.add_argument("--guidance", type=float, default=2.0, help="classifier-free guidance on audio")
    p.add_argument("--steps", type=int, default=10, help="sampler steps (<= 10 is fine)")
    p.add_argument("--sampler", choices=("dpm", "ddim"), default="dpm")
    p.add_argument("--hands-first", action="store_true", help="EMO2: hands, then the body")
    p.add_argument("--audio-encoder", help="folder of the speech encoder the run was trained "
                   "with, where it is not where the run says")
    p.add_argument("--device")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("train-fgd", help="train the motion autoencoder behind FGD")
    p.add_argument("--dataset", required=True)
    p.add_argument("--output", "-o", required=True, help="encoder folder")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_train_fgd)

    p = sub.add_parser("evaluate", help="score generators against ground truth (tables + HTML)")
    p.add_argument("--dataset", required=True)
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--generator", action="append",
                   help="procedural, retrieval or diffusion:RUN; repeat for several rows")
    p.add_argument("--generated", help="folder of another system's <clip_id>.mp4 / .npz outputs")
    p.add_argument("--output", "-o", required=True, help="report folder")
    p.add_argument("--fgd-encoder", help="encoder folder (gesticulate train-fgd)")
    p.add_argument("--max-clips", type=int)
    p.add_argument("--no-video", action="store_true", help="motion metrics only")
    p.add_argument("--size", type=int, default=256, help="video size for video metrics")
    p.add_argument("--num-samples", type=int, default=3, help="samples per clip for DIV")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("reenact", help="render real clips onto their own first frame and score "
                       "them against the real frames (stage-2 check)")
    p.add_argument("clips", nargs="+", help="videos of one person speaking (photos with --drive)")
    p.add_argument("--output", "-o", required=True, help="report folder")
    p.add_argument("--renderer", choices=RENDERERS, default="warp")
    p.add_argument("--renderer-checkpoint", help="run folder for --renderer diffusion")
    p.add_argument("--drive", help="drive each clip's first frame (or photo) with this clip's "
                   "motion, retargeted, instead of its own")
    p.add_argument("--size", type=int, default=512, help="longer side in pixels (default 512)")
    p.add_argument("--max-seconds", type=float, help="use at most this much of each clip")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_reenact)

    p = sub.add_parser("train-renderer", help="train the diffusion renderer (stage 2)")
    _add_training_options(p, batch_size=4, lr=1e-4)
    p.add_argument("--init", help="folder of compatible weights on disk (diffusers layout)")
    p.set_defaults(func=cmd_train_renderer)

    p = sub.add_parser("serve", help="the web app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--workers", type=int, default=1, help="worker processes (jobs at once)")
    p.set_defaults(func=cmd_serve)
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
