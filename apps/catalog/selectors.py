"""Reads for targets, TCEs and light curves: search, filters, sorting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from astropy.coordinates import angular_separation
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from apps.catalog.models import TCE, LightCurve, Mission, Target
from apps.core.bounds import MAX_TEXT, text_check
from apps.core.errors import InvalidInput, NotFound
from apps.core.queries import filter_given, rows_by_ids

_PREFIX_MISSION = {"kic": Mission.KEPLER, "kplr": Mission.KEPLER, "tic": Mission.TESS, "epic": Mission.K2, "ktwo": Mission.K2}
#: Longest search string: identifiers and names are far shorter; longer input is refused (422).
MAX_QUERY_LENGTH = MAX_TEXT
#: A name search lists at most this many targets (refine the text for more).
MAX_SEARCH_MATCHES = 10_000

TARGET_ORDERINGS = {
    "identifier": ("mission", "identifier"),
    "name": ("name",),
    "magnitude": ("magnitude",),
    "teff": ("teff",),
    "tces": ("n_tces",),
}
TCE_ORDERINGS = {
    "score": "score",
    "period": "period_days",
    "snr": "snr",
    "depth": "depth_ppm",
    "duration": "duration_hours",
    "target": "target__identifier",
    "epoch": "epoch",
}


@dataclass(frozen=True)
class ParsedQuery:
    mission: str | None
    identifier: str | None
    text: str


def _ascii_number(text: str) -> str | None:
    """``text`` as a canonical decimal string when it is ASCII digits only ("00123" -> "123")."""
    if text and text.isascii() and text.isdigit():
        return text.lstrip("0") or "0"
    return None


def split_prefixed_id(text: str) -> tuple[str, str] | None:
    """("kic", "11442793") for "KIC 11442793", "kplr-11442793", "tic_25155310"; None otherwise.

    One left-to-right pass of string methods (no regular expression, nothing to backtrack): the
    cost is linear in the length of ``text`` whatever it holds.
    """
    head = text[:4].lower()
    prefix = next((p for p in _PREFIX_MISSION if head.startswith(p)), None)
    if prefix is None:
        return None
    rest = text[len(prefix) :].lstrip()
    if rest[:1] in ("-", "_"):
        rest = rest[1:].lstrip()
    number = _ascii_number(rest.rstrip())
    return (prefix, number) if number is not None else None


def parse_target_query(query: str) -> ParsedQuery:
    """Understand "KIC 11442793", "TIC 25155310", "11442793" and names such as "Kepler-90"."""
    text_check(query, name="the search text", max_length=MAX_QUERY_LENGTH)
    text = query.strip()
    prefixed = split_prefixed_id(text)
    if prefixed:
        return ParsedQuery(_PREFIX_MISSION[prefixed[0]], prefixed[1], text)
    number = _ascii_number(text)
    if number is not None:
        return ParsedQuery(None, number, text)
    return ParsedQuery(None, None, text)


def _order(queryset: QuerySet, sort: str | None, allowed: dict) -> QuerySet:
    if not sort:
        return queryset
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in allowed:
        raise InvalidInput(f"cannot sort by {key!r}; choose from {sorted(allowed)}")
    fields = allowed[key] if isinstance(allowed[key], tuple) else (allowed[key],)
    # Missing values (no magnitude, no score yet) go last whichever the direction.
    order = [F(f).desc(nulls_last=True) if descending else F(f).asc(nulls_last=True) for f in fields]
    return queryset.order_by(*order, "id")


def _within(
    queryset: QuerySet, field: str, low: float | None, high: float | None, *, label: str | None = None
) -> QuerySet:
    """Rows whose ``field`` lies in [low, high], either end optional; a range with low > high is
    the caller's mistake, answered as InvalidInput rather than silently as no rows."""
    if low is not None and high is not None and low > high:
        raise InvalidInput(f"{label or field} range is empty: minimum {low} > maximum {high}")
    if low is not None:
        queryset = queryset.filter(**{f"{field}__gte": low})
    if high is not None:
        queryset = queryset.filter(**{f"{field}__lte": high})
    return queryset


def target_list(
    *,
    q: str | None = None,
    mission: str | None = None,
    mag_min: float | None = None,
    mag_max: float | None = None,
    teff_min: float | None = None,
    teff_max: float | None = None,
    has_tces: bool | None = None,
    has_lightcurves: bool | None = None,
    disposition: str | None = None,
    sort: str | None = None,
) -> QuerySet[Target]:
    """Targets matching every filter given (``n_tces``/``n_lightcurves`` are columns kept by the database)."""
    targets = Target.objects.all()
    if mission:
        if mission not in Mission.values:
            raise InvalidInput(f"unknown mission {mission!r}; choose from {Mission.values}")
        targets = targets.filter(mission=mission)
    if q:
        parsed = parse_target_query(q)
        if parsed.identifier:
            targets = targets.filter(identifier=parsed.identifier)
            if parsed.mission:
                targets = targets.filter(mission=parsed.mission)
        else:
            lowered = parsed.text.lower()
            # The matches first (GIN indexes on search_names and on the name's trigrams), fetched, then
            # the list's order over those ids: as one statement the planner, unable to tell how few names
            # contain the text, walks the whole ordered table testing each row against the matches.
            matches = Target.objects.filter(Q(search_names__contains=[lowered]) | Q(name__icontains=parsed.text))
            ids = list(matches.order_by().values_list("pk", flat=True)[:MAX_SEARCH_MATCHES])
            targets = targets.filter(pk__in=ids)
    targets = _within(targets, "magnitude", mag_min, mag_max)
    targets = _within(targets, "teff", teff_min, teff_max)
    if has_tces is not None:
        targets = targets.filter(n_tces__gt=0) if has_tces else targets.filter(n_tces=0)
    if has_lightcurves is not None:
        targets = targets.filter(n_lightcurves__gt=0) if has_lightcurves else targets.filter(n_lightcurves=0)
    if disposition:
        targets = targets.filter(
            Exists(TCE.objects.filter(target=OuterRef("pk"), disposition=disposition))
        )
    return _order(targets, sort, TARGET_ORDERINGS) if sort else targets.order_by("mission", "identifier")


def target_get(*, target_id: int) -> Target:
    try:
        return Target.objects.get(pk=target_id)
    except Target.DoesNotExist as exc:
        raise NotFound(f"target {target_id} does not exist") from exc


def targets_by_ids(*, ids: Sequence[int]) -> list[Target]:
    """The targets with these primary keys (the entry points' ``target_ids``), in no particular order;
    InvalidInput names the ids that match no target, so a request never silently drops one."""
    return rows_by_ids(Target.objects.all(), ids, noun="target")


def target_find(*, query: str) -> Target:
    """The one target a user means by an identifier or name, or NotFound."""
    matches = list(target_list(q=query)[:2])
    if not matches:
        raise NotFound(f"no target matches {query!r}")
    return matches[0]


def tce_list(
    *,
    target_id: int | None = None,
    mission: str | None = None,
    source: str | None = None,
    disposition: str | None = None,
    period_min: float | None = None,
    period_max: float | None = None,
    snr_min: float | None = None,
    score_min: float | None = None,
    score_max: float | None = None,
    q: str | None = None,
    sort: str | None = None,
) -> QuerySet[TCE]:
    """TCEs matching every filter; ``score`` is the default triage model's probability (a column the ml app keeps)."""
    tces = TCE.objects.select_related("target")
    if score_min is not None:
        tces = tces.filter(score__gte=score_min)
    if score_max is not None:
        tces = tces.filter(score__lte=score_max)
    if target_id is not None:
        tces = tces.filter(target_id=target_id)
    tces = filter_given(tces, mission=mission, source=source, disposition=disposition)
    tces = _within(tces, "period_days", period_min, period_max, label="period")
    tces = _within(tces, "snr", snr_min, None)
    if q:
        tces = tces.filter(target__in=target_list(q=q).values("pk"))
    if sort:
        return _order(tces, sort, TCE_ORDERINGS)
    return tces.order_by("target__mission", "target__identifier", "tce_number", "source")


def tce_get(*, tce_id: int) -> TCE:
    try:
        return TCE.objects.select_related("target").get(pk=tce_id)
    except TCE.DoesNotExist as exc:
        raise NotFound(f"TCE {tce_id} does not exist") from exc


def lightcurve_list(*, target_id: int | None = None) -> QuerySet[LightCurve]:
    curves = LightCurve.objects.select_related("target")
    if target_id is not None:
        curves = curves.filter(target_id=target_id)
    return curves.order_by("target_id", "quarter_or_sector", "source_filename")


def lightcurve_get(*, lightcurve_id: int) -> LightCurve:
    try:
        return LightCurve.objects.select_related("target").get(pk=lightcurve_id)
    except LightCurve.DoesNotExist as exc:
        raise NotFound(f"light curve {lightcurve_id} does not exist") from exc


#: Two targets of different missions within this separation are taken for the same star (the
#: KIC, EPIC and TIC positions are all J2000 at epoch 2000; a few arcsec allow for catalogue
#: astrometry while staying far below the spacing of resolved stars in these catalogues).
SAME_STAR_ARCSEC = 3.0


def same_star_targets(*, target: Target, radius_arcsec: float = SAME_STAR_ARCSEC) -> list[Target]:
    """Targets of the other missions whose position lies within ``radius_arcsec`` of this one's
    (the same star observed by Kepler/K2 and TESS), nearest first; none without a position."""
    if target.ra is None or target.dec is None:
        return []
    radius = radius_arcsec / 3600.0
    cos_dec = max(np.cos(np.radians(target.dec)), 1e-6)
    box = Target.objects.filter(
        dec__gte=target.dec - radius, dec__lte=target.dec + radius,
        ra__gte=target.ra - radius / cos_dec, ra__lte=target.ra + radius / cos_dec,
    ).exclude(mission=target.mission).exclude(mission=Mission.GALEX)  # fmt: skip
    near = [(angular_separation_arcsec(target.ra, target.dec, t.ra, t.dec), t) for t in box]
    return [t for sep, t in sorted(near, key=lambda pair: pair[0]) if sep <= radius_arcsec]


def angular_separation_arcsec(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """Great-circle separation of two positions, degrees in, arcsec out (astropy's Vincenty
    formula, exact at small angles and near the poles)."""
    return float(np.degrees(angular_separation(*np.radians([ra1, dec1, ra2, dec2]))) * 3600.0)
