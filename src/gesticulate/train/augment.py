"""Training-time augmentation of motion windows (CSG-405: rescale, rotate, flip).

Applied to a window in the local representation (neck-rooted, in shoulder widths; see
:mod:`gesticulate.skeleton.normalize`), the reference pose with it, audio unchanged:

* **scale** by a factor in ``1 ± SCALE`` (a larger or smaller gesture; the speed condition
  scales with it);
* **rotate** about the neck by up to ``± ROTATE_DEG`` (a tilted camera or a leaning body);
* **flip** left-right with probability ``FLIP``: x mirrored, and left and right points swapped
  (:data:`gesticulate.skeleton.layout.MIRROR`: body pairs, the face's points, the two hands) —
  a left-handed speaker's take becomes a right-handed one's.

Unseen points stay exactly zero (the loss masks them anyway).
"""

from __future__ import annotations

import numpy as np
import torch

from gesticulate.skeleton import layout as L
from gesticulate.skeleton.normalize import LOCAL_ROW, NormStats

SCALE = 0.1
ROTATE_DEG = 10.0
FLIP = 0.5


def local_mirror() -> np.ndarray:
    """:data:`~gesticulate.skeleton.layout.MIRROR` on the local points (``UPPER_BODY_INDICES``)."""
    mirror = LOCAL_ROW[L.MIRROR[L.UPPER_BODY_INDICES]]
    assert (mirror >= 0).all()             # the mirror keeps the upper body the upper body
    return mirror


_LOCAL_MIRROR = local_mirror()


def transform(local: np.ndarray, *, scale: float, angle: float, flip: bool) -> np.ndarray:
    """Points ``(..., J, 2)`` in local coordinates, scaled, rotated by ``angle`` (radians)
    about the neck, then mirrored when ``flip``."""
    c, s = np.cos(angle), np.sin(angle)
    rot = scale * np.array([[c, -s], [s, c]], dtype=np.float32)
    out = local @ rot.T
    if flip:
        out = out[..., _LOCAL_MIRROR, :] * np.array([-1.0, 1.0], dtype=np.float32)
    return out.astype(np.float32)


def augment_window(item: dict[str, torch.Tensor], rng: np.random.Generator,
                   stats: NormStats) -> dict[str, torch.Tensor]:
    """One random scale, rotation and flip applied to a window dict of
    :meth:`gesticulate.train.data.WindowDataset.window_at` (motion, visible, reference,
    reference_mask, speed); a new dict, the input untouched."""
    scale = float(rng.uniform(1 - SCALE, 1 + SCALE))
    angle = float(np.deg2rad(rng.uniform(-ROTATE_DEG, ROTATE_DEG)))
    flip = bool(rng.random() < FLIP)
    out = dict(item)
    for key, mask in (("motion", "visible"), ("reference", "reference_mask")):
        seen = item[mask].numpy()
        if flip:
            seen = seen[..., _LOCAL_MIRROR]
        z = stats.normalize(transform(stats.denormalize(item[key].numpy()), scale=scale,
                                      angle=angle, flip=flip))
        out[key] = torch.from_numpy(np.where(seen[..., None] > 0, z, 0.0).astype(np.float32))
        out[mask] = torch.from_numpy(np.ascontiguousarray(seen))
    out["speed"] = item["speed"] * scale
    return out
