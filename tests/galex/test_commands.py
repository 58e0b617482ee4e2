"""The galex_simulate and galex_reduce management commands (no database)."""

from __future__ import annotations

from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def test_it_simulates_then_reduces_an_eclipse(tmp_path):
    out = StringIO()
    call_command(
        "galex_simulate",
        "--out",
        str(tmp_path / "sim"),
        "--events",
        "40000",
        "--seed",
        "4",
        stdout=out,
    )
    assert "raw6:" in out.getvalue() and "warning: walk correction NOT applied" in out.getvalue()
    raw6 = tmp_path / "sim" / "e23456-nd-raw6.fits.gz"
    truth = pd.read_csv(tmp_path / "sim" / "truth.csv")
    assert raw6.is_file() and {"source", "rate"} == set(truth.row_type)
    out = StringIO()
    call_command("galex_reduce", "--raw6", str(raw6), "--aspect", str(tmp_path / "sim" / "aspect"),
                 "--depth", "60", "--compression", "rice", "--burst", "--out", str(tmp_path / "red"), stdout=out)  # fmt: skip
    text = out.getvalue()
    for stage in ("[decode]", "[photon list]", "[image]", "[movie]", "[photometry]"):
        assert stage in text
    assert (tmp_path / "red" / "e23456-nd-ffull-b00-image-r.fits").is_file()
    assert (tmp_path / "red" / "e23456-nd-f0060-b00-t0000-r.fits").is_file()
    assert (tmp_path / "red" / "e23456-nd-f0060-b00-movie-photom-12_8.csv").is_file()
    assert "warning: stim-separation distortion correction NOT applied" in text


def test_it_turns_pipeline_errors_into_command_errors(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("galex_reduce", "--raw6", str(tmp_path / "missing.fits.gz"), "--aspect", str(tmp_path),
                     "--out", str(tmp_path / "out"))  # fmt: skip
