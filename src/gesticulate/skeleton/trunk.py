"""The trunk's travel read from the chest's texture, for skeletons extracted from video.

MediaPipe's shoulder points ride up and sideways with the arms (a shrug as a hand rises) by a
few percent of the shoulder width while the jacket below them stays put, and they miss the
trunk's real sway of a few pixels. So the retarget holds a motion's trunk still inside a dead
zone (:data:`gesticulate.skeleton.retarget.TRUNK_STILL`), which also froze the real sway:
hbr_speaker7's chest moves 3 px down and to the side while his shoulder points move 6 px the
other way, and his render, its torso held still, was further from the real frames than the
photo itself (SSIM -0.004 on the most-moved frames).

:class:`TrunkTracker` follows the chest's texture: corners (Shi–Tomasi) in the chest of the
first frame with shoulders, between and below them and away from the arms and hands, tracked by
pyramidal Lucas–Kanade from that frame to each later one (no drift; the last travel is the
starting guess), kept when the forward–backward check agrees within half a pixel and no arm or
hand of the frame covers them; the travel is the median over those that move together.
:func:`steady_trunk` then moves the shoulders and hips so the neck travels with the chest, in
the frames where the texture and MediaPipe agree within :data:`TRUST` shoulder widths (a
speaker who walks or turns leaves the first frame's texture behind; MediaPipe is right about
large moves); the correction is interpolated between such frames and fades away from them
(:data:`HOLD_S`, :data:`FADE_S`). A sequence whose chest is followed in half its frames or
more says so in its ``confidence_source`` (:data:`TRACKED`), and the retarget then keeps the
trunk's small travel instead of its dead zone; one that is not is left as MediaPipe gave it.

A long video (the dataset builder tracks whole ones, minutes long, and cuts clips afterwards)
leaves any one frame's texture behind: the tracker takes a new anchor every
:data:`REANCHOR_S` (``reanchor``: the chest's corners picked again on a followed frame, the
travel carried on from it) and starts afresh, as a new *epoch* with its own origin, after it
has lost the chest for as long (a cut, a turn); :func:`steady_trunk` reads the first epoch from
its first frame and aligns each later one with MediaPipe on the median.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from gesticulate.skeleton import layout as L
from gesticulate.skeleton.clean import MISSING

MAX_POINTS = 150        # corners followed in the chest (with 300: self-reenactment PSNR within
                        # 0.04 dB on the shared clips, at twice the time)
MIN_POINTS = 6          # fewer chest points seen: no travel for the frame
# ... or fewer than this share of the first frame's points (an arm across a plain shirt leaves
# a few at its edges, dragged with the jacket: hbr_speaker12), or fewer than this share of
# those seen moving together (a rigid shift moves them all; his did 0.0-0.5, the others'
# 0.7-1.0 in most frames).
MIN_SEEN = 0.1
MIN_AGREE = 0.6
TRUST = 0.1             # shoulder widths: the chest's and MediaPipe's neck travel must agree
# Between the frames where they agree the correction is interpolated: whole up to HOLD_S from
# the nearest such frame, gone from HOLD_S + FADE_S on (MediaPipe's own travel there).
HOLD_S = 0.1
FADE_S = 0.3
MIN_SHARE = 0.5         # frames followed (of those with shoulders) for a sequence to use it
WORK_SIDE = 640         # frames are followed at most this large (longer side, pixels)
# A track takes a new anchor after this long followed, and starts afresh after this long lost
# (TrunkTracker's reanchor; extract, the dataset builder and the reenactment harness): about as
# long as a speaker's chest keeps its look. Against one anchor, the seated shared clips' (2-7 s)
# self-reenactment moved by -0.05 to +0.02 dB, and the standing ted_lia_driving1 and 3 gained
# +0.22 and +0.17 dB (his chest, as he walks, is followed now).
REANCHOR_S = 2.0
ARM_HALF = 0.13         # shoulder widths: half-width of an arm where chest points are dropped
TRACKED = ("trunk", "travel from the chest's texture (Lucas-Kanade optical flow) where it "
                    "agrees with MediaPipe's shoulders")
_SHOULDERS = [L.LEFT_SHOULDER, L.RIGHT_SHOULDER]
_LK = dict(winSize=(21, 21), maxLevel=3,
           criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))


def _seen(kp: np.ndarray, idx) -> bool:
    return bool((kp[idx, 2] >= MISSING).all())


def is_tracked(source: dict | None) -> bool:
    """Whether a sequence's ``confidence_source`` says its trunk travels with the chest."""
    return TRACKED[0] in (source or {})


def arms_mask(kp: np.ndarray, shape: tuple[int, int], sw: float) -> np.ndarray:
    """Pixels ``(H, W)`` bool covered by the arms and hands of one frame's keypoints: bands
    :data:`ARM_HALF` shoulder widths either side of the seen bones, discs on the wrists and
    the hulls of the seen hands."""
    m = np.zeros(shape, np.uint8)
    r = max(2, int(round(ARM_HALF * sw)))

    def pt(i):
        return tuple(int(round(v)) for v in kp[i, :2])
    for a, b in ((L.LEFT_SHOULDER, L.LEFT_ELBOW), (L.LEFT_ELBOW, L.LEFT_WRIST),
                 (L.RIGHT_SHOULDER, L.RIGHT_ELBOW), (L.RIGHT_ELBOW, L.RIGHT_WRIST)):
        if _seen(kp, [a, b]):
            cv2.line(m, pt(a), pt(b), 1, 2 * r)
    for w in (L.LEFT_WRIST, L.RIGHT_WRIST):
        if _seen(kp, [w]):
            cv2.circle(m, pt(w), 2 * r, 1, -1)
    for hand in (L.LEFT_HAND, L.RIGHT_HAND):
        if L.hand_found(kp, hand):
            ok = kp[hand, 2] >= MISSING
            cv2.fillConvexPoly(m, cv2.convexHull(kp[hand][ok, :2].astype(np.float32))
                               .astype(np.int32), 1)
    return m > 0


class TrunkTracker:
    """Feed RGB frames and their keypoints in order; get the chest's travel per frame.

    :meth:`update` returns ``(dx, dy)`` in pixels from the first frame with both shoulders
    seen and enough corners in the chest (``(0, 0)`` on it), or NaNs where the chest is not
    followed (no person yet, too few points seen or moving together). An OpenCV error on a
    frame (none is expected) leaves that frame NaN: the trunk is a refinement, and the
    extraction goes on without it.

    ``reanchor`` (frames; None: never): after this many frames followed from one anchor, the
    next followed frame becomes the anchor (its corners picked again, the travel carried on
    from it), and after this many frames in a row not followed the tracker starts afresh on the
    next frame with shoulders, as a new epoch whose travel has its own origin
    (:attr:`epochs`).
    """

    def __init__(self, *, reanchor: int | None = None) -> None:
        if reanchor is not None and reanchor < 1:
            raise ValueError(f"reanchor must be at least 1 frame; got {reanchor}")
        self.reanchor = reanchor
        self._g0 = None
        self._p0 = None
        self._sw = 0.0
        self._guess = np.zeros(2, np.float32)
        self._base = np.zeros(2)       # the travel at the anchor
        self._since = 0                # frames followed from the anchor
        self._lost = 0                 # frames in a row not followed
        self._epoch = 0
        self._travel: list[np.ndarray] = []
        self._epochs: list[int] = []

    @property
    def travel(self) -> np.ndarray:
        """The travel of every frame given so far, ``(T, 2)``."""
        return np.array(self._travel, dtype=np.float64).reshape(-1, 2)

    @property
    def epochs(self) -> np.ndarray:
        """The epoch of every frame given so far ``(T,)``: travels of one epoch share an
        origin; those of different epochs do not compare."""
        return np.array(self._epochs, dtype=np.int64)

    def _start(self, gray: np.ndarray, kp: np.ndarray) -> bool:
        h, w = gray.shape
        sw = float(L.shoulder_width(kp))
        if sw < 8:
            return False
        c = L.neck(kp)
        x0, x1 = int(max(0, c[0] - 0.45 * sw)), int(min(w, c[0] + 0.45 * sw))
        y0, y1 = int(max(0, c[1] - 0.05 * sw)), int(min(h, c[1] + 0.9 * sw))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return False
        mask = np.zeros((h, w), np.uint8)
        mask[y0:y1, x0:x1] = 255
        mask[arms_mask(kp, (h, w), sw)] = 0
        pts = cv2.goodFeaturesToTrack(gray, MAX_POINTS, 0.005, max(3, int(0.03 * sw)), mask=mask)
        if pts is None or len(pts) < MIN_POINTS:
            return False
        self._g0, self._p0, self._sw = gray, pts.astype(np.float32), sw
        return True

    def update(self, frame: np.ndarray, kp: np.ndarray) -> np.ndarray:
        """The chest's travel ``(2,)`` in this frame (pixels), NaN where not followed."""
        try:
            travel = self._update(frame, kp)
        except cv2.error:
            travel = np.full(2, np.nan)
        self._lost = 0 if np.isfinite(travel).all() else self._lost + 1
        self._travel.append(travel)
        self._epochs.append(self._epoch)
        if self.reanchor is not None and self._lost >= self.reanchor and self._g0 is not None:
            self._g0, self._base = None, np.zeros(2)     # lost: start afresh, a new epoch
            self._guess[:] = 0
            self._epoch += 1
        return travel

    def _update(self, frame: np.ndarray, kp: np.ndarray) -> np.ndarray:
        gray = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
        scale = min(1.0, WORK_SIDE / max(gray.shape))
        # Half the time on a 1280 px video, and the travel moves by < 0.4 px; the half-pixel
        # forward-backward check is then in the smaller frame's pixels.
        if scale < 1.0:
            gray = cv2.resize(gray, (round(gray.shape[1] * scale), round(gray.shape[0] * scale)),
                              interpolation=cv2.INTER_AREA)
            kp = np.concatenate([kp[:, :2] * scale, kp[:, 2:]], axis=1)
        return self._follow(gray, kp) / scale

    def _follow(self, gray: np.ndarray, kp: np.ndarray) -> np.ndarray:
        nan = np.full(2, np.nan)
        if self._g0 is None:
            if not _seen(kp, _SHOULDERS) or not self._start(gray, kp):
                return nan
            self._since = 0
            return np.zeros(2)
        if gray.shape != self._g0.shape:
            return nan
        p0 = self._p0
        p1, st, _ = cv2.calcOpticalFlowPyrLK(self._g0, gray, p0, p0 + self._guess,
                                             flags=cv2.OPTFLOW_USE_INITIAL_FLOW, **_LK)
        back, st2, _ = cv2.calcOpticalFlowPyrLK(gray, self._g0, p1, p0.copy(),
                                                flags=cv2.OPTFLOW_USE_INITIAL_FLOW, **_LK)
        ok = ((st.ravel() == 1) & (st2.ravel() == 1)
              & (np.linalg.norm((back - p0).reshape(-1, 2), axis=1) < 0.5))
        h, w = gray.shape
        q = np.round(p1.reshape(-1, 2)).astype(int)
        inside = (q[:, 0] >= 0) & (q[:, 0] < w) & (q[:, 1] >= 0) & (q[:, 1] < h)
        ok &= inside
        covered = arms_mask(kp, (h, w), self._sw)
        ok[inside] &= ~covered[q[inside, 1], q[inside, 0]]
        d = (p1 - p0).reshape(-1, 2)
        if ok.sum() < max(MIN_POINTS, MIN_SEEN * len(p0)):
            return nan
        med = np.median(d[ok], 0)
        inl = ok & (np.linalg.norm(d - med, axis=1) < max(1.5, 0.02 * self._sw))
        if inl.sum() < max(MIN_POINTS, MIN_AGREE * ok.sum()):
            return nan
        travel = np.median(d[inl], 0)
        self._guess = travel.astype(np.float32)
        travel = self._base + travel
        self._since += 1
        if self.reanchor is not None and self._since >= self.reanchor \
                and _seen(kp, _SHOULDERS) and self._start(gray, kp):
            self._base, self._since = travel, 0          # this frame is the new anchor
            self._guess[:] = 0
        return travel


class Background:
    """A :class:`TrunkTracker` fed from a worker thread, beside the detector (OpenCV lets go
    of the GIL): use as a context manager; ``feed`` returns at once, ``travel`` waits for every
    frame fed (and raises the worker's error, if any)."""

    def __init__(self, *, reanchor: int | None = None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.tracker = TrunkTracker(reanchor=reanchor)
        self._pool = ThreadPoolExecutor(max_workers=1)    # one worker: frames stay in order
        self._jobs: list = []
        self._room = threading.BoundedSemaphore(8)        # frames waiting, at most

    def __enter__(self) -> "Background":
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def feed(self, frame: np.ndarray, kp: np.ndarray) -> None:
        self._room.acquire()        # the detector waits when the tracker is 8 frames behind
        job = self._pool.submit(self.tracker.update, frame, kp)
        job.add_done_callback(lambda _: self._room.release())
        self._jobs.append(job)

    def _done(self) -> TrunkTracker:
        for job in self._jobs:
            job.result()
        return self.tracker

    @property
    def travel(self) -> np.ndarray:
        return self._done().travel

    @property
    def epochs(self) -> np.ndarray:
        return self._done().epochs


def reanchor_frames(fps: float) -> int:
    """:data:`REANCHOR_S` in frames at ``fps`` (TrunkTracker's ``reanchor``)."""
    return max(1, int(round(REANCHOR_S * fps)))


def track_trunk(frames, keypoints: np.ndarray, *, reanchor: int | None = None) -> TrunkTracker:
    """:class:`TrunkTracker` fed frames in memory; read its ``travel`` and ``epochs``."""
    tracker = TrunkTracker(reanchor=reanchor)
    for frame, kp in zip(frames, keypoints):
        tracker.update(frame, kp)
    return tracker


def steady_trunk(keypoints: np.ndarray, travel: np.ndarray, *, fps: float,
                 epochs: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """``keypoints`` ``(T, 133, 3)`` with the shoulders and hips moved so the neck travels with
    the chest's texture (``travel`` ``(T, 2)`` from :class:`TrunkTracker`) in the frames where
    the two agree within :data:`TRUST` shoulder widths; between them the correction is
    interpolated and fades away from them (:data:`HOLD_S`, :data:`FADE_S`). ``epochs``
    ``(T,)`` (:attr:`TrunkTracker.epochs`; None: one): the travel of the epoch followed first
    is read from its first followed frame (a window of a long track starts anywhere in an
    epoch), and a later epoch's, whose origin is its own, so that it agrees with MediaPipe's
    neck on the median (from its first frame alone, MediaPipe's jitter there would offset the
    whole epoch).

    Returns a copy, and whether the chest was followed and agreed with MediaPipe in
    :data:`MIN_SHARE` or more of the frames that show the shoulders (the sequence's trunk then
    travels as the chest does: see :func:`tracked_source`). A sequence that is not is returned
    as it is: the retarget gives its trunk a dead zone, and a correction on a few frames under
    it only moved hbr_speaker12's trunk off his jacket (-0.02 dB)."""
    from gesticulate.skeleton.clean import all_seen
    from scipy.ndimage import distance_transform_edt

    kp = np.array(keypoints, dtype=np.float32, copy=True)
    shoulders = all_seen(kp, _SHOULDERS)
    seen = shoulders & np.isfinite(travel).all(1)
    if not seen.any():
        return kp, False
    neck = L.neck(kp)
    sw = float(np.median(L.shoulder_width(kp[seen])))
    epochs = np.zeros(len(kp), np.int64) if epochs is None else np.asarray(epochs)
    corr = np.zeros((len(kp), 2))
    start = epochs[int(np.argmax(seen))]
    for e in np.unique(epochs[seen]):
        mine = seen & (epochs == e)
        corr[mine] = travel[mine] - neck[mine]
        if e == start:           # from the first frame: the photo's own pose there
            corr[mine] -= corr[int(np.argmax(mine))]
        else:                    # a later epoch agrees with MediaPipe on the whole
            corr[mine] -= np.median(corr[mine], axis=0)
    trusted = seen & (np.linalg.norm(corr, axis=1) < TRUST * sw)
    if trusted.sum() < MIN_SHARE * shoulders.sum():
        return kp, False
    t = np.arange(len(kp))
    corr = np.stack([np.interp(t, t[trusted], corr[trusted, j]) for j in range(2)], axis=1)
    away = distance_transform_edt(~trusted) / fps          # seconds to the nearest agreement
    corr *= np.clip(1.0 - (away - HOLD_S) / FADE_S, 0.0, 1.0)[:, None]
    trunk = _SHOULDERS + [L.LEFT_HIP, L.RIGHT_HIP]
    kp[:, trunk, :2] += corr[:, None].astype(np.float32)
    return kp, True


def tracked_source(source: dict | None, tracked: bool) -> dict | None:
    """A sequence's ``confidence_source`` with :data:`TRACKED` added when ``tracked``."""
    return {**(source or {}), TRACKED[0]: TRACKED[1]} if tracked else source
