"""Real light curves from the demo data, read once per session, and a batman injector."""

from __future__ import annotations

from pathlib import Path

import batman
import numpy as np
import pytest

from apps.lightcurves.science.io import LightCurve, read_fits

EB_GLOB = "kepler/kplr002306740-*_llc.fits"
KEPLER6_Q0 = "kepler/kplr010874614-2009131105131_llc.fits"
TRES2_Q0 = "kepler/kplr011446443-2009131110544_slc.fits"
WASP126_S1 = "tess/tess2018206045859-s0001-0000000025155310-0120-s_lc.fits"
WASP46_S1 = "tess/tess2018206045859-s0001-0000000231663901-0120-s_lc.fits"


@pytest.fixture(scope="session")
def eb_quarters(demo_data: Path) -> list[LightCurve]:
    """All 17 quarters of KIC 2306740, the 10.307 d eclipsing binary."""
    return [read_fits(p) for p in sorted(demo_data.glob(EB_GLOB))]


@pytest.fixture(scope="session")
def read(demo_data: Path):
    """Read a demo-data file by its path relative to the data folder."""
    return lambda rel: read_fits(demo_data / rel)


def inject_transit(
    time: np.ndarray,
    flux: np.ndarray,
    *,
    period: float,
    epoch: float,
    rp: float,
    a: float,
    inc: float,
    exp_time: float,
) -> np.ndarray:
    """Multiply flux by a limb-darkened batman transit (rp in stellar radii, a in stellar radii)."""
    params = batman.TransitParams()
    params.t0, params.per, params.rp, params.a, params.inc = epoch, period, rp, a, inc
    params.ecc, params.w, params.limb_dark, params.u = 0.0, 90.0, "quadratic", [0.4, 0.25]
    model = batman.TransitModel(params, time, supersample_factor=7, exp_time=exp_time)
    return flux * model.light_curve(params)
