"""A job's report as a person reads it: its plain values, and links to what the job made or touched.

Reports are free-form dicts. Any key that names an id (``tce_id``, ``tce_ids``, ``ingest_job_id``,
``model_version``, ...) becomes a link when some app registered that kind of id: the app that owns
the page registers ``register_report_link("tce", "TCEs", resolver)`` in its ``AppConfig.ready()``,
where the resolver maps ids to ``(label, url)`` (ids it does not know are left out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

Resolver = Callable[[list[int]], dict[int, tuple[str, str]]]
#: id kind (``tce``) -> (heading, resolver)
_LINKS: dict[str, tuple[str, Resolver]] = {}
#: Lists and dicts longer than this are summarised by their length.
MAX_INLINE = 8


def register_report_link(kind: str, heading: str, resolver: Resolver) -> None:
    _LINKS[kind] = (heading, resolver)


@dataclass
class ReportSummary:
    facts: list[tuple[str, str]] = field(default_factory=list)  # top-level (key, value shown)
    links: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)  # (heading, [(label, url)])


def _id_kind(key: str) -> str | None:
    """The registered kind a key's value holds ids of: ``tce_ids`` -> tce, ``ingest_job_id`` -> job."""
    key = key.lower()
    for kind in _LINKS:
        if key in (kind, f"{kind}_id", f"{kind}_ids") or key.endswith((f"_{kind}_id", f"_{kind}_ids")):
            return kind
    return None


def _ints(value: Any) -> list[int]:
    values = value if isinstance(value, list | tuple) else [value]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


def _collect_ids(value: Any, found: dict[str, list[int]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            kind = _id_kind(str(key))
            if kind and _ints(item):
                found.setdefault(kind, []).extend(_ints(item))
            else:
                _collect_ids(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_ids(item, found)


def _shown(value: Any) -> str:
    """A value in a few words: scalars as they are, short flat lists and dicts inline, else a count."""
    if isinstance(value, dict):
        if len(value) <= MAX_INLINE and all(not isinstance(v, dict | list) for v in value.values()):
            return ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"
        return f"{len(value)} {'entry' if len(value) == 1 else 'entries'}"
    if isinstance(value, list | tuple):
        if len(value) <= MAX_INLINE and all(not isinstance(v, dict | list) for v in value):
            return ", ".join(str(v) for v in value) or "none"
        return f"{len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return "—" if value is None else str(value)


def report_summary(*sources: dict) -> ReportSummary:
    """The top-level values of the first source (a report) and links for the ids found in all of them."""
    summary = ReportSummary()
    if not sources:
        return summary
    report = sources[0] or {}
    summary.facts = [
        (str(key), _shown(value)) for key, value in report.items() if not (_id_kind(str(key)) and _ints(value))
    ]
    found: dict[str, list[int]] = {}
    for source in sources:
        _collect_ids(source or {}, found)
    for kind, ids in found.items():
        heading, resolver = _LINKS[kind]
        unique = list(dict.fromkeys(ids))
        resolved = resolver(unique)
        links = [resolved[i] for i in unique if i in resolved]
        if links:
            summary.links.append((heading, links))
    return summary


def _artifact_links(ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    from apps.jobs.models import Artifact

    return {
        a.pk: (f"{a.kind} {a.key} v{a.version}", reverse("artifact-download", args=[a.pk]))
        for a in Artifact.objects.filter(pk__in=list(ids))
    }


def _job_links(ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    from apps.jobs.models import Job

    return {j.pk: (f"job #{j.pk} ({j.kind})", reverse("job-detail", args=[j.pk])) for j in Job.objects.filter(pk__in=list(ids))}


register_report_link("artifact", "Artifacts", _artifact_links)
register_report_link("job", "Jobs", _job_links)
