"""Labels, TFRecord assembly, the .npz view folder and the split by star."""

from __future__ import annotations

import numpy as np
import pytest

from apps.ml.science import tfrecord
from apps.ml.science.datasets import (
    label_dispositions,
    load_tfrecord_views,
    load_view_dir,
    split_by_star,
    yu2019_files,
)
from apps.ml.science.errors import DatasetError


def test_it_labels_pc_and_eb_as_triage_positives_and_only_pc_for_vetting() -> None:
    dispositions = ["PC", "EB", "J", "V", "IS", "O"]
    assert label_dispositions(dispositions, "triage").tolist() == [1, 1, 0, 0, 0, 0]
    assert label_dispositions(dispositions, "vetting").tolist() == [1, 0, 0, 0, 0, 0]


def test_it_refuses_an_unknown_disposition() -> None:
    with pytest.raises(DatasetError, match="KP"):
        label_dispositions(["PC", "KP"], "triage")


def test_it_reads_the_real_vetting_shard_with_its_secondary_view_and_scalar(demo_data) -> None:
    data = load_tfrecord_views(
        yu2019_files(demo_data, "vetting", "val"),
        task="vetting",
        view_names=("global_view", "local_view", "secondary_view"),
        scalar_names=("depth_change",),
    )
    assert len(data) == 1648
    assert data.views["secondary_view"].shape == (1648, 61) and data.scalars.shape == (1648, 1)
    assert data.labels.sum() == np.sum(data.dispositions == "PC") > 0


def test_it_finds_the_eight_training_shards(demo_data) -> None:
    assert [p.name for p in yu2019_files(demo_data, "triage", "train")][
        -1
    ] == "train-00007-of-00008"


def test_it_names_the_missing_feature(tmp_path) -> None:
    path = tmp_path / "x.tfrecord"
    tfrecord.write_records(
        path, [tfrecord.encode_example({"global_view": np.zeros(3), "Disposition": "PC"})]
    )
    with pytest.raises(DatasetError, match="local_view"):
        load_tfrecord_views([path], task="triage", view_names=("global_view", "local_view"))


def _write_npz(folder, name, *, label, star, local_length=61) -> None:
    np.savez(
        folder / f"{name}.npz",
        global_view=np.zeros(201),
        local_view=np.ones(local_length),
        label=np.array(label),
        star_id=np.array(star),
        tce_id=np.array(name),
    )


def test_it_loads_a_view_folder_in_file_name_order(tmp_path) -> None:
    _write_npz(tmp_path, "b", label="PC", star=7)
    _write_npz(tmp_path, "a", label=0, star=8)
    data = load_view_dir(tmp_path)
    assert data.tce_ids.tolist() == ["a", "b"] and data.labels.tolist() == [0, 1]
    assert data.star_ids.tolist() == [8, 7] and data.views["local_view"].shape == (2, 61)


def test_it_refuses_a_view_folder_with_mixed_lengths(tmp_path) -> None:
    _write_npz(tmp_path, "a", label=1, star=1)
    _write_npz(tmp_path, "b", label=1, star=2, local_length=60)
    with pytest.raises(DatasetError, match="mixed lengths"):
        load_view_dir(tmp_path)


def test_it_never_puts_one_star_in_two_splits() -> None:
    stars = np.random.default_rng(0).integers(0, 300, 2000)
    parts = split_by_star(stars, seed=1)
    sets = [set(stars[p].tolist()) for p in parts]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert sum(len(p) for p in parts) == 2000
    assert 0.7 < len(parts[0]) / 2000 < 0.9
