"""A small, strict FITS reader for the fixed Kepler/K2/TESS light-curve layout.

The files are a primary header plus binary-table and image extensions; this module walks the
HDUs of an in-memory file, parses header cards lazily, checks the sizes and checksums, and maps a
binary table onto a big-endian numpy structured dtype without copying. It does not aim to be a
general FITS library (no variable-length arrays, no compressed images, no ASCII tables): astropy
stays the reference, and the tests compare every column and header value with it.

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
    """

    __slots__ = ("_raw", "_parsed")

    def __init__(self, raw: dict[bytes, bytes]) -> None:
        self._raw = raw
        self._parsed: dict[str, object] = {}

    def __getitem__(self, key: str) -> object:
        try:
            return self._parsed[key]
        except KeyError:
            value = parse_value(self._raw[_raw_key(key)])
            self._parsed[key] = value
            return value

    def __iter__(self) -> Iterator[str]:
        return (key.rstrip().decode("ascii", errors="replace") for key in self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and _raw_key(key) in self._raw


def _raw_key(key: str) -> bytes:
    """The 8-byte keyword field of a card, e.g. ``b"NAXIS1  "``."""
    return key.encode("ascii", errors="replace").ljust(8)


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
    # Each match is one whole card, keyed (``KEY     = value``) or not (empty groups), so the
    # matches stay aligned on card boundaries; reversed, so the first of repeated keys wins.
    raw = dict(reversed(_CARD.findall(b"".join(blocks))))
    raw.pop(b"", None)
    return Header(raw), offset


_CARD = re.compile(rb"(.{8})= (.{70})|.{80}", re.DOTALL)


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


def _data_size(header: Header) -> int:
    bitpix = _int_keyword(header, "BITPIX")
    naxis = _int_keyword(header, "NAXIS")
    if naxis == 0:
        return 0
    elements = 1
    for axis in range(1, naxis + 1):
        elements *= _int_keyword(header, f"NAXIS{axis}")
    pcount = _int_keyword(header, "PCOUNT", 0)
    gcount = _int_keyword(header, "GCOUNT", 1)
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
        An HDU's data runs past the end, or bytes follow the last HDU that are not an HDU.
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


def _column_dtype(tform: str, column: int) -> tuple[str, int]:
    text = tform.strip()
    digits = 0
    while digits < len(text) and text[digits].isdigit():
        digits += 1
    repeat = int(text[:digits]) if digits else 1
    code = text[digits : digits + 1]
    if code == "A":
        return f"S{repeat}", repeat
    if code == "X":
        nbytes = -(-repeat // 8)
        return (f"({nbytes},)u1" if nbytes > 1 else "u1"), nbytes
    if code in ("P", "Q"):
        raise FitsFormatError(
            f"column {column}: variable-length arrays (TFORM {tform!r}) are not supported"
        )
    if code not in _TFORM_TYPES:
        raise FitsFormatError(f"column {column}: unknown TFORM {tform!r}")
    base, width = _TFORM_TYPES[code]
    if repeat == 1:
        return base, width
    return f"({repeat},){base}", width * repeat


def bintable_dtype(header: Header) -> np.dtype:
    """The numpy structured dtype (big-endian, packed as in the file) of a BINTABLE HDU."""
    if str(header.get("XTENSION", "")).strip() != "BINTABLE":
        raise FitsFormatError("HDU is not a binary table")
    fields = _int_keyword(header, "TFIELDS")
    names: list[str] = []
    formats: list[str] = []
    offsets: list[int] = []
    offset = 0
    for column in range(1, fields + 1):
        tform = header.get(f"TFORM{column}")
        if not isinstance(tform, str):
            raise FitsFormatError(f"column {column} has no TFORM")
        fmt, width = _column_dtype(tform, column)
        name = str(header.get(f"TTYPE{column}") or f"col{column}").strip()
        if name in names:
            name = f"{name}_{column}"
        names.append(name)
        formats.append(fmt)
        offsets.append(offset)
        offset += width
    row_bytes = _int_keyword(header, "NAXIS1")
    if offset != row_bytes:
        raise FitsFormatError(f"columns add up to {offset} bytes per row but NAXIS1 is {row_bytes}")
    return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": row_bytes})


def read_bintable(buf: bytes | memoryview, hdu: Hdu) -> np.ndarray:
    """A zero-copy structured array over the rows of a BINTABLE HDU (big-endian fields)."""
    dtype = bintable_dtype(hdu.header)
    rows = _int_keyword(hdu.header, "NAXIS2")
    return np.frombuffer(buf, dtype=dtype, count=rows, offset=hdu.data_start)


def column_values(table: np.ndarray, header: Header, name: str) -> np.ndarray:
    """One column as a contiguous native-endian array, with TSCALn/TZEROn applied if present."""
    values = table[name]
    native = values.astype(values.dtype.newbyteorder("="), copy=True)
    index = table.dtype.names.index(name) + 1
    scale = header.get(f"TSCAL{index}")
    zero = header.get(f"TZERO{index}")
    if scale is None and zero is None:
        return native
    if native.dtype.kind in "iu" and scale in (None, 1) and zero == 2 ** (8 * native.itemsize - 1):
        # The FITS convention for unsigned integers: flip the sign bit instead of going to float.
        unsigned = native.view(native.dtype.str.replace("i", "u"))
        return unsigned ^ np.array(zero, dtype=unsigned.dtype)
    return native * (1.0 if scale is None else float(scale)) + (
        0.0 if zero is None else float(zero)
    )
