"""Recorded sessions: reading them (Lynkr's own recordings, the benchmark's, the bundled ones),
writing the compact bundled form, and shaping a recording so it can be shipped.

A session is a list of requests as a client sent them: ``{"path", "headers", "body"}`` with
``path`` ``/v1/messages`` or ``/v1/chat/completions``. Three files hold them:

- ``*.jsonl``: one request a line, as ``LYNKR_RECORD_DIR`` writes them;
- ``*.json``: the token-savings benchmark's recording (``{"anthropic": [...]}``);
- ``*.json.gz``: the bundled form, each distinct value (system, tool list, message) stored once
  and requests holding references (Claude Code resends its whole history on every turn).
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
import orjson

BUNDLED = Path(__file__).resolve().parent / "sessions"


@attrs.frozen
class Session:
    name: str
    description: str
    requests: tuple[dict[str, Any], ...]


def load(path: Path) -> Session:
    name = path.name.split(".")[0]
    if path.name.endswith(".jsonl"):
        lines = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
        return Session(name, f"recorded by Lynkr ({path})", tuple(lines))
    raw = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    data = orjson.loads(raw)
    if "values" in data:
        return Session(data.get("name", name), data.get("description", ""),
                       tuple(_expand(r, data["values"]) for r in data["requests"]))
    requests = tuple({"path": "/v1/messages", **r} for r in data["anthropic"])
    return Session(data.get("scenario", name), data.get("description", ""), requests)


def find(paths: Iterable[str | Path] = ()) -> list[Session]:
    """The sessions in ``paths`` (files or directories); the bundled ones when none is given."""
    files: list[Path] = []
    for item in paths or [BUNDLED]:
        path = Path(item)
        files += sorted(p for p in path.iterdir() if _is_session(p)) if path.is_dir() \
            else [path]
    return [load(p) for p in files]


def _is_session(path: Path) -> bool:
    return path.name.endswith((".jsonl", ".json", ".json.gz"))


# -- the bundled form: every distinct system, tool list and message once --------------------

def save_bundled(session: Session, path: Path) -> None:
    values: list[Any] = []
    index: dict[bytes, int] = {}

    def ref(value: Any) -> int:
        key = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        if key not in index:
            index[key] = len(values)
            values.append(value)
        return index[key]

    requests = []
    for request in session.requests:
        body = dict(request["body"])
        for field in ("system", "tools"):
            if field in body:
                body[field] = {"$ref": ref(body[field])}
        body["messages"] = [{"$ref": ref(m)} for m in body.get("messages", [])]
        requests.append({**request, "body": body})
    data = {"name": session.name, "description": session.description, "values": values,
            "requests": requests}
    path.write_bytes(gzip.compress(orjson.dumps(data), compresslevel=9, mtime=0))


def _expand(request: dict[str, Any], values: list[Any]) -> dict[str, Any]:
    body = dict(request["body"])
    for field in ("system", "tools"):
        if isinstance(body.get(field), dict) and "$ref" in body[field]:
            body[field] = values[body[field]["$ref"]]
    body["messages"] = [values[m["$ref"]] for m in body.get("messages", [])]
    return {**request, "body": body}


# -- shaping a recording for shipping --------------------------------------------------------

_LETTERS = re.compile(r"[A-Za-z]{2,}")
_KEEP_WORDS = frozenset({"system", "reminder", "env"})


def shape_only(session: Session) -> Session:
    """The session with the client's own prose (its system prompt, tool descriptions and
    ``<system-reminder>`` texts) replaced by filler of the same shape: every word of two letters
    or more becomes a pseudo-word of the same length, derived from the text, so the same text
    always gives the same filler (prefix stability survives), punctuation, digits, layout and
    sizes stay, and nothing of the original wording is left. Tool names and schemas, the user's
    prompts, the model's turns and the tool results (our own scripted fixtures) are kept."""
    return attrs.evolve(session, requests=tuple(
        {**r, "body": _shape_body(r["body"])} for r in session.requests))


def _shape_body(body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    if isinstance(out.get("system"), str):
        out["system"] = filler(out["system"])
    elif isinstance(out.get("system"), list):
        out["system"] = [_shape_text_block(b) for b in out["system"]]
    if out.get("tools"):
        out["tools"] = [_shape_tool(t) for t in out["tools"]]
    out["messages"] = [_shape_message(m) for m in out.get("messages", [])]
    return out


def _shape_tool(tool: dict[str, Any]) -> dict[str, Any]:
    tool = dict(tool)
    if isinstance(tool.get("description"), str):
        tool["description"] = filler(tool["description"])
    if isinstance(tool.get("function"), dict):
        tool["function"] = _shape_tool(tool["function"])
    for key in ("input_schema", "parameters"):
        if isinstance(tool.get(key), dict):
            tool[key] = _shape_schema(tool[key])
    return tool


def _shape_schema(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: filler(v) if k == "description" and isinstance(v, str) else _shape_schema(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_shape_schema(v) for v in value]
    return value


def _shape_message(message: dict[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    if message.get("role") in ("system", "developer"):
        if isinstance(content, str):
            return {**message, "content": filler(content)}
        if isinstance(content, list):
            return {**message, "content": [_shape_text_block(b) for b in content]}
    if isinstance(content, str) and content.lstrip().startswith("<system-reminder>"):
        return {**message, "content": filler(content)}
    if isinstance(content, list):
        return {**message, "content": [_shape_text_block(b) if _is_reminder(b) else b
                                       for b in content]}
    return message


def _is_reminder(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") == "text" \
        and str(block.get("text", "")).lstrip().startswith("<system-reminder>")


def _shape_text_block(block: Any) -> Any:
    if isinstance(block, dict) and isinstance(block.get("text"), str):
        return {**block, "text": filler(block["text"])}
    return block


def filler(text: str) -> str:
    seed = hashlib.sha256(text.encode()).digest()
    counter = [0]

    def word(match: re.Match[str]) -> str:
        original = match.group(0)
        if original.lower() in _KEEP_WORDS:
            return original
        counter[0] += 1
        stream = hashlib.sha256(seed + counter[0].to_bytes(4, "big")).digest()
        letters = "".join("etaoinshrdlucmfwypvbg"[b % 21] for b in stream)
        while len(letters) < len(original):
            letters += letters
        out = letters[: len(original)]
        return out.capitalize() if original[0].isupper() else out

    return _LETTERS.sub(word, text)
