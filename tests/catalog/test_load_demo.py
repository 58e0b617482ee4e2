"""The whole demo load that `make run` performs, on the real demo folder."""

import json

import pytest
from django.core.management import call_command

from apps.catalog.models import TCE, LightCurve, Target
from apps.galex.models import Eclipse, EclipseStatus
from apps.jobs.models import Job
from apps.ml.models import Prediction

pytestmark = pytest.mark.django_db


def test_it_loads_every_demo_star_with_light_curves_tces_scores_and_galex(settings, demo_data, capsys):
    settings.GAIA_DEMO_DATA = demo_data
    settings.GALEX_CAL_DIR = demo_data / "galex" / "cal_data"
    call_command("load_demo", "--demo-dir", str(demo_data), "--no-progress")
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "errors" not in report["report"], report["report"].get("errors")
    assert LightCurve.objects.count() == 27
    assert TCE.objects.filter(source="kepler_dr24").count() == 20367
    for query in ("Kepler-90", "KIC 2306740", "Boyajian's star", "Kepler-6", "TrES-2", "WASP-126", "WASP-46"):
        target = Target.objects.filter(search_names__contains=[query.lower()]).first()
        assert target is not None and target.lightcurves.exists(), query
    wasp126 = Target.objects.get(mission="tess", identifier="25155310")
    assert TCE.objects.filter(target=wasp126, source="search", period_days__gt=3.28, period_days__lt=3.30).exists()
    assert Prediction.objects.filter(tce__target__identifier="10874614").exists()
    assert Eclipse.objects.filter(source="synthetic", status=EclipseStatus.REDUCED).exists()
    assert Eclipse.objects.filter(source="gphoton").count() == 2
    job = Job.objects.get(kind="load_demo")
    assert job.status == "succeeded" and set(job.timings) >= {"light curves", "galex"}
