"""Where MAST keeps an eclipse's raw files, as gPhoton 2 asks (``gPhoton/io/mast.py``).

gPhoton 2 sends the SQL procedure ``spGetRawUrls <eclipse>`` to MAST's GALEX photon query
service::

    {base}/portal/Mashup/MashupQuery.asmx/GalexPhotonListQueryTest?query=spGetRawUrls 23456&format=extjs

and reads the JSON answer's ``data.Tables[0].Rows``: each row's second field is ``NUV``, ``FUV``
or ``BOTH`` (the spacecraft-state file, "misnamed" in gPhoton's words) and its third the URL.
A URL ending in ``.gz.gz`` is a known MAST mislabel: the last ``.gz`` is dropped. The answer's
``status`` is ``COMPLETE``, ``EXECUTING`` (ask again) or ``ERROR`` (with ``msg``).

Files are kept under gPhoton 2's local names: ``e{eclipse:05}/e{eclipse:05}-{n|f}d-raw6.fits.gz``
and, for the aspect, ``e{eclipse:05}/e{eclipse:05}-scst.fits.gz``.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from .constants import file_prefix, normalize_band
from .errors import GalexError

QUERY_PATH = "/portal/Mashup/MashupQuery.asmx/GalexPhotonListQueryTest"


class MastAnswerError(GalexError):
    """MAST's answer is not a usable list of raw-file URLs (``retryable``: ask again later)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


def raw_urls_query(base_url: str, eclipse: int) -> str:
    """The URL of gPhoton 2's ``spGetRawUrls`` query for ``eclipse``."""
    return f"{base_url.rstrip('/')}{QUERY_PATH}?query={quote(f'spGetRawUrls {int(eclipse)}')}&format=extjs"


def parse_raw_urls(body: bytes) -> dict[str, str | None]:
    """``{"NUV": url, "FUV": url, "scst": url}`` from the query's answer (None where absent)."""
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MastAnswerError(f"MAST answered something that is not JSON: {body[:80]!r}") from exc
    status = answer.get("status") if isinstance(answer, dict) else None
    if status == "EXECUTING":
        raise MastAnswerError("MAST is still executing the query", retryable=True)
    if status == "ERROR":
        raise MastAnswerError(f"MAST refused the query: {answer.get('msg', '')}")
    if status != "COMPLETE":
        raise MastAnswerError(f"MAST answered with status {status!r}", retryable=True)
    out: dict[str, str | None] = {"NUV": None, "FUV": None, "scst": None}
    try:
        rows = answer["data"]["Tables"][0]["Rows"]
    except (KeyError, IndexError, TypeError) as exc:
        raise MastAnswerError("MAST's answer has no table of URLs") from exc
    for row in rows:
        if not isinstance(row, list) or len(row) < 3 or not isinstance(row[2], str):
            continue
        kind, url = str(row[1]).strip(), row[2].strip()
        if url.endswith(".gz.gz"):
            url = url[:-3]
        if kind in ("NUV", "FUV"):
            out[kind] = url
        elif kind == "BOTH":
            out["scst"] = url
    return out


def raw6_local_name(eclipse: int, band: str) -> str:
    """gPhoton 2's local raw6 name, e.g. ``e23456/e23456-nd-raw6.fits.gz``."""
    return f"e{int(eclipse):05d}/{file_prefix(eclipse, normalize_band(band))}-raw6.fits.gz"


def scst_local_name(eclipse: int) -> str:
    """Where the eclipse's spacecraft-state file is kept, e.g. ``e23456/e23456-scst.fits.gz``."""
    return f"e{int(eclipse):05d}/e{int(eclipse):05d}-scst.fits.gz"
