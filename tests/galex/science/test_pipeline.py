"""End to end on synthetic eclipses: the reduction recovers what the simulator planted."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from astropy.io import fits

from apps.galex.science.errors import (
    AspectError,
    BandMismatch,
    EmptyLeg,
    Raw6Error,
    ReductionCancelled,
)
from apps.galex.science.imaging import exposure_reference, make_image
from apps.galex.science.photometry import tidy_lightcurves
from apps.galex.science.photonlist import make_photonlists
from apps.galex.science.pipeline import STAGES, reduce_eclipse
from apps.galex.science.raw6 import Raw6Reader, write_raw6
from apps.galex.science.simulate import read_truth, simulate_eclipse


def match(truth: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for src in truth.itertuples():
        sep = (
            np.hypot((table.ra - src.ra) * np.cos(np.radians(src.dec)), table.dec - src.dec) * 3600
        )
        j = int(np.argmin(sep))
        rows.append(
            {
                "source_id": src.source_id,
                "sep": sep[j],
                "row": j,
                "mean_cps": src.mean_cps,
                "variable": src.variable,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def photometry(reduced, small_eclipse):
    result, _ = reduced
    sources, rate = read_truth(small_eclipse.truth_path)
    image_table = pd.read_csv(result.legs[0].image_photometry[0])
    movie_table = pd.read_csv(result.legs[0].movie_photometry[0])
    return sources, rate, image_table, movie_table, match(sources, image_table)


def test_it_recovers_planted_sources_within_1_5_arcsec(photometry):
    matched = photometry[-1]
    assert len(matched) == 20 and matched.sep.max() < 1.5


def test_it_recovers_planted_rates_within_poisson_errors(photometry):
    _, _, table, _, matched = photometry
    rows = table.iloc[matched.row]
    counts, bkg, expt = (
        rows.aperture_sum.to_numpy(),
        rows.bkg_aperture_sum.to_numpy(),
        rows.exptime.to_numpy(),
    )
    z = ((counts - bkg) / expt - matched.mean_cps.to_numpy()) / (np.sqrt(counts + bkg) / expt)
    assert np.all(np.abs(z) < 4), z
    assert abs(z.mean()) < 1.0


def test_it_follows_the_injected_flare(photometry):
    _, rate, _, movie_table, matched = photometry
    variable = matched[matched.variable].iloc[0]
    lc = tidy_lightcurves(movie_table, "NUV")
    lc = lc[(lc.source == variable.row) & (lc.expt > 5)]
    injected = np.array(
        [rate.cps[(rate.t >= a) & (rate.t < b)].mean() for a, b in zip(lc.t0, lc.t1, strict=True)]
    )
    chi2 = np.mean(((lc.cps_bgsub - injected) / lc.cps_bgsub_err) ** 2)
    assert chi2 < 4
    assert lc.frame.iloc[int(np.argmax(lc.cps_bgsub))] == lc.frame.iloc[int(np.argmax(injected))]
    assert lc.cps_bgsub.max() > 2 * np.median(lc.cps_bgsub)  # a 7-s flare diluted in 20-s frames


def test_it_writes_gphoton_photon_lists_with_final_flags_only(reduced, small_eclipse):
    result, _ = reduced
    table = pq.read_table(result.legs[0].photonlist)
    assert table.schema.names == [
        "t",
        "ra",
        "dec",
        "flags",
        "col",
        "row",
        "detrad",
        "mask",
        "response",
    ]
    assert (
        table.schema.field("flags").type == pa.uint8()
        and table.schema.field("col").type == pa.float32()
    )
    flags = table["flags"].to_numpy()
    assert set(np.unique(flags)) == {0, 7, 12}
    assert np.all(np.isnan(table["ra"].to_numpy()[flags != 0]))
    t = table["t"].to_numpy()
    assert np.all(np.diff(t) >= 0)
    assert np.all(flags[t < small_eclipse.summary["config"]["t0"] + 1] == 7)  # first aspect second
    counts = small_eclipse.summary["event_counts"]
    assert result.n_kept == result.n_events - counts["before_aspect"]  # before the aspect: dropped
    assert np.sum(flags == 12) >= counts["stim"] + counts["off_detector"]


def test_it_marks_hotspots_where_the_mask_says(reduced, cal_dir):
    result, _ = reduced
    table = pq.read_table(result.legs[0].photonlist).to_pandas()
    with fits.open(cal_dir / "NUV_mask.fits") as hdul:
        mask = hdul[0].data
    on = (table.col > 0) & (table.col < 800) & (table.row > 0) & (table.row < 800)
    expected = mask[table.col[on].astype(int), table.row[on].astype(int)] == 0
    np.testing.assert_array_equal(table["mask"][on].to_numpy(), expected)
    assert expected.any()
    with fits.open(result.legs[0].image) as hdul:
        flag, count = hdul["FLAG"].data, hdul["COUNT"].data
    assert np.any(flag & 1) and np.all(count[(flag & 1) > 0] > 0)


def test_it_matches_exposure_to_the_formula_on_the_synthetic_gaps(reduced, small_eclipse):
    result, _ = reduced
    exposure = pd.read_csv(result.legs[0].exposure_table)
    table = pq.read_table(result.legs[0].photonlist, columns=["t", "flags"]).to_pandas()
    t, flags = table["t"].to_numpy(), table["flags"].to_numpy()
    for row in exposure.itertuples():
        expt, raw, _ = exposure_reference(t, flags, "NUV", row.t0, row.t1)
        assert row.expt == pytest.approx(expt, rel=1e-9) and row.rawexpt == pytest.approx(
            raw, rel=1e-9
        )
    gap_start, gap_length = small_eclipse.summary["config"]["gaps"][0]
    gap_t = small_eclipse.summary["config"]["t0"] + gap_start
    frame = exposure[(exposure.t0 <= gap_t) & (exposure.t1 > gap_t + gap_length)].iloc[0]
    assert frame.shutter >= gap_length - 0.01
    with fits.open(result.legs[0].movie[0]) as hdul:
        assert hdul["COUNT"].header["EXPT_0"] == pytest.approx(round(exposure.expt[0], 3))


def test_it_reports_stages_in_pipeline_order(reduced):
    _, calls = reduced
    order = list(dict.fromkeys(stage for _, _, stage in calls))
    assert order == list(STAGES)
    assert all(done <= total for done, total, _ in calls)


def test_it_writes_gphoton_light_curve_columns(photometry):
    movie_table = photometry[3]
    head = ["xcentroid", "ycentroid", "area", "segment_flux", "elongation", "eccentricity", "equivalent_radius",
            "orientation", "max_value", "min_value", "threshold_multiplier", "threshold_minimum", "extended_source",
            "xcenter", "ycenter", "aperture_sum", "artifact_flag", "ra", "dec", "exptime", "bkg_aperture_sum"]  # fmt: skip
    assert list(movie_table.columns[: len(head)]) == head
    n = sum(c.startswith("aperture_sum_") for c in movie_table.columns)
    tail = [
        f"{p}_{i}" for p in ("aperture_sum", "expt", "t0", "t1", "artifact_flag") for i in range(n)
    ]
    ours = [f"{p}_{i}" for p in ("cps", "cps_err") for i in range(n)] + ["forced", "source_id", "aperture_correction_mag"]
    assert list(movie_table.columns[len(head) :]) == tail + ours and n >= 5
    np.testing.assert_allclose(
        movie_table.cps_2, movie_table.aperture_sum_2 / movie_table.expt_2, rtol=1e-6
    )


def test_it_reruns_a_cancelled_job_to_identical_products(reduced, small_eclipse, cal_dir, tmp_path):
    result, _ = reduced
    polls = []

    def cancel_late():
        polls.append(1)
        return len(polls) > 3  # after the photon list, while imaging

    with pytest.raises(ReductionCancelled):
        reduce_eclipse(small_eclipse.raw6_path, small_eclipse.aspect_dir, tmp_path, band="NUV", depth=20,
                       compression="gzip", cal_dir=cal_dir, should_cancel=cancel_late)  # fmt: skip
    assert not list(tmp_path.glob(".*partial"))
    again = reduce_eclipse(small_eclipse.raw6_path, small_eclipse.aspect_dir, tmp_path, band="NUV", depth=20,
                           compression="gzip", cal_dir=cal_dir)  # fmt: skip
    first, second = result.product_paths(), again.product_paths()
    for kind in first:
        for a, b in zip(first[kind], second[kind], strict=True):
            assert a.name == b.name
            assert a.read_bytes() == b.read_bytes(), kind
    assert not list(tmp_path.glob(".*partial"))


def test_it_names_a_band_mismatch(small_eclipse, cal_dir, tmp_path):
    with pytest.raises(BandMismatch, match="holds NUV events but FUV was requested"):
        reduce_eclipse(
            small_eclipse.raw6_path, small_eclipse.aspect_dir, tmp_path, band="FUV", cal_dir=cal_dir
        )


def test_it_names_an_eclipse_without_aspect_rows(small_eclipse, cal_dir, tmp_path):
    aspect = tmp_path / "aspect"
    shutil.copytree(small_eclipse.aspect_dir, aspect)
    table = pq.read_table(aspect / "aspect.parquet")
    pq.write_table(
        table.set_column(0, "eclipse", pa.array(np.full(len(table), 99, np.int32))),
        aspect / "aspect.parquet",
    )
    with pytest.raises(AspectError, match="no rows for eclipse 23456"):
        reduce_eclipse(
            small_eclipse.raw6_path, aspect, tmp_path / "out", band="NUV", cal_dir=cal_dir
        )


def test_it_names_an_empty_leg(small_eclipse, cal_dir, tmp_path):
    aspect = tmp_path / "aspect"
    shutil.copytree(small_eclipse.aspect_dir, aspect)
    asp = pq.read_table(aspect / "aspect.parquet").to_pandas()
    later = asp.copy()
    later["time"] += asp.time.max() - asp.time.min() + 100.0
    pq.write_table(
        pa.Table.from_pandas(pd.concat([asp, later]), preserve_index=False),
        aspect / "aspect.parquet",
    )
    bore = pq.read_table(aspect / "boresight.parquet").to_pandas()
    extra = bore.copy()
    extra["time"] = later.time.min()
    pq.write_table(
        pa.Table.from_pandas(pd.concat([bore, extra]), preserve_index=False),
        aspect / "boresight.parquet",
    )
    with pytest.raises(EmptyLeg, match="leg 1 .* contains no photon events"):
        reduce_eclipse(
            small_eclipse.raw6_path, aspect, tmp_path / "out", band="NUV", cal_dir=cal_dir
        )
    assert not list((tmp_path / "out").glob("*.parquet*")) and not list(
        (tmp_path / "out").glob(".*")
    )


def test_it_names_a_truncated_raw6(small_eclipse, cal_dir, tmp_path):
    cut = tmp_path / "e23456-nd-raw6.fits.gz"
    data = small_eclipse.raw6_path.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(Raw6Error, match="truncated"):
        reduce_eclipse(cut, small_eclipse.aspect_dir, tmp_path / "out", band="NUV", cal_dir=cal_dir)


def test_it_writes_burst_frames_that_add_up_to_the_image(small_eclipse, cal_dir, tmp_path):
    result = reduce_eclipse(small_eclipse.raw6_path, small_eclipse.aspect_dir, tmp_path, band="NUV", depth=40,
                            compression="none", burst=True, cal_dir=cal_dir)  # fmt: skip
    leg = result.legs[0]
    assert len(leg.movie) == leg.n_frames >= 3
    # named as gPhoton 2 names burst frames: start minus the photon list's first time (row group
    # 0's t minimum), through intfill (4-digit integer part, then the fraction's digits)
    first_t = pq.read_metadata(leg.photonlist).row_group(0).to_dict()["columns"][0]["statistics"]["min"]
    for path in leg.movie[:3]:
        offset = fits.getheader(path, "COUNT")["T0_0"] - first_t
        whole, frac = int(offset), round(offset - int(offset), 4)
        assert path.name == f"e23456-nd-f0040-b00-t{whole:04d}{str(frac)[2:] if frac else ''}-n.fits", path.name
    total = sum(fits.getdata(path, "COUNT").astype(np.float64) for path in leg.movie)
    np.testing.assert_allclose(total, fits.getdata(leg.image, "COUNT"), rtol=1e-5, atol=1e-4)


@pytest.fixture(scope="module")
def wide_eclipse(tmp_path_factory, cal_dir):
    out = tmp_path_factory.mktemp("wide")
    sim = simulate_eclipse(
        out, cal_dir, n_events=60_000, seed=5, field_radius_deg=0.66, n_sources=5
    )
    return sim, make_photonlists(sim.raw6_path, sim.aspect_dir, out, band="NUV", cal_dir=cal_dir)


def test_it_flags_soft_and_hard_edges_on_the_image(wide_eclipse):
    _, pl = wide_eclipse
    table = pq.read_table(pl.paths[0]).to_pandas()
    image, _ = make_image(pl.paths[0], band="NUV")
    good = table[np.isfinite(table.ra) & (table.detrad < 400)]
    x, y = image.geometry.world_to_pixel(good.ra.to_numpy(), good.dec.to_numpy())
    ix, iy = np.floor(x + 0.5).astype(int), np.floor(y + 0.5).astype(int)
    inside = (ix >= 0) & (ix < image.geometry.nx) & (iy >= 0) & (iy < image.geometry.ny)
    pix, detrad = image.flag[iy[inside], ix[inside]], good.detrad.to_numpy()[inside]
    assert np.sum(detrad > 370) > 100
    assert np.all(pix[detrad > 370] & 8) and np.all(pix[detrad > 350] & 4)
    centre = detrad < 200
    assert np.mean((pix[centre] & 12) == 0) > 0.95


def test_it_recovers_fuv_positions_through_the_mirrored_detector(cal_dir, tmp_path):
    sim = simulate_eclipse(tmp_path / "fuv", cal_dir, band="FUV", n_events=60_000, seed=9, field_radius_deg=0.12,
                           n_sources=6, source_fraction=0.6)  # fmt: skip
    result = reduce_eclipse(
        sim.raw6_path, sim.aspect_dir, tmp_path / "out", band="FUV", depth=None, cal_dir=cal_dir
    )
    sources, _ = read_truth(sim.truth_path)
    table = pd.read_csv(result.legs[0].image_photometry[0])
    matched = match(sources, table)
    # Hotspot pixels are zeroed before detection (gPhoton 2), which can pull the centroid of
    # a source lying on one; every source clear of hotspots comes back within 1.5".
    clean = table.artifact_flag.to_numpy()[matched.row] & 1 == 0
    assert clean.sum() >= 4 and matched.sep[clean].max() < 1.5
    assert result.legs[0].movie == [] and result.provenance["fuv_offsets_arcsec"][1] != 0


def test_it_runs_the_post_csp_branch_with_yac_and_ghost_flags(cal_dir, tmp_path):
    """A pre-CSP FUV simulation relabelled as eclipse 40000 goes through the post-CSP steps.

    The simulator does not invert the post-CSP yac step, so positions move by the size of
    that correction (a few arcsec) instead of staying within 1.5".
    """
    sim = simulate_eclipse(tmp_path / "sim", cal_dir, band="FUV", n_events=60_000, seed=3,
                           field_radius_deg=0.12, n_sources=5, source_fraction=0.6)  # fmt: skip
    post = tmp_path / "post"
    (post / "aspect").mkdir(parents=True)
    with Raw6Reader(sim.raw6_path) as reader:
        write_raw6(post / "e40000-fd-raw6.fits.gz", band_code=2, eclipse=40000,
                   chunks=((t, phb.astype(np.uint8)) for t, phb in reader.chunks(50_000)))  # fmt: skip
    for name in ("aspect", "boresight", "metadata"):
        table = pq.read_table(sim.aspect_dir / f"{name}.parquet")
        column = pa.array(np.full(len(table), 40000, np.int64))
        pq.write_table(table.set_column(table.schema.get_field_index("eclipse"), "eclipse", column),
                       post / "aspect" / f"{name}.parquet")  # fmt: skip
    result = reduce_eclipse(post / "e40000-fd-raw6.fits.gz", post / "aspect", tmp_path / "out", band="FUV",
                            depth=None, cal_dir=cal_dir)  # fmt: skip
    table = pq.read_table(result.legs[0].photonlist)
    assert "ya" in table.schema.names and result.provenance["post_csp"]
    assert set(np.unique(table["flags"].to_numpy())) <= {0, 7, 12, 120}
    assert result.provenance["stim_coefficients"] == [5105.48, 0.0]
    sources, _ = read_truth(sim.truth_path)
    assert match(sources, pd.read_csv(result.legs[0].image_photometry[0])).sep.max() < 5.0
