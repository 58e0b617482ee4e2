"""seed_scale writes a consistent synthetic catalogue that cannot clash with real rows, and --drop removes
exactly what it wrote."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from apps.catalog.models import TCE, Target
from apps.jobs.models import Job, JobStatus
from apps.ml.models import Prediction
from apps.scale.seed import ID_BASE, SYNTHETIC, TCE_SOURCE, seed_drop, seed_scale
from apps.vetting.models import VettingLabel, VettingState
from tests.factories import JobFactory, TargetFactory, TCEFactory

pytestmark = pytest.mark.django_db

SIZES = {"targets": 2000, "tces": 5000, "predictions": 10000, "labels": 1000, "jobs": 500}


def table_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


@pytest.fixture
def real_rows():
    """A real target with a TCE and a job, as a site would have before seeding."""
    target = TargetFactory(identifier="11442793", name="Kepler-90")
    tce = TCEFactory(target=target)
    job = JobFactory(status=JobStatus.QUEUED)
    job.targets.add(target)
    return target, tce, job


def test_it_writes_the_sizes_asked_with_consistent_denormalised_columns(real_rows):
    record = seed_scale(**SIZES)
    assert record["sizes"] == SIZES
    synthetic = Target.objects.filter(stellar_source=SYNTHETIC)
    assert synthetic.count() == 2000 and TCE.objects.filter(source=TCE_SOURCE).count() == 5000
    assert Prediction.objects.filter(tce__source=TCE_SOURCE).count() == 10000
    assert VettingLabel.objects.filter(user__username__startswith="seed_scale_").count() == 1000
    assert Job.objects.filter(message_id="synthetic:seed_scale").count() == 500 + 1  # + the run's own record
    assert set(Job.objects.filter(message_id=SYNTHETIC).values_list("status", flat=True)) == set(JobStatus.values)
    # Identifiers live in the reserved range only; the real target is untouched.
    identifiers = [int(i) for i in synthetic.values_list("identifier", flat=True)]
    assert min(identifiers) > ID_BASE and max(identifiers) <= ID_BASE + 2000
    target, tce, _job = real_rows
    target.refresh_from_db()
    assert target.n_tces == 1 and target.identifier == "11442793"
    # The counters, the score column and the queue rows say what the rows say.
    with connection.cursor() as cursor:
        cursor.execute("""SELECT count(*) FROM catalog_target t
                          WHERE n_tces <> (SELECT count(*) FROM catalog_tce WHERE target_id = t.id)""")
        assert cursor.fetchone()[0] == 0
    from apps.ml.models import ModelVersion
    from apps.ml.services import scores_publish
    from apps.vetting.services import queue_rows_sync
    from apps.vetting.services.labels import state_refresh

    assert scores_publish(version=ModelVersion.objects.get(pk=record["model_version"])) == 0  # nothing to change
    assert queue_rows_sync() == {"tces": 0, "scores": 0}
    assert VettingState.objects.filter(tce__source=TCE_SOURCE).count() == 5000
    assert VettingState.objects.filter(tce__source=TCE_SOURCE, probability__isnull=True).count() == 0
    for state in VettingState.objects.filter(n_people__gt=0).order_by("tce_id")[:25]:
        again = state_refresh(tce_id=state.tce_id)
        assert (again.status, again.n_labels, again.n_people, again.label) == (
            state.status, state.n_labels, state.n_people, state.label)
    assert VettingState.objects.filter(status="agreed").exists() and VettingState.objects.filter(status="conflict").exists()


def test_the_reconciler_leaves_synthetic_jobs_alone(settings):
    from apps.jobs.reconcile import reconcile_once

    seed_scale(targets=50, tces=100, predictions=100, labels=10, jobs=200)
    settings.GAIA_JOB_LEASE_SECONDS = 0
    before = dict(Job.objects.values_list("pk", "status"))
    report = reconcile_once()
    assert not (report.resent or report.requeued or report.failed or report.cancelled)
    assert dict(Job.objects.values_list("pk", "status")) == before


def test_drop_restores_every_table_and_keeps_real_rows(real_rows, django_capture_on_commit_callbacks):
    from apps.vetting.services import queue_rows_sync

    # The seed brings the vetting queue rows up to date, as the first visit to a queue would: start
    # from a site where that already happened, so every difference is the seed's.
    queue_rows_sync()
    before = table_counts()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_scale", *[f"--{k}={v}" for k, v in SIZES.items()], stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert table_counts() != before
    with pytest.raises(Exception, match="already"):
        seed_scale(**SIZES)
    with django_capture_on_commit_callbacks(execute=True):
        deleted = seed_drop()
    assert deleted["catalog_target"] == 2000 and deleted["catalog_tce"] == 5000
    assert table_counts() == before
    target, tce, job = real_rows
    assert Target.objects.filter(pk=target.pk).exists() and TCE.objects.filter(pk=tce.pk).exists()
    assert list(job.targets.all()) == [target]


def test_it_refuses_to_seed_over_identifiers_in_its_range():
    TargetFactory(identifier=str(ID_BASE + 5))
    with pytest.raises(Exception, match="reserved range"):
        seed_scale(targets=10, tces=10, predictions=0, labels=0, jobs=0)
