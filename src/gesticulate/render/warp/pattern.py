"""A cloth's printed pattern run on under the arms in step with it (:mod:`cloth
<gesticulate.render.warp.cloth>`'s hidden fill): the periods of a cloth printed all over, and
a narrow band of stripes (a tie) on plain cloth."""

from __future__ import annotations

import cv2
import numpy as np

from gesticulate.render.warp.fill import grey_detail
from gesticulate.skeleton.tracks import runs


# A cloth's repeating pattern (:func:`pattern_periods`): the autocorrelation peaks of its
# detail at least PATTERN_PEAK, PERIOD_MIN px or more from zero and read over at least
# PATTERN_OVERLAP of its pixels. interview_1wrQ6Msp7wM's diamond-patterned jacket peaks at
# 0.26 (13 px down, 10 px across).
PATTERN_PEAK = 0.2
PERIOD_MIN = 6
PATTERN_OVERLAP = 0.3
PATTERN_CONTRAST = 2.0     # grey levels: the detail's RMS at least this
DIP = 0.5                 # ... at most this share of it halfway (a period, not a ridge)
REPEAT = 0.25             # ... and two periods away at least this share of PATTERN_PEAK
PATTERN_STEPS = 6          # lattice translations tried: up to this many periods each way


def pattern_periods(image: np.ndarray, source: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray] | None:
    """The two periods ``(dy, dx)`` of the pattern of a cloth's ``source`` pixels (the
    second one of a striped cloth zero), or None for a cloth with no repeating pattern. They
    are peaks of the normalised autocorrelation of the grey detail (the grey level less its
    blur over 4 px; an RMS of :data:`PATTERN_CONTRAST` at least), each at least
    :data:`PATTERN_PEAK`: the strongest one whose double peaks too (:data:`REPEAT`: a
    pattern repeats; a face or a crease does not), then the strongest across it of a like
    length."""
    ys, xs = np.nonzero(source)
    if len(ys) < 200:
        return None
    y0, x0 = ys.min(), xs.min()
    box = (slice(y0, ys.max() + 1), slice(x0, xs.max() + 1))
    m = source[box].astype(np.float32)
    x = grey_detail(image[box], source[box], 4.0) * m
    if (x * x).sum() < (PATTERN_CONTRAST ** 2) * m.sum():
        return None                # no detail to repeat (a gradient's rounding steps are none)
    h, w = x.shape
    shape = (2 * h, 2 * w)                        # padded: the correlation is not circular

    def corr(a, b):
        return np.fft.irfft2(np.fft.rfft2(a, shape) * np.conj(np.fft.rfft2(b, shape)), shape)

    # At lag v: the sum of x(p) x(p + v) over the pixels seen at both, over the root of the
    # two sides' energies there.
    c = corr(x, x) / np.sqrt(np.maximum(corr(x * x, m) * corr(m, x * x), 1e-6))
    c[corr(m, m) < PATTERN_OVERLAP * m.sum()] = -1.0
    c = np.fft.fftshift(c).astype(np.float32)
    yy, xx = np.mgrid[0:2 * h, 0:2 * w]
    # Local maxima only: the slope of the peak at zero lag (any image is like itself a pixel
    # away) is none.
    top = (c == cv2.dilate(c, np.ones((5, 5), np.uint8))) & (c >= PATTERN_PEAK)
    top &= np.hypot(yy - h, xx - w) >= PERIOD_MIN

    def at(v) -> float:
        y, x = int(h + v[0]), int(w + v[1])
        return float(c[y, x]) if 0 <= y < 2 * h and 0 <= x < 2 * w else -1.0

    def period(v) -> bool:
        """A period dips halfway (an edge, a lapel or a stripe along the lag is like itself
        all along it: a ridge, no period) and repeats (the correlation two periods away
        peaks too, within a pixel; a face or a crease does not)."""
        if at(np.round(v / 2)) > DIP * at(v):
            return False
        return max(at(2 * v + (dy, dx)) for dy in (-1, 0, 1) for dx in (-1, 0, 1)) \
            >= REPEAT * PATTERN_PEAK

    peaks = [v for v in (np.argwhere(top) - (h, w))[np.argsort(-c[top])] if period(v)]
    if not peaks:
        return None
    v1 = peaks[0]
    for v in peaks:           # the other period: across the first, of a like length
        if np.linalg.norm(v) > 3 * np.linalg.norm(v1):
            continue
        if abs(v1[0] * v[1] - v1[1] * v[0]) > 0.3 * np.linalg.norm(v1) * np.linalg.norm(v):
            return v1, v
    return v1, np.zeros(2, np.int64)


def pattern_fill(image: np.ndarray, hole: np.ndarray, src: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """``hole`` pixels copied from the ``src`` pixel one whole number of the pattern's
    periods away (:func:`pattern_periods`; the nearest such one), so a patterned cloth runs
    on under the arms with its own pattern, in step with it: ``(image, where filled)``, or None
    for a cloth with no pattern."""
    periods = pattern_periods(image, src)
    if periods is None:
        return None
    v1, v2 = periods
    n = range(-PATTERN_STEPS, PATTERN_STEPS + 1)
    shifts = {tuple(a * v1 + b * v2) for a in n for b in (n if v2.any() else [0])} - {(0, 0)}
    return _copied(image, hole, src, sorted(shifts, key=lambda t: (np.hypot(*t), t)))


def _copied(image: np.ndarray, hole: np.ndarray, src: np.ndarray, offsets
            ) -> tuple[np.ndarray, np.ndarray]:
    """``image`` with each ``hole`` pixel copied from the first ``src`` pixel at its
    ``offsets`` ``(dy, dx)`` (each a number or an array over the hole's pixels, in
    :func:`numpy.nonzero` order; ``dx`` may be fractional: the two pixels beside it, both
    ``src``, blended), tried in turn: ``(image, where filled)``."""
    h, w = hole.shape
    ys, xs = np.nonzero(hole)
    out = image.copy()
    got = np.zeros(len(ys), bool)
    for dy, dx in offsets:
        yy, x = ys + dy, xs + np.asarray(dx, np.float64)
        xx = np.floor(x).astype(np.int64)
        t = np.broadcast_to(x - xx, xx.shape)
        nxt = xx + (t > 0)
        ok = ~got & (yy >= 0) & (yy < h) & (xx >= 0) & (nxt < w)
        ok[ok] &= src[yy[ok], xx[ok]] & src[yy[ok], nxt[ok]]
        a, b = image[yy[ok], xx[ok]].astype(np.float64), image[yy[ok], nxt[ok]]
        out[ys[ok], xs[ok]] = np.clip(a + t[ok, None] * (b - a) + 0.5, 0, 255).astype(np.uint8)
        got |= ok
        if got.all():
            break
    done = np.zeros_like(hole)
    done[ys[got], xs[got]] = True
    return out, done


# A narrow band of printed stripes on plain cloth (desk_host_body.png's striped tie, between his
# navy jacket and white shirt) is too small a part of the torso for :func:`pattern_periods`,
# and mirrored across the edge of the hand that lay on it, its diagonal stripes turned back as a
# chevron under the hand, with a pale, jagged blob of the shirt below it. :func:`stripes_fill`
# reads the seen cloth above the hole in windows STRIPE_BAND px wide (at 512 px; every
# STRIPE_STEP px, up to STRIPE_REACH px above): a window is striped where its detail (grey less
# its 4 px blur) has an RMS of STRIPE_CONTRAST grey levels or more and repeats down the columns,
# its autocorrelation at a lag of P px at least STRIPE_PEAK, at P/2 at most STRIPE_DIP times
# that and at 2P (which must lie within what was read) at least STRIPE_REPEAT. The tie peaks at
# 29 px (0.53; halfway 0.31, double 0.38). Of the twelve shared clips' first frames and the four
# shared photos (at 512 and 256 px) no other torso has such a window: without the double read,
# portrait_s2.jpg's shirt folds passed at 64 px. The hole's pixels in the window's columns, and
# in the columns beside it (as far as half a window) whose seen cloth within 3 P px above the
# hole has a detail RMS of STRIPE_EDGE or more (the band's edges), copy the seen pixel a whole
# number of periods above them (below where there is none), and the fill's shading leaves them.
STRIPE_BAND = 32.0
STRIPE_STEP = 8.0
STRIPE_REACH = 160.0
STRIPE_CONTRAST = 20.0
STRIPE_PEAK = 0.35
STRIPE_DIP = 0.7
STRIPE_REPEAT = 0.2
STRIPE_EDGE = 10.0


def _column_correlations(d: np.ndarray, m: np.ndarray, lags: int) -> np.ndarray:
    """``(lags,)``: the normalised correlation of the detail ``d`` ``(rows, cols)`` (zero off
    the seen mask ``m``) with itself 1 ... ``lags`` rows down, over the pixels seen at both."""
    n = 2 * d.shape[0]                            # padded: the correlation is not circular

    def down(a, b):                               # sum over r of a[r] b[r + lag], per lag
        f = np.conj(np.fft.rfft(a, n, axis=0)) * np.fft.rfft(b, n, axis=0)
        return np.fft.irfft(f, n, axis=0)[1:lags + 1].sum(axis=1)

    return down(d, d) / np.sqrt(np.maximum(down(d * d, m) * down(m, d * d), 1e-6))


def _stripe_periods(image: np.ndarray, hole: np.ndarray, src: np.ndarray, scale: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Where a band of stripes runs into ``hole`` from above (:data:`STRIPE_BAND` ...):
    ``(the stripes' period per column (W,) int, 0 for none; the hole's pixels that a striped
    window's columns reach down into from its top (H, W) bool)``."""
    h, w = hole.shape
    band = max(8, int(round(STRIPE_BAND * scale)))
    step = max(2, int(round(STRIPE_STEP * scale)))
    reach = int(round(STRIPE_REACH * scale))
    low = max(3, int(round(PERIOD_MIN * scale)))
    period = np.zeros(w, np.int32)
    cols = np.flatnonzero(hole.any(axis=0))
    if not len(cols) or w < band:
        return period, np.zeros_like(hole)
    _, labels = cv2.connectedComponents(hole.astype(np.uint8), connectivity=8)
    reached = np.zeros(labels.max() + 1, bool)     # per piece of the hole (0: none)
    detail = grey_detail(image, src, 4.0 * scale)
    for x in range(min(max(0, cols[0] - band // 2), w - band), min(w - band, cols[-1]) + 1, step):
        rows = hole[:, x:x + band].any(axis=1)
        if not rows.any():
            continue
        top = int(np.argmax(rows))
        m = src[max(0, top - reach):top, x:x + band].astype(np.float32)
        if m.sum() < 200 or m.shape[0] < 5 * low:
            continue
        d = detail[max(0, top - reach):top, x:x + band] * m
        if (d * d).sum() < STRIPE_CONTRAST ** 2 * m.sum():
            continue
        c = _column_correlations(d, m, m.shape[0] // 2)          # c[lag - 1]
        inner = np.arange(low, len(c) - 1)                         # lags with both neighbours
        peaks = inner[(c[inner - 1] >= c[inner - 2]) & (c[inner - 1] >= c[inner])]
        if not len(peaks) or c[peaks - 1].max() < STRIPE_PEAK:
            continue
        # The shortest of the strongest peaks (a period's double peaks as high on clean stripes)
        p = int(peaks[c[peaks - 1] >= 0.9 * c[peaks - 1].max()].min())
        if c[p - 1] < STRIPE_PEAK or c[p // 2 - 1] > STRIPE_DIP * c[p - 1] \
                or 2 * p > len(c) or c[2 * p - 1] < STRIPE_REPEAT:
            continue                # (a pattern repeats: its double period is read too)
        reached[labels[top, x:x + band]] = True
        # The window's columns, and those beside it with detail: the band's edge and what runs
        # along it (plain cloth beside is left to the mirror and the shading).
        near = detail[max(0, top - 3 * p):top]
        seen = src[max(0, top - 3 * p):top]
        for cx in range(max(0, x - band // 2), min(w, x + band + band // 2)):
            if period[cx] or not hole[:, cx].any():
                continue
            d = near[seen[:, cx], cx]
            if x <= cx < x + band or (len(d) >= p and np.sqrt(np.mean(d * d)) >= STRIPE_EDGE):
                period[cx] = p
    reached[0] = False
    return period, reached[labels] & (period > 0)[None, :]


def stripes_fill(image: np.ndarray, hole: np.ndarray, src: np.ndarray, scale: float
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """``hole`` pixels below a band of printed stripes (:func:`_stripe_periods`) copied from
    the ``src`` pixel a whole number of the stripes' periods up their column (down, where
    there is none), and as many times the band's drift across (:func:`_band_drift`), so the
    stripes and the band's edges run on in step: ``(image, where filled)``, or None where the
    seen cloth above the hole has no such band. One period for each band, the one most of its
    columns read (neighbours that read another stepped the stripes where they met). From above
    first, where the band was read: below a hand it lies in the hand's shadow, and copies from
    both sides met in a seam."""
    period, where = _stripe_periods(image, hole, src, scale)
    if not where.any():
        return None
    ys, xs = np.nonzero(where)
    p = np.zeros(len(xs), np.int64)
    drift = np.zeros(len(xs))
    detail = grey_detail(image, src, 4.0 * scale)
    for a, b in runs(period > 0):
        on = (xs >= a) & (xs < b)
        band_p = int(np.bincount(period[a:b]).argmax())
        p[on] = band_p
        drift[on] = _band_drift(detail, hole, src, np.arange(a, b), band_p)[xs[on] - a]
    k = range(1, hole.shape[0] // int(p.min()) + 1)
    return _copied(image, where, src, [(-i * p, -i * drift) for i in k]
                   + [(i * p, i * drift) for i in k])


# A band's drift (:func:`_band_drift`): at most MAX_DRIFT of its period across per period down,
# tried every DRIFT_STEP px, at the band's middle and its edges.
MAX_DRIFT = 0.25
DRIFT_STEP = 0.25


def _band_drift(detail: np.ndarray, hole: np.ndarray, src: np.ndarray, cols: np.ndarray,
                p: int) -> np.ndarray:
    """How far across (px) the band of stripes over the columns ``cols`` runs per period ``p``
    down, per column ``(len(cols),)``: a tie widens down, and copied straight down a period
    at a time its edges ran on as steps, one a period (desk_host_body.png's). Linear across
    the band (it widens evenly, its stripes fanning with its edges): the line whose drifts best
    match each column's detail, in the 2 periods above the hole, with the detail a period up
    and that drift across (sampled linearly), summed over the band's columns (its edges, of
    more contrast than the stripes, weigh most). On a synthetic tie widening from 40 to 70 px
    over 300 rows, the mean error of the fill under a hand fell from 77 to 37 (RGB summed); on
    holes cut in desk_host_body.png's seen tie, from 94 to 77."""
    h, w = detail.shape
    reach = MAX_DRIFT * p
    steps = np.arange(-reach, reach + 1e-9, DRIFT_STEP)
    top = hole[:, cols].argmax(axis=0)                 # each column's first hole row
    rows = np.arange(max(p, int(top.min()) - 2 * p), int(top.max()))
    near = (rows[:, None] >= top[None, :] - 2 * p) & (rows[:, None] < top[None, :])
    near &= src[rows][:, cols]
    here = detail[rows][:, cols]
    # cost[c, j]: the mean squared difference of column c's detail with the detail a period up
    # and steps[j] across, over the rows seen at both (NaN for a column that reads past the
    # picture's side at that drift, or too few rows).
    cost = np.full((len(cols), len(steps)), np.nan)
    for j, s in enumerate(steps):
        f = int(np.floor(-s))
        t = -s - f
        x0, x1 = cols + f, cols + f + (t > 0)
        inside = (x0 >= 0) & (x1 < w)
        x0, x1 = np.clip(x0, 0, w - 1), np.clip(x1, 0, w - 1)
        up = (1 - t) * detail[rows - p][:, x0] + t * detail[rows - p][:, x1]
        ok = near & src[rows - p][:, x0] & src[rows - p][:, x1] & inside[None, :]
        n = ok.sum(axis=0)
        got = n >= p // 2
        cost[got, j] = (((here - up) ** 2) * ok).sum(axis=0)[got] / n[got]
    known = np.isfinite(cost).all(axis=1)
    if known.sum() < 2:
        return np.zeros(len(cols))
    cost, x = cost[known], cols[known] - cols.mean()
    # Every line a + b x (a: the middle's drift; b, per column, up to twice the reach over the
    # band) at once per a: its cost read off each column's, linearly between the steps.
    slopes = np.arange(-2 * reach, 2 * reach + 1e-9, DRIFT_STEP) / max(1.0, float(np.ptp(x)))
    idx = np.arange(len(x))[None, :]
    best, fit = np.inf, (0.0, 0.0)
    for a in steps:
        j = (np.clip(a + slopes[:, None] * x[None, :], steps[0], steps[-1]) - steps[0]) \
            / DRIFT_STEP
        j0 = np.minimum(np.floor(j).astype(int), len(steps) - 2)
        t = j - j0
        total = ((1 - t) * cost[idx, j0] + t * cost[idx, j0 + 1]).sum(axis=1)
        k = int(np.argmin(total))
        if total[k] < best:
            best, fit = float(total[k]), (float(a), float(slopes[k]))
    return fit[0] + fit[1] * (cols - cols.mean())
