"""The local representation used for learning (CSG-405, DESIGN.md "For learning").

Pixel keypoints ``(T, 133, 3)`` become upper-body local coordinates: root at the neck
(mid-shoulder point), scaled by shoulder width, legs and feet dropped
(:data:`~gesticulate.skeleton.layout.UPPER_BODY_INDICES`, 121 points), then z-scored with a
dataset's statistics. The inverse maps model output back to a photo's pixel frame given a
root and a scale (usually the reference photo's).

Statistics fitted with ``parts=True`` z-score a per-part representation instead (CSG-405's
for learning): each hand's points relative to that hand's wrist, the face's 68 points relative
to the nose tip, the body (with the hands' wrists and the nose tip) as it is. Finger and lip
shapes are then their own variation, not a small remainder of the arm's and the head's
motion; :meth:`NormStats.normalize` and :meth:`NormStats.denormalize` convert, so a model's
input, loss and output are all in that space and the rest of the code sees local coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gesticulate.skeleton import layout as _layout
from gesticulate.skeleton.layout import NUM_KEYPOINTS, UPPER_BODY_INDICES, neck, shoulder_width

# CSG-405 masks points with confidence <= 0.7 out of the loss.
CONFIDENCE_THRESHOLD = 0.7
NUM_LOCAL_POINTS = len(UPPER_BODY_INDICES)


# 133-layout index -> row of the (T, 121, ...) local arrays (-1: a leg or foot point, dropped).
LOCAL_ROW = np.full(NUM_KEYPOINTS, -1, dtype=np.int64)
LOCAL_ROW[UPPER_BODY_INDICES] = np.arange(len(UPPER_BODY_INDICES))

def _part_anchors() -> np.ndarray:
    """``(121,)``: the local row each row is taken relative to in the parts representation
    (hand points → their hand's wrist, face points → the nose tip), -1 for the body's rows
    and the anchors themselves."""
    anchor = np.full(NUM_LOCAL_POINTS, -1, dtype=np.int64)
    for start in (_layout.LEFT_HAND_START, _layout.RIGHT_HAND_START):
        anchor[LOCAL_ROW[start + 1:start + 21]] = LOCAL_ROW[start]
    face = LOCAL_ROW[_layout.FACE_START:_layout.FACE_START + 68]
    nose = LOCAL_ROW[_layout.face(30)]
    anchor[face[face != nose]] = nose
    return anchor


PART_ANCHOR = _part_anchors()
_PART_ROWS = np.flatnonzero(PART_ANCHOR >= 0)


def to_parts(local: np.ndarray) -> np.ndarray:
    """Local coordinates ``(..., 121, 2)`` → the parts representation (module docstring)."""
    out = np.array(local, dtype=np.float32, copy=True)
    out[..., _PART_ROWS, :] -= out[..., PART_ANCHOR[_PART_ROWS], :]
    return out


def from_parts(parts: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_parts` (the anchors are body rows, unchanged by it)."""
    out = np.array(parts, dtype=np.float32, copy=True)
    out[..., _PART_ROWS, :] += out[..., PART_ANCHOR[_PART_ROWS], :]
    return out


def root_and_scale(keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame neck root ``(..., 2)`` and shoulder width ``(...)`` in pixels.

    Shoulder width is clamped below at 1 pixel so a degenerate frame never divides by zero.
    """
    return neck(keypoints), np.maximum(shoulder_width(keypoints), 1.0)


def to_local(keypoints: np.ndarray, *, root: np.ndarray | None = None,
             scale: np.ndarray | float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pixel keypoints ``(T, 133, 3)`` → local coordinates ``(T, 121, 2)`` and confidence ``(T, 121)``.

    ``root`` ``(2,)`` or ``(T, 2)`` and ``scale`` (pixels) default to a per-clip constant: the
    median neck position and median shoulder width over the clip's confident frames, so that
    head and torso motion inside the clip survive normalisation.
    """
    kp = np.asarray(keypoints, dtype=np.float32)
    if root is None or scale is None:
        r, s = root_and_scale(kp)
        ok = (kp[:, 5, 2] > 0.3) & (kp[:, 6, 2] > 0.3)
        if not ok.any():
            ok = np.ones(len(kp), dtype=bool)
        root = np.median(r[ok], axis=0) if root is None else root
        scale = float(np.median(s[ok])) if scale is None else scale
    root = np.asarray(root, dtype=np.float32)
    scale = np.asarray(scale, dtype=np.float32)
    if root.ndim == 2:
        root = root[:, None, :]
    if scale.ndim == 1:
        scale = scale[:, None, None]
    sel = kp[:, UPPER_BODY_INDICES]
    return ((sel[..., :2] - root) / scale).astype(np.float32), sel[..., 2].astype(np.float32)


def from_local(local: np.ndarray, confidence: np.ndarray, *, root: np.ndarray,
               scale: float) -> np.ndarray:
    """Inverse of :func:`to_local`: ``(T, 121, 2)`` → pixel keypoints ``(T, 133, 3)``.

    Legs and feet, which the local representation drops, come back with confidence 0.
    """
    t = local.shape[0]
    out = np.zeros((t, NUM_KEYPOINTS, 3), dtype=np.float32)
    out[:, UPPER_BODY_INDICES, :2] = local * scale + np.asarray(root, dtype=np.float32)
    out[:, UPPER_BODY_INDICES, 2] = confidence
    return out


@dataclass
class NormStats:
    """Dataset statistics, ``mean`` and ``std`` of shape ``(121, 2)``, of local coordinates or,
    with ``parts``, of the parts representation (:func:`to_parts`)."""

    mean: np.ndarray
    std: np.ndarray
    parts: bool = False

    def normalize(self, local: np.ndarray) -> np.ndarray:
        """Local coordinates → z-scores (in the parts representation with ``parts``)."""
        return ((to_parts(local) if self.parts else local) - self.mean) / self.std

    def denormalize(self, z: np.ndarray) -> np.ndarray:
        """z-scores → local coordinates."""
        x = z * self.std + self.mean
        return from_parts(x) if self.parts else x

    def visible(self, confidence: np.ndarray, threshold: float = CONFIDENCE_THRESHOLD
                ) -> np.ndarray:
        """Which points ``(..., 121)`` are known in this representation: above ``threshold``,
        and with ``parts`` their anchor too (a finger relative to an unseen wrist is not)."""
        c = np.asarray(confidence)
        vis = c > threshold
        if self.parts:
            vis = vis.copy()
            vis[..., _PART_ROWS] &= vis[..., PART_ANCHOR[_PART_ROWS]]
        return vis

    def save(self, path) -> None:
        np.savez(path, mean=self.mean, std=self.std, parts=np.bool_(self.parts))

    @classmethod
    def load(cls, path) -> "NormStats":
        with np.load(path, allow_pickle=False) as z:
            parts = bool(z["parts"]) if "parts" in z else False
            return cls(z["mean"].astype(np.float32), z["std"].astype(np.float32), parts)

    @classmethod
    def fit(cls, locals_: list[np.ndarray], confidences: list[np.ndarray], *,
            threshold: float = CONFIDENCE_THRESHOLD, min_std: float = 1e-3,
            parts: bool = False) -> "NormStats":
        """Mean and std over all frames of all clips, counting only points above ``threshold``
        (with ``parts``: points whose anchor is above it too)."""
        x = np.concatenate([l.reshape(-1, NUM_LOCAL_POINTS, 2) for l in locals_])
        conf = np.concatenate([k.reshape(-1, NUM_LOCAL_POINTS) for k in confidences])
        if parts:
            x = to_parts(x)
        c = cls(np.zeros(1), np.ones(1), parts).visible(conf, threshold)
        w = c[..., None].astype(np.float64)
        n = np.maximum(w.sum(0), 1.0)
        mean = (x * w).sum(0) / n
        var = (((x - mean) ** 2) * w).sum(0) / n
        std = np.maximum(np.sqrt(var), min_std)
        return cls(mean.astype(np.float32), std.astype(np.float32), parts)
