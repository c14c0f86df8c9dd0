"""A forearm and hand the photo does not show, lent by the other arm, mirrored.

A lectern speaker's arm (un_speech_female's left) leaves the photo at its elbow: the warp has
no forearm or hand of it to raise, and that arm only swings a little about its shoulder
(:class:`~gesticulate.render.warp.arms.ArmInfo` mode ``"upper"``). When her motion brought that
hand up across her chest, the render showed none (hands re-detected in none of the 21 frames
where her self-reenactment's motion has it; the real clip's own frames, 15). Where one arm
leaves the photo so and the other shows its forearm and a found hand, the first one's forearm
and hand are drawn as the other's mirrored (a person's two arms are mirror images), in the
frames whose motion has that hand found and its wrist seen: hung from its elbow where its
upper arm is drawn, turned to the motion's wrist, its fingers to the motion's (:meth:`Poser.hung
<gesticulate.render.warp.pose.Poser.hung>`). A frame without that hand shows the arm as the
photo has it, so the photo's own pose renders the photo.

The motion must carry the hand: a skeleton from a real clip or another tool does; the
generators' motion, made from the photo's keypoints, has none for a hand the photo does not
show.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import cv2
import numpy as np

from gesticulate.render.warp import bones as B
from gesticulate.render.warp.arms import ArmInfo
from gesticulate.render.warp.borrowed import borrowed_texture, with_hand_of
from gesticulate.render.warp.parts import Parts
from gesticulate.render.warp.pose import Poser
from gesticulate.render.warp.rig import BORDER, Layer, body_spacing, build_layer, mesh_step
from gesticulate.skeleton import layout as L


# The lent forearm's elbow end is its middle's cross-section drawn on to the elbow (from
# EXTRUDE_FROM of the way from elbow to wrist on, towards the wrist as the other forearm has it)
# and EXTRUDE_PAST of its length beyond, over the upper arm's end: by the elbow the other arm's
# forearm piece holds its own upper arm's end, and what lies across it (un_speech_female's
# right forearm, lent to her left: a wedge of her orange-lit upper arm and the microphone's
# black stem at the elbow, carried up across her dress).
EXTRUDE_FROM = 0.4
EXTRUDE_PAST = 0.1
# A forearm shorter than this (px) in the photo (pointing at the camera) has no length to lend.
MIN_FOREARM = 8.0


class Lent(NamedTuple):
    """A forearm and hand drawn as the other arm's, mirrored (:func:`lend_arms`)."""

    side: str
    layers: list[Layer]   # the forearm's, then the hand's
    poser: Poser          # the lent rig's: this arm's shoulder and elbow moved by ``shift``
    shift: np.ndarray     # (2,) px from the photo's frame to the lent rig's


def lenders(parts: Parts) -> dict[str, str]:
    """``{side: other side}`` for each arm that leaves the photo by its elbow (mode
    ``"upper"``) while the other shows its forearm and a found hand."""
    info, out = parts.arm_info, {}
    for side, other in (("left", "right"), ("right", "left")):
        if side in info and other in info and info[side].mode == "upper" \
                and info[other].mode == "full" and info[other].has_hand \
                and parts.segments[other]["fore"].any() and parts.segments[other]["hand"].any():
            out[side] = other
    return out


def lent_transform(parts: Parts, side: str, other: str, shown: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray] | None:
    """``(m, shift)``: the affine ``(2, 3)`` taking ``other``'s arm mirrored left to right onto
    ``side``'s elbow, then moved by ``shift`` ``(2,)`` as far as keeps all of what ``other``'s
    forearm and hand layers show (``shown``, ``(H, W)`` bool) inside the picture (only the
    pixels there are kept; mirrored, they span what they spanned); None when they show
    nothing."""
    h, w = shown.shape
    e_o, e_s = parts.arm_info[other].joints[1], parts.arm_info[side].joints[1]
    mirror = np.diag([-1.0, 1.0])
    t = e_s - mirror @ e_o
    ys, xs = np.nonzero(shown)
    if not len(xs):
        return None
    pts = np.stack([xs, ys], 1) @ mirror.T + t
    lo, hi = pts.min(0), pts.max(0)
    size = np.array([w - 1.0, h - 1.0])
    shift = np.maximum(0.0, -lo) - np.maximum(0.0, hi - size)
    return np.hstack([mirror, (t + shift)[:, None]]), shift


def extruded(rgba: np.ndarray, elbow: np.ndarray, wrist: np.ndarray) -> np.ndarray:
    """A forearm layer's texture (RGBA uint8 ``(H, W, 4)``) with its elbow end the
    cross-section at :data:`EXTRUDE_FROM` drawn on to :data:`EXTRUDE_PAST` beyond the elbow,
    nothing past that."""
    h, w = rgba.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    d = (np.asarray(wrist, np.float64) - elbow).astype(np.float32)
    length2 = float(d @ d)
    if length2 < 1.0:               # no direction to draw along
        return rgba.copy()
    normal = np.array([-d[1], d[0]], np.float32) / np.sqrt(length2)
    t = ((x - elbow[0]) * d[0] + (y - elbow[1]) * d[1]) / length2
    s = (x - elbow[0]) * normal[0] + (y - elbow[1]) * normal[1]
    start = np.asarray(elbow, np.float32) + EXTRUDE_FROM * d
    drawn_on = cv2.remap(rgba, start[0] + s * normal[0], start[1] + s * normal[1],
                         cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    out = np.where((t < EXTRUDE_FROM)[..., None], drawn_on, rgba)
    out[t < -EXTRUDE_PAST] = 0
    # Only what joins the bone: the other arm's upper arm running beside a folded forearm
    # lies in its cross-section too, and would be drawn on as a strip apart.
    count, labels = cv2.connectedComponents((out[..., 3] > 0).astype(np.uint8), connectivity=8)
    keep = np.zeros(count, bool)
    for p in np.linspace(elbow, wrist, 16):
        x0, y0 = int(round(p[0])), int(round(p[1]))
        if 0 <= x0 < w and 0 <= y0 < h:
            keep[labels[y0, x0]] = labels[y0, x0] > 0
    out[~keep[labels]] = 0
    return out


def lent_rig(parts: Parts, reference: np.ndarray, valid: np.ndarray, side: str, other: str,
             m: np.ndarray, shift: np.ndarray) -> tuple[Parts, np.ndarray, np.ndarray]:
    """The lent arm's rig ``(parts, reference, valid)``: its shoulder and elbow the photo's
    moved by ``shift``, its wrist, hand centre and hand landmarks ``other``'s moved by ``m``
    (:func:`lent_transform`), a whole arm with a found hand."""
    arm = B.ARMS[side]
    ref, seen = with_hand_of(reference, valid, side, other, m)
    S, E = parts.arm_info[side].joints[:2] + shift
    W, H = parts.arm_info[other].joints[2:] @ m[:, :2].T + m[:, 2]
    for point, p in ((arm["shoulder"], S), (arm["elbow"], E), (arm["wrist"], W)):
        ref[point, :2] = p
    seen[arm["wrist"]] = True
    arm_info = dict(parts.arm_info)
    arm_info[side] = ArmInfo("full", np.stack([S, E, W, H]), True)
    return replace(parts, arm_info=arm_info), ref, seen


def lend_arms(layers: list[Layer], parts: Parts, reference: np.ndarray, valid: np.ndarray,
              size: tuple[int, int], *, scale: float, grow: int) -> list[Lent]:
    """The lent forearms and hands of a rig whose ``layers`` are built (:func:`lenders`).
    ``scale``: the picture's size in units of 512 px; ``grow``: the layers'
    (:func:`~gesticulate.render.warp.rig.build_layer`)."""
    names = [layer.name for layer in layers]
    out = []
    for side, other in lenders(parts).items():
        theirs = [f"fore_{other}", f"hand_{other}"]
        if not all(name in names for name in theirs):
            continue
        _, e_o, w_o, _ = parts.arm_info[other].joints
        if np.linalg.norm(w_o - e_o) < MIN_FOREARM:
            continue
        textures = [layers[names.index(name)].texture[BORDER:-BORDER, BORDER:-BORDER]
                    for name in theirs]
        textures[0] = extruded(textures[0], e_o, w_o)
        fit = lent_transform(parts, side, other,
                             np.logical_or.reduce([t[..., 3] > 2 for t in textures]))
        if fit is None:
            continue
        m, shift = fit
        rig, ref, seen = lent_rig(parts, reference, valid, side, other, m, shift)
        built = []
        for piece, texture in zip(("fore", "hand"), textures):
            rgb, alpha = borrowed_texture(texture, m)
            region = alpha > 0.01
            spacing = mesh_step(region, body_spacing(scale), scale, fine=piece == "hand")
            layer = build_layer(f"{piece}_{side}", region, rgb, alpha, ref, seen, rig,
                                spacing=spacing, grow=grow)
            if layer is not None:
                layer.name = f"lent_{piece}_{side}"
                built.append(layer)
        if len(built) == 2:
            out.append(Lent(side, built, Poser(ref, seen, rig, size), shift))
    return out


def lends(target: np.ndarray, side: str) -> bool:
    """Whether the frame ``target`` ``(133, 3)`` shows ``side``'s lent arm: its motion has
    that hand (:func:`~gesticulate.skeleton.layout.hand_found`) and its wrist."""
    hand = L.LEFT_HAND if side == "left" else L.RIGHT_HAND
    return bool(target[B.ARMS[side]["wrist"], 2] >= B.MIN_CONFIDENCE
                and L.hand_found(target, hand, B.MIN_CONFIDENCE))


def lent_bones(lent: Lent, bones: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The bone transforms ``(NUM_BONES, 2, 3)`` of the lent rig in a frame whose own are
    ``bones`` (its upper arm where the photo's is drawn) and whose target is ``target``."""
    arm = B.ARMS[lent.side]
    a_up = bones[arm["upper"]].copy()
    a_up[:, 2] -= a_up[:, :2] @ lent.shift          # from the lent rig's frame
    out = bones.copy()
    out[arm["upper"]] = a_up
    for bone, a in lent.poser.hung(lent.side, target, a_up).items():
        out[bone] = a
    return out
