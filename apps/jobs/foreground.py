"""Run a job kind in the foreground (management commands) with a terminal progress bar."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

from apps.jobs.models import Job
from apps.jobs.registry import actor_for
from apps.jobs.runner import progress_listener, run_job
from apps.jobs.services import job_enqueue


class TqdmListener:
    """Mirror job progress onto a tqdm bar (one bar per stage)."""

    def __init__(self, stream=sys.stderr) -> None:  # noqa: ANN001
        self.stream = stream
        self.bar: tqdm | None = None
        self.stage = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage != self.stage or self.bar is None:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=stage or "working", file=self.stream, leave=True, dynamic_ncols=True)
        if total is not None and self.bar.total != total:
            self.bar.total = total
            self.bar.refresh()
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run_in_foreground(*, kind: str, params: dict[str, Any], targets=(), show_progress: bool = True) -> Job:  # noqa: ANN001
    """Create the Job row as the site would, but run its body here and now (no worker needed).

    The row records progress, timings, errors and provenance exactly as a worker run would.
    """
    from django.db import transaction

    actor = actor_for(kind)
    params = actor.validate_params(dict(params))
    with transaction.atomic():
        job = Job.objects.create(kind=kind, params=params, queue_name="foreground")
        if targets:
            job.targets.set(list(targets))
    listener = TqdmListener()
    try:
        if show_progress:
            with progress_listener(listener):
                run_job(job.pk, actor.job_body, retries_left=False)
        else:
            run_job(job.pk, actor.job_body, retries_left=False)
    finally:
        listener.close()
        job.refresh_from_db()
    return job


def enqueue_or_run(*, kind: str, params: dict[str, Any], enqueue: bool, targets=(), show_progress: bool = True) -> Job:  # noqa: ANN001
    if enqueue:
        return job_enqueue(kind=kind, params=params, targets=targets)
    return run_in_foreground(kind=kind, params=params, targets=targets, show_progress=show_progress)
