"""A synthetic catalogue at full size, written with COPY, and removed again exactly.

Everything it writes is marked, and nothing it writes can be taken for real data:

* targets have identifiers in the reserved range ``ID_BASE`` + n (twelve digits starting 99: above every
  KIC/EPIC id, and a TIC id no star has) and ``stellar_source`` ``SYNTHETIC``;
* their TCEs have source ``synthetic`` (release ``seed_scale``), so no catalogue import touches them;
* predictions and labels belong to those TCEs; labels are by users named ``seed_scale_vetter_N``;
* jobs carry ``message_id`` ``SYNTHETIC`` (indexed) and ``"synthetic": true`` in their parameters (so
  no real request is ever de-duplicated onto one); queued ones are marked cancel-requested and running
  ones have no heartbeat, so the reconciler never sends or re-queues them;
* one ``seed_scale`` job records the run (sizes, timings, and what else was created: a synthetic default
  model when there was none, the queue-sync marks when there were none), which ``seed_drop`` reads.

Distributions: periods log-uniform over 0.5-500 d with a pile-up at 1-20 d; durations from the period
(a solar-type star's transit, times a spread, at most 1/4 of the period); depths log-uniform 20 ppm to 5 %;
SNR 7.1 plus a log-normal tail; magnitudes per mission (Kp ~ N(14.5, 1.6), Tmag ~ N(10.5, 2.0));
dispositions in the mix of each mission's catalogue (DR24 for Kepler/K2, TOI for TESS); model scores
that follow the disposition (planets high, false alarms low) with noise between scoring runs; labels by
six vetters of accuracy 0.72-0.92 on a class derived from the disposition, two people on most TCEs,
some one or three; jobs of every status and kind over the last year.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from apps.accounts.roles import set_role
from apps.catalog.models import TCE, LightCurve, Target
from apps.core.errors import Conflict
from apps.core.files import resolve_data_path
from apps.jobs.models import Artifact, Job, JobStatus
from apps.ml.models import ModelVersion, Prediction
from apps.ml.panels import POSITIVE
from apps.ml.products import model_weights_key
from apps.vetting.models import VettingLabel, VettingQueueSync, VettingState, VettingStatus
from apps.vetting.services import queue_rows_sync

#: Reserved identifier range: 990,000,000,000 + n.
ID_BASE = 990_000_000_000
ID_PATTERN = r"^99[0-9]{10}$"
SYNTHETIC = "synthetic:seed_scale"
TCE_SOURCE = "synthetic"
TCE_RELEASE = "seed_scale"
USER_PREFIX = "seed_scale_"
RUN_KIND = "seed_scale"
N_VETTERS = 6
MAX_TCES_PER_TARGET = 12
MODEL_NAME = "synthetic_seed_scale"

MISSIONS = (("kepler", 0.45), ("tess", 0.45), ("k2", 0.10))
DISPOSITIONS = {
    # DR24's mix (PC 18 %, AFP 21 %, NTP 45 %, UNK the rest) and the TOI table's (TFOPWG).
    "kepler": (("PC", 0.18), ("AFP", 0.21), ("NTP", 0.45), ("UNK", 0.16)),
    "k2": (("PC", 0.18), ("AFP", 0.21), ("NTP", 0.45), ("UNK", 0.16)),
    "tess": (("PC", 0.45), ("FP", 0.14), ("KP", 0.08), ("CP", 0.07), ("APC", 0.05), ("FA", 0.06), ("UNK", 0.15)),
}
#: What a careful vetter would call a TCE of each catalogue disposition (the "truth" labels scatter around).
TRUE_CLASS = {
    "PC": (("PC", 0.85), ("EB", 0.08), ("FP", 0.07)), "CP": (("PC", 1.0),), "KP": (("PC", 1.0),),
    "APC": (("PC", 0.5), ("FP", 0.3), ("V", 0.2)), "AFP": (("EB", 0.55), ("NEB", 0.25), ("FP", 0.2)),
    "FP": (("EB", 0.4), ("NEB", 0.3), ("FP", 0.3)), "NTP": (("IS", 0.45), ("V", 0.3), ("J", 0.25)),
    "FA": (("IS", 0.6), ("J", 0.4)), "UNK": (("PC", 0.3), ("EB", 0.2), ("IS", 0.3), ("V", 0.2)),
}
VETTER_ACCURACY = (0.92, 0.88, 0.85, 0.82, 0.78, 0.72)
LABELS = ("PC", "EB", "NEB", "FP", "V", "IS", "J")
JOB_KINDS = (
    ("process_target", "cpu", 0.34), ("infer", "cpu", 0.14), ("archive_download", "downloads", 0.16),
    ("archive_ingest", "cpu", 0.10), ("search_target", "cpu", 0.12), ("reduce_eclipse", "cpu", 0.04),
    ("worker_check", "default", 0.06), ("export_labels", "default", 0.02), ("archive_import_tables", "downloads", 0.02),
)
PER_TARGET_KINDS = {"process_target", "infer", "archive_download", "search_target"}
JOB_STATUSES = (
    (JobStatus.SUCCEEDED.value, 0.80), (JobStatus.FAILED.value, 0.08), (JobStatus.CANCELLED.value, 0.04),
    (JobStatus.QUEUED.value, 0.04), (JobStatus.RUNNING.value, 0.04),
)
ERRORS = (
    "TransientJobError: MAST answered 503 Service Unavailable", "no yu2019 views: process the target first",
    "worker lost: no heartbeat for 140 s, after 3 attempt(s) (lease 120 s); retry budget spent",
    "InvalidInput: no transit of this TCE falls in the data",
)


def _choice(rng: np.random.Generator, table: Sequence[tuple], size: int) -> np.ndarray:
    names = np.array([row[0] for row in table], dtype=object)
    weights = np.array([row[-1] for row in table], dtype=float)
    return names[rng.choice(len(names), size=size, p=weights / weights.sum())]


def _stamps(base: datetime, seconds: np.ndarray) -> list[str]:
    """ISO timestamps ``base + seconds`` (COPY takes text; formatting each row's own is what costs)."""
    epoch = base.timestamp()
    return [datetime.fromtimestamp(epoch + s, UTC).isoformat() for s in seconds.tolist()]


def _ids(table: str, n: int) -> np.ndarray:
    """``n`` fresh primary keys from the table's own sequence (safe beside concurrent inserts)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
        )
        return np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)


def _copy(model, columns: Sequence[str], rows: Iterable[Sequence]) -> int:  # noqa: ANN001 - a model class
    """COPY ``rows`` into ``model``'s table (psycopg 3 ``cursor.copy``); returns rows written."""
    table = model._meta.db_table
    n = 0
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def seed_present() -> bool:
    return Job.objects.filter(kind=RUN_KIND, message_id=SYNTHETIC).exists()


def _users() -> tuple[list, object]:
    user_model = get_user_model()
    vetters = []
    for i in range(1, N_VETTERS + 1):
        user = user_model.objects.create_user(username=f"{USER_PREFIX}vetter_{i}", password=None)
        set_role(user, "vetter")
        vetters.append(user)
    operator = user_model.objects.create_user(username=f"{USER_PREFIX}operator", password=None)
    set_role(operator, "operator")
    return vetters, operator


def _model_version(now: datetime) -> tuple[ModelVersion, bool]:
    """The triage default to score with; a synthetic one (made default) when the site has none."""
    from apps.jobs.services import artifact_store
    from apps.ml.selectors import default_version

    version = default_version("triage")
    if version is not None:
        return version, False
    placeholder = Path(tempfile.mkdtemp(prefix="seed_scale_")) / f"{MODEL_NAME}.txt"
    placeholder.write_text("synthetic model of manage.py seed_scale: no weights\n")
    digest = hashlib.sha256(placeholder.read_bytes()).hexdigest()
    weights = artifact_store(key=model_weights_key(MODEL_NAME), kind="model_weights", source=placeholder,
                             meta={"synthetic": SYNTHETIC})
    version = ModelVersion.objects.create(
        name=MODEL_NAME, task="triage", preset="yu2019_triage", view_preset="yu2019", weights_sha256=digest,
        weights=weights, manifest={"synthetic": SYNTHETIC}, is_default=True, created_at=now,
    )
    return version, True


def seed_scale(
    *, targets: int, tces: int, predictions: int, labels: int, jobs: int, seed: int = 0,
    log: Callable[[str], None] = lambda message: None,
) -> dict:
    """Write the synthetic catalogue; returns the run's record (counts, timings, what was created)."""
    if seed_present():
        raise Conflict("a seed_scale catalogue is already in this database: run seed_scale --drop first")
    if Target.objects.filter(identifier__regex=ID_PATTERN).exists():
        raise Conflict(f"targets with identifiers in the reserved range {ID_BASE}+ exist; refusing to mix")
    if targets < 1 or tces < 0 or predictions < 0 or labels < 0 or jobs < 0:
        raise Conflict("sizes must be positive (targets) or zero")
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    timings: dict[str, float] = {}
    created: dict[str, object] = {"sync_marks": sorted(VettingQueueSync.objects.values_list("name", flat=True))}

    def step(name: str, started: float) -> None:
        timings[name] = round(time.perf_counter() - started, 2)
        log(f"{name}: {timings[name]:.1f} s")

    started = time.perf_counter()
    with transaction.atomic():
        vetters, operator = _users()
        version, made_model = _model_version(now)
        created["model_version"] = version.pk if made_model else None
        run = Job.objects.create(
            kind=RUN_KIND, status=JobStatus.SUCCEEDED, message_id=SYNTHETIC, queue_name="default",
            params={"synthetic": True, "targets": targets, "tces": tces, "predictions": predictions,
                    "labels": labels, "jobs": jobs, "seed": seed},
            provenance={"synthetic": SYNTHETIC}, stage="seeding", created_at=now, started_at=now,
        )
    step("users and model", started)

    with transaction.atomic():
        started = time.perf_counter()
        target_ids, target_mission = _seed_targets(rng, targets, now)
        step(f"{targets:,} targets", started)
        started = time.perf_counter()
        tce = _tce_arrays(rng, tces, target_ids, target_mission)
        scores = _prediction_arrays(rng, predictions, tce, version, now)
        _copy_tces(tce, scores["newest"], now)
        step(f"{tces:,} TCEs", started)
        started = time.perf_counter()
        _copy_predictions(scores, version)
        step(f"{predictions:,} predictions", started)
        started = time.perf_counter()
        n_labelled = _seed_labels(rng, labels, tce, vetters, now)
        step(f"{labels:,} labels on {n_labelled:,} TCEs", started)
        started = time.perf_counter()
        _seed_jobs(rng, jobs, target_ids, operator, now)
        step(f"{jobs:,} jobs", started)
    started = time.perf_counter()
    queue_rows_sync()
    step("vetting queue rows (queue_rows_sync)", started)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in (Target, TCE, Prediction, VettingLabel, VettingState, Job, Job.targets.through):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    step("ANALYZE", started)
    record = {"sizes": {"targets": targets, "tces": tces, "predictions": predictions, "labels": labels, "jobs": jobs},
              "timings_s": timings, "total_s": round(sum(timings.values()), 1), "created": created,
              "model_version": version.pk}
    Job.objects.filter(pk=run.pk).update(result=record, stage="seeded", finished_at=datetime.now(UTC))
    return record


def _seed_targets(rng: np.random.Generator, n: int, now: datetime) -> tuple[np.ndarray, np.ndarray]:
    ids = _ids(Target._meta.db_table, n)
    mission = _choice(rng, MISSIONS, n)
    tess = mission == "tess"
    magnitude = np.where(tess, rng.normal(10.5, 2.0, n).clip(4, 17), rng.normal(14.5, 1.6, n).clip(7, 18))
    teff = rng.normal(5600, 900, n).clip(2800, 11000)
    logg = rng.normal(4.35, 0.35, n).clip(2.5, 5.2)
    radius = np.exp(rng.normal(0.0, 0.45, n)).clip(0.1, 30)
    mass = (radius ** 0.8 * rng.normal(1, 0.1, n)).clip(0.08, 5)
    feh = rng.normal(-0.05, 0.25, n).clip(-2.5, 0.6)
    ra = np.round(rng.uniform(0, 360, n), 6) % 360
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    missing = rng.random(n) < 0.05  # 5 % without stellar parameters (NULL)
    named = rng.random(n) < 0.03
    prefix = {"kepler": "KIC", "k2": "EPIC", "tess": "TIC"}
    stamp = now.isoformat()

    def rows():
        for i, (pk, m, mag, t, g, r, ms, z, a, d, miss, has_name) in enumerate(zip(
            ids.tolist(), mission.tolist(), magnitude.tolist(), teff.tolist(), logg.tolist(), radius.tolist(),
            mass.tolist(), feh.tolist(), ra.tolist(), dec.tolist(), missing.tolist(), named.tolist(), strict=True,
        )):
            identifier = str(ID_BASE + i + 1)
            name = f"Synth-{i + 1}" if has_name else ""
            display = f"{prefix[m]} {identifier}".lower()
            names = sorted({identifier, display, display.replace(" ", ""), *([name.lower()] if name else [])})
            params = (None,) * 6 if miss else (round(mag, 3), round(t), round(g, 3), round(r, 3), round(ms, 3), round(z, 3))
            yield (pk, stamp, stamp, m, identifier, name, "{}", "{" + ",".join(f'"{x}"' for x in names) + "}", a, round(d, 6),
                   *params, SYNTHETIC, 0, 0)

    _copy(Target, ["id", "created_at", "updated_at", "mission", "identifier", "name", "aliases", "search_names",
                   "ra", "dec", "magnitude", "teff", "logg", "radius", "mass", "metallicity", "stellar_source",
                   "n_tces", "n_lightcurves"], rows())
    return ids, mission


def _hosts(rng: np.random.Generator, n: int, n_targets: int) -> np.ndarray:
    """Target index of each of ``n`` TCEs, sorted: a fifth of the stars have none, the others one to
    ``MAX_TCES_PER_TARGET`` (geometric: single TCEs most common, multi-planet systems rarer)."""
    mean = n / max(1, 0.8 * n_targets)
    per = rng.geometric(min(1.0, 1 / max(mean, 1.0)), n_targets).clip(1, MAX_TCES_PER_TARGET)
    per[rng.random(n_targets) < 0.2] = 0
    # Trim or top up (one more TCE on random stars with room) to exactly n.
    while per.sum() > n:
        over = int(per.sum() - n)
        has = np.flatnonzero(per > 0)
        per[rng.choice(has, size=min(over, has.size), replace=False)] -= 1
    while per.sum() < n:
        room = np.flatnonzero(per < MAX_TCES_PER_TARGET)
        if room.size == 0:
            raise Conflict(f"{n:,} TCEs do not fit on {n_targets:,} targets ({MAX_TCES_PER_TARGET} each at most)")
        short = int(n - per.sum())
        per[rng.choice(room, size=min(short, room.size), replace=False)] += 1
    return np.repeat(np.arange(n_targets), per)


def _tce_arrays(rng: np.random.Generator, n: int, target_ids: np.ndarray, target_mission: np.ndarray) -> dict:
    ids = _ids(TCE._meta.db_table, n) if n else np.zeros(0, dtype=np.int64)
    host = _hosts(rng, n, len(target_ids))
    number = np.ones(n, dtype=np.int64)
    if n:
        starts = np.r_[0, np.flatnonzero(np.diff(host)) + 1]
        number = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n])) + 1
    mission = target_mission[host]
    log_p = np.where(rng.random(n) < 0.6, rng.uniform(np.log(0.5), np.log(500), n), rng.normal(np.log(5), 0.9, n))
    period = np.exp(log_p).clip(0.5, 500)
    duration = (13 * (period / 365.25) ** (1 / 3) * rng.uniform(0.3, 1.3, n)).clip(0.5, None)
    duration = np.minimum(duration, period * 24 / 4)
    snr = 7.1 + np.exp(rng.normal(2.0, 1.0, n))
    disposition = np.empty(n, dtype=object)
    for m, table in DISPOSITIONS.items():
        inside = mission == m
        disposition[inside] = _choice(rng, table, int(inside.sum()))
    return {
        "ids": ids, "target_id": target_ids[host], "number": number, "mission": mission, "period": period,
        "duration": duration, "depth": np.exp(rng.uniform(np.log(20), np.log(50_000), n)),
        "snr": np.where(rng.random(n) < 0.03, np.nan, snr), "mes_factor": rng.normal(1.0, 0.1, n).clip(0.5, 1.5),
        "epoch": np.where(mission == "tess", rng.uniform(1325, 3000, n), rng.uniform(131.5, 200, n)),
        "disposition": disposition,
    }


def _copy_tces(tce: dict, score: np.ndarray, now: datetime) -> None:
    stamp = now.isoformat()

    def rows():
        for pk, target, num, m, p, e, dur, dep, s, f, disp, sc in zip(
            tce["ids"].tolist(), tce["target_id"].tolist(), tce["number"].tolist(), tce["mission"].tolist(),
            tce["period"].tolist(), tce["epoch"].tolist(), tce["duration"].tolist(), tce["depth"].tolist(),
            tce["snr"].tolist(), tce["mes_factor"].tolist(), tce["disposition"].tolist(), score.tolist(), strict=True,
        ):
            has_snr = s == s
            yield (pk, stamp, stamp, target, m, num, round(p, 6), round(e, 5), "BTJD" if m == "tess" else "BKJD",
                   round(dur, 3), round(dep, 1), round(s, 2) if has_snr else None,
                   round(s * f, 2) if has_snr else None, TCE_SOURCE, TCE_RELEASE, disp, "{}",
                   sc if sc == sc else None)

    _copy(TCE, ["id", "created_at", "updated_at", "target_id", "mission", "tce_number", "period_days", "epoch",
                "epoch_system", "duration_hours", "depth_ppm", "snr", "mes", "source", "release", "disposition",
                "extra", "score"], rows())


def _latent(rng: np.random.Generator, disposition: np.ndarray) -> np.ndarray:
    """A TCE's 'planet-ness' logit the model sees: high for catalogue positives, low for false alarms."""
    positive = np.isin(disposition, sorted(POSITIVE["triage"]))
    centre = np.where(positive, 2.0, -2.2)
    centre = np.where(disposition == "UNK", 0.0, centre)
    return centre + rng.normal(0, 1.6, disposition.size)


def _prediction_arrays(rng: np.random.Generator, n: int, tce: dict, version: ModelVersion, now: datetime) -> dict:
    """``n`` scores in runs over all TCEs (each run a shuffled pass, 30 days apart), and each TCE's newest
    probability (NaN when never scored): what ``scores_publish`` copies into ``TCE.score``."""
    m = tce["ids"].size
    newest = np.full(m, np.nan)
    if n == 0 or m == 0:
        return {"n": 0, "newest": newest}
    runs = -(-n // m)
    which = np.concatenate([rng.permutation(m) for _ in range(runs)])[:n]
    run = np.repeat(np.arange(runs), m)[:n]
    logit = _latent(rng, tce["disposition"])[which] + rng.normal(0, 0.5, n)
    probability = np.round(1 / (1 + np.exp(-logit / version.temperature)), 6)
    # Run r happened (runs - r) * 30 days ago, spread over an hour; later runs have later ids too.
    seconds = np.round(-(runs - run) * 30 * 86400.0 + rng.uniform(0, 3600, n))
    last = np.full(m, -1, dtype=np.int64)
    np.maximum.at(last, which, np.arange(n))
    scored = last >= 0
    newest[scored] = probability[last[scored]]
    return {"n": n, "newest": newest, "tce_id": tce["ids"][which], "raw": np.round(1 / (1 + np.exp(-logit)), 6),
            "probability": probability, "seconds": seconds, "now": now}


def _copy_predictions(scores: dict, version: ModelVersion) -> None:
    if not scores["n"]:
        return
    distinct = np.unique(scores["seconds"])
    pool = _stamps(scores["now"], distinct)
    slot = np.searchsorted(distinct, scores["seconds"]).tolist()
    vid = version.pk

    def rows():
        for t, r, p, k in zip(scores["tce_id"].tolist(), scores["raw"].tolist(), scores["probability"].tolist(), slot,
                              strict=True):
            yield (t, vid, None, r, p, 1, pool[k])

    _copy(Prediction, ["tce_id", "model_version_id", "job_id", "raw_score", "probability", "views_version",
                       "created_at"], rows())


def _seed_labels(rng: np.random.Generator, n: int, tce: dict, vetters: list, now: datetime) -> int:
    """``n`` labels: most labelled TCEs by two vetters, some by one or three; states as label_add leaves them."""
    tce_ids, disposition, snr = tce["ids"], tce["disposition"], tce["snr"]
    if n == 0 or tce_ids.size == 0:
        return 0
    people = rng.choice([1, 2, 3], size=n, p=[0.2, 0.7, 0.1])
    total = np.cumsum(people)
    k = int(np.searchsorted(total, n)) + 1
    people = people[:k]
    people[-1] -= int(total[k - 1]) - n
    chosen = rng.choice(tce_ids.size, size=min(people.size, tce_ids.size), replace=False)
    people = people[: chosen.size]
    truth = np.empty(chosen.size, dtype=object)
    for disp, table in TRUE_CLASS.items():
        inside = disposition[chosen] == disp
        truth[inside] = _choice(rng, table, int(inside.sum()))
    first = now - timedelta(days=180)
    confidence = ("low", "medium", "high")
    label_rows, states = [], []
    for k, (index, count) in enumerate(zip(chosen.tolist(), people.tolist(), strict=True)):
        given = []
        for w in rng.choice(N_VETTERS, size=count, replace=False).tolist():
            if rng.random() < 0.04:
                code = "?"
            elif rng.random() < VETTER_ACCURACY[w]:
                code = truth[k]
            else:
                code = LABELS[rng.integers(len(LABELS))]
            given.append(code)
            stamp = (first + timedelta(seconds=float(rng.uniform(0, 180 * 86400)))).isoformat()
            label_rows.append((int(tce_ids[index]), vetters[w].pk, code, confidence[rng.integers(3)], "", "[]",
                               None, None, None, None, "", stamp))
        # The state rules of apps.vetting.services.labels.state_refresh (each vetter labels once here).
        decisive = [code for code in given if code != "?"]
        final = ""
        if len(set(decisive)) > 1:
            status = VettingStatus.CONFLICT.value
        elif len(decisive) >= settings.GAIA_LABELS_PER_TCE:
            status, final = VettingStatus.AGREED.value, decisive[0]
        else:
            status = VettingStatus.NEEDS_LABELS.value
        s = snr[index]
        states.append((int(tce_ids[index]), status, len(decisive), len(given), final, now.isoformat(),
                       None if s != s else round(float(s), 2)))
    _copy(VettingLabel, ["tce_id", "user_id", "label", "confidence", "comment", "flags", "period_days", "epoch",
                         "duration_hours", "views_version", "views_preset", "created_at"], label_rows)
    _copy(VettingState, ["tce_id", "status", "n_labels", "n_people", "label", "updated_at", "snr"], states)
    return len(states)


def _seed_jobs(rng: np.random.Generator, n: int, target_ids: np.ndarray, operator, now: datetime) -> None:  # noqa: ANN001
    if n == 0:
        return
    ids = _ids(Job._meta.db_table, n)
    kind_index = rng.choice(len(JOB_KINDS), size=n, p=np.array([k[2] for k in JOB_KINDS]) / sum(k[2] for k in JOB_KINDS))
    status = _choice(rng, JOB_STATUSES, n)
    age = np.sort(rng.uniform(60, 365 * 86400, n))[::-1]  # ids grow with time, as real ones do
    created = now.timestamp() - age
    run_s = np.exp(rng.normal(3.5, 1.5, n)).clip(0.2, 36000)
    target_of = rng.integers(0, len(target_ids), n)
    requester = rng.random(n) < 0.5
    links = []

    def iso(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).isoformat()

    def rows():
        for i in range(n):
            kind, queue, _w = JOB_KINDS[kind_index[i]]
            st = status[i]
            t0 = created[i]
            started = t0 + 2 if st != JobStatus.QUEUED else None
            finished = started + run_s[i] if st in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED) and started else None
            if st == JobStatus.CANCELLED and rng.random() < 0.5:
                started, finished = None, t0 + 30
            total = int(rng.integers(1, 500))
            done = total if st == JobStatus.SUCCEEDED else int(rng.integers(0, total + 1))
            params = {"synthetic": True}
            if kind in PER_TARGET_KINDS:
                params["target_id"] = int(target_ids[target_of[i]])
                links.append((int(ids[i]), int(target_ids[target_of[i]])))
            error = ERRORS[rng.integers(len(ERRORS))] if st == JobStatus.FAILED else ""
            stage = {JobStatus.SUCCEEDED: "done", JobStatus.FAILED: "failed", JobStatus.CANCELLED: "cancelled",
                     JobStatus.QUEUED: "", JobStatus.RUNNING: "working"}[st]
            timings = {"total": round(float(run_s[i]), 2)} if finished else {}
            result = {"done": done} if st == JobStatus.SUCCEEDED else {}
            yield (int(ids[i]), kind, json.dumps(params), st, stage, done, total, "steps", None,
                   st in (JobStatus.QUEUED, JobStatus.CANCELLED), queue, SYNTHETIC, iso(t0),
                   1 if started else 0, iso(t0), iso(started) if started else None,
                   iso(finished) if finished else None, None, json.dumps(timings), error, "",
                   json.dumps(result), json.dumps({"synthetic": SYNTHETIC}),
                   operator.pk if requester[i] else None)

    _copy(Job, ["id", "kind", "params", "status", "stage", "progress_done", "progress_total", "progress_unit",
                "eta_seconds", "cancel_requested", "queue_name", "message_id", "dispatched_at", "attempts",
                "created_at", "started_at", "finished_at", "heartbeat_at", "timings", "error_summary",
                "error_detail", "result", "provenance", "requested_by_id"], rows())
    _copy(Job.targets.through, ["job_id", "target_id"], links)


# --- drop ---------------------------------------------------------------------------------------
def _delete(model, where: str, params: list, counts: dict) -> None:  # noqa: ANN001 - a model class
    """Delete ``model`` rows matching ``where`` after the rows that point at them (CASCADE and M2M rows
    deleted, SET_NULL ones cleared), as Django's collector would, but set-based."""
    table, pk = model._meta.db_table, model._meta.pk.column
    for relation in model._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete and (relation.one_to_many or relation.one_to_one)):
            continue
        related, column = relation.related_model, relation.field.column
        inner = f"{column} IN (SELECT {pk} FROM {table} WHERE {where})"
        action = getattr(getattr(relation, "on_delete", None), "__name__", "CASCADE")
        if action in ("PROTECT", "RESTRICT", "DO_NOTHING"):
            continue  # the database refuses the delete if such a row exists: nothing of ours is one
        if action == "SET_NULL":
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE {related._meta.db_table} SET {column} = NULL WHERE {inner}", params)
        else:
            _delete(related, inner, params, counts)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {where}", params)
        if cursor.rowcount:
            counts[table] = counts.get(table, 0) + cursor.rowcount


def _remove_file(path: Path) -> None:
    path.unlink(missing_ok=True)
    for folder in (path.parent, path.parent.parent):  # artifacts/model/<name>/v1: empty now
        try:
            folder.rmdir()
        except OSError:
            break


def seed_drop(*, log: Callable[[str], None] = lambda message: None) -> dict:
    """Remove everything ``seed_scale`` wrote (and only that); returns rows deleted per table."""
    run = Job.objects.filter(kind=RUN_KIND, message_id=SYNTHETIC).order_by("pk").first()
    created = (run.result or {}).get("created", {}) if run else {}
    counts: dict[str, int] = {}
    started = time.perf_counter()
    with transaction.atomic():
        # Light curves and artifacts of synthetic targets would be real files: there are none, but a
        # user may have processed one; those rows go with their target (their files stay on disk,
        # as with any deleted target: check_data lists them).
        _delete(Job, "message_id = %s", [SYNTHETIC], counts)
        _delete(Target, "stellar_source = %s AND identifier ~ %s", [SYNTHETIC, ID_PATTERN], counts)
        model_id = created.get("model_version")
        if model_id:
            version = ModelVersion.objects.filter(pk=model_id, name=MODEL_NAME).first()
            if version is not None:
                weights = version.weights
                _delete(ModelVersion, "id = %s", [model_id], counts)
                path = resolve_data_path(weights.path)
                _delete(Artifact, "id = %s", [weights.pk], counts)
                transaction.on_commit(lambda: _remove_file(path))
        user_model = get_user_model()
        _delete(user_model, "username LIKE %s", [USER_PREFIX.replace("_", r"\_") + "%"], counts)
        if run is not None:
            kept = set(created.get("sync_marks", []))
            VettingQueueSync.objects.exclude(name__in=kept).delete()
    log(f"dropped in {time.perf_counter() - started:.1f} s: {counts}")
    # The queue rows' marks now lie above the highest ids: the next sync notices and catches up.
    with connection.cursor() as cursor:
        for model in (Target, TCE, Prediction, VettingLabel, VettingState, Job, LightCurve):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    return counts
