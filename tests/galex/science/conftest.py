"""Shared GALEX fixtures: the real calibration folder and one small synthetic eclipse."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.galex.science.pipeline import reduce_eclipse
from apps.galex.science.simulate import simulate_eclipse


@pytest.fixture(scope="session")
def cal_dir(demo_data: Path) -> Path:
    return demo_data / "galex" / "cal_data"


@pytest.fixture(scope="session")
def small_eclipse(tmp_path_factory, cal_dir):
    """A 150k-event NUV eclipse over a 0.15-degree field (one leg, one flare, one gap)."""
    out = tmp_path_factory.mktemp("eclipse")
    return simulate_eclipse(out, cal_dir, n_events=150_000, seed=11, field_radius_deg=0.15)


@pytest.fixture(scope="session")
def reduced(small_eclipse, cal_dir, tmp_path_factory):
    """The small eclipse reduced at 20-s depth, gzip; progress calls recorded."""
    calls = []
    out = tmp_path_factory.mktemp("products")
    result = reduce_eclipse(small_eclipse.raw6_path, small_eclipse.aspect_dir, out, band="NUV", depth=20,
                            compression="gzip", cal_dir=cal_dir,
                            on_progress=lambda d, t, s: calls.append((d, t, s)))  # fmt: skip
    return result, calls
