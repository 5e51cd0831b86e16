"""RESP2 encoding and parsing (pure), and what a Redis address may look like."""

from __future__ import annotations

import pytest

from lynkr.shared.resp import Address, Incomplete, RedisReplyError, encode, parse


def test_encode_is_an_array_of_bulk_strings() -> None:
    assert (
        encode(("SET", "k", 12, b"\x00v"))
        == b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n$2\r\n\x00v\r\n"
    )


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        (b"+OK\r\n", b"OK"),
        (b":-42\r\n", -42),
        (b"$5\r\nhe\r\nl\r\n", b"he\r\nl"),  # a bulk string may hold CRLF
        (b"$-1\r\n", None),
        (b"*-1\r\n", None),
        (b"*3\r\n:1\r\n$-1\r\n*1\r\n+x\r\n", [1, None, [b"x"]]),
    ],
)
def test_parse_each_kind(wire: bytes, value: object) -> None:
    assert parse(wire + b"+NEXT\r\n") == (value, len(wire))


def test_an_error_reply_is_returned_not_raised_at_the_top() -> None:
    error, used = parse(b"-NOSCRIPT No matching script\r\n")
    assert isinstance(error, RedisReplyError) and str(error).startswith("NOSCRIPT")
    assert used == 30


@pytest.mark.parametrize("wire", [b"", b"+O", b"$5\r\nhel", b"*2\r\n:1\r\n", b"$3\r\nabc\r"])
def test_a_partial_reply_asks_for_more(wire: bytes) -> None:
    with pytest.raises(Incomplete):
        parse(wire)


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("redis://localhost", Address("localhost", 6379)),
        ("redis://:s3cret@10.0.0.5:6380/2", Address("10.0.0.5", 6380, 2, "s3cret")),
        ("redis://app:p%40ss@h:1/0", Address("h", 1, 0, "p@ss", "app")),
    ],
)
def test_addresses(url: str, address: Address) -> None:
    parsed = Address.parse(url)
    assert parsed == address
    assert "s3cret" not in parsed.shown() and "p@ss" not in parsed.shown()


@pytest.mark.parametrize("url", ["rediss://h:1", "http://h:1", "redis://h:1/x"])
def test_bad_addresses_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="REDIS_URL"):
        Address.parse(url)
