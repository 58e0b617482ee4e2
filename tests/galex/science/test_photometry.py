"""Detection thresholds, aperture photometry and count-rate conventions."""

from __future__ import annotations

import numpy as np
import pytest

from apps.galex.science.gphoton_products import read_gaperture_csv
from apps.galex.science.photometry import (
    aperture_flags,
    aperture_sums,
    minimum_elliot_sigmoid,
    rate_columns,
    threshold_parameters,
)


def test_it_computes_gphoton_threshold_parameters_by_hand():
    n = 20_000_000
    z = 0.00182538272 * (np.sqrt(n) - 1058.67793)
    assert minimum_elliot_sigmoid(n) == pytest.approx(0.5 * z / (1 + abs(z)) + 0.53)
    multiplier, minimum = threshold_parameters(n, 1500.0)  # 13333 photons/s: sparse
    m0 = -0.14 * np.log(n) + 4.0
    assert m0 < 1.8
    assert multiplier == pytest.approx(m0 + 0.75)
    assert minimum == pytest.approx(minimum_elliot_sigmoid(n) * m0 / (m0 + 0.5) + 0.15)
    dense = threshold_parameters(n, 1000.0)
    assert dense == pytest.approx((m0, minimum_elliot_sigmoid(n)))


def test_it_sums_a_planted_gaussian_in_an_exact_aperture():
    yy, xx = np.mgrid[0:101, 0:101]
    sigma, flux = 1.5, 1000.0
    image = (
        flux
        * np.exp(-((xx - 50.3) ** 2 + (yy - 49.6) ** 2) / (2 * sigma**2))
        / (2 * np.pi * sigma**2)
    )
    got = aperture_sums(image, np.array([[50.3, 49.6]]), 12.8 / 1.5)
    assert got[0] == pytest.approx(
        flux * (1 - np.exp(-((12.8 / 1.5) ** 2) / (2 * sigma**2))), rel=1e-4
    )
    flat = aperture_sums(np.ones((101, 101)), np.array([[50.0, 50.0]]), 5.0)
    assert flat[0] == pytest.approx(np.pi * 25, rel=1e-6)


def test_it_flags_apertures_touching_artifacts():
    flag = np.zeros((60, 60), np.uint8)
    flag[30, 40] = 1
    flag[5, 5] = 8
    got = aperture_flags(flag, np.array([[35.0, 30.0], [8.0, 8.0], [50.0, 50.0]]), 6.0)
    np.testing.assert_array_equal(got, [1, 8, 0])


@pytest.mark.parametrize("band", ["nuv", "fuv"])
def test_it_reproduces_gphoton_count_rate_columns_of_cr_dra(demo_data, band):
    lc = read_gaperture_csv(demo_data / "galex" / "gphoton_products" / f"cr_dra_visit1_{band}.csv")
    assert len(lc) > 50 and lc["cps"].notna().all()
    ours = rate_columns(lc["flat_counts"], lc["exptime"], band.upper())
    for col in ("cps", "cps_err", "mag", "mag_err_1", "mag_err_2"):
        np.testing.assert_allclose(ours[col], lc[col], rtol=2e-6, equal_nan=False, err_msg=col)
    np.testing.assert_allclose(
        ours["flux"], lc["flux"], rtol=6e-3
    )  # the CSV rounds flux to 3 digits
    bgsub = rate_columns(lc["flat_counts"], lc["exptime"], band.upper(), background=lc["bg"])
    np.testing.assert_allclose(bgsub["cps"], lc["cps_bgsub"], rtol=2e-6)
    np.testing.assert_allclose(bgsub["cps_err"], lc["cps_bgsub_err"], rtol=2e-6)
