"""How much the face, the lips and the hands move, frame by frame (MMGT's motion masks).

MMGT's stage 1 predicts, besides the pose, *motion masks*: where in the frame the face, the
lips and the hands move, so that stage 2 attends to the audio there and not on a still part.
Here a region's mask is its shape (:func:`gesticulate.render.conditions.motion_masks`: the
hull of its points over a short sweep of frames) weighted by its **activity** in 0..1, which
this module measures on a skeleton: ``1 - exp(-v / ACTIVITY_SPEED[region])`` for the region's
speed ``v`` in shoulder widths per second, each region measured in its own frame so that a
part's activity is its own motion:

* face: the 68 face points relative to the neck (head turns, nods, expressions);
* lips: the 20 lip points relative to the nose tip (the mouth opening and closing, not the
  head carrying it);
* hands: each hand's 21 points relative to the neck; the faster hand counts.

The same numbers are the training targets of MotionDiT's mask head (``mask_head``), the
diffusion renderer's mask weights in training, and, when a motion has no predicted activity,
what the renderer measures on the motion it is given.
"""

from __future__ import annotations

import numpy as np

from gesticulate.skeleton import layout as L
from gesticulate.skeleton.normalize import LOCAL_ROW, to_local

ACTIVITY_REGIONS = ("face", "lips", "hands")
# Speed (shoulder widths / s) at which a region's activity is 1 - 1/e. The median speeds on 9
# clips of the shared videos (the points smoothed as below) are face 0.05-0.12, lips
# 0.03-0.07, hands 0.15-0.62 (a hand at rest, tracked, still drifts): at these scales a region
# moving at its clip's median speed is about 0.3-0.7 active, a gesturing hand (1 sw/s) 0.86.
ACTIVITY_SPEED = {"face": 0.15, "lips": 0.08, "hands": 0.5}
SMOOTH_S = 0.2         # points and speeds averaged over this long: a mask follows a gesture,
                       # not a tracker's jitter
SEEN = 0.3             # confidence above which a point counts as seen (DWPose's threshold)

_NOSE = LOCAL_ROW[L.face(30)]
_ROWS = {"face": LOCAL_ROW[L.FACE], "lips": LOCAL_ROW[list(L.LIPS)],
         "left_hand": LOCAL_ROW[L.LEFT_HAND], "right_hand": LOCAL_ROW[L.RIGHT_HAND]}


def _speed(points: np.ndarray, seen: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean speed ``(T,)`` of ``points`` ``(T, N, 2)`` over those seen in both frames of each
    step, and whether any was; frame 0 repeats frame 1's step."""
    both = seen[1:] & seen[:-1]                                            # (T-1, N)
    step = np.linalg.norm(np.diff(points, axis=0), axis=-1) * fps          # (T-1, N)
    n = both.sum(-1)
    v = np.where(both, step, 0.0).sum(-1) / np.maximum(n, 1)
    v, ok = np.r_[v[:1], v], np.r_[n[:1], n] > 0
    return v, ok


def _moving_mean(v: np.ndarray, ok: np.ndarray, k: int, *, symmetric: bool = False) -> np.ndarray:
    """Mean of ``v`` ``(T, ...)`` over the ``ok`` ``(T, ...)`` frames of a centred window of
    ``2k + 1`` (along the first axis): cut short at the ends, or with ``symmetric`` narrowed
    there to stay centred (the first and last frames stay as they are, so a clip shorter than
    the window keeps its motion)."""
    if k <= 0:
        return v
    t = len(v)
    i = np.arange(t)
    r = np.minimum(k, np.minimum(i, t - 1 - i)) if symmetric else np.full(t, k)
    lo, hi = np.clip(i - r, 0, t), np.clip(i + r + 1, 0, t)

    def window_sum(x):
        c = np.cumsum(np.concatenate([np.zeros((1,) + x.shape[1:]), x]), axis=0)
        return c[hi] - c[lo]

    return window_sum(np.where(ok, v, 0.0)) / np.maximum(window_sum(ok.astype(np.float64)), 1e-9)


def activity_from_local(local: np.ndarray, visible: np.ndarray, *, fps: float
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Activity ``(T, 3)`` in 0..1 of face, lips and hands (:data:`ACTIVITY_REGIONS`) of local
    coordinates ``(T, 121, 2)`` (shoulder widths about the neck) whose points ``visible``
    ``(T, 121)`` (bool, or a confidence above 0.5) are seen, and ``(T, 3)`` bool: where the
    region was seen at all (elsewhere its activity is 0 and means nothing)."""
    local = np.asarray(local, np.float64)
    seen = np.asarray(visible) > 0.5
    t = len(local)
    act, where = np.zeros((t, 3)), np.zeros((t, 3), bool)
    if t < 2:
        return act.astype(np.float32), where
    k = int(round(SMOOTH_S * fps / 2))
    # The points are smoothed first: a tracker's jitter is a speed too, and would make a hand
    # resting on a knee look half active.
    local = _moving_mean(local, np.repeat(seen[..., None], 2, -1), k, symmetric=True)
    parts = {"face": (local[:, _ROWS["face"]], seen[:, _ROWS["face"]]),
             "lips": (local[:, _ROWS["lips"]] - local[:, _NOSE, None],
                      seen[:, _ROWS["lips"]] & seen[:, _NOSE, None])}
    for r, name in enumerate(ACTIVITY_REGIONS):
        if name == "hands":
            both = [_speed(local[:, _ROWS[h]], seen[:, _ROWS[h]], fps)
                    for h in ("left_hand", "right_hand")]
            v = np.max([np.where(ok, s, 0.0) for s, ok in both], axis=0)
            ok = both[0][1] | both[1][1]
        else:
            v, ok = _speed(*parts[name], fps)
        v = _moving_mean(v, ok, k)
        act[:, r] = np.where(ok, 1.0 - np.exp(-v / ACTIVITY_SPEED[name]), 0.0)
        where[:, r] = ok
    return act.astype(np.float32), where


def region_activity(keypoints: np.ndarray, *, fps: float) -> np.ndarray:
    """Activity ``(T, 3)`` of face, lips and hands of pixel keypoints ``(T, 133, 3)`` at
    ``fps`` (:func:`activity_from_local`; 0 where a region is not seen)."""
    local, conf = to_local(np.asarray(keypoints, np.float32))
    return activity_from_local(local, conf > SEEN, fps=fps)[0]
