"""SseDecoder: bytes in, (event name, data) pairs out, however the bytes are split."""

import itertools

import pytest

from lynkr.formats.sse import SseDecoder

STREAM = (
    b"event: message_start\ndata: {\"a\":1}\n\n"
    b": keep-alive comment\n\n"
    b"data: first line\ndata: second line\n\n"
    b"id: 7\nretry: 100\nevent: ping\ndata:no-space\n\n"
    b"data: [DONE]\n\n"
)
EVENTS = [
    (b"message_start", b'{"a":1}'),
    (b"", b"first line\nsecond line"),
    (b"ping", b"no-space"),
    (b"", b"[DONE]"),
]


def decode_split(data: bytes, *cuts: int) -> list[tuple[bytes, bytes]]:
    decoder = SseDecoder()
    out = []
    bounds = [0, *cuts, len(data)]
    for start, end in itertools.pairwise(bounds):
        out.extend(decoder.feed(data[start:end]))
    out.extend(decoder.flush())
    return out


def test_whole_stream() -> None:
    assert decode_split(STREAM) == EVENTS


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_every_split_point_gives_same_events(crlf: bool) -> None:
    data = STREAM.replace(b"\n", b"\r\n") if crlf else STREAM
    for cut in range(len(data) + 1):
        assert decode_split(data, cut) == EVENTS, cut


def test_every_pair_of_split_points_in_one_frame() -> None:
    data = b"event: x\r\ndata: ab\r\ndata: cd\r\n\r\n"
    for first in range(len(data) + 1):
        for second in range(first, len(data) + 1):
            assert decode_split(data, first, second) == [(b"x", b"ab\ncd")], (first, second)


def test_byte_at_a_time() -> None:
    decoder = SseDecoder()
    out = []
    for i in range(len(STREAM)):
        out.extend(decoder.feed(STREAM[i : i + 1]))
    assert out == EVENTS
    assert not decoder.pending
    assert decoder.flush() == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"data: tail", [(b"", b"tail")]),
        (b"data: tail\n", [(b"", b"tail")]),
        (b"data: tail\r\n", [(b"", b"tail")]),
        (b"event: e\ndata: a\ndata: b", [(b"e", b"a\nb")]),
        (b": only a comment", []),
        (b"event: no-data\n", []),
        (b"", []),
    ],
)
def test_flush_of_unterminated_frame(data: bytes, expected: list[tuple[bytes, bytes]]) -> None:
    decoder = SseDecoder()
    assert decoder.feed(data) == []
    if expected:
        assert decoder.pending
    assert decoder.flush() == expected
    assert not decoder.pending


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # Blank lines between frames and frames without data produce nothing.
        (b"\n\n\nevent: lonely\n\ndata: x\n\n", [(b"", b"x")]),
        # The event name is reset after each dispatched frame.
        (b"event: a\ndata: 1\n\ndata: 2\n\n", [(b"a", b"1"), (b"", b"2")]),
        # Only one leading space is stripped from data.
        (b"data:  two spaces\n\n", [(b"", b" two spaces")]),
        # An empty data field still dispatches an empty payload.
        (b"data:\n\n", [(b"", b"")]),
        # Non-ASCII bytes pass through untouched.
        ("data: héllo ✓\n\n".encode(), [(b"", "héllo ✓".encode())]),
    ],
)
def test_framing_rules(data: bytes, expected: list[tuple[bytes, bytes]]) -> None:
    assert decode_split(data) == expected
