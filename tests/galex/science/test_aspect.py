"""Aspect tables, legs, gnomonic projection and the per-photon aspect step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from apps.galex.science.aspect import (
    apply_aspect,
    apply_aspect_reference,
    build_aspect_solution,
    gnomonic_forward,
    gnomonic_forward_reference,
    gnomonic_reverse,
    gnomonic_reverse_reference,
    read_aspect,
    write_aspect_tables,
)
from apps.galex.science.errors import AspectError


def test_it_projects_like_gphoton_and_back():
    rng = np.random.default_rng(0)
    n = 20_000
    ra0, dec0, roll = rng.uniform(0, 360, n), rng.uniform(-85, 85, n), rng.uniform(-180, 180, n)
    ra = (ra0 + rng.normal(0, 0.4, n)) % 360
    dec = np.clip(dec0 + rng.normal(0, 0.4, n), -89.9, 89.9)
    xi, eta = gnomonic_forward(ra, dec, ra0, dec0, roll)
    np.testing.assert_allclose(
        np.column_stack([xi, eta]),
        np.column_stack(gnomonic_forward_reference(ra, dec, ra0, dec0, roll)),
        atol=1e-6,
    )
    back = gnomonic_reverse(xi, eta, ra0, dec0, roll)
    np.testing.assert_allclose(
        np.column_stack(back),
        np.column_stack(gnomonic_reverse_reference(xi, eta, ra0, dec0, roll)),
        atol=1e-10,
    )
    dra = (back[0] - ra + 180) % 360 - 180
    assert np.max(np.abs(dra * np.cos(np.radians(dec)))) * 3600 < 1e-6
    assert np.max(np.abs(back[1] - dec)) * 3600 < 1e-6


def test_it_maps_the_tangent_point_to_the_centre():
    ra, dec = gnomonic_reverse(np.zeros(1), np.zeros(1), 10.0, 20.0, 33.0)
    assert (ra[0], dec[0]) == pytest.approx((10.0, 20.0))


def make_solution(n=200, flags=None, gap_at=None):
    time = 1000.0 + np.arange(n, dtype=float)
    if gap_at is not None:
        time[gap_at:] += 5.0
    asp = pd.DataFrame({"eclipse": 1, "time": time, "ra": 150 + 0.001 * np.sin(time / 30), "dec": 2 + 0.001 * np.cos(time / 30),
                        "roll": 80.0 + 0.0001 * time, "flags": np.zeros(n, int) if flags is None else flags})  # fmt: skip
    bore = pd.DataFrame({"eclipse": [1], "time": [1000.0], "ra0": [150.0], "dec0": [2.0]})
    return build_aspect_solution(asp, bore, 1, {}, [])


def test_it_applies_aspect_like_the_reference():
    flags = np.zeros(200, int)
    flags[[50, 120]] = 1
    asp = make_solution(flags=flags, gap_at=150)
    rng = np.random.default_rng(1)
    n = 50_000
    t = np.sort(rng.uniform(995, 1210, n))
    xi, eta = rng.uniform(-20000, 20000, n), rng.uniform(-20000, 20000, n)
    pflags = rng.choice([0, 0, 0, 6], n).astype(np.uint8)
    fast = apply_aspect(t, xi, eta, pflags, asp)
    slow = apply_aspect_reference(t, xi, eta, pflags, asp)
    np.testing.assert_allclose(fast[0], slow[0], atol=1e-10, equal_nan=True)
    np.testing.assert_allclose(fast[1], slow[1], atol=1e-10, equal_nan=True)
    np.testing.assert_array_equal(fast[2], slow[2])
    assert set(np.unique(fast[2])) == {0, 7, 12}
    first_second = (t >= 1000) & (t < 1001)
    assert np.all(fast[2][first_second] == 7)
    near_bad = (t >= 1049) & (t < 1052) & (pflags == 0)
    assert np.all(fast[2][near_bad] == 12)


def test_it_puts_a_detector_centre_photon_at_the_pointing():
    asp = make_solution()
    t = np.array([1100.0])
    ra, dec, flags = apply_aspect(t, np.zeros(1), np.zeros(1), np.zeros(1, np.uint8), asp)
    # At an aspect record's own time the interpolation adds nothing: the centre maps to its pointing.
    assert (
        flags[0] == 0
        and ra[0] == pytest.approx(asp.ra[100], abs=1e-9)
        and dec[0] == pytest.approx(asp.dec[100], abs=1e-9)
    )


def write_tables(folder, eclipse=7, n=100, legs=((1000.0, 150.0, 2.0),)):
    time = 1000.0 + np.arange(n, dtype=float)
    return write_aspect_tables(folder, eclipse=eclipse, time=time, ra=np.full(n, 150.0), dec=np.full(n, 2.0),
                               roll=np.zeros(n), flags=np.zeros(n, int),
                               legs=[{"time": t, "duration": 50.0, "ra0": r, "dec0": d} for t, r, d in legs],
                               metadata={"plan_type": "MIS", "planned_legs": 2, "observed_legs": len(legs)})  # fmt: skip


def test_it_reads_written_tables_and_splits_legs(tmp_path):
    write_tables(tmp_path, legs=((1000.0, 150.0, 2.0), (1050.0, 150.0, 2.0)))
    asp = read_aspect(tmp_path, 7)
    assert [(lg.index, lg.t_start, lg.t_stop) for lg in asp.legs] == [
        (0, 1000.0, 1049.0),
        (1, 1050.0, 1099.0),
    ]
    assert asp.metadata["plan_type"] == "MIS"
    assert read_aspect(tmp_path / "aspect.parquet", 7).time.size == 100


def test_it_warns_when_observed_legs_differ_from_planned(tmp_path):
    write_tables(tmp_path)
    assert any(
        "observed legs (1) != planned legs (2)" in w for w in read_aspect(tmp_path, 7).warnings
    )


def test_it_names_an_eclipse_with_no_aspect_rows(tmp_path):
    write_tables(tmp_path)
    with pytest.raises(AspectError, match="no rows for eclipse 8"):
        read_aspect(tmp_path, 8)


def test_it_names_a_missing_table_and_a_missing_column(tmp_path):
    with pytest.raises(AspectError, match="does not exist"):
        read_aspect(tmp_path, 7)
    write_tables(tmp_path)
    table = pq.read_table(tmp_path / "aspect.parquet").drop(["roll"])
    pq.write_table(table, tmp_path / "aspect.parquet")
    with pytest.raises(AspectError, match="lacks column.*roll"):
        read_aspect(tmp_path, 7)


def test_it_names_a_file_that_is_not_parquet(tmp_path):
    write_tables(tmp_path)
    (tmp_path / "boresight.parquet").write_bytes(b"not parquet")
    with pytest.raises(AspectError, match="not a readable Parquet"):
        read_aspect(tmp_path, 7)


def test_it_refuses_aspect_rows_outside_every_leg(tmp_path):
    write_tables(tmp_path)
    pq.write_table(
        pa.table({"eclipse": [7], "time": [5000.0], "ra0": [1.0], "dec0": [1.0]}),
        tmp_path / "boresight.parquet",
    )
    with pytest.raises(AspectError, match="no aspect row falls inside any boresight leg"):
        read_aspect(tmp_path, 7)
