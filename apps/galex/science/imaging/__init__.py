"""Full-depth images, movies, exposure times and FITS products from photon lists.

Follows gPhoton 2's ``moviemaker``: events "on the image" have finite ra and detector
radius < 400; each adds ``1/response`` to the COUNT plane of a TAN image at 1.5"/pixel
bounding their ra/dec range; artifact bits (1 hotspot mask, 2 post-CSP ghost, 4 detrad >
350, 8 detrad > 370) are OR-ed into the FLAG plane; DOSE is a 3200x3200 detector-space
count histogram (image only); COVERAGE marks sky seen by the detector during the leg
(1 partial, 2 full within 370 px, 4 within 350 px, 8 within 400 px).

Exposure (gPhoton 2 ``compute_exptime``) per frame [t0, t1): shutter = sum of gaps >= 0.05 s
between consecutive flag-0 event times (frame edges included); raw = t1 - t0 - shutter;
dead time = -m gcr / b with gcr = flag-0 events / raw; exptime = raw (1 - dead time).

Memory: photon lists are read in row batches; movies are written frame by frame (FLAG
frames staged on disk), so only one frame lives in memory, except for RICE-compressed
multi-frame movies, which are assembled in memory (use burst mode to bound that).

Deviations from gPhoton 2, on purpose: events with response <= 0 (flat 0) get weight 0 (gPhoton
gives them 1/0 = inf); the image is binned over its full size (gPhoton's ``make_frame``
clips both axes to the smaller dimension); coverage is computed from the aspect pointing,
not read from ``leg-aperture.parquet`` polygons; no creation date is written, so reruns are
byte-identical.
"""

from .exposure import ExposureAccumulator, exposure_reference, movie_edges
from .geometry import ImageGeometry, bounding_geometry
from .image import FullDepthImage, make_image, write_image
from .movie import Movie, make_movie
from .photons import PhotonScan
from .products import (
    COMPRESSIONS,
    MovieWriter,
    ProductMeta,
    aperture_tag,
    check_compression,
    depth_tag,
    image_name,
    movie_name,
    product_header,
    write_fits_product,
)

__all__ = [
    "COMPRESSIONS", "ExposureAccumulator", "FullDepthImage", "ImageGeometry", "Movie",
    "MovieWriter", "PhotonScan", "ProductMeta", "aperture_tag", "bounding_geometry",
    "check_compression", "depth_tag", "exposure_reference", "image_name", "make_image",
    "make_movie", "movie_edges", "movie_name", "product_header", "write_fits_product",
    "write_image",
]  # fmt: skip
