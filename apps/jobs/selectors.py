"""Reads for jobs and artifacts."""

from __future__ import annotations

from collections.abc import Sequence

from django.apps import apps as django_apps
from django.conf import settings
from django.db.models import Model, QuerySet

from apps.core.errors import NotFound
from apps.core.queries import filter_given, rows_by_ids
from apps.jobs.models import Artifact, Job


def job_list(*, status: str | None = None, kind: str | None = None, target_id: int | None = None) -> QuerySet[Job]:
    jobs = Job.objects.select_related("requested_by").order_by("-created_at", "-id")
    return filter_given(jobs, status=status, kind=kind, targets__id=target_id)


def _subject_model() -> type[Model]:
    """What jobs are about (catalogue targets): the model ``settings.GAIA_JOB_SUBJECT_MODEL`` names.

    Jobs is infrastructure and imports no domain app; the catalogue declares the link.
    """
    return django_apps.get_model(settings.GAIA_JOB_SUBJECT_MODEL)


def job_subjects(*, ids: Sequence[int]) -> list[Model]:
    """The subjects (targets) with these ids; InvalidInput names any id that matches none."""
    return rows_by_ids(_subject_model().objects.all(), ids, noun="target")


def job_subject_ids() -> QuerySet:
    """Subjects with only their id loaded: what a job list prefetches to show target ids."""
    return _subject_model().objects.only("id")


def job_get(*, job_id: int) -> Job:
    try:
        return Job.objects.select_related("requested_by").get(pk=job_id)
    except Job.DoesNotExist as exc:
        raise NotFound(f"job {job_id} does not exist") from exc


def artifact_latest(*, key: str, version: int | None = None) -> Artifact | None:
    """The newest version of the product ``key`` (or its version ``version``), or None."""
    artifacts = Artifact.objects.filter(key=key)
    if version is not None:
        artifacts = artifacts.filter(version=version)
    return artifacts.order_by("-version").first()


def artifacts_for_job(*, job: Job) -> QuerySet[Artifact]:
    return job.artifacts.order_by("key", "-version")


def children_of(*, job: Job) -> QuerySet[Job]:
    """A parent's child jobs (batches), in the order they were queued."""
    return job.children.order_by("pk")
