"""A small, strict FITS reader for the fixed Kepler/K2/TESS light-curve layout.

The files are a primary header plus binary-table and image extensions; this module walks the
HDUs of an in-memory file, parses header cards lazily, checks the sizes and checksums, and maps a
binary table onto a big-endian numpy structured dtype without copying. It does not aim to be a
general FITS library (no variable-length arrays, no compressed images, no ASCII tables): astropy
stays the reference, and the tests compare every column and header value with it. String values
continued over ``CONTINUE`` cards (the long-string convention, in SPOC headers since 2025) are
joined as astropy joins them.

Every size a header declares (axes, PCOUNT, GCOUNT, TFORM repeat counts, rows) is checked against
the FITS limits and the bytes present before anything is read or allocated, so any input ends in
a :class:`~.errors.FitsFormatError` (or success) without costing more than its own size; the
tests fuzz the reader with truncated, flipped and absurd files to keep it so.

Layout facts used (FITS standard 4.0): files are sequences of 2880-byte blocks; a header is
80-character ASCII cards ending with ``END``; the data size in bytes is
``|BITPIX| / 8 * GCOUNT * (PCOUNT + NAXIS1 * ... * NAXISn)``, padded to whole blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from .checksum import NEGATIVE_ZERO, datasum, ones_complement_sum
from .errors import ChecksumMismatch, FitsFormatError, FitsTruncated

BLOCK = 2880
CARD = 80

#: TFORM letter -> (numpy big-endian type, bytes per element).
_TFORM_TYPES = {
    "L": ("i1", 1),
    "B": ("u1", 1),
    "I": (">i2", 2),
    "J": (">i4", 4),
    "K": (">i8", 8),
    "E": (">f4", 4),
    "D": (">f8", 8),
    "C": (">c8", 8),
    "M": (">c16", 16),
}


class Header(Mapping[str, object]):
    """Keyword -> value of one FITS header; values are parsed on first access.

    Only ``KEY = value`` cards are kept (COMMENT/HISTORY are not needed here). A keyword that
    appears twice keeps its first value, as astropy does. Cards stay keyed by their raw 8-byte
    keyword field, so building a header costs no per-card Python work (see :func:`_parse_header`).
    A card followed by ``CONTINUE`` cards (the long-string convention) is kept as the tuple of
    its value field and theirs, and read with :func:`parse_long_string`.
    """

    __slots__ = ("_raw", "_parsed")

    def __init__(self, raw: dict[bytes, bytes | tuple[bytes, ...]]) -> None:
        self._raw = raw
        self._parsed: dict[str, object] = {}

    def __getitem__(self, key: str) -> object:
        try:
            return self._parsed[key]
        except KeyError:
            field = self._raw[_raw_key(key)]
            value = parse_long_string(field) if isinstance(field, tuple) else parse_value(field)
            self._parsed[key] = value
            return value

    def __iter__(self) -> Iterator[str]:
        # latin-1 maps every byte to one character and back, so even a corrupt (non-ASCII)
        # keyword that iteration yields can be looked up again
        return (key.rstrip().decode("latin-1") for key in self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and _raw_key(key) in self._raw


def _raw_key(key: str) -> bytes:
    """The 8-byte keyword field of a card, e.g. ``b"NAXIS1  "``."""
    return key.encode("latin-1", errors="replace").ljust(8)


@dataclass(frozen=True)
class Hdu:
    """Where one HDU lies in the file (byte offsets) and its header."""

    index: int
    header: Header
    header_start: int
    data_start: int
    data_size: int
    end: int

    @property
    def name(self) -> str:
        value = self.header.get("EXTNAME")
        return str(value).strip() if value else ("PRIMARY" if self.index == 0 else "")


def parse_value(field: bytes) -> object:
    """Parse the value part (columns 11-80) of a card: str, bool, int, float or None."""
    text = field.decode("ascii", errors="replace").lstrip()
    if text.startswith("'"):
        return _parse_string(text)
    token = text.split("/", 1)[0].strip()
    if not token:
        return None
    if token == "T":
        return True
    if token == "F":
        return False
    try:
        return int(token)
    except ValueError:
        pass
    try:
        return float(token.replace("D", "E"))
    except ValueError:
        return token  # complex values and oddities stay as text


def _parse_string(text: str) -> str:
    parts: list[str] = []
    position = 1
    while True:
        quote = text.find("'", position)
        if quote < 0:
            raise FitsFormatError(f"unterminated string value in header card: {text!r}")
        if text[quote + 1 : quote + 2] == "'":  # a doubled quote is a literal quote
            parts.append(text[position : quote + 1])
            position = quote + 2
            continue
        parts.append(text[position:quote])
        return "".join(parts).rstrip()


# astropy's ``Card._strg_comment_RE``: a quoted string (doubled quotes inside) and a comment.
_STRING_AND_COMMENT = re.compile(
    r"(\'(?P<strg>([ -~]+?|\'\'|) *?)\'(?=$|/| ))? *(?P<comm>/ *(.|\n)*)?$"
)


def parse_long_string(fields: tuple[bytes, ...]) -> str:
    """The value of a card continued by ``CONTINUE`` cards (the FITS long-string convention).

    ``fields`` are the value field of the keyed card (columns 11-80) and those of the
    ``CONTINUE`` cards after it (columns 9-80). As astropy does (``Card._split``), each part
    must be a quoted string; a trailing ``&`` of each part (after trailing blanks) is dropped,
    the parts are concatenated, and doubled single quotes become one.

    Raises
    ------
    FitsFormatError
        A part is not a string value (astropy: "CONTINUE cards must have string values").
    """
    values: list[str] = []
    for field in fields:
        text = field.decode("ascii", errors="replace").strip()
        match = _STRING_AND_COMMENT.match(text)
        if match is None or match.group("strg") is None:
            raise FitsFormatError(f"long-string card part is not a string value: {text!r}")
        value = (match.group("strg") or "").rstrip()
        values.append(value[:-1] if value.endswith("&") else value)
    return "".join(values).replace("''", "'").rstrip()


def _parse_header(buf: memoryview, start: int) -> tuple[Header, int]:
    """Parse the header starting at ``start``; return it and the offset of its data."""
    blocks: list[bytes] = []
    offset = start
    size = len(buf)
    while True:
        if offset + BLOCK > size:
            raise FitsTruncated(
                f"header at byte {start} runs past the end of the file ({size} bytes): incomplete download"
            )
        block = bytes(buf[offset : offset + BLOCK])
        offset += BLOCK
        end = _end_card(block)
        if end >= 0:
            blocks.append(block[:end])
            break
        blocks.append(block)
    cards = b"".join(blocks)
    # Each match of _CARD is one whole card, keyed (``KEY     = value``) or not (empty groups),
    # so the matches stay aligned on card boundaries; reversed, so the first of repeated keys
    # wins. Long strings (rare) need the slower card-by-card walk.
    raw = (
        _continued_cards(cards)
        if b"CONTINUE" in cards
        else dict(reversed(_CARD.findall(cards)))
    )
    for keyword in _NOT_KEYWORDS:
        raw.pop(keyword, None)
    return Header(raw), offset


_CARD = re.compile(rb"(.{8})= (.{70})|.{80}", re.DOTALL)

#: Keyword fields that are never keys: no match (b""), and commentary cards, which astropy
#: never treats as ``KEY = value`` even when an ``=`` follows (``COMMENT = 'x'``).
_NOT_KEYWORDS = (b"", b"COMMENT ", b"HISTORY ", b"        ")


def _continued_cards(cards: bytes) -> dict[bytes, bytes | tuple[bytes, ...]]:
    """Keyed cards as :data:`_CARD` finds them, with the CONTINUE convention applied.

    As astropy's ``Header.fromstring`` does, every ``CONTINUE`` card belongs to the card just
    before it (itself possibly continued); a keyed card so continued is kept as the tuple of
    its value field and the continuation fields (columns 9-80), see :func:`parse_long_string`.
    A ``CONTINUE`` after a card that is not ``KEY = value`` (or at the start) is dropped with
    that card.
    """
    raw: dict[bytes, bytes | tuple[bytes, ...]] = {}
    keyword: bytes | None = None  # the keyed card being continued, if any
    parts: list[bytes] = []

    def close() -> None:
        if keyword is not None and keyword not in raw:  # the first of repeated keys wins
            raw[keyword] = parts[0] if len(parts) == 1 else tuple(parts)

    for start in range(0, len(cards) - CARD + 1, CARD):
        card = cards[start : start + CARD]
        if card[:8] == b"CONTINUE":
            if keyword is not None:
                parts.append(card[8:])
            continue
        close()
        if card[8:10] == b"= ":
            keyword, parts = card[:8], [card[10:]]
        else:
            keyword, parts = None, []
    close()
    return raw


_END_CARD = re.compile(rb"(?:.{80})*?END     ", re.DOTALL)  # whole cards, then END's keyword


def _end_card(block: bytes) -> int:
    """Offset of the END card in a header block (a card whose keyword field is END), or -1."""
    match = _END_CARD.match(block)
    return match.end() - 8 if match else -1


def _int_keyword(header: Header, key: str, default: int | None = None) -> int:
    value = header.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise FitsFormatError(f"header keyword {key} is missing or not an integer ({value!r})")
    return value


_BITPIX = (8, 16, 32, 64, -32, -64)
MAX_NAXIS = 999
"""The FITS standard's limit on NAXIS (and on TFIELDS)."""


def _count_keyword(header: Header, key: str, default: int | None = None) -> int:
    """An integer keyword that counts something: never negative."""
    value = _int_keyword(header, key, default)
    if value < 0:
        raise FitsFormatError(f"header keyword {key} is negative ({value})")
    return value


def _data_size(header: Header) -> int:
    """Bytes of data the header declares (an exact int however absurd the keywords are).

    Raises
    ------
    FitsFormatError
        BITPIX is not a FITS value, NAXIS is outside 0..999, or an axis length, PCOUNT or
        GCOUNT is missing, not an integer or negative.
    """
    bitpix = _int_keyword(header, "BITPIX")
    if bitpix not in _BITPIX:
        raise FitsFormatError(f"BITPIX {bitpix} is not one of {_BITPIX}")
    naxis = _count_keyword(header, "NAXIS")
    if naxis > MAX_NAXIS:
        raise FitsFormatError(f"NAXIS {naxis} exceeds the FITS limit of {MAX_NAXIS}")
    if naxis == 0:
        return 0
    elements = 1
    for axis in range(1, naxis + 1):
        elements *= _count_keyword(header, f"NAXIS{axis}")
    pcount = _count_keyword(header, "PCOUNT", 0)
    gcount = _count_keyword(header, "GCOUNT", 1)
    return abs(bitpix) // 8 * gcount * (pcount + elements)


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def parse_hdus(buf: bytes | memoryview) -> list[Hdu]:
    """Walk every HDU of an in-memory FITS file.

    Raises
    ------
    FitsFormatError
        The file does not start with ``SIMPLE = T`` or a header is malformed.
    FitsTruncated
        An HDU's data runs past the end, bytes follow the last HDU that are not an HDU, or
        there are fewer extensions than the primary header's NEXTEND says.
    """
    view = memoryview(buf)
    if len(view) < BLOCK or bytes(view[:9]) != b"SIMPLE  =":
        raise FitsFormatError("not a FITS file (no SIMPLE card at the start)")
    hdus: list[Hdu] = []
    offset = 0
    while offset < len(view):
        if hdus and bytes(view[offset : offset + 8]) != b"XTENSION":
            raise FitsTruncated(
                f"{len(view) - offset} unexpected bytes after HDU {len(hdus) - 1} (file has "
                f"{len(view)} bytes, its HDUs end at {offset})"
            )
        header, data_start = _parse_header(view, offset)
        size = _data_size(header)
        end = data_start + _padded(size)
        if end > len(view):
            raise FitsTruncated(
                f"HDU {len(hdus)} needs {end} bytes but the file has only {len(view)}: "
                "incomplete download"
            )
        hdus.append(Hdu(len(hdus), header, offset, data_start, size, end))
        offset = end
    declared = hdus[0].header.get("NEXTEND")
    if isinstance(declared, int) and not isinstance(declared, bool) and len(hdus) - 1 < declared:
        # a cut that falls exactly between two HDUs leaves a well-formed but shorter file
        raise FitsTruncated(
            f"the file ends after {len(hdus) - 1} extensions but NEXTEND says {declared}: "
            "incomplete download"
        )
    return hdus


def checksum_problems(buf: bytes | memoryview, hdus: list[Hdu]) -> list[str]:
    """Check CHECKSUM (whole HDU) and DATASUM (data only) wherever the cards are present.

    Returns
    -------
    list of str
        One message per failed check; empty when everything present matches.
    """
    problems: list[str] = []
    buf = memoryview(buf)  # slices of a view share the bytes; slices of bytes would copy them
    for hdu in hdus:
        if "CHECKSUM" in hdu.header:
            total = ones_complement_sum(buf[hdu.header_start : hdu.end])
            if total != NEGATIVE_ZERO:
                problems.append(f"HDU {hdu.index} ({hdu.name}): CHECKSUM mismatch")
        if "DATASUM" in hdu.header:
            expected = str(hdu.header["DATASUM"]).strip()
            actual = datasum(buf[hdu.data_start : hdu.end]) if hdu.data_size else 0
            if expected.isdigit() and int(expected) != actual:
                problems.append(
                    f"HDU {hdu.index} ({hdu.name}): DATASUM {expected} but data sums to {actual}"
                )
    return problems


def verify_fits(buf: bytes | memoryview) -> list[Hdu]:
    """Parse the HDUs and check every CHECKSUM/DATASUM present; raise on the first problem.

    Raises
    ------
    FitsFormatError, FitsTruncated
        Structure problems (see :func:`parse_hdus`).
    ChecksumMismatch
        A checksum keyword disagrees with the bytes.
    """
    hdus = parse_hdus(buf)
    problems = checksum_problems(buf, hdus)
    if problems:
        raise ChecksumMismatch("; ".join(problems))
    return hdus


MAX_ROW_BYTES = 2**31 - 1
"""The widest row numpy can describe (a dtype's itemsize is a C int)."""


def _column_dtype(tform: str, column: int) -> tuple[str, int]:
    text = tform.strip()
    digits = 0
    while digits < len(text) and text[digits].isdigit():
        digits += 1
    repeat = int(text[:digits]) if digits else 1
    code = text[digits : digits + 1]
    if code in ("P", "Q"):
        raise FitsFormatError(
            f"column {column}: variable-length arrays (TFORM {tform!r}) are not supported"
        )
    if code not in _TFORM_TYPES and code not in ("A", "X"):
        raise FitsFormatError(f"column {column}: unknown TFORM {tform!r}")
    if repeat > MAX_ROW_BYTES:
        raise FitsFormatError(f"column {column}: repeat count of TFORM {tform!r} is absurd")
    if repeat == 0:  # a column that holds no data (allowed by the standard)
        return "(0,)u1", 0
    if code == "A":
        return f"S{repeat}", repeat
    if code == "X":
        nbytes = -(-repeat // 8)
        return (f"({nbytes},)u1" if nbytes > 1 else "u1"), nbytes
    base, width = _TFORM_TYPES[code]
    if repeat == 1:
        return base, width
    return f"({repeat},){base}", width * repeat


def bintable_dtype(header: Header) -> np.dtype:
    """The numpy structured dtype (big-endian, packed as in the file) of a BINTABLE HDU.

    Raises
    ------
    FitsFormatError
        Not a BINTABLE, TFIELDS outside 0..999, a TFORM missing or unsupported, or the
        columns' widths do not add up to NAXIS1.
    """
    if str(header.get("XTENSION", "")).strip() != "BINTABLE":
        raise FitsFormatError("HDU is not a binary table")
    fields = _count_keyword(header, "TFIELDS")
    if fields > MAX_NAXIS:
        raise FitsFormatError(f"TFIELDS {fields} exceeds the FITS limit of {MAX_NAXIS}")
    row_bytes = _count_keyword(header, "NAXIS1")
    if row_bytes > MAX_ROW_BYTES:
        raise FitsFormatError(f"NAXIS1 {row_bytes}: rows this wide are not supported")
    names: list[str] = []
    formats: list[str] = []
    offsets: list[int] = []
    offset = 0
    for column in range(1, fields + 1):
        tform = header.get(f"TFORM{column}")
        if not isinstance(tform, str):
            raise FitsFormatError(f"column {column} has no TFORM")
        fmt, width = _column_dtype(tform, column)
        name = str(header.get(f"TTYPE{column}") or f"col{column}").strip() or f"col{column}"
        while name in names:
            name = f"{name}_{column}"
        names.append(name)
        formats.append(fmt)
        offsets.append(offset)
        offset += width
        if offset > row_bytes:
            break  # reported below; no need to look at the other columns
    if offset != row_bytes:
        raise FitsFormatError(f"columns add up to {offset} bytes per row but NAXIS1 is {row_bytes}")
    try:
        return np.dtype(
            {"names": names, "formats": formats, "offsets": offsets, "itemsize": row_bytes}
        )
    except (TypeError, ValueError) as exc:  # e.g. a column name numpy refuses
        raise FitsFormatError(f"cannot describe the table's rows: {exc}") from exc


def read_bintable(buf: bytes | memoryview, hdu: Hdu) -> np.ndarray:
    """A zero-copy structured array over the rows of a BINTABLE HDU (big-endian fields).

    Raises
    ------
    FitsFormatError
        The header does not describe a readable binary table (see :func:`bintable_dtype`), or
        its rows do not fit in the HDU's data.
    """
    header = hdu.header
    if _int_keyword(header, "BITPIX") != 8 or _int_keyword(header, "NAXIS") != 2:
        raise FitsFormatError("a binary table must have BITPIX = 8 and NAXIS = 2")
    dtype = bintable_dtype(header)
    rows = _count_keyword(header, "NAXIS2")
    size = rows * dtype.itemsize
    if size > hdu.data_size or hdu.data_start + size > len(buf):
        raise FitsTruncated(f"{rows} rows of {dtype.itemsize} bytes do not fit in the HDU's data")
    if dtype.itemsize == 0:
        if rows:
            raise FitsFormatError(f"{rows} rows of zero bytes: NAXIS1 = 0 in a non-empty table")
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(buf, dtype=dtype, count=rows, offset=hdu.data_start)


def _number_keyword(header: Header, key: str) -> float | None:
    value = header.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FitsFormatError(f"header keyword {key} is not a number ({value!r})")
    try:
        number = float(value)
    except OverflowError as exc:
        raise FitsFormatError(f"header keyword {key} is out of range ({value})") from exc
    if not np.isfinite(number):
        raise FitsFormatError(f"header keyword {key} is not finite ({value})")
    return number


def column_values(table: np.ndarray, header: Header, name: str) -> np.ndarray:
    """One column as a contiguous native-endian array, with TSCALn/TZEROn applied if present.

    Raises
    ------
    FitsFormatError
        TSCALn or TZEROn is not a finite number, or is given for a column that is not numeric.
    """
    values = table[name]
    native = values.astype(values.dtype.newbyteorder("="), copy=True)
    index = table.dtype.names.index(name) + 1
    scale = _number_keyword(header, f"TSCAL{index}")
    zero = _number_keyword(header, f"TZERO{index}")
    if scale is None and zero is None:
        return native
    if native.dtype.kind not in "iuf":
        raise FitsFormatError(f"TSCAL{index}/TZERO{index} given for the non-numeric column {name}")
    if native.dtype.kind in "iu" and scale in (None, 1) and zero == 2 ** (8 * native.itemsize - 1):
        # The FITS convention for unsigned integers: flip the sign bit instead of going to float.
        unsigned = native.view(native.dtype.str.replace("i", "u"))
        return unsigned ^ np.array(zero, dtype=unsigned.dtype)
    return native * (1.0 if scale is None else scale) + (0.0 if zero is None else zero)
