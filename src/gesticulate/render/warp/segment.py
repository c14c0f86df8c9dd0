"""Person segmentation for the warp renderer (RENDERING.md, "Once per photo").

MediaPipe selfie segmentation (the model ships inside ``mediapipe==0.10.21``) gives a soft
person probability; we keep the largest connected person region, fill small holes, and return
both the soft alpha (for compositing) and the 0.5-threshold mask (for geometry).
"""

from __future__ import annotations

import cv2
import numpy as np

from gesticulate.segmentation import person_probability


def _largest_component(mask: np.ndarray) -> np.ndarray:
    """Keep the largest 8-connected component of a boolean mask ``(H, W)``."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), 8)
    if count <= 1:
        return mask
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return labels == biggest


def _fill_small_holes(mask: np.ndarray, *, max_fraction: float = 0.004) -> np.ndarray:
    """Fill holes (background regions not touching the border) smaller than a fraction of the
    image; larger ones (a gap between an arm and the body) are real background and stay."""
    h, w = mask.shape
    # 8-connected: its call passed 4 as OpenCV's positional ``labels``, not ``connectivity``.
    return fill_holes(mask, max_fraction * h * w, connectivity=8)


def fill_holes(mask: np.ndarray, max_area: float, *, connectivity: int = 4) -> np.ndarray:
    """``mask`` with its holes (regions outside it that do not touch the image's border) of at
    most ``max_area`` pixels filled."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        (~mask).astype(np.uint8), connectivity=connectivity)
    h, w = mask.shape
    x, y, bw, bh, area = stats.T
    touches = (x == 0) | (y == 0) | (x + bw == w) | (y + bh == h)
    small = np.flatnonzero(~touches & (area <= max_area))
    small = small[small > 0]
    return mask | np.isin(labels, small) if len(small) else mask.copy()


def add_region(alpha: np.ndarray, mask: np.ndarray, region: np.ndarray) -> None:
    """Add a region known to be the person (e.g. a detected hand the segmenter missed) to
    ``alpha`` and ``mask`` in place, with a 1-pixel feathered edge."""
    soft = cv2.GaussianBlur(region.astype(np.float32), (0, 0), 1.0)
    np.maximum(alpha, np.where(region, 1.0, soft), out=alpha)
    mask |= region


def person_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segment the person in a photo.

    Parameters
    ----------
    image : np.ndarray
        RGB uint8 ``(H, W, 3)``.

    Returns
    -------
    alpha : np.ndarray
        ``(H, W)`` float32 in 0..1, the soft person alpha restricted to the kept region.
    mask : np.ndarray
        ``(H, W)`` bool, the person region (probability > 0.5, largest component, small holes
        filled). All False when no person was found.
    """
    prob = person_probability(image)
    mask = prob > 0.5
    if not mask.any():
        return np.zeros_like(prob), mask
    mask = _fill_small_holes(_largest_component(mask))
    # MediaPipe's edge is soft over ~10 px (a 256x256 output upsampled); a narrow ramp around
    # the 0.5 level keeps the hair and shoulder edges anti-aliased without a wide mixed band
    # that would blend the person with the inpainted background.
    near = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    ramp = np.clip((prob - 0.4) / 0.2, 0.0, 1.0)
    alpha = np.where(mask, np.maximum(ramp, 0.5), np.where(near, ramp, 0.0)).astype(np.float32)
    return alpha, mask


def content_box(image: np.ndarray, *, dark: float = 10.0, peak: float = 32.0
                ) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` of the picture inside letterbox or pillarbox bars.

    Bars are whole rows (or columns) at the border that are black, not merely dark (mean
    under ``dark``, no pixel over ``peak`` grey levels); they come in pairs (an axis is cropped
    only when both of its sides have a bar, as a letterboxed video has), and the picture starts
    sharply where they end. A photo on a black backdrop keeps its backdrop. The bars are not
    the person nor background to fill; a renderer keeps them as they are. The whole image when
    the bars would leave less than half of a side.
    """
    h, w = image.shape[:2]
    grey = image.astype(np.float32).max(2)

    def bars(lines: np.ndarray) -> int:
        bar = (lines.mean(1) < dark) & (lines.max(1) <= peak)
        return int(np.argmin(bar)) if not bar.all() else len(bar)

    def edge(lines: np.ndarray, at: int) -> bool:
        # Where a bar ends the picture starts: a line (past the codec's blended one) mostly
        # not black. A black backdrop continues past its "bar" and is dark there too.
        at = int(np.clip(at, 0, len(lines) - 1))
        return bool((lines[at] > peak).mean() > 0.5)

    top, bottom = bars(grey), bars(grey[::-1])
    left, right = bars(grey.T), bars(grey.T[::-1])
    if min(top, bottom) < 2 or top + bottom >= h or not (
            edge(grey, top + 2) and edge(grey, h - 3 - bottom)):
        top = bottom = 0
    if min(left, right) < 2 or left + right >= w or not (
            edge(grey.T, left + 2) and edge(grey.T, w - 3 - right)):
        left = right = 0
    x0, y0, x1, y1 = left, top, w - right, h - bottom
    if y1 - y0 < h / 2 or x1 - x0 < w / 2:
        return 0, 0, w, h
    return x0, y0, x1, y1


# Least difference (RGB) between the person's and the backdrop's local colours for an edge
# pixel to be read as a blend of the two (edge_matte).
EDGE_CONTRAST = 30.0


def edge_matte(image: np.ndarray, person: np.ndarray, alpha: np.ndarray, *, width: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The person's edge as a blend of the person and the backdrop: ``(alpha, fg, bg)``.

    The segmenter's mask is a low-resolution map upsampled; its edge pixels (within ``width``
    pixels inside it) hold the backdrop's colour too, and drawn with the person they followed
    a moving head as a rim of the backdrop (the red of the letters behind
    ted_lia_driving2's head). Each edge pixel ``I`` is read as ``a F + (1 - a) B`` between the
    local mean colour ``F`` of the person ``width`` to ``3 width`` inside and ``B`` of the
    backdrop 1 to ``1 + 2 width`` outside (where they differ): its alpha becomes at most
    ``a``, the person's layers carry ``F`` there (``fg``), and the photo's own background
    shown around a still person is ``(I - a F) / (1 - a)`` there (``bg``), so that a still
    person still renders the photo. Elsewhere ``fg`` and ``bg`` are the image.
    """
    img = image.astype(np.float32)
    inside = cv2.distanceTransform(person.astype(np.uint8), cv2.DIST_L2, 3)
    outside = cv2.distanceTransform((~person).astype(np.uint8), cv2.DIST_L2, 3)
    band = person & (inside <= width)
    fg, bg = image.copy(), image.copy()
    if not band.any():
        return alpha, fg, bg

    def local_mean(src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = cv2.GaussianBlur(src.astype(np.float32), (0, 0), width)
        m = cv2.GaussianBlur(img * src[..., None], (0, 0), width) / np.maximum(w, 1e-6)[..., None]
        return m, w > 0.05

    F, f_ok = local_mean(person & (inside > width) & (inside <= 3 * width))
    B, b_ok = local_mean(~person & (outside > 1) & (outside <= 1 + 2 * width))
    d = F - B
    n2 = (d * d).sum(2)
    sel = band & f_ok & b_ok & (n2 > EDGE_CONTRAST ** 2)
    a = np.clip(((img - B) * d).sum(2) / np.maximum(n2, 1e-6), 0.0, 1.0)
    out = alpha.copy()
    out[sel] = np.minimum(alpha[sel], a[sel])
    soft = sel & (out < 0.99)
    k = out[soft][:, None]
    fg[soft] = np.clip(F[soft] + 0.5, 0, 255).astype(np.uint8)
    bg[soft] = unmixed(img[soft], F[soft], k)
    return out.astype(np.float32), fg, bg


def unmixed(image: np.ndarray, fg: np.ndarray, a: np.ndarray) -> np.ndarray:
    """What lay behind pixels ``image`` ``(N, 3)`` drawn over it in colour ``fg`` ``(N, 3)``
    at alpha ``a`` ``(N, 1)``: ``(image - a fg) / (1 - a)``, uint8."""
    return np.clip((image - a * fg) / np.maximum(1.0 - a, 1e-3) + 0.5, 0, 255).astype(np.uint8)
