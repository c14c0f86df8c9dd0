"""Tracker glitches out of a motion: low confidence, points that jump for a few frames,
impossible limbs, hands torn off their wrist (RENDERING.md, "Missing points").

Dropped points keep their coordinates and get confidence 0; filling the gaps is
:func:`gesticulate.skeleton.tracks.fill`'s job.
"""

from __future__ import annotations

import warnings

import numpy as np

from gesticulate.skeleton import layout as L
from gesticulate.skeleton.tracks import SHORT_GAP_S, odd, runs

MISSING = 0.3            # below this confidence a point is not seen
ARMS = {
    "left": (L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_HAND_START),
    "right": (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST, L.RIGHT_HAND_START),
}
JAW_WIDTH = (L.face(0), L.face(16))


# A photo's arm that hangs out of the picture (below the frame, behind a lectern) is guessed by
# MediaPipe with its forearm folded back up over the upper arm: the wrist lands on the upper
# arm's own pixels, at 0.99 confidence, with no hand found there (un_speech_female's left
# arm, its elbow behind the lectern). Rigged and moved, that "forearm" swung a flap of upper
# arm and dress. An elbow this near the bottom edge (share of the height) and a forearm folded
# this tight (degrees), with no hand found, mark the wrist as guessed. A real folded arm shows
# its hand (hbr_speaker12, 15-17 degrees, both hands found) or its elbow well inside the
# frame (interview_1wrQ6Msp7wM, 24 degrees, hand not found, elbow at 0.78 of the height).
GUESS_EDGE = 0.1
GUESS_FOLD = 30.0


def drop_folded_guesses(ref: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A photo's skeleton ``(133, 3)`` with each wrist MediaPipe guessed for an arm hanging
    out of the picture (:data:`GUESS_EDGE`, :data:`GUESS_FOLD`) made unseen, its hand too."""
    out = np.array(ref, np.float32, copy=True)
    h = size[1]
    for sh, el, wr, hand in ARMS.values():
        if L.hand_found(out, slice(hand, hand + 21), MISSING):
            continue
        if out[[sh, el, wr], 2].min() < MISSING:
            continue
        if out[el, 1] < (1.0 - GUESS_EDGE) * h:
            continue
        a, b = out[sh, :2] - out[el, :2], out[wr, :2] - out[el, :2]
        cos = float(a @ b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-9)
        if np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))) < GUESS_FOLD:
            out[wr, 2] = 0.0
            out[hand:hand + 21, 2] = 0.0
    return out


def all_seen(kp: np.ndarray, idx) -> np.ndarray:
    """``(T,)`` bool: all points ``idx`` of ``(T, 133, 3)`` seen."""
    return (kp[:, np.atleast_1d(idx), 2] >= MISSING).all(1)


# Frames per block of the jump filter: its windows are materialised, (frames, points, 2,
# window) at a time; in one block, 15 000 frames (10 minutes) held 0.9 GB.
HAMPEL_BLOCK = 1024


def _hampel(xy: np.ndarray, ok: np.ndarray, *, floor: float, window: int = 7) -> np.ndarray:
    """Outliers ``(T, J)`` of tracks ``(T, J, 2)`` seen where ``ok``: further from the median
    of their window than ``max(floor, 4.4 * MAD)`` (a jump shorter than half the window is
    outvoted). Computed :data:`HAMPEL_BLOCK` frames at a time (the same result)."""
    t = len(xy)
    bad = np.zeros(ok.shape, bool)
    if t < window:
        return bad
    half = window // 2
    vals = np.where(ok[..., None], xy, np.nan)
    padded = np.pad(vals, ((half, half), (0, 0), (0, 0)), constant_values=np.nan)
    for a in range(0, t, HAMPEL_BLOCK):
        b = min(t, a + HAMPEL_BLOCK)
        win = np.lib.stride_tricks.sliding_window_view(padded[a:b + 2 * half], window,
                                                       axis=0)               # (n, J, 2, W)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)      # all-NaN windows
            med = np.nanmedian(win, axis=-1)                                   # (n, J, 2)
            dev = np.linalg.norm(win - med[..., None], axis=2)                # (n, J, W)
            mad = np.nanmedian(dev, axis=-1)
            count = (~np.isnan(win[:, :, 0, :])).sum(-1)
        err = np.linalg.norm(xy[a:b] - med, axis=-1)
        bad[a:b] = ok[a:b] & (count >= 4) & (err > np.maximum(floor, 4.4 * np.nan_to_num(mad)))
    return bad


HAND_SPEED = 6.0         # shoulder widths per second: faster than a hand moves is a glitch
# A hand found for a moment only (a run of frames under HAND_MOMENT_S seconds, far from any
# other: moments) is the tracker's guess on a blur or a hand crossing the frame's edge: drawn,
# a hand the photo shows unread or not at all (render/warp/borrowed.py, lent.py) would flash
# in for that moment.
HAND_MOMENT_S = 0.1
# A wrist that snaps onto its elbow while its hand is lost is a tracker glitch, not a forearm
# pointing at the camera: a run of at most COLLAPSE_S with the forearm under COLLAPSE of its
# 90th percentile, down to under SNAP of it. interview_1wrQ6Msp7wM's left wrist fell onto her
# elbow twice for 3 frames (the forearm 40-44 -> 2-3 px) as her hand turned, and the render
# swung her forearm 41 degrees down. On the 12 shared clips' 24 forearms 5 runs qualify
# (interview 2, ted_lia_driving1 2, un_speech_female 1); the nearest run kept reaches 0.080.
COLLAPSE = 0.5
COLLAPSE_S = 0.3
SNAP = 0.08


# A bone that turns over by more than FLIP (radians) about its parent joint for at most FLIP_S
# and then comes back (within FLIP / 2 of where it was) is a tracker glitch: no forearm turns
# half round and back in a tenth of a second. interview_1wrQ6Msp7wM's left wrist flipped below
# her elbow for one frame (173 degrees there, 146 back), a jump under the Hampel filter's floor.
FLIP = np.pi / 2
FLIP_S = 0.1


def _flips(angle: np.ndarray, ok: np.ndarray, *, fps: float) -> np.ndarray:
    """Frames ``(T,)`` where a bone's ``angle`` (radians, seen where ``ok``: the caller leaves
    out a bone too short to have a direction) turned over and back (:data:`FLIP`, runs of at
    most :data:`FLIP_S`; none below 1 / FLIP_S frames per second)."""
    t = len(angle)
    out = np.zeros(t, bool)

    def apart(x, y):
        return np.abs(np.angle(np.exp(1j * (x - y))))

    for k in range(1, int(FLIP_S * fps + 1e-6) + 1):
        if t < k + 2:
            break
        i = np.arange(1, t - k)                        # the run i .. i+k-1, between i-1 and i+k
        hit = ok[i - 1] & ok[i + k] & (apart(angle[i - 1], angle[i + k]) < FLIP / 2)
        for j in range(k):
            hit &= ok[i + j] & (apart(angle[i + j], angle[i - 1]) > FLIP) \
                & (apart(angle[i + j], angle[i + k]) > FLIP)
        for j in range(k):
            out[i[hit] + j] = True
    return out


def clean(keypoints: np.ndarray, *, fps: float) -> np.ndarray:
    """Drop tracker glitches: low confidence, jumps of a few frames (about 0.1 s), impossible
    limbs, a limb turned over and back (:data:`FLIP`), a wrist snapped onto its elbow
    (:data:`SNAP`), hands that left their wrist, hands found for a moment only
    (:data:`HAND_MOMENT_S`). Returns a copy ``(T, 133, 3)`` with dropped points at
    confidence 0.

    The jump filter works in seconds, not frames: its window spans about 0.23 s (7 frames at
    30 fps, 5 at 10 fps), and a point is dropped only if it left its neighbours further than a
    hand moves in half that window, so a real beat at a low frame rate is kept."""
    kp = np.array(keypoints, np.float64)
    bad = ~np.isfinite(kp).all(-1)
    kp[bad] = 0.0
    kp[..., 2] = np.where(kp[..., 2] >= MISSING, np.clip(kp[..., 2], 0, 1), 0.0)
    sw = scale_of(kp)
    if not np.isfinite(sw):
        return kp
    seen = kp[..., 2] > 0
    window = odd(0.23 * fps, lo=5)
    floor = max(0.4, HAND_SPEED * (window // 2) / fps) * sw
    glitch = _hampel(kp[..., :2], seen, floor=floor, window=window)
    # A hand moves as one: when a third of its points jump, the whole hand is suspect.
    for start in (L.LEFT_HAND_START, L.RIGHT_HAND_START):
        sl = slice(start, start + 21)
        many = glitch[:, sl].sum(1) >= 7
        glitch[many, sl] = True
    kp[glitch, 2] = 0.0
    for shoulder, elbow, wrist, hand in ARMS.values():
        for a, b in ((shoulder, elbow), (elbow, wrist)):
            ok = all_seen(kp, [a, b])
            length = np.linalg.norm(kp[:, a, :2] - kp[:, b, :2], axis=1)
            if ok.sum() >= 3:
                # Longer than the limb ever is: against its 90th percentile, not its median
                # (an arm foreshortened most of the clip is still whole when it stretches out).
                too_long = ok & (length > 1.5 * np.percentile(length[ok], 90))
                kp[too_long, b, 2] = 0.0
                # Turned over and back; a bone foreshortened to a few pixels has no direction
                # (a forearm pointing at the camera, its angle the tracker's jitter).
                v = kp[:, b, :2] - kp[:, a, :2]
                long_enough = length >= SNAP * np.percentile(length[ok], 90)
                kp[_flips(np.arctan2(v[:, 1], v[:, 0]), ok & ~too_long & long_enough, fps=fps),
                   b, 2] = 0.0
        ok = all_seen(kp, [elbow, wrist])
        if ok.sum() >= 3:
            fore = np.linalg.norm(kp[:, elbow, :2] - kp[:, wrist, :2], axis=1)
            full = np.percentile(fore[ok], 90)
            collapsed = ok & ~all_seen(kp, [hand]) & (fore < COLLAPSE * full)
            # A run is timed across the frames not seen in it: a forearm held at the camera
            # for a second, its wrist flickering below confidence, is not a string of snaps.
            for a, b in runs(collapsed | ~ok):
                snap = collapsed[a:b]
                if snap.any() and b - a <= COLLAPSE_S * fps and fore[a:b][snap].min() < SNAP * full:
                    kp[a:b, wrist, 2] = np.where(snap, 0.0, kp[a:b, wrist, 2])
        # The hand's own wrist must sit at the arm's wrist (not a swapped or lost hand).
        ok = all_seen(kp, [wrist, hand])
        gap = np.linalg.norm(kp[:, wrist, :2] - kp[:, hand, :2], axis=1)
        kp[ok & (gap > 0.35 * sw), hand:hand + 21, 2] = 0.0
        kp[~all_seen(kp, hand), hand:hand + 21, 2] = 0.0
        kp[moments(all_seen(kp, hand), fps=fps), hand:hand + 21, 2] = 0.0
    return kp


def moments(found: np.ndarray, *, fps: float) -> np.ndarray:
    """``(T,)`` bool: the frames of each run of ``found`` shorter than :data:`HAND_MOMENT_S`
    with more than :data:`~gesticulate.skeleton.tracks.SHORT_GAP_S` without it on both sides
    (a nearer run is joined to it by the gap's filling, :func:`~gesticulate.skeleton.tracks.
    fill`); not one at the motion's start or end."""
    out = np.zeros(len(found), bool)
    spans = runs(found)
    far = SHORT_GAP_S * fps
    for k, (a, b) in enumerate(spans):
        # Frames without it before and after (none at the motion's start or end).
        before = a - spans[k - 1][1] if k else (np.inf if a > 0 else 0)
        after = spans[k + 1][0] - b if k + 1 < len(spans) else (np.inf if b < len(found) else 0)
        out[a:b] = b - a < HAND_MOMENT_S * fps and min(before, after) > far
    return out


def scale_of(kp: np.ndarray) -> float:
    """Median shoulder width of a sequence ``(T, 133, 3)``, or 2.2 face widths without
    shoulders; NaN when neither is seen."""
    ok = all_seen(kp, [L.LEFT_SHOULDER, L.RIGHT_SHOULDER])
    sw = np.linalg.norm(kp[:, L.LEFT_SHOULDER, :2] - kp[:, L.RIGHT_SHOULDER, :2], axis=1)
    ok &= sw > 1
    if ok.sum() >= max(1, 0.2 * len(kp)):
        return float(np.median(sw[ok]))
    fw = face_width(kp)
    return 2.2 * fw if np.isfinite(fw) else float("nan")


def face_width(kp: np.ndarray) -> float:
    ok = all_seen(kp, list(JAW_WIDTH))
    w = np.linalg.norm(kp[:, JAW_WIDTH[0], :2] - kp[:, JAW_WIDTH[1], :2], axis=1)
    ok &= w > 1
    return float(np.median(w[ok])) if ok.any() else float("nan")
