"""Bounded, linear-time line buffering: bytes in, lines out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lynkr.formats.lines import LineBuffer
from lynkr.formats.sse import SseDecoder
from lynkr.model.errors import FrameTooLarge


@given(st.lists(st.binary(max_size=40), max_size=30), st.data())
def test_lines_are_the_same_however_the_bytes_are_split(pieces: list[bytes],
                                                        data: st.DataObject) -> None:
    whole = b"".join(pieces)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(whole)), max_size=10)))
    buffer, lines, at = LineBuffer(), [], 0
    for cut in [*cuts, len(whole)]:
        lines += buffer.feed(whole[at:cut])
        at = cut
    *complete, rest = whole.split(b"\n")
    assert lines == complete
    assert buffer.rest() == rest


def test_a_long_line_arriving_in_small_reads_is_held_as_pieces() -> None:
    buffer = LineBuffer(max_line=1 << 20)
    for _ in range(255):
        assert buffer.feed(b"x" * 4096) == []
    assert len(buffer._pieces) == 255  # never re-joined while incomplete
    assert buffer.feed(b"x" * 4096 + b"\nnext") == [b"x" * (1 << 20)]
    assert buffer.rest() == b"next"


@pytest.mark.parametrize("reads", [
    [b"y" * 101],  # one read, no line end yet
    [b"y" * 60, b"y" * 60],  # held pieces beyond the limit
    [b"y" * 200 + b"\n"],  # a whole line in one read
    [b"y" * 60, b"y" * 60 + b"\n"],  # completed across reads
])
def test_a_line_beyond_the_limit_is_refused_naming_the_setting(reads: list[bytes]) -> None:
    buffer = LineBuffer(max_line=100)
    with pytest.raises(FrameTooLarge, match="UPSTREAM_MAX_LINE_BYTES"):
        for read in reads:
            buffer.feed(read)


def test_sse_data_lines_of_one_event_count_together() -> None:
    decoder = SseDecoder(max_line=100)
    assert decoder.feed(b"data: " + b"a" * 60 + b"\n\n") == [(b"", b"a" * 60)]
    with pytest.raises(FrameTooLarge):
        decoder.feed(b"data: " + b"a" * 60 + b"\ndata: " + b"a" * 60 + b"\n")
