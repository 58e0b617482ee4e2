"""Imaging: WCS, binning kernels, exposure time, FITS products and streamed movies."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from apps.galex.science.imaging import (
    ExposureAccumulator,
    ImageGeometry,
    MovieWriter,
    ProductMeta,
    bounding_geometry,
    exposure_reference,
    movie_edges,
    product_header,
    write_fits_product,
)
from apps.galex.science.imaging.binning import (
    artifact_bits,
    bin_flags_kernel,
    bin_flags_reference,
    bin_kernel,
    bin_reference,
)

GEOM = ImageGeometry(244.27, 55.27, 300, 240)


def test_it_projects_to_pixels_like_astropy():
    rng = np.random.default_rng(0)
    ra = 244.27 + rng.uniform(-0.2, 0.2, 5000)
    dec = 55.27 + rng.uniform(-0.2, 0.2, 5000)
    x, y = GEOM.world_to_pixel(ra, dec)
    ax, ay = GEOM.wcs().wcs_world2pix(ra, dec, 0)
    np.testing.assert_allclose(x, ax, atol=1e-8)
    np.testing.assert_allclose(y, ay, atol=1e-8)
    back = GEOM.pixel_to_world(x, y)
    np.testing.assert_allclose(back[0], ra, atol=1e-10)


def test_it_sizes_the_bounding_image_like_gphoton():
    geom = bounding_geometry(10.0, 11.0, 50.0, 50.5)
    assert (geom.ra0, geom.dec0) == (10.5, 50.25)
    assert geom.ny == int(np.ceil(0.5 / geom.pixel_deg))
    assert geom.nx == int(np.ceil(np.cos(np.radians(50.25)) / geom.pixel_deg))
    assert geom.crpix == (geom.nx / 2 + 0.5, geom.ny / 2 + 0.5)


@pytest.mark.parametrize("seed", [1, 2])
def test_it_bins_like_histogram2d(seed):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-3, 243, 20_000), rng.uniform(-3, 303, 20_000)
    x[:4] = [-0.5, 239.49, -0.51, 239.5]  # pixel edges
    w = rng.uniform(0.5, 2, 20_000)
    image = np.zeros((300, 240))
    bin_kernel(x, y, w, image)
    np.testing.assert_allclose(image, bin_reference(x, y, w, (300, 240)), atol=1e-9)
    bits = rng.choice([0, 1, 2, 4, 8, 12, 5], 20_000).astype(np.uint8)
    flags = np.zeros((300, 240), np.uint8)
    bin_flags_kernel(x, y, bits, flags)
    np.testing.assert_array_equal(flags, bin_flags_reference(x, y, bits, (300, 240)))


def test_it_sets_artifact_bits_like_gphoton():
    mask = np.array([True, False, False, False, True])
    flags = np.array([0, 120, 0, 0, 120], np.uint8)
    detrad = np.array([10.0, 10.0, 360.0, 380.0, 390.0])
    np.testing.assert_array_equal(artifact_bits(mask, flags, detrad), [1, 2, 4, 12, 15])


def planted_times(rng, rate=800.0, span=(0.0, 100.0), gaps=((30.0, 2.5), (70.0, 0.3))):
    t = np.sort(np.floor(rng.uniform(*span, int(rate * (span[1] - span[0]))) / 0.005) * 0.005)
    for start, length in gaps:
        t = t[(t < start) | (t >= start + length)]
    flags = rng.choice([0, 0, 0, 0, 12], len(t)).astype(np.uint8)
    return t, flags


def test_it_measures_exposure_like_the_gphoton_formula():
    rng = np.random.default_rng(3)
    t, flags = planted_times(rng)
    edges = movie_edges(0.0, 99.9, 10.0)
    acc = ExposureAccumulator(edges)
    for i in range(0, len(t), 7777):  # streamed in uneven chunks
        acc.add(t[i : i + 7777], flags[i : i + 7777])
    expt, raw, shutter = acc.result("NUV")
    for k in range(len(edges) - 1):
        ref = exposure_reference(t, flags, "NUV", edges[k], edges[k + 1])
        assert expt[k] == pytest.approx(ref[0], rel=1e-12)
        assert raw[k] == pytest.approx(ref[1], rel=1e-12)
    # The planted 2.5-s and 0.3-s detector gaps come back as shutter time.
    assert shutter[3] == pytest.approx(2.5, abs=0.02) and shutter[7] == pytest.approx(0.3, abs=0.02)
    gcr = np.sum((t >= 30) & (t < 40) & (flags == 0)) / raw[3]
    assert expt[3] == pytest.approx(raw[3] * (1 + -0.000434730599193 * gcr / 77.217817988))


def test_it_gives_zero_exposure_to_an_empty_frame():
    acc = ExposureAccumulator(np.array([0.0, 10.0]))
    expt, raw, shutter = acc.result("FUV")
    assert (expt[0], raw[0], shutter[0]) == (0.0, 0.0, 10.0)


def meta(n_frames=1):
    tranges = [(7e8 + 30 * k, 7e8 + 30 * (k + 1)) for k in range(n_frames)]
    return ProductMeta(23456, "NUV", 0, tranges, [29.0] * n_frames, 1234, GEOM)


@pytest.mark.parametrize("compression", ["gzip", "rice", "none"])
def test_it_writes_images_that_read_back_and_are_identical_twice(tmp_path, compression):
    rng = np.random.default_rng(4)
    count = rng.poisson(2.0, (GEOM.ny, GEOM.nx)).astype(np.float32)
    flag = rng.choice([0, 1, 4], (GEOM.ny, GEOM.nx)).astype(np.uint8)
    m = meta()
    planes = [(count, product_header(m, "COUNT")), (flag, product_header(m, "FLAG"))]
    a = write_fits_product(tmp_path / "a.fits", planes, compression)
    b = write_fits_product(tmp_path / "b.fits", planes, compression)
    assert a.read_bytes() == b.read_bytes()
    with fits.open(a) as hdul:
        assert (
            hdul["COUNT"].header["PHOTCNT"] == 1234 and hdul["COUNT"].header["CTYPE1"] == "RA---TAN"
        )
        np.testing.assert_array_equal(hdul["FLAG"].data, flag)
        # RICE quantises floats (qlevel 10); small integers survive within the quantum.
        np.testing.assert_allclose(
            hdul["COUNT"].data, count, atol=0.2 if compression == "rice" else 0
        )


@pytest.mark.parametrize("compression", ["gzip", "none", "rice"])
def test_it_streams_a_movie_frame_by_frame(tmp_path, compression):
    rng = np.random.default_rng(5)
    frames = [rng.poisson(1.0, (GEOM.ny, GEOM.nx)).astype(np.float32) for _ in range(3)]
    flags = [rng.choice([0, 8], (GEOM.ny, GEOM.nx)).astype(np.uint8) for _ in range(3)]
    coverage = np.full((GEOM.ny, GEOM.nx), 14, np.uint8)
    writer = MovieWriter(tmp_path / "movie.fits", meta(3), coverage, compression)
    for c, f in zip(frames, flags, strict=True):
        writer.add(c, f)
    path = writer.close()
    with fits.open(path) as hdul:
        assert [h.name for h in hdul[1:]] == ["COUNT", "FLAG", "COVERAGE"]
        assert hdul["COUNT"].header["N_FRAME"] == 3 and hdul["COUNT"].header["EXPT_2"] == 29.0
        np.testing.assert_allclose(
            hdul["COUNT"].data, np.stack(frames), atol=0.2 if compression == "rice" else 0
        )
        np.testing.assert_array_equal(hdul["FLAG"].data, np.stack(flags))
        np.testing.assert_array_equal(hdul["COVERAGE"].data, coverage)
    assert not list(tmp_path.glob(".*partial"))


def test_writing_a_plane_never_changes_it_meanwhile(tmp_path, monkeypatch):
    """astropy byteswaps little-endian data in place while writing it; the source detection reads
    the image on another thread while it is written, so the writer must hand astropy a copy."""
    from apps.galex.science.imaging import products

    count = np.random.default_rng(5).poisson(3.0, (GEOM.ny, GEOM.nx)).astype(np.float32)
    dose = np.linspace(0, 1, 64 * 64).reshape(64, 64)
    expected = {"count": count.copy(), "dose": dose.copy()}
    seen: list[bool] = []

    class WatchingGzip(products.GzipFile):
        def write(self, data):  # noqa: ANN001, ANN202
            seen.append(np.array_equal(count, expected["count"]) and np.array_equal(dose, expected["dose"]))
            return super().write(data)

    monkeypatch.setattr(products, "GzipFile", WatchingGzip)
    m = meta()
    write_fits_product(tmp_path / "w.fits.gz", [(count, product_header(m, "COUNT")),
                                                (dose, product_header(m, "DOSE"))], "gzip")  # fmt: skip
    assert seen and all(seen)
    with fits.open(tmp_path / "w.fits.gz") as hdul:
        np.testing.assert_array_equal(hdul["COUNT"].data, count)
        np.testing.assert_array_equal(hdul["DOSE"].data, dose)
