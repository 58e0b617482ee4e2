"""Steps of ``manage.py load_demo``, contributed by each app in its AppConfig.ready().

A step is ``fn(demo_dir: Path, ctx: JobContext) -> dict`` and reports its own progress; steps run
in ``order`` and each returns a small report merged into the load_demo job's result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


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
