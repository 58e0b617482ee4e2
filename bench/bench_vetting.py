"""Benchmark next-in-queue at catalogue scale; write docs/bench/vetting.md.

    python bench/bench_vetting.py [--tces 500000] [--calls 40] [--md docs/bench/vetting.md]

Needs ``DATABASE_URL`` (``make bench`` starts the test PostgreSQL); a throw-away database is created,
migrated and dropped. The world, made with set-based SQL (``generate_series``, seeded ``random()``):
``--tces`` TCEs on half as many Kepler targets (SNR log-uniform, some NULL; dispositions from the DR24
mix), the default triage model scoring every TCE twice (an older and a newer job, so 2 x TCEs
predictions, of which the queue rows keep the newest), the 5,000 most uncertain TCEs already agreed
by two people, and 2,000 TCEs the benchmarking vetter labelled.

Measured: copying everything into the queue rows (``queue_rows_sync(full=True)``, what a new default
model costs once), an incremental sync after 10,000 new scores and one with nothing new; per queue
(uncertain, disagree, unlabelled) ``queue_next`` as the API calls it (sync check, a claim in its
transaction; each call releases the previous claim, so the exclusions grow) and the capped count
(``GET /api/vetting/queues``); ``queue_next`` on uncertain again after 50,000 TCEs are decided; and
the peer a developer would write first: the uncertain candidates ordered by |p - 0.5| over the
newest prediction per TCE (``DISTINCT ON`` + sort over the predictions). The plan of the uncertain
walk is printed to show the index it uses.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from benchinfo import machine  # bench/benchinfo.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
AGREED_TOP = 5000
MINE = 2000


def populate(n_tces: int, version_id: int, user_ids: list[int], me: int) -> dict:
    """Targets, TCEs, 2 predictions per TCE, agreed labels on the top of the uncertain queue, my labels."""
    from django.db import connection

    n_targets = max(1, n_tces // 2)
    timings = {}
    with connection.cursor() as cur:
        started = time.perf_counter()
        cur.execute("SELECT setseed(0.42)")
        cur.execute(
            """INSERT INTO catalog_target (mission, identifier, name, aliases, search_names, stellar_source, created_at, updated_at)
               SELECT 'kepler', (1000000 + g)::text, '', '{}', '{}', '', now(), now() FROM generate_series(1, %s) g""",
            [n_targets],
        )
        cur.execute("SELECT min(id) FROM catalog_target")
        first_target = cur.fetchone()[0]
        cur.execute(
            """INSERT INTO catalog_tce (target_id, mission, tce_number, period_days, epoch, epoch_system, duration_hours,
                   depth_ppm, snr, mes, source, release, disposition, extra, created_at, updated_at)
               SELECT %s + (g - 1) / 2, 'kepler', 1 + (g - 1) %% 2, 0.5 + random() * 300, 131.5 + random() * 10, 'BKJD',
                   1 + random() * 10, 100 + random() * 5000,
                   CASE WHEN random() < 0.05 THEN NULL ELSE exp(ln(7.1) + random() * 5) END, NULL,
                   'kepler_dr24', 'DR24',
                   (ARRAY['PC', 'AFP', 'AFP', 'NTP', 'UNK'])[1 + floor(random() * 5)::int], '{}', now(), now()
               FROM generate_series(1, %s) g""",
            [first_target, n_tces],
        )
        timings["targets + TCEs"] = time.perf_counter() - started
        started = time.perf_counter()
        cur.execute(
            """INSERT INTO ml_prediction (tce_id, model_version_id, job_id, raw_score, probability, views_version, created_at)
               SELECT t.id, %s, NULL, r.p, r.p, 1, now() - make_interval(days => k)
               FROM catalog_tce t CROSS JOIN generate_series(0, 1) k
               CROSS JOIN LATERAL (SELECT 1 / (1 + exp(-6 * (random() - 0.5) * 2 + 0 * t.id)) AS p) r""",
            [version_id],
        )
        timings["predictions"] = time.perf_counter() - started
        started = time.perf_counter()
        # The most uncertain TCEs (newest score) are already agreed by two people.
        cur.execute(
            """CREATE TEMP TABLE top_uncertain AS
               SELECT tce_id FROM (SELECT DISTINCT ON (tce_id) tce_id, probability FROM ml_prediction
                                   WHERE model_version_id = %s ORDER BY tce_id, created_at DESC) newest
               ORDER BY abs(probability - 0.5) LIMIT %s""",
            [version_id, AGREED_TOP],
        )
        for user_id in user_ids[:2]:
            cur.execute(
                """INSERT INTO vetting_vettinglabel (tce_id, user_id, label, confidence, comment, flags, views_preset, created_at)
                   SELECT tce_id, %s, 'PC', 'medium', '', '[]', '', now() FROM top_uncertain""",
                [user_id],
            )
        cur.execute(
            """INSERT INTO vetting_vettingstate (tce_id, status, n_labels, n_people, label, updated_at)
               SELECT tce_id, 'agreed', 2, 2, 'PC', now() FROM top_uncertain"""
        )
        cur.execute(
            """INSERT INTO vetting_vettinglabel (tce_id, user_id, label, confidence, comment, flags, views_preset, created_at)
               SELECT id, %s, 'EB', 'medium', '', '[]', '', now() FROM catalog_tce
               WHERE id NOT IN (SELECT tce_id FROM top_uncertain) ORDER BY random() LIMIT %s""",
            [me, MINE],
        )
        cur.execute(
            """INSERT INTO vetting_vettingstate (tce_id, status, n_labels, n_people, label, updated_at)
               SELECT tce_id, 'needs_labels', 1, 1, '', now() FROM vetting_vettinglabel WHERE user_id = %s""",
            [me],
        )
        timings["labels"] = time.perf_counter() - started
        started = time.perf_counter()
        cur.execute("ANALYZE")
        timings["analyze"] = time.perf_counter() - started
        cur.execute("SELECT count(*) FROM ml_prediction")
        n_predictions = cur.fetchone()[0]
    return {"timings": timings, "predictions": n_predictions, "targets": n_targets}


def peer_query(version_id: int, me: int) -> str:
    """The first thing one writes: newest score per TCE, everything filtered, then sorted by |p - 0.5|."""
    return f"""
        SELECT newest.tce_id FROM (
            SELECT DISTINCT ON (tce_id) tce_id, probability FROM ml_prediction
            WHERE model_version_id = {version_id} ORDER BY tce_id, created_at DESC, id DESC) newest
        WHERE NOT EXISTS (SELECT 1 FROM vetting_vettinglabel l WHERE l.tce_id = newest.tce_id AND l.user_id = {me})
          AND NOT EXISTS (SELECT 1 FROM vetting_vettingstate s WHERE s.tce_id = newest.tce_id AND s.status <> 'needs_labels')
        ORDER BY abs(newest.probability - 0.5), newest.tce_id LIMIT 16"""


def timed(fn, repeats: int) -> list[float]:  # noqa: ANN001
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"{statistics.median(ms):.2f} | {p95:.2f} | {ms[-1]:.2f}"


def run(n_tces: int, calls: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gaia_web.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from apps.accounts.roles import set_role
    from apps.catalog.models import TCE
    from apps.jobs.models import Artifact
    from apps.ml.models import ModelVersion
    from apps.vetting.selectors import _queue_queryset, queue_count
    from apps.vetting.services import label_add, queue_next, queue_rows_sync

    connection.settings_dict["NAME"] = "gaia_bench_vetting"
    test_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        users = []
        for name in ("me", "a", "b"):
            user = get_user_model().objects.create_user(username=f"bench_{name}")
            set_role(user, "vetter")
            users.append(user)
        me = users[0]
        weights = Artifact.objects.create(kind="model_weights", key="model/bench", version=1, path="bench.pt", sha256="0" * 64)
        version = ModelVersion.objects.create(name="bench", task="triage", preset="yu2019_triage",
                                              weights_sha256="1" * 64, weights=weights, is_default=True)
        world = populate(n_tces, version.pk, [u.pk for u in users[1:]], me.pk)
        result = {"tces": n_tces, **world, "queues": {}, "pg": connection.pg_version}
        started = time.perf_counter()
        queue_rows_sync(full=True)  # what a new default model costs once
        result["sync_full_s"] = time.perf_counter() - started
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE vetting_vettingstate")
            # A scoring job's worth of new scores: 10,000 TCEs re-scored.
            cur.execute(
                """INSERT INTO ml_prediction (tce_id, model_version_id, job_id, raw_score, probability, views_version, created_at)
                   SELECT id, %s, NULL, 0.5, 0.5, 1, now() FROM catalog_tce ORDER BY id DESC LIMIT 10000""",
                [version.pk],
            )
        started = time.perf_counter()
        result["sync_incremental"] = queue_rows_sync()
        result["sync_incremental_s"] = time.perf_counter() - started
        result["sync_nothing_ms"] = timed(queue_rows_sync, 5)
        rows = _queue_queryset("uncertain", me, timezone.now())
        result["plan"] = rows.values_list("tce_id", flat=True)[:16].explain().splitlines()
        for queue in ("uncertain", "disagree", "unlabelled"):
            queue_next(user=me, queue=queue)  # warm
            next_ms = timed(lambda queue=queue: queue_next(user=me, queue=queue), calls)
            count_ms = timed(lambda queue=queue: queue_count(queue=queue, user=me, now=timezone.now()), 5)
            result["queues"][queue] = {"next": next_ms, "count": count_ms,
                                       "items": queue_count(queue=queue, user=me, now=timezone.now())}
        with connection.cursor() as cur:
            peer_ms = timed(lambda: cur.execute(peer_query(version.pk, me.pk)) or cur.fetchall(), 3)
        result["peer_ms"] = peer_ms
        tce_id = queue_next(user=me, queue="unlabelled")[0].pk
        tce = TCE.objects.get(pk=tce_id)
        result["label_ms"] = timed(lambda: label_add(tce=tce, user=me, label="PC"), 10)
        # The walk passes every decided TCE in front of the first open one: decide ten times as many.
        with connection.cursor() as cur:
            cur.execute(
                """INSERT INTO vetting_vettingstate (tce_id, status, n_labels, n_people, label, updated_at)
                   SELECT tce_id, 'agreed', 2, 2, 'PC', now() FROM (
                       SELECT DISTINCT ON (tce_id) tce_id, probability FROM ml_prediction
                       WHERE model_version_id = %s ORDER BY tce_id, created_at DESC) newest
                   ORDER BY abs(probability - 0.5) LIMIT %s
                   ON CONFLICT (tce_id) DO UPDATE SET status = 'agreed'""",
                [version.pk, 10 * AGREED_TOP],
            )
            cur.execute("VACUUM ANALYZE vetting_vettingstate")  # as autovacuum would after the team's labels
        queue_next(user=me, queue="uncertain")  # warm
        result["many_decided_ms"] = timed(lambda: queue_next(user=me, queue="uncertain"), calls)
        return result
    finally:
        connection.close()
        connection.settings_dict["NAME"] = test_name
        connection.creation.destroy_test_db(test_name, verbosity=0)


def render(result: dict, calls: int) -> str:
    import django
    import psycopg

    version = f"{result['pg'] // 10000}.{result['pg'] % 10000}"
    lines = [
        "## Vetting queues (`bench/bench_vetting.py`)",
        "",
        f"Machine: {machine()}; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()}, "
        f"Django {django.__version__}, psycopg {psycopg.__version__}, PostgreSQL {version}.",
        "",
        f"World: {result['tces']:,} TCEs on {result['targets']:,} targets, {result['predictions']:,} predictions of the "
        f"default model (two per TCE: the queue rows keep the newest), the {AGREED_TOP:,} most uncertain TCEs already "
        f"agreed, {MINE:,} TCEs labelled by the benchmarking vetter. Built in "
        + ", ".join(f"{k} {v:.1f} s" for k, v in result["timings"].items()) + ".",
        "",
        f"`queue_next` is the whole API call's work: check the queue rows are current, release the previous claim, walk the queue, lock the candidate "
        f"(`FOR NO KEY UPDATE SKIP LOCKED`), re-check it, write the claim, commit ({calls} calls in a row, each a new TCE).",
        "",
        "| queue | next: median ms | p95 ms | max ms | count (capped at 1000): median ms | items for the vetter |",
        "|---|---|---|---|---|---|",
    ]
    for queue, row in result["queues"].items():
        count, capped = row["items"]
        lines.append(f"| {queue} | {summary(row['next'])} | {statistics.median(row['count']):.1f} | "
                     f"{count}{'+' if capped else ''} |")
    lines += [
        "",
        f"Keeping the queue rows current (`queue_rows_sync`, run at the start of every `queue_next`): nothing new "
        f"{statistics.median(result['sync_nothing_ms']):.2f} ms; after 10,000 TCEs were re-scored "
        f"{result['sync_incremental_s']:.2f} s once ({result['sync_incremental']['scores']:,} rows); a new default "
        f"model (every TCE and score copied) {result['sync_full_s']:.1f} s once.",
        "",
        f"With {10 * AGREED_TOP:,} of the most uncertain TCEs decided instead of {AGREED_TOP:,}, `queue_next` on "
        f"uncertain: {summary(result['many_decided_ms'])} ms (median | p95 | max): decided TCEs are not in the partial "
        "index the walk reads, so the team's progress does not slow it down.",
        "",
        f"Peer (the uncertain candidates as one would first write them: newest score per TCE with `DISTINCT ON`, "
        f"filters, sort by abs(p - 0.5)): median {statistics.median(result['peer_ms']):.0f} ms per call, "
        f"{statistics.median(result['peer_ms']) / statistics.median(result['queues']['uncertain']['next']):.0f}x the "
        f"whole `queue_next`.",
        "",
        f"`label_add` (lock, insert, release the claim, recompute the state): median {statistics.median(result['label_ms']):.2f} ms.",
        "",
        "Plan of the uncertain walk (partial index `vettingstate_uncertain`: model version, |p - 0.5|, TCE; open TCEs only):",
        "",
        "```",
        *result["plan"],
        "```",
        "",
        "Goal: next-in-queue fast at 500k TCEs / 1M predictions (an index walk over open TCEs that stops after "
        "the first eligible one, never a sort of the table).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tces", type=int, default=500_000)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--md", type=Path, default=ROOT / "docs" / "bench" / "vetting.md")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("bench_vetting needs DATABASE_URL (make bench starts the test PostgreSQL)")
    result = run(args.tces, args.calls)
    text = render(result, args.calls)
    args.md.parent.mkdir(parents=True, exist_ok=True)
    args.md.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
