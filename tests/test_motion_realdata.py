"""Procedural gestures against real speakers (needs ../shared/data): on two sample clips,
the generator's wrist speed during speech is of the same order as the speakers' own.

Before the 2026-11 retune the procedural wrists moved 3-5x slower than real speakers'."""

from __future__ import annotations

import numpy as np
import pytest

from gesticulate.audio.features import load_features
from gesticulate.motion import get_generator
from gesticulate.motion import gestures as G
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.extract import extract_video

pytestmark = pytest.mark.realdata
FPS = 25.0
CLIPS = ("hbr_speaker7", "hbr_speaker9")


def speech_wrist_speeds(kp: np.ndarray, feats) -> np.ndarray:
    """Wrist speeds (shoulder widths/s) of confidently seen wrists in speech frames."""
    n = min(len(kp), feats.num_frames)
    kp = kp[:n]
    sw = np.median(L.shoulder_width(kp))
    speech = G.speech_activity(np.asarray(feats.vad, float)[:n], np.asarray(feats.rms, float)[:n],
                               fps=FPS) > 0.5
    out = []
    for w in (L.LEFT_WRIST, L.RIGHT_WRIST):
        ok = kp[:, w, 2] > 0.3
        v = np.linalg.norm(np.diff(kp[:, w, :2], axis=0), axis=1) * FPS / sw
        out.append(v[ok[1:] & ok[:-1] & speech[1:]])
    return np.concatenate(out)


@pytest.fixture(scope="module")
def speeds(shared_data):
    gen = get_generator("procedural")
    real, proc = [], []
    for clip in CLIPS:
        path = shared_data / "video" / f"{clip}.mp4"
        seq = extract_video(path, fps=FPS, progress=False)
        feats = load_features(path, fps=FPS)
        real.append(speech_wrist_speeds(seq.keypoints, feats))
        for seed in (0, 1, 2):   # one seed's p90 swings 0.9-2.1 sw/s on hbr_speaker9
            motion = gen.generate(feats, seq.keypoints[0], image_size=seq.image_size, seed=seed)
            proc.append(speech_wrist_speeds(motion.keypoints, feats))
    return np.concatenate(real), np.concatenate(proc)


def test_wrist_speed_matches_real_speakers(speeds):
    real, proc = speeds
    assert real.size > 50 and proc.size > 50
    r90, p90 = np.percentile(real, 90), np.percentile(proc, 90)
    assert 0.5 * r90 <= p90 <= 2.0 * r90, (p90, r90)


def test_the_lectern_speakers_resting_arm_stays_and_the_raised_one_gestures(shared_data):
    """un_speech_female's first frame: her left arm rests below the frame (elbow on the bottom
    edge, the wrist guessed inside at confidence 0), her right hand is raised at her chest.
    Lifted by the elbow, the left arm lost its elbow to MediaPipe on the border (arm fidelity
    0.886 in benchmarks/gesture_integrity.py); it stays with the torso, and the right one moves."""
    from gesticulate.evaluate.media import first_frame
    from gesticulate.motion.arms import arm_mode
    from gesticulate.motion.base import seen_points
    from gesticulate.motion.kinematics import ARMS
    from gesticulate.skeleton.extract import extract_image
    path = shared_data / "video" / "un_speech_female.mp4"
    image = first_frame(path)
    ref = extract_image(image)
    size = (image.shape[1], image.shape[0])
    seen = seen_points(ref, size, min_confidence=0.3)
    assert {a.side: arm_mode(a, ref, seen, size) for a in ARMS} == {"left": None, "right": "free"}
    feats = load_features(path, fps=FPS)
    kp = get_generator("procedural").generate(feats, ref, image_size=size, seed=0).keypoints
    # The upper arm turns with the shoulders' line only (20.6 degrees of swing against it when
    # the elbow was lifted).
    upper = kp[:, L.LEFT_ELBOW, :2] - kp[:, L.LEFT_SHOULDER, :2]
    line = kp[:, L.RIGHT_SHOULDER, :2] - kp[:, L.LEFT_SHOULDER, :2]
    turn = np.arctan2(upper[:, 1], upper[:, 0]) - np.arctan2(line[:, 1], line[:, 0])
    assert np.ptp(np.degrees(turn)) < 0.5
    right = kp[:, L.RIGHT_WRIST, :2]
    assert np.abs(right - right[0]).max() > 0.1 * float(L.shoulder_width(ref))
