"""Error types shared by services and mapped once to HTTP answers in gaia_web/api.py."""

from __future__ import annotations


class GaiaError(Exception):
    """Base class for expected, user-facing failures (bad input, missing objects, conflicts)."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidInput(GaiaError):
    status_code = 422
    code = "invalid_input"


class NotFound(GaiaError):
    status_code = 404
    code = "not_found"


class Conflict(GaiaError):
    status_code = 409
    code = "conflict"


class PermissionDeniedError(GaiaError):
    status_code = 403
    code = "forbidden"


class AuthenticationRequired(GaiaError):
    status_code = 401
    code = "unauthenticated"


class RateLimited(GaiaError):
    """Too many requests: the answer carries ``Retry-After`` (seconds)."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, details: dict | None = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = max(1, int(retry_after))
