"""Archive file names and MAST data URIs for Kepler, K2 and TESS light curves.

Kepler light-curve names carry a fixed time stamp per quarter (long cadence) or per month (short
cadence), so the files of a star are found by trying every stamp; the table below is MAST's own
(``archive.stsci.edu/kepler/software/get_kepler.py``). Quarter 4 long cadence has two files
because CCD module 3 failed on 2010-01-09 and the first segment is served separately. K2 files are
one per campaign (campaigns 9-11 in two parts). TESS names are listed per sector by MAST's
bulk-download scripts (see :func:`parse_sector_script`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import BadIdentifier, TableFormatError, UnknownMission

KEPLER_LONG_CADENCE: dict[int, tuple[str, ...]] = {
    0: ("2009131105131",),
    1: ("2009166043257",),
    2: ("2009259160929",),
    3: ("2009350155506",),
    4: ("2010078095331", "2010009091648"),
    5: ("2010174085026",),
    6: ("2010265121752",),
    7: ("2010355172524",),
    8: ("2011073133259",),
    9: ("2011177032512",),
    10: ("2011271113734",),
    11: ("2012004120508",),
    12: ("2012088054726",),
    13: ("2012179063303",),
    14: ("2012277125453",),
    15: ("2013011073258",),
    16: ("2013098041711",),
    17: ("2013131215648",),
}
"""Kepler quarter -> time stamps of its long-cadence (``_llc``) files."""

KEPLER_SHORT_CADENCE: dict[int, tuple[str, ...]] = {
    0: ("2009131110544",),
    1: ("2009166044711",),
    2: ("2009201121230", "2009231120729", "2009259162342"),
    3: ("2009291181958", "2009322144938", "2009350160919"),
    4: ("2010009094841", "2010019161129", "2010049094358", "2010078100744"),
    5: ("2010111051353", "2010140023957", "2010174090439"),
    6: ("2010203174610", "2010234115140", "2010265121752"),
    7: ("2010296114515", "2010326094124", "2010355172524"),
    8: ("2011024051157", "2011053090032", "2011073133259"),
    9: ("2011116030358", "2011145075126", "2011177032512"),
    10: ("2011208035123", "2011240104155", "2011271113734"),
    11: ("2011303113607", "2011334093404", "2012004120508"),
    12: ("2012032013838", "2012060035710", "2012088054726"),
    13: ("2012121044856", "2012151031540", "2012179063303"),
    14: ("2012211050319", "2012242122129", "2012277125453"),
    15: ("2012310112549", "2012341132017", "2013011073258"),
    16: ("2013017113907", "2013065031647", "2013098041711"),
    17: ("2013121191144", "2013131215648"),
}
"""Kepler quarter -> time stamps of its short-cadence (``_slc``) files, one per month."""

K2_CAMPAIGN_PARTS: dict[int, tuple[str, ...]] = {
    **{c: (f"{c:02d}",) for c in range(0, 9)},
    9: ("91", "92"),
    10: ("101", "102"),
    11: ("111", "112"),
    **{c: (f"{c:02d}",) for c in range(12, 20)},
}
"""K2 campaign -> file-name parts (``ktwo<EPIC>-c<part>_llc.fits``)."""

_K2_PART_CAMPAIGN = {
    part: campaign for campaign, parts in K2_CAMPAIGN_PARTS.items() for part in parts
}


def k2_campaign(part: int) -> int:
    """The campaign of a K2 header ``CAMPAIGN`` value, which numbers split campaigns by part.

    Campaigns 9-11 were taken in two parts, and their files say ``CAMPAIGN = 91``/``92``,
    ``101``/``102``, ``111``/``112``; every other campaign number is the campaign itself. The
    campaign is what file names (:func:`parse_name`) and the archive ledger use as the season.
    """
    return _K2_PART_CAMPAIGN.get(str(part), part) if part >= 90 else part

MAX_KEPLER_ID = 999_999_999
MAX_TIC_ID = 9_999_999_999_999_999

_KEPLER_NAME = re.compile(r"^kplr(\d{9})-(\d{13})_(llc|slc)\.fits$")
_K2_NAME = re.compile(r"^ktwo(\d{9})-c(\d{2,3})_(llc|slc)\.fits$")
_TESS_NAME = re.compile(r"^tess(\d{13})-s(\d{4})-(\d{16})-(\d{4})-[a-z]_(lc|fast-lc)\.fits$")


@dataclass(frozen=True)
class ArchiveName:
    """What a light-curve file name says: mission, star, quarter/campaign/sector and cadence."""

    mission: str
    filename: str
    identifier: int
    season: int
    cadence: str
    uri: str


def parse_identifier(value: str | int, *, mission: str) -> int:
    """A KIC/EPIC/TIC number from user input ("KIC 11442793", "tic25155310", 11442793).

    Raises
    ------
    BadIdentifier
        Not a positive number within the mission's range.
    UnknownMission
        ``mission`` is not kepler, k2 or tess.
    """
    if mission not in ("kepler", "k2", "tess"):
        raise UnknownMission(f"unknown mission {mission!r}; use kepler, k2 or tess")
    text = str(value).strip().upper()
    for prefix in ("KIC", "EPIC", "TIC", "KPLR", "KTWO"):
        if text.startswith(prefix):
            text = text[len(prefix) :].strip(" -_")
            break
    # ASCII digits only: "²" is a digit to str.isdigit() but not to int(); 20 digits exceed every range.
    if not (text.isascii() and text.isdigit()) or len(text) > 20:
        raise BadIdentifier(f"{str(value)[:40]!r} is not a {_id_word(mission)} number")
    number = int(text)
    limit = MAX_TIC_ID if mission == "tess" else MAX_KEPLER_ID
    if not 0 < number <= limit:
        raise BadIdentifier(f"{_id_word(mission)} {number} is out of range (1..{limit})")
    return number


def _id_word(mission: str) -> str:
    return {"kepler": "KIC", "k2": "EPIC", "tess": "TIC"}.get(mission, "target")


def kepler_names(
    kic: int, *, cadence: str = "long", quarters: list[int] | None = None
) -> list[ArchiveName]:
    """Every candidate file of a Kepler star: one name per quarter (or month) time stamp."""
    table = KEPLER_SHORT_CADENCE if cadence == "short" else KEPLER_LONG_CADENCE
    suffix = "slc" if cadence == "short" else "llc"
    return _names_per_period(
        table, quarters, f"kplr{kic:09d}-{{}}_{suffix}.fits", "Kepler has no quarter {} (0..17)"
    )


def k2_names(epic: int, *, campaigns: list[int] | None = None) -> list[ArchiveName]:
    """Every candidate long-cadence file of a K2 star (one per campaign part)."""
    return _names_per_period(
        K2_CAMPAIGN_PARTS, campaigns, f"ktwo{epic:09d}-c{{}}_llc.fits", "K2 has no campaign {} (0..19)"
    )


def _names_per_period(
    table: dict[int, tuple[str, ...]], wanted: list[int] | None, pattern: str, unknown: str
) -> list[ArchiveName]:
    """One name per file stamp of each wanted quarter/campaign (every one when None).

    ``pattern`` and ``unknown`` are ``str.format`` templates of the file name (given the stamp)
    and of the error for a quarter/campaign the table lacks (given its number).
    """
    names: list[ArchiveName] = []
    for period in table.keys() if wanted is None else wanted:
        if period not in table:
            raise BadIdentifier(unknown.format(period))
        names.extend(parse_name(pattern.format(stamp), quarter=period) for stamp in table[period])
    return names


def parse_name(filename: str, *, quarter: int | None = None) -> ArchiveName:
    """Identify a Kepler/K2/TESS light-curve file from its name and build its MAST URI.

    Parameters
    ----------
    filename : str
        An original archive file name.
    quarter : int, optional
        The Kepler quarter when already known (names carry a time stamp, not the quarter).

    Raises
    ------
    UnknownMission
        The name matches no Kepler, K2 or TESS light-curve pattern.
    """
    if match := _KEPLER_NAME.match(filename):
        kic, stamp, kind = match.groups()
        cadence = "short" if kind == "slc" else "long"
        season = quarter if quarter is not None else kepler_quarter(stamp, cadence=cadence)
        uri = f"mast:Kepler/url/missions/kepler/lightcurves/{kic[:4]}/{kic}/{filename}"
        return ArchiveName("kepler", filename, int(kic), season, cadence, uri)
    if match := _K2_NAME.match(filename):
        epic, part, kind = match.groups()
        campaign = _K2_PART_CAMPAIGN.get(part)
        if campaign is None:
            raise UnknownMission(f"{filename!r}: K2 has no campaign part c{part}")
        folder = f"c{int(part)}"
        uri = f"mast:K2/url/missions/k2/lightcurves/{folder}/{epic[:4]}00000/{epic[4:6]}000/{filename}"
        return ArchiveName(
            "k2", filename, int(epic), campaign, "short" if kind == "slc" else "long", uri
        )
    if match := _TESS_NAME.match(filename):
        _stamp, sector, tic, _scid, kind = match.groups()
        cadence = "short" if kind == "fast-lc" else "2min"
        return ArchiveName(
            "tess", filename, int(tic), int(sector), cadence, f"mast:TESS/product/{filename}"
        )
    raise UnknownMission(f"{filename!r} is not a Kepler, K2 or TESS light-curve file name")


def kepler_quarter(stamp: str, *, cadence: str = "long") -> int:
    """The quarter of a Kepler file time stamp (-1 when the stamp is not in the table)."""
    table = KEPLER_SHORT_CADENCE if cadence == "short" else KEPLER_LONG_CADENCE
    return next((quarter for quarter, stamps in table.items() if stamp in stamps), -1)


def parse_sector_script(text: str, *, sector: int) -> list[ArchiveName]:
    """The light-curve files listed by a TESS bulk-download script (one ``curl`` line each).

    Parameters
    ----------
    text : str
        Content of ``tesscurl_sector_<N>_lc.sh``: a shebang, then lines like
        ``curl -C - -L -o <file> https://mast.stsci.edu/api/v0.1/Download/file/?uri=mast:TESS/product/<file>``.
    sector : int
        The sector the script belongs to; lines for another sector are an error.

    Raises
    ------
    TableFormatError
        The text has no curl lines (e.g. an HTML error page) or a line names a foreign file.
    """
    names: list[ArchiveName] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("curl"):
            raise TableFormatError(
                f"sector {sector} script line {number} is not a curl command: {line[:80]!r}"
            )
        filename = line.rsplit("/", 1)[-1].split("=")[-1]
        if filename.endswith("_lc.fits") or filename.endswith("fast-lc.fits"):
            name = parse_name(filename)
            if name.season != sector:
                raise TableFormatError(
                    f"sector {sector} script lists {filename} of sector {name.season}"
                )
            names.append(name)
    if not names:
        raise TableFormatError(f"sector {sector} script lists no light-curve files")
    return names
