"""The ingest's default quality mask is lightkurve's "default" bitmask, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from apps.archive.science.quality import (
    DEFAULT_BITMASK,
    KEPLER_DEFAULT_BITMASK,
    TESS_DEFAULT_BITMASK,
    good_quality,
    pipeline_bitmask,
)


@pytest.fixture(scope="module")
def lightkurve_utils():  # noqa: ANN201
    return pytest.importorskip("lightkurve.utils")


def random_flags(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # a few bits set per cadence, over every bit either mission defines, plus clean cadences
    flags = np.zeros(5000, dtype=np.int64)
    for _ in range(3):
        flags |= np.where(rng.random(5000) < 0.3, 1 << rng.integers(0, 21, 5000), 0)
    return flags.astype(np.int32)


def test_it_masks_kepler_cadences_exactly_as_lightkurve_default(lightkurve_utils) -> None:  # noqa: ANN001
    flags = random_flags(1)
    expected = lightkurve_utils.KeplerQualityFlags.create_quality_mask(flags, bitmask="default")
    np.testing.assert_array_equal(good_quality(flags, KEPLER_DEFAULT_BITMASK), expected)


def test_it_masks_tess_cadences_exactly_as_lightkurve_default(lightkurve_utils) -> None:  # noqa: ANN001
    flags = random_flags(2)
    expected = lightkurve_utils.TessQualityFlags.create_quality_mask(flags, bitmask="default")
    np.testing.assert_array_equal(good_quality(flags, TESS_DEFAULT_BITMASK), expected)


def test_it_uses_the_same_bitmask_values_as_lightkurve(lightkurve_utils) -> None:  # noqa: ANN001
    assert KEPLER_DEFAULT_BITMASK == lightkurve_utils.KeplerQualityFlags.DEFAULT_BITMASK
    assert TESS_DEFAULT_BITMASK == lightkurve_utils.TessQualityFlags.DEFAULT_BITMASK


def test_it_keeps_clean_cadences_and_drops_flagged_ones() -> None:
    flags = np.array([0, 1, 8192, 1 | 8192, 1048576], dtype=np.int32)
    assert good_quality(flags, KEPLER_DEFAULT_BITMASK).tolist() == [True, False, True, False, False]


def test_it_gives_k2_keplers_default_as_lightkurves_k2_reader_does(lightkurve_utils) -> None:  # noqa: ANN001
    # lightkurve reads K2 light curves with KeplerQualityFlags: no K2 default of its own
    assert DEFAULT_BITMASK["k2"] == lightkurve_utils.KeplerQualityFlags.DEFAULT_BITMASK


@pytest.mark.parametrize(
    "mission, expected",
    [("Kepler", 1130799), ("K2", 1130799 | 2**19), ("TESS", 17087), ("tess", 17087), ("?", 1130799)],
)
def test_it_cleans_k2_also_of_possible_thruster_firings(mission: str, expected: int) -> None:
    assert pipeline_bitmask(mission) == expected
