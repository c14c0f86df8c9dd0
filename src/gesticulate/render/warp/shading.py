"""Plain cloth's smooth shading, which replaces the mirror's copy of its folds and flecks in
the hidden fill (:mod:`cloth <gesticulate.render.warp.cloth>`), each cloth (a jacket, the shirt
below it) shaded apart."""

from __future__ import annotations

import cv2
import numpy as np

from gesticulate.render.warp.fill import (blur_in, gaussian, grey_detail, membrane, mirrored,
                                         mirrored_both)
from gesticulate.render.warp.masks import colour_clusters, grown, lab_of, mask_box, touching
from gesticulate.render.warp.weave import weave


# A sleeve of plain cloth (:func:`cloth_detail` under PLAIN_CLOTH grey levels: hbr_speaker12's
# navy jacket 3.3-4.5; interview_1wrQ6Msp7wM's patterned one 22) has its hidden fill replaced by
# its smooth shading: a blur of SHADE px (at 512 px) that reads the fill and the seen sleeve
# around it. Mirrored from a thin strip of the sleeve, its creases and flecks repeated as a
# lattice of dark lines and specks, and the forearm's shadow and the lit folds beside it as dark
# and pale blotches (hbr_speaker12's sleeves under his raised forearms; a blur of 1.5 px kept
# the blotches: self-reenactment +0.999 dB, with SHADE +1.020).
PLAIN_CLOTH = 10.0
SHADE = 8.0


# The torso's hidden fill (:func:`shaded_where_plain`) is the mirror's copy where the seen
# cloth within LOCAL_REACH px (at 512 px) has a detail (the mean absolute difference of its grey
# from its 3 px blur) of LOCAL_DETAIL[1] grey levels or more, the cloth's smooth shading (a blur
# of SHADE px) where it has LOCAL_DETAIL[0] or less, and a blend between. Mirrored from a plain
# dress or shirt beside a hand, the fill repeated its folds, the hand's outline and a microphone
# stand crossing it as streaks and crumpled white shards (ted_lia_driving2_noaudio's clasped
# hands on her white dress, un_speech_female's forearm on her black one); a tie or a lapel
# near the hole keeps the copy. Self-reenactment of the 12 shared clips, most-moved box dPSNR /
# dSSIM against the still: un_speech_female +1.786/+0.0169 -> +1.799/+0.0202, hbr_speaker7
# +0.539 -> +0.682 dB, hbr_speaker8 +5.600 -> +5.705, ted_lia_driving3 +2.558 -> +2.581,
# avspeech_sample2 +0.710/+0.0514 -> +0.740/+0.0504 (at 4-8 grey levels the gains were about
# half, and a smooth fill everywhere cost avspeech_sample2 2.4 dB: his tie ran out).
LOCAL_DETAIL = (8.0, 16.0)
LOCAL_REACH = 12.0
# A hole pixel also keeps the copy where the cloth the mirror copied it from has that detail,
# read over COPIED_REACH px (at 512 px; across, and down the columns the mirror copies along)
# around it. desk_host_body.png's striped tie, 25 px wide between his plain navy jacket and
# white shirt, read as plain within LOCAL_REACH of the hand that had lain on it, and its
# shading (the tie and the jacket one colour cluster) drew a dark round blob where the tie ran
# on under the hand. Read over 3 px down, a row of beads just above the hole (2 px tall) was
# detail enough to be copied in as a dotted line; over 12 px his tie's stripes were too sparse.
COPIED_REACH = (3.0, 6.0)


# Where the mirror copies along the rows too (``share``, :func:`mirrored_both`), the copy is
# kept at the seen cloth's edge (as far as the rows' copy has a part in it), fading to the rule
# above by EDGE_RAMP px (at 512 px) into the hole. The shading of plain cloth is a blur: beside
# the folds of the README demo's suit it was 60 levels (RGB summed) darker than the pixel at the
# edge, and the strip her arm uncovered when it moved out showed as a smooth, darker band with a
# hard edge.
EDGE_RAMP = 8.0


def shaded_where_plain(image: np.ndarray, filled: np.ndarray, hole: np.ndarray,
                       src: np.ndarray, scale: float, *, stops: np.ndarray | None = None,
                       share: np.ndarray | None = None,
                       kept: np.ndarray | None = None) -> np.ndarray:
    """``filled`` (``image`` with ``hole`` filled from ``src``, mostly by :func:`mirrored`,
    which stopped at ``stops``) with the fill blended towards the cloth's smooth shading (made
    to meet the seen cloth at the hole's edge, :func:`_seamless`, and carrying each cloth's
    own weave, :func:`~gesticulate.render.warp.weave.weave`) where the seen cloth near
    it, and the cloth the mirror copies there, are plain (:data:`LOCAL_DETAIL`,
    :data:`COPIED_REACH`); the copy is kept at the seen cloth's edge as far as the rows'
    mirror has a part in it (``share``, the columns' share in the fill's mirrors,
    :func:`mirrored_both`; :data:`EDGE_RAMP`), and wholly where ``kept`` (a stripes' copy,
    :func:`stripes_fill`). Worked in the box around the hole (the mirror of the detail too: a
    hole pixel whose mirrored source lies past the box's margin keeps the detail near it
    only)."""
    box = mask_box(hole, int(np.ceil(3 * (LOCAL_REACH + SHADE) * scale)))
    img, out, hole_b, src_b = image[box], filled[box], hole[box], src[box]
    lo, hi = LOCAL_DETAIL
    # A pixel's detail counts up to the full-copy level: the high-contrast edge of a few odd
    # pixels (a clicker held over a white dress, a bracelet) made plain cloth around look
    # patterned, and the streaky copy stayed (ted_lia_driving2_noaudio).
    detail = np.minimum(np.abs(grey_detail(img, src_b, 3.0 * scale)), hi)
    near = blur_in(detail, src_b, LOCAL_REACH * scale)
    # ... or that of the cloth the mirror copied (its detail over COPIED_REACH, mirrored as
    # the colours were): a narrow tie between plain jacket and shirt.
    own = blur_in(detail, src_b, (COPIED_REACH[0] * scale, COPIED_REACH[1] * scale))
    stops_b = None if stops is None else stops[box]
    if share is None:
        copied, ok = mirrored(own[..., None], hole_b, src_b, stops=stops_b)
    else:
        copied, ok, _ = mirrored_both(own[..., None], hole_b, src_b, scale, stops=stops_b,
                                      share=share[box])
    near = np.where(ok, np.maximum(near, copied[..., 0]), near)
    copy = np.clip((near - lo) / (hi - lo), 0.0, 1.0)
    if share is not None:
        d = cv2.distanceTransform((~src_b).astype(np.uint8), cv2.DIST_L2, 3)
        ramp = np.clip(1.0 - (d - 1.0) / (EDGE_RAMP * scale), 0.0, 1.0)
        copy = np.maximum(copy, ramp * (1.0 - share[box]))
    if kept is not None:
        copy = np.maximum(copy, kept[box])
    copy = copy[..., None]
    smooth, label = _shading(out, hole_b, src_b, SHADE * scale)
    smooth = _seamless(smooth, img, hole_b, src_b, scale)
    # Each cloth's smooth shading in its own weave: a blur alone read as a patch of paint on
    # a woven jacket (hbr_speaker7's navy one, where his forearms had lain).
    for k in np.unique(label[hole_b]):
        smooth += weave(img, hole_b & (label == k), src_b & (label == k), scale)
    mixed = out.astype(np.float32) * copy + smooth * (1.0 - copy)
    result = filled.copy()
    result[box][hole_b] = np.clip(mixed[hole_b] + 0.5, 0, 255).astype(np.uint8)
    return result


# The smooth shading of a hole (:func:`_seamless`) is made to meet the seen cloth within
# SEAM_RING px (at 512 px) of the hole's edge. The blur of the mirror's copy is the mean of
# what was copied from further off, not the colour at the edge: the fill sat as a grey patch
# with a hard outline on ted_lia_driving2_noaudio's white dress where her clasped hands had
# lain. The colour step across the edge of the torso's fill (RGB summed, mean over its edge
# pixels) fell from 63 to 19 there, 27 -> 8 on avspeech_sample2, 19 -> 7 on hbr_speaker7,
# 15 -> 9 on desk_host_body.png (their first frames); self-reenactment's most-moved box
# hbr_speaker7 +0.73 -> +0.82 dB, the other 11 clips within 0.01 dB.
SEAM_RING = 3.0


def _seamless(smooth: np.ndarray, image: np.ndarray, hole: np.ndarray, src: np.ndarray,
              scale: float) -> np.ndarray:
    """``smooth`` (the shading over ``hole`` and ``src``, float32) with its hole pixels
    shifted by the :func:`membrane` of its mismatch with ``image``'s seen cloth (``src``)
    within :data:`SEAM_RING` px of the hole: the whole mismatch at the hole's edge, running
    smoothly between the edge's mismatches inside. Where the hole borders anything else (the
    backdrop, an arm) the shift is nothing."""
    ring = src & ~hole & grown(hole, SEAM_RING * scale)
    if not ring.any():
        return smooth
    miss = np.zeros(smooth.shape, np.float32)
    miss[ring] = image[ring].astype(np.float32) - smooth[ring]
    box = mask_box(ring | hole, 2)
    # Known: the ring, and the nothing beyond a hole's edge that is no cloth's; the cloth
    # beyond the ring is free.
    shift = membrane(miss[box], ring[box] | ~(hole[box] | src[box]))
    out = smooth.copy()
    out[box][hole[box]] += shift[hole[box]]
    return out


def _shading(filled: np.ndarray, hole: np.ndarray, src: np.ndarray, sigma: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """``(shading, label)``: the smooth shading ``(H, W, 3)`` float32 of ``filled`` over
    ``hole`` and ``src``, each cloth's apart, and each pixel's cloth ``(H, W)`` int (0
    everywhere for one cloth). The seen colours are put in up to SHADE_CLOTHS clusters at
    least SHADE_APART (CIELAB) apart, joined where they are one cloth's shading
    (:func:`_cloths`); each seen pixel is labelled by the nearest's cloth (the labels smoothed
    over half ``sigma``: the cloths' shapes, not their specks), each hole pixel by the cloth a
    walk from it meets where it is sure (:func:`_walked`), and each is blurred among its own
    label's pixels of its colours. One blur over both, a dark jacket and a light shirt below
    hbr_speaker9's hands, ran into a grey smear."""
    x = filled.astype(np.float32)
    area = hole | src
    plain = blur_in(x, area, sigma)
    lab = lab_of(filled)
    seen = lab[src]
    one = np.zeros(hole.shape, np.int64)
    if len(seen) < 50:
        return plain, one
    centres = colour_clusters(seen[:: max(1, len(seen) // 5000)], SHADE_CLOTHS)
    keep = [0]
    for i in range(1, len(centres)):
        if all(np.linalg.norm(centres[i] - centres[j]) >= SHADE_APART for j in keep):
            keep.append(i)
    if len(keep) < 2:
        return plain, one
    centres = centres[keep]
    group = _cloths(seen[:: max(1, len(seen) // 20000)], centres)   # a sample is enough
    if len(set(group)) < 2:
        return plain, one
    dist = np.stack([np.linalg.norm(lab - c, axis=2) for c in centres])
    nearest = np.asarray(group)[dist.argmin(0)]
    onehot = np.stack([(nearest == g) for g in sorted(set(group))]).astype(np.float32)
    own = onehot.argmax(0)                  # each pixel's own colours' cloth
    soft = np.stack([blur_in(o, area, 0.5 * sigma) for o in onehot])
    label, islands = _without_islands(_walked(soft.argmax(0), onehot, hole, src), area, src)
    out = plain.copy()
    for k in range(len(onehot)):
        mine = area & (label == k)
        if not mine.any():
            continue
        # An island's own colours are not its cloth's shading, nor, in the hole, the mirror's
        # copy of another cloth's (ted_lia_driving3's black jacket hem, copied up into the blue
        # dress where her hands had lain, darkened its shading there).
        keep = mine & ~islands & (src | (own == k))
        keep = keep if keep.any() else mine & ~islands
        blur = blur_in(x, keep, sigma)
        if (mine & ~keep).any():        # ... which reaches an island's middle, or a patch of
            # another cloth's copy, from afar
            near = np.clip(gaussian(keep.astype(np.float32), sigma) / 0.2, 0, 1)
            blur = blur * near[..., None] + blur_in(x, keep, 4 * sigma) * (1 - near[..., None])
        out[mine] = blur[mine]
    return out, label


# A hole pixel's cloth (:func:`_walked`) is the one a random walk from it meets first among
# the seen cloths (the membrane of the cloths' labels), a step up WALK[0] of the time, down
# WALK[1], sideways the rest: a torso's cloths (a tie, a jacket's fronts, a dress between them)
# run down it, and what lies above the hands is more surely the torso's than what lies below
# (a lap, a chair's arm). Where no one cloth is met WALK_SURE of the time, the label of the
# mirror's copy (smoothed) stays. Labelled by the mirror's copy alone,
# ted_lia_driving3_noaudio's jacket hem, below her clasped hands, came up into the blue dress
# as a dark "W" (and avspeech_sample2's armpit shadow as a dark wedge on his white shirt; now
# a sliver). An even walk (0.25, or 0.4 up and down) ended his tie, under his hands, in a
# round blob halfway down; unsure walks taken too, hbr_speaker8's and hbr_speaker9's
# most-moved boxes lost 0.1-0.2 dB (a chair's white arm ran up into her jacket's side; his
# shirt's fronts took the jacket's colour). As here: hbr_speaker7, 8 and 9 -0.03, -0.03 and
# -0.04 dB, the other 9 clips unchanged.
WALK = (0.45, 0.35)
WALK_SURE = 0.7


def _walked(label: np.ndarray, onehot: np.ndarray, hole: np.ndarray, src: np.ndarray
            ) -> np.ndarray:
    """``label`` with its ``hole`` pixels given the cloth (index into ``onehot`` ``(K, H, W)``,
    each cloth's seen pixels) a walk from them meets first among ``src`` (:data:`WALK`), where
    it is sure (:data:`WALK_SURE`)."""
    box = mask_box(hole, 4)
    walk = membrane(np.moveaxis(onehot[:, box[0], box[1]], 0, -1), src[box],
                    up=WALK[0], down=WALK[1])
    out = label.copy()
    inside = out[box]
    sure = hole[box] & (walk.max(-1) >= WALK_SURE)
    inside[sure] = walk.argmax(-1)[sure]
    return out


def _without_islands(label: np.ndarray, area: np.ndarray, src: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``label`` with each island of a cloth's label lying wholly in the hole (touching none of
    ``src``, the seen cloth) given the label of the nearest pixel of the cloths around it, and
    the islands' mask: a cloth seen nowhere beside that place is the mirror's copy of it, not
    its shading. talkshow_show_half's blue shirt, mirrored down between his lapels under his
    hands, came out of the shading as blue flecks on his dark jacket once the hands moved."""
    islands = np.zeros(label.shape, bool)
    for k in np.unique(label[area]):
        mine = area & (label == k)
        islands |= mine & ~touching(mine, src)
    rest = area & ~islands
    if not islands.any() or not rest.any():
        return label, np.zeros(label.shape, bool)
    # Each island pixel takes the label of the nearest pixel that is no island (an island in
    # an island goes to the cloth around both).
    _, near = cv2.distanceTransformWithLabels((~rest).astype(np.uint8), cv2.DIST_L2, 5,
                                              labelType=cv2.DIST_LABEL_PIXEL)
    ys, xs = np.nonzero(rest)
    out = label.copy()
    pick = near[islands] - 1
    out[islands] = label[ys[pick], xs[pick]]
    return out, islands


# The colour clusters :func:`_shading` starts from.
SHADE_CLOTHS = 3
SHADE_APART = 25.0
# Two clusters are one cloth's shading when the seen colours run from one to the other with
# no gap: along the line between them (with the pixels of any cluster lying between), each
# tenth of the way from 0.15 to 0.85 holds at least SHADE_GAP times the geometric mean of the
# tenths round the two ends; a group's clusters are all so joined two by two. A white dress's
# folds run from white to grey (ted_lia_driving2, 0.81), a dark jacket and its lit folds from
# a light shirt do not (hbr_speaker9, 0.27 and 0.19). A cluster between two others with fewer
# pixels than either is their edge's blend: it joins nothing and bridges nothing.
SHADE_GAP = 0.5


def _cloths(seen: np.ndarray, centres: np.ndarray) -> list[int]:
    """A group number per colour cluster of :func:`_shading` (``centres`` ``(K, 3)``): the
    clusters of one cloth's shading share one (:data:`SHADE_GAP`), from the seen colours
    ``(N, 3)``; an edge's blend keeps its own."""
    own = np.stack([np.linalg.norm(seen - c, axis=1) for c in centres]).argmin(0)
    count = np.bincount(own, minlength=len(centres))

    def along(i: int, j: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, d = centres[i], centres[j] - centres[i]
        t = (x - a) @ d / max(float(d @ d), 1e-9)
        near = np.linalg.norm(x - a - t[:, None] * d, axis=1) < 0.5 * np.sqrt(float(d @ d))
        return t, near

    blend = set()
    for k in range(len(centres)):
        for i in range(len(centres)):
            for j in range(i + 1, len(centres)):
                if k in (i, j) or count[k] >= min(count[i], count[j]):
                    continue
                t, near = along(i, j, centres[k:k + 1])
                if near[0] and 0.2 < t[0] < 0.8:
                    blend.add(k)
    ratio = np.zeros((len(centres), len(centres)))
    cloth = [k for k in range(len(centres)) if k not in blend]
    for u in cloth:
        for v in cloth:
            if v <= u:
                continue
            t, near = along(u, v, seen)
            tc, nc = along(u, v, centres)
            path = (tc > 0.2) & (tc < 0.8) & nc           # cloths between: on the way
            path[list(blend)] = False
            path[[u, v]] = True
            t = t[near & path[own]]                       # not a third cluster's beside
            ends = np.sqrt(float((np.abs(t) < 0.05).sum() * (np.abs(t - 1) < 0.05).sum()))
            bins = np.histogram(t, bins=7, range=(0.15, 0.85))[0]
            ratio[u, v] = ratio[v, u] = bins.min() / max(ends, 1.0)
    # One cloth only where every two of its clusters run into each other (the pairs that run
    # most smoothly joined first): a jacket's light folds may run into a shirt's shadows, and
    # the jacket's dark into its folds, with the jacket and the shirt still apart.
    n = len(centres)
    group = list(range(n))
    for r, u, v in sorted(((ratio[u, v], u, v) for u in range(n) for v in range(u + 1, n)),
                          reverse=True):
        a = [k for k in range(n) if group[k] == group[u]]
        b = [k for k in range(n) if group[k] == group[v]]
        if r >= SHADE_GAP and group[u] != group[v] and (ratio[np.ix_(a, b)] >= SHADE_GAP).all():
            group = [group[u] if g == group[v] else g for g in group]
    return group
