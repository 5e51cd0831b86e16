"""HTTP/1.1 client framing, bytes in and values out: the response head, chunked,
Content-Length and close-delimited bodies, split anywhere, and the malformed cases."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lynkr.providers.h1_codec import BodyDecoder, Head, ProtocolError, parse_head, request_bytes

OK_CHUNKED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
)


def chunked(*pieces: bytes, trailer: bytes = b"") -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n" + trailer + b"\r\n"


def test_the_request_is_one_buffer() -> None:
    assert request_bytes(b"POST", b"/v1/chat?x=1", [(b"host", b"h:1"), (b"a", b"b")], b"{}") == (
        b"POST /v1/chat?x=1 HTTP/1.1\r\nhost: h:1\r\na: b\r\n\r\n{}"
    )


def test_a_head_and_where_it_ends() -> None:
    data = OK_CHUNKED + b"5\r\nhello\r\n"
    parsed = parse_head(data, 65536)
    assert parsed is not None
    head, end = parsed
    assert head == Head(
        200,
        b"OK",
        ((b"content-type", b"text/event-stream"), (b"transfer-encoding", b"chunked")),
        True,
    )
    assert data[end:] == b"5\r\nhello\r\n"
    assert head.get(b"content-type") == b"text/event-stream"
    assert head.get(b"x-missing") is None


def test_an_incomplete_head_needs_more() -> None:
    assert parse_head(OK_CHUNKED[:-3], 65536) is None


def test_informational_heads_are_skipped() -> None:
    parsed = parse_head(b"HTTP/1.1 100 Continue\r\n\r\n" + OK_CHUNKED, 65536)
    assert parsed is not None and parsed[0].status == 200
    assert parsed[1] == len(b"HTTP/1.1 100 Continue\r\n\r\n") + len(OK_CHUNKED)


@pytest.mark.parametrize(
    ("head", "keep_alive"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0", True),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0", False),
        (b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 0", False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0", False),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0", True),
    ],
)
def test_whether_the_connection_may_be_reused(head: bytes, keep_alive: bool) -> None:
    parsed = parse_head(head + b"\r\n\r\n", 65536)
    assert parsed is not None and parsed[0].keep_alive is keep_alive


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/2 200\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n x: folded\r\n\r\n",
    ],
)
def test_a_malformed_head_is_an_error(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_head(data, 65536)


def test_a_head_beyond_the_bound_is_an_error_before_it_ends() -> None:
    with pytest.raises(ProtocolError, match="larger than 1024"):
        parse_head(b"HTTP/1.1 200 OK\r\nx: " + b"a" * 2000, 1024)


def decoder(head: bytes, method: bytes = b"POST") -> BodyDecoder:
    parsed = parse_head(head, 65536)
    assert parsed is not None
    return BodyDecoder(method, parsed[0])


def test_all_the_chunks_of_one_read_come_out_at_once() -> None:
    body = decoder(OK_CHUNKED)
    data = chunked(b"data: 1\n\n", b"data: 2\n\n", b"data: [DONE]\n\n")
    assert body.decode(data) == b"data: 1\n\ndata: 2\n\ndata: [DONE]\n\n"
    assert body.done and body.rest == b""


def test_chunk_extensions_and_trailers_are_read_past() -> None:
    body = decoder(OK_CHUNKED)
    data = b"3;name=v\r\nabc\r\n" + b"0\r\nx-trailer: 1\r\n\r\n"
    assert body.decode(data) == b"abc"
    assert body.done


def test_bytes_after_the_body_are_kept_apart() -> None:
    body = decoder(OK_CHUNKED)
    assert body.decode(chunked(b"ab") + b"HTTP/1.1 200") == b"ab"
    assert body.done and body.rest == b"HTTP/1.1 200"


@given(
    st.lists(st.binary(min_size=1, max_size=40), max_size=8),
    st.lists(st.integers(min_value=0, max_value=400), max_size=12),
)
def test_chunked_split_anywhere_gives_the_same_bytes(pieces: list[bytes], cuts: list[int]) -> None:
    data = chunked(*pieces)
    body = decoder(OK_CHUNKED)
    out = b""
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    for start, end in itertools.pairwise(points):
        out += body.decode(data[start:end])
    assert out == b"".join(pieces)
    assert body.done and body.rest == b""


@given(st.binary(max_size=200), st.integers(min_value=0, max_value=200))
def test_content_length_split_anywhere(payload: bytes, cut: int) -> None:
    body = decoder(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload))
    cut = min(cut, len(payload))
    out = body.decode(payload[:cut])
    assert body.done is (len(payload) == 0 or cut == len(payload))
    out += body.decode(payload[cut:] + b"extra")
    assert out == payload and body.done and body.rest == b"extra"


def test_a_body_until_the_connection_closes() -> None:
    body = decoder(b"HTTP/1.1 200 OK\r\n\r\n")
    assert body.until_close and body.decode(b"abc") == b"abc" and not body.done
    assert not body.incomplete()


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    ],
)
def test_answers_without_a_body(head: bytes) -> None:
    assert decoder(head).done


def test_a_head_request_has_no_body() -> None:
    assert decoder(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", b"HEAD").done


def test_a_cut_body_is_incomplete() -> None:
    body = decoder(OK_CHUNKED)
    body.decode(b"10\r\nabc")
    assert body.incomplete()


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"zz\r\nabc\r\n", "malformed chunk size"),
        (b"0x3\r\nabc\r\n", "malformed chunk size"),
        (b"-3\r\nabc\r\n", "malformed chunk size"),
        (b"1_0\r\nabc\r\n", "malformed chunk size"),
        (b"3\r\nabcXY", "did not end with CRLF"),
        (b"3" * 5000, "too long"),
    ],
)
def test_malformed_chunking_is_an_error(data: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        decoder(OK_CHUNKED).decode(data)


@pytest.mark.parametrize(
    ("head", "match"),
    [
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported transfer-encoding"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "malformed content-length"),
    ],
)
def test_framing_it_cannot_read_is_an_error(head: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        decoder(head)
