"""Generated gestures against real speakers (needs ../shared/data): the procedural generator
with ``--style auto``, run from each clip's first frame and its own audio (seeds 0–19), moves
like the three seated interview speakers hbr_speaker7/9/12 taken as a class — the class
median of the wrist speed in speech (median and 90th percentile) within ±35 % of the real
one, hand L1 diversity at least 70 % of it, wrist acceleration at most 1.2x — and the desk
host is given the calm style, whose wrists accelerate no more than 1.2x the real host's.
(Accelerations are on a 0.2 s Savitzky–Golay derivative: they compare motion, not
frame-to-frame shake.)

Before styles were read from the photo and voice, the procedural hands of this class had a
third of the speakers' hand L1 diversity (0.35x) and the desk host three times her wrist
speed (2.8x).

On two long speeches of ``data/audio`` the hands move with their own voice: the wrist–onset
coupling of the motion generated on its own audio stays clearly above that of the motion
generated on the other speech, and the still photo's is 0 (at 20 seeds on all eight speeches:
0.148, 0.021 and 0)."""

from __future__ import annotations

import numpy as np
import pytest

from gesticulate.audio.features import load_features
from gesticulate.evaluate.gestures import (generated_profile, load_real_clip, profile,
                                          speech_alignment)
from gesticulate.image import load_image
from gesticulate.skeleton.extract import extract_image
from gesticulate.motion import get_generator

pytestmark = pytest.mark.realdata
SEATED = ("hbr_speaker7", "hbr_speaker9", "hbr_speaker12")
CLIPS = (*SEATED, "talkshow_show_half")
# As benchmarks/gestures.py. One seed's median wrist speed in speech runs from 0.03 to 0.43
# sw/s on hbr_speaker12. With seeds 0-4 the class's speed ratio read 0.61 on a fresh
# install, for code that had passed on an earlier one; seeds 0-19 read 0.71 there, at 1 s
# more a clip.
SEEDS = 20


@pytest.fixture(scope="module")
def profiles(shared_data):
    gen = get_generator("procedural")
    out = {}
    for name in CLIPS:
        clip = load_real_clip(shared_data / "video" / f"{name}.mp4")
        style = gen.style_for(clip.features, clip.reference, image_size=clip.image_size).name
        out[name] = (profile(clip.skeleton.keypoints, clip),
                     generated_profile(gen, clip, seeds=range(SEEDS)), style)
    return out


def test_the_seated_interview_class_moves_like_its_speakers(profiles):
    def median(which: int, key: str) -> float:
        return float(np.median([profiles[c][which][key] for c in SEATED]))
    ratio = {k: median(1, k) / median(0, k)
             for k in ("speed_speech_median", "speed_speech_p90", "l1div_hands", "wrist_accel")}
    styles = [profiles[c][2] for c in SEATED]
    assert 0.65 <= ratio["speed_speech_median"] <= 1.35, (ratio, styles)
    assert 0.65 <= ratio["speed_speech_p90"] <= 1.35, (ratio, styles)
    assert ratio["l1div_hands"] >= 0.7, (ratio, styles)
    assert ratio["wrist_accel"] <= 1.2, (ratio, styles)


def test_the_desk_host_is_calm_and_steady(profiles):
    real, ours, style = profiles["talkshow_show_half"]
    assert style == "calm"
    assert ours["wrist_accel"] <= 1.2 * real["wrist_accel"], (ours, real)


def test_the_hands_follow_their_own_speech_not_another(shared_data):
    image = load_image(shared_data / "photo" / "desk_host_body.png")
    speeches = [load_features(shared_data / "audio" / f"{name}.wav")
                for name in ("beat_scott_0_2_2", "freemo_clip000040_TWeBl1yQ1oI")]
    rows = speech_alignment(get_generator("procedural"), extract_image(image),
                            image_size=(image.shape[1], image.shape[0]), speeches=speeches,
                            seeds=range(3))
    for r in rows:
        assert r["coupling"] > r["shuffled_coupling"] + 0.08, rows
        assert r["coupling"] > 0.1 and r["still_coupling"] == 0.0, rows
