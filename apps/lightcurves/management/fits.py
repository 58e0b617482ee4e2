"""What the light-curve commands that work on FITS files, without the database, share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import CommandError

from apps.lightcurves.science.errors import LightCurveError


def add_fits_arguments(parser, *, out: str) -> None:  # noqa: ANN001 - Django's CommandParser
    """``--fits``, the light-curve files of one target, and ``--out``, the ``out`` file written."""
    parser.add_argument(
        "--fits",
        nargs="+",
        required=True,
        type=Path,
        help="light-curve FITS files of one target",
    )
    parser.add_argument("--out", required=True, type=Path, help=f"output {out} path")


@contextmanager
def science_errors() -> Iterator[None]:
    """Report what the science package refuses as the command's error: a message, no traceback."""
    try:
        yield
    except LightCurveError as exc:
        raise CommandError(str(exc)) from exc
