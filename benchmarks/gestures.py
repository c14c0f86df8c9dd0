"""Stage 1 against real speakers: the gesture profile of generated motion next to the real clip's.

    python benchmarks/gestures.py [--styles auto calm] [--seeds 0 1 2 ...] [--cache DIR]
                                  [--json OUT.json] [--plot OUT.png] [--clips NAME ...]
                                  [--retrieval DATASET]

For every shared clip with speech (``--data``, default ../shared/data; never copied into the
project), :mod:`gesticulate.evaluate.gestures` extracts the speaker's skeleton (MediaPipe, 25
fps, cached in ``--cache``), runs the procedural generator from the clip's first frame and
its own audio, once per style and seed (0–19), and measures both with
:func:`gesticulate.metrics.gesture.gesture_profile`. Clips
are grouped by class (seated interview, lectern, desk, close-up); per
class the generated median over the class's clips is compared with the real one: each figure
within ±35 % (``ok``; the pause speed is shown, not held), hand L1 diversity ≥ 70 % of real,
wrist acceleration ≤ 1.2 × real. Audio
alignment: beat alignment (BA, with its chance control) and wrist–onset coupling
(:func:`gesticulate.metrics.beats.onset_coupling`) of the generated motion on its own audio,
on another clip's audio (shuffled) and of the still photo, all scored against the clip's own
audio.

The clips last 2–7 s, too short to tell own audio from another's, so audio alignment is also
measured on the long speeches of ``data/audio`` (8–68 s) from one photo (``--speech-photo``,
default ``photo/desk_host_body.png``; ``--speech-photo none`` skips it): own audio, the next
speech's (shuffled) and the still photo, each scored against the speech's own onsets.

``--retrieval DATASET`` adds the retrieval generator as a row, with its own shuffled-audio
figures: DATASET is built from the shared clips (``gesticulate build-dataset``), and each clip
is generated from a view of it whose train split holds every other kept clip (those the builder
put in its val and test splits too) and none of that clip's source.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from gesticulate.evaluate.baselines import shuffled_features
from gesticulate.evaluate.gestures import (RealClip, generated_profile, load_real_clip, profile,
                                          speech_alignment)
from gesticulate.metrics.gesture import FIGURES
from gesticulate.motion import get_generator

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"   # default --data
FPS = 25.0
CLASSES = {
    "hbr_speaker7.mp4": "seated interview", "hbr_speaker8.mp4": "seated interview",
    "hbr_speaker9.mp4": "seated interview", "hbr_speaker12.mp4": "seated interview",
    "interview_1wrQ6Msp7wM.mp4": "seated interview", "un_speech_female.mp4": "lectern",
    "talkshow_show_half.mp4": "desk",
    "avspeech_sample1.avi": "close-up", "avspeech_sample2.avi": "close-up",
}
# interview_1wrQ6Msp7wM was first filed as a "standing interview", a class of its own; its
# speaker sits in an armchair (the chair's back and arms show behind her on every frame), so
# she is a seated interview speaker. No shared clip with speech shows a standing one: the
# standing speakers (ted_lia_driving*, talkshow_oliver) have no sound.
# pats_oliver_slice18 is left out: MediaPipe finds no shoulders on most of its frames, so its
# "real" figures are tracker noise (wrist speeds of 16 sw/s).
TOLERANCE = 0.35            # each class figure within ±35 % of the real class median
MIN_DIVERSITY = 0.70        # hand L1 diversity ≥ 70 % of real
MAX_JITTER = 1.2            # wrist acceleration ≤ 1.2 × real
# Figures held to ±35 %; the pause speed is shown but not held (a real pause is often a hold,
# whose speed is tracker noise, ~0.05 sw/s, where ±35 % means nothing).
HELD = ("speed_speech_median", "speed_speech_p90", "hand_variance", "l1div_hands", "beats_per_s")


def leave_one_out(dataset: Path, source: Path, work: Path) -> Path:
    """A view of ``dataset`` (links to its files) whose train split holds every kept clip but
    those of ``source``. ``build-dataset`` puts a tenth of the sources in its val split and a
    tenth in its test split (hbr_speaker8 and talkshow_show_half of the shared clips): left
    there, the library lacked the calmest seated speaker for every clip."""
    view = work / f"loo-{source.stem}"
    view.mkdir(parents=True, exist_ok=True)
    for item in dataset.iterdir():
        skip = item.name in ("manifest.jsonl", "retrieval_index.npz")
        if not skip and not (view / item.name).exists():
            os.symlink(item.resolve(), view / item.name)
    rows = [json.loads(line) for line in (dataset / "manifest.jsonl").read_text().splitlines()
            if line.strip()]
    for r in rows:
        if r.get("split") in ("train", "val", "test"):      # a kept clip
            r["split"] = "test" if Path(r["source"]).resolve() == source.resolve() else "train"
    (view / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return view


def style_row(gen, clip: RealClip, other, style: str, seeds) -> dict:
    """The generator's profile on the clip for one style, its BA on another clip's audio
    (scored against this clip's) and the style ``auto`` chose."""
    chosen = gen.style_for(clip.features, clip.reference, image_size=clip.image_size,
                           style=style).name
    row = generated_profile(gen, clip, seeds=seeds, style=chosen)
    # The other clip's voice: ``auto`` reads it again, as a user with that audio would get.
    shuffled = generated_profile(gen, clip, seeds=seeds, features=other, style=style)
    row.update(shuffled_ba=shuffled["ba"], shuffled_coupling=shuffled["coupling"])
    row["chosen"] = chosen
    return row


def measure(args) -> dict:
    gen = get_generator("procedural")
    names = [c for c in CLASSES if not args.clips or Path(c).stem in args.clips]
    clips = [load_real_clip(args.data / "video" / c, fps=FPS, cache=args.cache) for c in names]
    out = {"clips": {}, "settings": {k: str(v) for k, v in vars(args).items()}}
    for i, (name, clip) in enumerate(zip(names, clips)):
        row = {"class": CLASSES[name], "real": profile(clip.skeleton.keypoints, clip)}
        still = np.repeat(clip.reference[None], len(clip.skeleton), axis=0)
        still = profile(still, clip)
        row.update(still_ba=still["ba"], still_coupling=still["coupling"])
        other, _ = shuffled_features([c.features for c in clips], i)
        for style in args.styles:
            row[style] = style_row(gen, clip, other, style, args.seeds)
        if args.retrieval:
            loo = leave_one_out(args.retrieval, args.data / "video" / name, args.cache)
            retrieval = get_generator("retrieval", checkpoint=loo)
            row["retrieval"] = generated_profile(retrieval, clip, seeds=args.seeds)
            shuffled = generated_profile(retrieval, clip, seeds=args.seeds, features=other)
            row["retrieval"].update(shuffled_ba=shuffled["ba"],
                                    shuffled_coupling=shuffled["coupling"], chosen=None)
        out["clips"][clip.name] = row
        print(f"{clip.name}: done", file=sys.stderr)
    return out


def class_medians(result: dict, key: str) -> dict[str, dict[str, float]]:
    """Per class, the median over its clips of each figure (a median: one clip whose tracker
    fails must not set the class's target)."""
    groups: dict[str, list[dict]] = {}
    for row in result["clips"].values():
        if key in row:
            groups.setdefault(row["class"], []).append(row[key])
    with warnings.catch_warnings():   # a figure NaN on every clip of a class stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return {c: {k: float(np.nanmedian([r[k] for r in rows])) for k in rows[0]
                    if isinstance(rows[0][k], (int, float))}
                for c, rows in groups.items()}


def _ratio(gen: float, real: float) -> float:
    return gen / real if real > 0 and np.isfinite(gen) else float("nan")


# Shown for a class figure the real clips do not give (a failed check, with its reason printed
# below the class): every clip of the class has its wrists (or hands) seen in fewer than a
# quarter of the frames (metrics.gesture.MIN_SEEN). No shared class at present: the lectern
# class is measured on un_speech_female's right wrist (33 % of the frames).
UNMEASURED = "n/a"
UNMEASURED_WHY = ("n/a: not measured on the real clips, whose wrists or hands are seen in fewer "
                  "than a quarter of the frames (behind a lectern, under the frame's edge)")


def verdicts(real: dict, gen: dict) -> list[tuple[str, bool, str]]:
    """(check, passed, generated/real) per class check; a figure not measured fails, and says
    why when the real clips do not give it."""
    def shown(k: str, ratio: float) -> str:
        return UNMEASURED if not np.isfinite(real[k]) else f"{ratio:.2f}x"

    out = []
    for k in HELD:
        r = _ratio(gen[k], real[k])
        out.append((k, abs(r - 1) <= TOLERANCE, shown(k, r)))
    d = _ratio(gen["l1div_hands"], real["l1div_hands"])
    out.append(("l1div_hands >= 70 % real", d >= MIN_DIVERSITY, shown("l1div_hands", d)))
    j = _ratio(gen["wrist_accel"], real["wrist_accel"])
    out.append(("wrist_accel <= 1.2 x real", j <= MAX_JITTER, shown("wrist_accel", j)))
    return out


def print_tables(result: dict, styles: list[str]) -> None:
    cols = FIGURES + ("ba", "ba_control", "coupling")
    head = ("| clip | class | row | " + " | ".join(cols)
            + " | shuffled BA | still BA | shuffled coupling | still coupling |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for name, row in result["clips"].items():
        for key in ["real", *styles]:
            r = row[key]
            extra = (f" {r['shuffled_ba']:.3f} | {row['still_ba']:.3f} |"
                     f" {r['shuffled_coupling']:.3f} | {row['still_coupling']:.3f} |"
                     if key != "real" else " | | | |")
            label = key if not r.get("chosen") else f"{key} → {r['chosen']}"
            print(f"| {name} | {row['class']} | {label} | "
                  + " | ".join(f"{r[k]:.3f}" for k in cols) + f" |{extra}")
    real = class_medians(result, "real")
    for style in styles:
        gen = class_medians(result, style)
        print(f"\n{style}: class medians, generated / real")
        for cls in real:
            checks = verdicts(real[cls], gen[cls])
            marks = [f"{k} {fig} {'ok' if ok else 'FAIL'}" for k, ok, fig in checks]
            marks.append(f"hands_together {gen[cls]['hands_together']:.2f} against "
                         f"{real[cls]['hands_together']:.2f} (shown)")
            print(f"  {cls:20s} " + "; ".join(marks))
            if any(fig == UNMEASURED for _, _, fig in checks):
                print(f"  {'':20s} {UNMEASURED_WHY}")


SPEECH_COLUMNS = ("ba", "ba_control", "shuffled_ba", "still_ba", "coupling",
                  "shuffled_coupling", "still_coupling")


def measure_speeches(args, photo: Path) -> dict:
    """Audio alignment of the procedural generator (``--styles``) and, given ``--retrieval``,
    of the retrieval generator on the long speeches, from ``photo``."""
    from gesticulate.audio.features import load_features
    from gesticulate.image import load_image
    from gesticulate.skeleton.extract import extract_image

    image = load_image(photo)
    reference = extract_image(image)
    paths = sorted((args.data / "audio").glob("*.wav"))
    speeches = [load_features(p, fps=FPS) for p in paths]
    size = (image.shape[1], image.shape[0])
    gen = get_generator("procedural")
    out = {}
    for style in args.styles:
        rows = speech_alignment(gen, reference, image_size=size, speeches=speeches,
                                seeds=args.seeds, style=style)
        out[style] = {p.stem: r for p, r in zip(paths, rows)}
    if args.retrieval:     # the speeches are not in the dataset: all of it is used
        rows = speech_alignment(get_generator("retrieval", checkpoint=args.retrieval),
                                reference, image_size=size, speeches=speeches, seeds=args.seeds)
        out["retrieval"] = {p.stem: r for p, r in zip(paths, rows)}
    return out


def print_speeches(speeches: dict, photo: Path) -> None:
    for style, rows in speeches.items():
        print(f"\nAudio alignment on long speeches ({photo.name}, {style}; "
              "each speech's own onsets score every column):")
        head = "| speech | s | " + " | ".join(SPEECH_COLUMNS) + " |"
        print(head)
        print("|" + "---|" * (head.count("|") - 1))
        for name, r in rows.items():
            print(f"| {name} | {r['seconds']:.1f} | "
                  + " | ".join(f"{r[k]:.3f}" for k in SPEECH_COLUMNS) + " |")
        mean = {k: float(np.nanmean([r[k] for r in rows.values()])) for k in SPEECH_COLUMNS}
        print("| mean | | " + " | ".join(f"{mean[k]:.3f}" for k in SPEECH_COLUMNS) + " |")
        above = sum(r["coupling"] > r["shuffled_coupling"] for r in rows.values())
        print(f"coupling: own {mean['coupling']:.3f}, shuffled {mean['shuffled_coupling']:.3f}, "
              f"still {mean['still_coupling']:.3f}; own above shuffled on {above} of "
              f"{len(rows)} speeches. BA: own {mean['ba']:.3f}, chance "
              f"{mean['ba_control']:.3f}, shuffled {mean['shuffled_ba']:.3f}.")


def plot(result: dict, styles: list[str], path: Path) -> None:
    from gesticulate.extras import pyplot
    plt = pyplot(what="the gesture benchmark plot")

    real = class_medians(result, "real")
    gens = {s: class_medians(result, s) for s in styles}
    keys = HELD + ("wrist_accel", "hands_together")
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3.6))
    classes = list(real)
    x = np.arange(len(classes))
    width = 0.8 / (1 + len(styles))
    for ax, k in zip(axes, keys):
        ax.bar(x, [real[c][k] for c in classes], width, label="real", color="0.3")
        for i, s in enumerate(styles):
            ax.bar(x + (i + 1) * width, [gens[s][c][k] for c in classes], width, label=s)
        ax.set_title(k, fontsize=9)
        ax.set_xticks(x + 0.4 - width / 2, classes, rotation=35, ha="right", fontsize=7)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--styles", nargs="+", default=["auto"])
    # 20 seeds: with 0-4 the one-clip desk class and the two-clip close-up class read
    # pass/fail the other way round on the same code (e.g. close-up L1 diversity 0.69x at
    # seeds 0-4, 0.73x at 0-19).
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    ap.add_argument("--clips", nargs="*", help="clip names (stems) to run; default all")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/gesticulate-gesture-cache"))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--plot", type=Path)
    ap.add_argument("--retrieval", type=Path, help="dataset built from the shared clips")
    ap.add_argument("--data", type=Path, default=DATA, help="the shared sample data folder")
    ap.add_argument("--speech-photo", default=None,
                    help="photo for the long-speech alignment (default "
                         "DATA/photo/desk_host_body.png; 'none' skips it)")
    args = ap.parse_args()
    if not args.data.is_dir():
        sys.exit(f"{args.data} not found: this benchmark needs the shared sample data "
                 "(give its folder with --data)")
    args.cache.mkdir(parents=True, exist_ok=True)
    result = measure(args)
    rows = args.styles + (["retrieval"] if args.retrieval else [])
    print_tables(result, rows)
    if args.speech_photo != "none":
        photo = Path(args.speech_photo or args.data / "photo" / "desk_host_body.png")
        result["speeches"] = measure_speeches(args, photo)
        print_speeches(result["speeches"], photo)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))
    if args.plot:
        plot(result, rows, args.plot)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
