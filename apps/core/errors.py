"""Error types shared by services and mapped once to HTTP answers in gaia_web/api.py."""

from __future__ import annotations


class GaiaError(Exception):
    """Base class for expected, user-facing failures (bad input, missing objects, conflicts).

    A subclass names its HTTP answer in its header, ``class NotFound(GaiaError, status_code=404,
    code="not_found")``, or as class attributes; what it leaves out it inherits.
    """

    status_code = 400
    code = "bad_request"

    def __init_subclass__(cls, *, status_code: int | None = None, code: str | None = None, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if status_code is not None:
            cls.status_code = status_code
        if code is not None:
            cls.code = code

    def __init__(self, message: str, *, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidInput(GaiaError, status_code=422, code="invalid_input"):
    """Input that is well-formed but cannot be used (out of range, inconsistent, unknown choice)."""


class NotFound(GaiaError, status_code=404, code="not_found"):
    """The object asked for does not exist."""


class Conflict(GaiaError, status_code=409, code="conflict"):
    """The request clashes with the current state of what it acts on (a finished job, a taken name)."""


class PermissionDeniedError(GaiaError, status_code=403, code="forbidden"):
    """The user is known but may not do this."""


class AuthenticationRequired(GaiaError, status_code=401, code="unauthenticated"):
    """The request needs a signed-in user (or a token) and has none."""


class RateLimited(GaiaError, status_code=429, code="rate_limited"):
    """Too many requests: the answer carries ``Retry-After`` (seconds)."""

    def __init__(self, message: str, *, retry_after: int, details: dict | None = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = max(1, int(retry_after))
