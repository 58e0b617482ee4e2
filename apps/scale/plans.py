"""Query plans of what pages and API lists run: every statement a request executed, EXPLAINed.

``request_plans`` drives the Django test client through a list of URLs, captures every statement each
request ran and asks PostgreSQL for its plan (``EXPLAIN``, which plans without running). A sequential scan
of a table holding more than ``BIG_TABLE_ROWS`` rows is a problem: at catalogue size it reads every row on
every request; so is an index scan that reads as much (no Limit stops it, over ``BIG_TABLE_ROWS`` rows
expected). ``tests/scale/test_plans.py`` runs it on a seeded database; ``bench/bench_load.py`` at full size.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.test.utils import CaptureQueriesContext

#: A sequential scan of a table with more rows than this fails the check.
BIG_TABLE_ROWS = 10_000
#: Statements that have no plan.
_NO_PLAN = ("SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "BEGIN", "SET ", "SHOW ", "LOCK ")


@dataclass
class SeqScan:
    table: str
    rows: int  # the table's size (pg_class.reltuples)
    sql: str
    node: str = "Seq Scan"


@dataclass
class RequestPlan:
    name: str
    url: str
    status: int
    statements: int
    seq_scans: list[SeqScan] = field(default_factory=list)
    plans: list[tuple[str, str]] = field(default_factory=list)  # (sql, text plan)


def table_rows() -> dict[str, int]:
    """Estimated rows per table (pg_class.reltuples; run ANALYZE first)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples::bigint FROM pg_class WHERE relkind IN ('r', 'p')")
        return {name: max(int(rows), 0) for name, rows in cursor.fetchall()}


#: Nodes that read all of their input before giving a row: a Limit above them does not stop what is below.
_BLOCKING = {"Sort", "Hash", "Aggregate", "WindowAgg", "SetOp", "Materialize", "Group", "Gather"}
_SCANS = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"}


def _walk(node: dict, bounded: bool = False) -> Iterable[tuple[dict, bool]]:
    """(node, whether a Limit above it stops its scan early) for every node of a plan."""
    yield node, bounded
    if node.get("Node Type") == "Limit":
        bounded = True
    elif node.get("Node Type") in _BLOCKING:
        bounded = False
    for child in node.get("Plans", []):
        yield from _walk(child, bounded)


def explain(sql: str, *, index_paths_only: bool = False) -> tuple[dict, str]:
    """(JSON plan, text plan) of one statement, without running it.

    ``index_paths_only``: plan with ``enable_seqscan = off``, so a sequential scan is left only where no
    index can answer the statement at all. On a small test database a sequential scan is often the
    cheaper plan for what at full size must go through an index: this asks whether that index exists.
    """
    with connection.cursor() as cursor:
        if index_paths_only:
            cursor.execute("SET enable_seqscan = off")
        try:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            cursor.execute("EXPLAIN " + sql)
            text = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            if index_paths_only:
                cursor.execute("RESET enable_seqscan")
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Plan"], text


def seq_scans_of(sql: str, sizes: dict[str, int], big: int = BIG_TABLE_ROWS,
                 index_paths_only: bool = False) -> tuple[list[SeqScan], str]:
    """Scans of tables over ``big`` rows that read them whole: a sequential scan, or an index scan that
    no Limit stops and that the planner expects to return more than ``big`` rows (what a sequential scan
    becomes when it is switched off: a walk of the whole primary key)."""
    plan, text = explain(sql, index_paths_only=index_paths_only)
    found = []
    for node, bounded in _walk(plan):
        relation = node.get("Relation Name", "")
        kind = node.get("Node Type")
        if kind not in _SCANS or sizes.get(relation, 0) <= big:
            continue
        if kind == "Seq Scan" or (not bounded and node.get("Plan Rows", 0) > big):
            found.append(SeqScan(relation, sizes[relation], sql, kind))
    return found, text


def request_plans(client, pages: Iterable[tuple[str, str]], *, big: int = BIG_TABLE_ROWS,  # noqa: ANN001 - a test Client
                  headers: Callable[[str], dict] | None = None, index_paths_only: bool = False) -> list[RequestPlan]:
    """Request each (name, url) with ``client`` and EXPLAIN every statement it ran (see ``explain``)."""
    sizes = table_rows()
    out = []
    for name, url in pages:
        method = "post" if name.startswith("POST ") else "get"
        with CaptureQueriesContext(connection) as captured:
            response = getattr(client, method)(url, **((headers or (lambda _n: {}))(name)))
        result = RequestPlan(name, url, response.status_code, len(captured.captured_queries))
        for query in captured.captured_queries:
            sql = query["sql"]
            if sql.lstrip().upper().startswith(_NO_PLAN):
                continue
            scans, text = seq_scans_of(sql, sizes, big, index_paths_only)
            result.seq_scans += scans
            result.plans.append((sql, text))
        out.append(result)
    return out


def main_pages(*, target_id: int, tce_id: int, job_id: int, name: str, identifier: str) -> list[tuple[str, str]]:
    """The main list queries (pages and API, with filters, sorts and search) and the detail pages
    they lead to; "POST " names are posted (claiming the next TCE of a queue)."""
    return [
        ("dashboard", "/"),
        ("target list", "/targets/"),
        ("target list: tess, bright, by magnitude", "/targets/?mission=tess&mag_max=12&sort=-magnitude"),
        ("target list: teff range, by teff", "/targets/?teff_min=5000&teff_max=6000&sort=teff"),
        ("target list: with TCEs, most first", "/targets/?has_tces=true&sort=-tces"),
        ("target list: without light curves", "/targets/?has_lightcurves=false"),
        ("target list: with a PC", "/targets/?disposition=PC&mission=kepler"),
        ("target list: by name", "/targets/?sort=name"),
        ("target list: search id", f"/targets/?q={identifier}"),
        ("target list: search name", f"/targets/?q={name}"),
        ("TCE list", "/tces/"),
        ("TCE list by score", "/tces/?sort=-score"),
        ("TCE list by score, lowest", "/tces/?sort=score"),
        ("TCE list: PCs by period", "/tces/?disposition=PC&sort=-period"),
        ("TCE list: kepler by SNR", "/tces/?mission=kepler&sort=-snr"),
        ("TCE list: score range", "/tces/?score_min=0.4&score_max=0.6&sort=-score"),
        ("target page", f"/targets/{target_id}/"),
        ("TCE page", f"/tces/{tce_id}/"),
        ("job list", "/jobs/"),
        ("job list: failed", "/jobs/?status=failed"),
        ("job page", f"/jobs/{job_id}/"),
        ("vetting queues", "/vet/"),
        ("vetting page", f"/vet/tces/{tce_id}/"),
        ("API targets", "/api/targets?limit=50&sort=-magnitude"),
        ("API targets: search", f"/api/targets?q={name}"),
        ("API TCEs by score", "/api/tces?sort=-score&limit=50"),
        ("API TCEs of a target", f"/api/targets/{target_id}/tces"),
        ("API target", f"/api/targets/{target_id}"),
        ("API TCE", f"/api/tces/{tce_id}"),
        ("API jobs", "/api/jobs?limit=1"),
        ("API jobs: succeeded", "/api/jobs?limit=50&status=succeeded"),
        ("API job", f"/api/jobs/{job_id}"),
        ("API vetting queues", "/api/vetting/queues"),
        ("API TCE labels", f"/api/vetting/tces/{tce_id}/labels"),
        ("API conflicts", "/api/vetting/conflicts"),
        ("POST API next: uncertain", "/api/vetting/queues/uncertain/next"),
        ("POST API next: disagree", "/api/vetting/queues/disagree/next"),
        ("POST API next: unlabelled", "/api/vetting/queues/unlabelled/next"),
    ]
