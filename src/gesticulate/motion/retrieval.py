"""The ``retrieval`` stage-1 generator: motion matching over a library of real clips.

The target audio is cut into overlapping segments; for each, the library window (from the
dataset's train clips, :mod:`gesticulate.motion.retrieval_index`) whose audio descriptor is
nearest is chosen, with a continuity cost (pose and velocity at the join, as in game motion
matching) and a penalty for reusing frames; one of the ``top_k`` best, distinct candidates
is drawn with the seed. Each segment starts where the last one is: the difference at the join
is added to it and fades over :data:`INERTIA_S` (an inertialization, as in game motion
matching), and the two are crossfaded over ``blend_s`` in rig-parameter space (bone angles,
length ratios, head similarity, neck offset); past that the segment plays as the library has
it, holds and strokes. A plain crossfade moved the arms across the difference between two
speakers' poses within the blend, twice as fast as inside segments on the shared clips; a
difference faded over the whole segment drifted under every hold. The result drives the
photo's own skeleton by forward kinematics (:mod:`~gesticulate.motion.retrieval_rig`), so
the photo keeps its body shape and bone lengths (stretched at most ``max_stretch``), but for an
arm bone the photo shows foreshortened (a forearm pointing at the camera), which grows as far
as the library's does, counted in full bone lengths.

The library's strokes fall on its own speakers' syllables, so the assembled motion is retimed
onto this voice's onsets (:func:`~gesticulate.motion.timewarp.onset_warp`, at most ``warp_s``
early or late, played at 0.75–1.25× speed). On the shared long speeches (desk_host_body.png,
a dataset built from the shared clips, 20 seeds) the wrists' onset coupling on their own speech
rose from −0.02 (seeds 0–4) to 0.19, against 0.01 on another speech's; the seated speakers'
motion beats per second went from 0.82× to 0.78× the real ones' and the close-up class's wrist
speed in speech from 1.46× to 1.23× (each clip left out of the dataset; these libraries also
lacked hbr_speaker8 and talkshow_show_half, the dataset's val and test clips).

``style``: a speaker of the dataset plays only that speaker's clips, at their own pace (a
gesture style's name wins over a speaker's of the same name). A gesture style (``auto``, the
default, reads it from the photo and voice as the procedural generator does; or ``calm`` …
``lively``) prefers calmer library windows in speech for the calmer styles
(:data:`ENERGY_WEIGHT`; calmer still in pauses, :data:`PAUSE_ENERGY_WEIGHT`) and scales the
body's motion, by a total gain within :data:`GAIN_RANGE`, to a median wrist speed in speech
(:mod:`~gesticulate.motion.retrieval_pace`): the procedural generator's on the same photo,
voice and style (its median over
:data:`~gesticulate.motion.retrieval_pace.PACE_SEEDS` seeds) for the styles in
:data:`PHOTO_PACED` (it knows what the photo's arms can do: a close-up's smaller strokes, a
hand held raised, an elbow on the frame's edge), else the style's (:data:`STYLE_SPEED`);
either times ``speed``. Before that, the bones' slow turn (their average over about
:data:`HOME_S`: where the hands are held) is enlarged by :data:`HOME_GAIN`, and a calm style's
quick strokes are smoothed away (:data:`SMOOTH_S`).

Hands the photo holds low stay there, as the procedural generator's: they rest on a desk or
in a lap (:func:`~gesticulate.motion.retrieval_rig.kept_up`).

Against the shared clips' real speakers (``benchmarks/gestures.py --retrieval``, each clip
left out of the library, 20 seeds; 2026-12-07) every class's wrist speed in speech (median and
90th percentile), motion beats per second and acceleration lie within the benchmark's bounds,
and every class's hand variance and L1 diversity; the close-up class's only just: 0.67x and
0.73x its real ones (its library is the other close-up, whose arms barely move, and seven
seated, lectern or desk speakers; hands the tracker spun had inflated them to 0.77x and 0.74x,
:func:`~gesticulate.motion.retrieval_index.motion_params`). No forearm turns its wrist out of
the picture (``retarget``'s ``frame``): before, 4 seeds of 20 swung avspeech_sample1's raised
hand out of it and flipped it (0.51x and 0.65x, the gain at its old top, 1.5), and the lectern
speaker's hand variance was 0.75x hers (0.94x since).

Mouth and blinks are not copied from the library: the mouth opens with this audio's loudness
(and closes on bilabials when phones are given) and blinks are drawn at a conversational
rate, both in the head's frame before the library's head motion turns it. Frame 0 is the
photo's pose; motion eases in over ``ease_in_s``. ``speed`` plays the library faster or
slower while keeping its strokes on this audio's beats (the audio is matched on a stretched
time axis).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from gesticulate.audio.features import AudioFeatures
from gesticulate.errors import OptionError
from gesticulate.motion import face as F
from gesticulate.motion import retrieval_index as R
from gesticulate.motion.arms import (CLOSE_UP_RAISED_DROP, FRAME_MARGIN, HIGH_HAND_DROP,
                                     SOFT_EDGE, close_up_raised, pinned_elbows, rests_below)
from gesticulate.motion.kinematics import ARMS
from gesticulate.motion.base import Phones, check_inputs, register, seen_points
from gesticulate.motion.gestures import speech_mask
from gesticulate.motion.retrieval_pace import (GAIN_RANGE, PHOTO_PACED, STYLE_SPEED,
                                               procedural_speed, speed_gain, wrist_speeds)
from gesticulate.motion.retrieval_rig import ARM_BONES, kept_up, retarget
from gesticulate.motion.style import (AUTO, StyleChoice, canonical, joined_hands, names,
                                      resolve_style)
from gesticulate.motion.timewarp import onset_warp, warp_rows
from gesticulate.skeleton.tracks import ease_in_ramp
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.normalize import root_and_scale
from gesticulate.skeleton.sequence import SkeletonSequence
from gesticulate.skeleton.tracks import smoothstep

# Descriptor weights (order of retrieval_index.DESCRIPTOR_NAMES): the beat (onset, rise of
# loudness) matters most for gestures, the mel bands least.
_AUDIO_WEIGHTS = np.array([1.5, 1.0, 1.2, 0.7, 0.3, 0.3, 0.3, 0.3], np.float32)
# Continuity channels: neck offset, upper-arm and forearm angles, head rotation and offset.
_CONT = np.r_[R.P_TORSO.start, R.P_TORSO.start + 1, [R.P_ANGLE.start + b for b in ARM_BONES],
              R.P_HEAD.start, R.P_HEAD.start + 2, R.P_HEAD.start + 3]
_CONT_SCALE = np.array([1, 1, .5, .5, .5, .5, .3, 1, 1], np.float32)   # ≈ shoulder widths
_MAX_CANDIDATES = 60_000
SUB_FPS = 12.5             # audio windows are compared at this many frames per second
# The difference at a join fades over this long (an inertialization's blend time). Faded over
# the whole segment (hop + blend, 0.9 s), as it first was, it became a slow drift under every
# hold: the replayed wrists never stood still and never struck (90th percentile speed in speech
# 2.5-2.8x the median on the seated clips, the real speakers' 3-13x). Before this and the
# settings below, the seated class's 90th percentile was 0.42x real and its motion beats
# 0.55x; after, 0.72x and 1.05x.
INERTIA_S = 0.3
# Weight of the library windows' wrist energy (over its median) in the match, in speech, per
# style; in pauses the style's plus PAUSE_ENERGY_WEIGHT (a pause is calmer than the speech
# around it). calm's 1.5: at 0.6 the desk speaker's median wrist speed was 1.36x hers and the
# seated class's 90th percentile 0.62x real (1.23x and 0.72x at 1.5; 20 seeds).
ENERGY_WEIGHT = {"calm": 1.5, "conversational": 0.2, "presenter": 0.1, "lively": 0.0}
PAUSE_ENERGY_WEIGHT = 0.5
# The bones' slow turn (their angles' Gaussian average, s.d. HOME_S seconds: where the hands
# are held, as the procedural generator's homes) is enlarged by HOME_GAIN: the library's
# speakers hold their hands nearer their rest than a lectern speaker does. At 1.5, 1.8 and 2.0
# the lectern speaker's hand variance was 0.62x, 0.70x and 0.76x hers, her motion beats 1.28x,
# 1.25x and 1.24x; the seated class's hand variance 0.80x, 0.85x and 0.88x; the close-up
# class's motion beats 0.75x, 0.71x and 0.68x (at 1.0 in an earlier version: the lectern
# speaker's 0.57x). The desk speaker's hand variance (calm) at 1.5 rose to 1.37x hers, so calm
# keeps 1.0.
HOME_S = 1.0
HOME_GAIN = {"calm": 1.0, "conversational": 1.8, "presenter": 1.8, "lively": 1.8}
# A calm style's motion is smoothed over this many seconds (Gaussian s.d.): the library's
# seated speakers make quick small strokes that even calm's smallest gain kept as motion beats,
# 1.82x the desk speaker's per second (each hand moves on its own more than theirs: 0.58
# against 0.93, ``hands_together``). At 0.10, 0.12, 0.15 and 0.20 s: 1.34x, 1.15x, 0.81x and
# 0.63x hers, the close-up class's 0.75x, 0.75x, 0.66x and 0.62x its real ones (every style then
# paced by STYLE_SPEED, without HOME_GAIN).
SMOOTH_S = {"calm": 0.12, "conversational": 0.0, "presenter": 0.0, "lively": 0.0}


def _drops(ref: np.ndarray, seen: np.ndarray, image_size: tuple[int, int], held: set
           ) -> dict[str, float]:
    """How far under the neck (shoulder widths) each moving arm's hand may drop, as the
    procedural generator's (arms._bounds): :data:`~gesticulate.motion.arms.HIGH_HAND_DROP`, or
    :data:`~gesticulate.motion.arms.CLOSE_UP_RAISED_DROP` for a close-up's raised hand
    (:func:`~gesticulate.motion.arms.close_up_raised`; ``seen``: the points the photo shows,
    before pinned elbows are added: a pinned arm is not free); an arm ``held`` (below the
    frame, or one of two hands held together unread) does not move."""
    raised = close_up_raised(ref, seen, image_size)
    return {arm.side: CLOSE_UP_RAISED_DROP if arm.side in raised else HIGH_HAND_DROP
            for arm in ARMS if arm.elbow not in held}


@dataclass
class Plan:
    """Which library rows drive which output frames (working rate = library fps).

    Attributes
    ----------
    starts : np.ndarray, shape (K,)
        Working-rate frame where segment ``k`` begins; segment ``k`` owns
        ``[starts[k], starts[k] + hop)`` and crossfades into ``k + 1`` over ``blend`` frames.
    rows : np.ndarray, shape (K,)
        Library row where each segment's motion starts.
    hop, blend, num_frames : int
        Segment hop, crossfade length and total length, in working frames.
    fps : float
        Working frame rate (the library's).
    """

    starts: np.ndarray
    rows: np.ndarray
    hop: int
    blend: int
    num_frames: int
    fps: float


@register("retrieval")
class RetrievalGenerator:
    """Motion matching over a dataset's train clips; see the module docstring.

    Parameters
    ----------
    checkpoint : path
        A dataset folder written by ``gesticulate build-dataset`` (or
        :func:`gesticulate.data.synthetic.make_synthetic_dataset`).
    window_s : float
        Audio context matched per segment, seconds (at least ``hop_s + blend_s``).
    hop_s : float
        Seconds between segment starts.
    blend_s : float
        Crossfade between consecutive segments, seconds (0 = hard cuts). At 0.3 s (with a
        1.2 s window) the desk speaker's median wrist speed in speech was 1.38x hers and the
        close-ups' L1 diversity 0.69x (shared clips, leave-one-out, 20 seeds); at 0.15 s,
        1.23x and 0.79x.
    top_k : int
        The seed draws among this many of the best distinct candidates (1 = always the best).
    continuity_weight : float
        Weight of the pose/velocity mismatch at the joins against the audio distance.
    max_stretch : float
        Largest bone length ratio against the photo (2D foreshortening may shorten more); for
        an arm bone the photo shows foreshortened, against its full length.
    min_confidence : float
        Photo points below this confidence, or outside the photo, count as not seen.
    ease_in_s : float
        Seconds over which motion grows from the photo's pose.
    warp_s : float
        The motion is retimed so its strokes land just before this voice's onsets
        (:func:`~gesticulate.motion.timewarp.onset_warp`), each frame shown at most this many
        seconds early or late; 0 plays it as the library has it.
    progress : bool
        Show a progress bar while the index is built.
    """

    def __init__(self, checkpoint: str | os.PathLike, *, window_s: float = 1.0,
                 hop_s: float = 0.6, blend_s: float = 0.15, top_k: int = 4,
                 continuity_weight: float = 1.0, max_stretch: float = 1.1,
                 min_confidence: float = 0.3, ease_in_s: float = 0.5, warp_s: float = 0.3,
                 progress: bool = False):
        if not (hop_s > 0 and blend_s >= 0 and window_s >= hop_s + blend_s - 1e-9):
            raise OptionError(f"retrieval windows need hop_s > 0, blend_s >= 0 and window_s >= "
                              f"hop_s + blend_s; got window_s={window_s}, hop_s={hop_s}, "
                              f"blend_s={blend_s}")
        if (int(top_k) < 1 or continuity_weight < 0 or not 1.0 <= max_stretch <= 2.0
                or not 0 <= warp_s <= 2.0):
            raise OptionError("top_k must be >= 1, continuity_weight >= 0, max_stretch in 1..2 "
                              f"and warp_s in 0..2; got {top_k}, {continuity_weight}, "
                              f"{max_stretch}, {warp_s}")
        self.library = R.load_library(checkpoint, progress=progress)
        self.window_s, self.hop_s, self.blend_s = float(window_s), float(hop_s), float(blend_s)
        self.top_k, self.continuity_weight = int(top_k), float(continuity_weight)
        self.max_stretch, self.min_confidence = float(max_stretch), float(min_confidence)
        self.ease_in_s, self.warp_s = float(ease_in_s), float(warp_s)
        self._bank: dict = {}

    # ---------------------------------------------------------------- public
    def generate(self, features: AudioFeatures, reference: np.ndarray, *,
                 image_size: tuple[int, int], seed: int = 0, speed: float = 1.0,
                 style: str | None = None, phones: Phones | None = None,
                 audio=None) -> SkeletonSequence:
        """Motion for ``features`` on ``reference``; see :class:`~gesticulate.motion.base.MotionGenerator`.

        ``style`` is a speaker id of the dataset (only that speaker's clips, at their pace),
        or a gesture style name, ``auto`` or None (see the module docstring).
        """
        ref = check_inputs(features, reference, image_size, speed)
        T, fps = features.num_frames, float(features.fps)
        rng_plan, rng_face = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2)]
        seen = seen_points(ref, image_size, self.min_confidence)
        # An elbow on the frame's edge (a close-up cuts the arm there) stays on that edge while
        # the forearm and hand move; its point is kept so the renderer turns the forearm about it.
        pinned = pinned_elbows(ref, seen, image_size)
        # An arm resting below the frame (a lectern speaker's) only follows its shoulder, as do
        # two hands held together that no detector reads (style.joined_hands): the library's
        # arms would part them, a lump of fingers each (the procedural generator moves them
        # as one, a little).
        joined = joined_hands(ref, seen)
        held = {arm.elbow for arm in ARMS if joined or rests_below(arm, ref, seen, image_size)}
        drops = _drops(ref, seen, image_size, held)
        seen = seen.copy()
        seen[list(pinned)] = True
        # The wrists whose speed paces the motion (the onset warp, the gain): not a held arm's,
        # which only follows its shoulder. Two held hands with seen wrists (joined) paced it
        # by the torso's sway, which the gain then raised to its cap.
        paced = seen.copy()
        paced[[arm.wrist for arm in ARMS if arm.elbow in held]] = False
        speaker = self._speaker(style)
        choice = self._choice(features, ref, seen, style, image_size)
        plan = self.plan(features, seed=seed, speed=speed, style=choice.name, _rng=rng_plan)
        params = R.resample_rows(self.assemble(plan), T).astype(np.float64)
        root, sw = root_and_scale(ref)
        sw = float(sw)
        local = (ref[:, :2] - root) / sw                                   # (133, 2)
        head = np.repeat(local[None, R.HEAD], T, axis=0)
        if seen[L.FACE].mean() > 0.8:
            _mouth_and_lids(head, local, ref, seen, features, phones=phones, rng=rng_face)

        # The picture, as the procedural generator's hands keep inside it: no forearm turns its
        # wrist out of it.
        frame = tuple((np.array(image_size, np.float64) * k - root) / sw
                      for k in (FRAME_MARGIN, 1 - FRAME_MARGIN))

        def posed(params: np.ndarray) -> np.ndarray:
            """The photo's skeleton under ``params``, its hands resting low kept there (on a
            desk, in a lap: retrieval_rig.SINK)."""
            return kept_up(retarget(local, seen, params, head, max_stretch=self.max_stretch,
                                    pinned=pinned, held=held, frame=frame),
                           local, seen, drops, soft=SOFT_EDGE)

        if self.warp_s > 0 and T > 2:     # the strokes onto this voice's onsets
            wrists = wrist_speeds(posed(params), paced, fps=fps)
            if wrists is not None:
                tau = onset_warp(wrists.mean(axis=1), features.onset, fps=fps,
                                 max_shift_s=self.warp_s)
                params = warp_rows(params, tau)
        if speaker is None:     # a gesture style: its holds and strokes
            if HOME_GAIN[choice.name] != 1.0:
                angles = params[:, R.P_ANGLE]
                angles += (HOME_GAIN[choice.name] - 1.0) * gaussian_filter1d(angles, HOME_S * fps,
                                                                             axis=0)
            if SMOOTH_S[choice.name] > 0:
                body = params[:, :R.P_HEAD.start]
                body[:] = gaussian_filter1d(body, SMOOTH_S[choice.name] * fps, axis=0)
        # (after them: the holds' average and the smoothing reach back past frame 0)
        params *= ease_in_ramp(T, fps=fps, seconds=self.ease_in_s)[:, None]
        out = posed(params)
        if speaker is None:     # ... and its speed
            speech = speech_mask(features)
            target = None
            if choice.name in PHOTO_PACED:
                target = procedural_speed(features, ref, seen, speech, image_size=image_size,
                                          seed=seed, style=choice.name)
            if target is None:
                target = STYLE_SPEED[choice.name]
            target *= speed
            total = 1.0
            # FK is near linear in the gain (the kept hands less so): two passes land within
            # a few %
            for _ in range(2):
                gain = speed_gain(out, paced, speech, fps=fps, target=target)
                if gain is None:
                    break
                gain = float(np.clip(total * gain, *GAIN_RANGE)) / total   # the total in range
                if abs(gain - 1.0) < 0.02:
                    break
                total *= gain
                params[:, :R.P_HEAD.start] *= gain          # body and arms; the head as it is
                out = posed(params)
        kp = np.concatenate([out * sw + root, np.broadcast_to(
            np.where(seen, ref[:, 2], 0.0)[None, :, None], (T, L.NUM_KEYPOINTS, 1))], axis=2)
        kp[:, ref[:, 2] <= 0] = ref[ref[:, 2] <= 0]   # never-seen points stay where they were
        kp[0, :, :2] = ref[:, :2]                     # frame 0 is the photo
        return SkeletonSequence(kp.astype(np.float32), fps, image_size)

    def style_for(self, features: AudioFeatures, reference: np.ndarray, *,
                  image_size: tuple[int, int], style: str | None = None) -> StyleChoice:
        """What :meth:`generate` does with ``style``: a speaker of the dataset or a named
        gesture style as given, or for ``None``/``auto`` the style
        :func:`~gesticulate.motion.style.choose_style` reads from the photo and voice."""
        ref = check_inputs(features, reference, image_size, 1.0)
        return self._choice(features, ref, seen_points(ref, image_size, self.min_confidence),
                            style, image_size)

    def _speakers(self) -> set[str]:
        return set(self.library.speakers.tolist())

    def _speaker(self, style: str | None) -> str | None:
        """``style`` when it names a speaker of the dataset and no gesture style (a gesture
        style's name wins over a speaker's)."""
        named = style in (None, AUTO) or canonical(style) in STYLE_SPEED
        return style if not named and style in self._speakers() else None

    def _check_style(self, style: str | None) -> None:
        if style not in (None, AUTO) and self._speaker(style) is None \
                and canonical(style) not in STYLE_SPEED:
            raise OptionError(
                f"unknown style {style!r} for the retrieval generator; use a gesture style "
                f"({', '.join(names())}) or a speaker of the dataset: "
                f"{', '.join(sorted(self._speakers()))}")

    def _choice(self, features, ref, seen, style: str | None, size: tuple[int, int]
                ) -> StyleChoice:
        self._check_style(style)
        if self._speaker(style) is not None:
            return StyleChoice(style, 0, auto=False)
        return resolve_style(style, ref, seen, features, size)

    def plan(self, features: AudioFeatures, *, seed: int = 0, speed: float = 1.0,
             style: str | None = None, _rng: np.random.Generator | None = None) -> Plan:
        """Choose the library segments for ``features`` (what :meth:`generate` uses);
        ``style`` is a speaker of the dataset (only that speaker's clips) or a gesture style
        name (how much calm library windows are preferred in speech; None or ``auto``: none,
        as :meth:`generate` reads ``auto`` as a named style first)."""
        self._check_style(style)
        lib = self.library
        rng = _rng if _rng is not None else np.random.default_rng(
            np.random.SeedSequence(seed).spawn(2)[0])
        fps = lib.fps
        Tw = max(1, int(round(features.num_frames / features.fps * fps * speed)))
        H = max(1, int(round(self.hop_s * fps)))
        B = int(round(self.blend_s * fps))
        S = H + B
        W = max(S, int(round(self.window_s * fps)))
        pre, sub = (W - S) // 2, max(1, int(round(fps / SUB_FPS)))
        speaker = self._speaker(style)
        bank = self._candidates(W, S, pre, sub, speaker)
        desc = R.resample_rows(lib.describe(features), Tw)
        quiet = 1.0 - R.resample_rows(np.asarray(features.vad, np.float32)[:, None], Tw)[:, 0]
        K = max(1, int(np.ceil(max(Tw - S, 0) / H)) + 1)
        starts = np.arange(K) * H
        idx = np.clip(starts[:, None] - pre + np.arange(0, W, sub)[None], 0, Tw - 1)
        q = (desc[idx] * _AUDIO_WEIGHTS).reshape(K, -1)
        cost = _sqdist(q, bank["vec"]) / q.shape[1]                          # (K, Nc)
        cost += bank["penalty"][None]
        qk = np.array([quiet[s:s + S].mean() for s in starts])
        weight = 0.0 if speaker is not None else ENERGY_WEIGHT.get(canonical(style or ""), 0.0)
        calm = (PAUSE_ENERGY_WEIGHT + weight) * qk + weight * (1.0 - qk)
        cost += calm[:, None] * bank["energy"][None]          # silence and calm styles: stay calm
        rows = self._choose(cost, bank, H, B, rng)
        return Plan(starts, rows, H, B, Tw, fps)

    def assemble(self, plan: Plan) -> np.ndarray:
        """Rig parameters ``(plan.num_frames, NUM_PARAMS)``: segments crossfaded, lightly smoothed."""
        P, H, B = self.library.params, plan.hop, plan.blend
        out = np.zeros((plan.num_frames + H + B, R.NUM_PARAMS), np.float64)
        ramp = smoothstep((np.arange(B) + 1.0) / (B + 1.0))[:, None]
        D = max(1, min(H + B, int(round(INERTIA_S * plan.fps))))
        decay = np.zeros((H + B, 1))
        decay[:D] = 1.0 - smoothstep(np.arange(D) / D)[:, None]
        for k, (t, r) in enumerate(zip(plan.starts, plan.rows)):
            seg = P[r:r + H + B].astype(np.float64)
            if k == 0:
                out[t:t + H + B] = seg
                continue
            last = out[t] if B else out[t - 1]          # where the last one is at the join
            seg = seg + (last - seg[0]) * decay
            out[t:t + B] = (1.0 - ramp) * out[t:t + B] + ramp * seg[:B]
            out[t + B:t + H + B] = seg[B:]
        # Light zero-phase smoothing: detector jitter in real clips (CSG smooths too).
        return gaussian_filter1d(out[:plan.num_frames], 1.0, axis=0, mode="nearest")

    # ---------------------------------------------------------------- matching
    def _candidates(self, W: int, S: int, pre: int, sub: int, style: str | None) -> dict:
        """Library windows usable as segments, with their audio vectors and costs (cached)."""
        key = (W, S, pre, sub, style)
        if key in self._bank:
            return self._bank[key]
        lib = self.library
        clips = np.arange(len(lib.speakers))
        if style is not None:
            clips = clips[lib.speakers == style]
        starts = []
        for c in clips:
            a, b = lib.clip_start[c], lib.clip_start[c + 1]
            lo, hi = a + pre, min(b - S - 2, b - (W - pre))   # spare rows for velocity
            if hi >= lo:
                starts.append(np.arange(lo, hi + 1))
        if not starts:
            raise OptionError(f"the dataset's clips are shorter than one retrieval window "
                              f"({W / lib.fps:.2f} s); use a smaller window_s/hop_s")
        s = np.concatenate(starts)
        if len(s) > _MAX_CANDIDATES:
            s = s[:: int(np.ceil(len(s) / _MAX_CANDIDATES))]
        rows = s[:, None] - pre + np.arange(0, W, sub)[None]
        vec = (lib.audio[rows] * _AUDIO_WEIGHTS).reshape(len(s), -1)
        arms = _window_mean(lib.arms_seen, s, S)
        penalty = np.where(arms < 0.5, 10.0, 0.0) if (arms >= 0.5).any() else np.zeros(len(s))
        energy = _window_mean(lib.energy, s, S)
        energy = energy / max(float(np.median(energy)), 1e-6)
        bank = dict(start=s, vec=vec, penalty=penalty.astype(np.float32), energy=energy)
        self._bank[key] = bank
        return bank

    def _choose(self, cost: np.ndarray, bank: dict, H: int, B: int,
                rng: np.random.Generator) -> np.ndarray:
        """Greedy left-to-right choice with continuity and reuse costs; seeded top-k draw."""
        P, s = self.library.params, bank["start"]
        head = _cont_features(P, s, B)                                   # (Nc, C)
        used = np.zeros(self.library.num_frames + 1, np.float64)
        rows, prev = [], None
        for k in range(cost.shape[0]):
            c = cost[k].copy()
            if prev is not None:
                tail = _cont_features(P, np.array([prev + H]), B)[0]
                c += self.continuity_weight * ((head - tail) ** 2).mean(axis=1)
                cum = np.concatenate([[0.0], np.cumsum(used)])
                reuse = (cum[s + H + B] - cum[s]) / (H + B)
                c += np.where(s == prev + H, 0.0, 2.0 * reuse)        # continuing is not reuse
            pick = _draw_distinct(c, s, self.top_k, min_gap=H, rng=rng)
            prev = int(s[pick])
            used[prev:prev + H + B] = 1.0
            rows.append(prev)
        return np.asarray(rows, np.int64)


# -------------------------------------------------------------------- helpers
def _mouth_and_lids(head, local, ref, seen, features, *, phones, rng) -> None:
    """Mouth opening from loudness and blinks, on the head points ``(T, H, 2)`` in place."""
    T, fps = head.shape[0], float(features.fps)
    frame = F.head_frame(np.where(seen[:, None], ref, 0.0))
    if frame is None:
        return
    roll0 = frame[1]
    down = np.array([-np.sin(roll0), np.cos(roll0)])
    pos = {int(j): i for i, j in enumerate(R.HEAD)}
    mw = float(np.linalg.norm(local[L.MOUTH_RIGHT_CORNER] - local[L.MOUTH_LEFT_CORNER]))
    vad = np.asarray(features.vad, np.float64)
    m = F.mouth_curve(np.asarray(features.rms, np.float64), vad)
    if phones:
        m = m * (1.0 - F.bilabial_curve(phones, fps=fps, num_frames=T))
    m[: min(T, 3)] *= np.linspace(0.0, 1.0, 3)[: min(T, 3)]
    rows = [pos[int(j)] for j in F.MOUTH_INDEX]
    head[:, rows] += (F.MAX_OPEN * mw * m)[:, None, None] * F.MOUTH_WEIGHT[None, :, None] * down
    speech = np.clip(gaussian_filter1d((vad > 0.5).astype(np.float64), 0.3 * fps), 0, 1)
    blink = F.blink_curve(T, fps=fps, rng=rng, speech=speech)
    up, lo = [pos[int(j)] for j in F.UPPER_LID], [pos[int(j)] for j in F.LOWER_LID]
    head[:, up] += blink[:, None, None] * (head[:, lo] - head[:, up])


def _cont_features(P: np.ndarray, s: np.ndarray, B: int) -> np.ndarray:
    """Pose at the first and last blend frame and velocity at the first, ``(len(s), 27)``."""
    a = P[s][:, _CONT] * _CONT_SCALE
    b = P[s + B][:, _CONT] * _CONT_SCALE
    v = (P[s + 1][:, _CONT] - P[s][:, _CONT]) * _CONT_SCALE * 5.0
    return np.concatenate([a, b, v], axis=1)


def _draw_distinct(cost: np.ndarray, starts: np.ndarray, k: int, *, min_gap: int,
                   rng: np.random.Generator) -> int:
    """Index of one of the ``k`` cheapest candidates at least ``min_gap`` rows apart."""
    n = min(len(cost), max(50, 20 * k))
    top = np.argpartition(cost, n - 1)[:n] if n < len(cost) else np.arange(len(cost))
    order = top[np.lexsort((top, cost[top]))]        # by cost, ties by index: deterministic
    picked: list[int] = []
    for i in order:
        if all(abs(int(starts[i]) - int(starts[j])) >= min_gap for j in picked):
            picked.append(int(i))
            if len(picked) == k:
                break
    return picked[int(rng.integers(len(picked)))]


def _window_mean(x: np.ndarray, starts: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``x[s:s + n]`` for every ``s`` in ``starts``."""
    cum = np.concatenate([[0.0], np.cumsum(x, dtype=np.float64)])
    return (cum[starts + n] - cum[starts]) / n


def _sqdist(q: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances ``(len(q), len(c))``."""
    d = (q * q).sum(1)[:, None] + (c * c).sum(1)[None] - 2.0 * (q @ c.T)
    return np.maximum(d, 0.0)
