"""Write a synthetic GALEX eclipse: raw6 file, aspect tables and truth (no database needed)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.galex.science.errors import GalexError
from apps.galex.science.simulate import simulate_eclipse


class Command(BaseCommand):
    help = "Simulate a GALEX eclipse (raw6 + aspect tables + truth.csv) for the photon pipeline."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--out", required=True, help="folder for the raw6 file, aspect/ and truth.csv"
        )
        parser.add_argument("--band", default="NUV", choices=["NUV", "FUV"])
        parser.add_argument(
            "--events", type=int, default=200_000, help="approximate number of events"
        )
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **opts) -> None:
        try:
            result = simulate_eclipse(opts["out"], settings.GALEX_CAL_DIR, band=opts["band"],
                                      n_events=opts["events"], seed=opts["seed"])  # fmt: skip
        except GalexError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"raw6: {result.raw6_path} ({result.n_events} events)")
        self.stdout.write(f"aspect: {result.aspect_dir}")
        self.stdout.write(f"truth: {result.truth_path}")
        for warning in result.summary.get("warnings", []):
            self.stdout.write(self.style.WARNING(f"warning: {warning}"))
