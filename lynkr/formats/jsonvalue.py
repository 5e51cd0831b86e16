"""Checked access to parsed JSON: every mistake names its path and becomes a BadRequest."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from lynkr.model.errors import BadRequest


class ParsedBody(bytes):
    """A request body whose JSON document was parsed already (by the depth check): the first
    ``loads_object`` of it takes that document instead of parsing the bytes again."""

    document: Any = None

    @classmethod
    def of(cls, body: bytes, document: Any) -> ParsedBody:
        parsed = cls(body)
        parsed.document = document
        return parsed

    def take(self) -> Any:
        document, self.document = self.document, None
        return document


def loads_object(body: bytes) -> dict[str, Any]:
    """Parse a request body that must be one JSON object."""
    if not body:
        raise BadRequest("request body is empty; expected a JSON object")
    value = body.take() if isinstance(body, ParsedBody) else None
    if value is None:
        try:  # orjson takes bytes, not a subclass of them: a view of the same memory
            value = orjson.loads(body if type(body) is bytes else memoryview(body))
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadRequest(f"request body must be a JSON object, got {type_name(value)}")
    return value


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def want(kind: type | tuple[type, ...], value: Any, path: str, what: str) -> Any:
    # bool is an int subclass; a JSON true is never a number here.
    if isinstance(value, kind) and not (isinstance(value, bool) and bool not in _as_tuple(kind)):
        return value
    raise BadRequest(f"{path}: expected {what}, got {type_name(value)}")


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def required(obj: Mapping[str, Any], key: str, path: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise BadRequest(f"{path}{key}: field required") from None


def opt_str(obj: Mapping[str, Any], key: str, path: str) -> str | None:
    value = obj.get(key)
    return None if value is None else want(str, value, path + key, "a string")


def opt_int(obj: Mapping[str, Any], key: str, path: str) -> int | None:
    value = obj.get(key)
    return None if value is None else want(int, value, path + key, "an integer")


def opt_number(obj: Mapping[str, Any], key: str, path: str) -> float | None:
    value = obj.get(key)
    return None if value is None else want((int, float), value, path + key, "a number")


def opt_object(obj: Mapping[str, Any], key: str, path: str) -> dict[str, Any] | None:
    value = obj.get(key)
    return None if value is None else want(dict, value, path + key, "an object")
