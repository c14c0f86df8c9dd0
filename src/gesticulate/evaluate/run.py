"""``gesticulate evaluate``: generate for every clip of a split, score everything, write a report.

For every clip of the split, the clip's audio features and first-frame skeleton (and, when the
dataset has videos, its first frame) go into each generator; the motion is scored against the
clip's ground truth and audio, rendered with the warp renderer (as ``gesticulate generate``
does) and the video scored against the real video. Ground truth itself and baselines are
scored the same way, so the table reads like the papers' tables (issue 5, DESIGN.md "Metrics").
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from gesticulate.audio.io import AUDIO_SR
from gesticulate.errors import InputError, MissingExtraError, OptionError
from gesticulate.evaluate import baselines, media
from gesticulate.evaluate.scoring import ScoreSettings, motion_scores, video_scores
from gesticulate.motion.base import get_generator


@dataclass
class Row:
    """One row of the table: a way of producing motion (and video) for every clip."""

    name: str
    kind: str                       # ground_truth | generator | baseline | generated
    description: str
    per_clip: dict = field(default_factory=dict)      # clip_id -> {metric: value}
    motions: dict = field(default_factory=dict)       # clip_id -> (T, 133, 3), clip pixels
    videos: dict = field(default_factory=dict)        # clip_id -> Path (evaluation size)
    notes: list = field(default_factory=list)
    fgd: float = float("nan")                         # set-level, vs. ground truth


@dataclass
class ClipInputs:
    """What every row gets for one clip, prepared once."""

    clip: object                    # gesticulate.data.clips.Clip
    audio: np.ndarray               # (N,) float32 at AUDIO_SR
    beats_s: np.ndarray             # audio beats (onset times, s)
    envelope: np.ndarray            # (T,) voice-band log-RMS per frame
    onset: np.ndarray               # (T,) onset strength per frame
    photo: np.ndarray | None = None         # first frame at the evaluation size
    gt_video: Path | None = None            # ground-truth video at the evaluation size
    video_size: tuple | None = None         # (w, h) of the evaluation videos

    @property
    def clip_id(self) -> str:
        return self.clip.record.clip_id

    @property
    def gt(self) -> np.ndarray:
        return self.clip.skeleton.keypoints

    @property
    def fps(self) -> float:
        return float(self.clip.skeleton.fps)

    def to_video(self, kp: np.ndarray) -> np.ndarray:
        return media.scale_keypoints(kp, self.clip.skeleton.image_size, self.video_size)


def parse_generator(spec: str, dataset_dir) -> tuple[str, str, dict]:
    """``procedural`` | ``retrieval`` | ``diffusion:RUN`` | a registered name →
    (row name, registry name, constructor kwargs)."""
    name, _, arg = spec.partition(":")
    if name == "diffusion":
        if not arg:
            raise OptionError("--generator diffusion needs a trained run folder: "
                              "diffusion:RUN (e.g. diffusion:runs/motion_dit)")
        if not Path(arg).is_dir():
            raise InputError(f"diffusion run folder {arg} not found; train one with "
                             "`gesticulate train` or check the path")
        return f"diffusion:{Path(arg).name}", "diffusion", {"checkpoint": arg}
    if name == "retrieval":
        return "retrieval", "retrieval", {"checkpoint": str(arg or dataset_dir)}
    if arg:
        raise OptionError(f"generator {spec!r}: only diffusion takes a ':RUN' argument")
    return name, name, {}


def _prepare_clip(clip, *, workdir: Path, size: int, video: bool) -> ClipInputs:
    from gesticulate.audio.features import onset_strength
    from gesticulate.audio.io import load_audio
    from gesticulate.metrics.beats import audio_beats
    from gesticulate.metrics.sync import audio_envelope

    y = load_audio(clip.audio_path, sr=AUDIO_SR)
    fps, t = float(clip.skeleton.fps), len(clip.skeleton)
    env = audio_envelope(y, sr=AUDIO_SR, fps=fps)
    env = np.pad(env, (0, max(0, t - len(env))), mode="edge")[:t]
    onset = onset_strength(y, sr=AUDIO_SR, fps=fps)
    onset = np.pad(onset, (0, max(0, t - len(onset))))[:t]
    ci = ClipInputs(clip, y, audio_beats(y, sr=AUDIO_SR), env, onset)
    if video and clip.video_path is not None:
        w, h = clip.skeleton.image_size
        ci.video_size = media.eval_size(w, h, size=size)
        ci.gt_video = workdir / "videos" / "ground_truth" / f"{ci.clip_id}.mp4"
        ci.gt_video.parent.mkdir(parents=True, exist_ok=True)
        media.normalise_video(clip.video_path, ci.gt_video, fps=fps, size=ci.video_size,
                              num_frames=t, audio=y, sr=AUDIO_SR)
        ci.photo = media.first_frame(ci.gt_video)
    return ci


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def _row_video(row: Row, ci: ClipInputs, motion, *, workdir: Path, seed: int,
               video_in: Path | None) -> tuple[Path, np.ndarray | None]:
    """The row's video of this clip at the evaluation size and the skeleton that drove it."""
    if row.kind == "ground_truth":
        return ci.gt_video, ci.to_video(ci.gt)
    path = workdir / "videos" / _slug(row.name) / f"{ci.clip_id}.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    if video_in is not None:
        media.normalise_video(video_in, path, fps=ci.fps, size=ci.video_size,
                              num_frames=len(ci.gt), audio=ci.audio, sr=AUDIO_SR)
        return path, None if motion is None else ci.to_video(motion)
    drive = ci.to_video(motion)
    reference = ci.to_video(ci.gt[:1])[0]      # the photo's own skeleton (its first frame)
    media.render_video(drive, path, photo=ci.photo, reference=reference, fps=ci.fps,
                       audio=ci.audio, sr=AUDIO_SR, seed=seed)
    return path, drive


def _score_clip(row: Row, ci: ClipInputs, motion: np.ndarray | None, *, samples,
                workdir: Path, settings: ScoreSettings, embedder, seed: int,
                video_in: Path | None = None) -> None:
    """Score one clip of a row: video metrics when the clip has video (rendered from
    ``motion``, or ``video_in`` re-encoded), then motion metrics. ``motion`` None (a
    video-only submission) → the skeleton re-detected on the video is scored as its motion."""
    scores: dict = {}
    if ci.gt_video is not None:
        try:
            path, drive = _row_video(row, ci, motion, workdir=workdir, seed=seed,
                                     video_in=video_in)
            vs, redetected = video_scores(
                path, fps=ci.fps, ground_truth_video=ci.gt_video, reference_photo=ci.photo,
                envelope=ci.envelope, drive=drive, embedder=embedder, settings=settings)
            scores.update(vs)
            row.videos[ci.clip_id] = path
            if motion is None:
                t = len(ci.gt)
                redetected = np.concatenate(
                    [redetected, np.repeat(redetected[-1:], max(0, t - len(redetected)), 0)])[:t]
                motion = media.scale_keypoints(redetected, ci.video_size,
                                               ci.clip.skeleton.image_size)
                scores["motion_from_redetection"] = 1.0
        except InputError as e:
            row.notes.append(f"{ci.clip_id}: no video metrics ({e})")
    if motion is None:
        row.notes.append(f"{ci.clip_id}: no motion to score (video-only submission and the "
                         "dataset has no ground-truth video)")
        return
    scores.update(motion_scores(motion, ci.gt, fps=ci.fps, audio_beats_s=ci.beats_s,
                                envelope=ci.envelope, onset=ci.onset, samples=samples,
                                settings=settings))
    row.motions[ci.clip_id] = motion
    row.per_clip[ci.clip_id] = scores


def _fit_len(kp: np.ndarray, t: int) -> np.ndarray:
    """``(T', 133, 3)`` cut or held on its last frame to ``t`` frames."""
    if len(kp) >= t:
        return kp[:t]
    return np.concatenate([kp, np.repeat(kp[-1:], t - len(kp), axis=0)])


def _generate(gen, features, ci: ClipInputs, seed: int) -> np.ndarray:
    """One sample of ``gen`` on the clip's photo; a learned model that hears phones gets the
    clip's (when ``features`` are the clip's own), and every generator its waveform."""
    ref = ci.gt[0]
    own = features is ci.clip.features
    model = getattr(gen, "model", None)
    phones = None
    if own and model is not None and getattr(model.config, "phones", False):
        from gesticulate.data.clips import clip_phones
        phones = clip_phones(ci.clip)
    seq = gen.generate(features, ref, image_size=ci.clip.skeleton.image_size, seed=seed,
                       phones=phones, audio=(ci.audio, AUDIO_SR) if own else None)
    return _fit_len(seq.keypoints, len(ci.gt))


@dataclass
class RowPlan:
    """A row and how it gets its motion for clip ``i``: ``fn(ci, i) -> (motion, samples,
    video_in)``."""

    row: Row
    fn: object


def _plans(generators, *, dataset_dir, seed: int, num_samples: int, include_baselines: bool,
           features: list, submissions: dict | None, generated_name: str) -> tuple[list, list]:
    """Rows to score (ground truth, generators, baselines, submission) and skip notes."""
    notes, plans = [], [RowPlan(Row("ground_truth", "ground_truth",
                                    "real motion and real video of the clip"),
                                lambda ci, i: (ci.gt, None, None))]
    loaded = []
    specs = list(generators)
    if include_baselines and not any(s.partition(":")[0] == "retrieval" for s in specs):
        specs.append("retrieval")
    for spec in specs:
        name, reg, kw = parse_generator(spec, dataset_dir)
        kind = "baseline" if spec not in generators else "generator"
        try:
            gen = get_generator(reg, **kw)
        except InputError as e:
            if kind == "generator":
                raise
            notes.append(f"{name} baseline: skipped ({e})")
            continue
        desc = f"gesticulate.motion '{reg}'" + (f" ({kw['checkpoint']})" if kw else "")
        if reg == "retrieval":
            desc += "; motion matching over the dataset's train clips"
        loaded.append((name, gen))

        def fn(ci, i, gen=gen):
            main = _generate(gen, ci.clip.features, ci, seed)
            extra = [_generate(gen, ci.clip.features, ci, seed + k) for k in range(1, num_samples)]
            return main, [main] + extra if extra else None, None
        plans.append(RowPlan(Row(name, kind, desc), fn))
    if include_baselines:
        plans += _baseline_plans(loaded, features, seed)
    if submissions is not None:
        plans.append(_submission_plan(submissions, generated_name))
    return plans, notes


def _baseline_plans(loaded: list, features: list, seed: int) -> list:
    plans = []
    # The shuffled row feeds another clip's features; a model that hears the waveform through
    # a speech encoder would need that clip's waveform fitted alike: not offered for it.
    loaded = [(n, g) for n, g in loaded if not getattr(g, "hears_waveform", False)]
    if loaded:
        name, gen = loaded[0]

        def shuffled(ci, i):
            feats, _ = baselines.shuffled_features(features, i)
            return _generate(gen, feats, ci, seed), None, None
        how = ("the next clip's audio, looped or cut to this clip's length" if len(features) > 1
               else "the clip's own audio circularly shifted by half its length")
        plans.append(RowPlan(Row(f"shuffled_audio ({name})", "baseline",
                                 f"'{name}' fed {how}; scored against the clip's own audio"),
                             shuffled))
    plans.append(RowPlan(Row("mean_pose", "baseline",
                             "the clip's mean pose held still, no mouth motion"),
                         lambda ci, i: (baselines.mean_pose_motion(ci.clip.skeleton).keypoints,
                                        None, None)))
    return plans


def _submission_plan(submissions: dict, name: str) -> RowPlan:
    from gesticulate.evaluate.generated import load_submitted_skeleton

    def fn(ci, i):
        sub = submissions.get(ci.clip_id)
        if sub is None:
            return None, None, None
        motion = None
        if sub.skeleton is not None:
            motion = load_submitted_skeleton(sub.skeleton, fps=ci.fps, num_frames=len(ci.gt),
                                             image_size=ci.clip.skeleton.image_size)
        return motion, None, sub.video
    return RowPlan(Row(name, "generated", "files of another system (--generated)"), fn)


def _check_options(*, split, size, max_clips, num_samples, seed) -> None:
    from gesticulate.data.clips import SPLITS

    if split not in SPLITS:
        raise OptionError(f"--split {split!r}: use one of {', '.join(SPLITS)}")
    if not 64 <= size <= 1024:
        raise OptionError(f"--size {size}: use 64..1024 pixels (256 is the default; video "
                          "metrics cost grows with the frame area)")
    if max_clips is not None and max_clips < 1:
        raise OptionError(f"--max-clips {max_clips}: use 1 or more, or leave it out for all")
    if num_samples < 2:
        raise OptionError(f"--num-samples {num_samples}: DIV needs 2 or more samples per clip")
    if not 0 <= seed < 2**31 - 16:
        raise OptionError(f"--seed {seed} is out of range; use 0..2147483631")


def _embedder(notes: list):
    from gesticulate.metrics.identity import FaceEmbedder

    try:
        return FaceEmbedder()
    except MissingExtraError as e:
        notes.append(f"identity similarity not computed: {e}")
        return None


def _fgd_scores(rows: list[Row], encoder, notes: list) -> None:
    """Set-level FGD of each row against the ground-truth motions of the same clips."""
    from gesticulate.metrics.fgd import frechet_distance

    gt = rows[0].motions
    real = encoder.features([gt[c] for c in gt])
    for row in rows:
        ids = [c for c in row.motions if c in gt]
        try:
            feats = encoder.features([row.motions[c] for c in ids])
            ref = real if len(ids) == len(gt) else encoder.features([gt[c] for c in ids])
            row.fgd = frechet_distance(feats, ref)
        except InputError as e:
            row.fgd = float("nan")
            notes.append(f"{row.name}: FGD not computed ({e})")


def evaluate(dataset_dir: str | os.PathLike, *, split: str = "test",
             generators: list[str] | tuple[str, ...] = ("procedural",),
             output: str | os.PathLike, generated: str | os.PathLike | None = None,
             seed: int = 0, fgd_encoder: str | os.PathLike | None = None,
             max_clips: int | None = None, video: bool = True, size: int = 256,
             num_samples: int = 3, baselines: bool = True, keep_videos: bool = True,
             fgd_steps: int | None = None, progress: bool = True) -> dict:
    """Evaluate generators on a dataset split and write a report folder (``gesticulate evaluate``).

    Parameters
    ----------
    dataset_dir : a dataset folder (``gesticulate build-dataset``; videos are scored when it
        was built with ``write_video``, else only motion metrics).
    split : "train", "val" or "test": the clips evaluated.
    generators : generator specs, one row each: ``procedural``, ``retrieval`` (library from
        ``dataset_dir``) or ``diffusion:RUN`` (a ``gesticulate train`` run folder).
    output : report folder, written atomically (replaced as a whole at the end): ``metrics.json``,
        ``metrics.md``, ``report.html``, ``videos/<row>/<clip_id>.mp4`` (with ``keep_videos``),
        and the FGD encoder trained on the spot (``fgd_encoder/``, reused by a later run into
        the same folder when dataset, split, steps and seed match).
    generated : a folder of another system's outputs, ``<clip_id>.mp4`` (videos) and/or
        ``<clip_id>.npz`` (skeletons, :meth:`SkeletonSequence.save`), matched to the clips by
        clip id in the file name (see :mod:`gesticulate.evaluate.generated`); scored as an
        extra row ``generated:<folder name>``.
    seed : seed of the first sample; DIV uses seeds ``seed .. seed + num_samples - 1``.
    fgd_encoder : an encoder folder (``gesticulate train-fgd``); None → a quick one is
        trained on the train split (``fgd_steps`` steps) and cached in ``output``.
    max_clips : evaluate only the first clips of the split.
    video : render and score videos (needs clip videos); False → motion metrics only.
    size : longer side (pixels) of every video scored (ground truth is resized to it).
    num_samples : samples per clip for DIV (≥ 2).
    baselines : add the shuffled-audio, mean-pose and (if installed) retrieval rows.
    keep_videos : keep the rendered videos in ``output/videos``.
    progress : progress bars on stderr.

    Returns
    -------
    dict
        The content of ``metrics.json`` (settings, encoder, rows with per-clip and aggregated
        metrics, notes).
    """
    from gesticulate.data.clips import iter_clips
    from gesticulate.evaluate import encoder as enc_mod
    from gesticulate.evaluate import report
    from gesticulate.atomic import atomic_dir, holds

    _check_options(split=split, size=size, max_clips=max_clips, num_samples=num_samples, seed=seed)
    for spec in generators:
        parse_generator(spec, dataset_dir)           # fail on a bad spec before any work
    t_start = time.perf_counter()
    clips = list(iter_clips(dataset_dir, split=split))[:max_clips]
    if not clips:
        raise InputError(f"{dataset_dir} has no kept clips in the {split} split; choose another "
                         "--split or build the dataset with a test split")
    submissions = None
    if generated is not None:
        from gesticulate.evaluate.generated import match_generated
        submissions = match_generated(generated, [c.record.clip_id for c in clips])
    output = Path(output)
    # The report folder may be new, empty or a previous report (replaced as a whole: atomic_dir
    # refuses anything else); its parent is made for it.
    output.parent.mkdir(parents=True, exist_ok=True)
    previous = output if output.is_dir() else None
    with atomic_dir(output, previous=holds("metrics.json"), what="evaluation report",
                    inputs=[dataset_dir, generated, fgd_encoder]) as work:
        notes: list[str] = []
        plans, skip = _plans(list(generators), dataset_dir=dataset_dir, seed=seed,
                             num_samples=num_samples, include_baselines=baselines,
                             features=[c.features for c in clips], submissions=submissions,
                             generated_name=f"generated:{Path(generated).name}" if generated else "")
        notes += skip
        encoder, enc_info = enc_mod.evaluation_encoder(
            dataset_dir, workdir=work, previous=previous, given=fgd_encoder, eval_split=split,
            seed=seed, steps=fgd_steps or enc_mod.QUICK_STEPS, progress=progress)
        if enc_info.get("note"):
            notes.append(enc_info["note"])
        has_video = video and any(c.video_path is not None for c in clips)
        embedder = _embedder(notes) if has_video else None
        settings = ScoreSettings()
        inputs = _score_all(plans, clips, work=work, size=size, video=has_video, seed=seed,
                            embedder=embedder, settings=settings, progress=progress)
        rows = [p.row for p in plans]
        _fgd_scores(rows, encoder, notes)
        for row in rows:
            notes += [f"{row.name}: {n}" for n in row.notes]
        config = {"dataset": str(Path(dataset_dir).resolve()), "split": split,
                  "generators": list(generators), "generated": str(generated) if generated else None,
                  "seed": seed, "num_samples": num_samples, "video": has_video, "size": size,
                  "max_clips": max_clips, "baselines": baselines, "scores": asdict(settings),
                  "mean_pose_mouth": "none (held still)"}
        result = report.write_evaluation_report(work, rows=rows, inputs=inputs, config=config,
                                     encoder=enc_info, notes=notes,
                                     seconds=time.perf_counter() - t_start)
        if not keep_videos:
            import shutil
            shutil.rmtree(work / "videos", ignore_errors=True)
    return result


def _score_all(plans: list[RowPlan], clips: list, *, work: Path, size: int, video: bool,
               seed: int, embedder, settings: ScoreSettings, progress: bool) -> list[ClipInputs]:
    """Score every row on every clip (clip by clip, so each clip's inputs are prepared once)."""
    from tqdm import tqdm

    inputs = []
    with tqdm(total=len(plans) * len(clips), desc="evaluate", unit="row·clip",
              disable=not progress) as bar:
        for i, clip in enumerate(clips):
            ci = _prepare_clip(clip, workdir=work, size=size, video=video)
            inputs.append(ci)
            for plan in plans:
                motion, samples, video_in = plan.fn(ci, i)
                if motion is not None or video_in is not None:
                    _score_clip(plan.row, ci, motion, samples=samples, workdir=work,
                                settings=settings, embedder=embedder, seed=seed,
                                video_in=video_in)
                bar.update(1)
    return inputs
