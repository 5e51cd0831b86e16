"""Reading a tool call's arguments: each reader names the argument that is wrong.

Models send loose JSON (numbers as strings, a single path where a list is expected); what
can be read without guessing is read, anything else is a ``ToolError`` the model can fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ToolError(ValueError):
    """A call that cannot run as asked; the message is shown to the model."""


def text(
    args: Mapping[str, Any], name: str, *, required: bool = False, default: str | None = None
) -> str | None:
    value = args.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ToolError(f"`{name}` is required (a non-empty string)")
        return default
    if not isinstance(value, str):
        raise ToolError(f"`{name}` must be a string, got {type(value).__name__}")
    return value


def integer(
    args: Mapping[str, Any],
    name: str,
    *,
    default: int | None = None,
    low: int = 0,
    high: int = 1_000_000,
    required: bool = False,
) -> int | None:
    value = args.get(name)
    if value is None:
        if required:
            raise ToolError(f"`{name}` is required (a whole number)")
        return default
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ToolError(f"`{name}` must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ToolError(f"`{name}` must be between {low} and {high}, got {value}")
    return value


def flag(args: Mapping[str, Any], name: str) -> bool:
    value = args.get(name, False)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise ToolError(f"`{name}` must be true or false, got {value!r}")
    return value


def strings(args: Mapping[str, Any], name: str) -> list[str]:
    value = args.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ToolError(f"`{name}` must be a list of non-empty strings")
    return list(value)


def known(args: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise ToolError(
            f"unknown argument(s) {', '.join(unknown)}; expected {', '.join(allowed) or 'none'}"
        )
