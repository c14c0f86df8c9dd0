"""The upper arm's sleeve its own forearm or hand hides in the photo (a forearm folded up along
it, a hand raised to the shoulder): which pixels the upper arm's layer holds and fills there, so
that the sleeve, not the backdrop and a torn outline, shows when they swing away
(:mod:`gesticulate.render.warp.parts`)."""

from __future__ import annotations

import numpy as np

from gesticulate.render.warp.arms import ArmInfo, folded
from gesticulate.render.warp.masks import segment_distance, side_of


# The upper arm's sleeve half-width (shoulder widths): the visible sleeve's own (its 95th
# percentile distance from the bone), held within these bounds.
UPPER_HALF_WIDTH = (0.14, 0.22)


def upper_under_forearm(seg: dict[str, np.ndarray], info: ArmInfo, sw: float, *,
                        sleeve: bool = True) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The upper arm's pixels its forearm or hand covers in the photo: the pixels of those
    pieces inside the upper arm's sleeve (within its half-width of the shoulder-elbow bone,
    rounded at the shoulder, short of the elbow; no further out than continues the sleeve's
    seen outline, :func:`_continued_outline`). When the forearm swings away they show the
    sleeve, not the backdrop and a torn outline. A forearm folded back along the upper arm
    hides the sleeve's outer part too, so the little left seen does not measure its width: a
    ``sleeve`` (of the body's own cloth; a bare arm is thinner) is taken at the widest
    half-width (hbr_speaker12's arms, hands up by his shoulders in the photo, came down as thin
    sticks beside a torn jacket). A bare arm is measured on each side of its bone
    (:func:`_half_widths`).

    Returns None when there are none, else the pixels and, of a folded sleeve, those of them
    past its edge on a side where it is seen all along the bone (or None): there lies the body,
    and :func:`~gesticulate.render.warp.parts.split_parts` leaves the ones the torso fills to
    the torso alone.
    pats_oliver_slice18.png's sleeve is seen 0.10 sw inside its bone, his fist folded up
    against it: at 0.22 sw, the fist's pixels on his jacket's front were filled as sleeve and
    carried off with the upper arm, a square dark flap over his chest. (Cut at the seen edge
    wherever the torso does not fill them, interview_1wrQ6Msp7wM's forearm, folded up at her
    body's side, left a wedge of backdrop between forearm and sleeve; a sleeve not folded,
    measured on each side too, lost avspeech_sample2's fill by the elbow, -0.05 dB.)"""
    if info.mode != "full":
        return None
    h, w = seg["upper"].shape
    py, px = np.mgrid[0:h, 0:w].astype(np.float32)
    S, E = info.joints[:2]
    d, t = segment_distance(px, py, S, E)
    seen = d[seg["upper"] & (t > 0.2) & (t < 0.9)]
    if seen.size < 20:
        return None
    lo, hi = UPPER_HALF_WIDTH
    folded_up = sleeve and folded(*info.joints[:3])
    half = hi * sw if folded_up else float(np.clip(np.percentile(seen, 95), lo * sw, hi * sw))
    if not sleeve:
        half = _half_widths(seg, px, py, d, t, half, S, E, sw, bare=True)
    # Round at the shoulder (d is the distance to the shoulder point there): a hand raised to
    # the shoulder hid its top, and cut at the joint, the hand's outline notched it.
    over = (seg["fore"] | seg["hand"]) & (d < half) & (t < 0.95)
    over &= d <= _continued_outline(seg, px, py, d, t, half, S, E)
    if over.sum() < HIDDEN_UPPER_MIN:
        return None
    past = None
    if folded_up:
        past = over & (d >= _half_widths(seg, px, py, d, t, half, S, E, sw, bare=False))
    return over, (past if past is not None and past.any() else None)


# Fewer pixels of an upper arm hidden by its forearm than this are none (upper_under_forearm).
HIDDEN_UPPER_MIN = 20


# The least an upper arm is hidden past its bone on a side it is seen on, and how far a bare
# arm is on a side it is not seen on that its forearm does not cover (_half_widths), shoulder
# widths: the outline's own blur.
BARE_EDGE = 0.03


def _half_widths(seg: dict[str, np.ndarray], px: np.ndarray, py: np.ndarray,
                 d: np.ndarray, t: np.ndarray, half: float, S: np.ndarray, E: np.ndarray,
                 sw: float, *, bare: bool) -> np.ndarray:
    """``(H, W)``: how far from the bone S-E (``d``, ``t`` along it) an upper arm is hidden,
    on each side of it: no further than it is seen there where it is seen all along the bone
    (:func:`_seen_along`), else ``half``; a ``bare`` arm only :data:`BARE_EDGE` on a side it
    is not seen on that its forearm and hand do not cover either (the bone on or past the
    arm's edge).

    The bone need not run down the arm's middle (MediaPipe's shoulder point sits at the joint,
    inside the arm's inner edge), and past the seen edge lies the body, not the arm.
    un_speech_female's right upper arm shows 0.07 sw of skin inside its bone and 0.18
    outside; hidden 0.18 out on both sides, a wedge of fill stood out from her arm's inner
    edge by the elbow when her forearm came down."""
    out = np.full(d.shape, half, np.float32)
    one = _one_side(px, py, S, E)
    cover = seg["fore"] | seg["hand"]
    for side in (one, ~one):
        # Read short of the elbow, where the forearm's root lies beside the upper arm.
        along = side & (t > 0.2) & (t < 0.8)
        part = seg["upper"] & along
        if _seen_along(t[part], 0.2, 0.8):
            out[side] = min(half, max(float(np.percentile(d[part], 95)), BARE_EDGE * sw))
        elif bare:
            band = along & (d < half)
            if cover[band].sum() < 0.5 * band.sum():
                out[side] = min(half, BARE_EDGE * sw)
    return out


# The upper arm's outline is read in steps of OUTLINE_STEP of its bone; from where it is seen
# to where it is not, the hidden sleeve widens to its full half-width over OUTLINE_RAMP steps
# (_continued_outline).
OUTLINE_STEP = 0.05
OUTLINE_RAMP = 3


def _continued_outline(seg: dict[str, np.ndarray], px: np.ndarray, py: np.ndarray,
                       d: np.ndarray, t: np.ndarray, half: np.ndarray | float,
                       S: np.ndarray, E: np.ndarray) -> np.ndarray:
    """``(H, W)``: how far from the bone S-E (``d``, ``t`` along it) the upper arm hidden
    under its forearm or hand reaches, on each side of the bone: at a step of the bone
    (:data:`OUTLINE_STEP`) where the sleeve's outline is seen (nothing of the forearm or hand
    lies past it), the outline's own distance; elsewhere ``half``, reached from the nearest
    seen step's outline gradually, over :data:`OUTLINE_RAMP` steps along the bone. For any
    hidden upper arm (folded, bare, under a hand raised to the shoulder): at ``half`` round the
    shoulder right beside its seen outline, the hidden sleeve stood above it, and when
    hbr_speaker12's hands, raised by his shoulders in the photo, came down, his jacket kept a
    tooth on each shoulder there."""
    half = np.broadcast_to(np.asarray(half, np.float32), d.shape)
    out = np.array(half)
    near = d < half
    dn, hn = d[near], half[near]
    up, cover = seg["upper"][near], (seg["fore"] | seg["hand"])[near]
    steps = np.arange(-0.5, 1.0 + 1e-9, OUTLINE_STEP)
    tn = t[near]
    k = np.clip(np.digitize(tn, steps) - 1, 0, len(steps) - 2)
    one = _one_side(px[near], py[near], S, E)
    reach_n = out[near]
    for side in (one, ~one):
        reach = np.full(len(steps) - 1, np.nan)
        for b in np.unique(k[side]):
            band = side & (k == b)
            seen = dn[band & up]
            if seen.size >= 5:
                edge = float(np.percentile(seen, 95))
                if not (band & cover & (dn > edge + 1.0)).any():
                    reach[b] = edge
        seen_at = np.flatnonzero(~np.isnan(reach))
        if not seen_at.size:
            continue
        # Each pixel of a step where the outline is not seen: from the nearest seen step's
        # reach at that step's border, on to ``half`` over OUTLINE_RAMP steps of the bone.
        mine = np.flatnonzero(side & np.isnan(reach[k]))
        kb = k[mine]
        j = seen_at[np.argmin(np.abs(seen_at[None, :] - kb[:, None]), axis=1)]
        border = np.where(j < kb, steps[j + 1], steps[j])
        ramp = np.clip(np.abs(tn[mine] - border) / (OUTLINE_RAMP * OUTLINE_STEP), 0, 1)
        grow = np.maximum(hn[mine] - reach[j], 0.0)
        reach_n[mine] = np.minimum(reach_n[mine], reach[j] + grow * ramp)
        seen_px = np.flatnonzero(side & ~np.isnan(reach[k]))
        reach_n[seen_px] = np.minimum(reach_n[seen_px], reach[k[seen_px]])
    out[near] = reach_n
    return out


def _one_side(px: np.ndarray, py: np.ndarray, S: np.ndarray, E: np.ndarray) -> np.ndarray:
    """The points on one side of the bone S-E (the same side for :func:`_half_widths` and
    :func:`_continued_outline`)."""
    return side_of(px, py, S, E, S + np.array([E[1] - S[1], S[0] - E[0]]))


def _seen_along(t: np.ndarray, a: float, b: float, bins: int = 14, share: float = 0.8) -> bool:
    """Whether positions ``t`` along a bone cover at least ``share`` of ``bins`` equal steps
    between ``a`` and ``b``."""
    counts, _ = np.histogram(t, bins=bins, range=(a, b))
    return bool((counts > 0).mean() >= share)
