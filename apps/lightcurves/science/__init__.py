"""Light-curve science: cleaning, detrending, views, diagnostics and transit search.

Plain modules that import no Django: arrays in, arrays out. The site calls
:func:`pipeline.tce_views`, :func:`pipeline.flatten_lightcurves` and
:func:`pipeline.search_transits`.
"""
