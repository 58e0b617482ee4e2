"""Steps of ``manage.py load_demo``, contributed by each app in its AppConfig.ready().

A step is ``fn(demo_dir: Path, ctx: JobContext) -> dict`` and reports its own progress; steps run
in ``order`` and each returns a small report merged into the load_demo job's result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class DemoStep:
    name: str
    order: int
    run: Callable


_STEPS: dict[str, DemoStep] = {}


def register_demo_step(name: str, run: Callable, *, order: int = 50) -> None:
    _STEPS[name] = DemoStep(name, order, run)


def demo_steps() -> list[DemoStep]:
    return sorted(_STEPS.values(), key=lambda step: (step.order, step.name))


def analyze_tables(*tables: str) -> None:
    """Refresh the planner's statistics after a bulk load (all tables when none named).

    Without them PostgreSQL plans joins over the freshly loaded tens of thousands of rows as if
    the tables were empty (nested loops over sequential scans): minutes instead of milliseconds.
    """
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables) if tables else "ANALYZE")
