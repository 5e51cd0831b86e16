"""The optional model-written extraction (``MEMORY_MODEL_EXTRACTION``, off by default), pure:
the request that asks a model what to remember, and the parser of its answer.

The call itself goes through the configured provider after the response has reached the client
(wired with the stream taps). The parser accepts a JSON array, alone or in a code fence or among
prose, and skips every item it cannot use, so a model's answer can never fail an extraction.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from lynkr.model.content import TextBlock
from lynkr.model.memory import KINDS, Candidate
from lynkr.model.request import Message, Request

MAX_ITEMS = 5
MAX_TEXT = 300
INSTRUCTIONS = (
    "You maintain a long-term memory about a user of a coding assistant. From the exchange "
    "below, list only what is worth remembering in later conversations: the user's stated "
    "preferences, decisions taken, durable facts about their projects, named entities and "
    "relationships between people, teams and systems. Leave out questions, requests, passing "
    "states (a failing build), anything the assistant merely suggested, and every secret "
    "(keys, tokens, passwords). Answer with a JSON array only, at most 5 items, each "
    '{"type": "preference|decision|fact|entity|relationship", "text": "one self-contained '
    'sentence", "importance": 0.0-1.0, "subject": "a short key for what it is about"}. '
    "Answer [] when nothing is worth remembering.")
_ARRAY = re.compile(r"\[.*\]", re.DOTALL)


def extraction_request(user_text: str, answer_text: str, model: str,
                       max_tokens: int = 600) -> Request:
    exchange = (f"<user>\n{user_text.strip()}\n</user>\n"
                f"<assistant>\n{answer_text.strip()}\n</assistant>")
    return Request(model=model, max_tokens=max_tokens, temperature=0.0,
                   system=(TextBlock(INSTRUCTIONS),),
                   messages=(Message("user", (TextBlock(exchange),)),))


def parse_extraction(answer: str) -> tuple[Candidate, ...]:
    match = _ARRAY.search(answer)
    if match is None:
        return ()
    try:
        items = orjson.loads(match.group())
    except orjson.JSONDecodeError:
        return ()
    if not isinstance(items, list):
        return ()
    found = [c for c in map(_candidate, items) if c is not None]
    return tuple(found[:MAX_ITEMS])


def _candidate(item: Any) -> Candidate | None:
    if not isinstance(item, dict):
        return None
    kind, text = item.get("type"), item.get("text")
    if kind not in KINDS or not isinstance(text, str) or not text.strip():
        return None
    importance = item.get("importance", 0.5)
    if isinstance(importance, bool) or not isinstance(importance, int | float):
        importance = 0.5
    subject = item.get("subject")
    return Candidate(kind, " ".join(text.split())[:MAX_TEXT],
                     min(1.0, max(0.0, float(importance))),
                     " ".join(subject.lower().split())[:80] if isinstance(subject, str) else "")
