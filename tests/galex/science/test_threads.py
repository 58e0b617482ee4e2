"""``threads``: the same products, byte for byte, whatever the number of threads."""

from __future__ import annotations

import hashlib

import pytest

from apps.galex.science.errors import GalexError
from apps.galex.science.photonlist import make
from apps.galex.science.pipeline import reduce_eclipse


def _digests(result) -> dict[str, str]:  # noqa: ANN001
    out = {}
    for paths in result.product_paths().values():
        for path in paths:
            out[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def test_two_threads_write_the_same_products_as_one(small_eclipse, cal_dir, tmp_path):
    runs = {}
    for threads in (1, 2):
        result = reduce_eclipse(small_eclipse.raw6_path, small_eclipse.aspect_dir, tmp_path / f"t{threads}",
                                band="NUV", depth=25, compression="gzip", cal_dir=cal_dir,
                                aperture_sizes=(6, 12.8), threads=threads)  # fmt: skip
        runs[threads] = _digests(result)
    assert runs[1] == runs[2] and len(runs[1]) >= 8
    with pytest.raises(GalexError, match="threads"):
        reduce_eclipse(small_eclipse.raw6_path, small_eclipse.aspect_dir, tmp_path / "t0", band="NUV",
                       cal_dir=cal_dir, threads=0)  # fmt: skip


def test_photon_lists_match_when_chunks_are_calibrated_one_ahead(small_eclipse, cal_dir, tmp_path, monkeypatch):
    """Several chunks of several cache slices each: with threads the next chunk's slices are
    calibrated while this one is folded in and written; the files must not change."""
    monkeypatch.setattr(make, "CACHE_ROWS", 16_384)
    digests = {}
    for threads in (1, 2):
        result = make.make_photonlists(small_eclipse.raw6_path, small_eclipse.aspect_dir, tmp_path / f"t{threads}",
                                       band="NUV", cal_dir=cal_dir, chunk_size=40_000, threads=threads)  # fmt: skip
        digests[threads] = [hashlib.sha256(path.read_bytes()).hexdigest() for path in result.paths]
        assert result.n_kept > 100_000
    assert digests[1] == digests[2]


def test_one_ahead_hands_out_every_item_in_order():
    asked = []

    def items():
        for k in range(4):
            asked.append(k)
            yield k

    seen = []
    for item in make._one_ahead(items(), ahead=True):
        seen.append((item, len(asked)))
    assert seen == [(0, 2), (1, 3), (2, 4), (3, 4)]
    assert list(make._one_ahead(iter([]), ahead=True)) == []
    assert list(make._one_ahead(iter("ab"), ahead=False)) == ["a", "b"]
