"""Photon-list stage internals: leg statistics, the event spill, the Parquet layout."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from apps.galex.science import photonlist as pl
from apps.galex.science.constants import ON_DETECTOR_RADIUS
from apps.galex.science.photonlist import decode, legs, make


def random_events(rng, n):
    t = np.sort(rng.uniform(7e8, 7e8 + 100, n))
    ra = rng.uniform(-5, 5, n) % 360.0  # straddles RA 0/360
    ra[rng.random(n) < 0.2] = np.nan
    dec = rng.uniform(-1, 1, n)
    flags = rng.choice(np.array([0, 6, 7, 12, 120], np.uint8), n)
    detrad = rng.uniform(0, 600, n).astype(np.float32)
    return t, ra, dec, flags, detrad


@pytest.mark.parametrize("n", [0, 1, 5000])
def test_it_gathers_leg_statistics_like_the_reference(n):
    args = random_events(np.random.default_rng(n), n)
    fast = legs._leg_stats_kernel(*args, ON_DETECTOR_RADIUS)
    slow = legs.leg_stats_reference(*args, ON_DETECTOR_RADIUS)
    np.testing.assert_array_equal(fast[0], slow[0])
    assert fast[1] == slow[1]
    np.testing.assert_array_equal(fast[2], slow[2])


def test_it_gathers_nothing_when_no_event_is_on_the_image():
    t, ra, dec, flags, detrad = random_events(np.random.default_rng(3), 100)
    counts, n_on, bounds = legs._leg_stats_kernel(t, np.full(100, np.nan), dec, flags, detrad, 400.0)
    assert n_on == 0 and counts.sum() == 100
    assert np.all(bounds[0::2] == np.inf) and np.all(bounds[1::2] == -np.inf)


def test_it_recovers_planted_leg_bounds_across_chunks():
    """Events planted at known times and positions come back as the leg's bounds."""
    stats = pl.LegStats(0, None)
    ra = np.array([359.5, 0.25, 0.5, 359.9])
    dec = np.array([-0.5, 0.75, 0.0, 0.1])
    t = np.array([10.0, 11.0, 12.0, 13.0])
    detrad = np.array([10.0, 20.0, 30.0, 450.0], np.float32)  # last one off the image
    flags = np.zeros(4, np.uint8)
    stats.update(t[:2], ra[:2], dec[:2], flags[:2], detrad[:2])
    stats.update(t[2:], ra[2:], dec[2:], flags[2:], detrad[2:])
    assert (stats.n_events, stats.n_on_image, stats.n_flag) == (4, 3, {0: 4})
    assert (stats.t_min, stats.t_max) == (10.0, 12.0)
    assert stats.sky_bounds() == (-0.5, 0.5, -0.5, 0.75)  # RA unwrapped around 0


@pytest.mark.parametrize(("dtype", "memory_bytes"),
                         [(np.uint8, 0), (np.int16, 0), (np.uint8, 10_000), (np.uint8, 1 << 20)])  # fmt: skip
def test_it_reads_back_every_spilled_chunk_unchanged(tmp_path, dtype, memory_bytes):
    """All on disk, part in memory and part on disk, all in memory."""
    rng = np.random.default_rng(4)
    chunks = [(rng.uniform(0, 1e9, n), rng.integers(0, 256, (5, n)).astype(dtype))
              for n in (1000, 1, 0, 777)]  # fmt: skip
    with decode.Spill(tmp_path, memory_bytes) as spill:
        for t, phb in chunks:
            spill.write(t, phb)
        back = list(spill.chunks())
    assert not list(tmp_path.iterdir())  # the temporary file never had a name
    for (t, phb), (t2, phb2) in zip(chunks, back, strict=True):
        np.testing.assert_array_equal(t, t2)
        np.testing.assert_array_equal(phb, phb2)
        assert phb2.dtype == dtype


@pytest.fixture(scope="module")
def two_chunkings(small_eclipse, cal_dir, tmp_path_factory):
    """Small chunks parked on disk, and the default chunks parked in memory."""
    out = tmp_path_factory.mktemp("chunkings")
    args = (small_eclipse.raw6_path, small_eclipse.aspect_dir)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(make, "SPILL_MEMORY_BYTES", 200_000)  # 2 chunks of 91 kB, then the file
        small = pl.make_photonlists(*args, out / "small", band="NUV", cal_dir=cal_dir,
                                    chunk_size=7_000)  # fmt: skip
    large = pl.make_photonlists(*args, out / "large", band="NUV", cal_dir=cal_dir)
    return small, large


def test_it_writes_the_same_photons_whatever_the_chunk_size_and_spill(two_chunkings):
    small, large = two_chunkings
    a, b = pq.read_table(small.paths[0]), pq.read_table(large.paths[0])
    assert a.schema == b.schema and a.num_rows == small.n_kept == large.n_kept
    for name in a.schema.names:  # ra/dec hold NaN, which Table.equals calls unequal
        np.testing.assert_array_equal(a[name].to_numpy(), b[name].to_numpy())
    assert pq.ParquetFile(small.paths[0]).metadata.row_group(0).num_rows <= 7_000


def test_it_writes_required_columns_compressed_only_where_it_pays(two_chunkings):
    _, large = two_chunkings
    meta = pq.ParquetFile(large.paths[0]).metadata
    assert all(not field.nullable for field in pq.read_schema(large.paths[0]))
    codecs = {meta.row_group(0).column(i).path_in_schema: meta.row_group(0).column(i).compression
              for i in range(meta.num_columns)}  # fmt: skip
    assert codecs["t"] == codecs["flags"] == codecs["mask"] == "SNAPPY"
    assert codecs["ra"] == codecs["response"] == "UNCOMPRESSED"
