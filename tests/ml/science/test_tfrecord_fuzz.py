"""Fuzzing the TFRecord reader and the Yu 2019 loader: TFRecordError (reader) or another
MLScienceError (loader), quickly, within memory bounded by the file's size.

Seeds are the first records of the real Yu et al. 2019 triage and vetting shards, re-framed, so
the Examples are the real ones. Besides cuts and flipped bytes, the mutations target the framing
(length fields of 2**63 and other lies, with a valid length CRC so the reader believes them) and
the protobuf inside (damage under a recomputed data CRC, random payloads, odd features).
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.ml.science import tfrecord
from apps.ml.science.datasets import load_tfrecord_views
from apps.ml.science.errors import DatasetError, MLScienceError, TFRecordError
from tests.conftest import demo_data_root
from tests.fuzz import bounded_memory, expect_only, flips, fuzz_settings, memory_limit, truncations

RECORDS_PER_SEED = 4


def _first_records(relative: str) -> list[bytes]:
    records = []
    for record in tfrecord.iter_records(demo_data_root() / "tess_yu2019" / relative):
        records.append(record)
        if len(records) == RECORDS_PER_SEED:
            return records
    return records


def frame(records: list[bytes]) -> bytes:
    """Records framed as a TFRecord file (length, its masked CRC, data, its masked CRC)."""
    out = bytearray()
    for record in records:
        length = struct.pack("<Q", len(record))
        out += length + struct.pack("<I", tfrecord.masked_crc32c(length))
        out += record + struct.pack("<I", tfrecord.masked_crc32c(record))
    return bytes(out)


RECORDS = {
    "triage": _first_records("triage/val-00000-of-00001"),
    "vetting": _first_records("vetting/val-00000-of-00001"),
}
SEEDS = {task: frame(records) for task, records in RECORDS.items()}
tasks = st.sampled_from(sorted(SEEDS))


def record_offsets(data: bytes) -> list[int]:
    offsets, offset = [], 0
    while offset + 12 <= len(data):
        offsets.append(offset)
        offset += 16 + struct.unpack_from("<Q", data, offset)[0]
    return offsets


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    tfrecord.crc32c(b"warm up")  # numba kernels load before the first timed example
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder) / "train-00000-of-00001"


def check(path: Path, data: bytes, task: str) -> None:
    """The property, for the raw reader (both CRC modes) and the Yu 2019 loader."""
    path.write_bytes(data)
    with bounded_memory(memory_limit(data, factor=16)):
        expect_only(TFRecordError, lambda: tfrecord.read_examples([path]))
        expect_only(TFRecordError, lambda: tfrecord.read_examples([path], verify=False))
        expect_only(
            MLScienceError,
            lambda: load_tfrecord_views(
                [path], task=task, scalar_names=("Period", "Duration"), verify=False
            ),
        )


@fuzz_settings(max_examples=100)
@given(data=st.data())
def test_truncated_files_raise_only_tfrecord_errors(scratch: Path, data: st.DataObject) -> None:
    task = data.draw(tasks)
    cut = data.draw(truncations(SEEDS[task]))
    scratch.write_bytes(cut)
    if cut not in (frame(RECORDS[task][:n]) for n in range(RECORDS_PER_SEED)):
        with pytest.raises(TFRecordError):  # a cut inside a record is always noticed
            tfrecord.read_examples([scratch], verify=False)
    check(scratch, cut, task)


@fuzz_settings(max_examples=100)
@given(data=st.data())
def test_flipped_bytes_raise_only_tfrecord_errors(scratch: Path, data: st.DataObject) -> None:
    task = data.draw(tasks)
    check(scratch, data.draw(flips(SEEDS[task])), task)


ABSURD_LENGTHS = (2**63, 2**64 - 1, 2**63 - 1, 2**32, 2**31, 10**12, 0, 1, 11, 12, 13)


@fuzz_settings(max_examples=100)
@given(data=st.data())
def test_lying_length_fields_raise_only_tfrecord_errors(scratch: Path, data: st.DataObject) -> None:
    task = data.draw(tasks)
    blob = bytearray(SEEDS[task])
    offset = data.draw(st.sampled_from(record_offsets(bytes(blob))))
    true_length = struct.unpack_from("<Q", blob, offset)[0]
    length = data.draw(
        st.sampled_from(ABSURD_LENGTHS)
        | st.integers(0, 2**64 - 1)
        | st.integers(-16, 16).map(lambda d: max(0, true_length + d))
    )
    header = struct.pack("<Q", length)  # with a correct CRC: the reader must not trust it
    blob[offset : offset + 12] = header + struct.pack("<I", tfrecord.masked_crc32c(header))
    check(scratch, bytes(blob), task)


@fuzz_settings(max_examples=150)
@given(data=st.data())
def test_damaged_examples_under_valid_crcs_raise_only_tfrecord_errors(
    scratch: Path, data: st.DataObject
) -> None:
    task = data.draw(tasks)
    records = list(RECORDS[task])
    index = data.draw(st.integers(0, len(records) - 1))
    record = records[index]
    records[index] = data.draw(
        flips(record)  # the protobuf damaged, the CRCs recomputed to match
        | truncations(record)
        | st.binary(max_size=2000)  # anything at all as the payload
        | st.builds(bytes.__add__, st.just(record), st.binary(min_size=1, max_size=40))
    )
    check(scratch, frame(records), task)


def field(number: int, wire: int, payload: bytes) -> bytes:
    key = tfrecord._varint(number << 3 | wire)
    return key + (tfrecord._varint(len(payload)) + payload if wire == 2 else payload)


def example(entries: list[tuple[bytes, bytes]]) -> bytes:
    """An Example whose map entries are given as (raw key bytes, raw Feature bytes)."""
    features = b"".join(field(1, 2, field(1, 2, k) + field(2, 2, v)) for k, v in entries)
    return field(1, 2, features)


FEATURES = st.one_of(
    st.builds(lambda v: field(2, 2, field(1, 2, v)), st.binary(max_size=24)),  # FloatList
    st.builds(lambda v: field(3, 2, field(1, 2, v)), st.binary(max_size=24)),  # Int64List
    st.builds(lambda v: field(1, 2, field(1, 2, v)), st.binary(max_size=24)),  # BytesList
    st.builds(lambda v: field(1, 2, field(1, 0, tfrecord._varint(v))), st.integers(0, 2**64 - 1)),
    st.binary(max_size=24),
)
KEYS = st.sampled_from(
    [b"Disposition", b"tic_id", b"Period", b"Duration", b"global_view", b"local_view"]
) | st.binary(max_size=12)


@fuzz_settings(max_examples=150)
@given(data=st.data(), entries=st.lists(st.tuples(KEYS, FEATURES), max_size=8))
def test_odd_features_raise_only_typed_errors(
    scratch: Path, data: st.DataObject, entries: list[tuple[bytes, bytes]]
) -> None:
    task = data.draw(tasks)
    records = [*RECORDS[task][:1], example(entries)]
    check(scratch, frame(records), task)


def test_it_refuses_a_feature_name_that_is_not_utf8(scratch: Path) -> None:
    scratch.write_bytes(frame([example([(b"\xff\xfekey", field(2, 2, field(1, 2, b"\0" * 4)))])]))
    with pytest.raises(TFRecordError, match="UTF-8"):
        tfrecord.read_examples([scratch])


@pytest.mark.parametrize(
    ("feature", "value"),
    [
        ("Disposition", field(1, 2, field(1, 2, b"\xff\xfe"))),  # a label that is not text
        ("Disposition", field(1, 2, b"")),  # no label at all
        ("tic_id", field(3, 2, field(1, 2, b""))),  # an empty id
        ("tic_id", field(1, 2, field(1, 2, b"TIC 1"))),  # an id given as text
        ("tic_id", field(2, 2, field(1, 2, np.array([np.nan], "<f4").tobytes()))),
        ("tic_id", field(2, 2, field(1, 2, np.array([1e30], "<f4").tobytes()))),
        ("Period", field(1, 2, field(1, 2, b"3.5"))),  # a period given as text
        ("Period", field(2, 2, field(1, 2, b""))),  # an empty period
    ],
)
def test_the_yu2019_loader_names_a_malformed_feature(
    scratch: Path, feature: str, value: bytes
) -> None:
    good = tfrecord.parse_example(RECORDS["triage"][0])
    entries = [
        (name.encode(), value if name == feature else tfrecord._encode_feature(values))
        for name, values in good.items()
    ]
    scratch.write_bytes(frame([example(entries)]))
    with pytest.raises(DatasetError, match=feature):
        load_tfrecord_views([scratch], task="triage")


def test_the_seeds_are_real_yu2019_examples() -> None:
    for task, data in SEEDS.items():
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "shard"
            path.write_bytes(data)
            views = load_tfrecord_views([path], task=task)
        assert len(views) == RECORDS_PER_SEED
        assert views.views["global_view"].shape == (RECORDS_PER_SEED, 201)
        assert np.isfinite(views.views["local_view"]).all()
