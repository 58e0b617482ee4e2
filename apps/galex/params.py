"""Parameters of the ``reduce_eclipse`` job (the page form, the API, the admin action all send these)."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, field_validator

from apps.core.bounds import DbId, FiniteFloat, JobParams
from apps.galex.science.imaging import COMPRESSIONS as PRODUCT_COMPRESSIONS

#: Product compressions: the science layer's list (``imaging.COMPRESSIONS``), so the job schema,
#: the page form, the admin form and the ``galex_reduce`` command accept exactly what the writers do.
Compression = Literal[tuple(PRODUCT_COMPRESSIONS)]  # type: ignore[valid-type]
COMPRESSIONS: tuple[str, ...] = get_args(Compression)
#: Movie frame length bounds, s. The frame count (exposure / depth) is capped by GAIA_GALEX_MAX_FRAMES.
MIN_DEPTH_S, MAX_DEPTH_S = 1.0, 10_000.0
#: Photometry aperture radii, arcsec (gPhoton 2 aperture_sizes); at most MAX_APERTURES per reduction.
ApertureRadius = Annotated[FiniteFloat, Field(gt=0, le=300)]
MAX_APERTURES = 8
PixelConvention = Literal["gaia", "gphoton2"]
MAX_THREADS = 8


class ReduceParams(JobParams):
    eclipse_id: DbId
    depth: FiniteFloat | None = Field(
        30.0, ge=MIN_DEPTH_S, le=MAX_DEPTH_S, description="movie frame length, s; null, 0 or '' for image only"
    )
    compression: Compression = "gzip"
    burst: bool = False
    aperture_sizes: list[ApertureRadius] = Field(
        default_factory=lambda: [12.8], min_length=1, max_length=MAX_APERTURES,
        description="aperture radii, arcsec; one photometry table per radius",
    )
    pixel_convention: PixelConvention = Field("gaia", description="gaia (0-based) or gphoton2 (its 1-pixel offset)")
    coregister: bool = Field(False, description="start frames where the other band's light curves start")
    photometry_only: bool = Field(False, description="redo the photometry on the newest image and movie")
    threads: int = Field(1, ge=1, le=MAX_THREADS, description="threads for decode/calibrate and movie/photometry")

    @field_validator("aperture_sizes")
    @classmethod
    def _distinct(cls, value: list[float]) -> list[float]:
        if len(set(value)) != len(value):
            raise ValueError("aperture sizes must be distinct")
        return value

    @field_validator("depth", mode="before")
    @classmethod
    def _no_movie(cls, value: object) -> object:
        # The page form sends "" for "no movie"; older clients sent 0.
        return None if isinstance(value, (str, int, float)) and value in ("", 0) else value
