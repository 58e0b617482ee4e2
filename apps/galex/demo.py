"""load_demo step: a small synthetic eclipse reduced end to end, and the real CR Dra gPhoton products."""

from __future__ import annotations

from pathlib import Path

from apps.core.errors import GaiaError
from apps.galex.services import eclipse_reduce, eclipse_simulate, gphoton_import
from apps.jobs.runner import JobContext

DEMO_EVENTS = 300_000


def load_galex_demo(demo_dir: Path, ctx: JobContext) -> dict:
    report: dict = {}
    products = demo_dir / "galex" / "gphoton_products"
    if products.is_dir():
        report["gphoton"] = [str(e) for e in gphoton_import(folder=products)]
    try:
        # 10 minutes of a MIS-like field: twenty 30-s movie frames show the planted flare.
        eclipse = eclipse_simulate(n_events=DEMO_EVENTS, seed=1, duration=600.0)
        result = eclipse_reduce(
            eclipse=eclipse,
            depth=30.0,
            compression="gzip",
            job=ctx.job,
            on_progress=lambda done, total: ctx.progress(done, total, unit="steps"),
            should_cancel=ctx.cancel_requested,
        )
        report["synthetic"] = {
            "eclipse": str(eclipse),
            "products": result["products"],
            "warnings": result["warnings"],
        }
    except GaiaError as exc:
        report["synthetic"] = {"error": exc.message}
    return report
