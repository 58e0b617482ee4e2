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
    # burst frames are named by their start minus the photon list's first time, as gPhoton 2 does
    # (the first on-image event comes 1.005 s after the first event of the photon list here)
    assert (tmp_path / "red" / "e23456-nd-f0060-b00-t0001005-r.fits").is_file()
    assert (tmp_path / "red" / "e23456-nd-f0060-b00-movie-photom-12_8.csv").is_file()
    assert "warning: stim-separation distortion correction NOT applied" in text


def test_it_turns_pipeline_errors_into_command_errors(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("galex_reduce", "--raw6", str(tmp_path / "missing.fits.gz"), "--aspect", str(tmp_path),
                     "--out", str(tmp_path / "out"))  # fmt: skip


def test_it_reduces_with_gphoton_options_and_coregisters_the_bands(tmp_path):
    for band in ("NUV", "FUV"):
        call_command("galex_simulate", "--out", str(tmp_path / band), "--band", band, "--events", "25000",
                     "--seed", "5", stdout=StringIO())  # fmt: skip
    truth = pd.read_csv(tmp_path / "NUV" / "truth.csv")
    stars = truth[truth.row_type == "source"].head(3)
    pd.DataFrame({"id": [f"T{i}" for i in range(3)], "ra": stars.ra, "dec": stars.dec}).to_csv(
        tmp_path / "targets.csv", index=False
    )
    out = tmp_path / "red"
    call_command("galex_reduce", "--raw6", str(tmp_path / "NUV" / "e23456-nd-raw6.fits.gz"), "--aspect",
                 str(tmp_path / "NUV" / "aspect"), "--depth", "25", "--aperture-sizes", "6,12.8", "--threads", "2",
                 "--positions", str(tmp_path / "targets.csv"), "--out", str(out), stdout=StringIO())  # fmt: skip
    nuv = pd.read_csv(out / "e23456-nd-f0025-b00-movie-photom-12_8.csv")
    assert (out / "e23456-nd-f0025-b00-movie-photom-6.csv").is_file()
    assert list(nuv.loc[nuv.forced, "source_id"]) == ["T0", "T1", "T2"]
    text = StringIO()
    call_command("galex_reduce", "--raw6", str(tmp_path / "FUV" / "e23456-fd-raw6.fits.gz"), "--aspect",
                 str(tmp_path / "FUV" / "aspect"), "--band", "FUV", "--depth", "25", "--coregister",
                 "--out", str(out), stdout=text)  # fmt: skip
    fuv = pd.read_csv(out / "e23456-fd-f0025-b00-movie-photom-12_8.csv")
    frames = sum(c.startswith("t0_") for c in fuv.columns)
    common = min(frames, sum(c.startswith("t0_") for c in nuv.columns))
    assert common >= 3 and "warning: --coregister" not in text.getvalue()
    for i in range(common):  # the same frames in both bands
        assert fuv[f"t0_{i}"].iloc[0] == nuv[f"t0_{i}"].iloc[0] and fuv[f"t1_{i}"].iloc[0] == nuv[f"t1_{i}"].iloc[0]
    # images only, then the photometry again on them with other apertures
    call_command("galex_reduce", "--raw6", str(tmp_path / "NUV" / "e23456-nd-raw6.fits.gz"), "--aspect",
                 str(tmp_path / "NUV" / "aspect"), "--depth", "none", "--out", str(tmp_path / "img"), stdout=StringIO())  # fmt: skip
    assert not list((tmp_path / "img").glob("*movie*")) and (tmp_path / "img" / "e23456-nd-ffull-b00-image-photom-12_8.csv").is_file()
    call_command("galex_reduce", "--photometry-only", "--depth", "none", "--aperture-sizes", "25",
                 "--pixel-convention", "gphoton2", "--out", str(tmp_path / "img"), stdout=StringIO())  # fmt: skip
    assert (tmp_path / "img" / "e23456-nd-ffull-b00-image-photom-25.csv").is_file()
    with pytest.raises(CommandError, match="depth must be"):
        call_command("galex_reduce", "--photometry-only", "--depth", "-3", "--out", str(tmp_path / "img"))
    with pytest.raises(CommandError, match="--raw6 and --aspect"):
        call_command("galex_reduce", "--out", str(tmp_path / "img"))
