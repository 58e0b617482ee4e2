"""GALEX time to barycentric Julian date (TDB), for plotting GALEX next to Kepler/TESS.

GALEX time is seconds since the GPS epoch 1980-01-06 00:00 UTC without leap seconds, i.e. UNIX
time minus 315964800 (gPhoton 2 writes DATE-BEG from ``utcfromtimestamp(315964800 + t)``).
Kepler's BKJD and TESS's BTJD are BJD_TDB minus 2454833 and 2457000. We convert UTC to TDB and
add the light travel time to the solar-system barycentre for the target's direction, seen from
the Earth's centre (GALEX orbited ~700 km up: at most ~2.5 ms off, far below a 1-s frame).
"""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.coordinates import EarthLocation, SkyCoord
from astropy.time import Time

GPS_EPOCH_UNIX = 315964800.0


def galex_to_bjd(t: np.ndarray, ra: float, dec: float) -> np.ndarray:
    """BJD_TDB (days) of GALEX times ``t`` (s) for a target at ``ra``, ``dec`` (deg)."""
    t = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if t.size == 0:
        return t.copy()
    utc = Time(GPS_EPOCH_UNIX + t, format="unix", scale="utc")
    geocentre = EarthLocation.from_geocentric(0.0, 0.0, 0.0, unit=u.m)
    ltt = utc.light_travel_time(SkyCoord(ra * u.deg, dec * u.deg), kind="barycentric", location=geocentre)
    return np.asarray((utc.tdb + ltt).jd, dtype=np.float64)
