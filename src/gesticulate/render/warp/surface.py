"""A desk or lectern in front of the person: the straight edge where it begins.

The person segmenter takes part of a desk the speaker's hands rest on (its gloss under a hand,
a strip below the jacket) for the person: on desk_host_body.png a brown piece of the desk rose
with the hand that had lain on it, and the backdrop fill carried the night windows down over the
desk where the hand had been. A desk's (lectern's, table's) top edge is a straight,
near-horizontal edge of the backdrop that runs on both sides of the person at one height, with
one colour below it on both sides. :func:`find_surface` finds it; the renderer then gives the
pixels of the desk's colour below it back to the backdrop (:meth:`Surface.desk`) and fills the
backdrop on each side of the edge from that side only
(:func:`gesticulate.render.warp.backdrop.fill_backdrop`), so the desk stays a desk and its edge
stays straight.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gesticulate.render.warp import bones as B
from gesticulate.render.warp.hands import finger_zone
from gesticulate.render.warp.masks import grown, nearest_colour, shoulder_geometry
from gesticulate.skeleton import layout as L

SIDE = 256                              # working size (longest side, px) of the search
SLOPES = np.linspace(-0.05, 0.05, 21)   # rise per pixel: a desk seen nearly level
STRENGTH = 3.0        # CIELAB units per px of the edge (median over each side), at least ...
TYPICAL = 4.0         # ... and this many times the backdrop's median vertical gradient
SAME_EDGE = 0.5       # cosine between the two sides' colour steps: the same edge both sides
BAND = 0.2            # the edge is read on each side over this share of the width ...
MIN_SEEN = 0.08       # ... of which at least this share is seen backdrop, on each side
SAME_COLOUR = 20.0    # CIELAB distance: the desk below the edge is one colour both sides
ON_PERSON = 0.25      # the share of the person's pixels just below the edge with the desk's
#                       colour, at least, and at least twice that of those just above it
DEPTH = 4             # working px below (and above) the edge where colours are read
CRUMB = 0.1           # shoulder widths: pieces of the person below the edge smaller than this²
# Lightness counts half in those colour tests (units per channel: L, a, b): a glass desk's edge
# catches the light brighter on one side than the other, its hue the same (pats_oliver_slice18.png
# and talkshow_show_half: 33 of the 8-bit lightness apart; their glass desks were not found, and
# the hidden fill drew a grey star on the desk where a hand had rested).
SHADE = np.array([2.0, 1.0, 1.0], np.float32)
DESK_COLOUR = 40.0    # CIELAB: the person's pixels below the edge this near the desk's may be desk


@dataclass(frozen=True)
class Surface:
    """The line ``y = y0 + slope * x`` (full-resolution pixels) where a desk begins, and the
    desk's colours just below it (CIELAB, OpenCV's 8-bit scaling), one per side."""

    y0: float
    slope: float
    colours: np.ndarray

    def below(self, shape: tuple[int, int], *, margin: float = 0.0) -> np.ndarray:
        """Bool ``(H, W)``: the pixels more than ``margin`` px below the line."""
        h, w = shape
        return np.arange(h)[:, None] > self.y0 + self.slope * np.arange(w)[None] + margin

    def above(self, point, *, margin: float = 0.0) -> bool:
        """Whether ``point`` (x, y, ... in pixels) lies more than ``margin`` px above the line."""
        return bool(point[1] < self.y0 + self.slope * point[0] - margin)

    def rows(self, width: int) -> tuple[int, int]:
        """The highest and lowest row (floor, ceiling) the line reaches in ``width`` columns."""
        ends = self.y0 + self.slope * np.array([0.0, width - 1.0])
        return int(np.floor(ends.min())), int(np.ceil(ends.max()))

    def desk(self, lab: np.ndarray, person: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """The person's pixels below the line, less ``keep`` (the hands), within
        :data:`DESK_COLOUR` of the desk's colour (either side's): the desk the segmenter took
        for the person, with its gloss and the clothes' reflections in it. (A navy sleeve
        lying on a brown desk is further from it.) Bool ``(H, W)``."""
        below = self.below(person.shape, margin=1.0) & person & ~keep
        out = np.zeros_like(below)
        if below.any():
            out[below] = nearest_colour(lab[below], self.colours, 1.0) < DESK_COLOUR
        return cv2.morphologyEx(out.astype(np.uint8), cv2.MORPH_OPEN,
                                np.ones((3, 3), np.uint8)) > 0


def _row_medians(values: np.ndarray, mask: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per row of ``values`` ``(H, W, C)``, the median over the columns ``mask`` ``(H, W)``
    holds, for the ``rows`` ``(H,)`` asked (each with at least one): as ``np.median`` row by
    row (the mean of the two middle values of an even count), in one sort. ``(H, C)``, NaN
    for the rows not asked."""
    out = np.full((len(values), values.shape[2]), np.nan, values.dtype)
    v, m = values[rows], mask[rows]
    ranked = np.sort(np.where(m[..., None], v, np.inf), axis=1)
    n = m.sum(1)
    lo = np.take_along_axis(ranked, ((n - 1) // 2)[:, None, None], axis=1)[:, 0]
    hi = np.take_along_axis(ranked, (n // 2)[:, None, None], axis=1)[:, 0]
    out[rows] = np.where((n % 2 == 1)[:, None], lo, (lo + hi) / 2)
    return out


def find_surface(image: np.ndarray, person: np.ndarray, hole: np.ndarray, *, lowest: float,
                 keep: np.ndarray | None = None) -> Surface | None:
    """The top edge of a desk in front of the person, or None.

    A line of slope within :data:`SLOPES` crossing ``hole`` (the person's grown mask, which
    must not reach the frame's sides on the line) is a desk's edge when:

    - read in the seen backdrop over :data:`BAND` of the width on each side of the hole, the
      colour's step across it (the median vertical CIELAB gradient) is strong on both sides
      (:data:`STRENGTH`, :data:`TYPICAL` × the backdrop's median) and alike
      (:data:`SAME_EDGE`);
    - the backdrop :data:`DEPTH` px below it has one colour on both sides (:data:`SAME_COLOUR`,
      lightness counting half: :data:`SHADE`);
    - at least :data:`ON_PERSON` of the person's pixels just below it (less ``keep``, the
      hands) have that colour, and at most half that share of those just above it: the desk
      goes on below the edge, the person does not (and the clothes are not the desk's colour,
      or nothing could tell them apart);
    - it lies wholly below the row ``lowest`` (the caller gives a row below the shoulders: a
      window's bar behind the shoulders is not a desk).

    Of such lines the strongest is returned. A line of the backdrop behind a standing person
    (a stage's edge behind her dress) fails the colour tests."""
    h, w = person.shape
    scale = min(1.0, SIDE / max(h, w))
    ws, hs = max(1, round(w * scale)), max(1, round(h * scale))
    lab = cv2.cvtColor(cv2.resize(image, (ws, hs), interpolation=cv2.INTER_AREA),
                       cv2.COLOR_RGB2LAB).astype(np.float32)
    hole_s = _small(hole, (ws, hs))
    mine_s = _small(person & ~keep if keep is not None else person, (ws, hs))
    if hole_s.all() or not hole_s.any() or hs < 16:
        return None
    grad = cv2.Sobel(lab, cv2.CV_32F, 0, 1, ksize=3) / 8.0            # (hs, ws, 3)
    floor = max(STRENGTH, TYPICAL * float(np.median(np.linalg.norm(grad[~hole_s], axis=1))))
    band, seen_min = max(2, int(BAND * ws)), max(2, int(MIN_SEEN * ws))
    x = np.arange(ws, dtype=np.float32)
    cols = np.arange(ws)[None]
    found = []
    for slope in SLOPES:
        # Sheared so that the line y = row + slope * (x - ws / 2) is row ``row``.
        map_y = np.arange(hs, dtype=np.float32)[:, None] + slope * (x[None] - ws / 2)
        map_x = np.broadcast_to(x[None], (hs, ws)).astype(np.float32)
        inside = (map_y >= 1) & (map_y <= hs - 2)
        g = cv2.remap(grad, map_x, map_y, cv2.INTER_LINEAR)
        hl = (cv2.remap(hole_s.astype(np.uint8), map_x, map_y, cv2.INTER_NEAREST) > 0) & inside
        has = hl.any(axis=1)
        xl = np.where(has, hl.argmax(axis=1), 0)
        xr = np.where(has, ws - 1 - hl[:, ::-1].argmax(axis=1), ws - 1)
        left = (cols >= xl[:, None] - band) & (cols < xl[:, None] - 1) & ~hl & inside
        right = (cols > xr[:, None] + 1) & (cols <= xr[:, None] + band) & ~hl & inside
        rows = (has & inside.all(axis=1) & (xl >= seen_min) & (xr <= ws - 1 - seen_min)
                & (left.sum(1) >= seen_min) & (right.sum(1) >= seen_min))
        # The line lies wholly below ``lowest`` (as the loop below reads it: y0, then its end).
        rows &= (np.arange(hs) - slope * ws / 2) + min(0.0, slope * (ws - 1)) >= lowest * scale
        if not rows.any():
            continue
        med_l, med_r = _row_medians(g, left, rows), _row_medians(g, right, rows)
        for row in np.flatnonzero(rows):
            y0 = float(row - slope * ws / 2)
            a, b = med_l[row], med_r[row]
            na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
            if min(na, nb) >= floor and float(a @ b) >= SAME_EDGE * na * nb:
                found.append((min(na, nb), y0, float(slope), left[row], right[row],
                              int(xl[row]), int(xr[row])))
    yy, xx = np.mgrid[0:hs, 0:ws]
    for _, y0, slope, left, right, xl, xr in sorted(found, key=lambda f: -f[0]):
        line = y0 + slope * xx
        under = (yy > line + 1) & (yy <= line + 1 + DEPTH)
        over = (yy < line - 1) & (yy >= line - 1 - DEPTH)
        below = (yy > line + 2) & (yy <= line + 2 + DEPTH)     # past the edge's blur
        sides = []
        for side in (left, right):
            zone = under & side[None] & ~hole_s
            if zone.sum() >= 4:
                sides.append(np.median(lab[zone], axis=0))
        if len(sides) < 2 or np.linalg.norm((sides[0] - sides[1]) / SHADE) >= SAME_COLOUR:
            continue
        span = (xx >= xl) & (xx <= xr) & mine_s
        share = [float((nearest_colour(lab[zone & span], sides, SHADE) < SAME_COLOUR).mean())
                 if (zone & span).sum() >= 4 else np.nan for zone in (below, over)]
        if share[0] >= ON_PERSON and share[1] <= share[0] / 2:     # NaN fails both
            # Pixel centres: working row r covers full rows around (r + 0.5) / scale - 0.5.
            y0_full = (y0 - 0.5 * slope + 0.5) / scale + 0.5 * slope - 0.5
            return Surface(y0=y0_full, slope=slope, colours=np.array(sides, np.float32))
    return None


def desk_in_front(image: np.ndarray, person: np.ndarray, hands: dict[str, np.ndarray],
                  ref: np.ndarray, valid: np.ndarray, lab: np.ndarray, *, grow: float
                  ) -> tuple[Surface | None, np.ndarray, np.ndarray]:
    """The desk in front of the person (:func:`find_surface`, searched below half a shoulder
    width under the lower shoulder, the hole being ``person`` grown by ``grow`` px) and the
    person's pixels that are that desk: :meth:`Surface.desk` (the hands kept) and the crumbs
    of the person left below the edge, and the hands' reflection in it (below). ``(None, none,
    none)`` when there is no desk or no shoulders are seen.

    A hand resting on a glossy desk is mirrored in it, and the hand's cut (by colour) takes
    some of the reflection. Below the edge, what of a hand whose 21 landmarks were all seen
    lies below the convex hull of its landmarks' zone
    (:func:`~gesticulate.render.warp.hands.finger_zone`: the tips end a finger's half-width
    past the last landmark), column by column, is that reflection, unless the other hand has
    it: it is taken from ``hands`` (changed in place), given to the desk and returned. Left
    with the hand, desk_host_body.png's fingertips' reflection rose with it as brown flecks
    under the fingers. (Past the zone anywhere, the cut took the web between thumb and finger
    and the fingers' edges too; below the hand's lowest landmark, his real fingertips, which
    the detector places short.)"""
    none = np.zeros_like(person)
    geo = shoulder_geometry(ref, valid, person.shape[::-1])
    if geo is None:
        return None, none, none.copy()
    lowest = float(max(ref[L.LEFT_SHOULDER, 1], ref[L.RIGHT_SHOULDER, 1]) + 0.5 * geo[2])
    keep = _union(hands.values(), none)
    surface = find_surface(image, person, grown(person, grow), lowest=lowest, keep=keep)
    if surface is None:
        return None, none, none.copy()
    below = surface.below(person.shape)
    rows = np.arange(person.shape[0])[:, None]
    reflected = none.copy()
    for side, region in hands.items():
        start = B.ARMS[side]["hand_start"]
        if not (B.hand_valid(valid, start) and (region & below).any()):
            continue            # a hand found in part, or by its skin: its tips are unknown
        zone = finger_zone(ref, start, person.shape)[0]
        hull = np.zeros(zone.shape, np.uint8)       # the gaps between the fingers too
        cv2.fillConvexPoly(hull, cv2.convexHull(cv2.findNonZero(zone.astype(np.uint8))), 1)
        lowest = np.where(hull.any(0), hull.shape[0] - 1 - np.argmax(hull[::-1], 0), -1)
        past = region & below & (lowest >= 0) & (rows > lowest)
        hands[side] = region & ~past
        reflected |= past
    if reflected.any():
        keep = _union(hands.values(), none)
        reflected &= ~keep                      # what the other hand holds stays a hand
    desk = surface.desk(lab, person, keep) | (reflected & person)
    # Crumbs of the person left below the edge (gloss, shadow) are desk too.
    rest = (person & below & ~keep & ~desk).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8)
    crumbs = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < (CRUMB * geo[2]) ** 2)
    desk |= np.isin(labels, crumbs[crumbs > 0])
    return surface, desk, reflected


# Below a desk's edge, an upper arm's or forearm's pixels are the desk's when both ends of the
# piece's bone lie at least this far (shoulder widths) above the edge: pats_oliver_slice18.png's
# right elbow is 0.16 over it.
DESK_CLEAR = 0.1


def arm_below(surface: Surface, segments: dict[str, np.ndarray], joints: np.ndarray,
              sw: float) -> dict[str, np.ndarray]:
    """Of an arm's pieces (``segments``: ``"upper"``, ``"fore"``, ``"hand"`` bool ``(H, W)``;
    ``joints``: shoulder, elbow, wrist ``(>= 3, 2)``), the upper arm's and forearm's pixels below
    the desk's edge when the piece's bone ends :data:`DESK_CLEAR` or more above it, by piece:
    the desk's reflection of the arm, or the arm seen through its glass. Carried off with the
    arm, pats_oliver_slice18.png's sleeve's reflection (535 px given to his upper arm) left a
    pale blob of fill on the glass. An arm reaching down past the edge, over the desk's front,
    is the arm; a hand is left to :func:`desk_in_front`."""
    below = surface.below(segments["upper"].shape)
    out = {}
    for k, piece in enumerate(("upper", "fore")):
        if all(surface.above(j, margin=DESK_CLEAR * sw) for j in joints[k:k + 2]):
            off = segments[piece] & below
            if off.any():
                out[piece] = off
    return out


def _union(masks, none: np.ndarray) -> np.ndarray:
    """The pixels of any of ``masks`` (bool, the shape of ``none``, an all-False mask)."""
    out = none.copy()
    for mask in masks:
        out |= mask
    return out


def _small(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
