"""A fetched body, read within bounds and turned into text.

Assumes: raw bytes as they came off the wire (``Response.aiter_raw``), with the response's
``Content-Type`` and ``Content-Encoding``.
Guarantees: never holds more than ``limit`` bytes of decoded body, however well the body
compresses (gzip and deflate are decoded a bounded piece at a time, so a compression bomb stops
at the limit); says which media types it reads (text, HTML, JSON, XML) and refuses the rest
before reading; picks the charset from the header, else a byte-order mark, else HTML's
``<meta charset>``, else UTF-8, and replaces undecodable bytes instead of failing.
Never: does I/O.
"""

from __future__ import annotations

import codecs
import re
import zlib

import attrs

TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/javascript",
        "application/ecmascript",
        "application/x-javascript",
        "application/yaml",
        "application/x-yaml",
        "application/toml",
        "application/x-ndjson",
        "application/csv",
        "application/sql",
        "application/graphql",
    }
)
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.-]+)""", re.IGNORECASE)


class BodyError(Exception):
    """A body web_fetch does not read; the message says why."""


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def kind(content_type: str) -> str:
    """``html`` or ``text``; ``BodyError`` for a type that is not text."""
    media = media_type(content_type)
    if media in HTML_TYPES:
        return "html"
    if (
        not media
        or media.startswith("text/")
        or media in TEXT_TYPES
        or media.endswith(("+json", "+xml"))
    ):
        return "text"
    raise BodyError(
        f"the content type is {media}, not text: web_fetch reads HTML, text, JSON and XML"
    )


def _decoder(content_encoding: str) -> zlib._Decompress | None:
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if codings in (["gzip"], ["x-gzip"], ["deflate"]):
        return zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib, told by the header
    raise BodyError(
        f"the body is encoded with {content_encoding}, which web_fetch does not "
        f"decode (it asks for gzip or deflate)"
    )


@attrs.define
class Collector:
    """Decoded body bytes, up to ``limit``; ``feed`` answers False once the limit is hit."""

    limit: int
    decoder: zlib._Decompress | None = None
    chunks: list[bytes] = attrs.field(factory=list)
    size: int = 0
    truncated: bool = False

    @classmethod
    def for_encoding(cls, content_encoding: str, limit: int) -> Collector:
        return cls(limit, _decoder(content_encoding))

    def feed(self, raw: bytes) -> bool:
        room = self.limit - self.size
        data = raw
        if self.decoder is not None:
            try:  # one byte past the room tells a full body from a truncated one
                data = self.decoder.decompress(raw, room + 1)
            except zlib.error as exc:
                raise BodyError(f"the compressed body is corrupt: {exc}") from None
        if len(data) > room:
            data, self.truncated = data[:room], True
        self.chunks.append(data)
        self.size += len(data)
        return not self.truncated

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


def charset(content_type: str, body: bytes, html: bool) -> str:
    """The body's character encoding: header, byte-order mark, ``<meta>``, else UTF-8."""
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and _known(value.strip().strip("\"'")):
            return value.strip().strip("\"'").lower()
    for bom, name in BOMS:
        if body.startswith(bom):
            return name
    if html:
        found = _META.search(body[:4096])
        if found and _known(found.group(1).decode("ascii")):
            return found.group(1).decode("ascii").lower()
    return "utf-8"


def _known(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def looks_binary(body: bytes) -> bool:
    """A NUL byte early on: a body without a content type that is not text."""
    return b"\x00" in body[:1024]


def decode(body: bytes, encoding: str) -> str:
    return body.decode(encoding, errors="replace")
