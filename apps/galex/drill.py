"""Fault-drill kind of the GALEX app (``manage.py fault_drill``): reduce.

A small synthetic eclipse (60,000 photons, seed 3) is reduced into photon list, image, movie and
tables; the drill compares the sha256 of every product artifact the job stored.
"""

from __future__ import annotations

from apps.galex.services import eclipse_simulate
from apps.jobs.drill import DrillSetup, artifact_scenario, register_scenario


def _reduce_prepare() -> DrillSetup:
    eclipse = eclipse_simulate(n_events=60_000, seed=3)
    return DrillSetup(params={"eclipse_id": eclipse.pk, "depth": 60.0})


register_scenario(
    artifact_scenario(
        name="reduce", job_kind="reduce_eclipse", prepare=_reduce_prepare,
        compared="sha256 of every product artifact (photon list, image, movie, tables)",
    )
)  # fmt: skip
