"""The loop back to training: labels snapshot -> train_model --labels -> rescoring reorders "uncertain"."""

from __future__ import annotations

from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.jobs.services import artifact_store
from apps.lightcurves.products import views_key
from apps.ml.models import ModelVersion
from apps.ml.selectors import default_version
from apps.ml.services import tces_score
from apps.vetting.selectors import queue_walk
from apps.vetting.services import label_add, labels_export, queue_rows_sync
from tests.factories import TargetFactory, TCEFactory
from tests.vetting.conftest import model_version, scored

pytestmark = pytest.mark.django_db


def _store_views(tce, depth: float, seed: int, folder) -> None:  # noqa: ANN001
    """yu2019-shaped views (global 201, local 61 bins) with a dip of ``depth`` at the centre."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, length in (("global_view", 201), ("local_view", 61)):
        x = np.linspace(-1, 1, length)
        arrays[name] = (rng.normal(0, 0.05, length) - depth * np.exp(-0.5 * (x / 0.1) ** 2)).astype(np.float32)
    path = folder / f"views-{tce.pk}.npz"
    np.savez(path, **arrays)
    artifact_store(key=views_key(tce.pk, "yu2019"), kind="views", source=path, target=tce.target)


def test_a_model_trained_on_the_snapshot_names_it_and_reorders_the_uncertain_queue(
    vetter, vetters, tmp_path, client
):
    # Ten labelled TCEs on ten stars (planets dip, junk does not), all agreed by two people.
    for i in range(10):
        tce = TCEFactory(target=TargetFactory(identifier=str(2000000 + i)))
        planet = i % 2 == 0
        _store_views(tce, 1.0 if planet else 0.0, seed=i, folder=tmp_path)
        for person in (vetter, vetters[0]):
            label_add(tce=tce, user=person, label="PC" if planet else "J")
    # Four unlabelled TCEs scored by the old default model.
    old = model_version("old_default")
    waiting = [TCEFactory(target=TargetFactory(identifier=str(3000000 + i))) for i in range(4)]
    for i, (tce, p) in enumerate(zip(waiting, [0.5, 0.6, 0.75, 0.99], strict=True)):
        _store_views(tce, [0.1, 0.4, 0.7, 1.0][i], seed=100 + i, folder=tmp_path)
        scored(tce, old, p)
    queue_rows_sync()
    old_order = queue_walk(queue="uncertain", user=vetters[1], now=timezone.now())
    assert old_order == [t.pk for t in waiting]

    snapshot = labels_export(out_dir=tmp_path / "labels")["snapshot_id"]
    out = StringIO()
    call_command("train_model", "--labels", str(tmp_path / "labels"), "--epochs", "1", "--threads", "1",
                 "--no-reversal-choice", "--make-default", "--out", str(tmp_path / "models"), stdout=out)
    assert f"labels snapshot {snapshot}" in out.getvalue()

    new = default_version("triage")
    assert new != old and new.name == f"yu2019_triage_labels_{snapshot[:12]}"
    assert new.manifest["training"]["labels_snapshot"] == snapshot
    data = new.manifest["training"]["data"]
    assert snapshot in data["labels"][0]["file"] and data["views"][0]["file"].startswith("10 yu2019 views")
    assert new.manifest["training"]["n_train"] + new.manifest["training"]["n_validation"] == 10
    assert snapshot in client.get(f"/models/{new.pk}/").content.decode()

    report = tces_score(tces=waiting, version=new)
    assert report["scored"] == 4, report
    probabilities = {p.tce_id: p.probability for p in new.predictions.all()}
    expected = sorted(probabilities, key=lambda pk: (abs(probabilities[pk] - 0.5), pk))
    queue_rows_sync()
    new_order = queue_walk(queue="uncertain", user=vetters[1], now=timezone.now())
    assert new_order == expected and new_order != old_order
    assert ModelVersion.objects.count() == 2


def test_train_model_refuses_a_folder_that_is_not_a_snapshot(tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="not a labels snapshot"):
        call_command("train_model", "--labels", str(tmp_path), "--epochs", "1", stdout=StringIO())
