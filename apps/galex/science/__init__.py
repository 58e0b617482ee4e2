"""GALEX photon pipeline (gPhoton 2 conventions), free of Django: arrays and files in and out.

Modules, in pipeline order:

* :mod:`.raw6` - streaming raw6 FITS reader/writer, bit-field decode/encode, centre and scale
  (package: ``fields``, ``reader``, ``writer``)
* :mod:`.stims` - stim events, stim-separation fit (pre-CSP), post-CSP stim statistics
* :mod:`.calibration` - cal-file loading and the on-detector steps (wiggle, walk, linearity,
  distortion, detector coordinates), flat/scale/mask response, post-CSP WIG2/WLK2/CLK2
  (package: ``files``, ``kernels``, ``references``, ``steps``, ``postcsp``)
* :mod:`.aspect` - gPhoton 2 aspect/boresight/metadata Parquet tables, legs, TAN projection
* :mod:`.scst` - MAST spacecraft-state files as aspect tables
* :mod:`.mast` - gPhoton 2's MAST query for an eclipse's raw6/scst URLs, local file names
* :mod:`.photonlist` - chunked raw6 -> per-leg Parquet photon lists (package: ``decode``,
  ``legs``, ``files``, ``make``)
* :mod:`.imaging` - full-depth images, movies (streamed or burst), exposure, FITS products
  (package: ``geometry``, ``binning``, ``exposure``, ``photons``, ``image``, ``movie``,
  ``products``)
* :mod:`.photometry` - segmentation detection, exact apertures, light-curve tables
* :mod:`.pipeline` - :func:`~.pipeline.reduce_eclipse`, the one call the site makes, with
  :mod:`.leg_photometry` (one leg's photometry tables) and :mod:`.results` (what it returns)
* :mod:`.simulate` - synthetic eclipses (raw6 + aspect tables + truth) by inverting the chain
* :mod:`.gphoton_products` - real gPhoton light curves and coadds (CR Dra demo data)

Every error raised on bad input subclasses :class:`.errors.GalexError`.
"""
