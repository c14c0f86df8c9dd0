"""A skeleton sequence and its ``.npz`` file (DESIGN.md: keypoints, fps, image_size, layout)."""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gesticulate.atomic import atomic_file
from gesticulate.errors import InputError, input_file
from gesticulate.skeleton.layout import LAYOUT_NAME, NUM_KEYPOINTS


@dataclass
class SkeletonSequence:
    """Whole-body keypoints over time.

    Attributes
    ----------
    keypoints : np.ndarray, shape (T, 133, 3), float32
        x, y in pixels of a ``image_size`` frame, and confidence in 0..1 (0 = not seen).
    fps : float
        Frames per second.
    image_size : tuple of int
        (width, height) in pixels of the frame the coordinates refer to.
    confidence_source : dict, optional
        Where the confidences came from, by part (``"body"``, ``"face"``, ``"hands"`` or
        ``"all"``): e.g. MediaPipe's pose visibility, a pose file's own scores, or "1" for
        motion capture. Saved with the sequence; None where unknown (generated motion). A
        ``"trunk"`` entry says the trunk's travel was read from the video's pixels
        (:mod:`gesticulate.skeleton.trunk`), so the retarget keeps its small sway.
    region_activity : np.ndarray, optional
        ``(T, 3)`` float32 in 0..1: how much the face, lips and hands move in each frame, as
        a learned model predicted it (MMGT's motion masks; the diffusion renderer's audio
        attention uses them). Saved with the sequence; None where not predicted.
    """

    keypoints: np.ndarray
    fps: float
    image_size: tuple[int, int]
    confidence_source: dict | None = None
    region_activity: np.ndarray | None = None

    def __post_init__(self) -> None:
        kp = np.asarray(self.keypoints, dtype=np.float32)
        if kp.ndim == 2:
            kp = kp[None]
        if kp.ndim != 3 or kp.shape[1:] != (NUM_KEYPOINTS, 3):
            raise InputError(f"keypoints of shape {kp.shape}; a skeleton sequence holds the "
                             f"133-point layout as (T, {NUM_KEYPOINTS}, 3) (or one frame, "
                             f"({NUM_KEYPOINTS}, 3))")
        self.keypoints = kp
        if self.region_activity is not None:
            act = np.asarray(self.region_activity, dtype=np.float32)
            if act.shape != (len(kp), 3):
                raise InputError(f"region activity of shape {act.shape}; it has one row of 3 "
                                 f"(face, lips, hands) per frame: ({len(kp)}, 3)")
            self.region_activity = act
        self.fps = float(self.fps)
        self.image_size = (int(self.image_size[0]), int(self.image_size[1]))

    def __len__(self) -> int:
        return self.keypoints.shape[0]

    @property
    def duration_s(self) -> float:
        return len(self) / self.fps

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``path`` atomically (a temporary file renamed at the end)."""
        extra = {}
        if self.region_activity is not None:
            extra["region_activity"] = self.region_activity
        if self.confidence_source:
            extra["confidence_source"] = np.array(json.dumps(self.confidence_source, sort_keys=True))
        with atomic_file(path, suffix=".npz") as tmp:
            np.savez_compressed(tmp, keypoints=self.keypoints, fps=np.float32(self.fps),
                                image_size=np.array(self.image_size, dtype=np.int32),
                                layout=np.array(LAYOUT_NAME), **extra)
        return Path(path)

    def resampled(self, fps: float) -> "SkeletonSequence":
        """The same motion at ``fps`` frames per second (same duration): positions interpolated
        linearly between the two nearest frames where both see a point, the nearest frame's
        point otherwise; confidence the lower of the two."""
        if abs(fps - self.fps) < 1e-6 or len(self) < 2:
            return SkeletonSequence(self.keypoints.copy(), fps, self.image_size,
                                    self.confidence_source, self.region_activity)
        n = max(1, int(round(self.duration_s * fps)))
        u = np.minimum(np.arange(n) * self.fps / fps, len(self) - 1)
        i0 = np.floor(u).astype(int)
        i1 = np.minimum(i0 + 1, len(self) - 1)
        w = (u - i0)[:, None, None]
        a, b = self.keypoints[i0], self.keypoints[i1]
        both = (a[..., 2:] > 0) & (b[..., 2:] > 0)
        near = np.where(w < 0.5, a, b)
        mixed = a + w * (b - a)
        mixed[..., 2] = np.minimum(a[..., 2], b[..., 2])
        act = None
        if self.region_activity is not None:
            a0, a1 = self.region_activity[i0], self.region_activity[i1]
            act = a0 + w[:, 0] * (a1 - a0)
        return SkeletonSequence(np.where(both, mixed, near), fps, self.image_size,
                                self.confidence_source, act)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SkeletonSequence":
        """Read a ``.npz`` written by :meth:`save` (never unpickles anything)."""
        path = input_file(path, "skeleton file")
        try:
            with np.load(path, allow_pickle=False) as z:
                layout = str(z["layout"]) if "layout" in z else LAYOUT_NAME
                kp, fps, size = z["keypoints"], float(z["fps"]), tuple(z["image_size"].tolist())
                source = json.loads(str(z["confidence_source"])) if "confidence_source" in z else None
                act = z["region_activity"] if "region_activity" in z else None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
            raise InputError(f"{path} is not a gesticulate skeleton .npz ({e}); "
                             "make one with `gesticulate extract` or `gesticulate sample`") from None
        if layout != LAYOUT_NAME:
            raise InputError(f"{path} has layout {layout!r}; only {LAYOUT_NAME!r} is supported — "
                             "convert it with `gesticulate export`/the importers first")
        if kp.ndim != 3 or kp.shape[1:] != (NUM_KEYPOINTS, 3):
            raise InputError(f"{path}: keypoints have shape {kp.shape}, expected (T, 133, 3)")
        return cls(kp, fps, size, source, act)
