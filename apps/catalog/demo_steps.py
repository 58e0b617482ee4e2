"""The catalogue's part of load_demo: target names and the planner's statistics.

The tables and light curves are loaded by the archive's steps (apps/archive/demo.py), which own
the ingest; the steps run in ``order`` whoever registered them.
"""

from __future__ import annotations

from pathlib import Path

from apps.catalog.demo import demo_names_apply
from apps.core.demo import analyze_tables
from apps.jobs.runner import JobContext


def refresh_statistics(demo_dir: Path, ctx: JobContext) -> dict:
    analyze_tables()
    return {"analyzed": True}


def load_names(demo_dir: Path, ctx: JobContext) -> dict:
    return {"named_targets": demo_names_apply()}
