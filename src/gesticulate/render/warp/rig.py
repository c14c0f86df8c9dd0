"""Once-per-photo set-up of the puppet: layer textures, meshes and skinning weights
(RENDERING.md, "Once per photo"). The backdrop behind the person is filled by
:mod:`~gesticulate.render.warp.backdrop`, the cloth under the arms by
:mod:`~gesticulate.render.warp.cloth`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gesticulate.render.warp import bones as B
from gesticulate.render.warp.fill import bleed
from gesticulate.render.warp.masks import lab_of
from gesticulate.render.warp.mesh import Mesh, build_mesh
from gesticulate.render.warp.parts import Parts, torso_share
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.tracks import smoothstep


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
        ``(H + 2B, W + 2B, 4)`` uint8 RGBA: the photo (hidden parts filled, colours bled past
        the edge) with the layer's alpha, padded by ``B = BORDER`` pixels on each side.
    """

    name: str
    mesh: Mesh
    weights: np.ndarray
    texture: np.ndarray


def _border_pin(v: np.ndarray, size: tuple[int, int], reach: float) -> np.ndarray:
    """0..1 weight of the LOWER bone for vertices near the image border (the photo's crop edge
    moves only with the body's bottom: what lies beyond it has no texture)."""
    w, h = size
    d = np.minimum.reduce([v[:, 0], v[:, 1], w - 1 - v[:, 0], h - 1 - v[:, 1]])
    return 1.0 - smoothstep(d / max(reach, 1.0))


def _torso_share(v: np.ndarray, parts: Parts, size: tuple[int, int],
                 ref: np.ndarray) -> np.ndarray:
    """How much each vertex follows the torso bone (vs LOWER, the hips): :func:`torso_share`."""
    if parts.shoulder_line is None:
        return np.zeros(len(v))
    mid, normal = parts.shoulder_line
    return torso_share((v - mid) @ normal, parts, size, ref)


# Shoulder tops reach this far (shoulder widths) above the shoulder line, with a fall-off over
# the second figure.
SHOULDER_TOP = (0.3, 0.15)


# Below the chin (in shares of its height over the shoulder line), what is not the neck's
# colour lets go of the head from NECK_FREE[0] on, over NECK_FREE[1]. The neck's colour: the
# photo's around the point NECK_PATCH[0] down from the chin, within NECK_PATCH[1]; its spread
# (CIELAB) at least NECK_SPREAD (the neck's shading under the chin).
NECK_FREE = (0.25, 0.2)
NECK_PATCH = (0.2, 0.1)
NECK_SPREAD = (25.0, 8.0, 8.0)
# Beside the neck (from COLLAR[0] half-faces out from the chin along the shoulder line, over
# COLLAR[1] more) and below the mouth (over COLLAR[2] of the chin's height over the shoulder
# line), what is neither the neck's colour nor the hair's lets go of the head too, smoothed
# over the vertices within about COLLAR[4] of that height: a collar or a jacket's collar rises
# beside the neck to the chin's height, where the head layer carried it (ted_lia_driving2's bead
# collar sheared up to her ear when her head rolled). The hair's colour: the head's top, down
# COLLAR[3] of that height. Most-moved box PSNR over still, 12 clips' self-reenactment: mean
# +2.99 -> +3.06 dB; hbr_speaker12 +1.26 -> +1.49 (his jacket's collar), ted_lia_driving2
# +7.36 -> +7.50, avspeech_sample2 +1.23 -> +1.39, un_speech_female +1.94 -> +2.14;
# ted_lia_driving3 lost most, +2.70 -> +2.69. Unsmoothed, the head's mesh folded (7 flipped
# triangles on the bundled astronaut rolling her head 0.15 rad).
COLLAR = (0.5, 0.3, 0.2, 0.25, 0.15)


def _head_share(v: np.ndarray, ref: np.ndarray, valid: np.ndarray, parts: Parts,
                size: tuple[int, int]) -> np.ndarray:
    """How much each vertex follows the head bone: 1 above the chin (the whole skull with its
    hair, so hair never shears off the head), falling to 0 down the neck to the shoulders;
    0 on the shoulder tops out past the hair, even above the chin's line (a rolled head's)."""
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
    share = 1.0 - smoothstep((t - 0.1 * neck) / (0.8 * neck))
    # Below the chin, only the neck follows the head, not the shoulders out to the side (they
    # would lift off the body as a flap when the head turns).
    across = np.array([-down[1], down[0]])
    half = 0.5 * max(float(np.ptp(pts @ across)), 4.0)
    side = np.abs((v - chin) @ across)
    lateral = 1.0 - smoothstep((side - 0.8 * half) / (1.2 * half))
    # Hair hanging beside the chin (within 1.2–1.8 half-faces of its middle) lets go of the
    # head over 0.3 of the neck below the chin line, not at it: there a torso squeezed by a
    # turn towards profile cut a step into ted_lia_driving3's hair. The shoulders further out
    # still let go at the line (letting them follow the head moved un_speech_female's shoulder
    # tops with her turning head: arm fidelity 0.919 -> 0.888).
    near = 1.0 - smoothstep((side - 1.2 * half) / (0.6 * half))
    lateral = lateral + (1.0 - lateral) * (1.0 - smoothstep(t / (0.3 * neck))) * near
    share = np.where(t > 0, share * lateral, share)
    if parts.shoulder_line is not None:
        # Out past the hair (along the shoulder line, from the chin) and down by the shoulder
        # line: the shoulder tops, which the chin's line of a rolled head passes below
        # (un_speech_female's rose off her shoulder as a flap when she turned her head).
        mid, normal = parts.shoulder_line
        low = 1.0 - smoothstep((-((v - mid) @ normal) - SHOULDER_TOP[0] * parts.shoulder_width)
                               / (SHOULDER_TOP[1] * parts.shoulder_width))
        out = np.abs((v - chin) @ np.array([normal[1], -normal[0]]))   # along the line
        far = smoothstep((out - 1.8 * half) / (0.6 * half))
        share = share * (1.0 - far * low)
    return share


def _neck_skin(v: np.ndarray, ref: np.ndarray, valid: np.ndarray, parts: Parts,
               rgb: np.ndarray) -> np.ndarray:
    """1 where the head's share may reach, less below the chin on what is not the neck's own
    colour: a collar, a necklace or a dress's neckline lies on the shoulders and stays with
    them when the head turns (carried with the neck, ted_lia_driving2's bead collar sheared up
    to her ear and un_speech_female's neckline rose off her shoulder as a flap). The neck's
    colour is read just under the chin, or is the face's where that is not skin (a collar up
    to the chin)."""
    if parts.shoulder_line is None or not valid[L.CHIN]:
        return np.ones(len(v))
    chin = ref[L.CHIN, :2]
    mid, normal = parts.shoulder_line
    neck = float((mid - chin) @ normal)                # the chin's height over the line
    if neck < 4.0:
        return np.ones(len(v))
    h, w = rgb.shape[:2]
    lab = lab_of(cv2.GaussianBlur(rgb, (0, 0), max(1.0, 0.02 * parts.shoulder_width)))
    c = chin + NECK_PATCH[0] * neck * normal
    r = max(2.0, NECK_PATCH[1] * neck)
    yy, xx = np.mgrid[0:h, 0:w]
    patch = lab[(xx - c[0]) ** 2 + (yy - c[1]) ** 2 <= r * r]
    if len(patch) < 5:
        return np.ones(len(v))
    mu, spread = _colour_of(patch)
    if parts.skin is not None and np.linalg.norm((mu - parts.skin[0]) / parts.skin[1]) > 1.5:
        mu, spread = parts.skin[0], np.asarray(NECK_SPREAD)   # a collar over the neck
    x = np.clip(np.round(v[:, 0]).astype(int), 0, w - 1)
    y = np.clip(np.round(v[:, 1]).astype(int), 0, h - 1)
    d = np.linalg.norm((lab[y, x] - mu) / spread, axis=1)
    cloth = smoothstep(d - 1.0)                      # 0 on the neck's colour, 1 a unit past
    low = smoothstep((((v - chin) @ normal) / neck - NECK_FREE[0]) / NECK_FREE[1])
    # Beside the neck the release is smoothed over the vertices near each: read per vertex,
    # a collar's beads and the dark between them took neighbours apart, and the head's mesh
    # folded between them as it rolled.
    beside = _beside_neck(v, lab[y, x], lab, ref, valid, parts, chin, neck) * cloth
    if beside.any():
        d2 = ((v[:, None, :] - v[None, :, :]) ** 2).sum(-1)
        near = np.exp(-0.5 * d2 / (COLLAR[4] * neck) ** 2)
        beside = near @ beside / near.sum(1)
    return 1.0 - np.maximum(low * cloth, beside)


def _colour_of(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Robust colour ``(median, spread)`` of CIELAB samples ``(N, 3)``: the spread three
    robust deviations, at least :data:`NECK_SPREAD` (a region's shading)."""
    mu = np.median(samples, 0)
    return mu, np.maximum(3.0 * 1.4826 * np.median(np.abs(samples - mu), 0), NECK_SPREAD)


def _beside_neck(v: np.ndarray, colours: np.ndarray, lab: np.ndarray, ref: np.ndarray,
                 valid: np.ndarray, parts: Parts, chin: np.ndarray, neck: float) -> np.ndarray:
    """``(V,)`` 0..1, how far the vertices ``v`` (of ``colours``) beside the neck and below
    the mouth (:data:`COLLAR`), of a colour not the hair's, are out of the head's reach, as
    those below the chin (:func:`_neck_skin`; ``lab``: the photo blurred, in CIELAB). The
    hair's colour is the head's top's, down COLLAR[3] of the chin's height over the shoulder
    line (``neck``)."""
    if parts.head is None or not parts.head.any():
        return np.zeros(len(v))
    normal = parts.shoulder_line[1]
    top = parts.head.copy()
    top[np.flatnonzero(top.any(1))[0] + max(2, int(COLLAR[3] * neck)):] = False
    hair = lab[top]
    if len(hair) < 5:
        return np.zeros(len(v))
    mu, spread = _colour_of(hair)
    not_hair = smoothstep(np.linalg.norm((colours - mu) / spread, axis=1) - 1.0)
    across = np.array([normal[1], -normal[0]])               # along the shoulder line
    face = ref[L.FACE_START:L.FACE_START + 68]
    half = 0.5 * max(float(np.ptp(face[valid[L.FACE_START:L.FACE_START + 68], :2] @ across)),
                     4.0)
    beside = smoothstep((np.abs((v - chin) @ across) - COLLAR[0] * half) / (COLLAR[1] * half))
    mouth = ref[L.MOUTH_LEFT_CORNER, :2] if valid[L.MOUTH_LEFT_CORNER] else chin
    below = smoothstep(((v - mouth) @ normal) / (COLLAR[2] * neck))
    return beside * below * not_hair


def _face_share(v: np.ndarray, ref: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """How much each vertex follows the inner face (:data:`bones.FACE`) rather than the
    skull: 1 inside the hull of the brows, eyes, nose and mouth, 0 on and outside the face's
    outline (the jaw and the forehead above the brows), and between them, across the cheeks
    and temples, by how near each is to the one and the other — so the points the face's
    bone is fitted to move with it, those of the contour with the skull, and the cheeks
    stretch and squeeze as a turning head's do. 0 everywhere without a face
    (:func:`bones.face_outlines`)."""
    outlines = B.face_outlines(ref, valid)
    if outlines is None:
        return np.zeros(len(v))
    inner, outer = outlines
    out = np.zeros(len(v))
    for k, p in enumerate(v):
        pt = (float(p[0]), float(p[1]))
        d_out = cv2.pointPolygonTest(outer, pt, True)
        if d_out <= 0:
            continue                                  # on or outside the outline: the skull's
        d_in = -cv2.pointPolygonTest(inner, pt, True)
        out[k] = 1.0 if d_in <= 0 else d_out / (d_out + d_in)
    return smoothstep(out)


def _along(v: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Position ``t`` of vertices ``(V, 2)`` projected on the bone a→b (0 at a, 1 at b)."""
    ab = b - a
    return ((v - a) @ ab) / max(float(ab @ ab), 1e-9)


def _arm_weights(v: np.ndarray, piece: str, info) -> np.ndarray:
    """Weights ``(V, 2)`` over (parent, own bone) of an arm piece. The upper arm blends into
    the torso over its shoulder cap (the cap stays on the body as the arm swings); the forearm
    and the hand are rigid with their bones, their pieces grown into the parent's so the
    joint is covered when it bends (RENDERING.md: grow each part into its parent; a blend
    across a bending elbow folds the mesh over itself)."""
    S, E, W, H = info.joints
    if piece == "upper":
        own = smoothstep(_along(v, S, E) / 0.25)
    else:
        own = np.ones(len(v))
    return np.stack([1.0 - own, own], 1)


# A hand layer's vertex follows a finger (:func:`_finger_shares`) within FINGER_REACH palm
# lengths (wrist to middle knuckle) of the finger's landmarks, fading over FINGER_FADE beyond;
# from its knuckle on, fully past FINGER_ROOT of the finger's length; between two fingers
# shared by a Gaussian of FINGER_SIGMA palm lengths on the distances to each.
FINGER_REACH = 0.22
FINGER_FADE = 0.1
FINGER_ROOT = 0.3
FINGER_SIGMA = 0.1


def _finger_shares(v: np.ndarray, ref: np.ndarray, valid: np.ndarray, hs: int) -> np.ndarray:
    """``(V, 5)``: how much each vertex of a hand layer follows each finger bone
    (:data:`bones.FINGER_CHAINS`), the rest following the palm; rows sum to 1 at most. A
    finger not seen in the photo takes none."""
    out = np.zeros((len(v), len(B.FINGER_CHAINS)))
    pts = ref[hs:hs + 21, :2].astype(np.float64)
    mid = L.HAND_MIDDLE[0]
    if not valid[[hs, hs + mid]].all():
        return out
    palm = float(np.linalg.norm(pts[mid] - pts[0]))
    if palm < 2:
        return out
    dist = np.full(out.shape, np.inf)
    for k, chain in enumerate(B.FINGER_CHAINS):
        if not valid[[hs + j for j in chain]].all():
            continue
        d = np.full(len(v), np.inf)
        for a, b in zip(chain[:-1], chain[1:]):
            t = np.clip(_along(v, pts[a], pts[b]), 0.0, 1.0)
            d = np.minimum(d, np.linalg.norm(v - (pts[a] + t[:, None] * (pts[b] - pts[a])),
                                             axis=1))
        dist[:, k] = d
        root = smoothstep(_along(v, pts[chain[0]], pts[chain[-1]]) / FINGER_ROOT)
        near = smoothstep((FINGER_REACH * palm - d) / (FINGER_FADE * palm) + 1.0)
        out[:, k] = root * near
    seen = np.isfinite(dist).any(0)
    if not seen.any():
        return out
    d = dist[:, seen] - dist[:, seen].min(1, keepdims=True)     # the nearest one's at 0
    g = np.exp(-0.5 * (d / (FINGER_SIGMA * palm)) ** 2)
    out[:, seen] *= g / g.sum(1, keepdims=True)
    return out


def _layer_weights(name: str, v: np.ndarray, ref: np.ndarray, valid: np.ndarray,
                   parts: Parts, size: tuple[int, int], rgb: np.ndarray | None = None
                   ) -> np.ndarray:
    sw = max(parts.shoulder_width, 0.1 * min(size))
    wts = np.zeros((len(v), B.NUM_BONES))
    torso = _torso_share(v, parts, size, ref)
    pinned = True
    if name == "torso":
        wts[:, B.TORSO], wts[:, B.LOWER] = torso, 1 - torso
    elif name == "head":
        head = _head_share(v, ref, valid, parts, size)
        if rgb is not None:
            head *= _neck_skin(v, ref, valid, parts, rgb)
        face = _face_share(v, ref, valid)
        wts[:, B.HEAD] = head * (1 - face)
        wts[:, B.FACE] = head * face
        wts[:, B.TORSO] = (1 - head) * torso
        wts[:, B.LOWER] = (1 - head) * (1 - torso)
    else:
        piece, side = name.split("_", 1)
        info, arm = parts.arm_info[side], B.ARMS[side]
        parent, own = _arm_weights(v, piece, info).T
        if piece == "upper":
            wts[:, B.TORSO] = parent * torso
            wts[:, B.LOWER] = parent * (1 - torso)
        else:
            wts[:, arm["upper" if piece == "fore" else "fore"]] = parent
        wts[:, arm[piece]] = own
        if piece == "hand" and info.has_hand:
            fingers = own[:, None] * _finger_shares(v, ref, valid, arm["hand_start"])
            wts[:, list(arm["fingers"])] = fingers
            wts[:, arm["hand"]] -= fingers.sum(1)
        # A whole arm moves whole: pinning the part the border cuts would stretch it into
        # streaks when the hand rises; only an arm that leaves the photo stays attached.
        pinned = info.mode != "full"
    if not pinned:
        return wts
    # Pin what the photo's border cuts (a body or arm running out of frame) — but not the
    # skull: a head cut by the top edge moves whole, its hair continuing past the border.
    pin = _border_pin(v, size, reach=0.12 * sw)[:, None] * (1.0 - wts[:, [B.HEAD]]
                                                             - wts[:, [B.FACE]])
    moving = wts.copy()
    moving[:, [B.HEAD, B.FACE]] = 0
    wts -= pin * moving / np.maximum(moving.sum(1, keepdims=True), 1e-9)
    wts[:, B.LOWER] += pin[:, 0]
    return np.clip(wts, 0, None)


# A layer reads its picture within this many px of its region (:func:`build_layer`: the
# feather's alpha, a blur of 1 px doubled, falls under 0.01 by 2.5 px out).
LAYER_READ = 4.0


def body_spacing(scale: float) -> float:
    """A body layer's mesh spacing (px) for a picture ``scale`` times 512 px (:func:`mesh_step`)."""
    return max(6.0, 14.0 * scale)


def mesh_step(region: np.ndarray, spacing: float, scale: float, *, fine: bool) -> float:
    """A layer's mesh spacing (px): ``spacing``, or for a ``fine`` one (a hand: fingers) 7 px at
    512 px (4 at least); coarser for big layers (a close-up head): per-frame cost grows with
    the triangle count, and a mostly rigid part needs few (~700 vertices at most)."""
    step = max(4.0, 7.0 * scale) if fine else spacing
    return max(step, float(np.sqrt(region.sum() / 700.0)))


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
    # The layer's alpha: the person's soft alpha inside the region, feathered a little outside
    # so neighbouring layers overlap instead of cracking; feathered from what the layer shows
    # only: past the backdrop an arm's layer leaves see-through (beside.backdrop_in_arm) lies
    # the segmenter's soft outline of that backdrop, which the layer carried away from the arm
    # as a thin line (hbr_speaker8's raised hand, generated: a light thread running up from
    # her fingers).
    inner = (region & (alpha > 0)).astype(np.float32)
    feather = cv2.GaussianBlur(inner, (0, 0), 1.0)
    a = np.clip(alpha * np.maximum(inner, np.clip(feather * 2 - 0.0, 0, 1)), 0, 1)
    a = np.where(cover, a, 0)
    colour = bleed(rgb, region | (a > 0.01))
    weights = _layer_weights(name, mesh.vertices, ref, valid, parts, (w, h), colour)
    texture = np.dstack([colour, (a * 255 + 0.5).astype(np.uint8)])
    return Layer(name, mesh, weights, _bordered(texture))


BORDER = 8          # pixels of texture past the photo's edge (see _bordered)


def _bordered(texture: np.ndarray) -> np.ndarray:
    """The RGBA texture padded by :data:`BORDER` pixels: the edge's colour repeated, its alpha
    fading out over the first few pixels. A layer that moves away from the photo's border then
    shows a short soft continuation and the background beyond it, never a long streak of the
    border's repeated pixels."""
    out = cv2.copyMakeBorder(texture, BORDER, BORDER, BORDER, BORDER, cv2.BORDER_REPLICATE)
    h, w = texture.shape[:2]
    yy = np.arange(h + 2 * BORDER)[:, None]
    xx = np.arange(w + 2 * BORDER)[None, :]
    past = np.maximum(np.maximum(BORDER - yy, yy - (h + BORDER - 1)),
                      np.maximum(BORDER - xx, xx - (w + BORDER - 1)))
    fade = np.clip(1.0 - past / 4.0, 0.0, 1.0)
    out[..., 3] = (out[..., 3] * fade + 0.5).astype(np.uint8)
    return out
