"""raw6 -> calibrated, aspect-corrected photon lists (one Parquet file per leg), in chunks.

Two streaming passes keep memory bounded by the chunk size and a fixed cap, not the
eclipse length; the gzip raw6 file is inflated only once:

1. *decode*: inflate the raw6 file, find the stim events (a few per hundred events), note
   where each leg's rows end and whether the events are time-sorted, and park the events'
   time and photon bytes (13 bytes per event): in memory up to ``SPILL_MEMORY_BYTES``
   (256 MiB, 20 M events), beyond that in an unlinked temporary file beside the products;
2. *calibrate / aspect / photon list*: take the parked events back chunk by chunk; per
   slice of ``CACHE_ROWS`` events the fused on-detector corrections and detector response,
   then the aspect solution; each chunk of a leg is one row group of its Parquet file.

Photon lists are written with required (non-null) columns and no compression on the
float columns that do not compress (ra, dec, col, row, detrad, response); t, flags and mask
are snappy-compressed; every column has min/max statistics (see ``PARQUET_OPTIONS``).

Photon-list schema (gPhoton 2 ``PIPELINE_VARIABLES``): t f8, ra f8, dec f8, flags u1,
col f4, row f4, detrad f4, mask bool, response f4; ``extended=True`` adds q and ya (i2).
Events outside every leg's aspect coverage are dropped, as in gPhoton 2 (which also drops
the last photon of each leg by an exclusive slice; we keep it). Legs are cut by file
position as gPhoton 2 ``chunk_by_legs`` cuts them, so a raw6 file whose times are not
sorted keeps the same events per leg as in gPhoton 2; those photon lists are then sorted
by time (gPhoton 2 keeps file order; its images, movies and exposure times do not depend
on the order, ours are made in one streaming pass that needs it).
"""

from .decode import CancelFn, ProgressFn
from .files import photonlist_start_time
from .legs import LegStats
from .make import PhotonListResult, make_photonlists

__all__ = [
    "CancelFn", "LegStats", "PhotonListResult", "ProgressFn", "make_photonlists",
    "photonlist_start_time",
]  # fmt: skip
