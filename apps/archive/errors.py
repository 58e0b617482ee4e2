"""Archive-specific user-facing errors (subclasses of the shared GaiaError)."""

from __future__ import annotations

from apps.core.errors import GaiaError


class ArchiveUnavailable(GaiaError):
    """The remote archive could not be reached or kept failing; trying again later may work."""

    status_code = 503
    code = "archive_unavailable"
