from __future__ import annotations

import numpy as np
import pytest

from apps.archive.science.quality import PIPELINE_BITMASK
from apps.lightcurves.science.cleaning import (
    clean,
    default_bitmask,
    normalise,
    segment_bounds,
    split,
    stitch,
)
from apps.lightcurves.science.errors import InsufficientData, InvalidInput
from apps.lightcurves.science.io import LightCurve


def curve(time, flux, quality=None, mission="Kepler", target=1):
    n = len(time)
    ones = np.ones(n)
    q = np.zeros(n, dtype=np.int64) if quality is None else np.asarray(quality)
    return LightCurve(
        np.asarray(time, float),
        np.asarray(flux, float),
        ones,
        ones,
        ones,
        ones,
        ones,
        q,
        mission=mission,
        target_id=target,
    )


@pytest.mark.parametrize("mission", ["Kepler", "K2", "TESS"])
def test_it_cleans_with_the_archives_one_bitmask_table(mission):
    assert default_bitmask(mission) == PIPELINE_BITMASK[mission.lower()]


def test_it_drops_nans_and_flagged_cadences_but_keeps_harmless_flags():
    lc = curve([0, 1, 2, 3, 4], [1, np.nan, 1, 1, 1], quality=[0, 0, 1, 2048, 0])
    assert clean(lc).time.tolist() == [
        0,
        3,
        4,
    ]  # bit 1 (attitude tweak) is in the mask, 2048 is not
    assert clean(lc, quality=False).time.tolist() == [0, 2, 3, 4]


def test_it_raises_a_typed_error_when_all_flux_is_nan():
    with pytest.raises(InsufficientData, match="no cadence"):
        clean(curve([0, 1], [np.nan, np.nan]))


def test_it_splits_at_gaps_longer_than_three_quarters_of_a_day_and_at_file_changes():
    t = np.array([0.0, 0.5, 1.25, 2.1, 2.2, 2.3])
    assert segment_bounds(t).tolist() == [0, 3, 6]  # 0.75 exactly does not split, 0.85 does
    assert segment_bounds(t, np.array([0, 0, 0, 0, 1, 1])).tolist() == [0, 3, 4, 6]
    times, values = split(t, t * 2)
    assert [len(x) for x in times] == [3, 3] and values[1][0] == pytest.approx(4.2)


def test_it_normalises_each_segment_to_median_one():
    out = normalise(np.array([2.0, 4.0, 6.0, 10.0, 30.0]), np.array([0, 3, 5]))
    np.testing.assert_allclose(out, [0.5, 1.0, 1.5, 0.5, 1.5])


def test_it_stitches_in_time_order_and_remembers_each_file():
    late, early = curve([10, 11], [1, 1]), curve([0, 1, 2], [2, 2, 2])
    out = stitch([late, early])
    assert (
        out.time.tolist() == [0, 1, 2, 10, 11]
        and out.part.tolist() == [0, 0, 0, 1, 1]
        and out.segment == -1
    )


def test_it_refuses_to_stitch_two_targets():
    with pytest.raises(InvalidInput, match="different targets"):
        stitch([curve([0], [1], target=1), curve([1], [1], target=2)])
