"""The one permission table: every page, API operation and job kind → the permission it needs.

Pages are keyed by URL name (``PagePermissionMiddleware``), API operations by operation id
``<app>.<function>`` (``apps.accounts.auth.apply_permission_table``), job kinds by kind
(``apps.jobs.services.job_enqueue``). A route missing from the table is refused (fail closed),
and ``tests/accounts/test_permission_table.py`` fails when a URL pattern or an OpenAPI operation
has no entry. The README's "Access and roles" table is this file.

Levels, lowest first:
- ``OPEN``: anyone, always (login page, health check, static files);
- ``READ``: anonymous visitors too while ``GAIA_PUBLIC_READ=1``; else the ``view_site`` permission;
- ``SIGNED_IN``: any logged-in user (their own tokens; cancelling their own jobs);
- the role permissions on ``accounts.Access`` (see ``apps.accounts.roles``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.conf import settings

OPEN = "open"
READ = "view_site"
SIGNED_IN = "signed_in"
LABEL = "label"
ADJUDICATE = "adjudicate"
EXPORT_LABELS = "export_labels"
RUN_JOBS = "run_jobs"
MANAGE_JOBS = "manage_jobs"
ADMINISTER = "administer"

LEVELS = (OPEN, READ, SIGNED_IN, LABEL, ADJUDICATE, EXPORT_LABELS, RUN_JOBS, MANAGE_JOBS, ADMINISTER)

#: Pages by URL name (``namespace:name`` where namespaced). The admin site is its own: admins only.
PAGE_PERMISSIONS: dict[str, str] = {
    # gaia_web
    "healthz": OPEN,
    "login": OPEN,
    "logout": OPEN,
    "api-1:openapi-json": READ,  # the OpenAPI document and its Swagger UI
    "api-1:openapi-view": READ,
    # accounts
    "account-tokens": SIGNED_IN,
    "account-token-revoke": SIGNED_IN,
    # catalog
    "home": READ,
    "target-list": READ,
    "target-detail": READ,
    "tce-list": READ,
    "tce-detail": READ,
    # jobs
    "job-list": READ,
    "job-detail": READ,
    "job-enqueue": RUN_JOBS,  # the kind chosen then needs its own permission (JOB_PERMISSIONS)
    "job-cancel": SIGNED_IN,  # own jobs; MANAGE_JOBS for anyone's (checked in jobs.services)
    "job-retry": MANAGE_JOBS,
    "artifact-download": READ,
    # archive
    "archive:target_fetch": RUN_JOBS,
    # lightcurves
    "lightcurves-process": RUN_JOBS,
    "lightcurves-search": RUN_JOBS,
    # galex
    "galex-eclipse-list": READ,
    "galex-eclipse-detail": READ,
    "galex-eclipse-reduce": RUN_JOBS,
    "galex-eclipse-upload": RUN_JOBS,  # registers an eclipse from uploaded raw6 + aspect files
    # ml
    "ml-model-list": READ,
    "ml-model-detail": READ,
    "ml-score-target": RUN_JOBS,
    # vetting
    "vetting-label": LABEL,
    "vet-tce": READ,  # the label form on it shows only to those with LABEL
    "vet-queues": LABEL,
    "vet-next": LABEL,  # the conflicts queue: ADJUDICATE (checked in vetting.services)
    "vet-stats": READ,
    "vet-conflicts": ADJUDICATE,
    "vet-adjudicate": ADJUDICATE,
    "vet-export": EXPORT_LABELS,
}

#: The Django admin site (its model pages and admin actions): admins only. An admin action that
#: queues work also passes that job kind's rule below, like every other path.
ADMIN_SITE_PERMISSION = ADMINISTER

#: API operations by operation id ``<app>.<function>``.
API_PERMISSIONS: dict[str, str] = {
    # catalog
    "catalog.list_targets": READ,
    "catalog.get_target": READ,
    "catalog.list_target_tces": READ,
    "catalog.list_target_lightcurves": READ,
    "catalog.list_tces": READ,
    "catalog.get_tce": READ,
    "catalog.list_lightcurves": READ,
    "catalog.get_lightcurve": READ,
    "catalog.get_lightcurve_series": READ,
    # jobs
    "jobs.list_jobs": READ,
    "jobs.list_job_kinds": READ,
    "jobs.get_job": READ,
    "jobs.enqueue_job": RUN_JOBS,  # plus the kind's own entry in JOB_PERMISSIONS
    "jobs.cancel_job": SIGNED_IN,  # own jobs; MANAGE_JOBS for anyone's
    "jobs.retry_job": MANAGE_JOBS,
    # archive
    "archive.create_download": RUN_JOBS,  # catalogue-wide: ADMINISTER (JOB_PERMISSIONS)
    "archive.download_summary": READ,
    "archive.download_files": READ,
    "archive.import_tables": ADMINISTER,
    # lightcurves
    "lightcurves.process_target": RUN_JOBS,
    "lightcurves.search_target": RUN_JOBS,
    "lightcurves.get_views": READ,
    # galex
    "galex.list_eclipses": READ,
    "galex.get_eclipse": READ,
    "galex.list_products": READ,
    "galex.get_image": READ,  # the eclipse page's image in another stretch
    "galex.list_movie_frames": READ,  # the eclipse page's movie frames, fetched as played
    "galex.reduce": RUN_JOBS,
    "galex.target_eclipses": READ,  # /api/targets/{id}/galex
    # ml
    "ml.list_models": READ,
    "ml.get_model": READ,
    "ml.list_predictions": READ,
    "ml.tce_score": READ,
    "ml.score": RUN_JOBS,  # scoring the whole catalogue: ADMINISTER (JOB_PERMISSIONS)
    # vetting
    "vetting.get_labels": READ,
    "vetting.add_label": LABEL,
    "vetting.list_queues": LABEL,
    "vetting.next_in_queue": LABEL,  # the conflicts queue: ADJUDICATE (checked in vetting.services)
    "vetting.list_conflicts": ADJUDICATE,
    "vetting.add_adjudication": ADJUDICATE,
}

JobRule = str | Callable[[Mapping[str, Any], Sequence[int]], str]


def _given_targets_or_admin(params: Mapping[str, Any], target_ids: Sequence[int]) -> str:
    """Work on given targets is an operator's; the whole catalogue or local roots is an admin's."""
    scoped = bool(target_ids) or any(
        params.get(key) for key in ("identifiers", "target_ids", "target_id", "tce_ids", "file_ids")
    )
    catalogue_wide = bool(params.get("catalog") or params.get("missing"))
    local_source = params.get("source") in ("mirror", "local")
    return RUN_JOBS if scoped and not catalogue_wide and not local_source else ADMINISTER


#: Job kinds → the permission needed to queue one (a rule may look at the parameters).
JOB_PERMISSIONS: dict[str, JobRule] = {
    "worker_check": RUN_JOBS,
    "process_target": RUN_JOBS,
    "search_target": RUN_JOBS,
    "reduce_eclipse": RUN_JOBS,
    "infer": _given_targets_or_admin,
    "archive_download": _given_targets_or_admin,
    "archive_ingest": _given_targets_or_admin,
    "archive_import_tables": ADMINISTER,
    "train_model": ADMINISTER,
    "load_demo": ADMINISTER,
    "export_labels": EXPORT_LABELS,
}


def job_permission(kind: str, params: Mapping[str, Any], target_ids: Sequence[int] = ()) -> str:
    """The permission needed to queue ``kind`` with ``params``; unknown kinds need ADMINISTER."""
    rule = JOB_PERMISSIONS.get(kind, ADMINISTER)
    return rule(params, target_ids) if callable(rule) else rule


def user_can(user, level: str) -> bool:  # noqa: ANN001 - a django user or AnonymousUser
    """Whether ``user`` (maybe anonymous) may do what ``level`` guards."""
    if level == OPEN:
        return True
    authenticated = bool(getattr(user, "is_authenticated", False))
    if level == READ and settings.GAIA_PUBLIC_READ:
        return True
    if not authenticated or not user.is_active:
        return False
    if level == SIGNED_IN:
        return True
    if level not in LEVELS:
        raise ValueError(f"unknown permission level {level!r}")
    return user.has_perm(f"accounts.{level}")


def needs_login(user, level: str) -> bool:  # noqa: ANN001
    """True when the refusal is for want of a login (401) rather than of a role (403)."""
    return not getattr(user, "is_authenticated", False) and not user_can(user, level)


def admin_site_allows(request) -> bool:  # noqa: ANN001 - an HttpRequest
    """``AdminSite.has_permission``: an active staff user holding ADMIN_SITE_PERMISSION."""
    user = request.user
    return bool(user.is_active and user.is_staff and user_can(user, ADMIN_SITE_PERMISSION))


def _rule_text(rule: JobRule) -> str:
    if not callable(rule):
        return f"`{rule}`"
    return "`run_jobs` for given targets/ids; `administer` for catalogue-wide, `missing`, mirror or local sources"


def markdown_tables() -> str:
    """The table as README markdown (a test keeps the README's copy equal to this)."""
    lines = ["| page (URL name) | needs |", "|---|---|"]
    lines += [f"| `{key}` | `{level}` |" for key, level in PAGE_PERMISSIONS.items()]
    lines += ["", "| API operation | needs |", "|---|---|"]
    lines += [f"| `{key}` | `{level}` |" for key, level in API_PERMISSIONS.items()]
    lines += ["", "| job kind | needs |", "|---|---|"]
    lines += [f"| `{kind}` | {_rule_text(rule)} |" for kind, rule in JOB_PERMISSIONS.items()]
    return "\n".join(lines)
