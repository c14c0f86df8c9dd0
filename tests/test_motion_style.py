"""Gesture styles: ``auto`` reads posture, hands and voice; named styles are ordered by how
much they move; the gesture profile measures what it says."""

from __future__ import annotations

import numpy as np
import pytest
from test_motion import FPS, SIZE, frontal_reference, speech_features

from gesticulate.audio.features import compute_features
from gesticulate.errors import InputError, OptionError
from gesticulate.metrics.gesture import drop_guessed, gesture_profile
from gesticulate.motion import get_generator
from gesticulate.motion import style as S
from gesticulate.motion.arms import CLOSE_UP_RAISED_RANGE
from gesticulate.motion.gestures import speech_mask
from gesticulate.skeleton import layout as L

TALL = (512, 900)   # a frame with room for a standing body's knees


def standing(ref: np.ndarray) -> np.ndarray:
    """``ref`` with knees seen 1.6 shoulder widths under the hips (a standing body)."""
    out = ref.copy()
    out[L.LEFT_KNEE] = (316, 470 + 1.6 * 160, 1.0)
    out[L.RIGHT_KNEE] = (196, 470 + 1.6 * 160, 1.0)
    return out


def seated(ref: np.ndarray) -> np.ndarray:
    """Knees just under the hips, thighs towards the camera (a seated body)."""
    out = ref.copy()
    out[L.LEFT_KNEE] = (326, 470 + 0.4 * 160, 1.0)
    out[L.RIGHT_KNEE] = (186, 470 + 0.4 * 160, 1.0)
    return out


def hands_free(ref: np.ndarray) -> np.ndarray:
    """Wrists apart, out at the sides of the belly."""
    out = ref.copy()
    out[L.LEFT_WRIST, :2] = (370, 420)
    out[L.RIGHT_WRIST, :2] = (142, 420)
    return out


def seen(ref: np.ndarray, size: tuple[int, int] = TALL) -> np.ndarray:
    w, h = size
    x, y = ref[:, 0], ref[:, 1]
    return (ref[:, 2] >= 0.3) & (x > 0.02 * w) & (x < 0.98 * w) & (y > 0.02 * h) & (y < 0.98 * h)


def voice(*, animated: bool) -> tuple[np.ndarray, int]:
    """eSpeak NG's speech as it comes at 140 words/min (flat: its pitch varies by ~4
    semitones, its words are equally loud) or animated: 230 words/min, each 0.35 s shifted by
    up to ±10 semitones and ±12 dB."""
    from scipy.signal import resample

    from gesticulate.audio.tts import synthesize
    y, sr = synthesize("Well, I think this is a rather ordinary day at the office, and "
                       "nothing much happens here, as far as I can tell.",
                       rate_wpm=230 if animated else 140)
    rng = np.random.default_rng(0)
    if not animated:
        return y, sr
    n = int(0.35 * sr)
    out = []
    for b in (y[i:i + n] for i in range(0, len(y), n)):
        shifted = resample(b, max(8, int(len(b) / 2 ** (rng.uniform(-10, 10) / 12))))
        out.append(shifted * 10 ** (rng.uniform(-12, 12) / 20))
    y = np.concatenate(out).astype(np.float32)
    return y / max(1e-6, float(np.abs(y).max())) * 0.8, sr


def test_posture_and_hands_are_read_from_the_skeleton():
    ref = frontal_reference()
    assert S.posture(ref, seen(ref))[0] == "unknown"          # legs out of the picture
    assert S.posture(standing(ref), seen(standing(ref)))[0] == "standing"
    assert S.posture(seated(ref), seen(seated(ref)))[0] == "seated"
    assert S.hand_pose(ref, seen(ref))[0] == "lap"            # together in front of the belly
    assert S.hand_pose(hands_free(ref), seen(ref))[0] == "free"
    no_hands = ref.copy()
    no_hands[[L.LEFT_WRIST, L.RIGHT_WRIST], 2] = 0.0
    assert S.hand_pose(no_hands, seen(no_hands))[0] == "out of frame"
    clasped = ref.copy()
    clasped[L.LEFT_WRIST, :2], clasped[L.RIGHT_WRIST, :2] = (270, 420), (240, 420)
    assert S.hand_pose(clasped, seen(clasped))[0] == "clasped"
    sides = ref.copy()
    sides[L.LEFT_WRIST, :2], sides[L.RIGHT_WRIST, :2] = (350, 480), (162, 480)
    assert S.hand_pose(sides, seen(sides))[0] == "at the sides"
    raised = hands_free(ref)
    raised[L.LEFT_WRIST, :2] = (380, 250)
    assert S.hand_pose(raised, seen(raised))[0] == "raised"
    # Resting hands lower the style's score; free ones, however they are held, do not.
    assert {S.hand_pose(k, seen(k))[0] for k in (ref, clasped)} <= set(S.RESTING)
    assert {S.hand_pose(k, seen(k))[0] for k in (sides, raised, hands_free(ref))} <= set(S.FREE)


def test_framing_is_read_from_the_skeleton():
    ref = frontal_reference()
    assert S.framing(ref, seen(ref))[0] == "upper body"
    full = standing(ref)
    full[L.LEFT_ANKLE], full[L.RIGHT_ANKLE] = (316, 860, 1.0), (196, 860, 1.0)
    assert S.framing(full, seen(full))[0] == "full body"
    assert S.framing(standing(ref), seen(standing(ref)))[0] == "upper body"   # to the knees
    portrait = ref.copy()
    below = [L.LEFT_ELBOW, L.RIGHT_ELBOW, L.LEFT_WRIST, L.RIGHT_WRIST, L.LEFT_HIP, L.RIGHT_HIP,
             L.LEFT_KNEE, L.RIGHT_KNEE, L.LEFT_ANKLE, L.RIGHT_ANKLE]
    portrait[below, 2] = 0.0
    assert S.framing(portrait, seen(portrait))[0] == "portrait"
    face = portrait.copy()
    face[[L.LEFT_SHOULDER, L.RIGHT_SHOULDER], 2] = 0.0
    assert S.framing(face, seen(face))[0] == "face"
    # A frame cutting the chest, hips unseen: a close-up; the same photo framed lower, or the
    # hips in it, are not; without the picture's size, no close-up is told.
    chest = ref.copy()
    chest[[L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_KNEE, L.RIGHT_KNEE], 2] = 0.0
    neck_y, sw = float(L.neck(ref)[1]), float(L.shoulder_width(ref))
    cut = (512, int(neck_y + 1.0 * sw))
    assert S.framing(chest, seen(chest), cut)[0] == "close-up"
    assert S.framing(chest, seen(chest), (512, int(neck_y + 1.3 * sw)))[0] == "upper body"
    assert S.framing(ref, seen(ref), cut)[0] == "upper body"
    assert S.framing(chest, seen(chest))[0] == "upper body"
    assert any("close-up" in r for r in S.choose_style(
        chest, seen(chest), speech_features([(0.2, 1.8)], duration_s=2.0), cut).reasons)
    # ... and given among auto's reasons.
    features = speech_features([(0.2, 1.8)], duration_s=2.0)
    choice = S.choose_style(portrait, seen(portrait), features)
    assert "head and shoulders only" in choice.reasons


@pytest.fixture(scope="module")
def voices():
    out = {}
    for a in (False, True):
        y, sr = voice(animated=a)
        out[a] = compute_features(y, sr=sr, fps=FPS)
    return out


def test_voice_figures_tell_a_flat_voice_from_an_animated_one(voices):
    flat, lively = (S.voice_figures(voices[a]) for a in (False, True))
    assert lively["loudness_sd_db"] > flat["loudness_sd_db"] + 2
    assert lively["pitch_range_st"] > flat["pitch_range_st"] + 3
    assert lively["rate_per_s"] > flat["rate_per_s"]
    ref = frontal_reference()
    calm = S.choose_style(ref, seen(ref), voices[False])
    tall = standing(hands_free(ref))
    animated = S.choose_style(tall, seen(tall), voices[True])
    assert calm.name == "calm" and animated.name == "lively", (calm, animated)
    assert any("flat voice" in r for r in calm.reasons)
    assert any("standing" in r for r in animated.reasons)


def test_auto_is_the_default_and_equals_the_style_it_chose(voices):
    gen = get_generator("procedural")
    ref = hands_free(frontal_reference())
    # Legs out of the picture (posture unknown, 0), hands free (0), an expressive voice (+1).
    choice = gen.style_for(voices[True], ref, image_size=SIZE)
    assert choice.name == "presenter" and any("expressive" in r for r in choice.reasons)
    default = gen.generate(voices[True], ref, image_size=SIZE, seed=1).keypoints
    named = gen.generate(voices[True], ref, image_size=SIZE, seed=1, style=choice.name).keypoints
    other = gen.generate(voices[True], ref, image_size=SIZE, seed=1, style="calm").keypoints
    assert np.array_equal(default, named) and not np.allclose(default, other)
    with pytest.raises(OptionError, match="calm, conversational, presenter, lively"):
        gen.style_for(voices[True], ref, image_size=SIZE, style="wild")


def test_named_styles_move_more_from_calm_to_lively():
    gen = get_generator("procedural")
    feats = speech_features([(0.3, 11.5)], duration_s=12.0)
    speech = speech_mask(feats)
    ref = hands_free(frontal_reference())
    prof = {}
    for name in S.ORDER:
        runs = [gesture_profile(gen.generate(feats, ref, image_size=SIZE, seed=s, style=name),
                                speech, fps=FPS) for s in range(3)]
        prof[name] = {k: np.mean([r[k] for r in runs]) for k in runs[0]}
    for k in ("speed_speech_p90", "hand_variance", "l1div_hands"):
        values = [prof[n][k] for n in S.ORDER]
        assert all(a < b for a, b in zip(values, values[1:])), (k, values)
    # Calm speakers hold still more than lively ones and shake less.
    assert prof["calm"]["wrist_accel"] < 0.5 * prof["lively"]["wrist_accel"]


def _moving_wrists(T: int, *, amplitude_px: float, hz: float) -> np.ndarray:
    kp = np.repeat(frontal_reference()[None], T, axis=0).astype(np.float32)
    t = np.arange(T) / FPS
    dx = amplitude_px * np.sin(2 * np.pi * hz * t)
    for w, hand in ((L.LEFT_WRIST, L.LEFT_HAND), (L.RIGHT_WRIST, L.RIGHT_HAND)):
        kp[:, w, 0] += dx
        kp[:, hand, 0] += dx[:, None]
    return kp


def test_gesture_profile_measures_speed_variance_and_rest():
    T = 250
    still = gesture_profile(_moving_wrists(T, amplitude_px=0.0, hz=1.0), np.ones(T, bool), fps=FPS)
    assert (still["speed_speech_median"] < 1e-4 and still["wrist_accel"] < 1e-4
            and still["hand_variance"] < 1e-9)
    # Hands swinging ±0.5 shoulder widths (80 px) at 0.5 Hz, half the clip in speech.
    kp = _moving_wrists(T, amplitude_px=80.0, hz=0.5)
    speech = np.arange(T) < T // 2
    p = gesture_profile(kp, speech, fps=FPS)
    peak = 0.5 * 2 * np.pi * 0.5            # sw/s
    assert abs(p["speed_speech_p90"] - peak * np.sin(np.deg2rad(81))) < 0.1 * peak
    assert abs(p["hand_variance"] - 0.5 ** 2 / 2) < 0.02   # var of a sine of amplitude 0.5 sw
    assert abs(p["wrist_accel"] - peak * 2 * np.pi * 0.5 * 2 / np.pi) < 0.15 * peak * np.pi
    # In pauses the same swing: no rest; a generator that rests in pauses shows a lower figure.
    assert p["speed_pause_median"] > 0.5 * peak
    assert abs(p["speed_speech_median"] - peak * np.cos(np.pi / 4)) < 0.1 * peak   # median |cos|
    # A stop at each end of the swing (0.47 Hz: a period off the frame grid, so the speed's
    # minima are not two equal frames, which argrelextrema would not count).
    odd = gesture_profile(_moving_wrists(T, amplitude_px=80.0, hz=0.47), speech, fps=FPS)
    assert abs(odd["beats_per_s"] - 2 * 0.47) < 0.15, odd["beats_per_s"]
    rests = kp.copy()
    rests[~speech] = kp[0]
    assert gesture_profile(rests, speech, fps=FPS)["speed_pause_median"] < 0.05 * peak


def test_hands_together_tells_two_handed_from_one_handed_motion():
    """Both hands swinging at once score near 1; one hand swinging while the other moves at
    other times near 0 or below; one wrist seen: not measured."""
    T = 250
    both = gesture_profile(_moving_wrists(T, amplitude_px=80.0, hz=0.5), np.ones(T, bool),
                           fps=FPS)
    assert both["hands_together"] > 0.95
    kp = _moving_wrists(T, amplitude_px=0.0, hz=0.5)
    t = np.arange(T) / FPS
    for w, hand, on in ((L.LEFT_WRIST, L.LEFT_HAND, np.sin(2 * np.pi * 0.2 * t) > 0),
                        (L.RIGHT_WRIST, L.RIGHT_HAND, np.sin(2 * np.pi * 0.2 * t) <= 0)):
        dx = np.cumsum(np.where(on, 3.0, 0.0))         # each hand travels while the other rests
        kp[:, w, 0] += dx
        kp[:, hand, 0] += dx[:, None]
    apart = gesture_profile(kp, np.ones(T, bool), fps=FPS)
    assert apart["hands_together"] < 0.0
    one = kp.copy()
    one[:, L.RIGHT_WRIST, 2] = 0.0
    assert np.isnan(gesture_profile(one, np.ones(T, bool), fps=FPS)["hands_together"])


def test_a_hand_seen_for_a_moment_is_left_out_and_one_seen_a_third_of_the_time_counts():
    """A lectern speaker: one hand seen in a third of the frames (measured), the other only in
    a few frames where it enters from the bottom edge (left out of the wrist and the hand
    figures, which it would otherwise dominate)."""
    from gesticulate.metrics.gesture import hand_variance
    T = 240
    kp = _moving_wrists(T, amplitude_px=40.0, hz=0.5)
    seen = np.arange(T) < T // 3
    kp[~seen, L.RIGHT_WRIST, 2] = 0.0
    kp[~seen, L.RIGHT_HAND, 2] = 0.0
    glimpse = np.zeros(T, bool)
    glimpse[100:110] = True                                    # 4 % of the frames
    rise = np.linspace(300.0, 0.0, 10)[:, None]                # entering from below
    kp[glimpse, L.LEFT_WRIST, 1] += rise[:, 0]
    kp[glimpse, L.LEFT_HAND, 1] += rise
    kp[~glimpse, L.LEFT_WRIST, 2] = 0.0
    kp[~glimpse, L.LEFT_HAND, 2] = 0.0
    p = gesture_profile(kp, np.ones(T, bool), fps=FPS)
    right = kp.copy()
    right[:, L.LEFT_WRIST, 2] = 0.0
    right[:, L.LEFT_HAND, 2] = 0.0
    q = gesture_profile(right, np.ones(T, bool), fps=FPS)
    assert np.isfinite(p["speed_speech_median"]) and p["speed_speech_median"] > 0.1
    for k in ("speed_speech_median", "hand_variance", "l1div_hands", "beats_per_s"):
        assert p[k] == pytest.approx(q[k]), k
    assert abs(p["hand_variance"] - 0.25 ** 2 / 2) < 0.01    # the right hand's swing alone
    assert hand_variance(kp) > 3 * p["hand_variance"]        # what the glimpse would make it


def test_guessed_wrists_are_left_out():
    kp = _moving_wrists(50, amplitude_px=80.0, hz=0.5)
    kp[10:20, L.LEFT_WRIST, 1] = SIZE[1] - 2           # guessed at the bottom edge
    kp[30:40, L.RIGHT_HAND, 2] = 0.0                   # the hand is lost: its wrist is a guess
    out = drop_guessed(kp, SIZE)
    assert (out[10:20, L.LEFT_WRIST, 2] == 0).all() and (out[:10, L.LEFT_WRIST, 2] > 0).all()
    assert (out[30:40, L.RIGHT_WRIST, 2] == 0).all() and (out[40:, L.RIGHT_WRIST, 2] > 0).all()
    speech = np.ones(50, bool)
    with pytest.raises(InputError, match="one value per frame"):
        gesture_profile(kp, speech[:30], fps=FPS)


def test_hands_never_cross_and_meet_in_some_long_pauses():
    gen = get_generator("procedural")
    feats = speech_features([(0.3, 4.0), (6.5, 9.0), (11.5, 14.0)], duration_s=14.5)
    ref = hands_free(frontal_reference())
    sw = 160.0
    met = 0
    for name in S.ORDER:
        for seed in range(4):
            kp = gen.generate(feats, ref, image_size=SIZE, seed=seed, style=name).keypoints
            gap = (kp[:, L.LEFT_WRIST, 0] - kp[:, L.RIGHT_WRIST, 0]) / sw
            # Each on its own side (targets 0.2 apart; the joint smoothing may take 0.02 off).
            assert gap.min() >= 0.18, (name, seed, gap.min())
            pauses = np.r_[int(4.6 * FPS):int(5.8 * FPS), int(9.6 * FPS):int(10.8 * FPS)]
            met += gap[pauses].min() < 0.45
    assert met >= 3    # hands together in a pause for some styles and seeds (rest: 1.4 sw)


def test_a_standing_body_sways_more_than_a_seated_one():
    gen = get_generator("procedural")
    feats = speech_features([(0.3, 11.5)], duration_s=12.0)
    tall = (SIZE[0], TALL[1])
    sway = {}
    for name, ref in (("standing", standing(frontal_reference())),
                      ("seated", seated(frontal_reference()))):
        kp = gen.generate(feats, ref, image_size=tall, seed=0, style="conversational").keypoints
        sway[name] = np.std(kp[:, L.NOSE, 0])
    assert sway["standing"] > 1.5 * sway["seated"], sway


def test_an_arm_resting_below_the_frame_stays_with_the_torso():
    """A lectern speaker's arm resting below the frame: the elbow on the bottom edge, the wrist
    out of the picture (MediaPipe guesses it inside, with confidence 0). The same arm with its
    elbow clear of the edge is lifted by the elbow; this one has no forearm to show and follows
    the torso only, while the other arm, its hand raised in the picture, still gestures."""
    from gesticulate.motion.arms import arm_mode
    from gesticulate.motion.base import seen_points
    from gesticulate.motion.kinematics import ARMS
    gen = get_generator("procedural")
    feats = speech_features([(0.3, 7.5)], duration_s=8.0)
    ref = frontal_reference()
    ref[L.LEFT_WRIST] = (380.0, 300.0, 0.0)        # a guess, above the elbow (y 340)
    ref[L.LEFT_HAND, 2] = 0.0
    up = np.array([0.0, -130.0])                   # the other hand raised to the chest
    ref[L.RIGHT_WRIST, :2] += up
    ref[L.RIGHT_HAND, :2] += up
    travel = {}
    for name, size in (("clear", SIZE), ("on the edge", (512, 352))):
        seen = seen_points(ref, size, min_confidence=0.3)
        modes = {arm.side: arm_mode(arm, ref, seen, size) for arm in ARMS}
        assert modes == {"left": "free" if name == "clear" else None, "right": "free"}, name
        kp = gen.generate(feats, ref, image_size=size, seed=0, style="lively").keypoints
        elbow = kp[:, L.LEFT_ELBOW, :2] - kp[:, L.LEFT_SHOULDER, :2]
        travel[name] = np.abs(elbow - elbow[0]).max()
        wrist = kp[:, L.RIGHT_WRIST, :2]
        travel[name + ", other wrist"] = np.abs(wrist - wrist[0]).max()
    assert travel["clear"] > 0.1 * SIZE[0], travel
    assert travel["on the edge"] < 0.05 * travel["clear"], travel
    assert travel["on the edge, other wrist"] > 0.05 * SIZE[0], travel


def test_a_handless_wrist_at_the_frame_edge_does_not_gesture():
    """Arms folded under a portrait's crop: the wrist is guessed at the bottom edge and no hand
    is found. Lifting it would show a sleeve the photo does not have."""
    gen = get_generator("procedural")
    feats = speech_features([(0.3, 7.5)], duration_s=8.0)
    ref = hands_free(frontal_reference())
    cut = ref.copy()
    cut[L.LEFT_WRIST, 1] = SIZE[1] * 0.97          # at the bottom edge, inside the 2 % margin
    cut[L.LEFT_HAND, 2] = 0.0                      # no hand found
    travel = {}
    for name, r in (("shown", ref), ("cut", cut)):
        kp = gen.generate(feats, r, image_size=SIZE, seed=0, style="lively").keypoints
        travel[name] = np.abs(kp[:, L.LEFT_WRIST, :2] - r[L.LEFT_WRIST, :2]).max()
    assert travel["cut"] < 0.3 * travel["shown"], travel


def _framed_twice(lift: float):
    """The same skeleton, hips unseen, its hands lifted by ``lift`` px, framed as a close-up
    (the picture ending 1.06 shoulder widths under the neck) and lower: the skeleton, and per
    framing the hands' pose, the mean gesture profile and the keypoints of 5 seeds."""
    gen = get_generator("procedural")
    feats = speech_features([(0.3, 7.5)], duration_s=8.0)
    ref = frontal_reference()
    ref[[L.LEFT_HIP, L.RIGHT_HIP], 2] = 0.0
    for wrist, hand in ((L.LEFT_WRIST, L.LEFT_HAND), (L.RIGHT_WRIST, L.RIGHT_HAND)):
        ref[wrist, 1] -= lift
        ref[hand, 1] -= lift
    out = {}
    for size in ((512, 410), (512, 512)):
        kps = [gen.generate(feats, ref, image_size=size, seed=s, style="conversational").keypoints
               for s in range(5)]
        runs = [gesture_profile(kp, speech_mask(feats), fps=FPS) for kp in kps]
        out[S.framing(ref, seen(ref, size), size)[0]] = (
            S.hand_pose(ref, seen(ref, size))[0],
            {k: np.mean([r[k] for r in runs]) for k in runs[0]}, kps)
    assert set(out) == {"close-up", "upper body"}
    return ref, out


def test_a_close_up_gestures_slower_and_keeps_its_reach():
    """The same skeleton framed as a close-up (the picture ending 1.06 shoulder widths under
    the neck, hips unseen) gets strokes 0.75 the size and 1.5x as long: lower peak wrist speeds,
    about the same hand travel (the shared close-ups' speakers move their wrists at half the
    seated ones' 90th percentile speed, but as far)."""
    _, out = _framed_twice(70)          # hands at the chest, in the picture
    (pose, close, _), (_, upper, _) = out["close-up"], out["upper body"]
    assert pose == "free"
    assert close["speed_speech_p90"] < 0.9 * upper["speed_speech_p90"], (close, upper)
    assert close["hand_variance"] > 0.7 * upper["hand_variance"], (close, upper)


def test_a_close_up_with_a_hand_raised_is_not_damped_and_may_drop_to_the_edge():
    """A close-up holding its hands raised into the picture (a speaker at a lectern, cut at the
    chest by it and the frame: un_speech_female) gestures at least as fast as the same
    skeleton framed lower, not smaller and slower as a close-up whose hands are lower; and its
    hands may drop to about the frame's edge, past the chest height a hand held high drops to
    elsewhere; and its upper arms turn more, from the shoulder, but within
    arms.CLOSE_UP_RAISED_RANGE of the photo's direction (the lectern speaker's real upper arm
    turns out by 12 degrees at most)."""
    ref, out = _framed_twice(100)       # hands raised above the chest
    sw, neck = L.shoulder_width(ref), L.neck(ref)
    lowest = {name: np.median([(kp[:, [L.LEFT_WRIST, L.RIGHT_WRIST], 1].max() - neck[1]) / sw
                               for kp in kps]) for name, (_, _, kps) in out.items()}
    # The upper arms' direction: its s.d. over the frames (median over arms and seeds), and
    # the most it leaves the photo's (degrees).
    turn, off = {}, {}
    for name, (_, _, kps) in out.items():
        sd, most = [], []
        for kp in kps:
            for shoulder, elbow in ((L.LEFT_SHOULDER, L.LEFT_ELBOW),
                                    (L.RIGHT_SHOULDER, L.RIGHT_ELBOW)):
                v = kp[:, elbow, :2] - kp[:, shoulder, :2]
                angle = np.unwrap(np.arctan2(v[:, 1], v[:, 0]))
                sd.append(angle.std())
                most.append(np.abs(angle - angle[0]).max())
        turn[name], off[name] = np.median(sd), np.degrees(max(most))
    assert turn["close-up"] > 1.1 * turn["upper body"], turn
    assert off["close-up"] < np.degrees(CLOSE_UP_RAISED_RANGE) + 1.5 < off["upper body"], off
    (pose, close, _), (_, upper, _) = out["close-up"], out["upper body"]
    assert pose == "raised"
    assert close["speed_speech_median"] > upper["speed_speech_median"], (close, upper)
    assert close["speed_speech_p90"] > 0.9 * upper["speed_speech_p90"], (close, upper)
    assert lowest["close-up"] > lowest["upper body"] + 0.1, lowest


def test_no_stroke_before_the_hands_have_eased_in():
    """Speech from the first frame: the first stroke waits for the ease-in (0.5 s), whose
    ramp would squeeze its preparation into a rush."""
    gen = get_generator("procedural")
    feats = speech_features([(0.0, 4.0)], duration_s=4.0)
    for seed in range(5):
        frames = [s.frame for s in gen.plan(feats, seed=seed, style="lively").strokes]
        assert frames and min(frames) >= gen.ease_in_s * FPS, frames


def unread_hands(ref: np.ndarray) -> np.ndarray:
    """``ref`` with neither hand's landmarks read (a clasp no detector takes for hands)."""
    out = ref.copy()
    out[L.LEFT_HAND, 2] = out[L.RIGHT_HAND, 2] = 0.0
    return out


def test_hands_held_together_unread_move_as_one():
    # Wrists 0.8 sw apart, their fingers meeting between them (ted_lia_driving2's clicker):
    # together to the warp, which has no landmarks to part them by.
    ref = unread_hands(hands_free(frontal_reference()))
    ref[L.LEFT_WRIST, :2], ref[L.RIGHT_WRIST, :2] = (320, 400), (192, 400)
    assert S.joined_hands(ref, seen(ref))
    assert S.hand_pose(ref, seen(ref))[0] == "clasped"
    assert not S.joined_hands(hands_free(frontal_reference()), seen(ref))    # read hands
    apart = ref.copy()
    apart[L.LEFT_WRIST, :2], apart[L.RIGHT_WRIST, :2] = (370, 400), (142, 400)   # 1.4 sw
    assert not S.joined_hands(apart, seen(apart))
    high = ref.copy()
    high[[L.LEFT_WRIST, L.RIGHT_WRIST], 1] = 300                                # 0.4 sw under
    assert not S.joined_hands(high, seen(high))
    short = ref.copy()        # a forearm pointing at the camera: it moves its elbow, not wrist
    short[L.LEFT_ELBOW, :2] = (330, 385)
    assert not S.joined_hands(short, seen(short))
    gen = get_generator("procedural")
    feats = speech_features([(0.3, 4.0), (5.0, 8.0)], duration_s=8.5)
    sw = 160.0
    for name in ("calm", "lively"):
        kp = gen.generate(feats, ref, image_size=SIZE, seed=1, style=name).keypoints
        left = kp[:, L.LEFT_WRIST, :2] - ref[L.LEFT_WRIST, :2]
        right = kp[:, L.RIGHT_WRIST, :2] - ref[L.RIGHT_WRIST, :2]
        moved = np.linalg.norm(left, axis=1) / sw
        assert moved.max() > 0.03, name                          # they do move ...
        assert np.percentile(moved, 95) <= S.JOINED_REACH + 0.02, name   # ... near the clasp
        # ... together: the two wrists' paths differ by a little IK, no parting of the hands.
        assert np.linalg.norm(left - right, axis=1).max() / sw < 0.05, name
        # Apart, the same arms part (the check above is not met by any two arms).
        kp = gen.generate(feats, apart, image_size=SIZE, seed=1, style=name).keypoints
        d = (kp[:, L.LEFT_WRIST, :2] - apart[L.LEFT_WRIST, :2]) \
            - (kp[:, L.RIGHT_WRIST, :2] - apart[L.RIGHT_WRIST, :2])
        assert np.linalg.norm(d, axis=1).max() / sw > 0.1, name
