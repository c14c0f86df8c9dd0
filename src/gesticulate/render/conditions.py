"""Per-frame conditions of the diffusion renderer, from skeletons and audio features.

Shared by training (:mod:`gesticulate.train.renderer`) and sampling
(:mod:`gesticulate.render.diffusion`) so both see exactly the same inputs:

* DWPose pose maps (:func:`gesticulate.skeleton.draw.draw_pose_map`) at the model's size;
* MMGT motion masks of the face, lips and hands: each region's shape (the hull of its points
  over a short sweep of frames, grown by a margin) weighted by how much it moves
  (:mod:`gesticulate.skeleton.activity`: measured on the keypoints, or predicted by stage 1's
  mask head); renderers trained before these had boxes around the keypoints;
* EMO2 hand confidences: the mean keypoint confidence of each hand;
* audio windows: ``2r+1`` frames of ``AudioFeatures.stack()`` around each frame.

The model works on square frames; :class:`Letterbox` maps a photo of any shape into the square
(scaled to fit, centred, edges replicated) and back.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gesticulate.errors import OptionError
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.activity import ACTIVITY_REGIONS, region_activity
from gesticulate.skeleton.draw import draw_pose_map

# Keypoints of each mask region (the head's body points count towards the face).
MASK_REGIONS: dict[str, tuple[np.ndarray, ...]] = {
    "face": (np.r_[0:5, L.FACE_START:L.LEFT_HAND_START],),
    "lips": (np.array(L.LIPS),),
    "hands": (np.arange(91, 112), np.arange(112, 133)),
}
THRESHOLD = 0.3  # DWPose's drawing threshold: points below it are not seen


@dataclass
class Letterbox:
    """Fit a ``(w, h)`` frame into a ``size`` square: ``x_sq = x * scale + offset``."""

    width: int
    height: int
    size: int

    @property
    def scale(self) -> float:
        return self.size / max(self.width, self.height)

    @property
    def offset(self) -> tuple[int, int]:
        s = self.scale
        return ((self.size - round(self.width * s)) // 2, (self.size - round(self.height * s)) // 2)

    def image(self, rgb: np.ndarray) -> np.ndarray:
        """RGB ``(h, w, 3)`` → ``(size, size, 3)`` uint8, borders replicated."""
        s, (ox, oy) = self.scale, self.offset
        w, h = round(self.width * s), round(self.height * s)
        small = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        return cv2.copyMakeBorder(small, oy, self.size - h - oy, ox, self.size - w - ox,
                                  cv2.BORDER_REPLICATE)

    def keypoints(self, kp: np.ndarray) -> np.ndarray:
        """``(..., 133, 3)`` pixels of the frame → pixels of the square (confidence kept)."""
        out = np.array(kp, dtype=np.float32, copy=True)
        out[..., 0] = out[..., 0] * self.scale + self.offset[0]
        out[..., 1] = out[..., 1] * self.scale + self.offset[1]
        return out

    def unbox(self, square: np.ndarray) -> np.ndarray:
        """A ``(size, size, 3)`` frame → the ``(height, width, 3)`` frame it stands for."""
        s, (ox, oy) = self.scale, self.offset
        w, h = round(self.width * s), round(self.height * s)
        crop = square[oy:oy + h, ox:ox + w]
        return cv2.resize(crop, (self.width, self.height),
                          interpolation=cv2.INTER_LINEAR if s < 1 else cv2.INTER_AREA)


def region_masks(keypoints: np.ndarray, *, size: int, regions=("face", "lips", "hands"),
                 margin: float = 0.25) -> np.ndarray:
    """MMGT motion masks of one frame: ``(R, size, size)`` uint8 in {0, 1}.

    Each region is the box around its seen keypoints (confidence > 0.3), grown on every side
    by ``margin`` times its longer side (at least 2 pixels); an unseen region is empty.
    """
    out = np.zeros((len(regions), size, size), np.uint8)
    kp = np.nan_to_num(np.asarray(keypoints, np.float32))
    for r, name in enumerate(regions):
        for idx in MASK_REGIONS[name]:
            pts = kp[idx]
            pts = pts[pts[:, 2] > THRESHOLD, :2]
            if len(pts) == 0:
                continue
            lo, hi = pts.min(0), pts.max(0)
            g = max(margin * float((hi - lo).max()), 2.0)
            x0, y0 = np.clip(np.floor(lo - g), 0, size).astype(int)
            x1, y1 = np.clip(np.ceil(hi + g), 0, size).astype(int)
            out[r, y0:y1, x0:x1] = 1
    return out


def hand_confidence(keypoints: np.ndarray) -> np.ndarray:
    """Mean keypoint confidence of the left and right hand, ``(..., 2)`` float32 (EMO2)."""
    kp = np.nan_to_num(np.asarray(keypoints, np.float32))
    return np.stack([kp[..., L.LEFT_HAND, 2].mean(-1), kp[..., L.RIGHT_HAND, 2].mean(-1)], -1)


def audio_windows(features: np.ndarray, *, radius: int, num_frames: int | None = None) -> np.ndarray:
    """``(T_a, A)`` per-frame features → ``(T, 2r+1, A)`` windows, edges repeated.

    ``num_frames`` (default ``T_a``) sets T; features shorter than T are padded with their last
    row (a video may run a frame past its audio features).
    """
    f = np.asarray(features, np.float32)
    t = len(f) if num_frames is None else int(num_frames)
    idx = np.arange(t)[:, None] + np.arange(-radius, radius + 1)[None]   # (T, 2r+1)
    return f[np.clip(idx, 0, len(f) - 1)]


def motion_masks(keypoints: np.ndarray, activity: np.ndarray, *, size: int,
                 regions=("face", "lips", "hands"), margin: float = 0.25, sweep: int = 2,
                 span: tuple[int, int] | None = None) -> np.ndarray:
    """MMGT motion masks ``(T, R, size, size)`` uint8 (255 = fully active) of square-frame
    keypoints ``(T, 133, 3)`` (of frames ``span`` = (start, stop) only, if given: the sweep
    still sees the frames around them, so a sequence masked in chunks is masked as a whole).

    A region's mask at frame ``t`` is the convex hull of its seen points (confidence > 0.3;
    each hand its own hull) over frames ``t - sweep .. t + sweep``, i.e. where the part is and
    is about to move, grown on every side by ``margin`` times the hull's longer side (at least
    2 pixels), filled with the region's ``activity[t]`` (``(T, 3)`` in the order of
    :data:`~gesticulate.skeleton.activity.ACTIVITY_REGIONS`).
    """
    kp = np.nan_to_num(np.asarray(keypoints, np.float32))
    act = np.clip(np.asarray(activity, np.float32), 0.0, 1.0)
    start, stop = (0, len(kp)) if span is None else span
    out = np.zeros((stop - start, len(regions), size, size), np.uint8)
    order = [ACTIVITY_REGIONS.index(r) for r in regions]
    for i, t in enumerate(range(start, stop)):
        win = kp[max(0, t - sweep):t + sweep + 1]
        for r, name in enumerate(regions):
            value = int(round(255 * float(act[t, order[r]])))
            if value == 0:
                continue
            for idx in MASK_REGIONS[name]:
                pts = win[:, idx].reshape(-1, 3)
                pts = pts[pts[:, 2] > THRESHOLD, :2]
                if len(pts) == 0:
                    continue
                g = max(margin * float(np.ptp(pts, axis=0).max()), 2.0)
                hull = cv2.convexHull(np.round(pts * 4).astype(np.int32))   # 2 fractional bits
                cv2.fillConvexPoly(out[i, r], hull, value, lineType=cv2.LINE_8, shift=2)
                # A stroke of width 2g along the hull's outline grows it by g on every side.
                cv2.polylines(out[i, r], [hull], True, value, thickness=max(int(round(2 * g)), 1),
                              lineType=cv2.LINE_8, shift=2)
    return out


def frame_conditions(keypoints: np.ndarray, *, size: int, regions=("face", "lips", "hands"),
                     margin: float = 0.25, shape: str = "box", activity: np.ndarray | None = None,
                     fps: float = 25.0, sweep: int = 2,
                     span: tuple[int, int] | None = None) -> dict[str, np.ndarray]:
    """Pose maps, masks and hand confidences of ``(T, 133, 3)`` keypoints in a ``size`` square
    (of the frames ``span`` = (start, stop) only, if given).

    ``shape``: ``"box"`` (keypoint boxes, :func:`region_masks`) or ``"motion"``
    (:func:`motion_masks`, weighted by ``activity`` ``(T, 3)``, or where that is None by the
    activity measured on the keypoints at ``fps``).

    Returns ``pose`` (T, 3, S, S) uint8, ``masks`` (T, R, S, S) uint8 with 255 for a fully
    weighted pixel, ``hand`` (T, 2) float32.
    """
    whole = np.asarray(keypoints, np.float32)
    span = (0, len(whole)) if span is None else span
    kp = whole[span[0]:span[1]]
    pose = np.stack([np.ascontiguousarray(draw_pose_map(k, size=(size, size)).transpose(2, 0, 1))
                     for k in kp])
    if shape == "motion":
        act = region_activity(whole, fps=fps) if activity is None else activity
        masks = motion_masks(whole, act, size=size, regions=regions, margin=margin, sweep=sweep,
                             span=span)
    elif shape == "box":
        masks = 255 * np.stack([region_masks(k, size=size, regions=regions, margin=margin)
                                for k in kp])
    else:
        raise OptionError(f"mask shape {shape!r}; use 'box' or 'motion'")
    return {"pose": pose, "masks": masks, "hand": hand_confidence(kp)}
