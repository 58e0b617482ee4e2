"""Every API operation, fuzzed from /api/openapi.json with hostile values mixed in: never a 5xx.

Two passes over every operation of the schema the app serves:

* a deterministic sweep (as an admin): each path parameter, query parameter and top-level body
  field in turn gets each value of ``SWEEP`` (unicode digits, 10k-character strings, NUL bytes,
  SQL- and HTML-looking text, huge, negative and non-finite numbers, huge offsets, wrong types);
* Hypothesis through Schemathesis (anonymous and admin with a bearer token): cases that fit the
  schema and cases that break it, with hostile values swapped into some fields, and for
  ``POST /api/jobs`` every job kind with made-up parameters.

Requests go through Django's test client, which re-raises any unhandled exception of a view, so
"no 5xx" also means "no unhandled exception". Jobs do not run: eager mode is off and no worker is
started, so whatever gets queued stays queued (and rolls back with the test).
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core import NOT_SET

from apps.accounts.services import api_token_create
from apps.jobs.models import Artifact
from apps.jobs.registry import JOB_ACTORS, autodiscover_tasks
from apps.ml.models import ModelVersion
from gaia_web.api import api
from tests.conftest import make_user
from tests.factories import JobFactory, TCEFactory

pytestmark = pytest.mark.django_db

#: Hypothesis examples per operation and identity (anonymous callers mostly meet the 401 gate).
EXAMPLES = {"anonymous": 5, "admin": 15}

#: Sent to every parameter and top-level body field in turn.
SWEEP = [
    "²",
    "１２３",  # full-width digits: str.isdigit() says yes, int() and the database may not
    "9" * 5000,
    "x" * 10_000,
    "kic" + " " * 4000 + "x",
    "\x00",
    "' OR '1'='1' --",
    "<script>alert(1)</script>",
    "99999999999999999999",
    -1,
    2**64,
    10**7 + 1,
    1e308,
    float("nan"),
    float("inf"),
    None,
    [],
    {},
    ["²", "\x00"],
]
#: Extra values Hypothesis may swap in.
HOSTILE = [*SWEEP, "١٢٣", "kic\x001", "1; DROP TABLE catalog_target; --", "../../etc/passwd", "🪐",
           -(2**63) - 1, 2**63, 5e-324, float("-inf"), True, list(range(20_000))]  # fmt: skip
#: Parameter names of the job kinds (and some that must be refused), for POST /api/jobs.
JOB_PARAM_NAMES = [
    "steps", "pause_s", "demo_dir", "skip", "eclipse_id", "depth", "compression", "burst",
    "target_id", "tce_ids", "missing", "model", "task", "preset", "epochs", "seed", "ensemble",
    "make_default", "max_examples", "presets", "period_min", "period_max", "n_periods",
    "max_signals", "mission", "identifiers", "cadence", "seasons", "catalog", "limit", "ingest",
    "source", "mirror_root", "concurrency", "max_attempts", "recheck_missing", "file_ids",
    "parent_job_id", "names",
]  # fmt: skip

OPERATIONS = sorted(
    op["operationId"]
    for ops in api.get_openapi_schema(path_prefix="/api/")["paths"].values()
    for op in ops.values()
)
_SCHEMA: dict = {}


@pytest.fixture
def world(settings, django_user_model):  # noqa: ANN001
    """The schema as served at /api/openapi.json, an admin's bearer token, rows for ids to hit."""
    settings.GAIA_JOBS_EAGER = False  # nothing runs: queued jobs stay queued, no worker starts
    tce = TCEFactory()
    JobFactory(kind="archive_download", params={})
    for task in ("triage", "vetting"):  # defaults, so scoring does not register the shipped models
        weights = Artifact.objects.create(
            kind="model_weights", key=f"model/{task}", version=1, path="x.pt", sha256="0" * 64
        )
        ModelVersion.objects.create(
            name=f"fuzz_{task}", task=task, preset=f"yu2019_{task}", weights_sha256="0" * 64,
            weights=weights, is_default=True,
        )  # fmt: skip
    admin = make_user(django_user_model, "fuzz-admin", "admin")
    if not _SCHEMA:
        loader = Client()
        loader.force_login(admin)
        response = loader.get("/api/openapi.json")
        assert response.status_code == 200
        _SCHEMA["raw"] = response.json()
        _SCHEMA["loaded"] = schemathesis.openapi.from_dict(_SCHEMA["raw"])
    return {
        "raw": _SCHEMA["raw"],
        "schema": _SCHEMA["loaded"],
        "auth": {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=admin, name='fuzz').secret}"},
        "ids": [tce.pk, tce.target_id, 1],
    }


def _send(client: Client, method: str, path: str, query: dict, body, headers: dict):  # noqa: ANN001
    """One request; ``body`` is sent as JSON (NaN and Infinity included, as a client may send) or raw bytes."""
    if query:
        path = f"{path}?{urlencode(query, doseq=True)}"
    if method == "GET":
        return client.get(path, **headers)
    data = body if isinstance(body, bytes) else json.dumps(body if body is not None else {})
    return client.generic(method, path, data, content_type="application/json", **headers)


def _fill(template: str, path_params: dict) -> str:
    for name, value in path_params.items():
        template = template.replace("{" + name + "}", quote(str(value), safe=""))
    return template


def _body_fields(raw: dict, operation: dict) -> list[str]:
    if "requestBody" not in operation:
        return []
    ref = operation["requestBody"]["content"]["application/json"]["schema"].get("$ref", "")
    return sorted(raw["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_it_never_answers_5xx_to_hostile_values(world, operation_id: str) -> None:  # noqa: ANN001
    """Each parameter and top-level body field, one hostile value at a time (as an admin)."""
    operation = world["schema"].find_operation_by_id(operation_id)
    spec = operation.definition.raw
    params = spec.get("parameters", [])
    path_names = [p["name"] for p in params if p["in"] == "path"]
    slots = [("path", n) for n in path_names] + [("query", p["name"]) for p in params if p["in"] == "query"]
    slots += [("body", name) for name in _body_fields(world["raw"], spec)]
    client = Client()
    failures = []
    for where, name in slots:
        for value in SWEEP:
            path_params = {n: world["ids"][0] for n in path_names}
            query, body = {}, {}
            if where == "path":
                path_params[name] = value
            elif where == "query" and value is not None:
                query[name] = value
            elif where == "body":
                body[name] = value
            try:
                with transaction.atomic():  # a database error must not hide the next findings
                    response = _send(
                        client, operation.method.upper(), _fill(operation.path, path_params), query, body,
                        world["auth"],
                    )  # fmt: skip
            except Exception as exc:  # noqa: BLE001 - an unhandled exception is a finding
                failures.append((where, name, repr(value)[:30], f"{type(exc).__name__}: {exc}"[:160]))
                continue
            if response.status_code >= 500:
                failures.append((where, name, repr(value)[:30], response.status_code))
    assert not failures, failures


def _swapped(names: list[str], ids: list[int]) -> st.SearchStrategy[dict]:
    """Some of ``names`` mapped to hostile values or to ids that exist."""
    if not names:
        return st.just({})
    value = st.one_of(st.sampled_from(HOSTILE), st.sampled_from(ids))
    return st.dictionaries(st.sampled_from(names), value, max_size=3)


def _job_requests(ids: list[int]) -> st.SearchStrategy[dict]:
    """Bodies for POST /api/jobs: a real kind, parameters from every kind's names, odd values."""
    autodiscover_tasks()
    value = st.one_of(
        st.sampled_from(ids), st.integers(), st.floats(), st.text(max_size=20), st.booleans(),
        st.lists(st.integers(), max_size=5), st.sampled_from(HOSTILE),
    )  # fmt: skip
    return st.fixed_dictionaries(
        {
            "kind": st.sampled_from(sorted(JOB_ACTORS)),
            "params": st.dictionaries(st.sampled_from(JOB_PARAM_NAMES), value, max_size=6),
            "target_ids": st.lists(st.one_of(st.sampled_from(ids), st.integers()), max_size=3),
        }
    )


@pytest.mark.parametrize("identity", ["anonymous", "admin"])
@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_it_never_answers_5xx_to_fuzzed_input(world, operation_id: str, identity: str) -> None:  # noqa: ANN001
    operation = world["schema"].find_operation_by_id(operation_id)
    query_names = [p["name"] for p in operation.definition.raw.get("parameters", []) if p["in"] == "query"]
    headers = world["auth"] if identity == "admin" else {}
    client = Client()
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    job_bodies = _job_requests(world["ids"]) if operation_id == "jobs.enqueue_job" else st.none()

    @settings(
        max_examples=EXAMPLES[identity],
        deadline=None,
        database=None,
        derandomize=True,  # the same examples on every run: make test stays reproducible
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, query_swap=_swapped(query_names, world["ids"]), job_body=job_bodies, data=st.data())
    def check(case, query_swap: dict, job_body, data) -> None:  # noqa: ANN001
        body = job_body
        if body is None and isinstance(case.body, dict):
            body = {**case.body, **data.draw(_swapped(sorted(case.body) or ["x"], world["ids"]))}
        elif body is None and case.body is not NOT_SET:
            body = case.body
        query = {**(case.query or {}), **{k: v for k, v in query_swap.items() if v is not None}}
        path = _fill(case.path, case.path_parameters or {})
        response = _send(client, case.method.upper(), path, query, body, headers)
        assert response.status_code < 500, (response.status_code, response.content[:500])

    check()


#: Each job kind's parameter names (its schema's fields) and a base that reaches its later checks.
JOB_KIND_BASES = {
    "worker_check": {},
    "load_demo": {},
    "reduce_eclipse": {"eclipse_id": 1},
    "infer": {"missing": True},
    "train_model": {},
    "process_target": {"target_id": "TARGET"},
    "search_target": {"target_id": "TARGET"},
    "archive_download": {"identifiers": [11442793]},
    "archive_ingest": {"file_ids": [1]},
    "archive_import_tables": {"names": ["koi"]},
}
JOB_SWEEP = ["abc", "²", "9" * 5000, "\x00", -1, 2**64, 1e308, float("nan"), float("inf"), None, [], {}, ["²"]]


@pytest.mark.parametrize("kind", sorted(JOB_KIND_BASES))
def test_it_never_answers_5xx_to_hostile_job_parameters(world, kind: str) -> None:  # noqa: ANN001
    """POST /api/jobs for each kind: every parameter of its schema in turn, hostile values (as an admin)."""
    autodiscover_tasks()
    names = sorted({*JOB_KIND_BASES[kind], *_kind_fields(kind), "demo_dir", "mirror_root"})
    base = {k: (world["ids"][1] if v == "TARGET" else v) for k, v in JOB_KIND_BASES[kind].items()}
    client = Client()
    failures = []
    for name in names:
        for value in JOB_SWEEP:
            body = {"kind": kind, "params": {**base, name: value}}
            try:
                with transaction.atomic():
                    response = _send(client, "POST", "/api/jobs", {}, body, world["auth"])
            except Exception as exc:  # noqa: BLE001 - an unhandled exception is a finding
                failures.append((name, repr(value)[:30], f"{type(exc).__name__}: {exc}"[:160]))
                continue
            if response.status_code >= 500:
                failures.append((name, repr(value)[:30], response.status_code))
    assert not failures, failures


def _kind_fields(kind: str) -> list[str]:
    from apps.archive.params import DownloadParams, IngestParams, TablesParams
    from apps.galex.params import ReduceParams
    from apps.jobs.params import LoadDemoParams, WorkerCheckParams
    from apps.lightcurves.params import ProcessParams, SearchParams
    from apps.ml.params import InferParams, TrainParams

    models = {
        "worker_check": WorkerCheckParams, "load_demo": LoadDemoParams, "reduce_eclipse": ReduceParams,
        "infer": InferParams, "train_model": TrainParams, "process_target": ProcessParams,
        "search_target": SearchParams, "archive_download": DownloadParams,
        "archive_ingest": IngestParams, "archive_import_tables": TablesParams,
    }  # fmt: skip
    return list(models[kind].model_fields)
