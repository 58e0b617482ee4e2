"""The target page's "fetch all light curves" view and the admin actions."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from apps.accounts.roles import set_role
from apps.archive.admin import ArchiveFileAdmin, fetch_all_lightcurves
from apps.archive.models import ArchiveFile, FileState
from apps.archive.pages import target_fetch
from apps.catalog.models import Target
from apps.jobs.models import Job

pytestmark = pytest.mark.django_db


def post(user, data: dict | None = None):  # noqa: ANN001, ANN201
    request = RequestFactory().post("/archive/targets/1/fetch/", data or {})
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def test_it_queues_a_download_of_every_light_curve_of_the_target() -> None:
    user = User.objects.create_user("astro")
    set_role(user, "operator")
    target = Target.objects.create(mission="kepler", identifier="11442793")
    response = target_fetch(post(user), target_id=target.pk)
    job = Job.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/{job.pk}/")
    assert job.params["identifiers"] == [11442793] and job.params["seasons"] is None
    assert job.requested_by == user and list(job.targets.all()) == [target]


def test_it_queues_nothing_for_a_viewer_even_when_the_view_is_called_directly() -> None:
    viewer = User.objects.create_user("reader")
    target = Target.objects.create(mission="kepler", identifier="11442793")
    request = post(viewer)
    target_fetch(request, target_id=target.pk)
    assert not Job.objects.exists()
    assert "may not queue" in str(list(request._messages)[0])


def test_it_asks_anonymous_visitors_to_log_in() -> None:
    target = Target.objects.create(mission="kepler", identifier="11442793")
    response = target_fetch(post(AnonymousUser()), target_id=target.pk)
    assert response.status_code == 302 and "login" in response.url
    assert not Job.objects.exists()


def test_it_explains_why_a_galex_target_cannot_be_fetched() -> None:
    target = Target.objects.create(mission="galex", identifier="123")
    astro = User.objects.create_user("astro")
    set_role(astro, "operator")
    request = post(astro, {"next": "/targets/1/"})
    response = target_fetch(request, target_id=target.pk)
    assert response.url == "/targets/1/" and not Job.objects.exists()
    assert "not fetched from MAST" in str(list(request._messages)[0])


def test_the_admin_action_queues_one_job_per_mission() -> None:
    Target.objects.create(mission="kepler", identifier="11442793")
    Target.objects.create(mission="kepler", identifier="2306740")
    Target.objects.create(mission="tess", identifier="25155310")
    request = post(User.objects.create_superuser("admin"))
    fetch_all_lightcurves(admin.ModelAdmin(Target, admin.site), request, Target.objects.all())
    assert sorted(len(job.params["identifiers"]) for job in Job.objects.all()) == [1, 2]


def test_the_ledger_admin_queues_failed_files_again() -> None:
    ArchiveFile.objects.create(
        mission="kepler", filename="kplr011442793-2009350155506_llc.fits", uri="mast:x", url="http://x",
        state=FileState.FAILED, quarter_or_sector=3,
    )  # fmt: skip
    model_admin = ArchiveFileAdmin(ArchiveFile, admin.site)
    model_admin.retry_selected(
        post(User.objects.create_superuser("admin")), ArchiveFile.objects.all()
    )
    job = Job.objects.get()
    assert (
        job.params["identifiers"] == [11442793]
        and job.params["seasons"] == [3]
        and job.params["recheck_missing"]
    )
    assert ArchiveFile.objects.get().state == FileState.PENDING
