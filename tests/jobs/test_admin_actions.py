"""The admin action factory: one job per selected target, under the action's own name."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory

from apps.catalog.models import Target
from apps.jobs.admin_actions import target_job_action
from apps.jobs.models import Job
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db


def test_the_action_queues_one_job_per_target_and_says_how_many(staff):
    targets = [TargetFactory(), TargetFactory()]
    action = target_job_action(name="check_targets", kind="process_target", description="Check", done="Queued {n}.")
    assert action.__name__ == "check_targets" and action.short_description == "Check"
    request = RequestFactory().post("/admin/")
    request.user = staff
    request.session = {}
    request._messages = FallbackStorage(request)
    action(admin.ModelAdmin(Target, admin.site), request, Target.objects.order_by("pk"))
    jobs = list(Job.objects.order_by("pk"))
    assert [(j.kind, j.params.get("target_id")) for j in jobs] == [("process_target", t.pk) for t in targets]
    assert [list(j.targets.all()) for j in jobs] == [[t] for t in targets]
    assert [str(m) for m in request._messages] == ["Queued 2."]
