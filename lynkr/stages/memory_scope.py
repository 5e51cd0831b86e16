"""Whose memories a request may see, pure: the user and the workspace.

The user is the identity of the inbound API key when keys are configured (``key_user``), else
the stable part of Claude Code's ``metadata.user_id`` (its account, else its device; never its
per-session id) or any other client's plain ``metadata.user_id`` / OpenAI ``user``, else the
configured default. The workspace is the ``x-lynkr-workspace`` header when sent, else the
working directory the client states: Claude Code's "Primary working directory:" or "Working
directory:" line, Codex's ``<cwd>``; else "" (memories then belong to the user alone).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import orjson

from lynkr.model.content import TextBlock
from lynkr.model.memory import Scope
from lynkr.model.request import Request
from lynkr.stages.exchange import Exchange

WORKSPACE_HEADER = "x-lynkr-workspace"
MAX_ID = 200
_CWD = re.compile(r"(?:Primary working directory|Working directory):[ \t]*(\S[^\n]*)"
                  r"|<cwd>\s*([^<\n]+?)\s*</cwd>")
_WORKING = "orking directory:"  # in both of the regex's labels
_LEAD = len("Primary w")  # how far before ``_WORKING`` a label starts
_SEARCHED_MESSAGES = 3  # the context sits at the start of a conversation


def user_of(request: Request, key_user: str | None, default_user: str) -> str:
    if key_user:
        return f"key:{key_user}"[:MAX_ID]
    raw = (request.metadata or {}).get("user_id")
    if not isinstance(raw, str) or not raw.strip():
        return default_user
    raw = raw.strip()
    if raw.startswith("{"):
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            for field, prefix in (("account_uuid", "account"), ("device_id", "device")):
                value = parsed.get(field)
                if isinstance(value, str) and value:
                    return f"{prefix}:{value}"[:MAX_ID]
            return default_user
    return raw[:MAX_ID]


def workspace_of(request: Request, headers: Mapping[str, str]) -> str:
    header = headers.get(WORKSPACE_HEADER, "").strip()
    if header:
        return _normal(header)
    texts = [block.text for block in request.system]
    for message in request.messages[:_SEARCHED_MESSAGES]:
        texts += [b.text for b in message.content if isinstance(b, TextBlock)]
    for text in texts:
        match = _cwd_in(text)
        if match:
            return _normal(match.group(1) or match.group(2))
    return ""


def _cwd_in(text: str) -> re.Match[str] | None:
    """``_CWD.search(text)``, the same first match, but the regex starts where a match can
    first begin: every match holds one of the literals, which ``str.find`` locates at C speed
    (a 40 KB system prompt costs microseconds, not a regex scan from its first character)."""
    found = [at for at in (text.find(_WORKING), text.find("<cwd>")) if at >= 0]
    if not found:
        return None
    return _CWD.search(text, max(0, min(found) - _LEAD))


def scope_of(request: Request, headers: Mapping[str, str], *, key_user: str | None = None,
             default_user: str = "default") -> Scope:
    """``headers`` with lower-case names."""
    return Scope(user_of(request, key_user, default_user), workspace_of(request, headers))


def exchange_scope(exchange: Exchange, default_user: str) -> Scope:
    """``scope_of`` a request in the pipeline: the key and the header travel in its context."""
    context = exchange.context
    return scope_of(exchange.request, {WORKSPACE_HEADER: context.workspace},
                    key_user=context.user, default_user=default_user)


def _normal(path: str) -> str:
    path = path.strip()
    return path.rstrip("/\\") or path
