"""Download an eclipse's raw6 and aspect from MAST (gPhoton 2's query) and register it."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import GaiaError
from apps.galex.intake import eclipse_fetch


class Command(BaseCommand):
    help = (
        "Fetch a GALEX eclipse's raw6 (one band) and spacecraft-state file from MAST "
        "(GAIA_GALEX_MAST_URL) through the verified, resumable download ledger, then register it."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--eclipse", type=int, required=True, help="GALEX eclipse number")
        parser.add_argument("--band", default="NUV", choices=["NUV", "FUV"])
        parser.add_argument("--max-attempts", type=int, default=5, help="attempts per file")

    def handle(self, *args, **opts) -> None:
        def progress(done: int, total: int, nbytes: int) -> None:
            self.stdout.write(f"[download] {done}/{total} files, {nbytes / 1e6:.1f} MB")

        try:
            eclipse, report = eclipse_fetch(number=opts["eclipse"], band=opts["band"],
                                            max_attempts=opts["max_attempts"], on_progress=progress)  # fmt: skip
        except GaiaError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"downloaded {report['fetched']} file(s) ({report['bytes_downloaded'] / 1e6:.1f} MB, "
            f"{report['retries']} retries), {report['skipped']} already verified"
        )
        self.stdout.write(
            f"eclipse {eclipse.pk}: e{eclipse.number:05d} {eclipse.band}, "
            f"{eclipse.summary.get('n_events', 0)} events, {eclipse.legs} leg(s) -> /galex/{eclipse.pk}/"
        )
