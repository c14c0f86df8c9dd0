"""Once-per-photo set-up of the puppet: layer textures, meshes, skinning weights and the
inpainted background (RENDERING.md, "Once per photo").
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gesticulate.render.warp import bones as B
from gesticulate.render.warp.mesh import Mesh, build_mesh
from gesticulate.render.warp.parts import Parts
from gesticulate.skeleton import layout as L


@dataclass
class Layer:
    """One puppet layer.

    Attributes
    ----------
    name : str
        ``"torso"``, ``"head"``, ``"arm_left"`` or ``"arm_right"``.
    mesh : Mesh
        Vertices in photo pixels.
    weights : np.ndarray
        ``(V, NUM_BONES)`` float64 skinning weights, rows sum to 1.
    texture : np.ndarray
        ``(H, W, 4)`` uint8 RGBA: the photo (hidden parts filled, colours bled past the edge)
        with the layer's alpha.
    """

    name: str
    mesh: Mesh
    weights: np.ndarray
    texture: np.ndarray


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def inpaint(image: np.ndarray, hole: np.ndarray, *, scale: float = 0.5,
            pad: int = 16) -> np.ndarray:
    """Fill ``hole`` (bool ``(H, W)``) in an RGB uint8 image with Telea inpainting at reduced
    scale (speed), padding first because masks often touch the border. Pixels outside the hole
    are returned unchanged."""
    if not hole.any():
        return image.copy()
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    hole_p = cv2.copyMakeBorder(hole.astype(np.uint8), pad, pad, pad, pad, cv2.BORDER_REFLECT)
    small = cv2.resize(padded, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    hole_s = cv2.resize(hole_p, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
    hole_s = cv2.dilate(hole_s, np.ones((3, 3), np.uint8))
    filled = cv2.inpaint(small, hole_s, 5, cv2.INPAINT_TELEA)
    filled = cv2.GaussianBlur(filled, (5, 5), 0)
    up = cv2.resize(filled, (padded.shape[1], padded.shape[0]), interpolation=cv2.INTER_LINEAR)
    up = up[pad:-pad, pad:-pad]
    out = image.copy()
    out[hole] = up[hole]
    return out


def bleed(rgb: np.ndarray, region: np.ndarray, *, steps: int = 6) -> np.ndarray:
    """Extend the colours of ``region`` outwards by ``steps`` pixels, so bilinear sampling at a
    layer's edge never mixes in the colour of what lay behind it (no halo)."""
    out = rgb.astype(np.float32)
    known = region.astype(np.float32)
    kernel = np.ones((3, 3), np.float32)
    for _ in range(steps):
        wsum = cv2.filter2D(known, -1, kernel)
        acc = cv2.filter2D(out * known[..., None], -1, kernel)
        new = (known == 0) & (wsum > 0)
        out[new] = acc[new] / wsum[new][:, None]
        known = np.maximum(known, new.astype(np.float32))
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _border_pin(v: np.ndarray, size: tuple[int, int], reach: float) -> np.ndarray:
    """0..1 weight of the FIXED bone for vertices near the image border (the photo's crop edge
    must stay put: what lies beyond it has no texture)."""
    w, h = size
    d = np.minimum.reduce([v[:, 0], v[:, 1], w - 1 - v[:, 0], h - 1 - v[:, 1]])
    return 1.0 - _smoothstep(d / max(reach, 1.0))


def _torso_share(v: np.ndarray, parts: Parts, size: tuple[int, int],
                 ref: np.ndarray) -> np.ndarray:
    """How much each vertex follows the torso bone (vs FIXED): 1 at the shoulder line, 0 at the
    hips or the bottom of the photo."""
    if parts.shoulder_line is None:
        return np.zeros(len(v))
    mid, normal = parts.shoulder_line
    below = (v - mid) @ normal
    w, h = size
    reach = (h - 1 - mid[1]) / max(normal[1], 0.3)
    hips = ref[[L.LEFT_HIP, L.RIGHT_HIP]]
    if (hips[:, 2] >= B.MIN_CONFIDENCE).all() and hips[:, 1].mean() < h - 1:
        reach = min(reach, float((hips[:, :2].mean(0) - mid) @ normal))
    reach = max(reach, 0.25 * parts.shoulder_width, 8.0)
    return 1.0 - _smoothstep(below / reach)


def _head_share(v: np.ndarray, ref: np.ndarray, valid: np.ndarray, parts: Parts,
                size: tuple[int, int]) -> np.ndarray:
    """How much each vertex follows the head bone: 1 above the chin (the whole skull with its
    hair, so hair never shears off the head), falling to 0 down the neck to the shoulders."""
    face = ref[L.FACE_START:L.FACE_START + 68]
    seen = valid[L.FACE_START:L.FACE_START + 68]
    pts = face[seen, :2].astype(np.float64)
    chin = ref[L.CHIN, :2] if valid[L.CHIN] else pts[pts[:, 1].argmax()]
    eyes = [i for i in (L.face(36), L.face(39), L.face(42), L.face(45)) if valid[i]]
    top = ref[eyes, :2].mean(0) if eyes else pts.mean(0)
    down = chin - top
    face_size = max(float(np.linalg.norm(down)), 4.0)
    down /= face_size
    if parts.shoulder_line is not None:
        mid, normal = parts.shoulder_line
        neck = float((mid - chin) @ normal) / max(float(down @ normal), 0.3)
    else:
        neck = 0.8 * face_size
    neck = max(neck, 0.3 * face_size)
    t = (v - chin) @ down
    # Start the fall-off a little below the chin line so the jaw corners stay rigid.
    return 1.0 - _smoothstep((t - 0.1 * neck) / (0.8 * neck))


def _arm_weights(v: np.ndarray, info, side: str, parts: Parts, tau: float) -> np.ndarray:
    """Soft nearest-bone weights ``(V, 4)`` over (torso, upper, fore, hand) for an arm layer:
    a softmin of the distance to each bone segment, so joints bend smoothly."""
    S, E, W, H = info.joints
    mid = parts.shoulder_line[0]
    segs = [(mid, S), (S, E), (E, W), (W, H)]
    d = []
    for a, b in segs:
        ab = b - a
        t = np.clip(((v - a) @ ab) / max(ab @ ab, 1e-9), 0, 1)
        d.append(np.linalg.norm(v - (a + t[:, None] * ab), axis=1))
    d = np.stack(d, 1)
    if info.mode != "full":
        d[:, 3] = np.inf                                   # no hand in the photo
    logits = -(d - d.min(1, keepdims=True)) / tau
    e = np.exp(logits)
    return e / e.sum(1, keepdims=True)


def _layer_weights(name: str, v: np.ndarray, ref: np.ndarray, valid: np.ndarray,
                   parts: Parts, size: tuple[int, int]) -> np.ndarray:
    sw = max(parts.shoulder_width, 0.1 * min(size))
    wts = np.zeros((len(v), B.NUM_BONES))
    torso = _torso_share(v, parts, size, ref)
    if name == "torso":
        wts[:, B.TORSO], wts[:, B.FIXED] = torso, 1 - torso
    elif name == "head":
        head = _head_share(v, ref, valid, parts, size)
        wts[:, B.HEAD] = head
        wts[:, B.TORSO] = (1 - head) * torso
        wts[:, B.FIXED] = (1 - head) * (1 - torso)
    else:
        side = name.split("_", 1)[1]
        info, arm = parts.arm_info[side], B.ARMS[side]
        a = _arm_weights(v, info, side, parts, tau=0.06 * sw)
        wts[:, B.TORSO] = a[:, 0] * torso
        wts[:, B.FIXED] = a[:, 0] * (1 - torso)
        wts[:, arm["upper"]] = a[:, 1]
        wts[:, arm["fore"]] = a[:, 2]
        wts[:, arm["hand"]] = a[:, 3]
    # Pin what the photo's border cuts (a body or arm running out of frame) — but not the
    # skull: a head cut by the top edge moves whole, its hair continuing past the border.
    pin = _border_pin(v, size, reach=0.12 * sw)[:, None] * (1.0 - wts[:, [B.HEAD]])
    moving = wts.copy()
    moving[:, B.HEAD] = 0
    wts -= pin * moving / np.maximum(moving.sum(1, keepdims=True), 1e-9)
    wts[:, B.FIXED] += pin[:, 0]
    return np.clip(wts, 0, None)


def build_layer(name: str, region: np.ndarray, rgb: np.ndarray, alpha: np.ndarray,
                ref: np.ndarray, valid: np.ndarray, parts: Parts, *, spacing: float,
                grow: int) -> Layer | None:
    """Mesh, weights and RGBA texture of one layer; None when the region is empty."""
    h, w = region.shape
    if region.sum() < 20:
        return None
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    cover = cv2.dilate(region.astype(np.uint8), kernel) > 0
    # Mesh a padded mask so that layers cut by the photo's border reach past it (the border
    # pixels then have a map to sample; the texture is sampled with replicated edges).
    pad = max(2 * grow, int(0.06 * max(h, w)))
    mesh = build_mesh(np.pad(cover, pad, mode="edge"), spacing=spacing)
    if len(mesh.triangles) == 0:
        return None
    mesh.vertices -= pad
    weights = _layer_weights(name, mesh.vertices, ref, valid, parts, (w, h))
    # The layer's alpha: the person's soft alpha inside the region, feathered a little outside
    # so neighbouring layers overlap instead of cracking.
    inner = region.astype(np.float32)
    feather = cv2.GaussianBlur(inner, (0, 0), 1.0)
    a = np.clip(alpha * np.maximum(inner, np.clip(feather * 2 - 0.0, 0, 1)), 0, 1)
    a = np.where(cover, a, 0)
    texture = np.dstack([bleed(rgb, region | (a > 0.01)), (a * 255 + 0.5).astype(np.uint8)])
    return Layer(name, mesh, weights, texture)


def fill_from_above(image: np.ndarray, hole: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Fill the torso under the arms by extending, column by column, the nearest visible torso
    pixel above — clothes (lapels, shirt, tie, buttons) run vertically, so this continues them
    where a smooth inpainting would leave a grey smear. Columns with nothing above fall back to
    Telea inpainting; the result is softened vertically to hide the streak ends.

    Parameters
    ----------
    image : np.ndarray
        RGB uint8 ``(H, W, 3)``.
    hole : np.ndarray
        ``(H, W)`` bool, pixels to replace.
    source : np.ndarray
        ``(H, W)`` bool, pixels that may be copied (visible torso).
    """
    h, w = hole.shape
    rows = np.where(source & ~hole, np.arange(h)[:, None], -1)
    last = np.maximum.accumulate(rows, axis=0)                 # nearest source row above
    cols = np.broadcast_to(np.arange(w), (h, w))
    # Only continue clothes over a moderate distance; further down, inpaint.
    ok = hole & (last >= 0) & (np.arange(h)[:, None] - last < 0.35 * h)
    out = inpaint(image, hole & ~ok)
    src = image[np.clip(last, 0, h - 1), cols]
    # Fade the copied colour a little towards a blurred version with distance from its row.
    far = np.clip((np.arange(h)[:, None] - last) / (0.15 * h), 0, 1)[..., None]
    blurred = cv2.GaussianBlur(src, (0, 0), 3.0)
    mixed = src * (1 - 0.6 * far) + blurred * (0.6 * far)
    out[ok] = np.clip(mixed[ok], 0, 255).astype(np.uint8)
    return out
