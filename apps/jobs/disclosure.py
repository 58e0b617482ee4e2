"""What of a job each visitor may see: operators, admins and the requester see all of it;
anyone else sees its kind, status, progress and message, never tracebacks, parameters,
file paths or other people's user names."""

from __future__ import annotations

import re
from typing import Any

from apps.accounts.permissions import MANAGE_JOBS, user_can
from apps.jobs.models import Job

#: Absolute POSIX paths (two or more components) and Windows drive paths inside free text.
_PATH = re.compile(r"(?<![\w.:/])(?:/[^\s/'\"]+){2,}/?|\b[A-Za-z]:\\[^\s'\"]+")
REDACTED_PATH = "[path]"


def may_see_details(*, user, job: Job) -> bool:  # noqa: ANN001 - a django user or AnonymousUser
    if user_can(user, MANAGE_JOBS):
        return True
    return bool(getattr(user, "is_authenticated", False)) and job.requested_by_id == user.pk


def redact_paths(value: Any) -> Any:
    """``value`` with every absolute file path in its strings replaced by ``[path]`` (recursively)."""
    if isinstance(value, str):
        return _PATH.sub(REDACTED_PATH, value)
    if isinstance(value, dict):
        return {key: redact_paths(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_paths(item) for item in value]
    return value


def requester_name(*, user, job: Job) -> str:  # noqa: ANN001
    """Who asked: shown to those who may see details (and to the requester), else hidden."""
    if job.requested_by_id is None:
        return "system"
    if may_see_details(user=user, job=job):
        return job.requested_by.get_username()
    return "a user"
