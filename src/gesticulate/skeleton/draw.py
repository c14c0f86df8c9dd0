"""DWPose-style skeleton drawing: the pose maps that pose-to-video models were trained on.

Pose-guided video models learn the exact look of the maps their authors drew, so each style
reproduces one family's drawing code:

``"dwpose"``
    controlnet_aux / ControlNet / Moore-AnimateAnyone: OpenPose-18 body as filled ellipses in
    the 17 standard limb colours at 60 % brightness, joints as full-colour dots; hands with
    20 edges coloured along the HSV hue circle and blue joint dots; face as white dots. Colours
    are RGB. Widths are those of a 512-pixel map (stick 4, joint radius 4, hand line 2, hand
    dot 4, face dot 3), scaled with the map's short side, because controlnet_aux draws at its
    512-pixel detection size and resizes.
``"mimicmotion"``
    MimicMotion / StableAnimator (and Democratizing-CSG's StableAnimator stage): the same
    drawing done on a BGR canvas and converted to RGB, so red and blue are swapped (the first
    limb is blue, hand dots red), colours are dimmed by confidence, and widths are those of a
    2160-pixel map scaled down (thin lines).
``"echomimic"``
    EchoMimicV2 (``draw_pose_select_v2``): hands only, in the MimicMotion colours, with widths
    of an 800-pixel map.

Points whose confidence is ``<= threshold`` are not drawn, nor the limbs that touch them.
The canvas is RGB uint8 ``(H, W, 3)`` and keypoints are pixels of that canvas.
"""

from __future__ import annotations

import colorsys
import math

import cv2
import numpy as np

from gesticulate.errors import InputError, OptionError
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.openpose_body import to_openpose18

STYLES = ("dwpose", "mimicmotion", "echomimic")

# OpenPose-18 limbs (0-based) in the order of controlnet_aux's limbSeq; only the first 17 are
# drawn there (the two shoulder-ear limbs are skipped), and we keep that.
LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11),
         (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))
# One colour per OpenPose-18 point / limb (RGB as controlnet_aux draws them).
COLORS = np.array([[255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0],
                   [85, 255, 0], [0, 255, 0], [0, 255, 85], [0, 255, 170], [0, 255, 255],
                   [0, 170, 255], [0, 85, 255], [0, 0, 255], [85, 0, 255], [170, 0, 255],
                   [255, 0, 255], [255, 0, 170], [255, 0, 85]], dtype=np.float64)
# Hand edges within one hand (wrist → each finger base → tip) and their hues (i / 20).
HAND_EDGES = tuple((0 if j == 0 else 1 + 4 * f + j - 1, 1 + 4 * f + j)
                   for f in range(5) for j in range(4))
HAND_COLORS = np.array([colorsys.hsv_to_rgb(i / len(HAND_EDGES), 1.0, 1.0)
                        for i in range(len(HAND_EDGES))]) * 255.0
LIMB_DIM = 0.6  # controlnet_aux multiplies the limbs by 0.6 before drawing the joints


# Per style: reference short side of the map the widths belong to, widths at that size
# (stick half-width, body dot, hand line, hand dot, face dot), what is drawn, and colour rules.
_STYLE = {
    "dwpose": dict(ref=512, widths=(4, 4, 2, 4, 3), body=True, face=True, swap=False, alpha=False),
    "mimicmotion": dict(ref=2160, widths=(4, 4, 2, 4, 3), body=True, face=True, swap=True,
                        alpha=True),
    "echomimic": dict(ref=800, widths=(4, 4, 2, 4, 3), body=False, face=False, swap=True,
                      alpha=True),
}


def _colors(rgb: np.ndarray, alpha: np.ndarray, st: dict, *, truncate: bool = True) -> list:
    """Colours to draw ``(N, 3)`` as Python lists: R/B swapped for BGR-drawn styles, dimmed by
    confidence ``alpha`` (N,) if the style does; truncated to int like controlnet_aux's body
    colours, or left float (OpenCV rounds) like its hand colours."""
    c = rgb[:, ::-1] if st["swap"] else rgb
    if st["alpha"]:
        c = c * np.asarray(alpha, dtype=np.float64)[:, None]
    return (c.astype(np.int64) if truncate else c.astype(np.float64)).tolist()


def _draw_body(canvas: np.ndarray, body: np.ndarray, ok: np.ndarray, st: dict, w: tuple) -> None:
    stick, dot = w[0], w[1]
    limbs = np.array(LIMBS)
    conf = body[:, 2].astype(np.float64)
    limb_colors = _colors(COLORS[:len(LIMBS)] * LIMB_DIM, conf[limbs[:, 0]] * conf[limbs[:, 1]], st)
    xy = body[:, :2].astype(np.float64)
    for i, (a, b) in enumerate(LIMBS):
        if not (ok[a] and ok[b]):
            continue
        (x0, y0), (x1, y1) = xy[a], xy[b]
        length = math.hypot(x0 - x1, y0 - y1)
        angle = int(math.degrees(math.atan2(y0 - y1, x0 - x1)))
        center = (int((x0 + x1) / 2), int((y0 + y1) / 2))
        poly = cv2.ellipse2Poly(center, (int(length / 2), stick), angle, 0, 360, 1)
        # Dimming the colour equals controlnet_aux's canvas * 0.6 on a black canvas, and leaves
        # a photo under an overlay untouched.
        cv2.fillConvexPoly(canvas, poly, limb_colors[i])
    dot_colors = _colors(COLORS, conf, st)
    pts = body[:, :2].astype(np.int64).tolist()
    for i in np.flatnonzero(ok).tolist():
        cv2.circle(canvas, pts[i], dot, dot_colors[i], thickness=-1)


_HAND_EDGES = np.array(HAND_EDGES)
_BLUE = np.array([[0.0, 0.0, 255.0]])
_WHITE = np.array([[255.0, 255.0, 255.0]])


def _draw_hand(canvas: np.ndarray, hand: np.ndarray, ok: np.ndarray, st: dict, w: tuple) -> None:
    line, dot = w[2], w[3]
    conf = hand[:, 2].astype(np.float64)
    pts = hand[:, :2].astype(np.int64).tolist()
    edge_colors = _colors(HAND_COLORS, conf[_HAND_EDGES[:, 0]] * conf[_HAND_EDGES[:, 1]], st,
                          truncate=False)
    for i, (a, b) in enumerate(HAND_EDGES):
        if ok[a] and ok[b]:
            cv2.line(canvas, pts[a], pts[b], edge_colors[i], thickness=line)
    dot_colors = _colors(np.repeat(_BLUE, len(hand), axis=0), conf, st)
    for i in np.flatnonzero(ok).tolist():
        cv2.circle(canvas, pts[i], dot, dot_colors[i], thickness=-1)


def _draw_face(canvas: np.ndarray, face: np.ndarray, ok: np.ndarray, st: dict, w: tuple) -> None:
    pts = face[:, :2].astype(np.int64).tolist()
    colors = _colors(np.repeat(_WHITE, len(face), axis=0), face[:, 2], st)
    for i in np.flatnonzero(ok).tolist():
        cv2.circle(canvas, pts[i], w[4], colors[i], thickness=-1)


def line_widths(size: tuple[int, int], *, style: str = "dwpose") -> tuple[int, ...]:
    """Widths in pixels (stick half-width, body dot, hand line, hand dot, face dot) for a map
    of ``size`` (w, h): the style's widths scaled by the short side, at least 1 pixel."""
    st = _STYLE[style]
    s = min(size) / st["ref"]
    return tuple(max(1, int(round(v * s))) for v in st["widths"])


def draw_skeleton(canvas: np.ndarray, keypoints: np.ndarray, *, threshold: float = 0.3,
                  style: str = "dwpose") -> np.ndarray:
    """Draw one frame's skeleton onto ``canvas`` in place, and return it.

    Parameters
    ----------
    canvas : np.ndarray, shape (H, W, 3), uint8, C-contiguous
        RGB image (black for a pose map, or a photo for an overlay).
    keypoints : np.ndarray, shape (133, 3)
        x, y in pixels of ``canvas`` and confidence; points with confidence ``<= threshold``
        are skipped.
    threshold : float
        Confidence below which nothing is drawn (DWPose uses 0.3).
    style : {"dwpose", "mimicmotion", "echomimic"}
        Which family's drawing conventions to follow (module docstring).

    Raises
    ------
    OptionError
        Unknown ``style``.
    InputError
        A canvas that is not C-contiguous RGB uint8, or keypoints not of shape (133, 3).
    """
    if style not in _STYLE:
        raise OptionError(f"unknown pose-map style {style!r}; use one of {', '.join(STYLES)}")
    if canvas.dtype != np.uint8 or canvas.ndim != 3 or canvas.shape[2] != 3:
        raise InputError(f"the canvas is a {canvas.dtype} array of shape {canvas.shape}; draw on "
                         "an RGB uint8 image (H, W, 3)")
    if not canvas.flags.c_contiguous:
        raise InputError("OpenCV draws only on a C-contiguous canvas; pass "
                         "np.ascontiguousarray(canvas) and use the array it returns")
    kp = np.asarray(keypoints, dtype=np.float32)
    if kp.shape != (L.NUM_KEYPOINTS, 3):
        raise InputError(f"keypoints of shape {kp.shape}; draw one frame of the 133-point "
                         f"skeleton, shape ({L.NUM_KEYPOINTS}, 3)")
    st = _STYLE[style]
    h, w = canvas.shape[:2]
    widths = line_widths((w, h), style=style)
    finite = np.isfinite(kp).all(axis=1)
    kp = np.where(finite[:, None], kp, 0.0)
    ok = finite & (kp[:, 2] > threshold)
    if st["body"]:
        body = to_openpose18(kp)
        # DWPose gives the neck confidence 1 when both shoulders are seen, else 0.
        body[1, 2] = float(body[1, 2] > threshold)
        _draw_body(canvas, body, body[:, 2] > threshold, st, widths)
    for part in (L.LEFT_HAND, L.RIGHT_HAND):
        _draw_hand(canvas, kp[part], ok[part], st, widths)
    if st["face"]:
        _draw_face(canvas, kp[L.FACE], ok[L.FACE], st, widths)
    return canvas


def draw_pose_map(keypoints: np.ndarray, *, size: tuple[int, int], threshold: float = 0.3,
                  style: str = "dwpose") -> np.ndarray:
    """A pose map: ``keypoints`` (133, 3) drawn on a black RGB canvas of ``size`` (w, h).

    Returns uint8 ``(h, w, 3)``.
    """
    canvas = np.zeros((int(size[1]), int(size[0]), 3), dtype=np.uint8)
    return draw_skeleton(canvas, keypoints, threshold=threshold, style=style)
