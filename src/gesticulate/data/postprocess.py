"""Post-processing of a kept clip (CSG-405): speaker crop and keypoint smoothing.

* Speaker crop: a square around the person (upper body, face and hands over the whole clip),
  with a margin, kept inside the frame; keypoints are mapped into it and scaled to the output
  size (512 px, as CSG-405's 512x512 clips).
* Smoothing: Savitzky–Golay along time, window 11, order 2 — the filter and settings the
  "Democratizing" paper applies to keypoints.

The local representation (neck root, shoulder-width scale) is computed from the cropped
skeleton by :func:`gesticulate.skeleton.normalize.to_local` when statistics are fitted and
when training reads a clip; the clip stores pixel keypoints of its crop.
"""

from __future__ import annotations

import numpy as np

from gesticulate.skeleton.layout import UPPER_BODY_INDICES

CROP_SIZE = 512
SG_WINDOW = 11
SG_ORDER = 2


def crop_box(keypoints: np.ndarray, image_size: tuple[int, int], *, margin: float = 1.3,
             threshold: float = 0.5) -> tuple[float, float, float]:
    """A square ``(x0, y0, size)`` in source pixels around the person in ``keypoints``.

    Parameters
    ----------
    keypoints : np.ndarray, shape (T, 133, 3)
        Source-frame pixels and confidence.
    image_size : tuple of int
        Source (width, height).
    margin : float
        Side of the square relative to the larger side of the person's box.
    threshold : float
        Confidence above which a point counts.

    Returns
    -------
    tuple of float
        Top-left corner and side in pixels. The side is at most ``min(width, height)`` and the
        square lies inside the frame.
    """
    w, h = image_size
    pts = keypoints[:, UPPER_BODY_INDICES].reshape(-1, 3)
    pts = pts[pts[:, 2] > threshold, :2]
    if len(pts) < 3:
        side = float(min(w, h))
        return (w - side) / 2.0, (h - side) / 2.0, side
    # 1st–99th percentiles: a few wild points (a hand detected on the background) do not
    # inflate the box.
    lo = np.percentile(pts, 1, axis=0)
    hi = np.percentile(pts, 99, axis=0)
    cx, cy = (lo + hi) / 2.0
    side = float(min(max(hi - lo) * margin, w, h))
    x0 = float(np.clip(cx - side / 2.0, 0.0, w - side))
    y0 = float(np.clip(cy - side / 2.0, 0.0, h - side))
    return x0, y0, side


def apply_crop(keypoints: np.ndarray, box: tuple[float, float, float], *,
               size: int = CROP_SIZE) -> np.ndarray:
    """Map source-pixel keypoints ``(T, 133, 3)`` into the ``size``-pixel square ``box``."""
    x0, y0, side = box
    out = np.array(keypoints, dtype=np.float32, copy=True)
    s = size / side
    out[..., 0] = (out[..., 0] - x0) * s
    out[..., 1] = (out[..., 1] - y0) * s
    return out


def crop_frame(frame: np.ndarray, box: tuple[float, float, float], *,
               size: int = CROP_SIZE) -> np.ndarray:
    """The ``box`` square of an RGB frame ``(H, W, 3)``, resized to ``(size, size, 3)``."""
    import cv2

    x0, y0, side = box
    s = size / side
    m = np.array([[s, 0.0, -x0 * s], [0.0, s, -y0 * s]], dtype=np.float64)
    return cv2.warpAffine(frame, m, (size, size), flags=cv2.INTER_AREA,
                          borderMode=cv2.BORDER_REPLICATE)


def smooth_keypoints(keypoints: np.ndarray, *, window: int = SG_WINDOW, order: int = SG_ORDER,
                     threshold: float = 0.3) -> np.ndarray:
    """Savitzky–Golay smoothing of x, y along time, per keypoint.

    Gaps (confidence ≤ ``threshold``) are bridged by linear interpolation before filtering so
    that unseen frames do not pull seen ones towards (0, 0); the output keeps the input's
    confidences and the original coordinates of unseen points. Clips shorter than ``window``
    use the largest odd window that fits (none when fewer than ``order + 2`` frames).

    Parameters
    ----------
    keypoints : np.ndarray, shape (T, 133, 3)

    Returns
    -------
    np.ndarray, shape (T, 133, 3), float32
    """
    from scipy.signal import savgol_filter

    kp = np.array(keypoints, dtype=np.float32, copy=True)
    t = kp.shape[0]
    win = min(window, t if t % 2 else t - 1)
    if win < order + 2:
        return kp
    seen = kp[..., 2] > threshold
    frames = np.arange(t)
    for j in range(kp.shape[1]):
        ok = seen[:, j]
        if ok.sum() < 2:
            continue
        xy = np.stack([np.interp(frames, frames[ok], kp[ok, j, c]) for c in (0, 1)], axis=1)
        sm = savgol_filter(xy, win, order, axis=0, mode="interp")
        kp[ok, j, :2] = sm[ok]
    return kp
