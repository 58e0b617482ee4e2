"""Calibration steps: fast kernels against gPhoton-style references, and hand computations."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest
from astropy.io import fits

from apps.galex.science import calibration as cal
from apps.galex.science.calibration import files, kernels, postcsp, references
from apps.galex.science.constants import ASPUM, POST_CSP_FLAT_TIME, band_constants
from apps.galex.science.errors import CalibrationError

T = 741_100_050.0


@pytest.fixture(scope="module")
def nuv(cal_dir):
    return cal.load_calibration(cal_dir, "NUV", 23456)


def raw(cal_dir, name, hdu=0):
    with fits.open(cal_dir / name) as hdul:
        return hdul[hdu].data


def detector_inputs(rng, n, spread=2600.0):
    """Positions (microns) reaching beyond the calibration grid, plus exact grid edges."""
    x_as = np.concatenate([rng.uniform(-spread, spread, n), [-2400.0, 2390.0, 0.0]])
    y_as = np.concatenate([rng.uniform(-spread, spread, n), [0.0, 0.0, -2400.0]])
    m = len(x_as)
    return (x_as / ASPUM, y_as / ASPUM, rng.integers(0, 32, m), rng.integers(0, 32, m),
            rng.integers(0, 32, m), T + rng.uniform(0, 1000, m))  # fmt: skip


def test_it_records_identity_walk_and_distortion_when_their_files_are_absent(nuv):
    assert nuv.walk_x.shape == (0, 0, 0) and nuv.distortion_x.shape == (0, 0, 0)
    assert nuv.provenance["walk"].startswith("identity") and nuv.provenance[
        "distortion"
    ].startswith("identity")
    assert any("walk correction NOT applied" in w for w in nuv.warnings)
    assert any("distortion correction NOT applied" in w for w in nuv.warnings)


def test_it_names_a_missing_required_file(tmp_path):
    with pytest.raises(CalibrationError, match="NUV_wiggle_x.fits is missing"):
        cal.load_calibration(tmp_path, "NUV", 23456)


def test_it_wiggles_like_the_reference(nuv):
    x, y, xa, ya, _, _ = detector_inputs(np.random.default_rng(0), 20_000)
    fast, slow = (
        kernels.wiggle_kernel(x, y, xa, ya, nuv.wiggle_x, nuv.wiggle_y),
        references.wiggle_reference(x, y, xa, ya, nuv.wiggle_x, nuv.wiggle_y),
    )
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
    assert set(np.unique(fast[2])) == {0, 8}


def test_it_interpolates_the_wiggle_table_by_hand(nuv, cal_dir):
    table = raw(cal_dir, "NUV_wiggle_x.fits").astype(np.float64)
    x = np.array([(123.25 - 240.0) * 10 / ASPUM])
    xdig, _, flags = kernels.wiggle_kernel(
        x, np.zeros(1), np.array([5]), np.array([0]), nuv.wiggle_x, nuv.wiggle_y
    )
    expected = x[0] + (table[5, 123] * 0.75 + table[5, 124] * 0.25) / (10 * ASPUM)
    assert flags[0] == 0 and xdig[0] == pytest.approx(expected, abs=1e-6)


def test_it_walks_and_linearises_like_the_reference(nuv):
    x, y, xa, ya, q, t = detector_inputs(np.random.default_rng(1), 20_000)
    xdig, ydig, flags = kernels.wiggle_kernel(x, y, xa, ya, nuv.wiggle_x, nuv.wiggle_y)
    fast = kernels.walk_kernel(xdig, ydig, q, flags, nuv.walk_x, nuv.walk_y)
    slow = references.walk_reference(xdig, ydig, q, flags, nuv.walk_x, nuv.walk_y)
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)
    lin_fast = kernels.linearity_kernel(fast[0], fast[1], fast[2], nuv.linearity_x, nuv.linearity_y)
    lin_slow = references.linearity_reference(fast[0], fast[1], fast[2], nuv.linearity_x, nuv.linearity_y)
    for a, b in zip(lin_fast, lin_slow, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_it_looks_up_linearity_bilinearly_by_hand(nuv, cal_dir):
    table = raw(cal_dir, "NUV_NLC_x_det2sky.fits").astype(np.float64)
    xp, yp = np.array([(300.4 - 240.02) * 10]), np.array([(150.7 - 240.0) * 10])
    dx, _, flags = kernels.linearity_kernel(
        xp, yp, np.zeros(1, np.uint8), nuv.linearity_x, nuv.linearity_y
    )
    bx, by = 0.4, 0.7
    expected = (
        (1 - bx) * (1 - by) * table[150, 300]
        + bx * (1 - by) * table[150, 301]
        + (1 - bx) * by * table[151, 300]
        + bx * by * table[151, 301]
    )
    assert flags[0] == 0 and dx[0] == pytest.approx(expected, abs=1e-4)


def test_it_ends_every_failed_event_with_flag_6(nuv):
    x, y, xa, ya, q, t = detector_inputs(np.random.default_rng(2), 20_000)
    det = cal.apply_on_detector_corrections(
        cal.DetectorEvents(x, y, xa, ya, q, t),
        cal.DetectorSetup(nuv, band_constants("NUV", 23456), (5100.0, 0.0)),
    )
    assert set(np.unique(det.flags)) == {0, 6}
    on_grid = (np.abs(x * ASPUM) < 2000) & (np.abs(y * ASPUM) < 2000)
    assert np.all(det.flags[on_grid] == 0)


def test_it_maps_detector_coordinates_like_the_reference():
    rng = np.random.default_rng(3)
    n = 5000
    args = [rng.uniform(-2500, 2500, n), rng.uniform(-2500, 2500, n)] + [
        rng.normal(0, 5, n) for _ in range(4)
    ]
    flags = rng.choice([0, 0, 0, 9], n).astype(np.uint8)
    for flip in (1.0, -1.0):
        fast = kernels.detector_kernel(*args, flags, flip)
        slow = references.detector_reference(*args, flags, flip)
        for a, b in zip(fast, slow, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-9)


def test_it_computes_flat_scale_and_response_by_hand(nuv, cal_dir):
    flat = raw(cal_dir, "NUV_flat.fits")
    mask = raw(cal_dir, "NUV_mask.fits")
    bc = band_constants("NUV", 23456)
    col, row, t = np.array([412.3, 900.0]), np.array([388.7, 10.0]), np.array([T, T])
    resp = cal.calibrate_response(col, row, t, nuv, bc)
    scale = 1.9946352 - 1.9679445e-09 * T + 9.3025231e-19 * T * T
    assert resp.flat[0] == pytest.approx(float(flat[412, 388]))
    assert resp.scale[0] == pytest.approx(scale, rel=1e-12)
    assert resp.response[0] == pytest.approx(float(flat[412, 388]) * scale, rel=1e-6)
    assert resp.mask[0] == (mask[412, 388] == 0)
    assert np.isnan(resp.response[1]) and resp.mask[1]  # off the 800x800 grid
    assert resp.detrad[0] == pytest.approx(np.hypot(12.3, -11.3))
    post = cal.flat_scale(POST_CSP_FLAT_TIME + 10, bc)
    t2 = POST_CSP_FLAT_TIME + 10
    assert post == pytest.approx(1.018 * (1.9946352 - 1.9679445e-09 * t2 + 9.3025231e-19 * t2 * t2))


def test_it_calibrates_response_like_the_reference(nuv):
    rng = np.random.default_rng(4)
    col, row = rng.uniform(-20, 820, 20_000), rng.uniform(-20, 820, 20_000)
    t = rng.uniform(T, POST_CSP_FLAT_TIME + 1e6, 20_000)
    bc = band_constants("NUV", 23456)
    fast = cal.calibrate_response(col, row, t, nuv, bc)
    slow = references.response_reference(col, row, t, nuv.flat, nuv.mask, bc.flat_scale)
    for a, b in zip(
        (fast.mask, fast.flat, fast.scale, fast.response, fast.detrad), slow, strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-12, equal_nan=True)


def test_it_sums_wig2_wlk2_and_clk2_by_hand(cal_dir):
    tables = cal.load_post_csp_tables(cal_dir)
    wig = raw(cal_dir, "WIG2_Sep2010.fits", 1)
    wlk = raw(cal_dir, "WLK2_Sep2010.fits", 1)
    clk = raw(cal_dir, "CLK2_Sep2010.fits", 1)
    for row in wig[::997][:10]:
        ya, yb, xb, yy = int(row["YA"]), int(row["YB"]), int(row["XB"]), int(row["yy"])
        walk_rows = wlk[(wlk["yy"] == yy) & (wlk["YB"] == yb)]
        if not len(walk_rows):
            continue
        q = int(walk_rows["Q"][0])
        clock = clk["ycor"][(clk["yy"] == yy) & (clk["YB"] == yb)]
        expected = row["ycor"] + walk_rows["ycor"][0] + (clock[0] if len(clock) else 0.0)
        y = np.array([(-2000 + 40 * yy + 5) / ASPUM])
        got = postcsp.yac2_correction(
            np.array([q]), np.array([xb]), np.array([yb]), np.array([ya]), y, tables
        )
        assert got[0] * ASPUM == pytest.approx(expected, abs=1e-9)


def test_it_computes_yac2_like_the_reference(cal_dir):
    tables = cal.load_post_csp_tables(cal_dir)
    rng = np.random.default_rng(5)
    n = 20_000
    args = (
        rng.integers(0, 32, n),
        rng.integers(0, 8, n),
        rng.integers(0, 8, n),
        rng.integers(0, 32, n),
        rng.uniform(-2100, 2100, n) / ASPUM,
    )
    np.testing.assert_allclose(
        postcsp.yac2_correction(*args, tables), postcsp.yac2_reference(*args, tables), atol=1e-9
    )


def test_it_reads_fuv_offsets_from_the_temperature_tables(cal_dir):
    lines = (cal_dir / "fuv_dy_fdttdc_coef_0.tbl").read_text().splitlines()
    coef_y = float(lines[23456].split()[1])  # header line, then eclipse 1 on line 1
    coef_x = float(
        (cal_dir / "fuv_dx_fdttdc_coef_0.tbl").read_text().splitlines()[23456].split()[1]
    )
    xoff, yoff = cal.fuv_offsets(cal_dir, 23456, 31.0)
    assert xoff == pytest.approx(coef_x) and yoff == pytest.approx(coef_y - 0.3597 * 2.0)
    with pytest.raises(CalibrationError, match="not a valid FUV observation"):
        cal.fuv_offsets(cal_dir, 23456, float("nan"))
    with pytest.raises(CalibrationError, match="out of range"):
        cal.fuv_offsets(cal_dir, 23456, 45.0)


@pytest.fixture(scope="module")
def full_cal_dir(tmp_path_factory, cal_dir):
    """Real cal files (linked) plus synthetic walk tables and distortion cubes."""
    folder = tmp_path_factory.mktemp("cal_full")
    for path in cal_dir.iterdir():
        (folder / path.name).symlink_to(path)
    rng = np.random.default_rng(6)
    yy, xx = np.mgrid[0:480, 0:480]
    for axis in "xy":
        walk = (
            np.broadcast_to(np.sin(xx / 40.0) + np.cos(yy / 50.0), (32, 480, 480))
            .astype(np.float32)
            .copy()
        )
        walk[7, 200:210, 200:210] = -999
        fits.PrimaryHDU(walk).writeto(folder / f"NUV_walk_{axis}.fits")
        cube = rng.normal(0, 0.5, (17, 60, 60)).astype(np.float32)
        header = fits.Header(
            {
                "DC_X0": -2400.0,
                "DC_DX": 80.0,
                "DC_Y0": -2400.0,
                "DC_DY": 80.0,
                "DC_D0": 5150.0,
                "DC_DD": 5.0,
            }
        )
        fits.PrimaryHDU(cube, header=header).writeto(folder / f"nuv_distortion_cube_d{axis}.fits")
    return folder


def test_it_uses_walk_and_distortion_files_when_present(full_cal_dir):
    full = cal.load_calibration(full_cal_dir, "NUV", 23456)
    assert full.warnings == [] and full.walk_x.shape == (32, 480, 480)
    assert (
        full.provenance["distortion"] == "nuv_distortion_cube_dx.fits, nuv_distortion_cube_dy.fits"
    )


def test_it_walks_and_distorts_like_the_reference_with_real_tables(full_cal_dir):
    full = cal.load_calibration(full_cal_dir, "NUV", 23456)
    x, y, xa, ya, q, t = detector_inputs(np.random.default_rng(7), 20_000, spread=2300)
    q[:50] = 7
    x[:50] = ((205 - 240) * 10 + np.linspace(0, 9, 50)) / ASPUM  # inside the -999 block
    y[:50] = ((205 - 240) * 10) / ASPUM
    xdig, ydig, flags = kernels.wiggle_kernel(x, y, xa, ya, full.wiggle_x, full.wiggle_y)
    fast = kernels.walk_kernel(xdig, ydig, q, flags, full.walk_x, full.walk_y)
    slow = references.walk_reference(xdig, ydig, q, flags, full.walk_x, full.walk_y)
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)
    assert np.sum(fast[2][:50] == 9) > 0
    args = (
        fast[0],
        fast[1],
        t,
        fast[2],
        5180.0,
        0.0,
        full.distortion_x,
        full.distortion_y,
        full.distortion_header,
        0.5,
        -0.25,
    )
    d_fast, d_slow = kernels.distortion_kernel(*args), references.distortion_reference(*args)
    for a, b in zip(d_fast[:3], d_slow, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)
    assert d_fast[3] == 0


def test_it_refuses_a_distortion_index_outside_the_cube(full_cal_dir):
    full = cal.load_calibration(full_cal_dir, "NUV", 23456)
    bc = band_constants("NUV", 23456)
    with pytest.raises(CalibrationError, match="bad distortion correction"):
        cal.apply_on_detector_corrections(one_event(), cal.DetectorSetup(full, bc, (5000.0, 0.0)))


def one_event() -> cal.DetectorEvents:
    """One event at the detector centre at time T."""
    one, zero = np.zeros(1), np.zeros(1, int)
    return cal.DetectorEvents(one, one, zero, zero, zero, np.array([T]))


def run_steps(ev: cal.DetectorEvents, setup: cal.DetectorSetup):
    """The separate step kernels (each checked against its reference above), in order."""
    det = cal.apply_on_detector_corrections(ev, setup)
    resp = cal.calibrate_response(det.col, det.row, ev.t, setup.cal, setup.bc)
    return det, resp


def assert_chain_matches_steps(x, y, xa, ya, q, t, calset, bc, stim, offsets=(0.0, 0.0)):
    ev, setup = cal.DetectorEvents(x, y, xa, ya, q, t), cal.DetectorSetup(calset, bc, stim, offsets)
    chain = cal.apply_detector_chain(ev, setup)
    det, resp = run_steps(ev, setup)
    for got, want in ((chain.xi, det.xi), (chain.eta, det.eta), (chain.flags, det.flags),
                      (chain.mask, resp.mask)):  # fmt: skip
        np.testing.assert_array_equal(got, want)
    for got, want in ((chain.col, det.col), (chain.row, det.row), (chain.detrad, resp.detrad),
                      (chain.response, resp.response)):  # fmt: skip
        assert got.dtype == np.float32
        with np.errstate(over="ignore"):  # the 1e300 position's detrad is inf in float32
            np.testing.assert_array_equal(got, want.astype(np.float32))
    return chain


@pytest.mark.parametrize("band", ["NUV", "FUV"])
def test_it_chains_the_steps_bit_for_bit(cal_dir, band):
    calset = cal.load_calibration(cal_dir, band, 23456)
    x, y, xa, ya, q, t = detector_inputs(np.random.default_rng(9), 30_000)
    x[:3], y[:3] = np.nan, [np.inf, -np.inf, 1e300]  # garbage positions fail, never crash
    offsets = (0.4, -0.3) if band == "FUV" else (0.0, 0.0)
    chain = assert_chain_matches_steps(x, y, xa, ya, q, t, calset, band_constants(band, 23456),
                                       (5100.0, 0.0), offsets)  # fmt: skip
    assert set(np.unique(chain.flags)) == {0, 6} and np.all(chain.flags[:3] == 6)


def test_it_chains_walk_and_distortion_tables_bit_for_bit(full_cal_dir):
    full = cal.load_calibration(full_cal_dir, "NUV", 23456)
    x, y, xa, ya, q, t = detector_inputs(np.random.default_rng(10), 30_000, spread=2300)
    q[:50] = 7
    x[:50] = ((205 - 240) * 10 + np.linspace(0, 9, 50)) / ASPUM  # inside the -999 walk block
    y[:50] = ((205 - 240) * 10) / ASPUM
    for n in (1, 1023, 1024, 1025, len(x)):  # block edges
        assert_chain_matches_steps(x[:n], y[:n], xa[:n], ya[:n], q[:n], t[:n], full,
                                   band_constants("NUV", 23456), (5180.0, 0.0), (0.5, -0.25))  # fmt: skip


def test_it_refuses_a_distortion_index_outside_the_cube_in_the_chain(full_cal_dir):
    full = cal.load_calibration(full_cal_dir, "NUV", 23456)
    setup = cal.DetectorSetup(full, band_constants("NUV", 23456), (5000.0, 0.0))
    with pytest.raises(CalibrationError, match="1 events index outside the distortion cube"):
        cal.apply_detector_chain(one_event(), setup)


def test_it_recovers_a_planted_offset_through_the_chain(nuv):
    """Two events a known distance apart on the detector stay that far apart on the grid."""
    bc = band_constants("NUV", 23456)
    x = np.array([0.0, 600.0 / ASPUM])  # 600 arcsec apart in x
    zero = np.zeros(2, int)
    ev = cal.DetectorEvents(x, np.zeros(2), zero, zero, zero, np.full(2, T))
    chain = cal.apply_detector_chain(ev, cal.DetectorSetup(nuv, bc, (5100.0, 0.0)))
    assert np.all(chain.flags == 0)
    # 6-arcsec pixels; wiggle and linearity move positions by a few arcsec at most.
    assert abs(chain.col[1] - chain.col[0]) == pytest.approx(600.0 / 6.0, abs=1.0)
    assert abs(chain.row[1] - chain.row[0]) < 1.0


def test_it_keeps_float32_tables_exact_and_others_wide(nuv):
    tables = nuv.compact_tables()
    for name in ("wiggle_x", "linearity_y", "flat"):
        assert tables[name].dtype == np.float32
        np.testing.assert_array_equal(tables[name].astype(np.float64), getattr(nuv, name))
    np.testing.assert_array_equal(tables["mask"] == 0, nuv.mask == 0)
    wide = np.array([[0.1, 0.2]])  # not representable in float32
    assert files._smallest_exact(wide).dtype == np.float64
    assert nuv.compact_tables() is tables


class _MaskThatYields(np.ndarray):
    """A mask whose first comparison waits until another thread has asked for the tables: the
    moment a calibration thread may lose the GIL in the middle of building them."""

    def __ne__(self, other):  # noqa: ANN001, ANN204 - numpy's signature
        if not self.building.is_set():
            self.building.set()
            self.other_done.wait(timeout=5)
        return np.asarray(self) != other


def test_it_hands_every_calibration_thread_the_whole_table_set(nuv):
    """``--threads`` calibrates slices side by side, each asking for the compact tables: one
    that asks while another builds them must not get the dict without its last table (a
    threaded run once failed with KeyError "mask")."""
    mask = np.asarray(nuv.mask).view(_MaskThatYields)
    mask.building, mask.other_done = threading.Event(), threading.Event()
    fresh = dataclasses.replace(nuv, mask=mask)  # compact tables not built yet
    seen: list[set[str]] = []

    def first():
        seen.append(set(fresh.compact_tables()))

    builder = threading.Thread(target=first)
    builder.start()
    assert mask.building.wait(timeout=5)
    try:
        other = set(fresh.compact_tables())
    finally:
        mask.other_done.set()
        builder.join()
    assert "mask" in other
    assert seen == [other]
