"""Light-curve products: stored under their one key, found again newest first, loaded whole."""

from __future__ import annotations

import numpy as np
import pytest

from apps.jobs.models import Artifact
from apps.lightcurves import products
from apps.lightcurves.science.pipeline import TceViews
from tests.factories import TCEFactory

pytestmark = pytest.mark.django_db


def test_views_are_stored_under_their_key_and_read_back_newest_first():
    tce = TCEFactory()
    diagnostics = {"depth": np.float64(1e-3), "snr": np.nan}
    result = TceViews(views={"global_view": np.arange(5.0), "local_view": np.ones(3)}, diagnostics=diagnostics)
    first = products.views_store(tce=tce, preset="gaia", result=result, job=None, provenance={})
    changed = TceViews(views={**result.views, "local_view": np.zeros(3)}, diagnostics=diagnostics)
    second = products.views_store(tce=tce, preset="gaia", result=changed, job=None, provenance={})
    assert first.key == f"tce/{tce.pk}/views/gaia" and second.version == first.version + 1
    assert second.meta == {"preset": "gaia", "diagnostics": {"depth": 1e-3, "snr": None}, "tce_id": tce.pk}
    assert products.views_artifact(tce_id=tce.pk, preset="gaia") == second
    assert products.views_artifact(tce_id=tce.pk, preset="gaia", version=first.version) == first
    assert products.views_artifact(tce_id=tce.pk, preset="yu2019") is None
    arrays = products.views_load(first)
    assert sorted(arrays) == ["global_view", "local_view"]
    np.testing.assert_array_equal(arrays["local_view"], np.ones(3))
    assert products.views_presets_stored(tce_id=tce.pk, presets=["gaia", "yu2019"]) == {"gaia"}


def test_a_flattened_series_round_trips_with_its_meta():
    tce = TCEFactory()
    columns = {"time": np.arange(4.0), "flux": np.ones(4)}
    artifact = products.flattened_store(target=tce.target, preset="gaia", columns=columns,
                                        meta={"n_points": 4}, job=None, provenance={"inputs": {}})
    assert artifact.key == f"target/{tce.target_id}/flattened/gaia"
    assert artifact.meta == {"preset": "gaia", "n_points": 4}
    assert products.flattened_artifact(target_id=tce.target_id, preset="gaia") == artifact
    loaded = products.flattened_load(artifact)
    np.testing.assert_array_equal(loaded["time"], columns["time"])
    assert Artifact.objects.filter(kind="flattened").count() == 1
