"""The rule-based stage-1 generator: prosody-driven gestures, head motion, blinks and lips.

No weights. From the audio features it finds speech phrases and stressed syllables (strong
onsets in voiced speech), plans beat / circular / open-palm / two-handed / palm-up offer /
pointing gestures whose strokes land on them (the last of a phrase held), shifts where the
hands are held every gesture unit, brings the hands together in some long pauses, nods and
turns the head on stresses, blinks at a conversational rate and opens the mouth with the
loudness envelope (and visemes when phone timings are given). How much of all this is the
style's (:mod:`gesticulate.motion.style`; ``auto`` reads it from the photo and voice).
Everything is layered on the photo's skeleton: face edits in the head frame, a rigid 3D head
turn, a torso sway (wider for a standing body), arms by 2-link kinematics with the photo's
bone lengths, hands on the wrist with finger spread, curl and point following the gesture.
Frame 0 is the photo's pose exactly; motion eases in over ``ease_in_s``.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from gesticulate.audio.features import AudioFeatures
from gesticulate.errors import OptionError
from gesticulate.motion import face as F
from gesticulate.motion import gestures as G
from gesticulate.motion.arms import (ArmContext, arm_mode, close_up_raised, joined_offset,
                                     move_arm)
from gesticulate.motion.base import Phones, check_inputs, register, seen_points
from gesticulate.motion.gestures import smooth_noise
from gesticulate.motion.kinematics import ARMS, rotate
from gesticulate.motion.style import (AUTO, FREE, Style, StyleChoice, framing, get_style,
                                      hand_pose, joined_hands, posture, resolve_style)
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.sequence import SkeletonSequence
from gesticulate.skeleton.tracks import ease_in_ramp


@dataclass
class Timing:
    """What the speech says about timing: activity, phrases, stresses and strokes."""

    speech: np.ndarray           # (T,) smoothed voice activity 0..1
    spans: list                  # voiced phrases [(start, end)) in frames
    score: np.ndarray            # (T,) stress 0..1
    strokes: list                # planned gestures (gestures.Stroke)
    nods: np.ndarray             # (K,) frames of head nods


@register("procedural")
class ProceduralGenerator:
    """Rule-based co-speech motion; see the module docstring.

    Parameters
    ----------
    min_confidence : float
        Reference points below this confidence (or outside the photo) count as not seen: they
        keep confidence 0, and an arm moves only when its elbow is seen, or lies on the frame's
        edge with its forearm and hand seen, and the arm does not rest below the frame
        (:func:`~gesticulate.motion.arms.arm_mode`).
    ease_in_s : float
        Seconds over which motion grows from the photo's pose.
    """

    def __init__(self, *, min_confidence: float = 0.3, ease_in_s: float = 0.5):
        self.min_confidence = min_confidence
        self.ease_in_s = ease_in_s

    def generate(self, features: AudioFeatures, reference: np.ndarray, *,
                 image_size: tuple[int, int], seed: int = 0, speed: float = 1.0,
                 style: str | None = None, phones: Phones | None = None,
                 audio=None) -> SkeletonSequence:
        """Motion for ``features`` on ``reference``; see :class:`~gesticulate.motion.base.MotionGenerator`."""
        ref = check_inputs(features, reference, image_size, speed)
        seen = self._seen(ref, image_size)
        st = get_style(resolve_style(style, ref, seen, features, image_size).name)
        fps, T = float(features.fps), features.num_frames
        rngs = _rngs(seed)
        modes = {arm.side: arm_mode(arm, ref, seen, image_size) for arm in ARMS}
        # A photo that lets one arm move (the other's elbow or hand out of the picture) gets
        # its gestures on that arm: drawn for the still one, they were lost, and a close-up
        # showing one hand (avspeech_sample1) stood still for whole phrases.
        movable = [side for side, mode in modes.items() if mode is not None]
        if len(movable) == 2:
            # Two hands move where, before most phrases became two-handed, one did: gestures
            # and the home's wander are smaller (TWO_ARMS_SCALE).
            st = dataclasses.replace(st, amplitude=st.amplitude * TWO_ARMS_SCALE,
                                     spread=st.spread * TWO_ARMS_SCALE)
        # A close-up holding a hand raised into the picture on an arm it shows whole (elbow
        # in it) shows a speaker who gestures in it (CLOSE_UP_SCALE): not damped as
        # close-ups are, and that hand may drop further and move from the shoulder
        # (arms.CLOSE_UP_RAISED_DROP, CLOSE_UP_RAISED_STIFFNESS).
        close_up = framing(ref, seen, image_size)[0] == "close-up"
        raised = close_up_raised(ref, seen, image_size)
        if close_up and not raised:
            st = dataclasses.replace(st, amplitude=st.amplitude * CLOSE_UP_SCALE,
                                     tempo=st.tempo * CLOSE_UP_TEMPO)
        timing = self._timing(features, st, speed=speed, rng=rngs[0],
                              dominant=movable[0] if len(movable) == 1 else None)
        ramp = ease_in_ramp(T, fps=fps, seconds=self.ease_in_s)
        out = np.repeat(ref[None, :, :2], T, axis=0)

        lean, pivot = self._torso(ref, seen, timing, fps=fps, rng=rngs[1], ramp=ramp, speed=speed)
        self._face_and_head(out, ref, seen, features, timing, st, phones=phones, fps=fps,
                            rng=rngs[2], ramp=ramp, speed=speed)
        upper = np.concatenate([F.HEAD_POINTS, [L.LEFT_SHOULDER, L.RIGHT_SHOULDER]])
        if pivot is not None:
            out[:, upper] = rotate(out[:, upper], lean, np.broadcast_to(pivot, (T, 2)))
            ctx = ArmContext(ref=ref, seen=seen, image_size=image_size, fps=fps, speed=speed,
                             lean=lean, pivot=pivot, ramp=ramp, spread=st.spread,
                             fingers=st.fingers, speech=timing.speech, drift=st.drift,
                             pause_drift=st.pause_drift, wrist=st.wrist, tempo=st.tempo,
                             close_up_raised=raised,
                             clasps=self._clasps(timing, ref, seen, st, fps=fps, speed=speed,
                                                 rng=rngs[4]),
                             # Two arms that move share their homes' draws and part of
                             # their drift (a seventh stream, beside _rngs' six); a lone
                             # movable arm keeps its own.
                             pair=(np.random.SeedSequence(seed).spawn(7)[6]
                                   if len(movable) == 2 else None))
            if len(movable) == 2 and joined_hands(ref, seen):
                # Held as one: both wrists move by the mean of the offsets the two arms want,
                # read by a pass on copies of their random streams (move_arm draws all it
                # draws before the offset, so the pass below draws the same).
                ctx.offsets = {}
                trial = [copy.deepcopy(rngs[i]) for i in (3, 5)]
                for arm in ARMS:
                    move_arm(out.copy(), arm, ctx, timing.strokes, timing.spans,
                             mode=modes[arm.side], rng=trial[0], turn_rng=trial[1])
                sw = float(L.shoulder_width(ref))
                ctx.shared, ctx.offsets = joined_offset(ctx.offsets, sw=sw), None
            for arm in ARMS:
                move_arm(out, arm, ctx, timing.strokes, timing.spans, mode=modes[arm.side],
                         rng=rngs[3], turn_rng=rngs[5])
        # A pinned elbow (on the frame's edge, sliding along it) is drawn: the renderer turns
        # the forearm about it.
        seen = seen.copy()
        seen[[arm.elbow for arm in ARMS if modes[arm.side] == "pinned"]] = True
        conf = np.where(seen, ref[:, 2], 0.0)
        kp = np.concatenate([out, np.broadcast_to(conf[None, :, None], (T, 133, 1))], axis=2)
        kp[:, ref[:, 2] <= 0] = ref[ref[:, 2] <= 0]   # never-seen points stay where they were
        kp[0] = ref                                   # frame 0 is the photo, bit for bit
        kp[0, :, 2] = conf
        return SkeletonSequence(kp.astype(np.float32), fps, image_size)

    def plan(self, features: AudioFeatures, *, seed: int = 0, speed: float = 1.0,
             style: str | None = "conversational") -> Timing:
        """The timing :meth:`generate` uses for these arguments with a named style (for a
        photo whose two arms move, :meth:`generate` scales the strokes' amplitudes by
        :data:`TWO_ARMS_SCALE`, and for a close-up by :data:`CLOSE_UP_SCALE` and their length
        by :data:`CLOSE_UP_TEMPO`, unless it holds a hand raised)."""
        if style in (None, AUTO):
            raise OptionError("plan() needs a named style; auto reads the photo, see style_for()")
        return self._timing(features, get_style(style), speed=speed, rng=_rngs(seed)[0])

    def style_for(self, features: AudioFeatures, reference: np.ndarray, *,
                  image_size: tuple[int, int], style: str | None = None) -> StyleChoice:
        """The style :meth:`generate` uses: a named one as given, or for ``None``/``auto`` the
        one :func:`~gesticulate.motion.style.choose_style` reads from the photo and voice."""
        ref = check_inputs(features, reference, image_size, 1.0)
        return resolve_style(style, ref, self._seen(ref, image_size), features, image_size)

    # ------------------------------------------------------------------ pieces
    def _seen(self, ref: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
        """Points the photo really shows: confident and inside the image (2 % margin)."""
        return seen_points(ref, image_size, self.min_confidence)

    def _timing(self, feats: AudioFeatures, st: Style, *, speed: float,
                rng: np.random.Generator, dominant: str | None = None) -> Timing:
        """Speech activity, phrases, stress and the planned strokes; the gesturing hand is
        ``dominant``, or drawn (right seven times in ten)."""
        fps = float(feats.fps)
        rms = np.asarray(feats.rms, dtype=np.float64)
        vad = G.speech_activity(np.asarray(feats.vad, dtype=np.float64), rms, fps=fps)
        onset = np.asarray(feats.onset, dtype=np.float64)
        score = G.stress(onset, rms, vad)
        cand = np.asarray(feats.onset_frames, dtype=np.int64)
        if cand.size == 0:   # fall back to local maxima of onset strength
            cand = np.flatnonzero((onset[1:-1] > onset[:-2]) & (onset[1:-1] >= onset[2:])) + 1
        frames = G.pick_strokes(score, cand, fps=fps, refractory_s=st.refractory_s / speed,
                                threshold=st.threshold)
        # No stroke before the hands have eased in from the photo's pose: one there had its
        # preparation squeezed into the ease-in, the hand rushing to it (avspeech_sample1, a
        # 2.2 s clip whose speech starts at 0.1 s: 90th percentile wrist speed 0.99 sw/s,
        # 0.86 without those; 20 seeds).
        frames = frames[frames >= self.ease_in_s * fps]
        spans = G.phrases(vad, fps=fps)
        drawn = "right" if rng.random() < 0.7 else "left"
        dominant = dominant or drawn
        strokes = G.plan_strokes(frames, score, rms, spans, rng=rng, amplitude=st.amplitude,
                                 dominant=dominant, quiet=st.quiet, fps=fps / speed)
        nods = G.pick_strokes(score, cand, fps=fps, refractory_s=0.9 / speed,
                              threshold=st.threshold * 1.5)
        speech = np.clip(gaussian_filter1d((vad > 0.5).astype(np.float64), 0.3 * fps), 0, 1)
        return Timing(speech, spans, score, strokes, nods)

    def _clasps(self, timing: Timing, ref, seen, st: Style, *, fps, speed, rng) -> list:
        """Pauses ``[(a, b)]`` (frames) the hands spend together in front of the body: a
        share ``st.clasp`` of the pauses of 1.5 s or more, when the photo shows both wrists
        apart."""
        if hand_pose(ref, seen)[0] not in FREE or not (seen[L.LEFT_WRIST]
                                                       and seen[L.RIGHT_WRIST]):
            return []
        out, f = [], fps / speed
        for (_, end), (start, _) in zip(timing.spans, timing.spans[1:]):
            a, b = int(end + 0.25 * f), int(start - 0.45 * f)
            if start - end >= 1.5 * f and b - a >= 0.8 * f and rng.random() < st.clasp:
                out.append((a, b))
        return out

    def _torso(self, ref, seen, timing: Timing, *, fps, rng, ramp, speed):
        """Torso lean ``(T,)`` radians about a pivot ``(2,)`` near the hips, or (0, None)."""
        T = ramp.shape[0]
        if not (seen[L.LEFT_SHOULDER] and seen[L.RIGHT_SHOULDER]):
            return np.zeros(T), None   # no shoulders: head-only motion
        neck, sw = L.neck(ref), float(L.shoulder_width(ref))
        if seen[L.LEFT_HIP] and seen[L.RIGHT_HIP]:
            pivot = 0.5 * (ref[L.LEFT_HIP, :2] + ref[L.RIGHT_HIP, :2])
        else:
            pivot = neck + np.array([0.0, 2.2 * sw])
        # Standing speakers shift their weight: a wider, slower sway.
        standing = posture(ref, seen)[0] == "standing"
        sway = smooth_noise(rng, T, (2.5 if standing else 1.5) * fps / speed) * np.deg2rad(
            1.5 if standing else 0.6)
        # Lean a little towards the gesturing side at strokes.
        push = np.zeros(T)
        for s in timing.strokes:
            if s.hands != "both":
                push[s.frame] += (1.0 if s.hands == "left" else -1.0) * s.amplitude
        push = gaussian_filter1d(push, 0.25 * fps / speed) * np.deg2rad(4.0)
        return ramp * (sway * (0.5 + 0.5 * timing.speech) + push), pivot

    def _face_and_head(self, out, ref, seen, feats, timing: Timing, st: Style, *, phones, fps,
                       rng, ramp, speed) -> None:
        """Mouth, lids and head turn, written into ``out (T, 133, 2)`` in place."""
        frame = F.head_frame(np.where(seen[:, None], ref, 0.0))
        if frame is None:
            return
        pivot, roll0, width = frame
        down = np.array([-np.sin(roll0), np.cos(roll0)])
        if seen[L.FACE].mean() > 0.8:
            self._mouth_and_lids(out, ref, feats, timing, phones=phones, fps=fps, rng=rng,
                                 down=down)
        yaw, pitch, roll = self._head_angles(feats, timing, st, fps=fps, rng=rng, speed=speed)
        pts = F.HEAD_POINTS
        out[:, pts] = F.rotate_head(out[:, pts], F.HEAD_DEPTH, pivot=pivot, roll0=roll0,
                                    width=width, yaw=ramp * yaw, pitch=ramp * pitch,
                                    roll=ramp * roll)

    def _mouth_and_lids(self, out, ref, feats, timing, *, phones, fps, rng, down) -> None:
        T = out.shape[0]
        mw = float(np.linalg.norm(ref[L.MOUTH_RIGHT_CORNER, :2] - ref[L.MOUTH_LEFT_CORNER, :2]))
        gap0 = float(np.dot(ref[L.INNER_LIP_BOTTOM, :2] - ref[L.INNER_LIP_TOP, :2], down))
        m = F.mouth_curve(np.asarray(feats.rms, float), np.asarray(feats.vad, float))
        closed = np.zeros(T)
        if phones:
            vis = _viseme_openness(phones, fps=fps, num_frames=T)
            if vis is not None:
                m = np.clip(0.65 * vis + 0.35 * m, 0.0, 1.0)
            closed = F.bilabial_curve(phones, fps=fps, num_frames=T)
            m = m * (1.0 - closed)
        m[: min(T, 3)] *= np.linspace(0.0, 1.0, 3)[: min(T, 3)]   # frame 0 is the photo
        open_px = F.MAX_OPEN * mw * m - max(gap0, 0.0) * closed
        out[:, F.MOUTH_INDEX] += (open_px[:, None, None] * F.MOUTH_WEIGHT[None, :, None]
                                  * down[None, None, :])
        if phones:
            r = F.rounded_curve(phones, fps=fps, num_frames=T) * 0.12 * mw
            centre = out[:, [L.MOUTH_LEFT_CORNER, L.MOUTH_RIGHT_CORNER]].mean(axis=1)
            for idx in (L.MOUTH_LEFT_CORNER, L.MOUTH_RIGHT_CORNER, L.face(60), L.face(64)):
                d = centre - out[:, idx]
                out[:, idx] += r[:, None] * d / np.maximum(np.linalg.norm(d, axis=1), 1e-6)[:, None]
        blink = F.blink_curve(T, fps=fps, rng=rng, speech=timing.speech)
        up, lo = out[:, F.UPPER_LID], out[:, F.LOWER_LID]
        out[:, F.UPPER_LID] = up + blink[:, None, None] * (lo - up)

    @staticmethod
    def _turns(timing: Timing, T: int, *, fps: float, rng) -> np.ndarray:
        """Head turns ``(T,)`` (radians) on a third of the nodded stresses: 3–6° to a side,
        reached in ~0.2 s and let go over ~1 s."""
        imp = np.zeros(T)
        for f in timing.nods:
            if rng.random() < 0.35:
                imp[f] = rng.choice([-1.0, 1.0]) * np.deg2rad(rng.uniform(3.0, 6.0))
        tk = np.arange(int(1.6 * fps) + 1) / fps
        kernel = (1 - np.exp(-tk / 0.07)) * np.exp(-tk / 0.5)
        return np.convolve(imp, kernel / kernel.max())[:T]

    def _head_angles(self, feats, timing: Timing, st: Style, *, fps, rng, speed):
        """Yaw, pitch, roll ``(T,)`` in radians."""
        T = timing.speech.shape[0]
        g = st.head * (0.4 + 0.6 * timing.speech)
        yaw = np.deg2rad(4.0) * g * smooth_noise(rng, T, 0.9 * fps / speed)
        roll = np.deg2rad(1.5) * g * smooth_noise(rng, T, 1.1 * fps / speed)
        # Nods land on stressed syllables: a small lift before, the dip on the stress.
        imp = np.zeros(T)
        imp[timing.nods] = timing.score[timing.nods]
        half = int(0.6 * fps / speed)
        tk = np.arange(-half, half + 1) / (fps / speed)
        kernel = np.exp(-((tk - 0.04) / 0.13) ** 2) - 0.35 * np.exp(-((tk + 0.2) / 0.12) ** 2)
        nod = np.convolve(imp, kernel, mode="same")[:T] * np.deg2rad(4.0) * st.head
        yaw = yaw + self._turns(timing, T, fps=fps / speed, rng=rng) * st.head
        # Higher pitch lifts the chin a little (prosody–head correlation).
        f0 = np.asarray(feats.pitch_hz, dtype=np.float64)
        voiced = f0 > 0
        lift = np.zeros(T)
        if voiced.sum() > 3:
            z = np.where(voiced, (f0 - np.median(f0[voiced])) / (f0[voiced].std() + 1e-6), 0.0)
            lift = gaussian_filter1d(np.clip(z, -2, 2), 0.15 * fps) * np.deg2rad(1.2)
        pitch = nod - lift * st.head + np.deg2rad(1.0) * g * smooth_noise(rng, T, fps / speed)
        return yaw, pitch, roll


# Gesture size and home wander for a photo whose two arms move: at 1.0 the seated class
# reached 1.36x the real 90th percentile wrist speed and 1.55x its wrist acceleration once most
# phrases were two-handed (gestures.PHRASE_HANDS); at 0.8, 1.08x and 1.12x (20 seeds).
TWO_ARMS_SCALE = 0.8
# A close-up's speaker (style.framing) gestures smaller and slower: the shared close-ups'
# real 90th percentile wrist speeds in speech are 0.51 and 0.34 sw/s, the seated interviews'
# 0.99 on average. With the conversational and calm styles auto chose for them as they were,
# the class's generated figure was 1.50x real (1.65x before strokes waited for the ease-in);
# with strokes 0.75 the size and 1.5x as long, 1.20x, its hand variance still 0.70x and
# motion beats 0.99x -> 0.82x (benchmarks/gestures.py, 20 seeds). Smaller alone (0.6) took
# hand variance to 0.63x.
# ... but not one holding a hand raised into the picture (style.raised_wrist) on an arm whose
# elbow it shows (arms.arm_mode "free"; a close-up cutting the arm at the elbow, as
# avspeech_sample1's, is damped), whose hand may also drop further than a hand held high elsewhere
# (arms.CLOSE_UP_RAISED_DROP against HIGH_HAND_DROP, shoulder widths under the neck: about the
# edge of a close-up's frame). The lectern speaker (un_speech_female), cut at the chest by the
# frame and the lectern, one hand raised, moves her wrist at 0.36 sw/s in speech (median; 0.93 at
# the 90th percentile), against the close-ups' 0.07 and 0.24; damped and held to chest height,
# auto drew her 0.19 (0.51x) and 0.64 (0.68x); without the damping 0.24 and 0.75; dropping to the
# frame's edge too, 0.28 (0.77x) and 1.08 (1.16x), hand variance 0.42x -> 0.65x, motion beats
# 0.77x -> 1.03x, wrist acceleration 0.42x -> 0.79x (benchmarks/gestures.py, 20 seeds). No other
# shared photo is a close-up with a hand raised: none of their figures moved.
CLOSE_UP_SCALE = 0.75
CLOSE_UP_TEMPO = 1.5


def _rngs(seed: int) -> list[np.random.Generator]:
    """Independent streams per part (timing, torso, face, arms, clasps, hand turns), so one
    part's draws never shift another's."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]


def _viseme_openness(phones, *, fps: float, num_frames: int) -> np.ndarray | None:
    """Viseme openness 0..1 from :func:`gesticulate.audio.phones.viseme_openness`; None when
    it covers fewer than ``num_frames`` frames."""
    from gesticulate.audio.phones import viseme_openness
    vis = np.asarray(viseme_openness(phones, fps=fps, num_frames=num_frames), dtype=np.float64)
    return vis[:num_frames] if vis.shape[0] >= num_frames else None
