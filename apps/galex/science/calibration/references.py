"""Slow numpy references of the on-detector steps (gPhoton 2's vectorised code, float64).

The kernels in :mod:`.kernels` are tested against these.
"""

from __future__ import annotations

import numpy as np

from ..constants import (
    ASPUM,
    FILL_VALUE,
    POST_CSP_FLAT_TIME,
)
from ..errors import CalibrationError
from .kernels import HALF_DET, HALF_PIX


def _interp_cells(table2d, first, cell, frac):
    return table2d[first, cell] * (1 - frac) + table2d[first, cell + 1] * frac


def wiggle_reference(x, y, xa, ya, wig_x, wig_y):
    """gPhoton 2 ``apply_wiggle_correction`` + ``wiggle_and_dig`` in numpy."""
    fx, fy = x * ASPUM / 10 + 240, y * ASPUM / 10 + 240
    ok = (fx > 0) & (fx < 479) & (fy > 0) & (fy < 479)
    flags = np.where(ok, 0, 8).astype(np.uint8)
    ix, iy = fx[ok].astype(int), fy[ok].astype(int)
    wigx, wigy = np.zeros_like(x), np.zeros_like(y)
    wigx[ok] = _interp_cells(wig_x, xa[ok], ix, fx[ok] - ix)
    wigy[ok] = _interp_cells(wig_y, ya[ok], iy, fy[ok] - iy)
    return x + wigx / (10 * ASPUM), y + wigy / (10 * ASPUM), flags


def _corner_sum(table, lead, iy, ix, bx, by):
    def index(dy, dx):
        return (*lead, iy + dy, ix + dx)

    return ((1 - bx) * (1 - by) * table[index(0, 0)] + bx * (1 - by) * table[index(0, 1)]
            + (1 - bx) * by * table[index(1, 0)] + bx * by * table[index(1, 1)])  # fmt: skip


def walk_reference(xdig, ydig, q, flags, walk_x, walk_y):
    """gPhoton 2 ``post_wiggle_update_indices_and_flags`` + walk part of the NLC step."""
    flags = flags.copy()
    fx, fy = xdig * ASPUM / 10 + 240, ydig * ASPUM / 10 + 240
    cut = (fx > 0) & (fx < 479) & (fy > 0) & (fy < 479) & (flags == 0)
    flags[~cut] = 9
    wx, wy = np.zeros_like(xdig), np.zeros_like(ydig)
    if walk_x.shape[0]:
        ok = np.nonzero(cut)[0]
        ix, iy, k = fx[ok].astype(int), fy[ok].astype(int), q[ok].astype(int)
        valid = np.zeros(len(ok), bool)
        for table in (walk_x, walk_y):
            for dy in (0, 1):
                for dx in (0, 1):
                    valid |= table[k, iy + dy, ix + dx] != -999
        cut[ok] = valid
        flags[~cut] = 9
        ok = np.nonzero(cut)[0]
        ix, iy, k = fx[ok].astype(int), fy[ok].astype(int), q[ok].astype(int)
        wx[ok] = _corner_sum(walk_x, (k,), iy, ix, fx[ok] - ix, fy[ok] - iy)
        wy[ok] = _corner_sum(walk_y, (k,), iy, ix, fx[ok] - ix, fy[ok] - iy)
    return (xdig - wx) * ASPUM, (ydig - wy) * ASPUM, flags


def linearity_reference(xp_as, yp_as, flags, lin_x, lin_y):
    """gPhoton 2 ``compute_detector_orientation`` (NLC det2sky lookup) in numpy."""
    flags = flags.copy()
    fx, fy = xp_as / 10 + 240.02, yp_as / 10 + 240.0
    cut = (fx > 0) & (fx < 479) & (fy > 0) & (fy < 479) & (flags == 0)
    flags[~cut] = 10
    dx, dy = np.zeros_like(xp_as), np.zeros_like(yp_as)
    ix, iy = fx[cut].astype(int), fy[cut].astype(int)
    dx[cut] = _corner_sum(lin_x, (), iy, ix, fx[cut] - ix, fy[cut] - iy)
    dy[cut] = _corner_sum(lin_y, (), iy, ix, fx[cut] - ix, fy[cut] - iy)
    return dx, dy, flags


def distortion_reference(xp_as, yp_as, t, flags, c0, c1, cube_x, cube_y, hdr, xoffset, yoffset):
    """gPhoton 2 ``unfancy_distortion_component`` + ``apply_stim_distortion_correction``."""
    flags = flags.copy()
    xs, ys = np.zeros_like(xp_as), np.zeros_like(yp_as)
    if cube_x.shape[0]:
        col = (xp_as - hdr[0]) / hdr[1]
        row = (yp_as - hdr[2]) / hdr[3]
        depth = (c0 + t * c1 - hdr[4]) / hdr[5]
        nd, nr, nc = cube_x.shape
        cut = (
            (col > -1)
            & (col < nc)
            & (row > -1)
            & (row < nr)
            & (flags == 0)
            & (np.floor(depth) <= 16)
        )
        flags[~cut] = 11
        d, r, c = depth[cut].astype(int), row[cut].astype(int), col[cut].astype(int)
        if np.any((d < 0) | (d >= nd) | (r >= nr) | (c >= nc)):
            raise CalibrationError("bad distortion correction solution (cube index out of range)")
        xs[cut], ys[cut] = cube_x[d, r, c], cube_y[d, r, c]
    else:
        flags[flags != 0] = 11
    return xs * 1.5 + xoffset, ys * 1.5 + yoffset, flags


def detector_reference(xp_as, yp_as, dx, dy, xshift, yshift, flags, flip):
    """gPhoton 2 ``unfancy_detector_coordinates`` + ``xi_eta_to_col_row`` in numpy."""
    flags = flags.copy()
    xi = flip * (xp_as + dx + xshift) * 10
    eta = flip * (yp_as + dy + yshift) * 10
    col = ((xi / 36000) / HALF_DET * FILL_VALUE + 1) * HALF_PIX
    row = ((eta / 36000) / HALF_DET * FILL_VALUE + 1) * HALF_PIX
    flags[~((col > 0) & (col < 799) & (row > 0) & (row < 799) & (flags == 0))] = 6
    return xi, eta, col, row, flags


def response_reference(col, row, t, flat, mask, coeffs):
    """gPhoton 2 ``calibrate_photons_inline`` + ``compute_flat_scale`` in numpy."""
    n = len(col)
    on = (col > 0) & (col < 800) & (row > 0) & (row < 800)
    ic, ir = col[on].astype(int), row[on].astype(int)
    hot = np.ones(n, bool)
    hot[on] = mask[ic, ir] == 0
    flat_out, scale = np.full(n, np.nan), np.full(n, np.nan)
    flat_out[on] = flat[ic, ir]
    tt = t[on]
    s = coeffs[0] + coeffs[1] * tt + (coeffs[2] * tt) * tt
    scale[on] = np.where(tt >= POST_CSP_FLAT_TIME, s * 1.018, s)
    return hot, flat_out, scale, flat_out * scale, np.sqrt((col - 400) ** 2 + (row - 400) ** 2)
