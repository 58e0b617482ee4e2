"""Fan-out: a job whose work is split into child jobs (batches) that many workers share.

The parent's body queues its children with ``jobs.services.job_children_enqueue`` (the system queues them
through ``job_enqueue`` with ``authorize=False``: parameters validated, duplicates returned, no quota) and raises
:class:`AwaitChildren`. The runner then leaves the parent ``running`` with no heartbeat (no worker holds
it, so the reconciler's lease does not apply) and its stage "waiting for N child jobs". Whenever a child
ends, :func:`job_children_settle` adds the children's progress up into the parent and, once none is left
queued or running, ends the parent: succeeded when every child did, cancelled when the parent was
cancelled, failed otherwise; its report sums the children's numeric report values. The reconciler settles
waiting parents too, so a parent whose last child's worker died right after finishing still ends.
Cancelling the parent cancels its children (``jobs.services.job_cancel``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from apps.jobs.models import FINISHED_STATUSES, Job, JobStatus

#: Children listed on a parent's page and in its API payload (all are counted).
CHILDREN_SHOWN = 200


class AwaitChildren(Exception):  # noqa: N818 - a signal to the runner, not an error
    """Raised by a job body that has queued its children: the job ends when they do."""

    def __init__(self, children: int) -> None:
        super().__init__(f"waiting for {children} child jobs")
        self.children = children


def children_summary(job: Job) -> dict | None:
    """Counts of the job's children per status and their summed progress; None for a job without any."""
    rows = job.children.aggregate(
        n=Count("pk"), done=Sum("progress_done"), total=Sum("progress_total"),
        **{status: Count("pk", filter=Q(status=status)) for status in JobStatus.values},
    )
    if not rows["n"]:
        return None
    return {"children": rows["n"], "progress_done": rows["done"] or 0, "progress_total": rows["total"] or 0,
            "by_status": {status: rows[status] for status in JobStatus.values if rows[status]}}


def _summed_report(children: Iterable[Job]) -> dict:
    """The children's numeric report values added up (e.g. ``scored``), plus what they skipped."""
    sums: Counter = Counter()
    skipped = 0
    for child in children:
        for key, value in (child.result or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool) and not key.endswith("_id"):
                sums[key] += value
            elif key == "skipped" and isinstance(value, dict):
                skipped += len(value)
    report = dict(sums)
    if skipped:
        report["skipped"] = skipped
    return report


def job_children_settle(parent_id: int) -> str | None:
    """Bring a waiting parent up to date with its children; end it when none is queued or running.

    Returns the parent's final status when this call ended it, else None.
    """
    with transaction.atomic():
        parent = Job.objects.select_for_update().filter(
            pk=parent_id, status=JobStatus.RUNNING, heartbeat_at__isnull=True
        ).first()
        if parent is None:
            return None
        summary = children_summary(parent)
        if summary is None:
            return None
        by_status = summary["by_status"]
        progress = {"progress_done": summary["progress_done"], "progress_total": summary["progress_total"]}
        active = sum(by_status.get(s, 0) for s in (JobStatus.QUEUED, JobStatus.RUNNING))
        if active:
            Job.objects.filter(pk=parent.pk).update(
                stage=f"waiting for {active} of {summary['children']} child jobs", **progress)
            return None
        succeeded = by_status.get(JobStatus.SUCCEEDED, 0)
        if parent.cancel_requested:
            status, stage, error = JobStatus.CANCELLED, "cancelled", ""
        elif succeeded == summary["children"]:
            status, stage, error = JobStatus.SUCCEEDED, "done", ""
        else:
            status, stage = JobStatus.FAILED, "failed"
            error = (f"{summary['children'] - succeeded} of {summary['children']} child jobs did not succeed "
                     f"({', '.join(f'{n} {s}' for s, n in sorted(by_status.items()) if s != JobStatus.SUCCEEDED)})")
        children = parent.children.filter(status__in=FINISHED_STATUSES).only("result")
        result = {**(parent.result or {}), **_summed_report(children), "children": summary["children"],
                  "children_by_status": by_status}
        Job.objects.filter(pk=parent.pk).update(
            status=status, stage=stage, error_summary=error, finished_at=timezone.now(), eta_seconds=None,
            result=result, **progress)
        return status


def waiting_parents() -> list[int]:
    """Ids of parents waiting for their children (the reconciler settles them)."""
    return list(Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__isnull=True, children__isnull=False)
                .values_list("pk", flat=True).distinct())
