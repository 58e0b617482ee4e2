"""Read (and write) TFRecord files of ``tf.train.Example`` protobufs without TensorFlow.

A TFRecord file is a sequence of records, each framed as::

    uint64 length (little endian)
    uint32 masked_crc32c(length bytes)
    byte   data[length]
    uint32 masked_crc32c(data)

The CRC is CRC-32C (Castagnoli polynomial, reflected 0x82F63B78), "masked" by a rotation and an
offset so that a CRC of data that itself contains CRCs is not trivially zero. Each ``data`` is a
serialized ``tf.train.Example``::

    Example  { Features features = 1; }
    Features { map<string, Feature> feature = 1; }      # map entry: key = 1, value = 2
    Feature  { oneof { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3; } }
    BytesList { repeated bytes value = 1; }
    FloatList { repeated float value = 1 [packed]; }
    Int64List { repeated int64 value = 1 [packed]; }

Only the protobuf wire types needed for these messages are decoded; anything else is an error.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
from numba import njit

from .errors import TFRecordError

_CRC32C_POLY = 0x82F63B78
_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF
_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")

FeatureValue = np.ndarray | list[bytes]


def _crc32c_table() -> np.ndarray:
    """The 256-entry lookup table of the reflected CRC-32C polynomial, shape (256,), uint32."""
    table = np.zeros(256, dtype=np.uint32)
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _CRC32C_POLY if crc & 1 else crc >> 1
        table[byte] = crc
    return table


_TABLE = _crc32c_table()


@njit(cache=True)
def _crc32c_kernel(data: np.ndarray, table: np.ndarray) -> np.uint32:
    """Byte-at-a-time table CRC-32C of ``data`` (uint8, shape (n,)); ``table`` from ``_crc32c_table``."""
    crc = np.uint32(0xFFFFFFFF)
    for i in range(data.shape[0]):
        crc = table[(crc ^ data[i]) & np.uint32(0xFF)] ^ (crc >> np.uint32(8))
    return crc ^ np.uint32(0xFFFFFFFF)


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """CRC-32C (Castagnoli) checksum of ``data``, as an int in [0, 2**32)."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    return int(_crc32c_kernel(buffer, _TABLE))


def masked_crc32c(data: bytes | bytearray | memoryview) -> int:
    """The TFRecord "masked" CRC-32C: rotate right by 15 bits, then add 0xA282EAD8 (mod 2**32)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & _U32


def iter_records(path: str | Path, *, verify: bool = True) -> Iterator[bytes]:
    """Yield the raw payload of every record of one TFRecord file, in file order.

    Parameters
    ----------
    path : str or Path
        An uncompressed TFRecord file.
    verify : bool
        Check both CRCs of every record (default). Without it only the framing is checked.

    Raises
    ------
    TFRecordError
        The file is missing, truncated, or a CRC does not match (the message names the record
        index and byte offset).
    """
    path = Path(path)
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise TFRecordError(f"cannot read TFRecord file {path}: {exc}") from exc
    view = memoryview(blob)
    offset, index = 0, 0
    while offset < len(blob):
        if offset + _HEADER.size > len(blob):
            raise TFRecordError(f"{path}: truncated header of record {index} at byte {offset}")
        length, length_crc = _HEADER.unpack_from(blob, offset)
        if verify and masked_crc32c(view[offset : offset + 8]) != length_crc:
            raise TFRecordError(f"{path}: length CRC mismatch in record {index} at byte {offset}")
        start = offset + _HEADER.size
        end = start + length
        if end + _FOOTER.size > len(blob):
            raise TFRecordError(f"{path}: record {index} at byte {offset} runs past end of file")
        payload = view[start:end]
        if verify and masked_crc32c(payload) != _FOOTER.unpack_from(blob, end)[0]:
            raise TFRecordError(f"{path}: data CRC mismatch in record {index} at byte {offset}")
        yield bytes(payload)
        offset = end + _FOOTER.size
        index += 1


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode one base-128 varint at ``pos``; return (value, next position)."""
    result, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise TFRecordError("truncated varint in Example protobuf")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise TFRecordError("varint longer than 10 bytes in Example protobuf")


def _iter_fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield (field number, wire type, value) of a protobuf message: int for varints, bytes otherwise."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 2:
            size, pos = _read_varint(buf, pos)
            if pos + size > len(buf):
                raise TFRecordError("length-delimited protobuf field runs past its message")
            value, pos = buf[pos : pos + size], pos + size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            if pos + width > len(buf):
                raise TFRecordError("fixed-width protobuf field runs past its message")
            value, pos = buf[pos : pos + width], pos + width
        else:
            raise TFRecordError(f"unsupported protobuf wire type {wire} (field {field})")
        yield field, wire, value


def _to_int64(value: int) -> int:
    """Reinterpret an unsigned 64-bit varint as a two's-complement int64."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _decode_floats(message: bytes) -> np.ndarray:
    parts: list[np.ndarray] = []
    for field, wire, value in _iter_fields(message):
        if field != 1:
            continue
        if wire == 2:  # packed
            if len(value) % 4:
                raise TFRecordError("packed FloatList length is not a multiple of 4")
            parts.append(np.frombuffer(value, dtype="<f4"))
        elif wire == 5:
            parts.append(np.frombuffer(value, dtype="<f4"))
        else:
            raise TFRecordError(f"FloatList value has wire type {wire}")
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


def _decode_int64s(message: bytes) -> np.ndarray:
    values: list[int] = []
    for field, wire, value in _iter_fields(message):
        if field != 1:
            continue
        if wire == 2:  # packed varints
            pos = 0
            while pos < len(value):
                item, pos = _read_varint(value, pos)
                values.append(_to_int64(item))
        elif wire == 0:
            values.append(_to_int64(value))
        else:
            raise TFRecordError(f"Int64List value has wire type {wire}")
    return np.array(values, dtype=np.int64)


def _decode_bytes(message: bytes) -> list[bytes]:
    return [bytes(v) for f, w, v in _iter_fields(message) if f == 1 and w == 2]


_DECODERS = {1: _decode_bytes, 2: _decode_floats, 3: _decode_int64s}


def _decode_feature(message: bytes) -> FeatureValue:
    for field, wire, value in _iter_fields(message):
        if wire == 2 and field in _DECODERS:
            return _DECODERS[field](value)
    return np.zeros(0, np.float32)  # an empty Feature (no kind set)


def parse_example(record: bytes) -> dict[str, FeatureValue]:
    """Parse one serialized ``tf.train.Example`` into ``{name: values}``.

    Float features become float32 arrays, int64 features int64 arrays, bytes features lists of bytes.

    Raises
    ------
    TFRecordError
        The bytes are not a well-formed Example.
    """
    features: dict[str, FeatureValue] = {}
    for field, wire, features_msg in _iter_fields(record):
        if field != 1 or wire != 2:
            continue
        for entry_field, entry_wire, entry in _iter_fields(features_msg):
            if entry_field != 1 or entry_wire != 2:
                continue
            key, value = None, b""
            for kv_field, kv_wire, kv_value in _iter_fields(entry):
                if kv_field == 1 and kv_wire == 2:
                    try:
                        key = bytes(kv_value).decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise TFRecordError(
                            f"Example feature name is not UTF-8: {bytes(kv_value)[:40]!r}"
                        ) from exc
                elif kv_field == 2 and kv_wire == 2:
                    value = kv_value
            if key is None:
                raise TFRecordError("Example feature map entry without a key")
            features[key] = _decode_feature(value)
    return features


def read_examples(
    paths: Iterable[str | Path], *, verify: bool = True
) -> list[dict[str, FeatureValue]]:
    """Parse every Example of every file in ``paths`` (in order); see `iter_records`, `parse_example`."""
    examples = []
    for path in paths:
        for index, record in enumerate(iter_records(path, verify=verify)):
            try:
                examples.append(parse_example(record))
            except TFRecordError as exc:
                raise TFRecordError(f"{path}: record {index}: {exc}") from exc
    return examples


# --- writing: used to build small fixtures and to export views; mirrors the reader above ---


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _encode_feature(value: FeatureValue | str | bytes | float | int) -> bytes:
    if isinstance(value, str | bytes):
        value = [value.encode() if isinstance(value, str) else value]
    if isinstance(value, list) and value and isinstance(value[0], bytes | str):
        items = b"".join(
            _length_delimited(1, v if isinstance(v, bytes) else v.encode()) for v in value
        )
        return _length_delimited(1, items)
    array = np.atleast_1d(np.asarray(value))
    if np.issubdtype(array.dtype, np.integer):
        packed = b"".join(_varint(int(v)) for v in array)
        return _length_delimited(3, _length_delimited(1, packed))
    packed = np.ascontiguousarray(array, dtype="<f4").tobytes()
    return _length_delimited(2, _length_delimited(1, packed))


def encode_example(features: Mapping[str, FeatureValue | str | bytes | float | int]) -> bytes:
    """Serialize ``{name: values}`` as a ``tf.train.Example`` (floats as FloatList, ints as Int64List)."""
    entries = b"".join(
        _length_delimited(
            1, _length_delimited(1, name.encode()) + _length_delimited(2, _encode_feature(v))
        )
        for name, v in features.items()
    )
    return _length_delimited(1, entries)


def write_records(path: str | Path, records: Sequence[bytes]) -> None:
    """Write raw payloads as a TFRecord file with correct framing and masked CRCs."""
    with Path(path).open("wb") as handle:
        for record in records:
            header = struct.pack("<Q", len(record))
            handle.write(header + struct.pack("<I", masked_crc32c(header)))
            handle.write(record + struct.pack("<I", masked_crc32c(record)))
