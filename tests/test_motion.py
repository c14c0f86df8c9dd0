"""The procedural motion generator on synthetic speech and a synthetic frontal skeleton."""

from __future__ import annotations

import numpy as np
import pytest

from gesticulate.audio.features import AudioFeatures
from gesticulate.errors import InputError, OptionError
from gesticulate.motion import available_generators, get_generator
from gesticulate.motion.gestures import speech_mask
from gesticulate.skeleton import layout as L

FPS = 25.0
SIZE = (512, 512)


def speech_features(segments, *, duration_s: float, fps: float = FPS, seed: int = 0) -> AudioFeatures:
    """Speech bursts at ``segments`` [(start_s, end_s)], silence elsewhere, 4 syllables/s."""
    rng = np.random.default_rng(seed)
    T = max(1, int(round(duration_s * fps)))
    t = np.arange(T) / fps
    vad = np.zeros(T, np.float32)
    for a, b in segments:
        vad[(t >= a) & (t < b)] = 1.0
    syll = 0.5 - 0.5 * np.cos(2 * np.pi * 4.0 * t + rng.uniform(0, 6))
    rms = (vad * (0.25 + 0.75 * syll) * rng.uniform(0.6, 1.0, T) + 0.01).astype(np.float32)
    rms /= rms.max()
    onset = np.clip(np.diff(rms, prepend=rms[:1]), 0, None)
    onset = (onset / max(onset.max(), 1e-6)).astype(np.float32)
    peaks = np.flatnonzero((onset[1:-1] > onset[:-2]) & (onset[1:-1] >= onset[2:]) &
                           (onset[1:-1] > 0.2)) + 1
    pitch = np.where(vad > 0, 140 + 30 * np.sin(2 * np.pi * 0.5 * t), 0).astype(np.float32)
    return AudioFeatures(fps=fps, sr=16000, duration_s=duration_s,
                         log_mel=np.zeros((T, 8), np.float32), onset=onset, rms=rms,
                         pitch_hz=pitch, vad=vad, onset_frames=peaks.astype(np.int64))


def frontal_reference() -> np.ndarray:
    """A seated upper body facing the camera, hands in front of the belly, all points seen."""
    kp = np.zeros((133, 3))
    kp[:, 2] = 1.0
    body = {L.NOSE: (256, 150), L.LEFT_EYE: (276, 136), L.RIGHT_EYE: (236, 136),
            L.LEFT_EAR: (301, 145), L.RIGHT_EAR: (211, 145),
            L.LEFT_SHOULDER: (336, 240), L.RIGHT_SHOULDER: (176, 240),
            L.LEFT_ELBOW: (356, 340), L.RIGHT_ELBOW: (156, 340),
            L.LEFT_WRIST: (300, 400), L.RIGHT_WRIST: (212, 400),
            L.LEFT_HIP: (316, 470), L.RIGHT_HIP: (196, 470)}
    for i, p in body.items():
        kp[i, :2] = p
    kp[13:23] = (256, 600, 0.1)          # legs and feet out of the picture
    th = np.pi * np.arange(17) / 16
    face = [(256 - 48 * np.cos(a), 135 + 55 * np.sin(a)) for a in th]
    face += [(220 + 7 * i, 120) for i in range(5)] + [(264 + 7 * i, 120) for i in range(5)]
    face += [(256, 132 + 8 * i) for i in range(4)] + [(244 + 6 * i, 160) for i in range(5)]
    face += [(226, 136), (232, 132), (240, 132), (246, 136), (240, 139), (232, 139),
             (266, 136), (272, 132), (280, 132), (286, 136), (280, 139), (272, 139)]
    face += [(238, 178), (244, 174), (250, 172), (256, 173), (262, 172), (268, 174), (274, 178),
             (268, 183), (262, 185), (256, 186), (250, 185), (244, 183)]
    face += [(242, 178), (250, 177), (256, 177), (262, 177), (270, 178), (262, 179), (256, 179),
             (250, 179)]
    kp[L.FACE, :2] = face
    for start, wrist, elbow in ((L.LEFT_HAND_START, L.LEFT_WRIST, L.LEFT_ELBOW),
                                (L.RIGHT_HAND_START, L.RIGHT_WRIST, L.RIGHT_ELBOW)):
        d = kp[wrist, :2] - kp[elbow, :2]
        a0 = np.arctan2(d[1], d[0])
        kp[start, :2] = kp[wrist, :2]
        for k, finger in enumerate(L.HAND_FINGERS):
            a = a0 + (k - 2) * 0.25
            for j, r in zip(finger, (12, 22, 30, 36)):
                kp[start + j, :2] = kp[wrist, :2] + r * np.array([np.cos(a), np.sin(a)])
    return kp


@pytest.fixture(scope="module")
def gen():
    return get_generator("procedural")


@pytest.fixture(scope="module")
def talk():
    """Speech 0.3–4 s, a long pause, speech 9–12 s."""
    return speech_features([(0.3, 4.0), (9.0, 12.0)], duration_s=12.0)


@pytest.fixture(scope="module")
def talk_motion(gen, talk):
    return gen.generate(talk, frontal_reference(), image_size=SIZE, seed=3,
                        style="conversational").keypoints


def wrist_speed(kp: np.ndarray) -> np.ndarray:
    """Per-frame speed of both wrists, ``(T-1, 2)`` px/frame."""
    return np.linalg.norm(np.diff(kp[:, [L.LEFT_WRIST, L.RIGHT_WRIST], :2], axis=0), axis=-1)


@pytest.mark.parametrize("fps", [25.0, 30.0])
@pytest.mark.parametrize("duration_s", [0.04, 0.1, 1.5, 7.3])
def test_rows_and_fps(gen, fps, duration_s):
    feats = speech_features([(0.0, duration_s)], duration_s=duration_s, fps=fps)
    seq = gen.generate(feats, frontal_reference(), image_size=SIZE, seed=0)
    assert seq.keypoints.shape == (feats.num_frames, 133, 3)
    assert seq.fps == fps and seq.image_size == SIZE
    assert np.all(np.isfinite(seq.keypoints))


def test_same_seed_same_motion_other_seed_other_motion(gen, talk, talk_motion):
    again = gen.generate(talk, frontal_reference(), image_size=SIZE, seed=3,
                         style="conversational").keypoints
    other = gen.generate(talk, frontal_reference(), image_size=SIZE, seed=4,
                         style="conversational").keypoints
    assert np.array_equal(again, talk_motion)
    assert np.abs(other[:, 9:11, :2] - talk_motion[:, 9:11, :2]).max() > 5.0


def test_frame0_is_the_reference(talk_motion):
    ref = frontal_reference().astype(np.float32)
    assert np.array_equal(talk_motion[0, :, :2], ref[:, :2])
    assert np.array_equal(talk_motion[0, :13, 2], ref[:13, 2])
    assert np.all(talk_motion[:, 13:23, 2] == 0)     # legs out of the picture: not seen


@pytest.mark.parametrize("a,b", [(L.LEFT_SHOULDER, L.LEFT_ELBOW), (L.LEFT_ELBOW, L.LEFT_WRIST),
                                 (L.RIGHT_SHOULDER, L.RIGHT_ELBOW), (L.RIGHT_ELBOW, L.RIGHT_WRIST)])
def test_arm_bone_lengths_kept(talk_motion, a, b):
    """The upper arm keeps the photo's length; the forearm too, or is drawn shorter where it
    turns to the camera: down to FORE_MIN, never longer, and only while the elbow is folded
    within ELBOW_SOFT of its limit (a forearm left short after the elbow had unfolded was
    drawn at 0.86 of its length, bent 10 degrees)."""
    from gesticulate.motion.arms import FORE_MIN
    from gesticulate.motion.kinematics import ELBOW_MAX, ELBOW_SOFT
    ref = frontal_reference()
    ratio = np.linalg.norm(talk_motion[:, a, :2] - talk_motion[:, b, :2], axis=-1) \
        / np.linalg.norm(ref[a, :2] - ref[b, :2])
    if b in (L.LEFT_WRIST, L.RIGHT_WRIST):
        assert ratio.max() < 1.01 and ratio.min() > FORE_MIN - 0.01
        shoulder = {L.LEFT_ELBOW: L.LEFT_SHOULDER, L.RIGHT_ELBOW: L.RIGHT_SHOULDER}[a]
        upper = talk_motion[:, a, :2] - talk_motion[:, shoulder, :2]
        fore = talk_motion[:, b, :2] - talk_motion[:, a, :2]
        cos = (upper * fore).sum(1) / np.linalg.norm(upper, axis=1) / np.linalg.norm(fore, axis=1)
        flex = np.arccos(np.clip(cos, -1.0, 1.0))
        assert (flex[ratio < 0.99] > ELBOW_MAX - ELBOW_SOFT - np.deg2rad(3.0)).all()
    else:
        assert np.abs(ratio - 1).max() < 0.01


def test_arms_move_in_speech_and_rest_in_pauses(talk_motion):
    """Strokes in speech; in the pause the hands go back near the photo's and only wander
    (real speakers' wrists move 0.04-0.74 shoulder widths/s in pauses on the shared clips)."""
    speed = wrist_speed(talk_motion).max(axis=1)
    t = np.arange(1, len(talk_motion)) / FPS
    in_speech = speed[(t > 0.8) & (t < 4.0)].mean()
    pause = (t > 5.5) & (t < 8.0)   # the hands rise up to 1 s before speech resumes
    in_pause = speed[pause]
    assert in_speech > 1.0, in_speech
    # The pause's wander peaks at 0.07-0.28 of the speech's mean speed over seeds 0-19 (0.23
    # for this seed); a stroke left running into the pause reaches the speech's own speeds.
    assert in_pause.max() < 0.3 * in_speech, (in_pause.max(), in_speech)
    sw = float(L.shoulder_width(frontal_reference()))
    assert in_pause.mean() * FPS < 0.3 * sw, in_pause.mean()     # < 0.3 sw/s
    rest = frontal_reference()[[L.LEFT_WRIST, L.RIGHT_WRIST], :2]
    away = np.linalg.norm(talk_motion[1:][pause][:, [L.LEFT_WRIST, L.RIGHT_WRIST], :2] - rest,
                          axis=-1)
    assert away.max() < 0.3 * sw, away.max() / sw


def hand_turn(kp: np.ndarray) -> np.ndarray:
    """Each hand's angle against its forearm ``(T, 2)`` (wrist → middle knuckle against
    elbow → wrist), radians, relative to frame 0."""
    out = []
    for hand, elbow, wrist in ((L.LEFT_HAND, L.LEFT_ELBOW, L.LEFT_WRIST),
                               (L.RIGHT_HAND, L.RIGHT_ELBOW, L.RIGHT_WRIST)):
        v = kp[:, hand.start + 9, :2] - kp[:, hand.start, :2]
        f = kp[:, wrist, :2] - kp[:, elbow, :2]
        a = np.unwrap(np.arctan2(v[:, 1], v[:, 0]) - np.arctan2(f[:, 1], f[:, 0]))
        out.append(a - a[0])
    return np.stack(out, axis=1)


def test_hands_turn_against_the_forearm_in_speech(talk_motion):
    """Real speakers' hands turn against the forearm all the time (0.08-1.07 rad s.d., median
    0.38, on 9 shared clips); a hand held rigid on the forearm looks carved. The turn is smooth."""
    turn = hand_turn(talk_motion)
    t = np.arange(len(talk_motion)) / FPS
    speech = (t > 0.8) & (t < 4.0)
    assert turn[speech].std(axis=0).min() > 0.12, turn[speech].std(axis=0)
    assert np.abs(turn).max() < 1.6
    step = np.abs(np.diff(turn, axis=0)).max()
    assert step < 0.3, step           # < 0.3 rad between frames at 25 fps: no pops


def test_strokes_flex_the_wrist(gen, talk, monkeypatch):
    """Without the idle turn, the keyframes' wrist flex alone turns the hand about 0.35-0.41
    rad against the forearm at its largest (0.17-0.20 at the 0.25 rad per unit used before)."""
    import dataclasses
    from gesticulate.motion import style as S
    monkeypatch.setitem(S.STYLES, "conversational",
                        dataclasses.replace(S.STYLES["conversational"], wrist=0.0))
    for seed in range(4):
        kp = gen.generate(talk, frontal_reference(), image_size=SIZE, seed=seed,
                          style="conversational").keypoints
        assert np.abs(hand_turn(kp)).max() > 0.3, seed


@pytest.mark.parametrize("seed", range(6))
def test_no_wrist_pops(gen, talk, seed):
    """A wanted wrist sweeping from far out to the body crossed between two IK solutions
    (elbow straight, then folded) and the wrist flew half a shoulder width in one frame."""
    kp = gen.generate(talk, frontal_reference(), image_size=SIZE, seed=seed,
                      style="conversational").keypoints
    sw = float(L.shoulder_width(frontal_reference()))
    assert wrist_speed(kp).max() < 0.35 * sw, wrist_speed(kp).max() / sw


def test_elbow_never_hyperextends(talk_motion):
    ref = frontal_reference()
    for s, e, w in ((5, 7, 9), (6, 8, 10)):
        def bend(kp):
            u, f = kp[..., e, :2] - kp[..., s, :2], kp[..., w, :2] - kp[..., e, :2]
            return np.cross(u, f)
        assert np.all(np.sign(bend(talk_motion)) == np.sign(bend(ref)))


def test_wrists_stay_above_the_waist_and_below_the_head(talk_motion):
    ref = frontal_reference()
    y = talk_motion[:, [L.LEFT_WRIST, L.RIGHT_WRIST], 1]
    assert y.max() <= max(ref[L.LEFT_HIP, 1], ref[L.LEFT_WRIST, 1]) + 1
    assert y.min() >= ref[L.NOSE, 1] - 0.3 * 160


def test_mouth_follows_loudness(talk, talk_motion):
    gap = np.linalg.norm(talk_motion[:, L.INNER_LIP_BOTTOM, :2]
                         - talk_motion[:, L.INNER_LIP_TOP, :2], axis=-1)
    r = np.corrcoef(gap[3:], talk.rms[3:])[0, 1]
    assert r > 0.7, r
    t = np.arange(len(gap)) / FPS
    assert gap[(t > 5) & (t < 8.5)].max() < gap[(t > 0.5) & (t < 4)].mean()


def test_blinks_at_a_conversational_rate(gen):
    feats = speech_features([(0.5, 25.0), (28.0, 58.0)], duration_s=60.0)
    kp = gen.generate(feats, frontal_reference(), image_size=SIZE, seed=1).keypoints
    lid = np.linalg.norm(kp[:, L.face(37), :2] - kp[:, L.face(41), :2], axis=-1)
    closed = lid < 0.3 * lid[0]
    starts = np.flatnonzero(np.diff(closed.astype(int)) == 1)
    ends = np.flatnonzero(np.diff(closed.astype(int)) == -1)
    assert 10 <= len(starts) <= 30, len(starts)
    assert np.all((ends - starts[: len(ends)]) <= 0.4 * FPS)
    assert lid.min() < 0.05 * lid[0]


def test_strokes_land_on_onsets(gen, talk):
    from gesticulate.motion.style import STYLES
    hits = total = 0
    for seed in (0, 1, 2, 3):      # one seed's 13 strokes are too few to judge the timing by
        plan = gen.plan(talk, seed=seed)
        assert len(plan.strokes) >= 4
        onsets = set(talk.onset_frames.tolist())
        assert all(s.frame in onsets for s in plan.strokes)
        assert all(talk.vad[s.frame] > 0.5 for s in plan.strokes)
        frames = np.array([s.frame for s in plan.strokes])
        # The conversational style's refractory gap between strokes (plan()'s default).
        assert np.diff(frames).min() >= round(STYLES["conversational"].refractory_s * FPS)
        # The fastest movement of the stroke's hand around it happens just before it lands.
        motion = gen.generate(talk, frontal_reference(), image_size=SIZE, seed=seed,
                              style="conversational").keypoints
        speeds = wrist_speed(motion)
        mids = np.r_[0, (frames[1:] + frames[:-1]) // 2, len(speeds)]
        for i, (f, s) in enumerate(zip(frames, plan.strokes)):
            speed = speeds.max(axis=1) if s.hands == "both" else speeds[:, int(s.hands == "right")]
            # Search this stroke's own stretch: up to half-way to its neighbours (strokes may
            # chain 0.4 s apart, and the next one's preparation is fast too).
            lo, hi = max(mids[i], f - 10), min(mids[i + 1], f + 10)
            peak = lo + int(np.argmax(speed[lo:hi])) + 1     # speed[i] is the move into frame i+1
            hits += f - 0.3 * FPS <= peak <= f + 1
            total += 1
    assert hits >= 0.75 * total, (hits, total)


def test_head_moves_and_nods(talk_motion):
    nose = talk_motion[:, L.NOSE, :2]
    t = np.arange(len(nose)) / FPS
    assert np.ptp(nose[(t > 0.5) & (t < 4), 1]) > 1.0


def head_only_reference() -> np.ndarray:
    """A close portrait: face seen, shoulders at the bottom edge, arms out of the picture."""
    kp = frontal_reference()
    kp[[L.LEFT_SHOULDER, L.RIGHT_SHOULDER], 1] = 520
    kp[[L.LEFT_SHOULDER, L.RIGHT_SHOULDER], 2] = 0.2
    kp[7:13, 1] += 300
    kp[7:13, 2] = 0.05
    kp[L.HANDS] = 0.0
    return kp


def test_head_only_portrait_keeps_arms_unseen(gen, talk):
    ref = head_only_reference()
    kp = gen.generate(talk, ref, image_size=SIZE, seed=0).keypoints
    assert np.all(kp[:, 5:13, 2] == 0) and np.all(kp[:, L.HANDS, 2] == 0)
    assert np.allclose(kp[:, 5:13, :2], ref[5:13, :2])          # no shoulders: arms stay put
    assert np.abs(kp[:, L.NOSE, :2] - ref[L.NOSE, :2]).max() > 0.5   # the head still moves
    assert np.all(np.isfinite(kp))


def test_elbow_seen_wrist_not(gen, talk):
    ref = frontal_reference()
    ref[L.LEFT_WRIST, 2] = 0.1
    kp = gen.generate(talk, ref, image_size=SIZE, seed=0).keypoints
    assert np.all(kp[:, L.LEFT_WRIST, 2] == 0) and np.all(kp[:, L.LEFT_ELBOW, 2] == 1)
    elbow = kp[:, L.LEFT_ELBOW, :2]
    assert np.all((elbow >= 0) & (elbow <= 512))


def test_silence_is_still(gen):
    feats = speech_features([], duration_s=6.0)
    kp = gen.generate(feats, frontal_reference(), image_size=SIZE, seed=0).keypoints
    assert wrist_speed(kp).max() < 0.3


def test_options_are_checked(gen, talk):
    assert "procedural" in available_generators()
    with pytest.raises(OptionError, match="procedural"):
        get_generator("no-such-generator")
    with pytest.raises(OptionError, match="conversational"):
        gen.generate(talk, frontal_reference(), image_size=SIZE, style="wild")
    with pytest.raises(OptionError, match="speed"):
        gen.generate(talk, frontal_reference(), image_size=SIZE, speed=0.0)
    with pytest.raises(InputError, match="133"):
        gen.generate(talk, np.zeros((17, 3)), image_size=SIZE)


@pytest.mark.parametrize("style", ["auto", "calm", "conversational", "neutral", "presenter",
                                   "lively"])
def test_styles_and_speed(gen, talk, style):
    kp = gen.generate(talk, frontal_reference(), image_size=SIZE, style=style, speed=1.5).keypoints
    assert kp.shape == (talk.num_frames, 133, 3) and np.all(np.isfinite(kp))


def test_phones_close_the_lips_on_bilabials(gen, talk):
    phones = [("HH", 0.5, 0.6), ("AA1", 0.6, 1.0), ("M", 1.0, 1.2), ("AA1", 1.2, 1.6)]
    kp = gen.generate(talk, frontal_reference(), image_size=SIZE, phones=phones).keypoints
    gap = kp[:, L.INNER_LIP_BOTTOM, 1] - kp[:, L.INNER_LIP_TOP, 1]
    m = slice(int(1.0 * FPS) + 1, int(1.2 * FPS))
    assert gap[m].max() < 0.5 * gap[int(0.7 * FPS):int(1.0 * FPS)].max()


def test_an_elbow_on_the_frames_edge_slides_along_it_and_the_forearm_gestures(gen, talk):
    """A close-up cuts the arm at the elbow (avspeech_sample1): the hand the photo shows still
    gestures, its forearm turning about the elbow, which stays on the edge where the photo has
    it (moving it off the edge would bring the sleeve the border cut into view) but slides
    along it as an arm moved from the shoulder does, and keeps its confidence so the renderer
    turns the forearm about it. The other arm, hand out of the picture, stays."""
    from gesticulate.motion.arms import arm_mode
    from gesticulate.motion.kinematics import ARMS
    ref = frontal_reference()
    size = (512, 345)                                     # the elbows at y = 340: on the edge
    lift = np.array([10.0, -110.0])                       # the right hand up at the chest
    ref[L.RIGHT_WRIST, :2] += lift
    ref[L.RIGHT_HAND, :2] += lift
    ref[L.LEFT_HAND, 2] = 0.0                             # the left hand below the crop
    seen = gen._seen(ref, size)
    modes = {arm.side: arm_mode(arm, ref, seen, size) for arm in ARMS}
    assert modes == {"right": "pinned", "left": None}
    kp = gen.generate(talk, ref, image_size=size, seed=0).keypoints
    sw = float(L.shoulder_width(ref))
    elbow = kp[:, L.RIGHT_ELBOW]
    assert (elbow[:, 2] > 0.5).all()
    wrist = kp[:, L.RIGHT_WRIST, :2]
    # The hand gestures, turning smoothly (the forearm is folded up against the photo's
    # limit, so it turns one way only; 0.25 sw here was once met by the forearm flipping down).
    assert np.ptp(wrist, axis=0).max() > 0.1 * sw
    assert np.linalg.norm(np.diff(wrist, axis=0), axis=1).max() < 0.2 * sw
    fore = np.linalg.norm(wrist - elbow[:, :2], axis=1)
    assert np.allclose(fore, np.linalg.norm(ref[L.RIGHT_WRIST, :2] - ref[L.RIGHT_ELBOW, :2]),
                       rtol=0.02)                            # about the elbow, its length kept
    assert np.abs(elbow[:, 1] - ref[L.RIGHT_ELBOW, 1]).max() < 1e-3      # on the edge ...
    slide = elbow[:, 0] - ref[L.RIGHT_ELBOW, 0]
    assert 0.05 * sw < np.ptp(slide) and np.abs(slide).max() <= 0.3 * sw    # ... along it
    assert np.abs(np.diff(slide)).max() < 0.02 * sw                        # slowly
    left = kp[:, [L.LEFT_ELBOW, L.LEFT_WRIST], :2]
    assert np.abs(left - left[:1]).max() < 0.05 * sw         # the other arm stays
    short = ref.copy()                                       # no forearm to turn: it stays
    short[L.RIGHT_WRIST, :2] = short[L.RIGHT_ELBOW, :2] + [0.0, -0.1 * sw]
    right = next(arm for arm in ARMS if arm.side == "right")
    assert arm_mode(right, short, seen, size) is None


def test_an_elbow_on_a_side_edge_slides_up_and_down_it_inside_the_frame(gen, talk):
    """The same on the frame's left edge: the elbow keeps its x and its y slides, at most 0.3
    shoulder widths."""
    from gesticulate.motion.arms import arm_mode
    from gesticulate.motion.kinematics import ARMS
    ref = frontal_reference()
    ref[:, 0] -= ref[L.RIGHT_ELBOW, 0] - 1.0                  # the right elbow on x = 1
    lift = np.array([60.0, -80.0])                            # its hand in, before the chest
    ref[L.RIGHT_WRIST, :2] += lift
    ref[L.RIGHT_HAND, :2] += lift
    size = SIZE
    seen = gen._seen(ref, size)
    right = next(arm for arm in ARMS if arm.side == "right")
    assert arm_mode(right, ref, seen, size) == "pinned"
    kp = gen.generate(talk, ref, image_size=size, seed=0).keypoints
    elbow = kp[:, L.RIGHT_ELBOW, :2]
    sw = float(L.shoulder_width(ref))
    assert np.abs(elbow[:, 0] - ref[L.RIGHT_ELBOW, 0]).max() < 1e-3
    assert 0.02 * sw < np.ptp(elbow[:, 1]) and np.abs(elbow[:, 1] - ref[L.RIGHT_ELBOW, 1]).max() <= 0.3 * sw


def test_a_photo_with_one_movable_arm_gestures_with_it_on_every_seed(gen, talk):
    """The left hand under the frame's edge: the left arm only follows the torso, and every
    seed's gestures go to the right arm. Drawn for the still left arm (three times in ten)
    they were lost: seeds 2 and 7 moved the right wrist 0.36 and 0.29 shoulder widths in 12 s
    of speech, the others 0.84-0.96 (avspeech_sample1's close-up stood still so)."""
    from gesticulate.motion.arms import arm_mode
    from gesticulate.motion.kinematics import ARMS
    ref = frontal_reference()
    ref[L.LEFT_HAND, 2] = 0.0
    ref[L.LEFT_WRIST, :2] = (330, 505)
    seen = gen._seen(ref, SIZE)
    assert {arm.side: arm_mode(arm, ref, seen, SIZE) for arm in ARMS} == {"left": None,
                                                                          "right": "free"}
    sw = float(L.shoulder_width(ref))
    for seed in range(10):
        kp = gen.generate(talk, ref, image_size=SIZE, seed=seed, style="conversational").keypoints
        assert np.ptp(kp[:, L.RIGHT_WRIST, :2], axis=0).max() > 0.6 * sw, seed


def test_a_forearm_raised_about_an_edge_elbow_turns_without_flipping(gen, talk):
    """avspeech_sample1's pinned forearm points up from an elbow on the bottom edge, back along
    its upper arm. Its turn was measured from the upper arm and wrapped at half a turn, so a
    hand rising past that line read as a full turn and the clamp flipped the forearm to point
    down in the next frame (0.65 shoulder widths in one frame here). The wrist must move
    smoothly and stay above the elbow."""
    ref = frontal_reference()
    size = (512, 345)
    sw = float(L.shoulder_width(ref))
    elbow = ref[L.RIGHT_ELBOW, :2].copy()
    up = elbow + np.array([0.03 * sw, -0.6 * sw]) - ref[L.RIGHT_WRIST, :2]
    ref[L.RIGHT_WRIST, :2] += up                           # the forearm straight up
    ref[L.RIGHT_HAND, :2] += up
    ref[L.LEFT_HAND, 2] = 0.0
    for seed in range(4):
        kp = gen.generate(talk, ref, image_size=size, seed=seed, style="lively").keypoints
        wrist = kp[:, L.RIGHT_WRIST, :2]
        step = np.linalg.norm(np.diff(wrist, axis=0), axis=1).max()
        assert step < 0.2 * sw, (seed, step / sw)        # a fast stroke, not a flip
        assert (wrist[:, 1] < elbow[1]).all(), seed
        assert np.ptp(wrist, axis=0).max() > 0.1 * sw        # and it still gestures


def _hands_together(gen, feats, seed):
    from gesticulate.metrics.gesture import gesture_profile
    kp = gen.generate(feats, frontal_reference(), image_size=SIZE, seed=seed,
                      style="conversational").keypoints
    return gesture_profile(kp, np.ones(len(kp), bool), fps=FPS)["hands_together"]


def test_two_handed_phrases_move_both_hands_at_once(gen, monkeypatch):
    """In a phrase of two-handed strokes the hands' homes move at the same moments, mirrored,
    and part of their idle wander is shared: their speeds correlate above 0.7 (0.32-0.47 when
    each arm drew its own). Phrases of one hand: below 0.3."""
    from gesticulate.motion import gestures as G
    feats = speech_features([(0.5, 4.0), (4.8, 9.0)], duration_s=10.0)
    monkeypatch.setattr(G, "PHRASE_HANDS", (0.0, 0.0, 1.0))
    monkeypatch.setattr(G, "BOTH_STROKES", 1.0)
    for seed in range(4):
        assert _hands_together(gen, feats, seed) > 0.7, seed
    monkeypatch.setattr(G, "PHRASE_HANDS", (1.0, 0.0, 0.0))
    for seed in range(4):
        assert _hands_together(gen, feats, seed) < 0.3, seed


def test_a_folded_forearm_turns_to_the_camera_instead_of_folding_past_the_elbows_limit(
        gen, talk, monkeypatch):
    """un_speech_female's right hand lies at her chest, the elbow folded 144 degrees against a
    limit of 150: a wanted wrist nearer her shoulder than the fold lets it come stopped at the
    limit, and her hand barely moved (0.08 shoulder widths/s in speech against her real 0.36).
    A real forearm turns towards the camera there: drawn shorter, down to FORE_MIN, the wrist
    moves on (1.4x the median speed in speech of a forearm held at its length here). An arm
    the limit does not stop keeps its length (test above)."""
    from gesticulate.motion import arms
    ref = frontal_reference()
    sw = float(L.shoulder_width(ref))
    shoulder, elbow = ref[L.RIGHT_SHOULDER, :2], ref[L.RIGHT_ELBOW, :2]
    up = np.arctan2(*(shoulder - elbow)[::-1])
    fore = 0.55 * sw
    # Folded 144 degrees, the hand towards the body's middle.
    wrist = max((elbow + fore * np.array([np.cos(up + a), np.sin(up + a)])
                 for a in np.deg2rad([36.0, -36.0])), key=lambda p: p[0])
    ref[L.RIGHT_HAND, :2] += wrist - ref[L.RIGHT_WRIST, :2]
    ref[L.RIGHT_WRIST, :2] = wrist

    def moves():
        kp = gen.generate(talk, ref, image_size=SIZE, seed=1, style="lively").keypoints
        length = np.linalg.norm(kp[:, L.RIGHT_WRIST, :2] - kp[:, L.RIGHT_ELBOW, :2], axis=1)
        speed = np.linalg.norm(np.diff(kp[:, L.RIGHT_WRIST, :2], axis=0), axis=1)
        return np.median(speed[talk.vad[1:] > 0]) / sw, length / fore

    speed, length = moves()              # median wrist speed in speech
    assert length.min() < 0.9 and length.min() >= arms.FORE_MIN - 0.01
    assert length.max() < 1.01
    monkeypatch.setattr(arms, "FORE_MIN", 1.0)
    held, _ = moves()
    assert speed > 1.2 * held, (speed, held)


@pytest.mark.parametrize("lift, down_share, up_share", [(0, None, 0.5), (70, 0.25, None)])
def test_a_hand_held_high_wanders_down_as_well_as_up(gen, lift, down_share, up_share):
    """Between gesture units the hands' home wanders mostly up from a hand resting low (1.0
    shoulder widths under the neck here: above its rest in most of the speech), and as much
    down as up from one the photo holds at mid-chest (0.56 under it): wandering up from
    there, un_speech_female's folded arm asked for a wrist it could not reach, and her hand
    barely moved (her real one drops to the lectern and comes back up)."""
    feats = speech_features([(0.3, 7.5)], duration_s=8.0)
    ref = frontal_reference()
    wrists, hands = [L.LEFT_WRIST, L.RIGHT_WRIST], np.r_[L.LEFT_HAND, L.RIGHT_HAND]
    ref[wrists, 1] -= lift
    ref[hands, 1] -= lift
    sw, speech = float(L.shoulder_width(ref)), speech_mask(feats) > 0.5
    below, above = [], []
    for seed in range(5):
        kp = gen.generate(feats, ref, image_size=SIZE, seed=seed, style="conversational")
        dy = ((kp.keypoints[:, wrists, 1] - ref[wrists, 1]) / sw)[speech[: len(kp.keypoints)]]
        below.append((dy > 0.1).mean())
        above.append((dy < -0.1).mean())
    if down_share is not None:
        assert np.mean(below) >= down_share and np.mean(above) < 0.45, (below, above)
    if up_share is not None:
        assert np.mean(above) > up_share, (below, above)
