"""Shared pieces of the fuzz tests of the binary readers (FITS, raw6, TFRecord), with hypothesis.

Each reader is fed real or realistic files broken in the ways downloads and disks break them:
cut at a random offset, bytes flipped, and header values that are absurd on purpose (NAXIS2 =
10**12, negative axes, huge repeat counts, lengths of 2**63). The property is always the same:
the reader either succeeds or raises its own documented error type, quickly, without allocating
more than a small multiple of the input's size.

The runs are derandomized (the same examples on every ``make test``, so a failure reproduces);
set ``GAIA_FUZZ_RANDOM=1`` (and ``GAIA_FUZZ_EXAMPLES=5000``) to explore new examples locally.
"""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

DEADLINE_MS = 2000
"""No example may take longer than this."""

CARD = 80
BLOCK = 2880


def fuzz_settings(max_examples: int = 150) -> settings:
    """Hypothesis settings of a fuzz test: bounded, derandomized, no example database."""
    examples = int(os.environ.get("GAIA_FUZZ_EXAMPLES", max_examples))
    return settings(
        max_examples=examples,
        deadline=DEADLINE_MS,
        derandomize=not os.environ.get("GAIA_FUZZ_RANDOM"),
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@contextmanager
def bounded_memory(limit_bytes: int) -> Iterator[None]:
    """Fail if the block allocates (Python and numpy buffers alike) more than ``limit_bytes``."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        yield
    finally:
        peak = tracemalloc.get_traced_memory()[1] - base
        if started:
            tracemalloc.stop()
    assert peak <= limit_bytes, f"allocated {peak} bytes, more than {limit_bytes}"


def memory_limit(data: bytes, factor: int = 8) -> int:
    """What a reader may allocate for ``data``: a few copies of it plus fixed overhead."""
    return 32 * 2**20 + factor * len(data)


def expect_only(
    errors: type[BaseException] | tuple[type[BaseException], ...], call: Callable[[], object]
) -> None:
    """Run ``call``; success and ``errors`` pass, anything else fails the example."""
    with suppress(errors):
        call()


# --- mutations -------------------------------------------------------------------------------


def truncations(data: bytes) -> st.SearchStrategy[bytes]:
    """``data`` cut at a random offset (header blocks, data, the very last byte)."""
    return st.integers(0, len(data) - 1).map(lambda cut: data[:cut])


def flips(data: bytes, hot: Sequence[tuple[int, int]] = ()) -> st.SearchStrategy[bytes]:
    """``data`` with 1-8 bytes XOR-ed, anywhere or (half the time) inside the ``hot`` ranges."""
    anywhere = st.integers(0, len(data) - 1)
    positions = (
        st.one_of(anywhere, *(st.integers(start, end - 1) for start, end in hot if end > start))
        if hot
        else anywhere
    )

    def apply(changes: list[tuple[int, int]]) -> bytes:
        out = bytearray(data)
        for position, mask in changes:
            out[position] ^= mask
        return bytes(out)

    return st.lists(st.tuples(positions, st.integers(1, 255)), min_size=1, max_size=8).map(apply)


ABSURD_INTEGERS = (
    0, 1, -1, 2, 3, 7, 999, 1000, -(10**12), 10**12, 2**31 - 1, 2**31, 2**32, 2**63 - 1,
    2**63, 2**64, -(2**63), 10**60, -(10**60),
)  # fmt: skip
ABSURD_TEXTS = (
    "'1000000000000E'", "'2147483647D'", "'99999999999B'", "'0E'", "'-5E'", "'1PE(100)'",
    "'1QD(7)'", "'Z'", "'E", "''", "'A&'", "'&'", "T", "F", "1.5E400", "-1.0E-400", "NaN",
    "inf", "(1, 2)", "' '", "'LIGHTCURVE'", "'BINTABLE'", "'IMAGE   '", "'TESS    '", "'K2'",
    "/ only a comment", "", "1_000", "0x10", "'O''Brien'", "'unterminated O''",
)  # fmt: skip


def card_values() -> st.SearchStrategy[bytes]:
    """Value fields (columns 11-80) that a broken or hostile header might carry."""
    return st.one_of(
        st.sampled_from(ABSURD_INTEGERS).map(lambda v: f"{v:>20}"),
        st.integers(-(2**70), 2**70).map(lambda v: f"{v:>20}"),
        st.sampled_from(ABSURD_TEXTS),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=70),
    ).map(lambda text: text.encode("ascii")[:70].ljust(70)) | st.binary(min_size=70, max_size=70)


def header_cards(data: bytes, ranges: Sequence[tuple[int, int]]) -> list[tuple[int, bytes]]:
    """``(offset, keyword)`` of every card in the header ``ranges`` of a FITS file."""
    cards = []
    for start, end in ranges:
        for offset in range(start, end, CARD):
            keyword = data[offset : offset + 8]
            if keyword.strip():
                cards.append((offset, keyword))
            if keyword == b"END     ":
                break
    return cards


def card_edits(
    data: bytes, cards: Sequence[tuple[int, bytes]], structural: Sequence[bytes]
) -> st.SearchStrategy[bytes]:
    """``data`` with 1-4 header cards given absurd values, or turned into other cards.

    Half the edits hit the ``structural`` keywords (sizes, formats, mission keys): those that
    decide how much the reader reads and allocates.
    """
    keyed = [c for c in cards if c[1] in structural]
    targets = st.sampled_from(keyed) | st.sampled_from(cards) if keyed else st.sampled_from(cards)
    keywords = st.sampled_from(
        [b"CONTINUE", b"END     ", b"XTENSION", b"NAXIS   ", b"NAXIS9  ", b"COMMENT ", b"        "]
    )
    edit = st.one_of(
        st.tuples(targets, st.none(), card_values()),  # same keyword, new value
        st.tuples(targets, keywords, card_values()),  # another keyword (and value)
    )

    def apply(edits: list[tuple[tuple[int, bytes], bytes | None, bytes]]) -> bytes:
        out = bytearray(data)
        for (offset, keyword), new_keyword, value in edits:
            key = new_keyword or keyword
            if key == b"CONTINUE":
                out[offset : offset + CARD] = key + b"  " + value
            elif key == b"END     ":
                out[offset : offset + CARD] = key.ljust(CARD)
            else:
                out[offset : offset + CARD] = key + b"= " + value
        return bytes(out)

    return st.lists(edit, min_size=1, max_size=4).map(apply)
