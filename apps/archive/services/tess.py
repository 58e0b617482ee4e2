"""TESS sector scripts: fetch MAST's per-sector bulk-download scripts once, cache TIC -> files."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from apps.archive.clients import fetch_policy, script_verifier, tess_script_url, transport_for
from apps.archive.errors import ArchiveUnavailable
from apps.archive.fetch import FetchRequest, fetch_files
from apps.archive.models import TessSector, TessSectorFile
from apps.archive.science.naming import parse_sector_script
from apps.core.errors import InvalidInput
from apps.core.files import data_root

TESS_LAST_SECTOR = 96
"""Highest sector tried when a TESS request names none (scripts that 404 are marked unavailable)."""


def tess_sector_scripts_ensure(
    *,
    sectors: Sequence[int],
    source: str = "mast",
    mirror_root: str | None = None,
    refresh: bool = False,
) -> dict:
    """Fetch, parse and cache the bulk-download scripts of the given TESS sectors.

    Scripts already cached are not fetched again (unless ``refresh``); a sector whose script the
    archive does not have (404) is recorded as unavailable and retried after a day.
    """
    bad = [s for s in sectors if not 1 <= int(s) <= 999]
    if bad:
        raise InvalidInput(f"TESS sectors must be between 1 and 999, not {bad}")
    recent = timezone.now() - timedelta(days=1)
    cached = set(
        TessSector.objects.filter(sector__in=sectors)
        .exclude(available=False, fetched_at__lt=recent)
        .values_list("sector", flat=True)
    )
    wanted = [int(s) for s in sectors if refresh or int(s) not in cached]
    folder = data_root() / "archive" / "tess" / "scripts"
    requests = [
        FetchRequest(
            key=s,
            url=tess_script_url(s),
            dest=folder / f"tesscurl_sector_{s}_lc.sh",
            verify=script_verifier(s),
        )
        for s in wanted
    ]
    report = {"fetched": 0, "unavailable": [], "failed": {}}
    transport = transport_for(source=source, mirror_root=mirror_root)
    for event in fetch_files(
        requests, fetch_policy(concurrency=min(8, max(1, len(requests)))), transport=transport
    ):
        if event.kind == "done":
            _store_sector(event.key, folder / f"tesscurl_sector_{event.key}_lc.sh", event.sha256)
            report["fetched"] += 1
        elif event.kind == "missing":
            TessSector.objects.update_or_create(
                sector=event.key,
                defaults={
                    "script_url": tess_script_url(event.key),
                    "available": False,
                    "n_files": 0,
                },
            )
            report["unavailable"].append(event.key)
        elif event.kind == "failed":
            report["failed"][event.key] = event.error
    if report["failed"]:
        raise ArchiveUnavailable(f"TESS sector scripts could not be fetched: {report['failed']}")
    return report


def _store_sector(sector: int, path: Path, sha256: str) -> None:
    names = parse_sector_script(path.read_text(errors="replace"), sector=sector)
    with transaction.atomic():
        row, _ = TessSector.objects.update_or_create(
            sector=sector,
            defaults={
                "script_url": tess_script_url(sector),
                "script_sha256": sha256,
                "n_files": len(names),
                "available": True,
            },
        )
        TessSectorFile.objects.filter(sector=row).delete()
        TessSectorFile.objects.bulk_create(
            [TessSectorFile(sector=row, tic_id=n.identifier, filename=n.filename) for n in names],
            batch_size=5000,
        )
