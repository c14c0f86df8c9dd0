"""Stage 2 under stage 1's gestures: do the generated videos stay whole at the styles' amplitudes?

    python benchmarks/gesture_integrity.py [--styles auto lively] [--size 256] [--output DIR]
                                           [--seconds 12] [--only NAME ...]
                                           [--retrieval DATASET]

For every shared photo (../shared/data/photo) and the first frame of every shared clip but
pats_oliver_slice18.mp4 (its first frame is photo/pats_oliver_slice18.png; never copied into
the project), the procedural generator (each ``--styles``) drives the warp
renderer with the clip's own speech (photos and the clips without sound:
``audio/freemo_clip000028_tCAkv4ggPgI.wav``), cut to ``--seconds``. The rendered frames are
re-detected and scored like the reenactment harness
(:mod:`gesticulate.evaluate.reenact_scores`): arm fidelity (share of shoulder, elbow and wrist
points within 0.2 shoulder widths of the generated skeleton; a wrist without its
hand is not counted, nor a point MediaPipe loses on the still photo itself, tracked as a
video: column "not held", nor one the motion puts outside the frame; one found just past the
frame's edge counts), hands re-detected
where the generated skeleton has them, and pieces and holes of the person's silhouette next to
the photo's own. Prints a table and PASS/FAIL per check (fidelity ≥ 0.90, hands ≥ 0.90,
pieces and holes ≤ the photo's + 0.05); writes each video and its three most-moved frames
(PNG) to ``--output``.

``--retrieval DATASET`` (one built from the shared clips) adds a row per input for the
retrieval generator (style ``auto``), its library leaving out the clip's own source
(:func:`gestures.leave_one_out`; a photo gets the whole library).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from gesticulate.audio.io import AUDIO_SR
from gesticulate.data.decode import load_source_audio
from gesticulate.data.sources import find_sidecar_audio
from gesticulate.errors import InputError
from gesticulate.evaluate.media import first_frame
from gesticulate.evaluate.reenact_scores import top_frames
from gesticulate.image import load_image
from gesticulate.metrics.fidelity import ARM_POINTS, SEEN, pose_fidelity
from gesticulate.metrics.silhouette import silhouette_integrity
from gesticulate.pipeline import GeneratePipeline
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.extract import track_frames

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gestures import leave_one_out  # noqa: E402  (the benchmark beside this one)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PHOTOS = ["desk_host_body.png", "pats_oliver_slice18.png", "portrait_s2.jpg", "portrait_6.jpg"]
CLIPS = ["hbr_speaker7.mp4", "hbr_speaker8.mp4", "hbr_speaker9.mp4", "hbr_speaker12.mp4",
         "interview_1wrQ6Msp7wM.mp4", "un_speech_female.mp4", "talkshow_show_half.mp4",
         "avspeech_sample1.avi", "avspeech_sample2.avi"]
# Clips without sound, driven by SPEECH as the photos are (none of them is in the retrieval
# dataset, which is built from clips with speech: a photo's whole library plays for them).
SILENT = ["talkshow_oliver_noaudio.mp4", "ted_lia_driving1_noaudio.mp4",
          "ted_lia_driving2_noaudio.mp4", "ted_lia_driving3_noaudio.mp4"]
SPEECH = DATA / "audio" / "freemo_clip000028_tCAkv4ggPgI.wav"


def inputs(seconds: float, only: list[str] | None = None
           ) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, RGB photo, speech at AUDIO_SR) for every photo and clip (or those named)."""
    out = []
    speech = load_source_audio(str(SPEECH), duration_s=seconds, sr=AUDIO_SR)
    for name in PHOTOS:
        if only and Path(name).stem not in only:
            continue
        out.append((Path(name).stem, load_image(DATA / "photo" / name), speech))
    for name in CLIPS:
        if only and Path(name).stem not in only:
            continue
        path = DATA / "video" / name
        y = load_source_audio(str(path), sidecar=find_sidecar_audio(path), sr=AUDIO_SR)
        out.append((path.stem, first_frame(path), y[: int(seconds * AUDIO_SR)]))
    for name in SILENT:
        if only and Path(name).stem not in only:
            continue
        out.append((Path(name).stem, first_frame(DATA / "video" / name), speech))
    return out


def held_on_photo(img: np.ndarray, frames: int = 25) -> np.ndarray:
    """``(6,)`` bool per :data:`ARM_POINTS`: whether MediaPipe, tracking the still photo as a
    video of ``frames`` frames, sees the point in at least half of them. portrait_6's right
    shoulder, at the frame's bottom corner, is lost after the third frame of the photo itself
    (tracked just outside the picture): no render can have it re-detected."""
    still = track_frames([img] * frames, progress=False)
    return (still[:, ARM_POINTS, 2] >= SEEN).mean(0) >= 0.5


def run_one(pipe: GeneratePipeline, photo: np.ndarray, y: np.ndarray, video: Path) -> dict:
    img, ref = pipe.prepare_photo(photo)
    h, w = img.shape[:2]
    feats = pipe.features(y, AUDIO_SR)
    style = pipe.choose_style(feats, ref, image_size=(w, h))
    motion = pipe.fit_motion(pipe.generate_motion(feats, ref, image_size=(w, h),
                                                  style=style.name), ref, image_size=(w, h))
    frames: list[np.ndarray] = []

    def keep(it):
        for f in it:
            frames.append(f)
            yield f

    pipe.write_video(keep(pipe.frames(img, ref, motion, feats, fitted=True)), output=video,
                     num_frames=len(motion), size=(w, h), audio=y, sr=AUDIO_SR, progress=False)
    red = track_frames(frames, progress=False)
    kp = motion.keypoints
    held = held_on_photo(img)
    moving = np.linalg.norm(kp[:, 5:11, :2] - kp[:1, 5:11, :2], axis=2).mean(1)
    for old in video.parent.glob(f"{video.stem}_f*.png"):
        old.unlink()
    for i in top_frames(moving):
        Image.fromarray(frames[i]).save(video.with_name(f"{video.stem}_f{i:04d}.png"))
    seen = (kp[:, ARM_POINTS, 2] >= SEEN).any(0)
    return {**pose_fidelity(red, kp, not_asked=~held, size=(w, h)), **silhouette_integrity(frames),
            "not_held": ", ".join(L.BODY_NAMES[j].replace("_", " ")
                                  for j in ARM_POINTS[~held & seen]) or "-",
            **{"photo_" + k: v for k, v in silhouette_integrity([img]).items()},
            "style": style.describe()}


def library(dataset: Path, name: str, work: Path) -> Path:
    """The retrieval library for input ``name``: ``dataset`` without that clip's source, or
    all of it for a photo."""
    clip = next((c for c in CLIPS if Path(c).stem == name), None)
    return dataset if clip is None else leave_one_out(dataset, DATA / "video" / clip, work)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--styles", nargs="*", default=["auto", "lively"],
                    help="procedural styles (none: only --retrieval's rows)")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--output", type=Path, default=Path("/tmp/gesticulate-gesture-integrity"))
    ap.add_argument("--only", nargs="+", metavar="NAME",
                    help="only these photos and clips (file names without extension)")
    ap.add_argument("--retrieval", type=Path, help="dataset built from the shared clips")
    args = ap.parse_args()
    if not DATA.is_dir():
        sys.exit(f"{DATA} not found: this benchmark needs the shared sample data")
    args.output.mkdir(parents=True, exist_ok=True)
    print("| input | style | arm fidelity | not held | hands re-detected | pieces (photo) "
          "| holes (photo) | checks |")
    print("|---|---|---|---|---|---|---|---|")
    fails = skipped = 0
    loaded = inputs(args.seconds, args.only)
    for name, photo, y in loaded:
        rows = [(style, {"style": style}) for style in args.styles]
        if args.retrieval:
            lib = library(args.retrieval, name, args.output)
            rows.append(("retrieval", {"style": "auto", "motion": "retrieval",
                                       "checkpoint": str(lib)}))
        for i, (label, options) in enumerate(rows):
            try:
                pipe = GeneratePipeline(size=args.size, seed=0, phones=False, **options)
                r = run_one(pipe, photo, y, args.output / f"{name}_{label}.mp4")
            except InputError as e:     # e.g. a first frame with two people in it
                print(f"| {name} | {label} | skipped: {e} ||||||")
                skipped += len(rows) - i
                break
            checks = [("fidelity", not r["arm_fidelity"] < 0.9),
                      ("hands", not r["hands_redetected"] < 0.9),
                      ("pieces", r["pieces"] <= r["photo_pieces"] + 0.05),
                      ("holes", r["holes"] <= r["photo_holes"] + 0.05)]
            bad = [c for c, ok in checks if not ok]
            fails += bool(bad)
            chosen = (r["style"] or "").split(":")[0].replace("style ", "")
            chosen = f"retrieval, {chosen}" if label == "retrieval" else chosen
            print(f"| {name} | {chosen} | {r['arm_fidelity']:.3f} | {r['not_held']} "
                  f"| {r['hands_redetected']:.3f} "
                  f"| {r['pieces']:.3f} ({r['photo_pieces']:.3f}) "
                  f"| {r['holes']:.3f} ({r['photo_holes']:.3f}) "
                  f"| {'PASS' if not bad else 'FAIL: ' + ', '.join(bad)} |", flush=True)
    total = len(loaded) * (len(args.styles) + bool(args.retrieval))
    print(f"\n{fails} of {total - skipped} videos fail a check ({skipped} skipped); frames "
          f"and videos in {args.output}")


if __name__ == "__main__":
    main()
