"""``threads``: the same products, byte for byte, whatever the number of threads."""

from __future__ import annotations

import hashlib

import pytest

from apps.galex.science.errors import GalexError
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
