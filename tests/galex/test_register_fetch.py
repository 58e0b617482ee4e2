"""Real data in: galex_register stores a raw6 and its aspect as artifacts; galex_fetch downloads
them from a local MAST stand-in (gPhoton 2's query and paths, with faults) through the ledger."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.archive.models import ArchiveFile, FileState
from apps.galex.models import Eclipse, EclipseStatus
from apps.galex.science.aspect import load_aspect_tables, read_aspect
from apps.galex.science.scst import write_scst
from apps.galex.science.simulate import simulate_eclipse
from apps.galex.selectors import eclipse_artifacts
from apps.galex.services import eclipse_leg_seconds, reduce_params_validate
from apps.jobs.models import Artifact
from tests.archive.fake_archive import FakeArchive

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def simulated(tmp_path_factory, demo_data):
    """A tiny NUV eclipse (raw6 + gPhoton 2 aspect tables) and the same aspect as an scst file."""
    out = tmp_path_factory.mktemp("sim")
    sim = simulate_eclipse(out, demo_data / "galex" / "cal_data", n_events=20_000, seed=2)
    asp, _bore, _meta, _w, _src = load_aspect_tables(sim.aspect_dir, 23456)
    scst = write_scst(out / "e23456-scst.fits.gz", eclipse=23456, time=asp["time"].to_numpy(),
                      ra=asp["ra"].to_numpy(), dec=asp["dec"].to_numpy(), roll=asp["roll"].to_numpy())  # fmt: skip
    return sim, scst


def test_it_registers_a_raw6_and_its_aspect_tables_as_artifacts(simulated, settings, demo_data):
    settings.GALEX_CAL_DIR = demo_data / "galex" / "cal_data"
    sim, _ = simulated
    out = StringIO()
    call_command("galex_register", "--raw6", str(sim.raw6_path), "--aspect", str(sim.aspect_dir),
                 "--eclipse", "23456", stdout=out)  # fmt: skip
    eclipse = Eclipse.objects.get(number=23456, band="NUV", source="raw6")
    assert f"eclipse {eclipse.pk}: e23456 NUV" in out.getvalue()
    assert eclipse.status == EclipseStatus.REGISTERED and eclipse.legs == 1 and eclipse.plan_type == "MIS"
    kinds = {a.kind: a for a in eclipse_artifacts(eclipse=eclipse)}
    assert {"raw6", "aspect"} <= set(kinds)
    assert eclipse.raw6_path == kinds["raw6"].path and eclipse.aspect_path == kinds["aspect"].path
    assert kinds["raw6"].sha256 in eclipse.inputs.values()
    # the stored one-file aspect reads back as the tables it came from
    stored = read_aspect(settings.DATA_ROOT / eclipse.aspect_path, 23456)
    original = read_aspect(sim.aspect_dir, 23456)
    assert stored.legs == original.legs and (stored.xi == original.xi).all()
    assert eclipse_leg_seconds(eclipse) == [120.0]
    reduce_params_validate({"eclipse_id": eclipse.pk, "depth": 30})
    # again: new artifact versions, the same eclipse
    call_command("galex_register", "--raw6", str(sim.raw6_path), "--aspect", str(sim.aspect_dir), stdout=StringIO())
    assert Eclipse.objects.filter(number=23456).count() == 1
    assert sorted(Artifact.objects.filter(key=f"{eclipse.artifact_prefix}/input/raw6").values_list("version", flat=True)) == [1, 2]


def test_it_takes_an_scst_file_as_the_aspect(simulated):
    sim, scst = simulated
    call_command("galex_register", "--raw6", str(sim.raw6_path), "--aspect", str(scst), stdout=StringIO())
    eclipse = Eclipse.objects.get(number=23456)
    assert eclipse.legs == 1 and eclipse_leg_seconds(eclipse) == [120.0]


def test_it_refuses_what_does_not_match(simulated, tmp_path):
    sim, scst = simulated
    with pytest.raises(CommandError, match="holds eclipse 23456, not 23457"):
        call_command("galex_register", "--raw6", str(sim.raw6_path), "--aspect", str(scst), "--eclipse", "23457")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("galex_register", "--raw6", str(sim.raw6_path), "--aspect", str(tmp_path / "nope"))
    bad = tmp_path / "e23456-nd-raw6.fits.gz"
    bad.write_bytes(b"not a fits file at all")
    with pytest.raises(CommandError, match="neither gzip-compressed nor FITS"):
        call_command("galex_register", "--raw6", str(bad), "--aspect", str(scst))
    assert not Eclipse.objects.exists()


@pytest.fixture
def galex_archive(demo_data, settings, simulated):
    sim, scst = simulated
    with FakeArchive(demo_data) as archive:
        settings.GAIA_GALEX_MAST_URL = archive.url
        archive.add_galex(23456, "NUV", Path(sim.raw6_path))
        archive.add_galex(23456, "BOTH", scst)
        yield archive


FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05}


def test_it_fetches_an_eclipse_through_faults_and_registers_it(galex_archive, monkeypatch):
    from apps.galex import intake as services

    real_fetch = services.eclipse_fetch
    monkeypatch.setattr(services, "eclipse_fetch", lambda **kw: real_fetch(**kw, policy_overrides=FAST))
    galex_archive.galex_executing = 1  # MAST is still executing the query: asked again
    galex_archive.galex_mislabel = True  # the URL ends in .gz.gz, as MAST sometimes lists it
    raw6, scst = "e23456-nd-raw6.fits.gz", "e23456-scst.fits.gz"
    galex_archive.add_fault(raw6, "status", code=503)
    galex_archive.add_fault(raw6, "cut", fraction=0.4)  # the next request resumes with a Range
    galex_archive.add_fault(scst, "flip")  # a corrupted body fails its check and is fetched again
    out = StringIO()
    call_command("galex_fetch", "--eclipse", "23456", "--band", "NUV", stdout=out)
    eclipse = Eclipse.objects.get(number=23456, band="NUV")
    assert "eclipse" in out.getvalue() and eclipse.status == EclipseStatus.REGISTERED
    assert {a.kind for a in eclipse_artifacts(eclipse=eclipse)} >= {"raw6", "aspect"}
    rows = {r.filename: r for r in ArchiveFile.objects.filter(mission="galex")}
    assert set(rows) == {raw6, scst} and all(r.state == FileState.VERIFIED for r in rows.values())
    assert rows[raw6].url.endswith("/gPhoton/RAW6/e23400_23499/23456/e23456-nd-raw6.fits.gz")
    ranges = [entry.range for entry in galex_archive.requests_for(raw6)]
    assert any(r and r.startswith("bytes=") for r in ranges), ranges
    assert len(galex_archive.requests_for(scst)) >= 2
    # a second run finds both files verified and downloads nothing
    before = len(galex_archive.log)
    out = StringIO()
    call_command("galex_fetch", "--eclipse", "23456", "--band", "NUV", stdout=out)
    assert "downloaded 0 file(s)" in out.getvalue() and "2 already verified" in out.getvalue()
    assert len(galex_archive.log) == before + 1  # only the URL query


def test_it_says_when_mast_has_no_file_for_the_band(galex_archive):
    with pytest.raises(CommandError, match="no FUV raw6 file for eclipse 23456"):
        call_command("galex_fetch", "--eclipse", "23456", "--band", "FUV")
    galex_archive.add_fault("e23456-nd-raw6.fits.gz", "status", code=404)
    with pytest.raises(CommandError, match="was not downloaded"):
        call_command("galex_fetch", "--eclipse", "23456", "--band", "NUV")
