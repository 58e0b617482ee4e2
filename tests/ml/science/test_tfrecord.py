"""The TFRecord reader: CRC-32C kernel vs a bitwise reference, framing, corruption, Example parsing."""

from __future__ import annotations

import numpy as np
import pytest

from apps.ml.science import tfrecord
from apps.ml.science.errors import MLScienceError, TFRecordError


def slow_crc32c(data: bytes) -> int:
    """Bit-by-bit CRC-32C straight from the definition (reflected polynomial 0x82F63B78)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 * (crc & 1))
    return crc ^ 0xFFFFFFFF


def test_it_matches_the_published_crc32c_check_value() -> None:
    # The standard CRC catalogue check value of CRC-32C for "123456789".
    assert tfrecord.crc32c(b"123456789") == 0xE3069283


@pytest.mark.parametrize("size", [0, 1, 2, 7, 8, 255, 1000])
def test_it_computes_the_same_crc_as_the_bitwise_reference(size: int) -> None:
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    assert tfrecord.crc32c(data) == slow_crc32c(data)


@pytest.mark.parametrize("data", [b"\x00" * 32, b"\xff" * 32])
def test_it_matches_the_reference_on_constant_bytes(data: bytes) -> None:
    assert tfrecord.crc32c(data) == slow_crc32c(data)


def test_it_masks_the_crc_by_rotating_and_adding_the_tfrecord_delta() -> None:
    crc = slow_crc32c(b"abc")
    expected = (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    assert tfrecord.masked_crc32c(b"abc") == expected


def _write(tmp_path, examples) -> str:
    path = tmp_path / "records.tfrecord"
    tfrecord.write_records(path, [tfrecord.encode_example(e) for e in examples])
    return path


def test_it_reads_back_floats_ints_and_bytes(tmp_path) -> None:
    view = np.linspace(-1, 1, 61, dtype=np.float32)
    path = _write(
        tmp_path,
        [
            {"local_view": view, "tic_id": np.array([123456789012]), "Disposition": "PC"},
            {"local_view": -view, "tic_id": np.array([-5]), "Disposition": [b"J", b"x"]},
        ],
    )
    first, second = tfrecord.read_examples([path])
    np.testing.assert_array_equal(first["local_view"], view)
    assert first["tic_id"].tolist() == [123456789012] and first["Disposition"] == [b"PC"]
    assert second["tic_id"].tolist() == [-5] and second["Disposition"] == [b"J", b"x"]


def test_it_reads_the_real_yu2019_validation_shard(demo_data) -> None:
    examples = tfrecord.read_examples([demo_data / "tess_yu2019/triage/val-00000-of-00001"])
    assert len(examples) == 1657
    assert {e["global_view"].shape for e in examples} == {(201,)}
    assert {e["local_view"].shape for e in examples} == {(61,)}


def test_it_rejects_a_flipped_byte_in_a_record(tmp_path) -> None:
    path = _write(tmp_path, [{"v": np.arange(10, dtype=np.float32)}] * 3)
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(TFRecordError, match="CRC mismatch in record 1"):
        list(tfrecord.iter_records(path))


def test_it_rejects_a_truncated_file(tmp_path) -> None:
    path = _write(tmp_path, [{"v": np.arange(10, dtype=np.float32)}])
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(TFRecordError, match="runs past end of file"):
        list(tfrecord.iter_records(path))


def test_it_reports_a_missing_file_as_a_package_error(tmp_path) -> None:
    with pytest.raises(MLScienceError, match="cannot read"):
        list(tfrecord.iter_records(tmp_path / "nope"))


def test_it_rejects_garbage_that_is_not_an_example() -> None:
    with pytest.raises(TFRecordError):
        tfrecord.parse_example(b"\x0a\xff\xff\xff")
