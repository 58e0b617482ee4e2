"""The permission table covers every page, API operation and job kind: a new route without an
entry fails here (and is refused to everyone by the gates until it has one)."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts.middleware import API_DOC_NAMES, API_NAMESPACE, page_key
from apps.accounts.permissions import API_PERMISSIONS, JOB_PERMISSIONS, LEVELS, PAGE_PERMISSIONS
from apps.jobs.registry import JOB_ACTORS, autodiscover_tasks


def walk(patterns, namespace: str = "", prefix: str = ""):  # noqa: ANN001, ANN201
    """(namespace, url name, route) of every URL pattern, nested includes included."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from walk(entry.url_patterns, inner, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield namespace, entry.name, prefix + str(entry.pattern)


def page_routes() -> list[tuple[str, str | None, str]]:
    return [
        (ns, name, route)
        for ns, name, route in walk(get_resolver().url_patterns)
        if page_key(ns, name) is not None
    ]


def test_every_page_has_a_name_and_an_entry():
    routes = page_routes()
    assert len(routes) > 20
    unnamed = [route for _ns, name, route in routes if not name]
    assert not unnamed, f"pages without a URL name cannot be gated: {unnamed}"
    missing = sorted({page_key(ns, name) for ns, name, _r in routes} - set(PAGE_PERMISSIONS))
    assert not missing, f"pages missing from PAGE_PERMISSIONS: {missing}"


def test_the_page_table_has_no_stale_entries():
    keys = {page_key(ns, name) for ns, name, _route in page_routes()}
    assert set(PAGE_PERMISSIONS) - keys == set()


def test_the_api_docs_are_pages_and_operations_are_not():
    assert {f"{API_NAMESPACE}:{name}" for name in API_DOC_NAMES} <= set(PAGE_PERMISSIONS)
    assert page_key(API_NAMESPACE, "list_targets") is None and page_key("admin", "index") is None


@pytest.mark.django_db
def test_every_openapi_operation_has_an_entry_and_both_auth_schemes(client):
    schema = client.get("/api/openapi.json").json()
    operations = {
        op["operationId"]: (method, path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
    }
    assert len(operations) >= 30
    assert sorted(set(operations) - set(API_PERMISSIONS)) == []
    assert sorted(set(API_PERMISSIONS) - set(operations)) == []
    for op_id, (_method, _path, op) in operations.items():
        names = {name for requirement in op.get("security", []) for name in requirement}
        assert names == {"TokenAuth", "SessionAuth"}, op_id


def test_every_job_kind_has_an_entry():
    autodiscover_tasks()
    # Kinds that tests declare for themselves (tests/jobs/actors.py) are not the site's.
    site_kinds = {kind for kind, actor in JOB_ACTORS.items() if actor.fn.__module__.startswith("apps.")}
    assert len(site_kinds) >= 10
    assert sorted(site_kinds - set(JOB_PERMISSIONS)) == []


def test_every_entry_names_a_known_level():
    for table in (PAGE_PERMISSIONS, API_PERMISSIONS):
        assert set(table.values()) <= set(LEVELS)
    assert all(callable(rule) or rule in LEVELS for rule in JOB_PERMISSIONS.values())


@pytest.mark.django_db
def test_no_api_write_is_open_to_anonymous_visitors(client):
    from apps.accounts.permissions import OPEN, READ

    schema = client.get("/api/openapi.json").json()
    for item in schema["paths"].values():
        for method, op in item.items():
            if method.upper() not in ("GET", "HEAD", "OPTIONS"):
                assert API_PERMISSIONS[op["operationId"]] not in (OPEN, READ), op["operationId"]
