"""Numba kernels of the on-detector steps, staged over blocks of events."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..constants import (
    ASPUM,
    DETSIZE,
    FILL_VALUE,
    PIXELS_PER_AXIS,
)

HALF_DET = DETSIZE / 2.0
HALF_PIX = PIXELS_PER_AXIS / 2.0

# Each step is a stage function working on a block of at most _BLOCK events held in the
# rows of a float64 scratch array S (shape (_NROWS, _BLOCK); flags are kept as floats, 0.0
# for a good event). A stage is a few short loops: arithmetic loops that every event runs
# the same way (a cut only selects which result an event keeps, and a failed event looks up
# cell 1, always in range), which LLVM vectorises, and gather loops that only look tables
# up. The step kernels (each tested against its numpy reference) run one stage; the chain
# kernel runs them all on a block before moving on, so it gives bit-identical results with
# no event-sized intermediates. This is about twice as fast as one loop doing every step
# per event, where the divisions and table look-ups of an event form one long dependency
# chain that the CPU cannot overlap with the next events' (measured on AMD EPYC, 2026-11).
_BLOCK = 1024
_FX, _FY, _FD, _FLAG, _WX, _WY = 0, 1, 2, 3, 4, 5  # cell coordinates, flag, looked-up values
_XD, _YD, _XP, _YP, _DX, _DY, _XS, _YS = 6, 7, 8, 9, 10, 11, 12, 13
_XI, _ETA, _COL, _ROW, _DETRAD, _FLAT, _HOT, _SCALE, _RESP = 14, 15, 16, 17, 18, 19, 20, 21, 22
_NROWS = 23


@njit(cache=True, nogil=True)
def _load(S, row, src, start, m):
    for j in range(m):
        S[row, j] = src[start + j]


@njit(cache=True, nogil=True)
def _load_pair(S, row_a, row_b, a, b, flags, start, m):
    # Two event arrays and the flags into the scratch rows of a block.
    _load(S, row_a, a, start, m)
    _load(S, row_b, b, start, m)
    _load(S, _FLAG, flags, start, m)


@njit(cache=True, nogil=True)
def _store_pair(S, row_a, row_b, a, b, flags, start, m):
    # Two scratch rows and the flags of a block out to event arrays.
    for j in range(m):
        a[start + j], b[start + j] = S[row_a, j], S[row_b, j]
        flags[start + j] = np.uint8(S[_FLAG, j])


@njit(inline="always")
def _on_grid(fx, fy):
    # Inside the 480x480 cell grid of the wiggle, walk and linearity tables.
    return (fx > 0.0) & (fx < 479.0) & (fy > 0.0) & (fy < 479.0)


@njit(inline="always")
def _cut(S, j, fx, fy, ok, flag):
    # Keep an event's cell coordinates, or send a failed event to cell 1 (always in range)
    # with ``flag``.
    S[_FX, j] = fx if ok else 1.0
    S[_FY, j] = fy if ok else 1.0
    S[_FLAG, j] = 0.0 if ok else flag


@njit(cache=True, nogil=True)
def _wiggle_stage(S, x, y, xa, ya, wig_x, wig_y, start, m):
    # x, y (microns, event arrays) -> _XD, _YD; _FLAG 0 or 8.
    for j in range(m):
        fx = x[start + j] * ASPUM / 10.0 + 240.0
        fy = y[start + j] * ASPUM / 10.0 + 240.0
        _cut(S, j, fx, fy, _on_grid(fx, fy), 8.0)
    for j in range(m):
        fx, fy = S[_FX, j], S[_FY, j]
        ix, iy = int(fx), int(fy)
        bx, by = fx - ix, fy - iy
        a, b = xa[start + j], ya[start + j]
        S[_WX, j] = wig_x[a, ix] * (1 - bx) + wig_x[a, ix + 1] * bx
        S[_WY, j] = wig_y[b, iy] * (1 - by) + wig_y[b, iy + 1] * by
    for j in range(m):
        ok = S[_FLAG, j] == 0.0
        xv, yv = x[start + j], y[start + j]
        S[_XD, j] = xv + S[_WX, j] / (10.0 * ASPUM) if ok else xv
        S[_YD, j] = yv + S[_WY, j] / (10.0 * ASPUM) if ok else yv


@njit(cache=True, nogil=True)
def _bilinear(table, k, iy, ix, bx, by):
    return (
        (1 - bx) * (1 - by) * table[k, iy, ix]
        + bx * (1 - by) * table[k, iy, ix + 1]
        + (1 - bx) * by * table[k, iy + 1, ix]
        + bx * by * table[k, iy + 1, ix + 1]
    )


@njit(cache=True, nogil=True)
def _walk_stage(S, q, walk_x, walk_y, start, m):
    # _XD, _YD (microns), _FLAG -> _XP, _YP (arcsec); _FLAG 0 or 9.
    for j in range(m):
        fx = S[_XD, j] * ASPUM / 10.0 + 240.0
        fy = S[_YD, j] * ASPUM / 10.0 + 240.0
        _cut(S, j, fx, fy, _on_grid(fx, fy) & (S[_FLAG, j] == 0.0), 9.0)
        S[_WX, j] = 0.0
        S[_WY, j] = 0.0
    if walk_x.shape[0] > 0:
        for j in range(m):
            fx, fy, k = S[_FX, j], S[_FY, j], q[start + j]
            ix, iy = int(fx), int(fy)
            valid = False
            for dy in range(2):
                for dx in range(2):
                    valid |= walk_x[k, iy + dy, ix + dx] != -999
                    valid |= walk_y[k, iy + dy, ix + dx] != -999
            ok = valid & (S[_FLAG, j] == 0.0)
            S[_WX, j] = _bilinear(walk_x, k, iy, ix, fx - ix, fy - iy) if ok else 0.0
            S[_WY, j] = _bilinear(walk_y, k, iy, ix, fx - ix, fy - iy) if ok else 0.0
            S[_FLAG, j] = 0.0 if ok else 9.0
    for j in range(m):
        S[_XP, j] = (S[_XD, j] - S[_WX, j]) * ASPUM
        S[_YP, j] = (S[_YD, j] - S[_WY, j]) * ASPUM


@njit(cache=True, nogil=True)
def _linearity_stage(S, lin_x, lin_y, m):
    # _XP, _YP (arcsec), _FLAG -> _DX, _DY (arcsec, 0 for failed events); _FLAG 0 or 10.
    for j in range(m):
        # 240.02: gPhoton 2 commit 8ec94e8 (2025-09) shifted the x grid origin.
        fx = S[_XP, j] / 10.0 + 240.02
        fy = S[_YP, j] / 10.0 + 240.0
        _cut(S, j, fx, fy, _on_grid(fx, fy) & (S[_FLAG, j] == 0.0), 10.0)
    for j in range(m):
        fx, fy = S[_FX, j], S[_FY, j]
        ix, iy = int(fx), int(fy)
        bx, by = fx - ix, fy - iy
        w00, w01, w10, w11 = (1 - bx) * (1 - by), bx * (1 - by), (1 - bx) * by, bx * by
        dx = (
            w00 * lin_x[iy, ix]
            + w01 * lin_x[iy, ix + 1]
            + w10 * lin_x[iy + 1, ix]
            + w11 * lin_x[iy + 1, ix + 1]
        )
        dy = (
            w00 * lin_y[iy, ix]
            + w01 * lin_y[iy, ix + 1]
            + w10 * lin_y[iy + 1, ix]
            + w11 * lin_y[iy + 1, ix + 1]
        )
        ok = S[_FLAG, j] == 0.0
        S[_DX, j] = dx if ok else 0.0
        S[_DY, j] = dy if ok else 0.0  # fmt: skip


@njit(cache=True, nogil=True)
def _distortion_stage(S, t, c0, c1, cube_x, cube_y, hdr, xoffset, yoffset, start, m):
    # _XP, _YP, _FLAG, t -> _XS, _YS (arcsec, with the FUV offsets); _FLAG 0 or 11.
    # Returns how many good events index outside the cube (gPhoton 2 refuses those).
    bad = 0
    if cube_x.shape[0] == 0:
        for j in range(m):
            S[_XS, j] = 0.0 * 1.5 + xoffset
            S[_YS, j] = 0.0 * 1.5 + yoffset
            S[_FLAG, j] = 0.0 if S[_FLAG, j] == 0.0 else 11.0
        return bad
    nd, nr, nc = cube_x.shape[0], cube_x.shape[1], cube_x.shape[2]
    for j in range(m):
        col = (S[_XP, j] - hdr[0]) / hdr[1]
        row = (S[_YP, j] - hdr[2]) / hdr[3]
        depth = (c0 + t[start + j] * c1 - hdr[4]) / hdr[5]
        good = (S[_FLAG, j] == 0.0) & (col > -1) & (col < nc) & (row > -1) & (row < nr)
        good &= np.floor(depth) <= 16
        S[_FX, j] = col if good else 0.0
        S[_FY, j] = row if good else 0.0
        S[_FD, j] = depth if good else 0.0
        S[_FLAG, j] = 0.0 if good else 11.0
    for j in range(m):
        d, r, c = int(S[_FD, j]), int(S[_FY, j]), int(S[_FX, j])
        good = S[_FLAG, j] == 0.0
        take = good & (d >= 0) & (d < nd) & (r < nr) & (c < nc)
        bad += good & ~take
        d, r, c = (d if take else 0), (r if take else 0), (c if take else 0)
        sx = cube_x[d, r, c] if take else 0.0
        sy = cube_y[d, r, c] if take else 0.0
        S[_XS, j] = sx * 1.5 + xoffset
        S[_YS, j] = sy * 1.5 + yoffset
    return bad


@njit(cache=True, nogil=True)
def _detector_stage(S, flip, m):
    # _XP, _YP, _DX, _DY, _XS, _YS, _FLAG -> _XI, _ETA (0.1 arcsec), _COL, _ROW; _FLAG 0 or 6.
    for j in range(m):
        xi = flip * (S[_XP, j] + S[_DX, j] + S[_XS, j]) * 10.0
        eta = flip * (S[_YP, j] + S[_DY, j] + S[_YS, j]) * 10.0
        col = ((xi / 36000.0) / HALF_DET * FILL_VALUE + 1.0) * HALF_PIX
        row = ((eta / 36000.0) / HALF_DET * FILL_VALUE + 1.0) * HALF_PIX
        ok = (col > 0) & (col < 799) & (row > 0) & (row < 799) & (S[_FLAG, j] == 0.0)
        S[_XI, j], S[_ETA, j], S[_COL, j], S[_ROW, j] = xi, eta, col, row
        S[_FLAG, j] = 0.0 if ok else 6.0


@njit(cache=True, nogil=True)
def _response_stage(S, t, flat, mask, c0, c1, c2, csp_time, start, m):
    # _COL, _ROW, t -> _DETRAD, _HOT (1.0 on a hotspot or off the grid), _FLAT, _SCALE,
    # _RESP (NaN off the grid).
    for j in range(m):
        col, row = S[_COL, j], S[_ROW, j]
        S[_DETRAD, j] = np.sqrt((col - 400.0) ** 2 + (row - 400.0) ** 2)
        on = (col > 0) & (col < 800) & (row > 0) & (row < 800)
        S[_FX, j] = col if on else 1.0
        S[_FY, j] = row if on else 1.0
        S[_HOT, j] = 0.0 if on else 1.0
    for j in range(m):
        ic, ir = int(S[_FX, j]), int(S[_FY, j])
        S[_FLAT, j] = flat[ic, ir]
        S[_WX, j] = 1.0 if mask[ic, ir] == 0 else 0.0
    for j in range(m):
        tt = t[start + j]
        s = c0 + (c1 * tt) + (c2 * tt) * tt
        s = s * 1.018 if tt >= csp_time else s
        on = S[_HOT, j] == 0.0
        f = S[_FLAT, j]
        S[_FLAT, j] = f if on else np.nan
        S[_SCALE, j] = s if on else np.nan
        S[_RESP, j] = f * s if on else np.nan
        S[_HOT, j] = S[_WX, j] if on else 1.0


@njit(cache=True, nogil=True)
def wiggle_kernel(x, y, xa, ya, wig_x, wig_y):
    n = x.shape[0]
    S = np.empty((_NROWS, _BLOCK))
    xdig, ydig, flags = np.empty(n), np.empty(n), np.empty(n, np.uint8)
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        _wiggle_stage(S, x, y, xa, ya, wig_x, wig_y, start, m)
        _store_pair(S, _XD, _YD, xdig, ydig, flags, start, m)
    return xdig, ydig, flags


@njit(cache=True, nogil=True)
def walk_kernel(xdig, ydig, q, flags, walk_x, walk_y):
    n = xdig.shape[0]
    S = np.empty((_NROWS, _BLOCK))
    xp, yp, out = np.empty(n), np.empty(n), np.empty(n, np.uint8)
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        _load_pair(S, _XD, _YD, xdig, ydig, flags, start, m)
        _walk_stage(S, q, walk_x, walk_y, start, m)
        _store_pair(S, _XP, _YP, xp, yp, out, start, m)
    return xp, yp, out


@njit(cache=True, nogil=True)
def linearity_kernel(xp_as, yp_as, flags, lin_x, lin_y):
    n = xp_as.shape[0]
    S = np.empty((_NROWS, _BLOCK))
    dx, dy, out = np.empty(n), np.empty(n), np.empty(n, np.uint8)
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        _load_pair(S, _XP, _YP, xp_as, yp_as, flags, start, m)
        _linearity_stage(S, lin_x, lin_y, m)
        _store_pair(S, _DX, _DY, dx, dy, out, start, m)
    return dx, dy, out


@njit(cache=True, nogil=True)
def distortion_kernel(xp_as, yp_as, t, flags, c0, c1, cube_x, cube_y, hdr, xoffset, yoffset):
    n = xp_as.shape[0]
    S = np.empty((_NROWS, _BLOCK))
    xs, ys, out = np.empty(n), np.empty(n), np.empty(n, np.uint8)
    bad = 0
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        _load_pair(S, _XP, _YP, xp_as, yp_as, flags, start, m)
        bad += _distortion_stage(S, t, c0, c1, cube_x, cube_y, hdr, xoffset, yoffset, start, m)
        _store_pair(S, _XS, _YS, xs, ys, out, start, m)
    return xs, ys, out, bad


@njit(cache=True, nogil=True)
def detector_kernel(xp_as, yp_as, dx, dy, xshift, yshift, flags, flip):
    n = xp_as.shape[0]
    S = np.empty((_NROWS, _BLOCK))
    xi, eta, col, row = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    out = np.empty(n, np.uint8)
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        for row_index, src in ((_XP, xp_as), (_YP, yp_as), (_DX, dx), (_DY, dy), (_XS, xshift),
                               (_YS, yshift)):  # fmt: skip
            _load(S, row_index, src, start, m)
        _load(S, _FLAG, flags, start, m)
        _detector_stage(S, flip, m)
        for j in range(m):
            i = start + j
            xi[i], eta[i], col[i], row[i] = S[_XI, j], S[_ETA, j], S[_COL, j], S[_ROW, j]
            out[i] = np.uint8(S[_FLAG, j])
    return xi, eta, col, row, out


@njit(cache=True, nogil=True)
def response_kernel(col, row, t, flat, mask, c0, c1, c2, csp_time):
    n = col.shape[0]
    S = np.empty((_NROWS, _BLOCK))
    hot, flat_out = np.empty(n, np.bool_), np.empty(n)
    scale, response, detrad = np.empty(n), np.empty(n), np.empty(n)
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        _load(S, _COL, col, start, m)
        _load(S, _ROW, row, start, m)
        _response_stage(S, t, flat, mask, c0, c1, c2, csp_time, start, m)
        for j in range(m):
            i = start + j
            hot[i] = S[_HOT, j] != 0.0
            flat_out[i], scale[i], response[i] = S[_FLAT, j], S[_SCALE, j], S[_RESP, j]
            detrad[i] = S[_DETRAD, j]
    return hot, flat_out, scale, response, detrad


@njit(cache=True, nogil=True)
def chain_kernel(x, y, xa, ya, q, t, wig_x, wig_y, walk_x, walk_y, lin_x, lin_y, c0, c1,
                  cube_x, cube_y, hdr, xoffset, yoffset, flip, flat, mask, f0, f1, f2, csp_time):  # fmt: skip
    # Every stage on one block, then the next block; outputs in the photon list's types.
    n = x.shape[0]
    S = np.empty((_NROWS, _BLOCK))
    xi, eta, flags = np.empty(n), np.empty(n), np.empty(n, np.uint8)
    col32, row32 = np.empty(n, np.float32), np.empty(n, np.float32)
    detrad32, response32 = np.empty(n, np.float32), np.empty(n, np.float32)
    hot = np.empty(n, np.bool_)
    bad = 0
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        _wiggle_stage(S, x, y, xa, ya, wig_x, wig_y, start, m)
        _walk_stage(S, q, walk_x, walk_y, start, m)
        _linearity_stage(S, lin_x, lin_y, m)
        bad += _distortion_stage(S, t, c0, c1, cube_x, cube_y, hdr, xoffset, yoffset, start, m)
        _detector_stage(S, flip, m)
        _response_stage(S, t, flat, mask, f0, f1, f2, csp_time, start, m)
        # One loop per output: a single store stream per loop vectorises.
        for j in range(m):
            xi[start + j] = S[_XI, j]
        for j in range(m):
            eta[start + j] = S[_ETA, j]
        for j in range(m):
            flags[start + j] = np.uint8(S[_FLAG, j])
        for j in range(m):
            col32[start + j] = S[_COL, j]
        for j in range(m):
            row32[start + j] = S[_ROW, j]
        for j in range(m):
            detrad32[start + j] = S[_DETRAD, j]
        for j in range(m):
            hot[start + j] = S[_HOT, j] != 0.0
        for j in range(m):
            response32[start + j] = S[_RESP, j]
    return xi, eta, flags, col32, row32, detrad32, hot, response32, bad
