"""Responses content parts (``input_text``, ``input_image``, ``input_file``, ...) → blocks.

Accepts the parts of messages and of ``function_call_output.output``. Guarantees: data URLs
become base64 sources, http(s) URLs stay URLs, every mistake is a BadRequest with its path.
Never: fetches a URL or resolves a ``file_id`` (an image by file id is a BadRequest; a file
the proxy cannot inline stays an opaque ``input_file`` block for the upstream stage to judge).
"""

from __future__ import annotations

from typing import Any

from lynkr.formats.jsonvalue import opt_str, required, want
from lynkr.model.content import Block, ImageBlock, OpaqueBlock, TextBlock
from lynkr.model.errors import BadRequest

_TEXT_PARTS = frozenset(("input_text", "output_text"))


def parse_parts(value: Any, path: str) -> tuple[Block, ...]:
    """Message content: a string (one text block) or an array of parts."""
    if isinstance(value, str):
        return (TextBlock(value),)
    items = want(list, value, path, "a string or an array of content parts")
    return tuple(parse_part(item, f"{path}.{i}") for i, item in enumerate(items))


def parse_part(raw: Any, path: str) -> Block:
    obj = want(dict, raw, path, "a content part object")
    kind = want(str, required(obj, "type", path + "."), path + ".type", "a string")
    if kind in _TEXT_PARTS:
        return TextBlock(want(str, required(obj, "text", path + "."), path + ".text", "a string"))
    if kind == "refusal":
        return TextBlock(
            want(str, required(obj, "refusal", path + "."), path + ".refusal", "a string"))
    if kind == "input_image":
        return _image(obj, path)
    if kind == "input_file":
        return _file(obj, path)
    raise BadRequest(f"{path}.type: content part type {kind!r} is not supported")


def _image(obj: dict[str, Any], path: str) -> ImageBlock:
    url = opt_str(obj, "image_url", path + ".")
    if url is None:
        if obj.get("file_id") is not None:
            raise BadRequest(f"{path}.file_id: images by file id are not supported by this proxy;"
                             " send image_url")
        raise BadRequest(f"{path}.image_url: field required")
    if url.startswith("data:"):
        media_type, data = parse_data_url(url, path + ".image_url")
        return ImageBlock({"type": "base64", "media_type": media_type, "data": data})
    if url.startswith(("http://", "https://")):
        return ImageBlock({"type": "url", "url": url})
    raise BadRequest(f"{path}.image_url: expected a data: or http(s) URL")


def _file(obj: dict[str, Any], path: str) -> OpaqueBlock:
    """A PDF given inline or by URL becomes a document block; anything else stays opaque."""
    data_url = opt_str(obj, "file_data", path + ".")
    file_url = opt_str(obj, "file_url", path + ".")
    name = opt_str(obj, "filename", path + ".")
    source: dict[str, Any] | None = None
    if data_url is not None and data_url.startswith("data:"):
        media_type, data = parse_data_url(data_url, path + ".file_data")
        if media_type == "application/pdf":
            source = {"type": "base64", "media_type": media_type, "data": data}
    elif file_url is not None and file_url.lower().split("?")[0].endswith(".pdf"):
        source = {"type": "url", "url": file_url}
    if source is None:
        return OpaqueBlock("input_file", obj)
    document: dict[str, Any] = {"type": "document", "source": source}
    if name:
        document["title"] = name
    return OpaqueBlock("document", document)


def parse_data_url(url: str, path: str) -> tuple[str, str]:
    """``data:<media type>;base64,<data>`` → (media type, data)."""
    header, sep, data = url.partition(",")
    media_type, _, encoding = header.removeprefix("data:").partition(";")
    if not sep or encoding != "base64" or not media_type:
        raise BadRequest(f"{path}: expected a base64 data URL (data:<media type>;base64,...)")
    return media_type, data
