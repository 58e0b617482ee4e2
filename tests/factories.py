"""factory_boy factories for the domain models (shared by every app's tests)."""

from __future__ import annotations

from pathlib import Path

import factory
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from astropy.io import fits

from apps.catalog.models import TCE, Cadence, LightCurve, Mission, Target, TCESource
from apps.core.files import data_root, relative_data_path
from apps.jobs.models import Job


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    mission = Mission.KEPLER
    identifier = factory.Sequence(lambda n: str(1000000 + n))
    ra = 290.0
    dec = 45.0
    magnitude = 14.0
    teff = 5700.0
    logg = 4.4
    radius = 1.0

    @factory.post_generation
    def names(obj, create, extracted, **kwargs):  # noqa: ANN001, N805
        obj.refresh_search_names()
        if create:
            obj.save()


class TCEFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TCE

    target = factory.SubFactory(TargetFactory)
    mission = factory.SelfAttribute("target.mission")
    tce_number = factory.Sequence(lambda n: n + 1)
    period_days = 10.0
    epoch = 135.0
    epoch_system = "BKJD"
    duration_hours = 3.0
    depth_ppm = 1000.0
    snr = 20.0
    source = TCESource.KEPLER_DR24
    release = "DR24"
    disposition = "PC"


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    kind = "worker_check"
    params = factory.LazyFunction(lambda: {"steps": 3, "pause_s": 0.0})


def write_series_parquet(path: Path, time, flux, quality, centroids=None) -> None:  # noqa: ANN001
    flux = np.asarray(flux, dtype=float)
    rng = np.random.default_rng(0)
    col, row = centroids if centroids is not None else (
        500 + 0.01 * rng.standard_normal(flux.size), 300 + 0.01 * rng.standard_normal(flux.size)
    )
    table = pa.table(
        {
            "TIME": np.asarray(time, dtype=float),
            "PDCSAP_FLUX": flux,
            "PDCSAP_FLUX_ERR": np.full_like(flux, 10.0),
            "SAP_FLUX": flux,
            "SAP_FLUX_ERR": np.full_like(flux, 10.0),
            "MOM_CENTR1": np.asarray(col, dtype=float),
            "MOM_CENTR2": np.asarray(row, dtype=float),
            "QUALITY": np.asarray(quality, dtype=np.int32),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def lightcurve_from_fits(target: Target, fits_path: Path, quarter: int = 1) -> LightCurve:
    """A LightCurve row whose series is copied from a real FITS file (independent of the archive app)."""
    with fits.open(fits_path) as hdul:
        data = hdul[1].data
        quality_col = "SAP_QUALITY" if "SAP_QUALITY" in data.columns.names else "QUALITY"
        time, flux, quality = data["TIME"], data["PDCSAP_FLUX"], data[quality_col]
        centroids = (data["MOM_CENTR1"], data["MOM_CENTR2"])
    out = data_root() / "test-series" / f"{fits_path.stem}.parquet"
    write_series_parquet(out, time, flux, quality, centroids)
    finite = np.isfinite(time)
    return LightCurve.objects.create(
        target=target,
        mission=target.mission,
        quarter_or_sector=quarter,
        cadence=Cadence.LONG,
        n_points=int(finite.sum()),
        time_start=float(np.nanmin(time)),
        time_end=float(np.nanmax(time)),
        time_system=target.time_system,
        parquet_path=relative_data_path(out),
        source_filename=fits_path.name,
        source_sha256="0" * 64,
    )
