"""Bounded input types shared by API schemas and job parameter schemas, and their one error mapping.

Everything a request can carry ends up in PostgreSQL or in a numeric kernel, so at the boundary:
ids fit a bigint, floats are finite, text is short and has no NUL byte (PostgreSQL refuses it),
lists are capped. A job kind's parameters are a :class:`JobParams` model (unknown keys refused),
validated with :func:`params_validate`, which turns pydantic's errors into one ``InvalidInput``.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from apps.core.errors import InvalidInput

#: Largest primary key (PostgreSQL bigint); larger ids can exist nowhere, so they are refused.
MAX_DB_ID = 2**63 - 1
#: Longest free-text filter or search string (identifiers, names, states, sort keys).
MAX_TEXT = 200
#: Longest list of ids one request may name (TCEs to score, targets to fetch...).
MAX_IDS = 100_000


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]
"""A primary key: 1 .. 2**63-1."""

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
"""A float that is not NaN or +-infinity."""

Text = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_no_nul)]
"""Short free text without NUL bytes."""


def text_check(value: str | None, *, name: str, max_length: int = MAX_TEXT) -> str | None:
    """The same rules as :data:`Text` for strings that do not come through a schema."""
    if value is None:
        return None
    if len(value) > max_length:
        raise InvalidInput(f"{name} is too long: at most {max_length} characters")
    if "\x00" in value:
        raise InvalidInput(f"{name} must not contain NUL characters")
    return value


class JobParams(BaseModel):
    """Base of every job kind's parameter schema: unknown keys and non-finite floats are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


M = TypeVar("M", bound=BaseModel)


def _where(loc: tuple) -> str:
    return ".".join(str(part) for part in loc)


def _describe(error: dict) -> str:
    """One pydantic error as "field: message" ("unknown parameter x" for a refused extra key)."""
    where, message = _where(error["loc"]), error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"unknown parameter {where}"
    return f"{where}: {message}" if where else message


def params_validate(model: type[M], params: object, *, what: str) -> M:
    """``model`` validated from ``params``; an ``InvalidInput`` listing every field error otherwise."""
    if not isinstance(params, dict):
        raise InvalidInput(f"{what} parameters must be a JSON object")
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        raise InvalidInput(
            f"bad {what} parameters: " + "; ".join(_describe(e) for e in errors),
            details={"errors": [{"field": _where(e["loc"]), "error": _describe(e)} for e in errors]},
        ) from exc
