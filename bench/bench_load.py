"""Load test at catalogue size against gunicorn; write docs/bench/load.md.

    python bench/bench_load.py [--database NAME] [--users 50] [--duration 60] [--steps 50,100,150,200]
                               [--targets 200000 --tces 500000 ...] [--keep] [--md docs/bench/load.md]

Needs ``DATABASE_URL`` (``make bench`` starts the test PostgreSQL). Without ``--database`` a throw-away
database is created, migrated and filled by ``seed_scale`` at the given sizes (full catalogue by default:
a few minutes), and dropped at the end; ``--database NAME`` uses an existing database that already holds
a ``seed_scale`` catalogue (nothing of it is dropped).

Measured: first the plans of every statement the measured pages and API lists run (``apps.scale.plans``:
a sequential scan of a table over 10k rows is listed). Then gunicorn runs as the Dockerfile starts it
(``gaia_web.wsgi``, 3 sync workers, ``DEBUG=0``, collected static files served by whitenoise, behind a
pretend TLS proxy: ``GAIA_BEHIND_PROXY=1`` and ``X-Forwarded-Proto: https``) and an asyncio + aiohttp
driver runs ``--users`` virtual users, each waiting ``--think`` s between a response and its next
request (50 users, 1 s: about 50 requests/s offered), for ``--duration`` s, over a mixed workload:
anonymous visitors (dashboard, target list with filters, sorting and search, TCE list sorted by score,
target and TCE pages, job list and pages), logged-in vetters (queue page, next-in-queue, vetting page)
and API scripts with bearer tokens (target/TCE/job lists and details). p50/p95/p99 and errors per route
(anything but the expected status is an error). Then the saturation search: the same workload at more
users per step; the saturation point is the highest request rate whose step still met every route's p95
goal without errors. The driver runs on the same machine and takes some of its CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchinfo import machine  # bench/benchinfo.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: p95 goals (ms) per kind of route.
GOALS = {"list": 150, "api": 150, "detail": 300}


@dataclass
class Route:
    name: str
    kind: str  # list, api or detail (its goal)
    role: str  # anonymous, vetter or api
    weight: float
    urls: list[str]
    expect: int = 200


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_examples: dict[str, str] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0

    def add(self, route: str, ms: float, error: str | None) -> None:
        self.latencies.setdefault(route, []).append(ms)
        if error:
            self.errors[route] = self.errors.get(route, 0) + 1
            self.error_examples.setdefault(route, error)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


# --- the world ----------------------------------------------------------------------------------
def prepare_world(n_vetters: int, n_api: int) -> dict:
    """Bench users (vetters logged in, API tokens) and the ids the routes pick from."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from apps.accounts.roles import set_role
    from apps.accounts.services import api_token_create
    from apps.catalog.models import TCE, Target
    from apps.jobs.models import Job
    from apps.scale.seed import SYNTHETIC, TCE_SOURCE

    user_model = get_user_model()
    user_model.objects.filter(username__startswith="bench_load_").delete()
    sessions, tokens = [], []
    for i in range(n_vetters):
        user = user_model.objects.create_user(username=f"bench_load_vetter_{i}", password=None)
        set_role(user, "vetter")
        client = Client()
        client.force_login(user)
        sessions.append(client.cookies["sessionid"].value)
    api_user = user_model.objects.create_user(username="bench_load_api", password=None)
    set_role(api_user, "viewer")
    for i in range(n_api):
        tokens.append(api_token_create(user=api_user, name=f"bench {i}").secret)
    rng = random.Random(7)
    targets = list(Target.objects.filter(stellar_source=SYNTHETIC).order_by("?").values_list("pk", "identifier", "mission", "name")[:2000])
    tces = list(TCE.objects.filter(source=TCE_SOURCE).order_by("?").values_list("pk", flat=True)[:2000])
    jobs = list(Job.objects.order_by("?").values_list("pk", flat=True)[:2000])
    names = [t[3] for t in targets if t[3]] or ["Synth-1"]
    prefix = {"kepler": "KIC", "tess": "TIC", "k2": "EPIC"}
    return {"sessions": sessions, "tokens": tokens, "targets": targets, "tces": tces, "jobs": jobs,
            "names": names, "prefix": prefix, "rng": rng}


def routes(world: dict) -> list[Route]:
    rng = world["rng"]
    targets, tces, jobs = world["targets"], world["tces"], world["jobs"]

    def sample(items: list, n: int = 300) -> list:
        return [rng.choice(items) for _ in range(n)]

    target_urls = ["/targets/", "/targets/?mission=tess&mag_max=12&sort=-magnitude",
                   "/targets/?teff_min=5000&teff_max=6000&sort=teff", "/targets/?has_tces=true&sort=-tces",
                   "/targets/?disposition=PC&mission=kepler", "/targets/?sort=name&page=3",
                   "/targets/?mission=kepler&sort=magnitude&page=2"]
    search_urls = [f"/targets/?q={world['prefix'][m]}+{i}" for _pk, i, m, _n in sample(targets, 100)]
    search_urls += [f"/targets/?q={name}" for name in sample(world["names"], 100)]
    return [
        Route("dashboard", "list", "anonymous", 2, ["/"]),
        Route("target list: filters, sorting", "list", "anonymous", 3, target_urls),
        Route("target list: search", "list", "anonymous", 2, search_urls),
        Route("TCE list by score", "list", "anonymous", 3,
              [f"/tces/?sort=-score&page={p}" for p in (1, 1, 1, 2, 3, 10)] + ["/tces/?sort=-score&disposition=PC",
                                                                              "/tces/?sort=score&mission=tess"]),
        Route("target page", "detail", "anonymous", 2, [f"/targets/{t[0]}/" for t in sample(targets)]),
        Route("TCE page", "detail", "anonymous", 2, [f"/tces/{pk}/" for pk in sample(tces)]),
        Route("job list", "list", "anonymous", 1, ["/jobs/", "/jobs/?status=failed", "/jobs/?kind=process_target"]),
        Route("job page", "detail", "anonymous", 1, [f"/jobs/{pk}/" for pk in sample(jobs)]),
        Route("vetting queues", "list", "vetter", 2, ["/vet/"]),
        Route("vetting next (claim)", "list", "vetter", 2,
              ["/vet/next/?queue=uncertain", "/vet/next/?queue=unlabelled", "/vet/next/?queue=disagree"], expect=302),
        Route("vetting page", "detail", "vetter", 4, [f"/vet/tces/{pk}/" for pk in sample(tces)]),
        Route("TCE list by score (vetter)", "list", "vetter", 1, ["/tces/?sort=-score"]),
        Route("API target list", "api", "api", 2,
              ["/api/targets?limit=50", "/api/targets?limit=50&sort=-magnitude&mission=tess",
               "/api/targets?limit=50&offset=500&sort=teff"]),
        Route("API TCE list by score", "api", "api", 3,
              [f"/api/tces?sort=-score&limit=50&offset={o}" for o in (0, 0, 50, 100, 1000)]),
        Route("API job list", "api", "api", 2, ["/api/jobs?limit=1", "/api/jobs?limit=50", "/api/jobs?limit=50&status=failed"]),
        Route("API target", "api", "api", 1, [f"/api/targets/{t[0]}" for t in sample(targets)]),
        Route("API TCE", "api", "api", 1, [f"/api/tces/{pk}" for pk in sample(tces)]),
        Route("API job", "api", "api", 1, [f"/api/jobs/{pk}" for pk in sample(jobs)]),
    ]


# --- gunicorn -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(database_url: str, static_root: Path, secret_key: str, extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(DJANGO_SETTINGS_MODULE="gaia_web.settings", DEBUG="0", SECRET_KEY=secret_key,
               ALLOWED_HOSTS="127.0.0.1,localhost", GAIA_BEHIND_PROXY="1", STATIC_ROOT=str(static_root),
               DATABASE_URL=database_url)
    env.update(extra)
    return env


def start_gunicorn(env: dict, port: int, workers: int, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gunicorn", "gaia_web.wsgi:application", "--bind", f"127.0.0.1:{port}",
           "--workers", str(workers), "--timeout", "120", "--access-logfile", str(log)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(log.with_suffix(".err"), "w"),  # noqa: SIM115
                            start_new_session=True)
    import urllib.request

    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.with_suffix('.err').read_text()[-2000:]}")
    raise RuntimeError("gunicorn did not answer /healthz within 90 s")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(master: int, database: str) -> dict[tuple[str, int], float]:
    """CPU seconds so far of gunicorn's workers ("web") and of the PostgreSQL backends serving ``database``
    ("db"), by (kind, pid)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == master:
            pids.append(("web", int(entry.name)))
        elif cmdline.startswith("postgres:") and f" {database} " in cmdline:
            pids.append(("db", int(entry.name)))
    return {key: _cpu_seconds(key[1]) for key in pids}


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    used = {"web": 0.0, "db": 0.0}
    for key, seconds in after.items():
        used[key[0]] += seconds - before.get(key, 0.0)
    return used


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


# --- the driver ---------------------------------------------------------------------------------
async def run_load(port: int, all_routes: list[Route], world: dict, users: int, duration: float, think: float,
                   seed: int) -> Stats:
    import aiohttp

    stats = Stats()
    base = f"http://127.0.0.1:{port}"
    by_role: dict[str, list[Route]] = {}
    for route in all_routes:
        by_role.setdefault(route.role, []).append(route)
    # A quarter of the users are vetters, a quarter API scripts, the rest anonymous visitors.
    roles = ["vetter" if i % 4 == 1 else "api" if i % 4 == 3 else "anonymous" for i in range(users)]
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        stop_at = time.perf_counter() + duration

        async def user(index: int) -> None:
            rng = random.Random(seed * 1000 + index)
            role = roles[index]
            mine = by_role[role]
            weights = [r.weight for r in mine]
            headers = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
            if role == "vetter":
                headers["Cookie"] = f"sessionid={world['sessions'][index % len(world['sessions'])]}"
            elif role == "api":
                headers["Authorization"] = f"Bearer {world['tokens'][index % len(world['tokens'])]}"
            await asyncio.sleep(rng.uniform(0, think or 0.05))
            while time.perf_counter() < stop_at:
                route = rng.choices(mine, weights)[0]
                url = rng.choice(route.urls)
                started = time.perf_counter()
                error = None
                try:
                    async with session.get(base + url, headers=headers, allow_redirects=False) as answer:
                        await answer.read()
                        if answer.status != route.expect:
                            error = f"{answer.status} for {url}"
                except (TimeoutError, aiohttp.ClientError) as exc:
                    error = f"{type(exc).__name__}: {exc} for {url}"
                stats.add(route.name, (time.perf_counter() - started) * 1000, error)
                await asyncio.sleep(think)

        stats.started = time.perf_counter()
        await asyncio.gather(*(user(i) for i in range(users)))
        stats.finished = time.perf_counter()
    return stats


def verdict(stats: Stats, all_routes: list[Route]) -> tuple[bool, list[str]]:
    """Whether every route met its p95 goal with no error; the routes that did not."""
    missed = []
    for route in all_routes:
        ms = stats.latencies.get(route.name, [])
        if not ms:
            continue
        if stats.errors.get(route.name) or percentile(ms, 95) > GOALS[route.kind]:
            missed.append(route.name)
    return not missed, missed


# --- main ---------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gaia_web.settings_test")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from apps.catalog.services import catalog_summary
    from apps.scale.plans import request_plans
    from apps.scale.seed import seed_present, seed_scale

    result: dict = {"args": vars(args).copy(), "pg": None}
    created_db = None
    if args.database:
        connection.settings_dict["NAME"] = args.database
    else:
        connection.settings_dict["NAME"] = "gaia_bench_load"
        created_db = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        result["pg"] = connection.pg_version
        if not seed_present():
            if args.database:
                raise SystemExit(f"database {args.database} holds no seed_scale catalogue")
            result["seed"] = seed_scale(targets=args.targets, tces=args.tces, predictions=args.predictions,
                                        labels=args.labels, jobs=args.jobs, log=print)
        else:
            from apps.jobs.models import Job
            from apps.scale.seed import RUN_KIND, SYNTHETIC

            result["seed"] = Job.objects.filter(kind=RUN_KIND, message_id=SYNTHETIC).first().result
        world = prepare_world(n_vetters=max(2, args.users // 4), n_api=max(2, args.users // 4))
        all_routes = routes(world)
        # Plans of one request of each route's first URLs, as a vetter (sees every page) or with a token.
        client = Client()
        client.cookies["sessionid"] = world["sessions"][0]
        pages = [(f"{r.name} #{i}", url) for r in all_routes for i, url in enumerate(r.urls[:3])]
        token = world["tokens"][0]
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        catalog_summary(refresh=True)  # what every dashboard view but one per few minutes finds
        for _name, url in pages:  # once first: the vetting queue rows catch up with the bench's users
            client.get(url, **auth)
        plans = request_plans(client, pages, headers=lambda name: auth)
        result["plans"] = {"requests": len(plans), "statements": sum(p.statements for p in plans),
                           "seq_scans": sorted({f"{s.table} ({p.name})" for p in plans for s in p.seq_scans}),
                           "bad_status": [f"{p.name}: {p.status}" for p in plans if p.status >= 400]}
        print("plans:", result["plans"])
        database_url = "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict)
        if connection.settings_dict.get("PASSWORD"):
            database_url = database_url.replace("@", f":{connection.settings_dict['PASSWORD']}@", 1)
        connection.close()
        with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
            tmp = Path(tmp)
            static_root = tmp / "static"
            env = production_env(database_url, static_root, settings.SECRET_KEY, {"DB_CONN_MAX_AGE": str(args.conn_max_age)})
            subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
            port = free_port()
            server = start_gunicorn(env, port, args.workers, tmp / "access.log")
            try:
                # Warm every route once (the dashboard's summary, the workers' imports).
                asyncio.run(run_load(port, all_routes, world, users=len(all_routes), duration=5, think=0.2, seed=0))
                print(f"main run: {args.users} users, think {args.think} s, {args.duration} s")
                database = connection.settings_dict["NAME"]
                cpu_before, load_before = server_cpu(server.pid, database), os.getloadavg()[0]
                main_stats = asyncio.run(run_load(port, all_routes, world, args.users, args.duration, args.think, seed=1))
                result["cpu_s"] = cpu_used(cpu_before, server_cpu(server.pid, database))
                result["load"] = (load_before, os.getloadavg()[0])
                result["main"] = main_stats
                result["steps"] = []
                for users in args.steps:
                    print(f"saturation step: {users} users, {args.step_duration} s")
                    stats = asyncio.run(run_load(port, all_routes, world, users, args.step_duration, args.think, seed=users))
                    ok, missed = verdict(stats, all_routes)
                    result["steps"].append((users, stats, ok, missed))
            finally:
                stop(server)
            result["routes"] = all_routes
        return result
    finally:
        from django.contrib.auth import get_user_model

        get_user_model().objects.filter(username__startswith="bench_load_").delete()
        connection.close()
        if created_db and not args.keep:
            connection.creation.destroy_test_db(created_db, verbosity=0)
        elif args.database is None:
            print(f"kept database {created_db}")


def render(result: dict) -> str:
    import aiohttp
    import django
    import gunicorn
    import psycopg

    args = result["args"]
    main: Stats = result["main"]
    all_routes: list[Route] = result["routes"]
    pg = result["pg"]
    seed = result["seed"] or {}
    sizes = seed.get("sizes", {})
    elapsed = main.finished - main.started
    lines = [
        "## Load test at catalogue size (`bench/bench_load.py`)",
        "",
        f"Machine: {machine()}; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()}, "
        f"Django {django.__version__}, gunicorn {gunicorn.__version__}, psycopg {psycopg.__version__}, "
        f"aiohttp {aiohttp.__version__}, PostgreSQL {pg // 10000}.{pg % 10000}.",
        "",
        "World (`manage.py seed_scale`, " + ", ".join(f"{v:,} {k}" for k, v in sizes.items())
        + (f"; seeded in {seed['total_s']:.0f} s" if seed.get("total_s") else "") + ").",
        "",
        f"Server: gunicorn as in the Dockerfile ({args['workers']} sync workers, `DEBUG=0`, collected static files, "
        f"`GAIA_BEHIND_PROXY=1` with `X-Forwarded-Proto: https`, `DB_CONN_MAX_AGE={args['conn_max_age']}`), "
        f"database and load driver on the same machine. Load: {args['users']} users, each waiting {args['think']} s "
        f"after every answer, for {args['duration']} s: {main.requests:,} requests, "
        f"{main.requests / elapsed:.1f} requests/s; a quarter of the users are logged-in vetters, a quarter API "
        "scripts with bearer tokens, the rest anonymous visitors.",
        "",
        "| route | kind | requests | p50 ms | p95 ms | p99 ms | errors | p95 goal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    every = []
    for route in all_routes:
        ms = main.latencies.get(route.name, [])
        every += ms
        if not ms:
            continue
        goal = GOALS[route.kind]
        p95 = percentile(ms, 95)
        errors = main.errors.get(route.name, 0)
        met = "met" if p95 <= goal and not errors else "**not met**"
        lines.append(f"| {route.name} | {route.kind} | {len(ms)} | {percentile(ms, 50):.0f} | {p95:.0f} | "
                     f"{percentile(ms, 99):.0f} | {errors} | ≤ {goal}: {met} |")
    lines.append(f"| **all** | | {len(every)} | {percentile(every, 50):.0f} | {percentile(every, 95):.0f} | "
                 f"{percentile(every, 99):.0f} | {sum(main.errors.values())} | |")
    if result.get("cpu_s"):
        cpu = result["cpu_s"]
        total = cpu["web"] + cpu["db"]
        per_request = total / main.requests * 1000
        lines += ["", f"Server CPU during the run: {total:.1f} s for {main.requests:,} requests, {per_request:.1f} ms "
                  f"per request ({cpu['web'] / main.requests * 1000:.1f} ms in the gunicorn workers, "
                  f"{cpu['db'] / main.requests * 1000:.1f} ms in the PostgreSQL backends serving them; a backend "
                  f"replaced mid-run is not counted): about {1000 / per_request:.0f} requests/s per dedicated core. "
                  f"The server used {total / elapsed:.2f} cores on average; load average {result['load'][0]:.1f} "
                  f"before and {result['load'][1]:.1f} after the run (other sessions' work shared the 2 cores)."]
    if main.error_examples:
        lines += ["", "Errors, first of each route: " + "; ".join(f"{k}: {v}" for k, v in main.error_examples.items())]
    lines += ["", "Saturation (same workload, more users per step of "
              f"{args['step_duration']} s; met = every route within its p95 goal, no error):", "",
              "| users | requests/s | p50 ms | p95 ms (all) | worst route p95 | errors | goals |", "|---|---|---|---|---|---|---|"]
    best = None
    for users, stats, ok, missed in result["steps"]:
        every = [x for v in stats.latencies.values() for x in v]
        rate = stats.requests / (stats.finished - stats.started)
        worst = max(((percentile(v, 95), k) for k, v in stats.latencies.items()), default=(float("nan"), ""))
        lines.append(f"| {users} | {rate:.1f} | {percentile(every, 50):.0f} | {percentile(every, 95):.0f} | "
                     f"{worst[0]:.0f} ({worst[1]}) | {sum(stats.errors.values())} | "
                     + ("met" if ok else "not met: " + ", ".join(missed)) + " |")
        if ok:
            best = max(best or 0, rate)
    point = f"{best:.0f} requests/s" if best else "below the first step"
    lines += ["", f"Saturation point: {point} "
              "(the highest measured rate with every route within its p95 goal and no error)."]
    plans = result["plans"]
    lines += ["", f"Plans: {plans['statements']} statements of {plans['requests']} requests (the routes' URLs) "
              f"EXPLAINed at this size; sequential scans of tables over 10k rows: "
              + (", ".join(plans["seq_scans"]) if plans["seq_scans"] else "none") + ".",
              "", "Goals: p95 ≤ 150 ms for lists and API, ≤ 300 ms for detail pages, 0 errors, at ~50 requests/s."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="an existing database holding a seed_scale catalogue")
    parser.add_argument("--targets", type=int, default=200_000)
    parser.add_argument("--tces", type=int, default=500_000)
    parser.add_argument("--predictions", type=int, default=1_000_000)
    parser.add_argument("--labels", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--steps", type=lambda s: [int(x) for x in s.split(",") if x], default=[10, 20, 30, 40, 60, 80])
    parser.add_argument("--step-duration", type=float, default=20)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (the Dockerfile's 3)")
    parser.add_argument("--conn-max-age", type=int, default=60, help="DB_CONN_MAX_AGE for gunicorn (the Dockerfile's 60)")
    parser.add_argument("--keep", action="store_true", help="keep the throw-away database")
    parser.add_argument("--md", type=Path, default=ROOT / "docs" / "bench" / "load.md")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("bench_load needs DATABASE_URL (make bench starts the test PostgreSQL)")
    result = run(args)
    text = render(result)
    args.md.parent.mkdir(parents=True, exist_ok=True)
    args.md.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
