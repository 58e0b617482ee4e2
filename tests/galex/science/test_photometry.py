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


@pytest.mark.parametrize("size", [(3, 3), (21, 21), (4, 5)])
def test_the_mesh_median_filter_matches_scipy_and_numpy(size):
    from apps.galex.science.photometry import nanmedian_filter, nanmedian_filter_reference

    rng = np.random.default_rng(sum(size))
    data = rng.normal(3.0, 1.0, (47, 61))
    data[rng.random(data.shape) < 0.2] = np.nan
    data[:5, :9] = np.nan  # a window that is all NaN
    np.testing.assert_array_equal(nanmedian_filter(data, size), nanmedian_filter_reference(data, size))
    as32 = data.astype(np.float32)
    np.testing.assert_array_equal(nanmedian_filter(as32, size), nanmedian_filter_reference(as32, size))


def test_our_background_is_photutils_background():
    from astropy.stats import SigmaClip
    from photutils.background import Background2D, MedianBackground

    from apps.galex.science.photometry import _Background2D

    rng = np.random.default_rng(2)
    image = rng.poisson(0.7, (300, 280)).astype(np.float32)
    image[:40, :60] = np.nan  # outside coverage, as detection images have
    kwargs = {"box_size": (15, 15), "filter_size": (21, 21), "sigma_clip": SigmaClip(sigma=3.0),
              "bkg_estimator": MedianBackground()}  # fmt: skip
    ours, theirs = _Background2D(image, **kwargs), Background2D(image, **kwargs)
    np.testing.assert_array_equal(ours.background, theirs.background)
    np.testing.assert_array_equal(ours.background_rms, theirs.background_rms)
