"""Quality control of a candidate clip (CSG-405: skeleton quality, one speaker, A/V sync, speech).

Each check returns its scores (a dict of floats, stored in the manifest's ``qc``) and a reject
reason, ``""`` when the clip passes. Reasons read ``"<code>: <detail>"``; the code before the
colon is what reports group by.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gesticulate.errors import InputError
from gesticulate.skeleton.layout import (
    LEFT_HAND, LEFT_SHOULDER, NOSE, RIGHT_HAND, RIGHT_SHOULDER, UPPER_BODY_INDICES, FACE,
)


@dataclass(frozen=True)
class QCThresholds:
    """Limits of the quality checks (defaults tuned on ../shared/data/video, see report).

    Attributes
    ----------
    confidence : float
        A keypoint counts as seen above this confidence.
    min_upper_body : float
        Fraction of frames that must show nose, both shoulders and the face.
    min_hands : float
        Fraction of frames that must show at least one hand.
    max_multi_face : float
        Largest fraction of sampled frames allowed to show two or more faces.
    sync_tolerance_frames : int
        An estimated A/V offset up to this size is left as it is (the mouth opens a frame
        to four before the sound, so real in-sync clips estimate -1..-4).
    min_sync_score : float
        Correlation below which an offset estimate is not trusted (nothing is done).
    min_sync_margin : float
        The peak correlation must exceed the correlation at lag 0 by this much to be trusted.
    sync_policy : str
        ``"shift"``: move the audio by a trusted offset; ``"reject"``: reject such clips.
        Either way a trusted offset at the edge of the search (±15) is rejected.
    min_speech : float
        Fraction of frames the voice-activity detector must mark as speech.
    """

    confidence: float = 0.5
    min_upper_body: float = 0.8
    min_hands: float = 0.5
    max_multi_face: float = 0.25
    sync_tolerance_frames: int = 4
    min_sync_score: float = 0.2
    min_sync_margin: float = 0.25
    sync_policy: str = "shift"
    min_speech: float = 0.3


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def skeleton_quality(keypoints: np.ndarray, th: QCThresholds) -> tuple[dict, str]:
    """Enough confident upper-body, face and hand points? ``keypoints`` ``(T, 133, 3)``."""
    c = keypoints[..., 2] > th.confidence
    upper = c[:, NOSE] & c[:, LEFT_SHOULDER] & c[:, RIGHT_SHOULDER] & (c[:, FACE].mean(1) > 0.5)
    left = c[:, LEFT_HAND].mean(1) > 0.5
    right = c[:, RIGHT_HAND].mean(1) > 0.5
    scores = {
        "upper_body": float(upper.mean()),
        "hands": float((left | right).mean()),
        "both_hands": float((left & right).mean()),
        "keypoints_seen": float(c[:, UPPER_BODY_INDICES].mean()),
    }
    if scores["upper_body"] < th.min_upper_body:
        return scores, (f"skeleton_quality: face and shoulders seen in {_pct(scores['upper_body'])}"
                        f" of frames (need {_pct(th.min_upper_body)})")
    if scores["hands"] < th.min_hands:
        return scores, (f"skeleton_quality: hands seen in {_pct(scores['hands'])} of frames "
                        f"(need {_pct(th.min_hands)})")
    return scores, ""


def single_speaker(face_counts: np.ndarray, th: QCThresholds) -> tuple[dict, str]:
    """Exactly one person? ``face_counts`` ``(K,)``: faces found on the clip's sampled frames."""
    fc = np.asarray(face_counts, dtype=np.float64)
    if len(fc) == 0:
        return {"faces_mean": 0.0, "multi_face": 0.0}, ""
    multi = float((fc >= 2).mean())
    scores = {"faces_mean": float(fc.mean()), "multi_face": multi}
    if multi > th.max_multi_face:
        return scores, (f"multiple_speakers: two or more faces in {_pct(multi)} of sampled "
                        f"frames (allowed {_pct(th.max_multi_face)})")
    return scores, ""


def av_sync(keypoints: np.ndarray, audio: np.ndarray, *, sr: int, fps: float,
            th: QCThresholds, max_offset_frames: int = 15) -> tuple[dict, str, int]:
    """Audio–video offset from mouth opening vs. audio envelope (issue 3: ±15 frames).

    Returns
    -------
    scores : dict
        ``av_offset_frames`` (the estimate), ``av_sync_score`` (its correlation) and
        ``av_sync_score_at_0`` (the correlation with no offset); empty when the clip is too
        short for an estimate.
    reason : str
        Non-empty when the clip is rejected (policy ``"reject"`` and a trusted offset beyond
        the tolerance).
    shift_frames : int
        Frames to shift the audio by (policy ``"shift"``), 0 when none: the clip's audio is
        read from ``shift_frames`` frames later in the source (negative: earlier).
    """
    from gesticulate.metrics.sync import audio_envelope, mouth_opening, sync_curve

    mouth = mouth_opening(keypoints)
    env = audio_envelope(audio, sr=sr, fps=fps)[:len(mouth)]
    try:
        lags, corr = sync_curve(mouth, env, fps=fps, max_offset_frames=max_offset_frames)
    except InputError:  # clip too short to search ±max_offset_frames: no estimate
        return {}, "", 0
    i = int(np.argmax(corr))
    offset, score, at_zero = int(lags[i]), float(corr[i]), float(corr[lags == 0][0])
    scores = {"av_offset_frames": float(offset), "av_sync_score": score,
              "av_sync_score_at_0": at_zero}
    # Trusted only when the peak is both high and clearly above lag 0: on short real clips the
    # curve is flat and noisy, and a wrong shift would spoil a clip that was in sync.
    trusted = score >= th.min_sync_score and score - at_zero >= th.min_sync_margin
    if not trusted or abs(offset) <= th.sync_tolerance_frames:
        return scores, "", 0
    if th.sync_policy == "reject" or abs(offset) >= max_offset_frames:
        return scores, (f"av_sync: video lags audio by {offset:+d} frames "
                        f"(tolerance {th.sync_tolerance_frames}, search ±{max_offset_frames})"), 0
    # Positive offset: the mouth moves `offset` frames after the sound, so the audio is read
    # from `offset` frames earlier (shift = -offset) to line it up.
    return scores, "", -offset


def speech_present(vad: np.ndarray, th: QCThresholds) -> tuple[dict, str]:
    """Enough speech? ``vad`` ``(T,)``: per-frame speech probability."""
    frac = float((np.asarray(vad) > 0.5).mean()) if len(vad) else 0.0
    if frac < th.min_speech:
        return {"speech": frac}, (f"no_speech: speech in {_pct(frac)} of frames "
                                  f"(need {_pct(th.min_speech)})")
    return {"speech": frac}, ""
