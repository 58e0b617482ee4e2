"""Every vetting route for every role: the permission table's answer, and nothing written when refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from apps.jobs.models import Artifact, Job
from apps.vetting.models import Adjudication, VettingClaim, VettingLabel, VettingState
from apps.vetting.services import label_add
from tests.factories import TCEFactory

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "viewer", "vetter", "adjudicator", "admin")
LOGIN = "login"  # a page refused for want of a login redirects to the login page

#: (method, url template, json body or form, expected answer per role in ROLES order). {tce} is a TCE in
#: conflict (two vetters disagree), so every queue and the adjudication have something to act on; the
#: routes run in this order for one person (a 302 from /vet/next/ is either the TCE page or, when the
#: queue has nothing left for them, back to /vet/).
ROUTES = [
    ("get", "/api/vetting/tces/{tce}/labels", None, (200, 200, 200, 200, 200)),
    ("get", "/api/vetting/queues", None, (401, 403, 200, 200, 200)),
    ("post", "/api/vetting/queues/unlabelled/next", None, (401, 403, 200, 200, 200)),
    ("post", "/api/vetting/queues/conflicts/next", None, (401, 403, 403, 200, 200)),
    ("get", "/api/vetting/conflicts", None, (401, 403, 403, 200, 200)),
    ("post", "/api/vetting/tces/{tce}/adjudication", {"label": "EB", "reason": "secondary"}, (401, 403, 403, 201, 201)),
    ("page-get", "/vet/", None, (LOGIN, 403, 200, 200, 200)),
    ("page-get", "/vet/next/?queue=unlabelled", None, (LOGIN, 403, 302, 302, 302)),
    ("page-get", "/vet/next/?queue=conflicts", None, (LOGIN, 403, 403, 302, 302)),
    ("page-get", "/vet/stats/", None, (200, 200, 200, 200, 200)),
    ("page-get", "/vet/conflicts/", None, (LOGIN, 403, 403, 200, 200)),
    ("page-post", "/vet/tces/{tce}/adjudicate/", {"label": "EB", "reason": "secondary"}, (LOGIN, 403, 403, 302, 302)),
    ("page-post", "/vet/export/", {"include_sources": ["dr24"]}, (LOGIN, 403, 403, 302, 302)),
    # last: labelling the TCE takes it out of that person's queues
    ("post", "/api/vetting/tces/{tce}/labels", {"label": "PC", "flags": ["odd_even"]}, (401, 403, 201, 201, 201)),
    ("page-post", "/tces/{tce}/label/", {"label": "PC"}, (LOGIN, 403, 302, 302, 302)),
]


def _side_effects() -> dict:
    files = [p for p in Path(django_settings.DATA_ROOT).rglob("*") if p.is_file()]
    return {"labels": VettingLabel.objects.count(), "claims": VettingClaim.objects.count(),
            "adjudications": Adjudication.objects.count(), "jobs": Job.objects.count(),
            "artifacts": Artifact.objects.count(), "files": len(files),
            "states": sorted(VettingState.objects.values_list("tce_id", "status", "label"))}


def _call(client, method: str, url: str, body):  # noqa: ANN001, ANN202
    if method == "get" or method == "page-get":
        return client.get(url)
    if method == "post":
        return client.post(url, body or {}, content_type="application/json")
    return client.post(url, body or {})


@pytest.mark.parametrize("role", ROLES)
def test_every_vetting_route_answers_by_role_and_writes_nothing_when_refused(role, client, vetters, request):
    tce = TCEFactory(snr=40.0)
    TCEFactory(snr=10.0)  # another TCE the unlabelled queue can serve
    label_add(tce=tce, user=vetters[0], label="PC")
    label_add(tce=tce, user=vetters[1], label="EB")
    if role != "anonymous":
        user = request.getfixturevalue({"admin": "admin_user"}.get(role, role))
        client.force_login(user)
    for method, template, body, expected in ROUTES:
        url = template.format(tce=tce.pk)
        want = expected[ROLES.index(role)]
        before = _side_effects()
        response = _call(client, method, url, body)
        where = f"{role} {method} {url}"
        if want == LOGIN:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], where
        else:
            assert response.status_code == want, f"{where}: {response.status_code} {response.content[:200]!r}"
        if want in (LOGIN, 401, 403):
            assert _side_effects() == before, f"{where} was refused but changed something"
