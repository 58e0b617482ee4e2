"""Our products read by gPhoton 2's own calls: photon-list statistics and columns through pyarrow
exactly as gPhoton 2 makes them, its file names (apertures, fractional depths), its pixel
convention; and our photometry features (apertures, forced positions, aperture corrections)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from pyarrow import parquet

from apps.galex.science.errors import GalexError
from apps.galex.science.imaging import aperture_tag, depth_tag, movie_name
from apps.galex.science.photometry import aperture_correction
from apps.galex.science.pipeline import frame_starts_from, photometry_only, reduce_eclipse


def gphoton_parquet_stats(fn, columns, row_group=0):
    """gPhoton 2 ``parquet_utils.get_parquet_stats``, the same pyarrow calls."""
    group = parquet.read_metadata(fn).row_group(row_group)
    statistics = {}
    for column in group.to_dict()["columns"]:
        if column["path_in_schema"] in columns:
            statistics[column["path_in_schema"]] = column["statistics"]
    return statistics


def test_gphoton_can_open_our_photon_list(reduced):
    result, _ = reduced
    path = str(result.legs[0].photonlist)
    # pipeline.py: ctx.start_time, then the check that skips legs with nothing usable
    start_time = gphoton_parquet_stats(path, ["t"])["t"]["min"]
    p_stats = gphoton_parquet_stats(path, ["flags", "ra"])
    assert not ((p_stats["flags"]["min"] > 6) or (p_stats["ra"]["max"] is None)), p_stats
    # moviemaker/_steps.py load_image_tables + select_on_detector
    relevant_columns = ["ra", "dec", "response", "flags", "mask", "t", "detrad"]
    event_table = parquet.read_table(path, columns=relevant_columns)
    exposure_array = np.array([event_table[c].to_numpy() for c in ["t", "flags"]]).T
    detrad = event_table["detrad"].to_numpy()
    event_table = event_table.take(np.where(np.isfinite(detrad) & (detrad < 400))[0])
    assert start_time == exposure_array[:, 0].min() and set(np.unique(exposure_array[:, 1])) <= {0, 7, 12}
    on_sky = np.isfinite(event_table["ra"].to_numpy())  # flagged events have NaN ra and bin nowhere
    assert int(on_sky.sum()) == result.legs[0].photon_count
    # every column gPhoton 2 reads has min and max statistics in every row group
    metadata = parquet.read_metadata(path)
    for g in range(metadata.num_row_groups):
        for column in metadata.row_group(g).to_dict()["columns"]:
            stats = column["statistics"]
            assert stats is not None and stats["has_min_max"], (g, column["path_in_schema"])


def test_gphoton_finds_the_first_frame_of_our_light_curves(reduced, tmp_path):
    result, _ = reduced
    table = result.legs[0].movie_photometry[0]
    # pipeline.py check_fixed_start_time (csv), and the parquet variant
    t0 = pd.read_csv(table)["t0_0"].iloc[0]
    pd.read_csv(table).to_parquet(tmp_path / "t.parquet")
    assert parquet.read_table(tmp_path / "t.parquet", columns=["t0_0"]).to_pandas()["t0_0"].iloc[0] == t0
    assert frame_starts_from(table.parent, 23456, "FUV", 20) == {0: t0}


def test_it_names_files_as_gphoton_does():
    assert [depth_tag(d) for d in (None, 30, 30.0, 2.5, 120)] == ["ffull", "f0030", "f0030", "f02.5", "f0120"]
    assert [aperture_tag(a) for a in (6, 6.0, 12.8, 25)] == ["6", "6", "12_8", "25"]
    assert movie_name(23456, "NUV", 0, 2.5, "gzip", start=1.0) == "e23456-nd-f02.5-b00-t0001-g.fits.gz"
    assert movie_name(23456, "FUV", 1, 30, "rice", start=12.345) == "e23456-fd-f0030-b01-t0012345-r.fits"


def test_aperture_corrections_follow_the_published_psf_table():
    assert aperture_correction(12.8, "NUV") == pytest.approx(0.09)
    assert aperture_correction(6.0, "FUV") == pytest.approx(0.15)
    assert aperture_correction(7.5, "NUV") == pytest.approx((0.23 + 0.13) / 2)  # linear in radius
    assert aperture_correction(1.0, "FUV") == pytest.approx(1.65) and aperture_correction(70, "NUV") == 0.0


@pytest.fixture(scope="module")
def multi(small_eclipse, cal_dir, tmp_path_factory):
    """Images only (depth None), three apertures, forced photometry at every planted source."""
    truth = small_eclipse.sources
    positions = pd.DataFrame({"ra": truth["ra"], "dec": truth["dec"], "id": [f"star-{i}" for i in truth["source_id"]]})
    out = tmp_path_factory.mktemp("multi")
    gaia = reduce_eclipse(small_eclipse.raw6_path, small_eclipse.aspect_dir, out / "gaia", band="NUV", depth=None,
                          cal_dir=cal_dir, aperture_sizes=(6, 12.8, 25), positions=positions)  # fmt: skip
    return gaia, positions, out


def test_it_writes_one_table_per_aperture_named_as_gphoton_names_them(multi):
    gaia, _, out = multi
    leg = gaia.legs[0]
    names = sorted(p.name for p in leg.image_photometry)
    assert names == [f"e23456-nd-ffull-b00-image-photom-{t}.csv" for t in ("12_8", "25", "6")]
    assert not leg.movie and not leg.movie_photometry and leg.movie_preview is None  # --depth none
    sums = {p.name.split("-")[-1]: pd.read_csv(p)["aperture_sum"].sum() for p in leg.image_photometry}
    assert sums["6.csv"] < sums["12_8.csv"] < sums["25.csv"]
    corrections = {p.name.split("-")[-1]: pd.read_csv(p)["aperture_correction_mag"].iloc[0] for p in leg.image_photometry}
    assert corrections == {"6.csv": pytest.approx(0.23), "12_8.csv": pytest.approx(0.09), "25.csv": pytest.approx(0.07 - 0.03 * (25 - 17.3) / (30 - 17.3))}


def test_forced_rows_carry_their_ids_and_sit_on_their_sources(multi):
    gaia, positions, _ = multi
    table = pd.read_csv(next(p for p in gaia.legs[0].image_photometry if p.name.endswith("12_8.csv")))
    forced = table[table["forced"]]
    assert len(forced) == gaia.legs[0].n_forced == len(positions)  # every planted source is on the image
    assert list(forced["source_id"]) == list(positions["id"])
    np.testing.assert_allclose(forced[["ra", "dec"]].to_numpy(), positions[["ra", "dec"]].to_numpy())
    detected = table[~table["forced"]]
    assert detected["source_id"].isna().all() and detected["segment_flux"].notna().all()
    assert forced["segment_flux"].isna().all() and (forced["aperture_sum"] > 0).all()


def test_the_gphoton2_pixel_convention_moves_ra_dec_by_one_pixel(multi, small_eclipse):
    gaia, positions, out = multi
    ours = pd.read_csv(next(p for p in gaia.legs[0].image_photometry if p.name.endswith("12_8.csv")))
    # photometry again on the same image, in gPhoton 2's convention (it rewrites the tables)
    shifted = photometry_only(out / "gaia", band="NUV", depth=None, positions=positions, pixel_convention="gphoton2")
    theirs = pd.read_csv(shifted.legs[0].image_photometry[0])
    detected = ~ours["forced"]
    # same sources and centroids; gPhoton 2's ra/dec are those of the pixel one down and one left
    np.testing.assert_allclose(ours.loc[detected, "xcentroid"], theirs.loc[detected, "xcentroid"])
    dra = (theirs.loc[detected, "ra"] - ours.loc[detected, "ra"]) * np.cos(np.radians(ours.loc[detected, "dec"]))
    ddec = theirs.loc[detected, "dec"] - ours.loc[detected, "dec"]
    np.testing.assert_allclose(np.hypot(dra, ddec) * 3600, 1.5 * np.sqrt(2), rtol=0.01)
    # forced apertures sit one pixel up and right of the given position in gPhoton 2's convention
    forced = ours["forced"]
    np.testing.assert_allclose(theirs.loc[forced, "xcenter"] - ours.loc[forced, "xcenter"], 1.0, atol=1e-6)
    np.testing.assert_allclose(theirs.loc[forced, "ycenter"] - ours.loc[forced, "ycenter"], 1.0, atol=1e-6)


def test_photometry_only_redoes_the_tables_from_existing_products(reduced, tmp_path):
    result, _ = reduced
    out = tmp_path / "copy"
    shutil.copytree(result.out_dir, out)  # the session's products stay as they are
    before = pd.read_csv(result.legs[0].movie_photometry[0])
    again = photometry_only(out, band="NUV", depth=20, aperture_sizes=(12.8, 6))
    after = pd.read_csv(again.legs[0].movie_photometry[0])
    columns = [c for c in before.columns if c.startswith(("aperture_sum", "t0_", "expt_"))]
    np.testing.assert_allclose(after[columns].to_numpy(float), before[columns].to_numpy(float), rtol=1e-4, atol=1e-3)
    assert len(again.legs[0].movie_photometry) == 2 and again.legs[0].n_frames == result.legs[0].n_frames
    with pytest.raises(GalexError, match="no f0033 movie"):
        photometry_only(out, band="NUV", depth=33)
    with pytest.raises(GalexError, match="no FUV image"):
        photometry_only(out, band="FUV")
