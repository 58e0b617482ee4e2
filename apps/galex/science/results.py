"""What a reduction hands back: the products of each leg, warnings, provenance, timings."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class LegProducts:
    """Files written for one leg (paths are absolute)."""

    leg: int
    photonlist: Path
    image: Path
    movie: list[Path] = field(default_factory=list)
    image_photometry: list[Path] = field(default_factory=list)  # one per aperture size
    movie_photometry: list[Path] = field(default_factory=list)
    exposure_table: Path | None = None
    image_preview: Path | None = None
    movie_preview: Path | None = None
    n_forced: int = 0
    n_sources: int = 0
    photon_count: int = 0
    exptime: float = 0.0
    n_frames: int = 0


@dataclass
class ReductionResult:
    """What :func:`reduce_eclipse` produced, with warnings and provenance for the Artifacts."""

    eclipse: int
    band: str
    out_dir: Path
    legs: list[LegProducts]
    n_events: int
    n_kept: int
    warnings: list[str]
    provenance: dict
    timings: dict[str, float]

    def product_paths(self) -> dict[str, list[Path]]:
        """Paths by product kind: photonlist, image, movie, image_photometry, movie_photometry, exposure,
        image_preview, movie_preview (see :mod:`.preview`)."""
        kinds: dict[str, list[Path]] = {k: [] for k in
                                        ("photonlist", "image", "movie", "image_photometry", "movie_photometry", "exposure",
                                         "image_preview", "movie_preview")}  # fmt: skip
        for leg in self.legs:
            if leg.photonlist != Path():
                kinds["photonlist"].append(leg.photonlist)
            kinds["image"].append(leg.image)
            kinds["movie"] += leg.movie
            kinds["image_photometry"] += leg.image_photometry
            kinds["movie_photometry"] += leg.movie_photometry
            for kind, path in (("exposure", leg.exposure_table), ("image_preview", leg.image_preview),
                               ("movie_preview", leg.movie_preview)):  # fmt: skip
                if path is not None:
                    kinds[kind].append(path)
        return kinds


def library_versions() -> dict[str, str]:
    out = {}
    for name in ("numpy", "numba", "astropy", "photutils", "pyarrow", "pandas", "scipy"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    return out
