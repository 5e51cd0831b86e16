"""A small ``.env`` reader: KEY=VALUE lines, ``export`` prefixes, quotes and # comments."""

from __future__ import annotations

from pathlib import Path


def read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        key, value = key.strip(), value.strip()
        end = value.find(value[0], 1) if value[:1] in ("'", '"') else -1
        if end > 0 and value[end + 1:].lstrip()[:1] in ("", "#"):
            value = value[1:end]  # KEY="quoted # kept"  # a comment after the quotes
        elif value[:1] in ("'", '"') and value.endswith(value[0]) and len(value) > 1:
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values
