"""The masks, colours and shoulder geometry the person's parts are cut with
(:mod:`gesticulate.render.warp.parts`) and their hidden pixels filled."""

from __future__ import annotations

import cv2
import numpy as np

from gesticulate.render.warp import bones as B
from gesticulate.skeleton import layout as L


def segment_distance(px: np.ndarray, py: np.ndarray, a: np.ndarray, b: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Distance of points to segment ``a``–``b`` and the projection parameter ``t``."""
    d = b - a
    n2 = max(float(d @ d), 1e-9)
    t = ((px - a[0]) * d[0] + (py - a[1]) * d[1]) / n2
    tc = np.clip(t, 0.0, 1.0)
    return np.hypot(px - (a[0] + tc * d[0]), py - (a[1] + tc * d[1])), t


def shoulder_geometry(ref: np.ndarray, valid: np.ndarray, size: tuple[int, int]
                      ) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Shoulder midpoint, unit "down" normal of the shoulder line and shoulder width (pixels),
    or None when a shoulder is not seen (it may lie just outside the frame: then it is used
    anyway when its confidence is fair)."""
    ls, rs = ref[L.LEFT_SHOULDER], ref[L.RIGHT_SHOULDER]
    if min(ls[2], rs[2]) < B.MIN_CONFIDENCE:
        return None
    a, b = ls[:2].astype(np.float64), rs[:2].astype(np.float64)
    width = float(np.linalg.norm(a - b))
    if width < 4:
        return None
    along = (a - b) / width
    normal = np.array([-along[1], along[0]])
    if normal[1] < 0:
        normal = -normal
    return 0.5 * (a + b), normal, width


def components_below(mask: np.ndarray, area: float) -> np.ndarray:
    """The connected components of ``mask`` smaller than ``area`` pixels."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=4)
    small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < area)
    small = small[small > 0]
    return np.isin(labels, small) if len(small) else np.zeros(mask.shape, bool)


def mask_box(mask: np.ndarray, margin: int, *, even: bool = False) -> tuple[slice, slice]:
    """The box around ``mask``'s pixels (``(H, W)`` bool, some set) grown by ``margin`` px, as
    slices (cut at the picture's edges); with ``even``, it starts on even rows and columns, so
    :func:`~gesticulate.render.warp.fill.inpaint`'s half-scale grid there is the whole
    picture's."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    y0, x0 = max(rows[0] - margin, 0), max(cols[0] - margin, 0)
    if even:
        y0, x0 = y0 & ~1, x0 & ~1
    return slice(y0, rows[-1] + margin + 1), slice(x0, cols[-1] + margin + 1)


def lab_of(image: np.ndarray) -> np.ndarray:
    """An RGB uint8 image in CIELAB, float32 ``(H, W, 3)`` (OpenCV's 8-bit scaling)."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)


def nearest_colour(samples: np.ndarray, centres: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """``(N,)`` distance of each colour sample to the nearest of ``centres``, per channel in
    units of ``spread``."""
    return np.min([np.linalg.norm((samples - c) / spread, axis=1) for c in centres], axis=0)


def on_segment(samples: np.ndarray, a: np.ndarray, b: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Where colour samples ``(N, 3)`` lie along the segment from ``a`` to ``b``: ``(t, off)``,
    ``t`` the share of the way from ``a`` to ``b`` of each one's projection on the line (not
    clipped), ``off`` its distance to the nearest point of the segment."""
    d = b - a
    t = (samples - a) @ d / max(float(d @ d), 1e-9)
    return t, np.linalg.norm(samples - a - np.clip(t, 0.0, 1.0)[:, None] * d, axis=1)


def blend_distance(samples: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """``(N,)`` distance of each colour sample ``(N, 3)`` to the nearest blend of two of
    ``colours`` ``(K, 3)`` (a point on the segment between them; a colour itself counts)."""
    out = np.full(len(samples), np.inf)
    for i, a in enumerate(colours):
        for b in colours[i:]:
            out = np.minimum(out, on_segment(samples, a, b)[1])
    return out


def colour_clusters(samples: np.ndarray, k: int) -> np.ndarray:
    """``k`` k-means centres ``(k, 3)`` of colour samples ``(N, 3)`` float32, the same for
    the same samples: k-means++ draws from OpenCV's per-thread generator, whose state depends
    on every earlier draw in the process (a web worker's second job with the same photo cut
    its hands differently), so it is seeded first."""
    cv2.setRNGSeed(0)
    _, _, centres = cv2.kmeans(np.ascontiguousarray(samples, np.float32), k, None,
                               (cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0), 2, cv2.KMEANS_PP_CENTERS)
    return centres


# Colours of a region's source pixels that make up less than this share of them and lie
# further than OUTLIER_LAB (CIELAB) from every common colour, and from every blend of two, are
# not its cloth. The flecks on hbr_speaker12's sleeves were 3-5 % of them.
OUTLIER_SHARE = 0.05
OUTLIER_LAB = 30.0


def odd_colours(lab: np.ndarray, source: np.ndarray, *,
                share: float = OUTLIER_SHARE) -> np.ndarray:
    """The ``source`` pixels ``(H, W)`` bool of rare odd colours: a fleck of the hand, the
    chair under an elbow or a lit fold that the segmenter or the cut gave a sleeve. The
    source's colours (``lab``: the image in CIELAB, :func:`lab_of`) in 4 k-means clusters; a
    cluster with less than ``share`` of the pixels, further than :data:`OUTLIER_LAB` from
    each common one and from each blend of two common ones (a pattern's edges), is odd."""
    bad = np.zeros(source.shape, bool)
    n = int(source.sum())
    if n < 200:
        return bad
    lab = lab[source]
    centres = colour_clusters(lab[:: max(1, n // 20000)], 4)      # a sample is enough
    label = np.linalg.norm(lab[:, None] - centres[None], axis=2).argmin(1)
    shares = np.bincount(label, minlength=len(centres)) / n
    common = centres[shares >= share]
    if len(common) in (0, len(centres)):
        return bad
    odd = (shares < share) & (blend_distance(centres, common) > OUTLIER_LAB)
    bad[source] = odd[label]
    return bad


def side_of(px: np.ndarray, py: np.ndarray, a: np.ndarray, b: np.ndarray,
            toward: np.ndarray) -> np.ndarray:
    """True for pixels on the same side of the line a→b as the point ``toward``."""
    d = b - a
    side = (px - a[0]) * d[1] - (py - a[1]) * d[0]
    ref = (toward[0] - a[0]) * d[1] - (toward[1] - a[1]) * d[0]
    return side * ref > 0


# Above this radius (px) a mask is grown by its distance transform: a dilation's cost grows
# with the disc, and the hands' surroundings (0.6 shoulder widths, 120 px on a 512 px photo)
# took 0.5 of the 2.2 s set-up of pats_oliver_slice18.png (under the profiler).
GROWN_BY_DISTANCE = 12


def grown(mask: np.ndarray, radius: float) -> np.ndarray:
    """``mask`` dilated by a disc of ``radius`` px (at least 1)."""
    r = max(1, int(round(radius)))
    if r > GROWN_BY_DISTANCE:
        if not mask.any():
            return np.zeros(mask.shape, bool)
        return cv2.distanceTransform((~mask.astype(bool)).astype(np.uint8), cv2.DIST_L2,
                                     cv2.DIST_MASK_PRECISE) <= r
    return cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) > 0


def closed_gaps(mask: np.ndarray, radius: float) -> np.ndarray:
    """``mask`` with its gaps and notches narrower than ``2 * radius`` px closed (a
    morphological closing by a disc of ``radius`` px); beyond the picture's border lies nothing
    of the mask, so a gap open to the border stays open."""
    pad = int(round(radius)) + 1
    big = np.pad(mask.astype(bool), pad)
    return (~grown(~grown(big, radius), radius))[pad:-pad, pad:-pad]


def touching(mask: np.ndarray, near: np.ndarray) -> np.ndarray:
    """The 8-connected components of ``mask`` that overlap ``near``."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    ids = np.unique(labels[near & mask])
    return np.isin(labels, ids[ids > 0])
