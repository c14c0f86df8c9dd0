"""Gesture styles of the procedural generator, and ``auto``: a style read from the photo and voice.

Four named styles, from still to animated. Each is a set of knobs (:class:`Style`). What they
give, measured with ``benchmarks/gestures.py --styles calm conversational presenter lively``
(the photos and voices of the 9 shared clips with speech, seeds 0–19 averaged; min / median /
max over the clips; 2026-12-05, after a close-up holding a hand raised was no longer damped,
``arms.CLOSE_UP_RAISED_DROP``, and its shoulder turned more freely within a smaller range,
``CLOSE_UP_RAISED_STIFFNESS``):

==============  ==============  ==============  ==============  =============  ==============  ==============
style           speed in        speed in        hand            motion         speed in        hands together
                speech, median  speech, p90     variance        beats/s        pauses, median  (correlation)
                (sw/s)          (sw/s)          (sw²)                          (sw/s)
==============  ==============  ==============  ==============  =============  ==============  ==============
calm            0.07/0.11/0.21  0.29/0.39/1.01  .010/.013/.029  .27/.37/.56    0.03/0.11/0.19  0.39/0.58/0.64
conversational  0.22/0.29/0.85  0.79/1.02/2.54  .026/.043/.096  .67/1.08/1.21  0.04/0.25/0.48  0.28/0.55/0.66
presenter       0.26/0.35/0.82  0.96/1.22/2.60  .027/.047/.100  .92/1.11/1.20  0.04/0.27/0.52  0.36/0.54/0.67
lively          0.25/0.37/0.82  0.95/1.34/2.79  .029/.050/.099  .80/1.09/1.26  0.04/0.36/0.47  0.38/0.44/0.71
==============  ==============  ==============  ==============  =============  ==============  ==============

Wrist speeds are of either wrist, in shoulder widths (sw) per second. The largest speeds in
speech and hand variances are hbr_speaker7's: one arm free to move, its hand low in the lap, so
each gesture lifts it far. The smallest were the lectern speaker's (un_speech_female) in
conversational, presenter and lively (0.19, 0.18 and 0.17 sw/s) until her close-up framing
(chest cut by the lectern and the frame) with a hand raised stopped damping her gestures
(``arms.CLOSE_UP_RAISED_DROP``); now they are hbr_speaker8's, interview_1wrQ6Msp7wM's and
avspeech_sample2's (hbr_speaker12's in calm). Her one movable arm is folded, the hand at her
chest and the elbow on the frame's bottom edge, so a wanted wrist that rises
or moves out needs the elbow to fold past its limit (``kinematics.ELBOW_MAX``: conversational,
seed 0, wants a median flexion of 176°, against a limit of 150°), and the stiff shoulder
(``arms.IK_STIFFNESS``) barely turns. There, while the elbow is drawn within 15° of its
limit, the forearm turns to the camera instead, drawn down to 0.6 of its length
(``arms.FORE_MIN``): her wrist's median speed in speech went from 0.04-0.09 sw/s (calm to
lively) to 0.07-0.17, and to 0.10-0.19 once the home wandered down from her raised hand as
much as up (``arms.HOME_HIGH``), against her real 0.36. Letting every elbow fold to 170°, or the
shoulder of an arm folded within 30° of the limit turn freely (stiffness 0.1 against 0.7),
took her to 0.12 and 0.22 (while her other arm, resting below the frame, still moved too), but
also took the close-ups' speed to 1.55x their real one, or the seated class's to 1.57x
(hbr_speaker12 and interview_1wrQ6Msp7wM fold their arms too); with the forearm's turn,
auto's seated class moves at 1.13x its real median speed (0.92x before), 1.21x with the home
wandering down. The shoulder taking over the reach the elbow's limit held back (a
shoulder-only IK, stiffness 0.3 to 1.5), or a hanging upper arm's forearm let swing across its
line (folds to 250°), took her to 0.53x-0.96x her real median speed but the seated class to
1.30x-2.08x, past its acceleration bar at all but the stiffest; the real seated speakers'
upper arms turn 1-12° (5th to 95th percentile), hers 12-17°, the generated seated ones
already 7-20°. Nothing in her photo (hips hidden by the lectern) or voice tells her standing
apart from them; her framing with a hand raised in it tells her from the close-ups, and from
them too: only there does the raised arm's shoulder resist less, within 15° of the photo's
direction (``arms.CLOSE_UP_RAISED_STIFFNESS``, ``CLOSE_UP_RAISED_RANGE``), which took auto's
figures for her from 0.77x to 0.87x her real median speed in speech and her hand variance from
0.65x to 0.70x.

The spread within a style comes from the photo (how far its arms can travel) and the speech;
the speed medians rise from calm to lively.
The hands never stand still in the animated styles: they wander a little in speech and half as
much in pauses (``drift``, ``pause_drift``), as the shared clips' speakers do (their wrists
move 0.04–0.74 sw/s in pauses; a generator that held them still there looked frozen).

``auto`` (the default) scores how animated the speaker is likely to be:

* the photo's posture — standing (hips and knees seen, legs long under the hips) speakers
  gesture more than seated ones (+1);
* where the photo's hands are (:func:`hand_pose`) — resting low together (``clasped``, or
  held together unread, :func:`joined_hands`, or in the ``lap`` or on a desk) −1; ``raised``,
  ``at the sides`` or otherwise ``free`` 0; out of the picture 0 (the arms cannot move
  anyway: posture and voice decide the head's motion).
  A raised hand was tried as +1 and measured not to predict livelier real motion on the
  shared clips (it sent a steady seated speaker to ``presenter``: 2x her wrist acceleration);
* the framing (:func:`framing`: ``full body``, ``upper body``, ``close-up``, ``portrait``,
  ``face``) is read and given as a reason, with no weight of its own: a full body's legs
  already say standing or seated, and what a portrait's arms can do the arm planner decides
  (an elbow out of the picture stays at its edge); the shared clips hold no portrait or
  full-body speaker with audio to weigh it by. The two close-ups' speakers move their wrists
  slower than the seated ones (90th percentile speed in speech 0.34 and 0.51 sw/s, against
  0.99) but about as far: whatever the style, a close-up's strokes are smaller and slower
  (``procedural.CLOSE_UP_SCALE``, ``CLOSE_UP_TEMPO``), unless it holds a hand raised on an arm
  whose elbow it shows (``arms.CLOSE_UP_RAISED_DROP``: the lectern speaker). A hand holding
  something is not read from the skeleton (the warp renderer finds a held object in the photo
  and moves it with the hand);
* the voice — loudness variation (s.d. of the level in speech, dB), pitch range (10th–90th
  percentile of voiced f0, semitones) and speaking rate (onsets per second of speech), each
  against a conversational reference (:data:`VOICE_REFERENCE`): expressive on two of them
  +1, flat on two −1.

The sum picks ``calm`` (≤ −1), ``conversational`` (0), ``presenter`` (1) or ``lively`` (≥ 2).
The choice and its reasons are returned (:class:`StyleChoice`) and logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import maximum_filter1d

from gesticulate.errors import OptionError
from gesticulate.motion.gestures import speech_mask
from gesticulate.skeleton import layout as L

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Style:
    """Knobs of one gesture style."""

    amplitude: float      # gesture size in shoulder widths
    refractory_s: float   # least time between two strokes
    threshold: float      # least stress score for a stroke
    head: float           # head motion gain
    spread: float         # how far the hands' resting place wanders between gesture units (sw)
    quiet: float          # share of phrases spoken without hand gestures
    fingers: float        # finger articulation gain
    clasp: float = 0.3    # share of long pauses spent with the hands together (self-touch)
    drift: float = 0.06   # the hands' idle wander in speech (s.d., shoulder widths)
    pause_drift: float = 0.0   # ... in pauses, as a share of that
    wrist: float = 0.25   # the hand's idle turn about the wrist in speech (s.d., radians)
    tempo: float = 1.0    # how long a stroke's phases take, relative to gestures' table


# calm's strokes are 1.5 s apart at least (1.0 s before most phrases became two-handed,
# gestures.PHRASE_HANDS: the desk speaker's two hands then made 2x her real motion beats; 20
# seeds, benchmarks/gestures.py).
STYLES = {
    "calm": Style(amplitude=0.38, refractory_s=1.50, threshold=0.12, head=0.6, spread=0.30,
                  quiet=0.25, fingers=0.6, clasp=0.5),
    "conversational": Style(amplitude=1.00, refractory_s=0.40, threshold=0.07, head=1.0,
                            spread=0.55, quiet=0.05, fingers=1.2, clasp=0.35, drift=0.12,
                            pause_drift=0.5, wrist=0.3),
    "presenter": Style(amplitude=1.15, refractory_s=0.36, threshold=0.06, head=1.2, spread=0.65,
                       quiet=0.03, fingers=1.4, clasp=0.25, drift=0.13,
                       pause_drift=0.5, wrist=0.32),
    "lively": Style(amplitude=1.35, refractory_s=0.32, threshold=0.05, head=1.4, spread=0.80,
                    quiet=0.02, fingers=1.7, clasp=0.15, drift=0.14,
                    pause_drift=0.5, wrist=0.35),
}
ALIASES = {"neutral": "conversational"}   # the name used before the styles were named
ORDER = ("calm", "conversational", "presenter", "lively")
AUTO = "auto"

# A conversational voice: s.d. of the word level in speech (dB; the envelope's maximum over
# 0.3 s), f0 range (semitones), onsets per second of speech. The shared clips' speakers span
# 2.3–5.2 dB, 5–18 semitones and 5.4–7.4 onsets/s.
VOICE_REFERENCE = {"loudness_sd_db": (3.0, 5.5), "pitch_range_st": (7.0, 15.0),
                   "rate_per_s": (4.0, 7.5)}


@dataclass
class StyleChoice:
    """What ``auto`` chose, and why."""

    name: str
    score: int
    reasons: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    auto: bool = True

    def describe(self) -> str:
        if not self.auto:
            return f"style {self.name} (as asked)"
        return f"style {self.name} (auto): " + "; ".join(self.reasons)


def names() -> list[str]:
    """The style names offered to users: ``auto`` and the named styles, still to animated."""
    return [AUTO, *ORDER]


def canonical(name: str) -> str:
    """A style's current name (``neutral`` is conversational's old one); others unchanged."""
    return ALIASES.get(name, name)


def get_style(name: str | None) -> Style:
    """The named style (``None`` → conversational; ``neutral`` is its old name)."""
    key = canonical(name) if name is not None else "conversational"
    if key not in STYLES:
        raise OptionError(f"unknown style {name!r} for the procedural generator; choose one of "
                          f"{', '.join(names())}")
    return STYLES[key]


def _shoulders(seen: np.ndarray) -> bool:
    return bool(seen[L.LEFT_SHOULDER] and seen[L.RIGHT_SHOULDER])


def posture(ref: np.ndarray, seen: np.ndarray) -> tuple[str, str]:
    """``standing``, ``seated`` or ``unknown`` (no shoulders or hips), and a reason."""
    if not _shoulders(seen):
        return "unknown", "shoulders not in the photo"
    if not (seen[L.LEFT_HIP] and seen[L.RIGHT_HIP]):
        return "unknown", "hips not in the photo"
    sw = float(L.shoulder_width(ref))
    hip = 0.5 * (ref[L.LEFT_HIP, :2] + ref[L.RIGHT_HIP, :2])
    knees = [k for k in (L.LEFT_KNEE, L.RIGHT_KNEE) if seen[k]]
    if not knees:
        return "unknown", "knees not in the photo"
    thigh = np.mean([ref[k, 1] - hip[1] for k in knees]) / sw
    if thigh > 0.9:
        return "standing", f"standing (knees {thigh:.1f} shoulder widths under the hips)"
    return "seated", f"seated (knees {thigh:.1f} shoulder widths under the hips)"


# Where the photo's hands rest (:func:`hand_pose`): the two ways of resting low together, and
# the hands that are free to gesture.
RESTING = ("clasped", "lap")
FREE = ("free", "raised", "at the sides")
RAISED = 0.5       # a wrist under this many shoulder widths below the neck is raised (hand_pose)


def raised_wrist(ref: np.ndarray, seen: np.ndarray, wrist: int) -> bool:
    """Whether the photo holds ``wrist`` raised: seen, less than :data:`RAISED` shoulder
    widths under the neck (one hand :func:`hand_pose` calls raised)."""
    sw = float(L.shoulder_width(ref))
    return bool(seen[wrist]) and sw > 0 and (ref[wrist, 1] - L.neck(ref)[1]) / sw < RAISED


# Two hands the photo holds together, low, with no landmarks a detector reads for either
# (ted_lia_driving2's, clasped round a clicker: wrists 0.8 shoulder widths apart, 0.8 under the
# neck) are one lump of fingers to the warp: moved apart, each hand carried half of it, a
# fingerless grey shape, and the torso's fill showed where the clasp had lain. They move as
# one (arms.joined_offset): wrists under JOINED_GAP shoulder widths apart, both more than
# JOINED_DROP under the neck (as low as a clasp's, hand_pose), each on a forearm the photo
# shows at least JOINED_FOREARM long (a shorter one, pointing at the camera, moves its elbow,
# not its wrist: arms.move_arm).
JOINED_GAP = 0.9
JOINED_DROP = 0.7
JOINED_FOREARM = 0.15
# ... and their wrists move together at most JOINED_REACH shoulder widths (the 95th
# percentile; arms.joined_offset): at 0.15, generated for ted_lia_driving2's first frame,
# the clasp rose about 0.15 and the dress's fill showed beneath it as a white band.
JOINED_REACH = 0.1


def joined_hands(ref: np.ndarray, seen: np.ndarray) -> bool:
    """Whether the photo holds its two hands together and unread (:data:`JOINED_GAP` ...)."""
    wrists, elbows = (L.LEFT_WRIST, L.RIGHT_WRIST), (L.LEFT_ELBOW, L.RIGHT_ELBOW)
    if not seen[list(wrists)].all() or any(
            L.hand_found(ref, hand) for hand in (L.LEFT_HAND, L.RIGHT_HAND)):
        return False
    sw = float(L.shoulder_width(ref))
    if not sw > 0:
        return False
    fore = [float(np.linalg.norm(ref[w, :2] - ref[e, :2])) / sw for w, e in zip(wrists, elbows)]
    gap = float(np.linalg.norm(ref[L.LEFT_WRIST, :2] - ref[L.RIGHT_WRIST, :2])) / sw
    drop = (min(ref[w, 1] for w in wrists) - L.neck(ref)[1]) / sw
    return gap < JOINED_GAP and drop > JOINED_DROP and min(fore) >= JOINED_FOREARM


def hand_pose(ref: np.ndarray, seen: np.ndarray) -> tuple[str, str]:
    """Where the photo's hands are, and a reason:

    * ``clasped``: together (under 0.3 shoulder widths apart), low (0.7 under the neck); or
      held together with no landmarks read (:func:`joined_hands`);
    * ``lap``: low and near each other (under 0.7 apart), in the lap or on a desk;
    * ``at the sides``: both by the hips or lower, each at least 0.4 shoulder widths out from
      the neck (hanging beside the body);
    * ``raised``: a hand at the chest or higher;
    * ``free``: anywhere else;
    * ``out of frame``: no wrist in the picture; ``unknown``: no shoulders to measure by.
    """
    wrists = [w for w in (L.LEFT_WRIST, L.RIGHT_WRIST) if seen[w]]
    if not wrists:
        return "out of frame", "hands out of the picture"
    if not _shoulders(seen):
        return "unknown", "shoulders not in the photo"
    sw = float(L.shoulder_width(ref))
    neck = L.neck(ref)
    drop = min(ref[w, 1] - neck[1] for w in wrists) / sw
    if len(wrists) == 2:
        gap = float(np.linalg.norm(ref[L.LEFT_WRIST, :2] - ref[L.RIGHT_WRIST, :2])) / sw
        if drop > 0.7 and gap < 0.3:
            return "clasped", f"hands clasped ({gap:.1f} sw apart, {drop:.1f} sw under the neck)"
        if joined_hands(ref, seen):
            return "clasped", (f"hands held together, unread ({gap:.1f} sw apart, {drop:.1f} "
                               "sw under the neck)")
        if drop > 0.7 and gap < 0.7:
            return "lap", (f"hands resting together ({gap:.1f} sw apart, {drop:.1f} sw under "
                           "the neck)")
        # Beside the body: each wrist further out from the neck than its shoulder, nearly.
        out = min(abs(ref[w, 0] - neck[0]) for w in wrists) / sw
        if drop > 1.3 and out > 0.4:
            return "at the sides", (f"hands at the sides ({out:.1f} sw out from the neck, "
                                    f"{drop:.1f} sw under it)")
    if any(raised_wrist(ref, seen, w) for w in wrists):
        return "raised", f"a hand raised ({drop:.1f} sw under the neck)"
    return "free", "hands free"


# A photo whose frame cuts the chest (no hip seen, the bottom edge within CLOSE_UP shoulder
# widths under the neck) is a close-up. The shared close-ups (avspeech_sample1 and 2) end 0.99
# and 0.97 shoulder widths under the neck, the lectern speaker's 1.01 (her hips are behind the
# lectern), the seated interviews 1.23-1.96.
CLOSE_UP = 1.1


def framing(ref: np.ndarray, seen: np.ndarray, size: tuple[int, int] | None = None
            ) -> tuple[str, str]:
    """How much of the person the photo shows, and a reason: ``full body`` (an ankle seen),
    ``close-up`` (with the picture's ``size`` ``(w, h)`` given: the chest cut by the frame,
    :data:`CLOSE_UP`), ``upper body`` (an elbow, a hip or a knee seen), ``portrait`` (head and
    shoulders) or ``face`` (not both shoulders seen: there is nothing to measure the body
    by)."""
    if not _shoulders(seen):
        return "face", "a face, no shoulders"
    if seen[L.LEFT_ANKLE] or seen[L.RIGHT_ANKLE]:
        return "full body", "the full body in the picture"
    if size is not None and not seen[[L.LEFT_HIP, L.RIGHT_HIP]].any():
        below = (size[1] - L.neck(ref)[1]) / max(float(L.shoulder_width(ref)), 1e-6)
        if below < CLOSE_UP:
            return "close-up", f"a close-up (the picture ends {below:.1f} sw under the neck)"
    if seen[[L.LEFT_ELBOW, L.RIGHT_ELBOW, L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_KNEE,
             L.RIGHT_KNEE]].any():
        return "upper body", "the upper body in the picture"
    return "portrait", "head and shoulders only"


def voice_figures(features) -> dict[str, float]:
    """Loudness variation, pitch range and speaking rate of the speech in ``features``."""
    fps = float(features.fps)
    rms = np.asarray(features.rms, dtype=np.float64)
    speech = speech_mask(features)
    out = {"speech_s": float(speech.sum() / fps)}
    if speech.sum() < 0.5 * fps:
        return out
    # The level of words and phrases, not the dips between syllables: the envelope's maximum
    # over 0.3 s.
    env = maximum_filter1d(rms, max(1, int(round(0.3 * fps))))
    out["loudness_sd_db"] = float((20 * np.log10(np.maximum(env[speech], 1e-5))).std())
    f0 = np.asarray(features.pitch_hz, dtype=np.float64)[: len(speech)]
    voiced = f0[(f0 > 0) & speech[: len(f0)]]
    if voiced.size >= 10:
        out["pitch_range_st"] = float(12 * np.log2(np.percentile(voiced, 90)
                                                   / np.percentile(voiced, 10)))
    onsets = np.asarray(features.onset_frames, dtype=np.int64)
    onsets = onsets[(onsets >= 0) & (onsets < len(speech))]
    out["rate_per_s"] = float(speech[onsets].sum() / out["speech_s"])
    return out


_LABELS = {"loudness_sd_db": "loudness s.d. dB", "pitch_range_st": "pitch range semitones",
           "rate_per_s": "onsets/s"}


def _voice_score(figures: dict[str, float]) -> tuple[int, str]:
    high = [k for k, (lo, hi) in VOICE_REFERENCE.items() if figures.get(k, (lo + hi) / 2) > hi]
    low = [k for k, (lo, hi) in VOICE_REFERENCE.items() if figures.get(k, (lo + hi) / 2) < lo]
    shown = ", ".join(f"{_LABELS[k]} {figures[k]:.1f}" for k in VOICE_REFERENCE if k in figures)
    if len(high) >= 2:
        return 1, f"an expressive voice ({shown})"
    if len(low) >= 2:
        return -1, f"a flat voice ({shown})"
    if "loudness_sd_db" not in figures:
        return 0, "too little speech to judge the voice"
    return 0, f"a conversational voice ({shown})"


def choose_style(ref: np.ndarray, seen: np.ndarray, features,
                 size: tuple[int, int] | None = None) -> StyleChoice:
    """The ``auto`` style for the photo's skeleton ``ref (133, 3)`` (points ``seen (133,)``,
    the picture ``size`` ``(w, h)`` where known) and the speech ``features``; see the module
    docstring."""
    score, reasons = 0, []
    post, why = posture(ref, seen)
    reasons.append(why)
    score += post == "standing"
    hands, why = hand_pose(ref, seen)
    reasons.append(why)
    score -= hands in RESTING
    reasons.append(framing(ref, seen, size)[1])
    figures = voice_figures(features)
    v, why = _voice_score(figures)
    reasons.append(why)
    score += v
    name = ORDER[int(np.clip(score + 1, 0, len(ORDER) - 1))]
    choice = StyleChoice(name, int(score), reasons, figures)
    log.info(choice.describe())
    return choice


def resolve_style(style: str | None, ref: np.ndarray, seen: np.ndarray, features,
                  size: tuple[int, int] | None = None) -> StyleChoice:
    """The style a generator plays: a named one as asked (unknown names refused, old names
    mapped to current ones), or for ``None``/``auto`` the one :func:`choose_style` reads from
    the photo's skeleton and the speech."""
    if style not in (None, AUTO):
        get_style(style)
        return StyleChoice(canonical(style), 0, auto=False)
    return choose_style(ref, seen, features, size)
