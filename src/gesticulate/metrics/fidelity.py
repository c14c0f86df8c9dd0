"""Pose fidelity of rendered frames: re-detect the skeleton in what was rendered and compare
it with the skeleton that drove the render.

* **arm fidelity**: share of shoulder, elbow and wrist points (where the driving skeleton sees
  them) that the re-detection puts within ``0.2`` shoulder widths of where they were asked to
  be; a point not re-detected counts as a miss. A driving wrist without its hand is a guess
  (:func:`~gesticulate.metrics.gesture.guessed_wrists`, the rule of the gesture figures) and
  is not asked for: MediaPipe folds an arm hidden behind a lectern up over the upper arm
  (un_speech_female), and a render that drew that guess as a forearm (a flap of upper arm
  and dress swinging) scored better than one that left the arm hanging.
* **hands re-detected**: share of frames, per hand, in which the driving skeleton has the hand
  and the re-detection finds it too.
* **limb lengths**: upper-arm and forearm lengths of the re-detection over the photo's own
  (median, 5th and 95th percentile): a stretched or shrunken arm shows here.
"""

from __future__ import annotations

import numpy as np

from gesticulate.metrics.gesture import guessed_wrists
from gesticulate.skeleton import layout as L

ARM_POINTS = np.array([L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_ELBOW, L.RIGHT_ELBOW,
                       L.LEFT_WRIST, L.RIGHT_WRIST])
ARM_BONES = ((L.LEFT_SHOULDER, L.LEFT_ELBOW), (L.LEFT_ELBOW, L.LEFT_WRIST),
             (L.RIGHT_SHOULDER, L.RIGHT_ELBOW), (L.RIGHT_ELBOW, L.RIGHT_WRIST))
SEEN = 0.5
# A detected hand or face, whatever its graded confidence (skeleton.mediapipe_map grades them
# 0.35..1 by the pose model's agreement; a hand the detector found counts as found).
DETECTED = 0.3


def _hand_root(start: int) -> list[int]:
    """The wrist and the index, middle and little knuckles of the hand at ``start``."""
    return [start, start + L.HAND_INDEX[0], start + L.HAND_MIDDLE[0], start + L.HAND_LITTLE[0]]


def _hand_seen(kp: np.ndarray, start: int) -> np.ndarray:
    """``(T,)`` bool: the wrist and the index, middle and little knuckles were detected."""
    return (kp[:, _hand_root(start), 2] >= DETECTED).all(1)


def shoulder_widths(kp: np.ndarray) -> np.ndarray:
    """``(T,)`` shoulder width in pixels per frame, the clip's median where a shoulder is
    missing (NaN when never seen)."""
    sw = np.linalg.norm(kp[:, L.LEFT_SHOULDER, :2] - kp[:, L.RIGHT_SHOULDER, :2], axis=1)
    ok = (kp[:, [L.LEFT_SHOULDER, L.RIGHT_SHOULDER], 2] >= SEEN).all(1) & (sw > 1)
    fill = float(np.median(sw[ok])) if ok.any() else np.nan
    return np.where(ok, sw, fill)


def pose_fidelity(redetected: np.ndarray, driving: np.ndarray, *, tolerance: float = 0.2,
                  not_asked: np.ndarray | None = None,
                  size: tuple[int, int] | None = None) -> dict[str, float]:
    """Compare a re-detection ``(T, 133, 3)`` with the driving skeleton ``(T, 133, 3)``.

    Both in pixels of the same frame. Returns ``arm_fidelity`` (0..1), ``hands_redetected``
    (0..1, NaN when the driving skeleton never has a hand) and the frame counts behind them.
    ``not_asked`` ``(6,)`` bool per :data:`ARM_POINTS`: points left out of the arm fidelity
    (e.g. those the detector loses on the still photo itself); their shoulders still give the
    scale. ``size`` ``(w, h)``: the video's; a driving point outside it is not asked for (a
    generated close-up's elbow sliding out past the frame's corner is there in the video, out
    of sight, and no detector finds it); a re-detected point past it (whose confidence the
    skeleton caps there) counts as found. A driving hand with its wrist or a knuckle outside
    it is not asked for either: a generated lectern speaker's hand that drops, as hers does,
    past the frame's bottom edge is out of sight, and no detector finds it (un_speech_female,
    retrieval motion: 33 of her hand's 300 frames).
    """
    t = min(len(redetected), len(driving))
    red, drv = np.asarray(redetected[:t], np.float64), np.asarray(driving[:t], np.float64)
    sw = shoulder_widths(drv)[:, None]
    want = drv[:, ARM_POINTS, 2] >= SEEN
    want[:, [4, 5]] &= ~guessed_wrists(drv)          # ARM_POINTS[4:6]: the wrists
    if not_asked is not None:
        want[:, np.asarray(not_asked, bool)] = False
    got = red[:, ARM_POINTS, 2] >= SEEN
    if size is not None:
        want &= L.inside(drv[:, ARM_POINTS], size, 0.0)
        # Found just past the frame's edge: the skeleton caps such a point's confidence
        # (mediapipe_map.OUTSIDE_CONFIDENCE) so nothing draws it, but the detector placed it,
        # and within the tolerance of a driving point on the border it is where it was asked to
        # be (avspeech_sample1's generated elbow, 3 px above the bottom edge near the corner,
        # found just past the corner).
        got |= ~L.inside(red[:, ARM_POINTS], size, 0.0) & (red[:, ARM_POINTS, 2] > 0)
    err = np.linalg.norm(red[:, ARM_POINTS, :2] - drv[:, ARM_POINTS, :2], axis=2)
    hit = got & (err <= tolerance * sw)
    hands_want = hands_hit = 0
    for start in (L.LEFT_HAND_START, L.RIGHT_HAND_START):
        w = _hand_seen(drv, start)
        if size is not None:
            w &= L.inside(drv[:, _hand_root(start)], size, 0.0).all(1)
        hands_want += int(w.sum())
        hands_hit += int((w & _hand_seen(red, start)).sum())
    return {"arm_fidelity": float(hit[want].mean()) if want.any() else float("nan"),
            "arm_points": int(want.sum()),
            "hands_redetected": hands_hit / hands_want if hands_want else float("nan"),
            "hand_frames": hands_want}


def limb_length_ratio(keypoints: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Arm bone lengths of ``keypoints`` ``(T, 133, 3)`` over the same bones of ``reference``
    ``(133, 3)``: median, 5th and 95th percentile over the frames and bones both see."""
    kp = np.asarray(keypoints, np.float64)
    ref = np.asarray(reference, np.float64)
    ratios = []
    for a, b in ARM_BONES:
        if min(ref[a, 2], ref[b, 2]) < SEEN:
            continue
        base = np.linalg.norm(ref[a, :2] - ref[b, :2])
        ok = (kp[:, a, 2] >= SEEN) & (kp[:, b, 2] >= SEEN)
        if base < 2 or not ok.any():
            continue
        ratios.append(np.linalg.norm(kp[ok, a, :2] - kp[ok, b, :2], axis=1) / base)
    if not ratios:
        return {"limb_ratio_p50": float("nan"), "limb_ratio_p5": float("nan"),
                "limb_ratio_p95": float("nan")}
    r = np.concatenate(ratios)
    return {"limb_ratio_p50": float(np.median(r)), "limb_ratio_p5": float(np.percentile(r, 5)),
            "limb_ratio_p95": float(np.percentile(r, 95))}
