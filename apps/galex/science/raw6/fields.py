"""Bit fields of the photon bytes (decode/encode) and centre-and-scale to detector microns."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..constants import BandConstants
from ..errors import Raw6Error


# --------------------------------------------------------------------------------------
# Bit fields
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _decode_kernel(p1, p2, p3, p4, p5):
    n = p1.shape[0]
    xb = np.empty(n, np.int16)
    xamc = np.empty(n, np.int16)
    yb = np.empty(n, np.int16)
    yamc = np.empty(n, np.int16)
    q = np.empty(n, np.int16)
    xa = np.empty(n, np.int16)
    for i in range(n):
        b1, b2, b3, b4, b5 = int(p1[i]), int(p2[i]), int(p3[i]), int(p4[i]), int(p5[i])
        xb[i] = b1 >> 5
        xamc[i] = ((b1 & 31) << 7) + ((b2 & 254) >> 1) - ((b1 & 16) << 8)
        yb[i] = ((b2 & 1) << 2) + ((b3 & 192) >> 6)
        yamc[i] = ((b3 & 63) << 6) + ((b4 & 252) >> 2) - ((b3 & 32) << 7)
        q[i] = ((b4 & 3) << 3) + ((b5 & 224) >> 5)
        xa[i] = ((b5 & 16) >> 4) + ((b5 & 3) << 3) + ((b5 & 12) >> 1)
    return xb, xamc, yb, yamc, q, xa


def decode_reference(phb: np.ndarray) -> dict[str, np.ndarray]:
    """Slow, obvious decoding with gPhoton 2's own numpy expressions (phb shape (n, 5))."""
    p = [phb[:, i].astype(np.int16) for i in range(5)]
    return {
        "xb": p[0] >> 5,
        "xamc": ((p[0] & 31) << 7) + ((p[1] & 254) >> 1) - ((p[0] & 16) << 8),
        "yb": ((p[1] & 1) << 2) + ((p[2] & 192) >> 6),
        "yamc": ((p[2] & 63) << 6) + ((p[3] & 252) >> 2) - ((p[2] & 32) << 7),
        "q": ((p[3] & 3) << 3) + ((p[4] & 224) >> 5),
        "xa": ((p[4] & 16) >> 4) + ((p[4] & 3) << 3) + ((p[4] & 12) >> 1),
    }


def decode_photonbytes(phb: np.ndarray) -> dict[str, np.ndarray]:
    """Decode packed photon bytes into the six raw fields.

    Parameters
    ----------
    phb : ndarray, shape (n, 5), integer
        Bytes phb1..phb5 of each event.

    Returns
    -------
    dict of int16 arrays, shape (n,)
        ``xb, xamc, yb, yamc, q, xa`` (see the module docstring for the layout).
    """
    phb = np.asarray(phb)
    if phb.ndim != 2 or phb.shape[1] != 5:
        raise Raw6Error(f"photon bytes must have shape (n, 5), got {phb.shape}")
    cols = [np.ascontiguousarray(phb[:, i], dtype=np.int16) for i in range(5)]
    return dict(zip(("xb", "xamc", "yb", "yamc", "q", "xa"), _decode_kernel(*cols), strict=True))


def decode_columns(phb: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`decode_photonbytes` for bytes laid out one row per byte, without copies.

    Parameters
    ----------
    phb : ndarray, shape (5, n), uint8 or int16
        phb1..phb5, each row contiguous (what :meth:`Raw6Reader.columns` yields).

    Returns
    -------
    dict of int16 arrays, shape (n,): ``xb, xamc, yb, yamc, q, xa``.
    """
    if phb.ndim != 2 or phb.shape[0] != 5:
        raise Raw6Error(f"photon byte rows must have shape (5, n), got {phb.shape}")
    rows = [np.ascontiguousarray(phb[i]) for i in range(5)]
    return dict(zip(("xb", "xamc", "yb", "yamc", "q", "xa"), _decode_kernel(*rows), strict=True))


@njit(cache=True, nogil=True)
def _encode_kernel(xb, xamc, yb, yamc, q, xa):
    n = xb.shape[0]
    out = np.empty((n, 5), np.uint8)
    for i in range(n):
        u = int(xamc[i]) & 0xFFF
        v = int(yamc[i]) & 0xFFF
        b, y, qq, a = int(xb[i]), int(yb[i]), int(q[i]), int(xa[i])
        out[i, 0] = (b << 5) | (u >> 7)
        out[i, 1] = ((u & 0x7F) << 1) | (y >> 2)
        out[i, 2] = ((y & 3) << 6) | (v >> 6)
        out[i, 3] = ((v & 0x3F) << 2) | (qq >> 3)
        out[i, 4] = ((qq & 7) << 5) | ((a & 1) << 4) | (((a >> 1) & 3) << 2) | ((a >> 3) & 3)
    return out


def encode_reference(fields: dict[str, np.ndarray]) -> np.ndarray:
    """Slow, obvious inverse of :func:`decode_reference`; returns uint8 shape (n, 5)."""
    xb, yb, q, xa = (fields[k].astype(np.int64) for k in ("xb", "yb", "q", "xa"))
    u = fields["xamc"].astype(np.int64) & 0xFFF
    v = fields["yamc"].astype(np.int64) & 0xFFF
    cols = [
        (xb << 5) | (u >> 7),
        ((u & 0x7F) << 1) | (yb >> 2),
        ((yb & 3) << 6) | (v >> 6),
        ((v & 0x3F) << 2) | (q >> 3),
        ((q & 7) << 5) | ((xa & 1) << 4) | (((xa >> 1) & 3) << 2) | ((xa >> 3) & 3),
    ]
    return np.column_stack(cols).astype(np.uint8)


_FIELD_RANGES = {
    "xb": (0, 7),
    "yb": (0, 7),
    "xamc": (-2048, 2047),
    "yamc": (-2048, 2047),
    "q": (0, 31),
    "xa": (0, 31),
}


def encode_fields(fields: dict[str, np.ndarray]) -> np.ndarray:
    """Pack raw fields into photon bytes, the exact inverse of :func:`decode_photonbytes`.

    Parameters
    ----------
    fields : dict of integer arrays, shape (n,)
        ``xb, xamc, yb, yamc, q, xa`` within their bit ranges.

    Returns
    -------
    ndarray, uint8, shape (n, 5)
    """
    arrays = []
    for name, (low, high) in _FIELD_RANGES.items():
        if name not in fields:
            raise Raw6Error(f"cannot encode: field {name!r} is missing")
        values = np.asarray(fields[name])
        if values.size and (values.min() < low or values.max() > high):
            raise Raw6Error(f"cannot encode: {name} outside {low}..{high}")
        arrays.append(values)
    order = ("xb", "xamc", "yb", "yamc", "q", "xa")
    by_name = dict(zip(_FIELD_RANGES, arrays, strict=True))
    cols = [np.ascontiguousarray(by_name[k], dtype=np.int16) for k in order]
    return _encode_kernel(*cols)


# --------------------------------------------------------------------------------------
# Centre and scale: raw fields -> detector microns
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _center_scale_kernel(xb, xamc, yb, yamc, xa, xclk, yclk, xcen, ycen, xscl, yscl, xslp, yslp):
    n = xb.shape[0]
    x = np.empty(n, np.float64)
    y = np.empty(n, np.float64)
    ya = np.empty(n, np.int16)
    for i in range(n):
        xraw0 = int(xb[i]) * xclk + int(xamc[i])
        yraw0 = int(yb[i]) * yclk + int(yamc[i])
        yai = np.int64(((yraw0 / (2 * yclk) - xraw0 / (2 * xclk)) + 10) * 32 + xa[i]) % 32
        ya[i] = yai
        xraw = xraw0 + (((int(xa[i]) + 7) % 32) - 16) * xslp
        yraw = yraw0 + (((yai + 7) % 32) - 16) * yslp
        x[i] = (xraw - xcen) * xscl
        y[i] = (yraw - ycen) * yscl
    return x, y, ya


def center_scale_reference(fields: dict[str, np.ndarray], bc: BandConstants):
    """gPhoton 2's numpy ``center_and_scale`` in float64; returns (x, y, ya)."""
    xraw0 = fields["xb"].astype(np.int64) * bc.xclk + fields["xamc"]
    yraw0 = fields["yb"].astype(np.int64) * bc.yclk + fields["yamc"]
    ya = (((yraw0 / (2 * bc.yclk) - xraw0 / (2 * bc.xclk)) + 10) * 32 + fields["xa"]).astype(
        np.int64
    ) % 32
    xraw = xraw0 + (((fields["xa"].astype(np.int64) + 7) % 32) - 16) * bc.xslp
    yraw = yraw0 + (((ya + 7) % 32) - 16) * bc.yslp
    return (xraw - bc.xcen) * bc.xscl, (yraw - bc.ycen) * bc.yscl, ya.astype(np.int16)


def center_and_scale(fields: dict[str, np.ndarray], bc: BandConstants):
    """Detector position in microns from raw fields, with the derived y TAC phase ``ya``.

    Parameters
    ----------
    fields : dict of int16 arrays, shape (n,)
        Output of :func:`decode_photonbytes`.
    bc : BandConstants
        Clock, centre, scale and slope constants of the band and eclipse.

    Returns
    -------
    x, y : float64 arrays, shape (n,)
        Detector microns. gPhoton 2 rounds these to float32 (~0.004 micron); we keep float64.
    ya : int16 array, shape (n,)
        Y TAC phase 0..31, derived from the raw clocks and xa.
    """
    return _center_scale_kernel(
        fields["xb"], fields["xamc"], fields["yb"], fields["yamc"], fields["xa"],
        bc.xclk, bc.yclk, float(bc.xcen), float(bc.ycen), bc.xscl, bc.yscl,
        bc.xslp, bc.yslp,
    )  # fmt: skip
