"""AstroNet's B-spline detrender, one implementation per role.

- :mod:`.fit`: the public, AstroNet-compatible entry point (:func:`fit_spline`, :data:`BKSPACES`).
- :mod:`.fast`: the numba kernels production runs (interval walks, incremental refits).
- :mod:`.obvious`: the same kernels written point by point, the contract the fast ones are tested
  against; :mod:`.basis` holds what both share (knots, basis, solver).
- :mod:`.reference`: AstroNet's ``kepler_spline``/``robust_mean`` restated with scipy, the slow
  check of both.
- :mod:`.select`: exact numba medians (quickselect and a sampled bracket) used by the clipping
  and by other light-curve kernels.
"""

from .fit import BKSPACES, SplineFit, fit_spline

__all__ = ["BKSPACES", "SplineFit", "fit_spline"]
