"""Reading the real CR Dra gPhoton products."""

from __future__ import annotations

import numpy as np
import pytest

from apps.galex.science.errors import ProductError
from apps.galex.science.gphoton_products import (
    list_gphoton_products,
    read_gaperture_csv,
    read_gmap_coadd,
)


@pytest.fixture(scope="module")
def folder(demo_data):
    return demo_data / "galex" / "gphoton_products"


def test_it_lists_the_cr_dra_products(folder):
    kinds = {(p["band"], p["kind"]) for p in list_gphoton_products(folder)}
    assert kinds == {("NUV", "lightcurve"), ("FUV", "lightcurve"), ("NUV", "count"), ("NUV", "int")}


def test_it_reads_a_light_curve_in_galex_time(folder):
    lc = read_gaperture_csv(folder / "cr_dra_visit1_nuv.csv")
    assert len(lc) == 73 and lc.attrs["gaperture"]["band"] == "NUV"
    assert float(lc.attrs["gaperture"]["radius"]) == pytest.approx(0.0045)
    assert np.all(lc["t1"] > lc["t0"]) and 7e8 < lc["t0"].min() < 8e8


def test_it_reads_a_coadd_with_its_wcs_and_time_ranges(folder):
    coadd = read_gmap_coadd(folder / "cr_dra_visit1_nuv_int_coadd.fits")
    assert coadd.image.shape == (80, 45) and coadd.band == "NUV" and coadd.kind == "int"
    ra, dec = coadd.wcs.wcs_pix2world(22.0, 39.5, 0)
    assert (float(ra), float(dec)) == pytest.approx((244.27247, 55.268069))
    assert list(coadd.time_ranges.columns) == ["tstart", "tstop", "exptime"]
    assert read_gmap_coadd(folder / "cr_dra_visit1_nuv_count_coadd.fits").time_ranges is None


def test_it_names_a_light_curve_missing_columns(tmp_path):
    (tmp_path / "x_nuv.csv").write_text("t0,t1\n1,2\n")
    with pytest.raises(ProductError, match="lacks column"):
        read_gaperture_csv(tmp_path / "x_nuv.csv")
