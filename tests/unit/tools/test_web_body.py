"""Reading a body within bounds (lynkr/tools/web/body.py and the fetch loop's reading): media
types, charsets, compression bombs, and a body that goes on past the limit."""

from __future__ import annotations

import codecs
import gzip
import zlib
from collections.abc import AsyncIterator

import httpx
import pytest
from harness.web_fakes import Recorder, TableResolver, body

from lynkr.tools.web.body import BodyError, Collector, charset, kind
from lynkr.tools.web.fetch import FetchError, Limits, fetch
from lynkr.tools.web.guard import Policy

RESOLVER = TableResolver({"example.com": ["93.184.215.14"]})


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/html; charset=utf-8", "html"),
        ("application/xhtml+xml", "html"),
        ("TEXT/HTML", "html"),
        ("text/plain", "text"),
        ("text/markdown", "text"),
        ("text/csv", "text"),
        ("application/json", "text"),
        ("application/ld+json", "text"),
        ("application/problem+json", "text"),
        ("application/rss+xml", "text"),
        ("application/xml", "text"),
        ("application/javascript", "text"),
        ("", "text"),
    ],
)
def test_text_media_types_are_read(content_type: str, expected: str) -> None:
    assert kind(content_type) == expected


@pytest.mark.parametrize(
    "content_type",
    [
        "image/png",
        "application/pdf",
        "video/mp4",
        "application/octet-stream",
        "application/zip",
        "font/woff2",
    ],
)
def test_other_media_types_are_refused_before_reading(content_type: str) -> None:
    with pytest.raises(BodyError, match="not text"):
        kind(content_type)


@pytest.mark.parametrize(
    ("content_type", "data", "html", "expected"),
    [
        ("text/html; charset=ISO-8859-1", b"<p>caf\xe9</p>", True, "iso-8859-1"),
        ('text/plain; charset="windows-1252"', b"x", False, "windows-1252"),
        ("text/html", b'<meta charset="shift_jis"><p>x</p>', True, "shift_jis"),
        (
            "text/html",
            b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">',
            True,
            "koi8-r",
        ),
        ("text/plain", b'<meta charset="shift_jis">', False, "utf-8"),  # meta only in HTML
        ("text/html; charset=no-such-charset", b"<p>x</p>", True, "utf-8"),
        ("text/html; charset=latin-1", codecs.BOM_UTF8 + b"x", True, "latin-1"),  # header first
        ("text/html", codecs.BOM_UTF8 + b"<p>x</p>", True, "utf-8-sig"),
        ("text/plain", codecs.BOM_UTF16_LE + "x".encode("utf-16-le"), False, "utf-16"),
        ("application/json", b'{"a": 1}', False, "utf-8"),
    ],
)
def test_charset(content_type: str, data: bytes, html: bool, expected: str) -> None:
    assert charset(content_type, data, html) == expected


def test_a_compression_bomb_stops_at_the_limit() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)  # about 50 KB on the wire
    collector = Collector.for_encoding("gzip", 100_000)
    fed = 0
    for start in range(0, len(bomb), 16_384):
        fed += 1
        if not collector.feed(bomb[start : start + 16_384]):
            break
    assert (collector.size, collector.truncated, fed) == (100_000, True, 1)
    assert max(len(c) for c in collector.chunks) <= 100_000


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "identity, gzip"])
def test_compressed_bodies_are_decoded(encoding: str) -> None:
    data = b"hello " * 1000
    wire = zlib.compress(data) if encoding == "deflate" else gzip.compress(data)
    collector = Collector.for_encoding(encoding, 1_000_000)
    assert collector.feed(wire[:10]) and collector.feed(wire[10:])
    assert (collector.body, collector.truncated) == (data, False)


def test_an_exact_fit_is_not_truncated() -> None:
    collector = Collector.for_encoding("gzip", 6000)
    assert collector.feed(gzip.compress(b"hello " * 1000))
    assert (collector.size, collector.truncated) == (6000, False)


@pytest.mark.parametrize(
    ("encoding", "wire", "message"),
    [
        ("br", b"x", "does not decode"),
        ("gzip, br", b"x", "does not decode"),
        ("zstd", b"x", "does not decode"),
        ("gzip", b"not gzip at all", "corrupt"),
    ],
)
def test_bodies_that_cannot_be_decoded_are_refused(
    encoding: str, wire: bytes, message: str
) -> None:
    with pytest.raises(BodyError, match=message):
        Collector.for_encoding(encoding, 1000).feed(wire)


# -- through the fetch loop -----------------------------------------------------------------


async def test_a_long_body_is_cut_and_the_rest_never_downloaded() -> None:
    pulled = []

    async def endless() -> AsyncIterator[bytes]:
        for index in range(10_000):
            pulled.append(index)
            yield b"x" * 1000

    recorder = Recorder(
        lambda request: httpx.Response(
            200, headers={"content-type": "text/plain"}, content=endless()
        )
    )
    async with recorder.client() as client:
        page = await fetch(
            client, "http://example.com/big", Policy(), RESOLVER, Limits(max_bytes=5500)
        )
    assert (len(page.text), page.truncated) == (5500, True)
    assert len(pulled) == 6  # the sixth chunk crossed the limit; nothing after it was read


@pytest.mark.parametrize(
    ("headers", "data", "message"),
    [
        ({"content_type": "image/png"}, b"\x89PNG\r\n", "image/png, not text"),
        ({}, b"\x00\x01\x02binary", "binary, not text"),
        ({"content_type": "text/plain", "content_encoding": "br"}, b"x", "does not decode"),
    ],
)
async def test_bodies_that_are_not_text_fail_clearly(
    headers: dict[str, str], data: bytes, message: str
) -> None:
    recorder = Recorder(lambda request: body(data, **headers))
    async with recorder.client() as client:
        with pytest.raises(FetchError, match=message):
            await fetch(client, "http://example.com/x", Policy(), RESOLVER, Limits())


async def test_the_body_is_decoded_with_its_charset() -> None:
    recorder = Recorder(
        lambda request: body(
            "<p>café - 東京</p>".encode("shift_jis", errors="replace"),
            content_type="text/html; charset=shift_jis",
        )
    )
    async with recorder.client() as client:
        page = await fetch(client, "http://example.com/", Policy(), RESOLVER, Limits())
    assert "東京" in page.text


async def test_gzip_on_the_wire_is_decoded_and_bounded() -> None:
    recorder = Recorder(
        lambda request: body(
            gzip.compress(b"a" * 1_000_000), content_type="text/plain", content_encoding="gzip"
        )
    )
    async with recorder.client() as client:
        page = await fetch(
            client, "http://example.com/", Policy(), RESOLVER, Limits(max_bytes=10_000)
        )
    assert (page.text, page.truncated) == ("a" * 10_000, True)
    assert recorder.requests[0].headers["accept-encoding"] == "gzip, deflate"
