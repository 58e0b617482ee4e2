"""The tce_views and search_transits commands, run through call_command with no database."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.lightcurves.science.views import VIEW_NAMES

KEPLER6 = "kepler/kplr010874614-2009131105131_llc.fits"


def test_it_writes_every_view_and_the_diagnostics_to_an_npz(demo_data, tmp_path):
    out = tmp_path / "views.npz"
    call_command(
        "tce_views",
        "--fits",
        str(demo_data / KEPLER6),
        "--period",
        "3.2347",
        "--epoch",
        "134.425",
        "--duration-hours",
        "3.584",
        "--out",
        str(out),
    )
    with np.load(out) as data:
        assert all(name in data for name in VIEW_NAMES)
        assert data["global_view"].shape == (2001,) and data["local_view"].shape == (201,)
        assert (
            int(data["n_transits"]) == 3 and float(data["snr"]) > 100 and not bool(data["eb_flag"])
        )
        assert str(data["preset"]) == "gaia"


def test_it_uses_the_requested_preset(demo_data, tmp_path):
    out = tmp_path / "yu.npz"
    call_command(
        "tce_views",
        "--fits",
        str(demo_data / KEPLER6),
        "--period",
        "3.2347",
        "--epoch",
        "134.425",
        "--duration-hours",
        "3.584",
        "--preset",
        "yu2019",
        "--out",
        str(out),
    )
    with np.load(out) as data:
        assert data["global_view"].shape == (201,) and data["secondary_view"].shape == (61,)


def test_it_turns_a_bad_ephemeris_into_a_command_error(demo_data, tmp_path):
    with pytest.raises(CommandError, match="no transit of this TCE falls in the data"):
        call_command(
            "tce_views",
            "--fits",
            str(demo_data / KEPLER6),
            "--period",
            "40",
            "--epoch",
            "134.4",
            "--duration-hours",
            "3",
            "--out",
            str(tmp_path / "x.npz"),
        )


def test_it_lists_found_signals_as_json(demo_data, tmp_path):
    out = tmp_path / "result.json"
    call_command(
        "search_transits",
        "--fits",
        str(demo_data / KEPLER6),
        "--n-periods",
        "3000",
        "--out",
        str(out),
    )
    payload = json.loads(out.read_text())
    first = payload["signals"][0]
    assert set(first) >= {"period", "epoch", "duration_hours", "depth_ppm", "snr"}
    assert first["period"] == pytest.approx(3.2347, rel=2e-3) and first["depth_ppm"] > 5000
    assert payload["target"] == {"mission": "Kepler", "target_id": 10874614}


def test_it_turns_a_file_without_light_curve_columns_into_a_command_error(demo_data, tmp_path):
    with pytest.raises(CommandError, match="LIGHTCURVE"):
        call_command(
            "search_transits",
            "--fits",
            str(demo_data / "galex/cal_data/NUV_flat.fits"),
            "--out",
            str(tmp_path / "r.json"),
        )
