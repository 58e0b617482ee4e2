"""Which actor runs which job kind, and discovery of every app's ``tasks`` module."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from django.apps import apps

if TYPE_CHECKING:
    import dramatiq

JOB_ACTORS: dict[str, dramatiq.Actor] = {}


def register(kind: str, actor: dramatiq.Actor) -> None:
    if kind in JOB_ACTORS and JOB_ACTORS[kind].actor_name != actor.actor_name:
        raise RuntimeError(f"job kind {kind!r} registered twice")
    JOB_ACTORS[kind] = actor


def actor_for(kind: str) -> dramatiq.Actor:
    autodiscover_tasks()
    try:
        return JOB_ACTORS[kind]
    except KeyError as exc:
        raise KeyError(f"no actor handles job kind {kind!r}; known: {sorted(JOB_ACTORS)}") from exc


_discovered = False


def autodiscover_tasks() -> None:
    """Import ``<app>.tasks`` for every installed project app so their actors register."""
    global _discovered
    if _discovered:
        return
    for config in apps.get_app_configs():
        if not config.name.startswith("apps."):
            continue
        try:
            importlib.import_module(f"{config.name}.tasks")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.tasks":
                raise
    _discovered = True
