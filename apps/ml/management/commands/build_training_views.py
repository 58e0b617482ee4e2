"""Build a labelled Kepler-cadence view set: injections to train on, DR24-labelled TCEs to test on.

    python manage.py build_training_views --out var/views/kepler --injections 2500 --preset yu2019

writes ``OUT/injections/*.npz`` (for ``train_model --views``, split 80/10/10 by star),
``OUT/dr24/*.npz`` (real DR24 PC/AFP/NTP TCEs of the local light curves, for
``evaluate_model --views``) and ``OUT/manifest.json``. No database needed.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.lightcurves.science.errors import LightCurveError
from apps.lightcurves.science.views import PRESETS
from apps.ml.science.errors import MLScienceError
from apps.ml.science.training_views import InjectionConfig, build_training_views


class Command(BaseCommand):
    help = (
        "Write per-TCE .npz views made by our pipeline: planted transits, eclipsing binaries and "
        "null TCEs in real and simulated noise (OUT/injections) and the DR24-labelled TCEs of the "
        "local Kepler light curves (OUT/dr24)."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", required=True, type=Path, help="output folder")
        parser.add_argument("--injections", type=int, default=2000, help="number of injections")
        parser.add_argument("--preset", default="gaia", choices=sorted(PRESETS), help="view preset")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--demo-data", type=Path, default=None, help="shared data folder (default: settings)"
        )
        parser.add_argument(
            "--real-fraction",
            type=float,
            default=InjectionConfig.real_fraction,
            help="share of injections into real Kepler/TESS noise (the rest: simulated noise)",
        )
        parser.add_argument(
            "--dr24-star-noise",
            action="store_true",
            help="also inject into the DR24 test stars (then the DR24 test is not star-disjoint)",
        )
        parser.add_argument(
            "--overwrite", action="store_true", help="replace .npz files already in OUT"
        )

    def handle(self, *args, **opts) -> None:
        demo = opts["demo_data"] or Path(settings.GAIA_DEMO_DATA)
        if not demo.is_dir():
            raise CommandError(f"demo data folder {demo} does not exist; pass --demo-data PATH")
        if opts["injections"] < 0:
            raise CommandError("--injections must be >= 0")
        config = InjectionConfig(real_fraction=opts["real_fraction"])
        with tqdm(desc="injections", unit="view", file=self.stderr._out, disable=None) as bar:

            def progress(done: int, total: int, stage: str) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                manifest = build_training_views(
                    demo,
                    opts["out"],
                    n_injections=opts["injections"],
                    preset=opts["preset"],
                    seed=opts["seed"],
                    config=config,
                    dr24_star_noise=opts["dr24_star_noise"],
                    overwrite=opts["overwrite"],
                    on_progress=progress,
                )
            except (MLScienceError, LightCurveError, OSError) as exc:
                raise CommandError(str(exc)) from exc
        injected, real = manifest["injections"], manifest["dr24"]
        self.stdout.write(
            f"wrote {injected['n']} injections {injected['dispositions']} "
            f"({injected['stars']} stars) to {opts['out'] / 'injections'} and {real['n']} DR24 "
            f"TCEs {real['dispositions']} to {opts['out'] / 'dr24'} in {manifest['cpu_seconds']} s CPU"
        )
        for item in real["skipped"]:
            self.stdout.write(f"skipped DR24 TCE {item['tce_id']}: {item['reason']}")
