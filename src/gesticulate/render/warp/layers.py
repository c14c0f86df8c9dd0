"""The warp renderer's layers, built once per photo: the torso, head, upper arms, forearms and
hands cut from the photo (:mod:`~gesticulate.render.warp.parts`), each with what it hides filled
(:mod:`~gesticulate.render.warp.cloth`) and meshed (:mod:`~gesticulate.render.warp.rig`), and
the backdrop seen through them. :class:`LayerBuilder` is the half of
:class:`~gesticulate.render.warp.renderer.WarpRenderer` that does it; the renderer's set-up
calls it once the person, the parts and the photo's edge are known.
"""

from __future__ import annotations

import cv2
import numpy as np

from gesticulate.render.warp import bones as B
from gesticulate.render.warp.beside import backdrop_in_arm
from gesticulate.render.warp.cloth import fill_along, fill_hidden
from gesticulate.render.warp.fill import bleed, mirrored_across, smoothed_in
from gesticulate.render.warp.hands import bare_skin
from gesticulate.render.warp.masks import closed_gaps, colour_clusters, grown, touching
from gesticulate.render.warp.rig import (BORDER, LAYER_READ, Layer, body_spacing, build_layer,
                                         mesh_step)
from gesticulate.render.warp.segment import unmixed
from gesticulate.skeleton import layout as L


# A body faces the camera (LayerBuilder._facing) with its shoulders level within FACING[0]
# degrees and its nose within FACING[1] shoulder widths of their middle, across. Its neck and
# collar (and face) are then as good as symmetric: the head layer's fill under a hand (at the
# neck, or over the face) takes their other side mirrored first. hbr_speaker8's hand over her
# neck and the cord of her necklace: filled from the neck's skin above it, a skin-coloured
# wedge ran down into her black top, cut off by a level seam where the torso's fill began; now
# the cord and the top's neckline run on round her neck. The torso's fill does not: mirrored,
# desk_host_body.png's tie, off the middle by a few px, got grey bars across it and
# hbr_speaker9's jacket a white blob of his shirt front.
FACING = (8.0, 0.08)
# The rim of a hand lying on the body, filled over with the body's cloth, px at any photo
# size: a small or upscaled photo (avspeech_sample1, 314 px high) blurs the hand's edge over
# 2-3 px, which a rim of 2 px at 512 px (1 px at 256) left on her shirt as an outline of her
# fingers.
HAND_RIM = 3.0
# ... and the torso's whole rim around an arm or a hand lying on it, shoulder widths: on a
# blurred video frame (ted_lia_driving1, 170 px across the shoulders at 512 px) a hand's soft
# edge runs 4-5 px onto the jacket and stayed drawn there, as a pale outline, when it moved.
# The same rim is an upper arm's round a hand lying on its sleeve. The rim is the photo's
# while that arm or hand keeps its place on the body or the arm (RIM_STILL_PX), so the photo's
# own pose still renders the photo.
RIM_WIDTH = 0.03
# The torso between two hands that meet, or between the fingers (gaps up to twice HANDS_GAP
# shoulder widths across), lies in their shadow and holds what they hold: it is filled as the
# torso under them, and is the photo's while they stay (its rim). The mirror copied
# ted_lia_driving2_noaudio's dress between her clasped hands, lit and holding a clicker, into
# the dress as tan and grey shards once her hands parted: there, with her forearms turned out
# 0.9 rad, the share of coloured pixels (CIELAB chroma over 12) fell from 0.09 to 0 and the
# grey's spread from 41 to 17 levels. (The head's fill, which has no rim, keeps the gaps
# between fingers on a neck: hbr_speaker8's own pose lost 0.6 dB where they were filled.)
HANDS_GAP = 0.08


def _hand_points(side: str) -> list[tuple[int, int]]:
    """(bone, keypoint) pairs of a hand: the wrist (a hand with no landmarks moves with it),
    its palm's and its fingertips' points."""
    arm = B.ARMS[side]
    pts = [(arm["fore"], arm["wrist"])]
    pts += [(arm["hand"], arm["hand_start"] + i) for i in (0, 5, 9, 13, 17)]
    return pts + [(f, arm["hand_start"] + t) for f, t in zip(arm["fingers"], (4, 8, 12, 16, 20))]


def _arm_points(side: str) -> list[tuple[int, int]]:
    """(bone, keypoint) pairs of a whole arm: elbow, wrist and hand."""
    return [(B.ARMS[side]["upper"], B.ARMS[side]["elbow"])] + _hand_points(side)


# Pixels (at 512 px) inside the person's outline from which on a body layer is opaque: past
# the edge's blend with the backdrop (renderer.EDGE_WIDTH).
SOLID_INSIDE = 4.0
# The edge of the backdrop between a hand's fingers that an arm's layer leaves out
# (Parts.between, _backdrop_in) is blurred by this much (Gaussian s.d., px at 512 px), the arm's
# alpha beside it lowered to match; what lay behind that edge in the photo shows while the arm
# keeps its place. Cut at full opacity, hbr_speaker8's raised hand showed a pixel-stepped edge
# along the wedge of blue cut away below her thumb; at 1.0 and 1.2 it was still stepped. Not
# along the backdrop seen through an arm elsewhere (beside.backdrop_in_arm): along the flag
# beside the demo photo's arm, at the frame's edge, the photo's own pose lost 0.3 dB.
SEEN_THROUGH_EDGE = 1.8
# The head's fill under a hand reads no pixel within this many px (at 512 px) of the person's
# outline.
NECK_EDGE = 2.0


# The blur (shoulder widths) of a hand's part hidden under the other hand (:func:`smoothed_in`):
# about a finger's width, so the fingers on top leave no outline on it (:func:`_under_other_hand`).
HIDDEN_HAND_BLUR = 0.03
# ... and its shadows on the lower hand: pixels under this share of that hand's seen grey level.
SHADOW = 0.8
# Backdrop the segmenter gave the person and an arm's layer leaves out (seen through it) is
# the photo's own backdrop in every frame (LayerBuilder._seen_backdrop) where it lies
# SEEN_BACKDROP[0] px (at 512 px) or more from what the layers draw and SEEN_BACKDROP_HANDS
# shoulder widths from the hands; the fill beside it takes its colours, whole up to
# SEEN_BACKDROP[1] px from it and fading out over SEEN_BACKDROP[2] more. The README demo's
# astronaut: the segmenter took a wedge of the flag's red stripe beside her forearm for her
# (alpha 0.6-0.9), the fill of it was shift-map's white, and a white streak ran down her
# sleeve whenever her arm moved (frames 228, 258, 374, 406). Nearer the person's pixels (3 px)
# ted_lia_driving2's blurred arm edge stayed on the red backdrop as a grey ghost (most-moved
# box SSIM -0.002); nearer the hands hbr_speaker8's finger edge stayed as a pink outline and
# ted_lia_driving1's hand's shadow as a dark blob. As set, the 12 shared clips' most-moved box
# is unchanged to three decimals.
SEEN_BACKDROP = (6.0, 6.0, 8.0)
SEEN_BACKDROP_HANDS = 0.15


class LayerBuilder:
    """The layers of :class:`~gesticulate.render.warp.renderer.WarpRenderer`: its set-up
    calls :meth:`_build_layers` with the photo cut (``self.image``, ``self._fg``,
    ``self.parts``, ``self.size``) and keeps ``self.layers``."""

    def _build_layers(self, person: np.ndarray, alpha: np.ndarray, lab: np.ndarray,
                      valid: np.ndarray, scale: float, grow: int
                      ) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
        """The layers (torso, upper arms, head, forearms, hands), each with its hidden texture
        filled; returns each layer's region, the backdrop seen through the arms' layers (left
        out of them), the arms' soft edge beside the backdrop between a hand's fingers
        (SEEN_THROUGH_EDGE) and what lies behind that edge in the photo (RGB, the photo
        elsewhere): arm pixels behind which the renderer shows that only while the arm
        stays."""
        spacing = body_spacing(scale)
        # Hidden texture: the torso (and the neck) under the arms, so no ghost arm stays on
        # the body when the arm moves.
        arms, uppers = self.parts.arm_pixels(), np.zeros_like(person)
        for seg in self.parts.segments.values():
            uppers |= seg["upper"]
        hands = self.parts.hand_pixels()
        bare = None if self.parts.hidden is None or not self.parts.hidden.any() else \
            bare_skin(lab, self.parts.torso & ~arms & ~hands, self.parts.skin)
        # The hands with the torso between them (HANDS_GAP); the head's keeps its gaps.
        clasped = closed_gaps(hands, HANDS_GAP * self.parts.shoulder_width)
        shown: list = []
        rim = max(HAND_RIM, 2 * scale, RIM_WIDTH * self.parts.shoulder_width)
        torso_rgb = self._unhidden(self.parts.torso, self.parts.hidden, arms, clasped, scale,
                                   bare=bare, pattern=True, rim=rim, shown=shown,
                                   sideways=self._grown(uppers, rim))
        # The head's fill under a hand at the neck (only where the photo hides some of it:
        # hidden_head) reads the person's pixels only, not their outline's: the backdrop
        # blended there ran into hbr_speaker8's neck as blue streaks. (Mirrored along the rows
        # too, it drew a dark blot on portrait_s2.jpg's shirt at rest, where his raised
        # shoulders' hidden pixels lie on the head's layer over the upper arms': own pose
        # 45.22 -> 44.48 dB.)
        head_rgb = self._unhidden(self.parts.head, self.parts.hidden_head, arms, hands, scale,
                                  within=~self._grown(~person, NECK_EDGE * scale),
                                  mirror=self._facing(valid))
        specs = [("torso", self.parts.torso, torso_rgb)]
        # Per layer (by name), a hand's rim filled over on it: the pixels, the layer's bone and
        # the hands whose rim they are.
        edges: dict[str, tuple] = {}
        specs += self._arm_specs("upper", scale, hands=hands, hand_rim=rim, edges=edges)
        specs += [("head", self.parts.head, head_rgb)]
        specs += self._arm_specs("fore", scale) + self._arm_specs("hand", scale, edges=edges)
        self.layers: list[Layer] = []
        regions = []
        # A body layer is opaque away from the person's outline (cuts between layers are no
        # edge), in the photo's own colours there (the edge's unmixing made them up): the
        # segmenter half-took ted_lia_driving1's clicker, which left holes in his hand and,
        # under it, in his jacket, the backdrop's red showing through once the hand moved.
        # Not the head: hair is see-through well inside its outline.
        inside = ~self._grown(~person, SOLID_INSIDE * scale)
        through = np.zeros_like(person)
        feathered = np.zeros_like(person)
        behind = self.image.copy()
        between = self.parts.between if self.parts.between is not None \
            else np.zeros_like(person)
        self._rims = []
        torso = lab[self.parts.torso]
        # The colours of the body's layer (its clothes, what lies on it): an arm's pixels of
        # these are no backdrop.
        body = colour_clusters(torso[:: max(1, len(torso) // 4000)], 3) \
            if len(torso) >= 3 else None
        for name, region, rgb in specs:
            if region is None:
                continue
            step = mesh_step(region, spacing, scale, fine=name.startswith("hand"))
            solid = alpha
            if name != "head":
                seen_through = self._backdrop_in(name, region, person, lab, body)
                through |= seen_through
                opaque = region & inside & (alpha < 0.99) & ~seen_through
                if opaque.any() or seen_through.any():
                    solid = np.where(opaque, 1.0, alpha).astype(alpha.dtype)
                    solid[seen_through] = 0.0
                    # ... the backdrop between a hand's fingers behind a soft edge
                    gaps = seen_through & between
                    if gaps.any():
                        soft = cv2.GaussianBlur(gaps.astype(np.float32), (0, 0),
                                                SEEN_THROUGH_EDGE * scale)
                        lowered = region & (soft > 1.0 / 64) & (solid > 1.0 - soft)
                        solid = np.where(lowered, 1.0 - soft, solid).astype(alpha.dtype)
                    own = opaque & (rgb == self._fg).all(2)       # not filled over
                    rgb = np.where(own[..., None], self.image, rgb)
                    if seen_through.any():      # the arm's colours run on under them
                        rgb = np.where(seen_through[..., None],
                                       bleed(rgb, region & ~seen_through), rgb)
                    if gaps.any():
                        # What lies behind the soft edge in the photo: the photo less the
                        # layer's share of it (the photo itself where the layer shows it).
                        behind[lowered] = unmixed(self.image[lowered], rgb[lowered],
                                                  solid[lowered].astype(np.float32)[:, None])
                        feathered |= lowered    # while the arm stays (the renderer's ring)
            layer = build_layer(name, region, rgb, solid, self.reference, valid, self.parts,
                                spacing=step, grow=grow)
            if layer is None:
                continue
            self.layers.append(layer)
            regions.append(region)
            # Its rims show the photo while the arm or the hand that lay there stays.
            if name == "torso" and shown:
                unfilled = np.where(opaque[..., None], self.image, self._fg)
                self._rims += self._rim_pixels(name, shown[0], rgb, unfilled, self.parts.arms,
                                               B.TORSO, _arm_points)
            elif name in edges:
                unfilled = np.where(opaque[..., None], self.image, self._fg)
                pixels, base, owners = edges[name]
                self._rims += self._rim_pixels(name, pixels & ~seen_through, rgb, unfilled,
                                               owners, base, _hand_points)
        return regions, through, feathered, behind

    def _seen_backdrop(self, through: np.ndarray, hole: np.ndarray, scale: float
                       ) -> np.ndarray:
        """The background with the backdrop an arm's layer leaves out (``through``, seen
        through it: :meth:`_backdrop_in`) shown as the photo has it, where it lies clear of
        what any layer draws (half opaque or more) and of the hands, and its colours run on
        into the fill beside it (:data:`SEEN_BACKDROP`, :data:`SEEN_BACKDROP_HANDS`). The
        segmenter took it for the person, so the backdrop's fill (started before the layers
        were known) filled it over."""
        clear, run_on, fade = (v * scale for v in SEEN_BACKDROP)
        # What the layers draw: one arm's layer may draw what another leaves out.
        drawn = np.zeros_like(hole)
        for layer in self.layers:
            drawn |= layer.texture[BORDER:-BORDER, BORDER:-BORDER, 3] >= 128
        known = through & ~self._grown(drawn, clear) \
            & ~self._grown(self.parts.hand_pixels(),
                           SEEN_BACKDROP_HANDS * self.parts.shoulder_width)
        out = self.background.copy()
        if not known.any():
            return out
        out[known] = self.image[known]
        band = hole & ~known & self._grown(known, run_on + fade)
        if band.any():
            d = cv2.distanceTransform((~known).astype(np.uint8), cv2.DIST_L2, 3)
            w = np.clip(1.0 - (d - run_on) / max(fade, 1.0), 0.0, 1.0)[..., None]
            run = bleed(self.image, known, steps=int(np.ceil(run_on + fade)) + 1
                        ).astype(np.float32)
            mixed = run * w + out.astype(np.float32) * (1.0 - w)
            out[band] = np.clip(mixed[band] + 0.5, 0, 255).astype(np.uint8)
        return out

    def _backdrop_in(self, name: str, region: np.ndarray, person: np.ndarray,
                     lab: np.ndarray, body: np.ndarray) -> np.ndarray:
        """The backdrop seen through an arm piece's layer (:func:`beside.backdrop_in_arm`),
        along its bone, and the backdrop between a hand's fingers that the piece holds
        (``Parts.between``); none for the torso, nor over it (what the torso's layer would show
        there is its fill, not the photo)."""
        piece, _, side = name.partition("_")
        if piece not in ("upper", "fore", "hand") or side not in self.parts.arm_info:
            return np.zeros_like(region)
        joints = self.parts.arm_info[side].joints
        k = ("upper", "fore", "hand").index(piece)
        seen = backdrop_in_arm(lab, region, person, joints[k:k + 2],
                               self.parts.shoulder_width, body)
        if self.parts.between is not None:
            seen |= self.parts.between & region
        return seen & ~self.parts.torso

    def _unhidden(self, region: np.ndarray | None, hidden: np.ndarray | None,
                  arms: np.ndarray, hands: np.ndarray, scale: float, *,
                  bare: np.ndarray | None = None, pattern: bool = False,
                  rim: float | None = None, shown: list | None = None,
                  sideways: np.ndarray | None = None, within: np.ndarray | None = None,
                  mirror: tuple | None = None) -> np.ndarray:
        """The photo with the ``arms`` filled over by ``region``'s own visible pixels, where the
        region has ``hidden`` pixels under an arm; the photo itself otherwise. The hole takes
        the arms' rim too (their soft edge and contact shadow), or an outline of the hand would
        stay drawn on the body when it moves: 2 px at 512 px, and at least :data:`HAND_RIM`
        px where the ``hands`` lie on the region's own visible pixels. ``bare``: pixels not to
        copy from (the torso's skin, :func:`hands.bare_skin`) unless they border the hole.
        ``pattern``: the region is cloth, whose repeating pattern may run on under the arms
        and whose plain stretches are filled with their smooth shading
        (:func:`cloth.fill_hidden`; not the head, whose face is no pattern). ``rim``: the
        rim's width (px) round the arms and hands alike, instead. ``shown``: a list that gets
        the mask of the region's pixels the photo shows (not ``hidden``) that were filled
        over. ``sideways``: the pixels whose fill takes the cloth beside them in their row too
        (:func:`cloth.fill_hidden`). ``within``: the only pixels the fill may copy.
        ``mirror``: ``(centre, across)`` of the body's middle line (:meth:`_facing`): the hole
        takes first what lies across it, where that is seen (:func:`fill.mirrored_across`)."""
        if region is None or hidden is None or not hidden.any():
            return self._fg
        arm_rim = 2 * scale if rim is None else rim
        rim = max(2 * scale, HAND_RIM) if rim is None else rim
        inner = ~self._grown(~region, 2 * rim)       # well inside the region, not its edge
        on_body = self._grown(hands, rim) & inner & ~hidden
        # Filled only where the layer reads its picture (its region and the feather around it,
        # :func:`rig.build_layer`): the head's hole is every arm pixel, and the Telea fill of
        # all of them took 0.14 s of pats_oliver_slice18.png's set-up (0.05 s for the head's).
        hole = (self._grown(arms, arm_rim) | on_body) & self._grown(region, LAYER_READ)
        # The cloth 3 px (at 512) from an arm is read as visible even where the arm's rim
        # is wider: left out up to the rim, hbr_speaker7's most-moved box lost 0.05 dB.
        visible = region & ~self._grown(arms, 3 * scale) & ~self._grown(on_body, scale)
        if bare is not None:
            # Skin the hole borders runs on under it (bare arms by a sleeveless dress); skin
            # further off (a neckline above a hand on the chest) is not copied.
            visible &= ~(bare & ~touching(bare, self._grown(hole, 2 * scale)))
        if within is not None:
            visible &= within
        if not visible.any():
            return self._fg
        if shown is not None:
            shown.append(hole & ~visible & ~hidden & region)
        image = self._fg
        if mirror is not None:
            image, across = mirrored_across(image, hole & ~visible, visible, *mirror, scale)
            visible = visible | across
        return fill_hidden(image, hole & ~visible, visible, pattern=pattern, shade=pattern,
                           level_stops=pattern, sideways=sideways, stripes=pattern)

    def _facing(self, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """``(centre, across)``: the middle of the shoulders and the unit vector along their
        line, for a body facing the camera (:data:`FACING`); None otherwise."""
        if self.parts.shoulder_line is None or not valid[L.NOSE]:
            return None
        centre, down = self.parts.shoulder_line
        across = np.array([down[1], -down[0]])
        tilt, nose = FACING
        if abs(across[1]) > np.sin(np.deg2rad(tilt)) \
                or abs((self.reference[L.NOSE, :2] - centre) @ across) \
                > nose * self.parts.shoulder_width:
            return None
        return centre, across

    def _rim_pixels(self, name: str, shown: np.ndarray, filled: np.ndarray,
                    photo: np.ndarray, owners: dict[str, np.ndarray], base: int,
                    points) -> list:
        """The rim entries of layer ``name``: its filled-over pixels ``shown`` split by the
        nearest of ``owners`` (side: the arm or hand whose rim they are), each ``(name, side,
        base, points, flat indices into the layer's texture, photo colour - fill (N, 3)
        float32)``. The rim is the photo's while ``points(side)`` (bone, keypoint) pairs keep
        their place on bone ``base`` (:meth:`_rim_still`); ``photo``: the colours the layer
        shows there unfilled."""
        layer = next((x for x in self.layers if x.name == name), None)
        sides = [s for s, m in owners.items() if m is not None and m.any()]
        if layer is None or not shown.any() or not sides:
            return []
        dist = np.stack([cv2.distanceTransform((~owners[s]).astype(np.uint8), cv2.DIST_L2, 3)
                         for s in sides])
        nearest = dist.argmin(0)
        tw = layer.texture.shape[1]
        out = []
        for k, side in enumerate(sides):
            ys, xs = np.nonzero(shown & (nearest == k))
            if not len(ys):
                continue
            diff = photo[ys, xs].astype(np.float32) - filled[ys, xs].astype(np.float32)
            out.append((name, side, base, points(side), (ys + BORDER) * tw + xs + BORDER, diff))
        return out

    def _owners(self, regions: list[np.ndarray], person: np.ndarray) -> np.ndarray:
        """For each ring pixel, the layer whose edge it borders (the layer drawn on top at the
        nearest person pixel): its ring of real background is shown only while that layer
        stays put, so a head that turns leaves no halo of its own edge behind it."""
        h, w = person.shape
        owner = np.full((h, w), -1, np.int32)
        for k in range(len(regions) - 1, -1, -1):          # the top layer wins
            owner[regions[k] & (owner < 0)] = k
        if not len(self._ring) or (owner < 0).all():
            return np.zeros(len(self._ring), np.int32)
        free = (owner < 0).astype(np.uint8)
        _, labels = cv2.distanceTransformWithLabels(free, cv2.DIST_L2, 5,
                                                    labelType=cv2.DIST_LABEL_PIXEL)
        seeds = np.flatnonzero(free.ravel() == 0)
        nearest = seeds[labels.ravel()[self._ring] - 1]
        return owner.ravel()[nearest]

    def _arm_specs(self, piece: str, scale: float, *, hands: np.ndarray | None = None,
                   hand_rim: float = 0.0, edges: dict | None = None) -> list:
        """Layer specs of one arm piece per side, grown a little into its parent piece so the
        joint is covered when it bends (drawn: upper arms, head, forearms, hands). For the
        upper arms, ``hands`` (all hands' pixels) and ``hand_rim`` (px): a hand's soft edge on the
        sleeve is filled; ``edges`` gets each layer's (by name) such pixels, with the layer's
        bone and the hands whose rim they are (a lower hand's too: the other's rim on it)."""
        parent = {"upper": None, "fore": "upper", "hand": "fore"}[piece]
        out = []
        sides = list(self.parts.segments)
        if piece == "hand":               # a hand lying under the other is drawn first
            sides.sort(key=lambda s: s not in self.parts.hidden_hand)
        for side in sides:
            seg = self.parts.segments[side]
            region = seg[piece]
            if not region.any():
                continue
            rgb = self._fg
            reach = max(2.0, 0.06 * self.parts.shoulder_width)
            if parent is not None:
                region = region | (seg[parent] & self._grown(region, reach))
            elif side in self.parts.hidden_upper:
                # The sleeve under the photo's forearm, filled with the sleeve's own cloth.
                # Its rim (the forearm's soft edge and shadow) is filled too where the forearm's
                # layer, grown into the upper arm, covers it while the arm keeps the photo's
                # pose (beside the hand, whose layer grows into the forearm only, the rim is the
                # hand's: below).
                hidden = self.parts.hidden_upper[side]
                rim = self._grown(hidden, 2 * scale) & (hidden | self._grown(seg["fore"], reach))
                region = region | hidden
                rgb = fill_along(self._fg, rim & region, region & ~rim,
                                 self.parts.arm_info[side].joints[:2])
            if piece == "upper" and hands is not None:
                # A hand lying on the upper arm leaves its soft edge on it: the sleeve runs on
                # there (pats_oliver_slice18.png's fist, folded up against his sleeve, left a
                # dotted orange line on it once it moved), its print in step (bled over,
                # interview_1wrQ6Msp7wM's diamonds smeared into a band beside her hand), shown
                # as the photo's while the hand keeps its place on the arm (the renderer's
                # rims).
                near_hand = self._grown(hands, hand_rim)
                edge = near_hand & region & ~hands
                if edge.any():
                    rgb = fill_hidden(rgb, edge, region & ~edge, pattern=True, shade=True)
                    if edges is not None:     # the sleeve's seen pixels (not under the forearm)
                        edges[f"upper_{side}"] = (
                            edge & ~self.parts.hidden_upper.get(side, np.zeros_like(edge)),
                            B.ARMS[side]["upper"],
                            {s: sg["hand"] for s, sg in self.parts.segments.items()})
                if side in self.parts.hidden_upper:
                    # The layer's soft edge reads past its region: where the forearm or hand
                    # that hid the sleeve lies there, the fill runs on (pats' fist drew a
                    # skin-coloured line down the fill's edge over his chest once the forearm
                    # swung away).
                    cover = (seg["fore"] | near_hand) & ~region
                    if cover.any():
                        rgb = np.where(cover[..., None], bleed(rgb, region), rgb)
            if piece == "hand" and side in self.parts.hidden_hand:
                # Under the other hand: that skin (drawn under the other hand's layer), and so
                # is the other's rim on it, shown as the photo's while that hand stays.
                hidden = self.parts.hidden_hand[side]
                rgb, rim = _under_other_hand(self._fg, seg["hand"], region, hidden,
                                             self.parts.shoulder_width, scale)
                if edges is not None:
                    other = "left" if side == "right" else "right"
                    edges[f"hand_{side}"] = (rim, B.ARMS[side]["hand"],
                                             {other: self.parts.segments[other]["hand"]})
                region = region | hidden
            out.append((f"{piece}_{side}", region, rgb))
        return out

    _grown = staticmethod(grown)


def _under_other_hand(rgb: np.ndarray, hand: np.ndarray, region: np.ndarray,
                      hidden: np.ndarray, sw: float, scale: float
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The picture ``rgb`` with a lower ``hand``'s part ``hidden`` under the other hand filled
    with the hand's own seen skin, bled in and blurred (:data:`HIDDEN_HAND_BLUR`), and so its
    layer's (``region``) shadows between the other hand's fingers and along their edges
    (pixels under :data:`SHADOW` of its seen skin's grey level, in that part closed by a disc
    :data:`HIDDEN_HAND_BLUR` across or within 2 px at 512 px of it; the skin is read from the
    other pixels); and those seen pixels filled over, the other hand's rim. Left as they were,
    the fingers' outlines stayed on it as dark claws when the hand on top rose
    (avspeech_sample2's folded hands). Its own fingers laced between the other's are no
    shadow: when they were filled too, ted_lia_driving3's lower hand lost them, and the
    detector found it in 63 of her 116 frames, against 101."""
    k = 2 * int(round(HIDDEN_HAND_BLUR * sw)) + 1
    between = cv2.morphologyEx(hidden.astype(np.uint8), cv2.MORPH_CLOSE,
                               cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    near = region & (between | grown(hidden, 2 * scale)) & ~hidden
    seen = hand & ~hidden & ~near
    if not seen.any():
        seen = hand & ~hidden
    own = seen
    if seen.any():
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        shade = grey < SHADOW * np.median(grey[seen])
        near &= shade
        own = seen & ~shade               # the skin's colour from its lit pixels
    fill = hidden | near
    if own.any():
        # Chessboard distance: the bleed's steps, one ring of 8 neighbours each.
        far = cv2.distanceTransform((~own).astype(np.uint8), cv2.DIST_C, 3)[fill].max()
        rgb = np.where(fill[..., None], bleed(rgb, own, steps=int(far) + 1), rgb)
    return smoothed_in(rgb, fill, HIDDEN_HAND_BLUR * sw), near
