"""Admin actions that queue jobs: one factory, so every app's "queue a job for each selected
target" action behaves (and reports) the same way."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.jobs.services import job_enqueue

TargetAction = Callable[[admin.ModelAdmin, HttpRequest, QuerySet], None]


def target_job_action(*, name: str, kind: str, description: str, done: str) -> TargetAction:
    """An admin action queueing one ``kind`` job per selected target, with ``{"target_id": pk}``.

    ``name`` is the action's name in the admin's form (Django tells actions apart by it);
    ``done`` is the message shown afterwards, with ``{n}`` standing for the number of targets.
    """

    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        for target in queryset:
            job_enqueue(kind=kind, params={"target_id": target.pk}, targets=[target], user=request.user)
        modeladmin.message_user(request, done.format(n=queryset.count()), messages.INFO)

    action.__name__ = action.__qualname__ = name
    return admin.action(description=description)(action)
