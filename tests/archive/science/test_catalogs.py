"""Normalisation of the catalogue exports (read independently with the csv module for checks)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apps.archive.science.catalogs import (
    BTJD_OFFSET,
    host_name,
    koi_aliases,
    normalize_dr24_tce,
    normalize_dr25_tce,
    normalize_koi,
    normalize_toi,
    read_robovetter,
    read_table,
)
from apps.archive.science.errors import TableFormatError


def csv_rows(path: Path) -> list[dict]:
    with open(path) as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


def test_it_reads_every_dr24_tce_past_the_comment_lines(demo_data: Path) -> None:
    path = next((demo_data / "catalogs").glob("q1_q17_dr24_tce*.csv"))
    raw = csv_rows(path)
    rows = normalize_dr24_tce(read_table(path))
    assert len(rows.tces) == len(raw) and rows.rejected == []
    assert Counter(rows.tces["disposition"]) == Counter(r["av_training_set"] for r in raw)
    first = rows.tces.iloc[0]
    assert (first.identifier, first.tce_number) == (
        int(raw[0]["kepid"]),
        int(raw[0]["tce_plnt_num"]),
    )
    assert (first.period_days, first.epoch, first.duration_hours) == pytest.approx(
        (float(raw[0]["tce_period"]), float(raw[0]["tce_time0bk"]), float(raw[0]["tce_duration"]))
    )
    assert first.extra["tce_period_err"] == pytest.approx(float(raw[0]["tce_period_err"]))


def test_it_gives_dr25_tces_the_robovetter_disposition(demo_data: Path) -> None:
    folder = demo_data / "catalogs"
    robovetter = read_robovetter(folder / "kplr_dr25_obs_robovetter_output.txt")
    rows = normalize_dr25_tce(
        read_table(next(folder.glob("q1_q17_dr25_tce*.csv"))), robovetter=robovetter
    )
    verdict = {}
    with open(folder / "kplr_dr25_obs_robovetter_output.txt") as handle:
        for line in handle:
            if not line.startswith("#"):
                tce, _score, disposition, *_ = line.split()
                kic, planet = tce.split("-")
                verdict[(int(kic), int(planet))] = disposition
    for row in rows.tces.itertuples():
        assert row.disposition == verdict[(row.identifier, row.tce_number)]
    assert not (rows.tces["snr"] <= 0).any()  # the fold table's -1 "missing" became NaN
    assert rows.targets["teff"].notna().all()


def test_it_rejects_rows_that_cannot_be_tces_and_says_why() -> None:
    frame = pd.DataFrame(
        {"kepid": [1, 2, 3, "x"], "tce_plnt_num": [1, 1, 1, 1], "tce_period": [1.0, -2.0, 3.0, 1.0],
         "tce_time0bk": [130.0, 131.0, np.nan, 131.0], "tce_duration": [2.0, 2.0, 2.0, 2.0]}
    )  # fmt: skip
    rows = normalize_dr24_tce(frame)
    assert rows.tces["identifier"].tolist() == [1]
    assert sorted(rows.rejected) == sorted(
        ["DR24: 1 row(s) rejected: identifier is not a positive number", "DR24: 1 row(s) rejected: period missing or not positive",
         "DR24: 1 row(s) rejected: epoch missing"]
    )  # fmt: skip


def test_it_says_which_columns_a_table_lacks() -> None:
    with pytest.raises(TableFormatError, match="tce_period"):
        normalize_dr24_tce(pd.DataFrame({"kepid": [1], "tce_plnt_num": [1]}))


def test_it_names_hosts_and_kois_from_the_koi_table(demo_data: Path) -> None:
    rows = normalize_koi(read_table(demo_data / "catalogs" / "q1_q17_dr25_koi.csv"))
    kepler90 = rows.targets.set_index("identifier").loc[11442793]
    assert kepler90["name"] == "Kepler-90" and kepler90["aliases"] == ["KOI-351", "K00351"]
    assert rows.tces is None  # the reduced export has no periods
    assert host_name("Kepler-1990 b") == "Kepler-1990" and host_name(float("nan")) == ""
    assert koi_aliases("K00001.01") == ["KOI-1", "K00001"]


def test_it_converts_toi_epochs_from_bjd_to_btjd() -> None:
    frame = pd.DataFrame(
        {"toi": [114.01, 114.02], "tid": [25155310, 25155310], "pl_orbper": [3.2888, 5.0],
         "pl_tranmid": [2458328.2233, 2458330.0], "pl_trandurh": [3.19, 2.0], "tfopwg_disp": ["KP", "PC"]}
    )  # fmt: skip
    rows = normalize_toi(frame)
    assert rows.tces["epoch"].tolist() == pytest.approx(
        [2458328.2233 - BTJD_OFFSET, 2458330.0 - BTJD_OFFSET]
    )
    assert rows.tces["tce_number"].tolist() == [1, 2]
    assert rows.targets["name"].tolist() == ["TOI-114"]
