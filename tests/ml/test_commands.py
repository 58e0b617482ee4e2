"""The train_model and evaluate_model commands, run as a user would, with no database."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from apps.ml.science import tfrecord

KEYS = {"n", "average_precision", "accuracy", "roc_auc", "precision", "recall", "threshold"}


def _planted_records(path, n: int, seed: int) -> None:
    """Yu-2019-shaped Examples: PC/EB get a dip in both views, J does not."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        disposition = rng.choice(["PC", "EB", "J", "J", "J"])
        dip = disposition != "J"
        views = {}
        for name, length in (("global_view", 201), ("local_view", 61)):
            x = np.linspace(-1, 1, length)
            views[name] = rng.normal(0, 0.3, length) - dip * np.exp(-0.5 * (x / 0.08) ** 2)
        records.append(
            tfrecord.encode_example({**views, "Disposition": disposition, "tic_id": np.array([i])})
        )
    tfrecord.write_records(path, records)


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_it_trains_saves_and_evaluates_a_model_on_tfrecords(tmp_path) -> None:
    _planted_records(tmp_path / "train", 200, 0)
    _planted_records(tmp_path / "val", 100, 1)
    log = _run(
        "train_model",
        "--task",
        "triage",
        "--train",
        str(tmp_path / "train"),
        "--val",
        str(tmp_path / "val"),
        "--epochs",
        "2",
        "--out",
        str(tmp_path / "models"),
        "--name",
        "tiny",
    )
    assert "saved" in log and (tmp_path / "models/tiny.json").is_file()
    line = _run(
        "evaluate_model",
        "--model",
        str(tmp_path / "models/tiny.json"),
        "--tfrecords",
        str(tmp_path / "val"),
        "--task",
        "triage",
        "--threshold",
        "0.4",
    ).strip()
    metrics = json.loads(line)
    assert (
        "\n" not in line
        and set(metrics) >= KEYS
        and metrics["n"] == 100
        and metrics["threshold"] == 0.4
    )


def test_it_evaluates_the_shipped_triage_model_on_the_validation_shard(demo_data) -> None:
    line = _run(
        "evaluate_model",
        "--tfrecords",
        str(demo_data / "tess_yu2019/triage/val-00000-of-00001"),
        "--task",
        "triage",
    )
    metrics = json.loads(line)
    assert (
        metrics["n"] == 1657 and metrics["average_precision"] > 0.9 and metrics["threshold"] == 0.5
    )


def test_its_json_names_the_model_and_ensemble_size_and_takes_the_mission_default(tmp_path) -> None:
    rng = np.random.default_rng(4)
    for i in range(10):
        np.savez(tmp_path / f"tce{i:02d}.npz", global_view=rng.normal(size=201), local_view=rng.normal(size=61),
                 label=np.array(i % 2), star_id=np.array(i))
    plain = json.loads(_run("evaluate_model", "--views", str(tmp_path), "--task", "triage"))
    assert plain["model"] == "yu2019_triage" and plain["ensemble_size"] == 1
    with pytest.raises(CommandError, match="Period"):  # the TESS default reads scalars these views lack
        _run("evaluate_model", "--views", str(tmp_path), "--task", "triage", "--mission", "tess")


def test_it_evaluates_a_folder_of_npz_views(tmp_path) -> None:
    rng = np.random.default_rng(2)
    for i in range(20):
        np.savez(
            tmp_path / f"tce{i:02d}.npz",
            global_view=rng.normal(size=201),
            local_view=rng.normal(size=61),
            label=np.array(i % 2),
            star_id=np.array(i),
        )
    metrics = json.loads(_run("evaluate_model", "--views", str(tmp_path), "--task", "triage"))
    assert metrics["n"] == 20 and set(metrics) >= KEYS


def test_it_fails_clearly_on_a_corrupt_tfrecord(tmp_path) -> None:
    _planted_records(tmp_path / "val", 5, 1)
    blob = bytearray((tmp_path / "val").read_bytes())
    blob[100] ^= 0xFF
    (tmp_path / "val").write_bytes(bytes(blob))
    with pytest.raises(CommandError, match="CRC mismatch"):
        _run("evaluate_model", "--tfrecords", str(tmp_path / "val"), "--task", "triage")


def test_it_trains_on_a_view_folder_split_by_star(tmp_path) -> None:
    rng = np.random.default_rng(3)
    views = tmp_path / "views"
    views.mkdir()
    for i in range(120):
        label = i % 3 == 0
        x = np.linspace(-1, 1, 61)
        local = rng.normal(0, 0.3, 61) - label * np.exp(-0.5 * (x / 0.08) ** 2)
        np.savez(
            views / f"{i // 2:04d}-{i % 2}.npz",
            global_view=rng.normal(0, 0.3, 201),
            local_view=local,
            label=np.array("PC" if label else "NTP"),
            star_id=np.array(i // 2),
        )
    log = _run(
        "train_model",
        "--task",
        "triage",
        "--views",
        str(views),
        "--epochs",
        "2",
        "--out",
        str(tmp_path / "models"),
        "--name",
        "kepler",
    )
    assert "saved" in log
    recorded = json.loads((tmp_path / "models/kepler.json").read_text())["training"]["data"][
        "views"
    ]
    assert (
        recorded[0]["file"] == f"{views.name}/*.npz (120 files)"
        and len(recorded[0]["sha256"]) == 64
    )
    metrics = json.loads(
        _run(
            "evaluate_model",
            "--model",
            str(tmp_path / "models/kepler.json"),
            "--views",
            str(views),
            "--task",
            "triage",
        )
    )
    assert metrics["n"] == 120
    parts = [
        json.loads(
            _run(
                "evaluate_model",
                "--model",
                str(tmp_path / "models/kepler.json"),
                "--views",
                str(views),
                "--task",
                "triage",
                "--split",
                split,
            )
        )["n"]
        for split in ("train", "val", "test")
    ]
    assert sum(parts) == 120 and parts[0] > parts[1] > 0 and parts[2] > 0
    with pytest.raises(CommandError, match="--split needs --views"):
        _run("evaluate_model", "--tfrecords", str(views), "--task", "triage", "--split", "test")


def test_it_builds_training_views_that_the_model_commands_read(demo_data, tmp_path) -> None:
    log = _run(
        "build_training_views",
        "--out",
        str(tmp_path),
        "--injections",
        "6",
        "--preset",
        "yu2019",
        "--seed",
        "3",
        "--demo-data",
        str(demo_data),
    )
    assert (
        "wrote 6 injections" in log
        and "6 DR24 TCEs" in log  # Kepler-90 h (331.6 d) has views from its one transit now
        and "skipped DR24 TCE" not in log
    )
    assert len(list((tmp_path / "injections").glob("*.npz"))) == 6
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["preset"] == "yu2019" and 2306740 in manifest["held_out_stars"]
    metrics = json.loads(
        _run("evaluate_model", "--views", str(tmp_path / "dr24"), "--task", "triage")
    )
    assert metrics["n"] == 6


def test_it_refuses_to_build_views_without_demo_data_or_over_old_ones(demo_data, tmp_path) -> None:
    with pytest.raises(CommandError, match="does not exist"):
        _run("build_training_views", "--out", str(tmp_path), "--demo-data", str(tmp_path / "no"))
    (tmp_path / "injections").mkdir()
    np.savez(tmp_path / "injections/old.npz", label=np.array(1))
    with pytest.raises(CommandError, match="already holds 1 .npz"):
        _run("build_training_views", "--out", str(tmp_path), "--demo-data", str(demo_data))


def test_it_cross_validates_by_star_and_records_the_figures_in_a_manifest(tmp_path) -> None:
    _planted_records(tmp_path / "train", 150, 0)
    _planted_records(tmp_path / "val", 60, 1)
    data = ["--task", "triage", "--train", str(tmp_path / "train"), "--val", str(tmp_path / "val"), "--epochs", "6", "--lr", "0.003"]
    _run("train_model", *data, "--out", str(tmp_path / "models"), "--name", "tiny")
    manifest = tmp_path / "models/tiny.json"
    log = _run("train_model", *data, "--cv", "3", "--cv-into", str(manifest))
    rows = [json.loads(line) for line in log.splitlines() if line.startswith('{"fold"')]
    assert [row["fold"] for row in rows] == [0, 1, 2]
    assert sum(row["n_test"] for row in rows) == 210  # train + validation pooled, each TCE held out once
    recorded = json.loads(manifest.read_text())["metrics"]
    assert "validation" in recorded  # kept beside the new figures
    cv = recorded["cross_validation"]
    assert cv["k"] == 3 and len(cv["folds"]) == 3 and set(cv["data"]) == {"train", "validation"}
    ap = cv["summary"]["average_precision"]
    assert ap["mean"] == pytest.approx(np.mean([row["average_precision"] for row in rows]))
    assert ap["mean"] > 0.6  # planted dips: well above the ~0.4 positive rate of chance
