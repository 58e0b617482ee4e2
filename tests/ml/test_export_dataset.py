"""``export_dataset``: stored views + labels as TFRecord (AstroNet layout) and Parquet, split by star."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from apps.catalog.models import TCESource
from apps.jobs.services import artifact_store
from apps.lightcurves.products import views_key
from apps.ml.science.registry import sha256_file
from apps.ml.science.tfrecord import read_examples
from tests.factories import TargetFactory, TCEFactory

pytestmark = pytest.mark.django_db


def store_views(tce, preset: str, seed: int) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Views as the pipeline stores them (an npz artifact of the TCE and preset)."""
    rng = np.random.default_rng(seed)
    views = {"global_view": rng.normal(size=201), "local_view": rng.normal(size=61)}
    path = Path(tempfile.mkdtemp()) / f"views_{preset}.npz"
    np.savez_compressed(path, **views)
    artifact_store(key=views_key(tce.pk, preset), kind="views", source=path, target=tce.target)
    return views


@pytest.fixture
def dr24():
    """Six DR24 TCEs on five stars (one star with two), with yu2019 views; one more without views."""
    tces, views = [], {}
    targets = [TargetFactory(identifier=str(10874614 + index)) for index in range(5)]
    for index, code in enumerate(["PC", "AFP", "NTP", "PC", "AFP", "PC"]):
        tce = TCEFactory(target=targets[min(index, 4)], source=TCESource.KEPLER_DR24, disposition=code, period_days=1.5 + index)
        views[tce.pk] = store_views(tce, "yu2019", index)
        tces.append(tce)
    TCEFactory(source=TCESource.KEPLER_DR24, disposition="PC")  # no views: skipped
    TCEFactory(source=TCESource.KEPLER_DR24, disposition="UNK")  # no training label: left out
    return tces, views


def test_it_writes_the_same_bytes_twice_and_our_reader_reads_them_back(dr24, tmp_path):
    tces, views = dr24
    for out in ("a", "b"):
        call_command("export_dataset", "--out", str(tmp_path / out), "--catalog", "dr24", "--seed", "7")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert all((tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes() for n in names)

    manifest = json.loads((tmp_path / "a/manifest.json").read_text())
    assert manifest["examples"] == 6 and len(manifest["skipped"]) == 1
    assert manifest["label_source"].startswith("catalogue dr24") and manifest["views_preset"] == "yu2019"
    assert manifest["views_versions"] == {"1": 6} and manifest["split"]["seed"] == 7
    assert sum(part["examples"] for part in manifest["splits"].values()) == 6
    shards = [n for n in manifest["files"] if not n.endswith(".parquet")]
    assert shards and all(n.split("-")[0] in ("train", "val", "test") for n in shards)
    assert all(sha256_file(tmp_path / "a" / n) == entry["sha256"] for n, entry in manifest["files"].items())

    by_id = {tce.pk: tce for tce in tces}
    stars_of_split = {}
    for shard in shards:
        for example in read_examples([tmp_path / "a" / shard]):
            tce = by_id[int(example["gaia_tce_id"][0])]
            assert example["av_training_set"] == [tce.disposition.encode()]
            assert int(example["kepid"][0]) == int(tce.target.identifier)
            assert np.allclose(example["global_view"], views[tce.pk]["global_view"], atol=1e-6)
            assert example["local_view"].shape == (61,) and example["tce_period"][0] == pytest.approx(tce.period_days)
            stars_of_split.setdefault(int(example["kepid"][0]), set()).add(shard.split("-")[0])
    assert all(len(splits) == 1 for splits in stars_of_split.values())  # no star in two splits

    table = pq.read_table(tmp_path / "a/train.parquet")
    assert set(table.column_names) >= {"tce_id", "kepid", "av_training_set", "global_view", "local_view", "tce_period"}
    assert table.num_rows == manifest["splits"]["train"]["examples"]


def test_it_needs_exactly_one_label_source_and_some_views(dr24, tmp_path):
    with pytest.raises(CommandError):
        call_command("export_dataset", "--out", str(tmp_path), "--catalog", "dr24", "--labels", str(tmp_path))
    with pytest.raises(CommandError, match="no labelled TCE with stored views"):
        call_command("export_dataset", "--out", str(tmp_path), "--catalog", "dr24", "--preset", "astronet")
    with pytest.raises(CommandError, match="not a labels snapshot"):
        call_command("export_dataset", "--out", str(tmp_path / "x"), "--labels", str(tmp_path))


def test_it_exports_a_labels_snapshot_with_the_views_the_label_was_made_on(dr24, tmp_path):
    import pyarrow as pa

    tces, views = dr24
    store_views(tces[0], "yu2019", 99)  # version 2, newer than the one labelled
    snapshot = tmp_path / "labels"
    snapshot.mkdir()
    rows = [{"tce_id": tce.pk, "source": "people", "label": "EB", "views_preset": "yu2019", "views_version": 1}
            for tce in tces[:3]]
    pq.write_table(pa.Table.from_pylist(rows), snapshot / "labels.parquet")
    (snapshot / "manifest.json").write_text(json.dumps({"snapshot_id": "abc123"}))
    call_command("export_dataset", "--out", str(tmp_path / "out"), "--labels", str(snapshot))
    manifest = json.loads((tmp_path / "out/manifest.json").read_text())
    assert manifest["label_source"] == "labels snapshot abc123" and manifest["examples"] == 3
    assert manifest["views_versions"] == {"1": 3}
    examples = [e for n in manifest["files"] if not n.endswith(".parquet") for e in read_examples([tmp_path / "out" / n])]
    first = next(e for e in examples if int(e["gaia_tce_id"][0]) == tces[0].pk)
    assert first["av_training_set"] == [b"EB"] and np.allclose(first["global_view"], views[tces[0].pk]["global_view"], atol=1e-6)
