"""Enqueueing through the real broker, cancelling, and versioned artifacts."""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.core.errors import Conflict, InvalidInput
from apps.core.files import resolve_data_path
from apps.jobs.models import JobStatus
from apps.jobs.services import artifact_store, job_cancel, job_enqueue
from tests.factories import JobFactory


@pytest.mark.django_db(transaction=True)
def test_it_sends_the_message_only_after_commit(broker):
    queue_key = "gaia:default"
    redis = broker.client
    with transaction.atomic():
        job = job_enqueue(kind="worker_check", params={"steps": 2})
        assert redis.llen(queue_key) == 0
    assert redis.llen(queue_key) == 1
    assert job.message_id and job.queue_name == "default"


@pytest.mark.django_db(transaction=True)
def test_it_sends_nothing_when_the_transaction_rolls_back(broker):
    with pytest.raises(RuntimeError), transaction.atomic():
        job_enqueue(kind="worker_check", params={"steps": 2})
        raise RuntimeError("abort")
    assert broker.client.llen("gaia:default") == 0


@pytest.mark.django_db
def test_it_refuses_unknown_kinds_and_bad_params():
    with pytest.raises(InvalidInput, match="no actor"):
        job_enqueue(kind="make_coffee")
    with pytest.raises(InvalidInput, match="steps"):
        job_enqueue(kind="worker_check", params={"steps": -3})


@pytest.mark.django_db
def test_it_cancels_queued_jobs_at_once_and_refuses_finished_ones():
    job = job_cancel(job=JobFactory())
    assert job.status == JobStatus.CANCELLED
    with pytest.raises(Conflict):
        job_cancel(job=job)


@pytest.mark.django_db
def test_it_adds_artifact_versions_without_overwriting(tmp_path):
    first_src = tmp_path / "views.npz"
    first_src.write_bytes(b"first")
    first = artifact_store(key="tce/1/gaia", kind="views", source=first_src)
    second_src = tmp_path / "views.npz"
    second_src.write_bytes(b"second")
    second = artifact_store(key="tce/1/gaia", kind="views", source=second_src)
    assert (first.version, second.version) == (1, 2)
    assert resolve_data_path(first.path).read_bytes() == b"first"
    assert resolve_data_path(second.path).read_bytes() == b"second"
    assert first.sha256 != second.sha256
