from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from apps.lightcurves.science.errors import InvalidInput, LightCurveError, MissingColumns
from apps.lightcurves.science.io import FLOAT_COLUMNS, from_dataframe, read_fits

from .conftest import KEPLER6_Q0, WASP126_S1


def test_it_reads_a_kepler_file_with_its_metadata(read):
    lc = read(KEPLER6_Q0)
    assert (lc.mission, lc.target_id, lc.segment) == ("Kepler", 10874614, 0)
    assert len(lc) == 476 and lc.time.dtype == np.float64 and lc.time.flags.c_contiguous


def test_it_reads_a_tess_file_and_tells_which_tic_it_is(read):
    lc = read(WASP126_S1)
    assert (lc.mission, lc.target_id, lc.segment) == ("TESS", 25155310, 1)
    assert np.isfinite(lc.centroid_col).sum() > 15000


def test_it_builds_the_same_curve_from_the_parquet_layout(read):
    lc = read(KEPLER6_Q0)
    frame = pd.DataFrame(
        {col: getattr(lc, key) for key, col in FLOAT_COLUMNS.items()} | {"QUALITY": lc.quality}
    )
    again = from_dataframe(frame, mission="Kepler", target_id=lc.target_id, segment=0)
    for key in (*FLOAT_COLUMNS, "quality"):
        np.testing.assert_array_equal(getattr(again, key), getattr(lc, key))


def test_it_names_the_missing_columns_of_a_table():
    with pytest.raises(MissingColumns, match="PDCSAP_FLUX"):
        from_dataframe(pd.DataFrame({"TIME": [1.0, 2.0]}))


def test_it_rejects_a_fits_file_without_light_curve_columns(tmp_path):
    path = tmp_path / "bad.fits"
    table = fits.BinTableHDU.from_columns(
        [fits.Column(name="TIME", format="D", array=np.arange(3.0))], name="LIGHTCURVE"
    )
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(path)
    with pytest.raises(MissingColumns, match="PDCSAP_FLUX") as info:
        read_fits(path)
    assert isinstance(info.value, LightCurveError)


def test_it_rejects_a_fits_file_that_is_not_a_light_curve(tmp_path):
    path = tmp_path / "image.fits"
    fits.PrimaryHDU(np.zeros((2, 2))).writeto(path)
    with pytest.raises(InvalidInput, match="LIGHTCURVE"):
        read_fits(path)
