"""``manage.py download``: fetch, verify and ingest light curves in the foreground (or queue a job).

Examples::

    manage.py download kepler --kic 11442793
    manage.py download kepler --kic 11446443 --cadence short --quarter 0
    manage.py download tess --tic 25155310 --sector 1
    manage.py download catalog dr24 --limit 100
    manage.py download kepler --kic 2306740 --source mirror --mirror ../shared/data/kepler
    manage.py download tess --tic 25155310 --sector 1 --enqueue
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.archive.services import DownloadSpec, download_enqueue, download_run
from apps.archive.services.downloads import CATALOGS
from apps.core.errors import GaiaError


def seasons(text: str) -> list[int]:
    """ "3" -> [3]; "1-4" -> [1, 2, 3, 4]; "1,5" -> [1, 5]."""
    values: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        values.extend(range(int(low), int(high or low) + 1))
    return values


class _Bars:
    """Two tqdm bars (files and bytes) fed by the service's progress callback."""

    def __init__(self, stream) -> None:  # noqa: ANN001 - the command's stderr
        self.files = tqdm(desc="files", unit="file", file=stream, disable=None)
        self.data = tqdm(desc="data", unit="B", unit_scale=True, file=stream, disable=None)
        self.ingest = None
        self.stream = stream

    def download(self, done: int, total: int, nbytes: int) -> None:
        self.files.total = total
        self.files.update(done - self.files.n)
        self.data.update(nbytes - self.data.n)

    def ingested(self, done: int, total: int) -> None:
        if self.ingest is None:
            self.ingest = tqdm(
                desc="ingest", unit="file", total=total, file=self.stream, disable=None
            )
        self.ingest.update(done - self.ingest.n)

    def close(self) -> None:
        for bar in (self.files, self.data, self.ingest):
            if bar is not None:
                bar.close()


class Command(BaseCommand):
    help = "Download Kepler/K2/TESS light curves (verify, resume, ingest); --enqueue queues a job instead."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["kepler", "k2", "tess", "catalog"])
        parser.add_argument(
            "catalog",
            nargs="?",
            choices=sorted(CATALOGS),
            help="with 'catalog': whose hosts to fetch",
        )
        parser.add_argument("--kic", action="append", default=[], help="Kepler star (repeatable)")
        parser.add_argument("--epic", action="append", default=[], help="K2 star (repeatable)")
        parser.add_argument("--tic", action="append", default=[], help="TESS star (repeatable)")
        parser.add_argument(
            "--quarter", "--campaign", "--sector", dest="seasons", type=seasons, action="extend",
            help="quarters/campaigns/sectors, e.g. 3, 1-4 or 1,5 (default: all)",
        )  # fmt: skip
        parser.add_argument(
            "--cadence", choices=["long", "short"], default="long", help="Kepler cadence"
        )
        parser.add_argument("--limit", type=int, help="with 'catalog': number of host stars")
        parser.add_argument(
            "--concurrency", type=int, help="requests in flight (default GAIA_DOWNLOAD_CONCURRENCY)"
        )
        parser.add_argument("--max-attempts", type=int, default=5, help="attempts per file")
        parser.add_argument("--no-ingest", action="store_true", help="download and verify only")
        parser.add_argument("--source", choices=["mast", "mirror"], default="mast")
        parser.add_argument(
            "--mirror",
            help="local mirror folder (archive layout or flat file names); default "
            "GAIA_ARCHIVE_MIRROR_ROOT, which queued jobs always use",
        )
        parser.add_argument(
            "--recheck-missing", action="store_true", help="ask again for files recorded as 404"
        )
        parser.add_argument(
            "--enqueue", action="store_true", help="queue a job for the workers instead"
        )
        parser.add_argument("--json", action="store_true", help="print the full report as JSON")

    def handle(self, *args: object, **options: object) -> None:
        spec = self._spec(options)
        try:
            if options["enqueue"]:
                if options["mirror"]:
                    raise CommandError(
                        "a queued download reads GAIA_ARCHIVE_MIRROR_ROOT on the worker: "
                        "set that instead of --mirror, or drop --enqueue"
                    )
                job = download_enqueue(spec=spec)
                self.stdout.write(f"queued job {job.pk} ({job.kind} on the {job.queue_name} queue)")
                return
            bars = _Bars(self.stderr._out)
            try:
                report = download_run(
                    spec=spec,
                    on_progress=bars.download,
                    on_ingest_progress=bars.ingested,
                    mirror_root=options["mirror"],
                )
            finally:
                bars.close()
        except GaiaError as exc:
            raise CommandError(exc.message) from exc
        self._print(report, as_json=bool(options["json"]))

    def _spec(self, options: dict) -> DownloadSpec:
        what = options["what"]
        if what == "catalog" and not options["catalog"]:
            raise CommandError("say which catalogue: download catalog dr24|dr25|koi|toi")
        identifiers = {"kepler": options["kic"], "k2": options["epic"], "tess": options["tic"]}.get(
            what, []
        )
        params = {
            "mission": what if what != "catalog" else "kepler",
            "identifiers": list(identifiers),
            "cadence": options["cadence"],
            "seasons": options["seasons"],
            "catalog": options["catalog"] if what == "catalog" else None,
            "limit": options["limit"],
            "ingest": not options["no_ingest"],
            "source": options["source"],
            "concurrency": options["concurrency"],
            "max_attempts": options["max_attempts"],
            "recheck_missing": options["recheck_missing"],
        }
        try:
            return DownloadSpec.from_params(params)  # the job's schema and bounds, also in the foreground
        except GaiaError as exc:
            raise CommandError(exc.message) from exc

    def _print(self, report: dict, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(report, indent=2, default=str))
        counts = ", ".join(f"{state} {n}" for state, n in report["counts"].items() if n)
        self.stdout.write(
            f"{report['files']} files ({report['fetched']} fetched, {report['skipped']} already settled), "
            f"{report['bytes_downloaded'] / 1e6:.1f} MB in {report['seconds']:.1f} s: {counts}"
        )
        for failure in report["failures"]:
            self.stdout.write(f"  FAILED {failure['filename']}: {failure['error']}")
        for rejected in report.get("ingest", {}).get("rejected", []):
            self.stdout.write(f"  REJECTED {rejected['error']}")
        for failure in report.get("ingest", {}).get("failures", []):
            self.stdout.write(f"  NOT INGESTED {failure['error']}")
        failed = report["counts"]["failed"] + report.get("ingest", {}).get("failed", 0)
        if failed:
            raise CommandError(f"{failed} file(s) failed; run the command again to retry them")
