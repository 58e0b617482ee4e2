"""Fault drills: real workers SIGKILLed at random moments of a job (``manage.py fault_drill``).

For one job kind a drill prepares small real inputs, runs the job once uninterrupted with a real
Dramatiq worker process (the baseline), then runs it again while SIGKILLing the worker's whole
process group at random moments, starting a fresh worker after each kill. The reconciler inside
the workers (``GAIA_RECONCILE_SECONDS=1``) re-queues the job once its lease
(``GAIA_JOB_LEASE_SECONDS``, a few seconds here) has run out, and the next worker finishes it.
Each drilled job must then have succeeded, produced the same outputs as the baseline (sha256 per
artifact key, or per row for row outputs), left no temporary or orphan file, and left
``check_data`` and the scenario's own ledger checks consistent.

Kinds are contributed by the domain apps as :class:`Scenario` objects in their ``drill`` module
(``apps/<app>/drill.py``, discovered like ``tasks``); this module knows no domain app. A drill
owns the database, Redis and DATA_ROOT it is pointed at: run it against scratch ones.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from django.apps import apps
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

from apps.core.files import data_root
from apps.jobs.integrity import data_check
from apps.jobs.models import FINISHED_STATUSES, Artifact, Job, JobStatus
from apps.jobs.services import job_enqueue

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Folders under DATA_ROOT that only hold a job's scratch files while it runs.
SCRATCH_FOLDERS = (".staging", "galex/work")


@dataclass
class DrillSetup:
    """What :attr:`Scenario.prepare` returns: the job's parameters and targets, extra worker
    environment (e.g. the fake archive's URL) and whatever the scenario keeps for later calls."""

    params: dict
    targets: list = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    state: dict = field(default_factory=dict)


@dataclass
class Scenario:
    """One drill kind.

    ``outputs(job, setup)`` gives name -> digest of what the job produced that must not depend on
    how often it was interrupted; ``problems(job, setup)`` lists inconsistencies of the scenario's
    own records (ledger rows, duplicate rows); ``reset(setup)`` runs before every job of the
    drill (the baseline included) so each starts from the same state.
    """

    name: str
    job_kind: str
    queue: str
    prepare: Callable[[], DrillSetup]
    outputs: Callable[[Job, DrillSetup], dict[str, str]]
    problems: Callable[[Job, DrillSetup], list[str]] = lambda job, setup: []
    reset: Callable[[DrillSetup], None] = lambda setup: None
    teardown: Callable[[DrillSetup], None] = lambda setup: None
    compared: str = "sha256 of every artifact the job stored (latest version per key)"
    timeout_s: float = 600.0


_SCENARIOS: dict[str, Scenario] = {}
#: The order of ``--kind all`` (load_demo last: it re-ingests light curves others use).
KIND_ORDER = ("download", "ingest", "process", "search", "infer", "reduce", "train", "load_demo")


def register_scenario(scenario: Scenario) -> None:
    _SCENARIOS[scenario.name] = scenario


def scenarios() -> dict[str, Scenario]:
    """Every registered drill kind (imports ``<app>.drill`` of each project app once)."""
    for config in apps.get_app_configs():
        if config.name.startswith("apps."):
            try:
                importlib.import_module(f"{config.name}.drill")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.drill":
                    raise
    rank = {name: i for i, name in enumerate(KIND_ORDER)}
    return dict(sorted(_SCENARIOS.items(), key=lambda item: rank.get(item[0], len(rank))))


# -- outputs shared by scenarios --------------------------------------------------------------------
def job_artifact_digests(job: Job) -> dict[str, str]:
    """Key -> sha256 of the newest version of each artifact the job stored."""
    latest: dict[str, tuple[int, str]] = {}
    for key, version, sha in Artifact.objects.filter(job=job).values_list("key", "version", "sha256"):
        if key not in latest or version > latest[key][0]:
            latest[key] = (version, sha)
    return {key: sha for key, (_version, sha) in latest.items()}


def job_duplicate_versions(job: Job) -> list[str]:
    """Keys the job stored more than once (a rerun that did not reuse its own version)."""
    counts = Counter(Artifact.objects.filter(job=job).values_list("key", flat=True))
    return [f"{key}: {n} versions from one job" for key, n in sorted(counts.items()) if n > 1]


def artifact_scenario(
    *, name: str, job_kind: str, prepare: Callable[[], DrillSetup], compared: str, queue: str = "cpu"
) -> Scenario:
    """A drill kind judged by the artifacts its job stores: the newest version of each must come out
    the same, and no key may be stored twice by one job."""
    return Scenario(
        name=name, job_kind=job_kind, queue=queue, prepare=prepare,
        outputs=lambda job, setup: job_artifact_digests(job),
        problems=lambda job, setup: job_duplicate_versions(job),
        compared=compared,
    )  # fmt: skip


def count_mismatch(rows: int, reported: object, message: str) -> list[str]:
    """A problem when a job recorded ``rows`` rows but its result reports another number of them.

    ``message`` is a ``str.format`` template given ``rows`` and ``reported``.
    """
    return [] if rows == reported else [message.format(rows=rows, reported=reported)]


# -- results ---------------------------------------------------------------------------------------
@dataclass
class Kill:
    """One SIGKILL: when (seconds after the attempt was claimed) and where the job was."""

    after_s: float
    stage: str
    progress: str
    hit_running: bool


@dataclass
class RoundResult:
    job_id: int
    status: str
    kills: list[Kill]
    differences: list[str]
    problems: list[str]
    leftovers: list[str]
    check_data: bool
    seconds: float
    attempts: int = 0
    last_attempt_s: float = 0.0

    @property
    def identical(self) -> bool:
        return self.status == JobStatus.SUCCEEDED and not self.differences


@dataclass
class KindResult:
    kind: str
    compared: str
    baseline_s: float = 0.0
    baseline_outputs: int = 0
    rounds: list[RoundResult] = field(default_factory=list)
    error: str = ""

    @property
    def kills(self) -> int:
        return sum(1 for r in self.rounds for k in r.kills if k.hit_running)

    @property
    def completed(self) -> int:
        return sum(1 for r in self.rounds if r.status == JobStatus.SUCCEEDED)

    @property
    def identical(self) -> int:
        return sum(1 for r in self.rounds if r.identical)

    @property
    def orphans(self) -> int:
        return sum(len(r.leftovers) for r in self.rounds)

    @property
    def problems(self) -> int:
        return sum(len(r.problems) for r in self.rounds)

    @property
    def ok(self) -> bool:
        rounds = len(self.rounds)
        return (
            not self.error and rounds > 0 and self.completed == rounds and self.identical == rounds
            and self.orphans == 0 and self.problems == 0 and all(r.check_data for r in self.rounds)
        )  # fmt: skip

    def as_dict(self) -> dict:
        return {
            "kind": self.kind, "kills": self.kills, "jobs": len(self.rounds), "completed": self.completed,
            "identical": self.identical, "orphans": self.orphans, "problems": self.problems,
            "check_data": all(r.check_data for r in self.rounds), "ok": self.ok, "error": self.error,
            "compared": self.compared, "baseline_s": round(self.baseline_s, 2),
            "baseline_outputs": self.baseline_outputs,
            "rounds": [
                {"job": r.job_id, "status": r.status, "attempts": r.attempts, "seconds": round(r.seconds, 1),
                 "kills": [vars(k) for k in r.kills], "differences": r.differences[:20],
                 "problems": r.problems[:20], "leftovers": r.leftovers[:20], "check_data": r.check_data}
                for r in self.rounds
            ],
        }  # fmt: skip


def _stage_label(stage: str) -> str:
    # a new attempt shows the reconciler's "re-queued: ..." until its body names a stage
    return "(claimed, no stage yet)" if not stage or stage.startswith("re-queued") else stage


def results_table(results: list[KindResult]) -> str:
    """The drill's results as a Markdown table."""
    lines = [
        "| kind | kills | jobs | completed | identical | orphans | check_data | other problems | stages hit |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        stages = sorted({_stage_label(k.stage) for rr in r.rounds for k in rr.kills if k.hit_running})
        check = "consistent" if r.rounds and all(x.check_data for x in r.rounds) else "NOT consistent"
        if r.error:
            lines.append(f"| {r.kind} | {r.kills} | {len(r.rounds)} | - | - | - | - | {r.error} | |")
            continue
        lines.append(
            f"| {r.kind} | {r.kills} | {len(r.rounds)} | {r.completed}/{len(r.rounds)} | "
            f"{r.identical}/{len(r.rounds)} | {r.orphans} | {check} | {r.problems} | {', '.join(stages)} |"
        )
    return "\n".join(lines)


# -- workers ---------------------------------------------------------------------------------------
def _database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_environment(*, lease_s: int, lost_worker_retries: int, extra: dict[str, str]) -> dict[str, str]:
    """The environment of drill workers: this process's database, Redis and DATA_ROOT (a test's
    temporary ones included), a short lease and a reconciler pass every second."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gaia_web.settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DATA_ROOT": str(data_root()),
        "GAIA_DEMO_DATA": str(settings.GAIA_DEMO_DATA),
        "GAIA_GALEX_CAL_DIR": str(settings.GALEX_CAL_DIR),
        "GAIA_JOB_LEASE_SECONDS": str(lease_s),
        "GAIA_RECONCILE_SECONDS": "1",
        "GAIA_JOB_LOST_WORKER_RETRIES": str(lost_worker_retries),
        "GAIA_JOBS_EAGER": "0",
        **extra,
    }


#: ``dramatiq gaia_web.worker`` started in two steps: the slow imports (Django, torch, every
#: app's actors: ~5-15 s) while the previous worker still runs, then, on a line on stdin, the
#: ordinary dramatiq command line (its worker process forks with the imports done).
STANDBY = """
import sys
import gaia_web.worker
from dramatiq.cli import main, make_argument_parser
sys.stdin.readline()
sys.exit(main(make_argument_parser().parse_args(sys.argv[1:])))
"""


class WorkerProcess:
    """A fresh Dramatiq worker (one process, one thread) in its own process group, so one SIGKILL
    takes the main process and its worker child together, as a machine or OOM kill would.

    It boots in standby (imports only, no broker connection, no job); :meth:`start` lets it run.
    """

    def __init__(self, env: dict[str, str], queue: str, log: Path) -> None:
        self.log = open(log, "ab")  # noqa: SIM115 - closed in stop()/kill()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", STANDBY, "gaia_web.worker", "--processes", "1", "--threads", "1",
             "--queues", queue],
            cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def start(self) -> WorkerProcess:
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()
        return self

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self, timeout_s: float = 20.0) -> None:
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=timeout_s)
        self.kill()


# -- checks ----------------------------------------------------------------------------------------
def scratch_leftovers(root: Path) -> list[str]:
    """Temporary files under DATA_ROOT: ``*.part`` anywhere, anything in a scratch folder."""
    found = {str(p.relative_to(root)) for p in root.rglob("*.part") if p.is_file()}
    for folder in SCRATCH_FOLDERS:
        found |= {str(p.relative_to(root)) for p in (root / folder).rglob("*") if p.is_file()}
    return sorted(found)


def _differences(expected: dict[str, str], got: dict[str, str]) -> list[str]:
    out = [f"missing {name}" for name in sorted(set(expected) - set(got))]
    out += [f"extra {name}" for name in sorted(set(got) - set(expected))]
    out += [f"differs {name}" for name in sorted(set(expected) & set(got)) if expected[name] != got[name]]
    return out


# -- the drill -------------------------------------------------------------------------------------
class Drill:
    """Runs the drill of one or more kinds; ``say`` receives progress lines."""

    def __init__(
        self,
        *,
        kills: int,
        seed: int = 0,
        kills_per_job: int = 5,
        lease_s: int = 5,
        say: Callable[[str], None] = lambda line: None,
        log_dir: Path | None = None,
    ) -> None:
        self.kills = kills
        self.rng = random.Random(seed)
        self.kills_per_job = max(1, kills_per_job)
        self.lease_s = lease_s
        self.say = say
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="gaia-drill-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._workers = 0
        self._standby: tuple[tuple, WorkerProcess] | None = None
        self._active: WorkerProcess | None = None

    def _start_worker(self, env: dict[str, str], queue: str) -> WorkerProcess:
        """Start the standby worker (booting since the last start) and boot the next one."""
        key = (queue, tuple(sorted(env.items())))
        worker = self._standby[1] if self._standby and self._standby[0] == key else None
        if worker is None:
            self._drop_standby()
            worker = self._boot(env, queue)
        self._standby = (key, self._boot(env, queue))
        self._active = worker.start()
        return self._active

    def _boot(self, env: dict[str, str], queue: str) -> WorkerProcess:
        self._workers += 1
        return WorkerProcess(env, queue, self.log_dir / f"worker-{self._workers:03d}.log")

    def _drop_standby(self) -> None:
        if self._standby is not None:
            self._standby[1].kill()
            self._standby = None

    def _stop_active(self) -> None:
        if self._active is not None:
            self._active.stop()
            self._active = None

    def run(self, names: list[str]) -> list[KindResult]:
        known = scenarios()
        try:
            return [self.run_kind(known[name]) for name in names]
        finally:
            self._stop_active()
            self._drop_standby()

    def run_kind(self, scenario: Scenario) -> KindResult:
        result = KindResult(kind=scenario.name, compared=scenario.compared)
        self.say(f"[{scenario.name}] preparing inputs")
        setup = scenario.prepare()
        env = worker_environment(
            lease_s=self.lease_s, lost_worker_retries=self.kills_per_job + 1, extra=setup.env
        )
        self._start_worker(env, scenario.queue)
        try:
            baseline = self._run_job(scenario, setup)
            baseline = self._wait_finished(baseline.pk, scenario.timeout_s)
            if baseline.status != JobStatus.SUCCEEDED:
                result.error = f"baseline job {baseline.pk} {baseline.status}: {baseline.error_summary[:200]}"
                return result
            expected = scenario.outputs(baseline, setup)
            result.baseline_s = (baseline.finished_at - baseline.started_at).total_seconds()
            result.baseline_outputs = len(expected)
            self.say(f"[{scenario.name}] baseline job {baseline.pk}: {result.baseline_s:.1f} s, "
                     f"{len(expected)} outputs")  # fmt: skip
            typical_s = result.baseline_s
            while result.kills < self.kills and len(result.rounds) < 3 * self.kills + 3:
                wanted = min(self.kills_per_job, self.kills - result.kills)
                outcome = self._round(scenario, setup, env, expected, typical_s, wanted)
                result.rounds.append(outcome)
                self.say(
                    f"[{scenario.name}] job {outcome.job_id}: {outcome.status} after "
                    f"{sum(k.hit_running for k in outcome.kills)} kill(s), attempts {outcome.attempts}, "
                    f"identical={outcome.identical}, leftovers={len(outcome.leftovers)}, "
                    f"check_data={'ok' if outcome.check_data else 'NOT ok'}, problems={len(outcome.problems)}"
                    f" (kills so far {result.kills}/{self.kills})"
                    + "".join(f"\n    killed {k.after_s:.2f} s into an attempt at {_stage_label(k.stage)!r} "
                              f"{k.progress}" for k in outcome.kills if k.hit_running)
                )
                if outcome.status != JobStatus.SUCCEEDED:
                    break
                # kill moments are drawn over a whole attempt: the last one's length (warm caches)
                typical_s = outcome.last_attempt_s or typical_s
        except TimeoutError as exc:
            result.error = str(exc)
        finally:
            self._stop_active()
            scenario.teardown(setup)
        return result

    def _run_job(self, scenario: Scenario, setup: DrillSetup) -> Job:
        scenario.reset(setup)
        return job_enqueue(kind=scenario.job_kind, params=dict(setup.params), targets=setup.targets)

    def _round(
        self,
        scenario: Scenario,
        setup: DrillSetup,
        env: dict[str, str],
        expected: dict[str, str],
        typical_s: float,
        wanted: int,
    ) -> RoundResult:
        """One drilled job: up to ``wanted`` kills while it runs, then let it finish and check it."""
        started = time.monotonic()
        job = self._run_job(scenario, setup)
        kills: list[Kill] = []
        claimed_attempts = 0
        while self._hits(kills) < wanted:
            current = self._wait_claimed(job.pk, claimed_attempts, scenario.timeout_s)
            if current.status in FINISHED_STATUSES:
                break
            claimed_attempts = current.attempts
            delay = self.rng.uniform(0.0, max(typical_s, 0.2))
            finished = self._sleep_unless_finished(job.pk, delay)
            if finished:
                break
            snapshot = self._job(job.pk)
            self._active.kill()
            after = self._job(job.pk)
            kills.append(
                Kill(
                    after_s=round(delay, 3),
                    stage=snapshot.stage,
                    progress=f"{snapshot.progress_done}/{snapshot.progress_total}",
                    hit_running=after.status == JobStatus.RUNNING,
                )
            )
            self._start_worker(env, scenario.queue)
        final = self._wait_finished(job.pk, scenario.timeout_s)
        got = scenario.outputs(final, setup) if final.status == JobStatus.SUCCEEDED else {}
        report = data_check()
        root = data_root()
        leftovers = sorted(set(scratch_leftovers(root)) | set(report.leftovers) | set(report.orphans))
        outcome = RoundResult(
            job_id=final.pk,
            status=final.status,
            kills=kills,
            differences=_differences(expected, got) if final.status == JobStatus.SUCCEEDED else [final.error_summary[:300]],
            problems=scenario.problems(final, setup),
            leftovers=leftovers,
            check_data=report.consistent,
            seconds=time.monotonic() - started,
            attempts=final.attempts,
            last_attempt_s=(final.finished_at - final.started_at).total_seconds() if final.started_at else 0.0,
        )
        return outcome

    @staticmethod
    def _hits(kills: list[Kill]) -> int:
        return sum(1 for k in kills if k.hit_running)

    def _wait_claimed(self, job_id: int, after_attempts: int, timeout_s: float) -> Job:
        """Wait until a worker claimed the job again (a new attempt), or it finished."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            job = self._job(job_id)
            if job.status in FINISHED_STATUSES:
                return job
            if job.status == JobStatus.RUNNING and job.attempts > after_attempts:
                return job
            self._check_alive()
            time.sleep(0.05)
        raise TimeoutError(f"job {job_id} not claimed again within {timeout_s:.0f} s (stuck)")

    def _sleep_unless_finished(self, job_id: int, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self._job(job_id).status in FINISHED_STATUSES:
                return True
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return self._job(job_id).status in FINISHED_STATUSES

    def _wait_finished(self, job_id: int, timeout_s: float) -> Job:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            job = self._job(job_id)
            if job.status in FINISHED_STATUSES:
                return job
            self._check_alive()
            time.sleep(0.1)
        job = self._job(job_id)
        raise TimeoutError(f"job {job_id} still {job.status} ({job.stage}) after {timeout_s:.0f} s (stuck)")

    def _check_alive(self) -> None:
        worker = self._active
        if worker is not None and worker.proc.poll() is not None:
            raise TimeoutError(
                f"the worker exited by itself (code {worker.proc.returncode}); see {worker.log.name}"
            )

    @staticmethod
    def _job(job_id: int) -> Job:
        """The job row; through a database restart the drill waits and reconnects (a minute)."""
        deadline = time.monotonic() + 60
        while True:
            try:
                return Job.objects.get(pk=job_id)
            except (OperationalError, InterfaceError):
                if time.monotonic() > deadline:
                    raise
                connection.close()
                time.sleep(1.0)
