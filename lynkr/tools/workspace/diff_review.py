"""Reviewing a unified diff for common problems, deterministically: leftover debug output,
conflict markers, secrets, very large or binary files, new TODOs.

Pure: a diff's text and per-file line counts in, findings out (sorted by file and line).
Guarantees: only added lines are judged (a removed ``print`` is a fix, not a finding); a secret
is never repeated in a finding, only its kind and a masked prefix. Never raises on any text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

LARGE_FILE_LINES = 1000  # added lines in one file
LARGE_FILE_BYTES = 1024 * 1024  # a changed file's size
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
DEBUG = (
    (
        "python",
        re.compile(
            r"^\s*(?:print\(|breakpoint\(\)|import pdb|import ipdb"
            r"|pdb\.set_trace\(|ipdb\.set_trace\()"
        ),
    ),
    ("javascript", re.compile(r"^\s*(?:console\.(?:log|debug|trace|dir)\(|debugger;?\s*$)")),
    ("go", re.compile(r"^\s*(?:fmt\.Print(?:ln|f)?\(|spew\.Dump\()")),
    ("ruby", re.compile(r"^\s*(?:binding\.pry|byebug|puts\s|p\s)")),
    ("rust", re.compile(r"^\s*dbg!\(")),
)
DEBUG_BY_SUFFIX = {
    ".py": "python",
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "javascript",
    ".tsx": "javascript",
    ".go": "go",
    ".rb": "ruby",
    ".rs": "rust",
}
CONFLICT = re.compile(r"^(?:<{7}(?: |$)|={7}$|>{7}(?: |$)|\|{7}(?: |$))")
TODO = re.compile(r"\b(?:TODO|FIXME|XXX|HACK)\b")
SECRETS = (
    ("private key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b")),
    ("Anthropic API key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}")),
    ("OpenAI API key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}")),
    ("Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    (
        "password or secret assignment",
        re.compile(
            r"(?i)\b(?:password|passwd|secret|api_?key|token)\b\s*[:=]\s*[\"'][^\"'\s]{8,}[\"']"
        ),
    ),
)


@attrs.frozen
class Finding:
    path: str
    line: int | None  # in the new file; None for whole-file findings
    kind: str  # debug, conflict, secret, large, binary, todo
    severity: str  # high, medium, low
    message: str

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _debug_pattern(path: str) -> re.Pattern[str] | None:
    suffix = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
    language = DEBUG_BY_SUFFIX.get(suffix.lower())
    return next((p for name, p in DEBUG if name == language), None)


def _mask(value: str) -> str:
    return value[:4] + "…" if len(value) > 8 else "…"


def added_lines(diff: str) -> Iterable[tuple[str, int, str]]:
    """(path, line in the new file, text) for every added line of a unified diff."""
    path, line = "", 0
    for raw in diff.splitlines():
        if raw.startswith("+++ "):
            target = raw[4:].strip()
            path = target[2:] if target.startswith("b/") else target
            continue
        hunk = _HUNK.match(raw)
        if hunk:
            line = int(hunk.group(1))
            continue
        if raw.startswith("+") and path and path != "/dev/null":
            yield path, line, raw[1:]
            line += 1
        elif raw.startswith(" "):
            line += 1


def _line_findings(path: str, line: int, text: str) -> Iterable[Finding]:
    if CONFLICT.match(text):
        yield Finding(path, line, "conflict", "high", "merge conflict marker")
    for kind, pattern in SECRETS:
        match = pattern.search(text)
        if match:
            yield Finding(
                path, line, "secret", "high", f"possible {kind} ({_mask(match.group(0))})"
            )
            break
    debug = _debug_pattern(path)
    if debug is not None and debug.search(text):
        yield Finding(
            path, line, "debug", "medium", f"leftover debug statement: {text.strip()[:80]}"
        )
    todo = TODO.search(text)
    if todo:
        yield Finding(path, line, "todo", "low", f"new {todo.group(0)}: {text.strip()[:80]}")


def review(
    diff: str,
    numstat: Iterable[tuple[int | None, int | None, str]],
    sizes: Mapping[str, int] | None = None,
    large_lines: int = LARGE_FILE_LINES,
    large_bytes: int = LARGE_FILE_BYTES,
) -> list[Finding]:
    """Findings for the added lines of ``diff``, and for whole files: binary (``numstat``'s
    None), many added lines, or a size (``sizes``, bytes by path) over ``large_bytes``."""
    findings = [
        f for path, line, text in added_lines(diff) for f in _line_findings(path, line, text)
    ]
    large: set[str] = set()
    for added, _deleted, path in numstat:
        if added is None:
            findings.append(Finding(path, None, "binary", "medium", "binary file changed"))
        elif added > large_lines:
            large.add(path)
            findings.append(
                Finding(
                    path,
                    None,
                    "large",
                    "medium",
                    f"{added} lines added to one file (over {large_lines}): generated or vendored?",
                )
            )
    for path, size in sorted((sizes or {}).items()):
        if size > large_bytes and path not in large:
            findings.append(
                Finding(
                    path,
                    None,
                    "large",
                    "medium",
                    f"{size / 1048576:.1f} MiB file (over {large_bytes / 1048576:g} MiB): "
                    "belongs in git?",
                )
            )
    order = {"high": 0, "medium": 1, "low": 2}
    return sorted(findings, key=lambda f: (f.path, f.line or 0, order[f.severity], f.kind))
