"""The training-free warp renderer: one photo animated by a skeleton, frame by frame.

Per photo (``WarpRenderer.__init__``): segment the person, cut layers (torso, head + neck, one
per rigged arm), fill hidden torso texture and the background, mesh each layer and skin it to
the bones (the layers: :class:`~gesticulate.render.warp.layers.LayerBuilder`). Per frame
(``render``): bone transforms from the target skeleton, deformed vertices per layer, a backward
map rasterised from the mesh, ``cv2.remap`` of the layer's RGBA texture, face warps on the
head, composited back to front (RENDERING.md).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from gesticulate.errors import InputError
from gesticulate.render.warp import bones as B
from gesticulate.render.warp import face as F
from gesticulate.render.warp.backdrop import Backdrop
from gesticulate.render.warp.borrowed import borrow_hands, shown
from gesticulate.render.warp.hands import hand_masks
from gesticulate.render.warp.jit import compiled
from gesticulate.render.warp.layers import LayerBuilder
from gesticulate.render.warp.lent import lend_arms, lends, lent_bones
from gesticulate.render.warp.masks import grown, lab_of
from gesticulate.render.warp.mesh import (rasterise_backward, signed_areas, upsample_map,
                                         warm_up)
from gesticulate.render.warp.parts import around_head, split_parts, strays_beside_head
from gesticulate.render.warp.pose import Poser
from gesticulate.render.warp.rig import BORDER, Layer
from gesticulate.render.warp.segment import add_region, content_box, edge_matte, person_alpha
from gesticulate.render.warp.surface import arm_below, desk_in_front
from gesticulate.skeleton import layout as L

# How far around the face's middle (face widths) the backdrop's band may hold hair
# (backdrop.clean_hole): at 1.3, 64 of the 119 pixels of portrait_s2.jpg's curls that stayed in
# the backdrop still did (the curls on top of his hair), at 1.8, 9. At least parts.STRAY_REACH:
# the strays joined to the hole lie in its band, where a faint one would be kept as backdrop.
HAIR_REACH = 1.8
# Pixels (at 512 px) of the person's edge read as a blend with the backdrop (edge_matte):
# 3 took the backdrop's rim off ted_lia_driving2's head and changed no clip's most-moved box
# PSNR by more than +0.01 dB; 5 cost ted_lia_driving1 0.15 dB.
EDGE_WIDTH = 3.0
# A rim (layers.RIM_WIDTH, HAND_RIM) is the photo's while the arm or hand it lies round keeps
# its place on the body or the arm within this many px, so the photo's own pose still renders
# the photo (:meth:`WarpRenderer._rim_still`).
RIM_STILL_PX = 3.0


def _check_inputs(image: np.ndarray, reference: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 \
            or image.dtype != np.uint8:
        raise InputError("the warp renderer needs an RGB uint8 image of shape (H, W, 3); "
                         f"got {getattr(image, 'shape', None)} {getattr(image, 'dtype', None)}. "
                         "Convert the photo to 8-bit RGB first.")
    if min(image.shape[:2]) < 16:
        raise InputError(f"the photo is too small to animate ({image.shape[1]}x{image.shape[0]}"
                         " pixels); use a photo at least 64 pixels on each side.")
    ref = np.asarray(reference)
    if ref.shape != (L.NUM_KEYPOINTS, 3):
        raise InputError(f"reference keypoints must have shape (133, 3); got {ref.shape}. "
                         "Extract them with gesticulate.skeleton from the same photo.")


class WarpRenderer(LayerBuilder):
    """Animate one photo of a person with target skeletons (stage 2, ``warp``).

    Parameters
    ----------
    image : np.ndarray
        RGB uint8 ``(H, W, 3)``, already at the output size.
    reference : np.ndarray
        ``(133, 3)`` COCO-WholeBody keypoints of ``image`` in its pixels, with confidence.
    seed : int
        Kept for a uniform pipeline interface; rendering is deterministic.
    factor : int
        Coarse step of the rasterised backward map in pixels; the map is affine inside each
        triangle, so bilinear upsampling from a coarse grid loses little.
    """

    def __init__(self, image: np.ndarray, reference: np.ndarray, *, seed: int = 0,
                 factor: int = 4):
        _check_inputs(image, reference)
        self.photo = np.ascontiguousarray(image)
        # Letterbox bars stay as they are; the puppet lives in the picture between them.
        x0, y0, x1, y1 = content_box(self.photo)
        self.box = (x0, y0, x1, y1)
        self.offset = np.array([x0, y0, 0.0])
        self.image = np.ascontiguousarray(self.photo[y0:y1, x0:x1])
        self.reference = np.asarray(reference, np.float64) - self.offset
        self.seed = seed
        self.factor = factor
        h, w = self.image.shape[:2]
        self.size = (w, h)
        scale = min(w, h) / 512.0
        valid = B.valid_points(self.reference, self.size)
        self._valid = valid
        alpha, person = person_alpha(self.image)
        lab = lab_of(self.image)
        hands = hand_masks(self.image, self.reference, valid, person, lab)
        if person.any():
            for region in hands.values():
                add_region(alpha, person, region)
        if not person.any():
            raise InputError("no person was found in the photo; use a photo in which one "
                             "person's head and shoulders are clearly visible.")
        hole_grow = 12 * scale      # the person's hole grown so no blurred edge of them stays
        # A desk the segmenter took for part of the person goes back to the backdrop.
        surface, desk, reflection = desk_in_front(self.image, person, hands, self.reference,
                                                  valid, lab, grow=hole_grow)
        self.surface = surface      # the desk's edge, in the content box's frame (or None)
        person &= ~desk
        alpha[desk] = 0.0
        # The backdrop's fill is the set-up's longest step (OpenCV's shift-map took 1.4 s of
        # desk_host_body.png's 2.4 s), and OpenCV runs it without holding the GIL (the stripes'
        # march in numpy holds it for part of its 40-70 ms: backdrop._streaked): it starts on a
        # second thread here, as soon as the person's hole is known (before the parts are split,
        # 0.4 s), and the rest of the set-up runs beside it. Below a desk's edge the hole later
        # loses the body behind the desk, where the photo shows again: the desk's side is filled
        # again then (Backdrop.refill_below; a strip of rows, 0.01 s).
        pool = ThreadPoolExecutor(max_workers=1)
        hole = self._grown(person, hole_grow)
        strays = grown(strays_beside_head(self.image, lab, hole, self.reference, valid),
                       1.5 * scale)
        # A hand's reflection in a glossy desk leaves with the hand, its blurred tail too: the
        # fill there reads the desk around it, not the reflection (grown 2 px, its tail stayed
        # as desk and was filled on into a pale blob where desk_host_body.png's hand had lain).
        if reflection.any():
            strays |= self._grown(reflection, hole_grow)
        hole |= strays
        backdrop = pool.submit(Backdrop, self.image, hole, surface=surface, grow=hole_grow,
                               hair=around_head(self.reference, valid, (h, w), HAIR_REACH))
        pool.shutdown(wait=False)
        _compile_loops()            # the per-frame loops compiled beside the fill
        # The person's edge unmixed from the backdrop: the layers carry the person's colours
        # (self._fg), and the photo shown around a still person is what lay behind them.
        alpha, self._fg, photo_bg = edge_matte(self.image, person, alpha, width=EDGE_WIDTH * scale)
        self.parts = split_parts(person, self.reference, valid, hands, lab)
        if surface is not None:
            # Below a desk's edge the body is behind the desk: what the torso's layer would hold
            # there (a shirt's reflection in the gloss, what an arm or a hand covers) is the
            # backdrop's: the photo where it shows, the fill where an arm uncovers it.
            on_desk = surface.below((h, w))
            behind = self.parts.torso & on_desk
            for limb in self.parts.arms.values():
                behind &= ~limb                     # a hand resting on the desk stays a hand
            # ... and an arm's reflection in it (surface.arm_below).
            for side, seg in self.parts.segments.items():
                for piece, off in arm_below(surface, seg, self.parts.arm_info[side].joints,
                                            self.parts.shoulder_width).items():
                    seg[piece] &= ~off
                    self.parts.arms[side] &= ~off
                    behind |= off
                    self.parts.trim_hidden_upper(side, off)
            self.parts.torso &= ~on_desk
            if self.parts.hidden is not None:
                self.parts.hidden &= ~on_desk
            person &= ~behind
            alpha[behind] = 0.0
            # The desk's edge is in front of the body: the body's blurred edge stops there
            # (pats_oliver_slice18.png: grown from his suit above it, the hole took the glass
            # desk's rail along its whole width, filled from its bright ends, a pale block
            # where his hand had lain). An arm's and a hand's run on past it: they may lie on
            # the desk.
            limbs = self.parts.arm_pixels()
            first = hole
            hole = (self._grown(person & ~on_desk & ~limbs, hole_grow) & ~on_desk) \
                | self._grown(person & (on_desk | limbs), hole_grow) | strays
        # The ring between the person and the inpainted hole edge is real background in the
        # photo; it is shown again wherever the person still is nearby in a frame (so the
        # photo's own pose renders the photo), and inpainted where the person moved away.
        # So is the backdrop an arm's layer leaves out (seen through it, :meth:`_backdrop_in`),
        # or it is the photo's in every frame where :meth:`_seen_backdrop` keeps it; and what
        # lay behind an arm's soft edge beside the backdrop between a hand's fingers
        # (``feathered``, ``behind``), only while the arm stays.
        grow = max(int(round(3 * scale)), factor + 1)     # layers past their regions (px)
        regions, through, feathered, behind = self._build_layers(person, alpha, lab, valid,
                                                                 scale, grow)
        # A hand laced under the other, unread, or mostly under it, drawn as the other where
        # the motion opens it.
        self._borrowed = borrow_hands(self.layers, self.parts, self.reference, valid, self.size,
                                      scale=scale, grow=grow)
        # An arm that leaves the photo by its elbow, its forearm and hand drawn as the other's
        # where the motion has that hand.
        self._lent = lend_arms(self.layers, self.parts, self.reference, valid, self.size,
                               scale=scale, grow=grow)
        ring = hole & ((alpha < 0.99) | through | feathered)
        photo_bg[through] = self.image[through]
        photo_bg[feathered] = behind[feathered]
        self._ring = np.flatnonzero(ring)
        self._near = int(np.ceil(12 * scale / factor)) + 1
        # Bilinear taps of each ring pixel on the coarse (1/factor) coverage canvas.
        ry, rx = np.divmod(self._ring, w)
        cy = np.clip((ry - (factor - 1) / 2) / factor, 0, -(-h // factor) - 1)
        cx = np.clip((rx - (factor - 1) / 2) / factor, 0, -(-w // factor) - 1)
        self._taps = (np.floor(cy).astype(np.int64), np.floor(cx).astype(np.int64),
                      (cy - np.floor(cy)).astype(np.float32), (cx - np.floor(cx)).astype(np.float32))
        self._ring_owner = self._owners(regions, person)
        # The ring pixels each layer owns (per frame, only their restoration weight changes).
        self._ring_of = [np.flatnonzero(self._ring_owner == k) for k in range(len(self.layers))]
        # Telea beside the head (with no shoulders seen the head is the whole person: Telea
        # everywhere).
        fill = backdrop.result()
        if surface is not None and ((first ^ hole) & on_desk).any():
            fill.refill_below(hole)
        self.background = np.where(hole[..., None], fill.filled(self.parts.head), self.image)
        if through.any():
            self.background = self._seen_backdrop(through, hole, scale)
        flat_img = photo_bg.reshape(-1, 3).astype(np.float32)
        flat_bg = self.background.reshape(-1, 3).astype(np.float32)
        self._ring_bg = flat_bg[self._ring]
        self._ring_diff = flat_img[self._ring] - self._ring_bg
        self._background_rgba = cv2.cvtColor(self.background, cv2.COLOR_RGB2RGBA)
        self.poser = Poser(self.reference, valid, self.parts, self.size)
        self.mouth, self.eyes = F.build_face(self.image, self.reference, valid)
        self._cache: dict[str, tuple] = {}
        self._rim_cache: dict[str, tuple] = {}
        self._last: tuple | None = None
        self._bg_last: tuple | None = None
        self.flipped = 0          # flipped triangles in the last rendered frame (a check)

    def _rim_still(self, bones: np.ndarray) -> dict[str, tuple]:
        """Per layer with rims, per entry of ``self._rims``, how much its arm or hand kept its
        place on the layer's bone in this frame, 0..1 in steps of 1/16: 1 within a pixel, 0
        past :data:`RIM_STILL_PX`."""
        out: dict[str, list] = {}
        for name, _, base, pts, _, _ in self._rims:
            d = 0.0
            for bone, j in pts:
                if not self._valid[j]:
                    continue
                p = self.reference[j, :2]
                moved = bones[bone, :, :2] @ p + bones[bone, :, 2]
                still = bones[base, :, :2] @ p + bones[base, :, 2]
                d = max(d, float(np.hypot(*(moved - still))))
            out.setdefault(name, []).append(
                float(np.round(16 * np.clip((RIM_STILL_PX - d) / (RIM_STILL_PX - 1), 0, 1))) / 16)
        return {name: tuple(v) for name, v in out.items()}

    def _rim_texture(self, layer: Layer, still: tuple) -> np.ndarray:
        """The layer's texture with its rims shown as the photo's by ``still``."""
        if not any(still):
            return layer.texture
        cached = self._rim_cache.get(layer.name)
        if cached is not None and cached[0] == still:
            return cached[1]
        tex = layer.texture.copy()
        flat = tex.reshape(-1, 4)
        mine = [r for r in self._rims if r[0] == layer.name]
        for (_, _, _, _, idx, diff), m in zip(mine, still):
            if m > 0:
                base = layer.texture.reshape(-1, 4)[idx, :3].astype(np.float32)
                flat[idx, :3] = np.clip(base + m * diff + 0.5, 0, 255).astype(np.uint8)
        self._rim_cache[layer.name] = (still, tex)
        return tex

    def render(self, keypoints: np.ndarray) -> np.ndarray:
        """Render one frame.

        Parameters
        ----------
        keypoints : np.ndarray
            ``(133, 3)`` target pose in the photo's pixel frame.

        Returns
        -------
        np.ndarray
            RGB uint8 ``(H, W, 3)``.
        """
        target = np.array(keypoints, np.float64)
        if target.shape != (L.NUM_KEYPOINTS, 3):
            raise InputError(f"target keypoints must have shape (133, 3); got {target.shape}.")
        frame = self._render(target - self.offset)
        x0, y0, x1, y1 = self.box
        if frame.shape == self.photo.shape:
            return frame
        out = self.photo.copy()
        out[y0:y1, x0:x1] = frame
        return out

    def _render(self, target: np.ndarray) -> np.ndarray:
        """One frame of the picture inside the bars; ``target`` in its pixels."""
        bad = ~np.isfinite(target).all(1)
        target[bad] = 0.0                              # a NaN point counts as not seen
        target[:, 2] = np.clip(target[:, 2], 0.0, 1.0)
        bones = self.poser.transforms(target)
        face = self._face_params(target)
        self.flipped = 0
        rims = self._rim_still(bones)
        drawn = [self._layer(layer, bones, face if layer.name == "head" else None,
                             rims.get(layer.name, ()))
                 for layer in self.layers]
        # A borrowed hand (borrowed.py) shows as much as the motion has it (a hand read in the
        # photo: or its wrist) away from the photo's pose, or the other hand away from it (a
        # read hand under the other), cross-faded with the hand's own layer.
        borrowed = {}
        for b in self._borrowed:
            share = shown(target, b.side, b.rest, read=b.read)
            hand = self._layer(b.layer, b.poser.transforms(target), None) if share > 0 else None
            if hand is not None and hand[0] is not None:      # (none: carried out of sight)
                borrowed[b.index] = (hand, share)
        # A lent forearm and hand (lent.py), in front, where the motion has that hand.
        lent = []
        for arm in self._lent:
            if lends(target, arm.side):
                moved = lent_bones(arm, bones, target)
                lent += [self._layer(layer, moved, None) for layer in arm.layers]
        # The layers drawn, by identity (each is its cache's object while nothing moved), kept
        # with the frame: an id is only an object's while that object lives, so a layer freed
        # could leave its address to a new one that would then read as unchanged.
        parts = (drawn, [d for d, _ in borrowed.values()], lent)
        key = (tuple(id(d) for d in drawn),
               tuple((i, id(d[1]), share) for i, (d, share) in borrowed.items()),
               tuple(id(d) for d in lent))
        if self._last is not None and self._last[0] == key:
            return self._last[1].copy()                 # nothing moved since the last frame
        out = self._background(drawn)
        for i, d in enumerate(drawn):
            if i not in borrowed:
                _put(out, d)
                continue
            _crossfaded(out, d, *borrowed[i])
        for d in lent:
            _put(out, d)
        frame = cv2.cvtColor(out, cv2.COLOR_RGBA2RGB)
        self._last = (key, frame, parts)
        return frame.copy()

    def _background(self, drawn: list) -> np.ndarray:
        """The inpainted background (RGBA canvas), with the photo's own ring of background
        restored where the layer it borders has not moved in this frame: each layer's still
        map at 1/factor scale, grown by the ring width, sampled bilinearly at the ring pixels
        that layer owns."""
        W, H = self.size
        f = self.factor
        out = self._background_rgba.copy()
        if not len(self._ring):
            return out
        key = tuple(None if d[0] is None else (d[0], np.round(d[3] * 32).astype(np.uint8).tobytes())
                    for d in drawn)
        if self._bg_last is not None and self._bg_last[0] == key:
            return self._bg_last[1].copy()               # same ring as the last frame
        k = 2 * self._near + 1
        m = np.zeros(len(self._ring), np.float32)
        for mine, (box, _, _, still) in zip(self._ring_of, drawn):
            if box is None or not len(mine):
                continue
            cover = np.zeros((-(-H // f), -(-W // f)), np.float32)
            sy, sx = box[1] // f, box[0] // f
            tgt = cover[sy:sy + still.shape[0], sx:sx + still.shape[1]]
            tgt[:] = np.round(still[:tgt.shape[0], :tgt.shape[1]] * 32) / 32
            near = cv2.blur(cv2.dilate(cover, np.ones((k, k), np.uint8)), (3, 3))
            compiled(_ring_sample)(near, *self._taps, mine, m)
        compiled(_ring_restore)(out.reshape(-1, 4), self._ring, self._ring_bg, self._ring_diff, m)
        self._bg_last = (key, out.copy())
        return out

    def _face_params(self, target: np.ndarray) -> dict:
        tv = target[:, 2] >= B.MIN_CONFIDENCE
        params = {"opening": 0.0, "closure": [0.0] * len(self.eyes)}
        if self.mouth is not None and tv[[L.MOUTH_LEFT_CORNER, L.MOUTH_RIGHT_CORNER,
                                          L.INNER_LIP_TOP, L.INNER_LIP_BOTTOM]].all():
            ratio = float(np.clip(F.mouth_ratio(target), 0.0, 0.7))
            params["opening"] = (ratio - self.mouth.ratio) * self.mouth.width
        for i, (contour, eye) in enumerate(self.eyes):
            if tv[list(contour)].all() and eye.ratio > 0.12:
                closure = 1 - F.eye_ratio(target, contour) / eye.ratio
                params["closure"][i] = float(np.clip(closure * 1.15, 0.0, 1.0))
        return params

    def _layer(self, layer: Layer, bones: np.ndarray, face: dict | None, rims: tuple = ()):
        """Warped ``(box, rgba uint8, alpha float32, still)`` of one layer, reused from the
        last frame when its vertices, face parameters and ``rims`` (the layer's, from
        :meth:`_rim_still`) did not change."""
        v = layer.mesh.vertices
        used = np.nonzero(layer.weights.any(0))[0]
        moved = np.einsum("bij,vj->bvi", bones[used, :, :2], v) + bones[used, None, :, 2]
        dst = (layer.weights[:, used].T[..., None] * moved).sum(0)          # (V, 2)
        # Vertices on a 1/8 px grid and face parameters to 0.01: what is drawn is a function of
        # the rounded values alone, so reusing the last frame's layer is exact (the frames do
        # not depend on which frames came before, nor on how many processes render them).
        q = np.round(dst * 8)
        dst = q / 8
        key = (q.astype(np.int32).tobytes(), rims)
        face_bone = np.round(bones[B.FACE] * 256) / 256     # the face warps follow the face
        if face is not None:
            face = {"opening": round(face["opening"], 2),
                    "closure": [round(c, 2) for c in face["closure"]]}
        face_key = None if face is None else repr((face["opening"], face["closure"],
                                                   face_bone.tobytes()))
        cached = self._cache.get(layer.name)
        if cached is not None and cached[0] == key and cached[1] == face_key:
            return cached[3]
        if cached is not None and cached[0][0] == key[0]:
            maps = cached[2]                      # same mesh pose: only the face changed
        else:
            self.flipped += int((signed_areas(dst, layer.mesh.triangles) < 0).sum())
            maps = self._maps(layer, dst)
        texture = self._rim_texture(layer, rims) if rims else layer.texture
        result = self._composite_layer(layer, maps, face, face_bone, texture)
        self._cache[layer.name] = (key, face_key, maps, result)
        return result

    def _maps(self, layer: Layer, dst: np.ndarray):
        """Backward map of a deformed layer: ``(box, map_x, map_y, coverage, still)``, the
        last a coarse 0..1 map of where the layer has not moved (for the background ring)."""
        W, H = self.size
        f = self.factor
        lo = np.floor(dst.min(0)).astype(int) - 1
        hi = np.ceil(dst.max(0)).astype(int) + 2
        x0, y0 = max(lo[0], 0) // f * f, max(lo[1], 0) // f * f    # aligned to the coarse grid
        x1, y1 = min(hi[0], W), min(hi[1], H)
        if x1 <= x0 or y1 <= y0:
            return None
        box = (x0, y0, x1 - x0, y1 - y0)
        cmx, cmy, cov = rasterise_backward(layer.mesh.vertices, dst, layer.mesh.triangles,
                                           box, factor=f)
        mx, my, fc = upsample_map(cmx, cmy, cov, box[2:], factor=f)
        # Where this layer sits still (its map moves a pixel by < 3 px) the photo's own ring of
        # background may show around it; where it moved, the ring is inpainted (no ghost edge).
        ch, cw = cov.shape
        gx = x0 + f * np.arange(cw, dtype=np.float32) + (f - 1) / 2
        gy = y0 + f * np.arange(ch, dtype=np.float32)[:, None] + (f - 1) / 2
        still = np.clip(1 - np.hypot(cmx - gx, cmy - gy) / 3.0, 0, 1) * cov
        return box, mx, my, np.clip(fc * (2 / 255.0) - 1 / 255.0, 0, 1 / 255.0), \
            still.astype(np.float32)

    def _composite_layer(self, layer: Layer, maps, face: dict | None, face_bone: np.ndarray,
                         texture: np.ndarray):
        """Remap the layer's texture (after the face warps, for the head) into its box:
        ``(box, rgba uint8, alpha float32, still)``."""
        if maps is None:
            return None, None, None, None
        box, mx, my, cover, still = maps
        overlays = []
        if face is not None:
            mx, my = mx.copy(), my.copy()         # the cached map stays unwarped
            overlays = self._face_warp(mx, my, box, face, face_bone)
        rgba = cv2.remap(texture, mx + BORDER, my + BORDER, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        a = rgba[..., 3].astype(np.float32)
        a *= cover
        for kind, sl, val, cov in overlays:
            part = rgba[sl][..., :3].astype(np.float32)
            if kind == "cavity":
                c = cov[..., None]
                part = part * (1 - c) + val * c
            else:
                part *= val[..., None]
            rgba[sl + (slice(0, 3),)] = np.clip(part + 0.5, 0, 255).astype(np.uint8)
        return box, rgba, a, still

    def _face_warp(self, mx, my, box, face, face_bone):
        """Mouth and eye warps on the head layer's map, each inside its own small window."""
        x0, y0, w, h = box
        overlays = []
        jobs = []
        if self.mouth is not None and abs(face["opening"]) > 0.3:
            jobs.append(("mouth", self.mouth.box(face["opening"]), None))
        for i, (_, eye) in enumerate(self.eyes):
            if face["closure"][i] > 0.02:
                jobs.append(("eye", eye.box(), i))
        for kind, corners, i in jobs:
            dst = corners @ face_bone[:, :2].T + face_bone[:, 2]
            lo = np.floor(dst.min(0)).astype(int) - 2 - [x0, y0]
            hi = np.ceil(dst.max(0)).astype(int) + 3 - [x0, y0]
            sl = (slice(max(lo[1], 0), min(hi[1], h)), slice(max(lo[0], 0), min(hi[0], w)))
            if sl[0].start >= sl[0].stop or sl[1].start >= sl[1].stop:
                continue
            sx, sy = mx[sl], my[sl]                      # views: warped in place
            if kind == "mouth":
                colour, cover = F.warp_mouth(self.mouth, face["opening"], sx, sy)
                if colour is not None:
                    overlays.append(("cavity", sl, colour, cover))
            else:
                dark = F.warp_eye(self.eyes[i][1], face["closure"][i], sx, sy)
                if dark is not None:
                    overlays.append(("lash", sl, dark, None))
        return overlays


def _put(canvas: np.ndarray, drawn: tuple) -> None:
    """Blend one warped layer ``(box, rgba, alpha, ...)`` (:meth:`WarpRenderer._layer`) over
    ``canvas`` (RGBA uint8), in place."""
    box, rgba, a = drawn[:3]
    if box is None:
        return
    x0, y0, w, h = box
    region = canvas[y0:y0 + h, x0:x0 + w]
    canvas[y0:y0 + h, x0:x0 + w] = cv2.blendLinear(rgba, region, a, 1.0 - a)


def _crossfaded(canvas: np.ndarray, own: tuple, lent: tuple, share: float) -> None:
    """``canvas`` with ``own``'s layer drawn over it times ``1 - share`` plus with ``lent``'s
    times ``share``, in place: where both are opaque, nothing under them shows (each blended
    over the other at its share, the canvas showed through both: a quarter of it at 0.5)."""
    if share >= 1:
        _put(canvas, lent)
        return
    under = canvas.copy()
    _put(canvas, own)
    _put(under, lent)
    cv2.addWeighted(canvas, 1.0 - share, under, share, 0.0, dst=canvas)


def _ring_sample(near, ty, tx, fy, fx, mine, m):       # pragma: no cover - compiled
    """``m[mine]``: ``near`` (a layer's coarse still map) sampled bilinearly at the ring pixels'
    taps, in float32 as NumPy did (:meth:`WarpRenderer._background`; :mod:`jit`)."""
    one = np.float32(1.0)
    h, w = near.shape
    for i in mine:
        y, x, wy, wx = ty[i], tx[i], fy[i], fx[i]
        y1, x1 = min(y + 1, h - 1), min(x + 1, w - 1)
        top = near[y, x] * (one - wx) + near[y, x1] * wx
        low = near[y1, x] * (one - wx) + near[y1, x1] * wx
        m[i] = top * (one - wy) + low * wy


def _ring_restore(flat, ring, bg, diff, m):          # pragma: no cover - compiled
    """The ring's pixels of the RGBA canvas ``flat`` ``(H * W, 4)``: the inpainted backdrop
    ``bg`` plus ``m`` of the photo's difference from it ``diff``, rounded (:mod:`jit`)."""
    half = np.float32(0.5)
    for j in range(len(ring)):
        for c in range(3):
            flat[ring[j], c] = np.uint8(bg[j, c] + diff[j, c] * m[j] + half)


def _compile_loops() -> None:
    """Compile the per-frame loops for the types they get (:mod:`jit`): the renderer calls
    this while it sets up, so the render workers it forks inherit them compiled."""
    warm_up()
    i, f = np.zeros(1, np.int64), np.zeros(1, np.float32)
    compiled(_ring_sample)(np.zeros((1, 1), np.float32), i, i, f, f, i, f.copy())
    compiled(_ring_restore)(np.zeros((1, 4), np.uint8), i, np.zeros((1, 3), np.float32),
                            np.zeros((1, 3), np.float32), f)
