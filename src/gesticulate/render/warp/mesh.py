"""Triangle meshes over layer masks, and the per-frame backward map (RENDERING.md, "Meshes" and
"Rendering each frame").

A layer mesh is a Delaunay triangulation (SciPy's Qhull, BSD-licensed) of points along the
layer's outline plus an interior grid, keeping only triangles whose edges run inside the mask,
so no triangle bridges a gap in the layer. (Shewchuk's Triangle did this with constraints until
2026-12; its licence forbids commercial use. Measured on the 30 layer masks of four shared
photos at 512 px: coverage of the mask 0.991 mean, 0.972 worst, against Triangle's 0.989 and
0.968; pixels covered outside the mask ≤ 0.011 % against 0.08 %; triangles under 10° 0.1 %
against 0.2 %; 13 % more vertices; 4 ms per layer against 1 ms.) Where the mask's ragged edge
left pockets that no kept triangle covers, their pixels join the points on a fine grid and the
mask is triangulated again (:func:`_pockets`): the layers' opaque pixels left uncovered on the
4 shared photos and 12 clips' first frames went from 4172 to 133, the photos' own poses from
37.6 to 42.8 dB on portrait_s2.jpg and 45.0 to 51.4 dB on portrait_6.jpg, with 10-19 % more
vertices and the per-photo set-up within 0.02 s. Triangles under a pixel thick are peeled from
the mesh's edge only: inside, one between near collinear points seals the seam, which opened
into a crack of backdrop as the mesh deformed when it was dropped. Each frame the deformed mesh
is rasterised into a backward map (output pixel → photo pixel) at a coarse scale, each pixel
taking the affine map of the triangle it falls in, then upsampled bilinearly — exact inside
triangles, continuous across edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay, QhullError

from gesticulate.render.warp.jit import compiled


OUTLINE_DENSITY = 0.7   # outline points every 0.7 grid spacings
MAX_EDGE = 3.0          # longest edge kept, in grid spacings
GRID_MARGIN = 0.4       # interior grid points at least this many spacings inside the outline
MIN_SLIVER_DEG = 10.0   # triangles of three consecutive outline points thinner than this: dropped
MIN_THICKNESS = 1.0     # px: a triangle thinner than this on the mesh's edge is dropped too


@dataclass
class Mesh:
    """A 2D triangle mesh in photo pixels.

    Attributes
    ----------
    vertices : np.ndarray
        ``(V, 2)`` float64 x, y in photo pixels.
    triangles : np.ndarray
        ``(F, 3)`` int32 vertex indices, counter-clockwise in image coordinates (y down).
    """

    vertices: np.ndarray
    triangles: np.ndarray


def _empty() -> Mesh:
    """The mesh of a mask with no area to mesh."""
    return Mesh(np.zeros((0, 2)), np.zeros((0, 3), np.int32))


def _outline_points(mask: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing`` px along each outer and inner contour, ``(P, 2)`` float, and
    each point's ``(contour, position, contour length)`` ``(P, 3)`` int."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    points, where = [], []
    for contour in contours:
        c = contour[:, 0, :].astype(np.float64)
        if len(c) < 8:
            continue
        step = np.linalg.norm(np.diff(np.vstack([c, c[:1]]), axis=0), axis=1)
        arc = np.concatenate([[0.0], np.cumsum(step)])
        n = max(3, int(round(arc[-1] / spacing)))
        t = np.linspace(0.0, arc[-1], n, endpoint=False)
        closed = np.vstack([c, c[:1]])
        points.append(np.stack([np.interp(t, arc, closed[:, 0]),
                                np.interp(t, arc, closed[:, 1])], 1))
        where.append(np.stack([np.full(n, len(where)), np.arange(n), np.full(n, n)], 1))
    if not points:
        return np.zeros((0, 2)), np.zeros((0, 3), np.int64)
    return np.vstack(points), np.vstack(where)


def _neighbours(where: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether vertices ``a`` and ``b`` ``(E,)`` are next to each other on one contour
    (``where`` has a row per vertex; grid vertices have contour -1)."""
    wa, wb = where[a], where[b]
    gap = np.abs(wa[:, 1] - wb[:, 1])
    return (wa[:, 0] >= 0) & (wa[:, 0] == wb[:, 0]) & ((gap == 1) | (gap == wa[:, 2] - 1))


def _inside(verts: np.ndarray, tris: np.ndarray, where: np.ndarray, mask: np.ndarray,
            spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Triangles ``(F,)`` bool that lie in the mask: each edge, sampled every pixel, inside the
    mask (an edge between neighbouring outline points may cut a contour's corner: for those the
    mask grown by one pixel), no edge longer than :data:`MAX_EDGE` grid spacings (Delaunay's
    edges across a concavity or the convex hull), and the centroid inside the mask; and
    ``(F, 3)`` bool, which of each triangle's edges join neighbouring outline points."""
    h, w = mask.shape
    grown = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    corners = verts[tris]                                             # (F, 3, 2)
    t = np.linspace(0.0, 1.0, int(np.ceil(MAX_EDGE * spacing)) + 1)[None, :, None]
    keep = np.ones(len(tris), bool)
    edges = np.zeros((len(tris), 3), bool)
    for i in range(3):
        p, q = corners[:, i], corners[:, (i + 1) % 3]
        keep &= np.linalg.norm(q - p, axis=1) <= MAX_EDGE * spacing
        s = p[:, None] + (q - p)[:, None] * t
        sx = np.clip(s[..., 0].round().astype(int), 0, w - 1)
        sy = np.clip(s[..., 1].round().astype(int), 0, h - 1)
        along = edges[:, i] = _neighbours(where, tris[:, i], tris[:, (i + 1) % 3])
        keep &= np.where(along, grown[sy, sx].all(axis=1), mask[sy, sx].all(axis=1))
    cen = corners.mean(axis=1)
    cx = np.clip(cen[:, 0].round().astype(int), 0, w - 1)
    cy = np.clip(cen[:, 1].round().astype(int), 0, h - 1)
    return keep & mask[cy, cx], edges


def build_mesh(mask: np.ndarray, *, spacing: float, extra: np.ndarray | None = None) -> Mesh:
    """Triangulate a layer mask.

    Parameters
    ----------
    mask : np.ndarray
        ``(H, W)`` bool, the region to cover (already dilated a few pixels past the layer's
        alpha so anti-aliased edges are inside the mesh).
    spacing : float
        Interior grid spacing in pixels; the outline is sampled every
        :data:`OUTLINE_DENSITY` × ``spacing``.
    extra : np.ndarray, optional
        ``(K, 2)`` additional interior points in pixels (e.g. joints), kept if at least
        :data:`GRID_MARGIN` spacings inside the mask.

    Returns
    -------
    Mesh
        Empty (0 vertices) when the mask is empty or has no area to mesh (one pixel wide).
    """
    # The outline is sampled more densely than the grid so that Delaunay's edges follow it.
    outline, where = _outline_points(mask, OUTLINE_DENSITY * spacing)
    if len(outline) < 3:
        return _empty()
    inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8),
                      iterations=max(1, int(spacing * GRID_MARGIN))) > 0
    h, w = mask.shape
    gy, gx = np.mgrid[spacing / 2:h:spacing, spacing / 2:w:spacing]
    grid = np.stack([gx.ravel(), gy.ravel()], 1)
    if extra is not None and len(extra):
        grid = np.vstack([grid, np.asarray(extra, np.float64)])
    xi = np.clip(grid[:, 0].round().astype(int), 0, w - 1)
    yi = np.clip(grid[:, 1].round().astype(int), 0, h - 1)
    grid = grid[inner[yi, xi]]
    verts = np.vstack([outline, grid])
    where = np.vstack([where, np.tile([-1, 0, 0], (len(grid), 1))])
    tris = _triangulate(verts, where, mask, spacing)
    if tris is None:
        return _empty()
    # Pockets of the mask no kept triangle covers (a jagged cheek beside the background, whose
    # triangles ran outside the mask and were dropped) showed the background through the
    # layer even in the photo's own pose (portrait_s2.jpg: a white notch in his cheek): their
    # pixels on a fine grid join the points, and the mask is triangulated again.
    for _ in range(POCKET_PASSES):
        pockets = _pockets(verts, tris, mask, spacing)
        if not len(pockets):
            break
        verts = np.vstack([verts, pockets])
        where = np.vstack([where, np.tile([-1, 0, 0], (len(pockets), 1))])
        tris = _triangulate(verts, where, mask, spacing)
        if tris is None:
            return _empty()
    used = np.unique(tris)
    remap = np.full(len(verts), -1, np.int64)
    remap[used] = np.arange(len(used))
    verts, tris = verts[used], remap[tris].astype(np.int32)
    return Mesh(verts, _counter_clockwise(verts, tris))


def _triangulate(verts: np.ndarray, where: np.ndarray, mask: np.ndarray, spacing: float
                 ) -> np.ndarray | None:
    """Delaunay triangles ``(F, 3)`` of ``verts`` that lie in the mask and are not slivers;
    None when the points have no area to mesh."""
    try:
        tris = Delaunay(verts).simplices.astype(np.int32)
    except QhullError:          # collinear points: a mask one pixel wide has no area to mesh
        return None
    keep, edges = _inside(verts, tris, where, mask, spacing)
    tris, e = tris[keep], edges[keep].T
    # Flat slivers of three consecutive outline points along a curved edge cover next to
    # nothing and flip at the slightest deformation: dropped.
    run = (e[0] & e[1]) | (e[1] & e[2]) | (e[2] & e[0])
    tris = tris[~(run & (min_angles(verts, tris) < MIN_SLIVER_DEG))]
    tris = tris[np.abs(signed_areas(verts, tris)) > 1e-6]
    # So do triangles under a pixel thick on the mesh's edge, peeled until none is left there
    # (a flipped one folded a few pixels of desk_host_body.png's sleeve over itself when the
    # arm swung out). Inside, a thin one stays: between its neighbours it covers the seam of
    # three near collinear points (a pocket's grid lays many), and without it the seam opened
    # into a crack as the mesh deformed (a dot of backdrop in ted_lia_driving2's cheek as she
    # turned).
    thin = min_heights(verts, tris) < MIN_THICKNESS
    while thin.any():
        rim = (edge_uses(tris) == 1).any(1)
        if not (thin & rim).any():
            break
        tris, thin = tris[~(thin & rim)], thin[~(thin & rim)]
    return tris


# A pocket: at least POCKET_MIN pixels of the mask (one pixel in from its edge) that no
# triangle covers, joined; its pixels every POCKET_STEP px become mesh points. Both grow with
# a coarser mesh (a bigger picture), by the spacing over POCKET_SPACING: a 2048 px blob's
# pockets at 2 px took 20 times the points.
POCKET_MIN = 6
POCKET_STEP = 2
POCKET_SPACING = 20.0
POCKET_PASSES = 2


def _pockets(verts: np.ndarray, tris: np.ndarray, mask: np.ndarray, spacing: float
             ) -> np.ndarray:
    """Points ``(K, 2)`` on a fine grid over the mask's uncovered pockets."""
    grow = max(1.0, spacing / POCKET_SPACING)
    step = max(POCKET_STEP, int(round(POCKET_STEP * grow)))
    h, w = mask.shape
    cover = np.zeros((h, w), np.uint8)
    shift = 4                                          # sub-pixel vertices, 1/16 px
    pts = np.round(verts * (1 << shift)).astype(np.int32)[tris]
    cv2.fillPoly(cover, list(pts), 1, lineType=cv2.LINE_8, shift=shift)
    inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    miss = (inner & (cover == 0)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(miss, connectivity=8)
    big = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= POCKET_MIN * grow * grow)
    big = big[big > 0]
    if not len(big):
        return np.zeros((0, 2))
    ys, xs = np.nonzero(np.isin(labels, big))
    on = (ys % step == 0) & (xs % step == 0)
    return np.stack([xs[on], ys[on]], 1).astype(np.float64)


def edge_uses(triangles: np.ndarray) -> np.ndarray:
    """``(F, 3)``: how many of the triangles use each triangle's edges (0-1, 1-2, 2-0); 1 on
    the mesh's edge (its outline, a hole's, a crack's), 2 inside."""
    edges = np.sort(np.stack([triangles[:, [0, 1]], triangles[:, [1, 2]],
                              triangles[:, [2, 0]]], 1), 2).reshape(-1, 2)
    _, inverse, uses = np.unique(edges, axis=0, return_inverse=True, return_counts=True)
    return uses[inverse.ravel()].reshape(-1, 3)


def min_angles(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """The smallest angle of each triangle ``(F,)``, degrees."""
    v = vertices[triangles]
    out = np.full(len(triangles), 180.0)
    for k in range(3):
        u, w = v[:, (k + 1) % 3] - v[:, k], v[:, (k + 2) % 3] - v[:, k]
        cos = (u * w).sum(1) / (np.linalg.norm(u, axis=1) * np.linalg.norm(w, axis=1) + 1e-12)
        out = np.minimum(out, np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    return out


def min_heights(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """The smallest height of each triangle ``(F,)`` (twice its area over its longest edge),
    pixels: how thick it is."""
    v = vertices[triangles]
    longest = np.max([np.linalg.norm(v[:, i] - v[:, (i + 1) % 3], axis=1) for i in range(3)],
                     axis=0)
    return np.abs(signed_areas(vertices, triangles)) / np.maximum(longest, 1e-9)


def signed_areas(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Twice the signed area of each triangle ``(F,)``; positive = counter-clockwise (y down:
    positive means the same winding as the mesh was built with)."""
    a, b, c = vertices[triangles[:, 0]], vertices[triangles[:, 1]], vertices[triangles[:, 2]]
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def _counter_clockwise(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    flip = signed_areas(vertices, triangles) < 0
    out = triangles.copy()
    out[flip] = out[flip][:, [0, 2, 1]]
    return out


def rasterise_backward(src: np.ndarray, dst: np.ndarray, triangles: np.ndarray,
                       box: tuple[int, int, int, int], *, factor: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward map of a deformed mesh on a coarse grid.

    Coarse pixel ``(j, i)`` is the full-resolution point ``(x0 + f*i + (f-1)/2, y0 + f*j +
    (f-1)/2)``, the convention of ``cv2.resize`` so that upsampling lines up. Where triangles
    overlap (a fold), the later one in ``triangles`` wins.

    Parameters
    ----------
    src, dst : np.ndarray
        ``(V, 2)`` vertex positions in the photo (texture) and in the output frame, pixels.
    triangles : np.ndarray
        ``(F, 3)`` int vertex indices.
    box : tuple
        ``(x0, y0, w, h)`` output region in full-resolution pixels.
    factor : int
        Coarse step ``f`` in pixels.

    Returns
    -------
    map_x, map_y : np.ndarray
        ``(ceil(h/f), ceil(w/f))`` float32 photo coordinates (undefined where not covered).
    covered : np.ndarray
        Same shape, bool.
    """
    x0, y0, w, h = box
    cw, ch = -(-w // factor), -(-h // factor)
    off = (factor - 1) / 2.0
    p = (np.asarray(dst, np.float64) - np.array([x0 + off, y0 + off])) / factor  # coarse (V, 2)
    map_x = np.zeros((ch, cw), np.float32)
    map_y = np.zeros((ch, cw), np.float32)
    covered = np.zeros((ch, cw), bool)
    compiled(_rasterise)(p, np.ascontiguousarray(src), np.asarray(triangles, np.int64), cw, ch,
                         map_x, map_y, covered)
    return map_x, map_y, covered


def _rasterise(p, src, triangles, cw, ch, map_x, map_y, covered):     # pragma: no cover
    """The loops of :func:`rasterise_backward`, compiled by Numba (:mod:`jit`).

    Per triangle, the barycentric coordinates and the photo position are affine in the coarse
    pixel position; each pixel of its bounding box inside it (to 1e-4) takes the photo
    position. Per-pixel arithmetic is float32, per-triangle float64, as the NumPy version this
    replaced did (the same maps to the bit; 3.5 of the 16.8 ms a frame of desk_host_body.png
    took went to its repeats and gathers)."""
    eps = np.float32(1e-4)
    one = np.float32(1.0 + 1e-4)
    for t in range(triangles.shape[0]):
        i0, i1, i2 = triangles[t, 0], triangles[t, 1], triangles[t, 2]
        ax, ay, bx, by, cx, cy = p[i0, 0], p[i0, 1], p[i1, 0], p[i1, 1], p[i2, 0], p[i2, 1]
        e1x, e1y, e2x, e2y = bx - ax, by - ay, cx - ax, cy - ay
        det = e1x * e2y - e1y * e2x
        lox = max(int(np.floor(min(min(ax, bx), cx))) + 1, 0)
        loy = max(int(np.floor(min(min(ay, by), cy))) + 1, 0)
        hix = min(int(np.floor(max(max(ax, bx), cx))), cw - 1)
        hiy = min(int(np.floor(max(max(ay, by), cy))), ch - 1)
        if abs(det) <= 1e-9 or hix < lox or hiy < loy:
            continue
        inv = 1.0 / det
        l1x, l1y, l2x, l2y = e2y * inv, -e2x * inv, -e1y * inv, e1x * inv
        l1c, l2c = -(l1x * ax + l1y * ay), -(l2x * ax + l2y * ay)
        sax, say = src[i0, 0], src[i0, 1]
        dbx, dcx = src[i1, 0] - sax, src[i2, 0] - sax
        dby, dcy = src[i1, 1] - say, src[i2, 1] - say
        # photo = s_a + l1 (s_b - s_a) + l2 (s_c - s_a), affine in (x, y)
        k1x, k1y, k1c = np.float32(l1x), np.float32(l1y), np.float32(l1c)
        k2x, k2y, k2c = np.float32(l2x), np.float32(l2y), np.float32(l2c)
        mxx = np.float32(l1x * dbx + l2x * dcx)
        mxy = np.float32(l1y * dbx + l2y * dcx)
        mxc = np.float32(sax + l1c * dbx + l2c * dcx)
        myx = np.float32(l1x * dby + l2x * dcy)
        myy = np.float32(l1y * dby + l2y * dcy)
        myc = np.float32(say + l1c * dby + l2c * dcy)
        for y in range(loy, hiy + 1):
            fy = np.float32(y)
            for x in range(lox, hix + 1):
                fx = np.float32(x)
                b1 = k1x * fx + k1y * fy + k1c
                b2 = k2x * fx + k2y * fy + k2c
                if b1 >= -eps and b2 >= -eps and b1 + b2 <= one:
                    map_x[y, x] = mxx * fx + mxy * fy + mxc
                    map_y[y, x] = myx * fx + myy * fy + myc
                    covered[y, x] = True


def warm_up() -> None:
    """Compile :func:`rasterise_backward` for the meshes' types now (:mod:`jit`)."""
    rasterise_backward(np.zeros((3, 2)), np.zeros((3, 2)), np.array([[0, 1, 2]]), (0, 0, 4, 4),
                       factor=4)


def upsample_map(map_x: np.ndarray, map_y: np.ndarray, covered: np.ndarray,
                 size: tuple[int, int], *, factor: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Extend a coarse backward map one ring past its coverage and upsample it bilinearly.

    Returns full-resolution ``map_x, map_y`` (float32) and a coverage weight in 0..1, all of
    ``size = (w, h)``.
    """
    cov = covered.astype(np.float32)
    kernel = np.ones((3, 3), np.float32)
    # One ring of extrapolation (mean of covered neighbours) so that bilinear upsampling at the
    # mesh border blends between plausible coordinates, not towards zero.
    wsum = cv2.filter2D(cov, -1, kernel, borderType=cv2.BORDER_CONSTANT)
    ring = (~covered) & (wsum > 0)
    if ring.any():
        sx = cv2.filter2D(map_x * cov, -1, kernel, borderType=cv2.BORDER_CONSTANT)
        sy = cv2.filter2D(map_y * cov, -1, kernel, borderType=cv2.BORDER_CONSTANT)
        map_x = np.where(ring, sx / np.maximum(wsum, 1e-6), map_x)
        map_y = np.where(ring, sy / np.maximum(wsum, 1e-6), map_y)
    w, h = size
    full = (map_x.shape[1] * factor, map_x.shape[0] * factor)
    up = cv2.resize(cv2.merge([map_x, map_y, cov]), full, interpolation=cv2.INTER_LINEAR)
    up = up[:h, :w]
    return up[..., 0], up[..., 1], up[..., 2]
