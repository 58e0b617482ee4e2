"""Catalogue labels (DR24 autovetter training set, DR25 robovetter, TOI dispositions) as named label sources.

Each source's table is read with the archive app's readers, its dispositions are mapped onto our label
codes (the catalogue's own value is kept in ``original``), and the rows attach to the TCEs that
catalogue produced (same star, same planet number, TCE source of that catalogue). Importing again
updates rows in place. These labels never mix with people's: exports include them only when asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.archive.science import catalogs
from apps.archive.science.errors import ArchiveDataError
from apps.catalog.models import TCE, TCESource
from apps.core.errors import InvalidInput
from apps.vetting.models import CatalogLabel, CatalogLabelSource

#: DR24 ``av_training_set`` -> our code. AFP (astrophysical false positive) does not say which kind;
#: NTP (non-transiting phenomenon: systematics or variability) is junk for us. UNK rows are skipped.
DR24_LABELS = {"PC": "PC", "AFP": "FP", "NTP": "J"}
#: TFOPWG dispositions -> our code (APC, an ambiguous candidate, stays unsure).
TOI_LABELS = {"PC": "PC", "CP": "PC", "KP": "PC", "APC": "?", "FP": "FP", "FA": "J"}
#: DR25 robovetter false-positive flags, strongest first: centroid offset -> background EB, stellar
#: eclipse -> EB, not transit-like -> junk; an FP with none of them (ephemeris match only) stays FP.
DR25_FLAG_LABELS = (("flag_co", "CO", "NEB"), ("flag_ss", "SS", "EB"), ("flag_nt", "NT", "J"))


@dataclass(frozen=True)
class SourceDef:
    tce_source: str
    default_glob: str


SOURCES: dict[str, SourceDef] = {
    CatalogLabelSource.DR24: SourceDef(TCESource.KEPLER_DR24, "q1_q17_dr24_tce*.csv"),
    CatalogLabelSource.DR25: SourceDef(TCESource.KEPLER_DR25, "kplr_dr25_obs_robovetter_output*.txt"),
    CatalogLabelSource.TOI: SourceDef(TCESource.TESS_TOI, "toi*.csv"),
}


def _dr24(path: Path) -> pd.DataFrame:
    frame = catalogs.read_table(path)
    _columns(frame, path, "kepid", "tce_plnt_num", "av_training_set")
    original = frame["av_training_set"].astype(str).str.strip()
    return pd.DataFrame({"identifier": frame["kepid"], "tce_number": frame["tce_plnt_num"],
                         "original": original, "label": original.map(DR24_LABELS)})


def _dr25(path: Path) -> pd.DataFrame:
    frame = catalogs.read_robovetter(path)
    disposition = frame["disposition"].astype(str).str.strip()
    labels, originals = [], []
    for row, value in zip(frame.itertuples(index=False), disposition, strict=True):
        raised = [(short, code) for column, short, code in DR25_FLAG_LABELS if getattr(row, column) == 1]
        if value == "FP":
            labels.append(raised[0][1] if raised else "FP")
            originals.append(f"FP ({','.join(s for s, _c in raised) or 'EM'})")
        else:
            labels.append("PC" if value == "PC" else None)
            originals.append(value)
    return pd.DataFrame({"identifier": frame["kepid"], "tce_number": frame["tce_plnt_num"],
                         "original": originals, "label": labels})


def _toi(path: Path) -> pd.DataFrame:
    frame = catalogs.read_table(path)
    _columns(frame, path, "tid", "toi", "tfopwg_disp")
    toi = pd.to_numeric(frame["toi"], errors="coerce")
    original = frame["tfopwg_disp"].astype(str).str.strip()
    # The TOI's planet number, as the TOI table import numbers its TCEs (apps.archive.science.catalogs).
    return pd.DataFrame({"identifier": frame["tid"], "tce_number": (toi.round(2) * 100).round() % 100,
                         "original": original, "label": original.map(TOI_LABELS)})


READERS = {CatalogLabelSource.DR24: _dr24, CatalogLabelSource.DR25: _dr25, CatalogLabelSource.TOI: _toi}


def _columns(frame: pd.DataFrame, path: Path, *names: str) -> None:
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise InvalidInput(f"{Path(path).name} lacks the column(s) {missing}")


def default_file(source: str) -> Path:
    """The source's table in the demo folder's catalogs/ (GAIA_DEMO_DATA)."""
    folder = Path(settings.GAIA_DEMO_DATA) / "catalogs"
    found = sorted(folder.glob(SOURCES[source].default_glob))
    if not found:
        raise InvalidInput(f"no {SOURCES[source].default_glob} under {folder}: give the file")
    return found[0]


def catalog_labels_import(*, source: str, path: Path | str | None = None) -> dict:
    """Import one catalogue's labels for the TCEs it produced; returns counts (matched, skipped, per label)."""
    if source not in SOURCES:
        raise InvalidInput(f"unknown label source {source!r}; known: {', '.join(SOURCES)}")
    path = Path(path) if path else default_file(source)
    if not path.is_file():
        raise InvalidInput(f"{path} does not exist")
    try:
        rows = READERS[source](path)
    except ArchiveDataError as exc:
        raise InvalidInput(str(exc)) from exc
    identifier = pd.to_numeric(rows["identifier"], errors="coerce")
    number = pd.to_numeric(rows["tce_number"], errors="coerce")
    usable = identifier.notna() & number.notna() & rows["label"].notna()
    tce_ids = dict(
        ((ident, num), pk)
        for ident, num, pk in TCE.objects.filter(source=SOURCES[source].tce_source).values_list(
            "target__identifier", "tce_number", "pk"
        )
    )
    now = timezone.now()
    records: dict[int, CatalogLabel] = {}
    for ident, num, label, original in zip(
        identifier[usable].astype(np.int64), number[usable].astype(np.int64), rows["label"][usable],
        rows["original"][usable], strict=True,
    ):
        pk = tce_ids.get((str(ident), int(num)))
        if pk is not None:
            records[pk] = CatalogLabel(tce_id=pk, source=source, label=label, original=original[:64], imported_at=now)
    with transaction.atomic():
        CatalogLabel.objects.bulk_create(
            list(records.values()), batch_size=5000, update_conflicts=True, unique_fields=["tce", "source"],
            update_fields=["label", "original", "imported_at"],
        )
    counts: dict[str, int] = {}
    for record in records.values():
        counts[record.label] = counts.get(record.label, 0) + 1
    return {
        "source": source, "file": path.name, "rows": int(len(rows)), "labelled_rows": int(usable.sum()),
        "matched": len(records), "unmatched": int(usable.sum()) - len(records),
        "without_label": int((~usable).sum()), "labels": dict(sorted(counts.items())),
    }
