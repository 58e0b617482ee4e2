"""At catalogue-like size, no page or API list of the main workflows scans a big table row by row.

The world is seeded above the 10k-row line for every big table (targets, TCEs, predictions, queue rows,
jobs) and ANALYZEd, so the planner sees real sizes and distributions. Every statement the requests run is
EXPLAINed (planned, not run) with ``enable_seqscan = off``: at 15k rows a sequential scan is often the
cheaper plan, so the test asks the question that decides the full-size plan, whether an index can answer
the statement; a sequential scan of a table over 10k rows left in a plan fails the test with its
statement. ``bench/bench_load.py`` runs the check at full size (500k TCEs) with the planner's own choice.
"""

from __future__ import annotations

import pytest
from django.test import Client

from apps.catalog.models import TCE, Target
from apps.catalog.services import catalog_summary
from apps.jobs.models import Job
from apps.scale.plans import BIG_TABLE_ROWS, main_pages, request_plans
from apps.scale.seed import SYNTHETIC, TCE_SOURCE, seed_scale
from apps.vetting.models import VettingState
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def seeded():
    seed_scale(targets=15_000, tces=40_000, predictions=60_000, labels=6_000, jobs=15_000)


def test_no_main_list_query_scans_a_big_table(seeded, django_user_model):
    adjudicator = make_user(django_user_model, "plan_ada", "adjudicator")
    client = Client()
    client.force_login(adjudicator)
    target = Target.objects.filter(stellar_source=SYNTHETIC, n_tces__gt=1).order_by("pk").first()
    named = Target.objects.filter(stellar_source=SYNTHETIC).exclude(name="").order_by("pk").first()
    tce = TCE.objects.filter(target=target).order_by("pk").first()
    job = Job.objects.filter(message_id=SYNTHETIC, status="succeeded").order_by("-pk").first()
    pages = main_pages(target_id=target.pk, tce_id=tce.pk, job_id=job.pk, name=named.name,
                       identifier=f"KIC {target.identifier}")
    assert TCE.objects.filter(source=TCE_SOURCE).count() > BIG_TABLE_ROWS and VettingState.objects.count() > BIG_TABLE_ROWS

    catalog_summary(refresh=True)  # the dashboard's stored numbers, as every view but one per few minutes finds them

    results = request_plans(client, pages, index_paths_only=True)

    assert [(r.name, r.status) for r in results if r.status >= 400] == []
    problems = [f"{r.name}: {s.node} of {s.table} ({s.rows} rows)\n    {s.sql[:400]}" for r in results for s in r.seq_scans]
    assert problems == [], "sequential scans of big tables:\n" + "\n".join(problems)
    # The check does see the statements of every request.
    assert sum(r.statements for r in results) > 3 * len(pages)
