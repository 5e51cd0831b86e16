"""From the newest user turn to an FTS5 query that cannot fail, pure.

The original quoted the whole turn as one phrase, which almost never matched. Here each content
word becomes its own quoted term, the terms are OR-ed (bm25 ranks documents matching more and
rarer terms first), stop words are left out, words of four letters or more match as prefixes,
and FTS5's Porter tokenizer stems both sides. Only letters and digits ever reach the query, each
inside double quotes, so no user text can produce FTS5 syntax or a query error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lynkr.stages.memory_injection import turn_text

__all__ = ["STOP_WORDS", "match_expression", "scoped_match", "terms", "turn_text"]

MAX_TERMS = 16
MAX_QUERY_CHARS = 4000  # of the turn's text: a pasted file says little about what to recall
PREFIX_FROM = 4  # letters: shorter words match exactly ("go" must not match "google")
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?")

_STOP_TEXT = """
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing done down during each either else even
ever every few for from further get gets getting give go goes going got had has have having he
her here hers herself him himself his how i if in into is it its itself just know let like
likely make many may me might mine more most much must my myself need no nor not now of off
often on once one only or other our ours ourselves out over own please rather really same say
says she should so some such sure tell than thank thanks that the their theirs them themselves
then there these they thing things think this those though through to too under until up upon
us use used uses using very want wants was we well were what when where whether which while who
whom whose why will with within without would yes yet you your yours yourself yourselves
i'm i've i'd i'll you're you've we're we've it's that's don't doesn't didn't isn't aren't can't
won't shouldn't let's what's
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


def terms(text: str, limit: int = MAX_TERMS) -> tuple[str, ...]:
    """The content words of ``text``, lowercased, first occurrence first, at most ``limit``
    (the longest kept when there are more, in their original order)."""
    seen: dict[str, None] = {}
    for match in _WORD.finditer(text[:MAX_QUERY_CHARS].lower()):
        word = match.group().replace("\u2019", "'")
        if word in STOP_WORDS or (len(word) < 2 and not word.isdigit()):
            continue
        seen.setdefault(word.split("'")[0], None)
    words = list(seen)
    if len(words) > limit:
        keep = set(sorted(words, key=lambda w: (-len(w), words.index(w)))[:limit])
        words = [w for w in words if w in keep]
    return tuple(words)


def _quoted(term: str) -> str:
    body = '"' + term.replace('"', '""') + '"'
    return body + "*" if len(term) >= PREFIX_FROM and not term.isdigit() else body


def match_expression(words: Iterable[str]) -> str | None:
    """The FTS5 MATCH text OR-ing ``words``, or None when there is nothing to look for."""
    quoted = [_quoted(w) for w in words if w]
    return " OR ".join(quoted) if quoted else None


def scoped_match(words: Iterable[str], scope_tokens: Iterable[str]) -> str | None:
    """``match_expression`` restricted to documents whose ``scope`` column holds one of
    ``scope_tokens`` (FTS5 intersects the posting lists: a common word stays cheap at 100k)."""
    expression = match_expression(words)
    if expression is None:
        return None
    owners = " OR ".join(_quoted_exact(t) for t in scope_tokens)
    return f"{{scope}} : ({owners}) AND {{text}} : ({expression})"


def _quoted_exact(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'
