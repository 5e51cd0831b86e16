"""What to remember from a finished exchange: the 5-factor surprise heuristic, pure.

Each sentence the user stated (not asked, not ordered) that reads as a preference, decision,
fact, entity or relationship is scored on five factors, each 0..1:

- novelty: the share of its content words that neither earlier turns nor known memories hold;
- contradiction: it corrects or replaces something ("actually", "no longer", "switched to"), or
  restates a known memory's subject with different content;
- specificity: names, numbers, versions, paths, identifiers;
- emphasis: "always", "never", "must", "important", "remember", "!", words in capitals;
- context switch: how far it is from the previous user turn's words.

A statement of a passing state ("the build is broken again", "right now") loses 0.3; one whose
words are (nearly) all known already, contradicting nothing, scores 0.
The weighted sum (0.30, 0.20, 0.20, 0.15, 0.15) plus a prior per kind is the surprise; above
the threshold (``MEMORY_SURPRISE_THRESHOLD``, 0.3) the sentence becomes a ``Candidate`` with
that score as its importance. The assistant's answer contributes only decisions it states for
both ("we'll use X", "decided to ..."). Deterministic: no clock, no randomness, no model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import cast

import attrs

from lynkr.memory.query import STOP_WORDS, terms, turn_text
from lynkr.model.content import TextBlock
from lynkr.model.memory import Candidate, MemoryKind
from lynkr.model.request import Message, Request
from lynkr.stages.memory_injection import newest_turn

WEIGHTS = {"novelty": 0.30, "contradiction": 0.20, "specificity": 0.20, "emphasis": 0.15,
           "context_switch": 0.15}
KIND_PRIOR: dict[MemoryKind, float] = {"preference": 0.15, "decision": 0.15, "fact": 0.05,
                                       "entity": 0.05, "relationship": 0.1}
MIN_WORDS, MAX_CHARS = 4, 400
ALREADY_KNOWN = 0.34  # novelty at or below this, with nothing contradicted: a restatement

# a sentence ends at . ! or ? and a space, except after a title or a common abbreviation
_SENTENCES = re.compile(r"(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bMrs\.)(?<!\bSt\.)"
                        r"(?<!\bvs\.)(?<!\bProf\.)(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\betc\.)"
                        r"(?<=[.!?])\s+|\n+")
_KIND_PATTERNS: tuple[tuple[MemoryKind, re.Pattern[str]], ...] = tuple(
    (cast(MemoryKind, kind), re.compile(pattern, re.IGNORECASE)) for kind, pattern in (
        ("preference", r"\bi (?:really |strongly |usually |generally |always |never )?"
                       r"(?:prefer|like|love|hate|dislike|enjoy|favou?r)\b|\bi'?d rather\b|"
                       r"\bmy (?:favou?rite|preferred|go-to)\b|\bi (?:don't|do not) (?:like|"
                       r"want|use)\b|\b(?:please )?(?:always|never) [a-z]|\bi (?:usually|"
                       r"always|never|tend to) [a-z]|\bworks? best for me\b|\bmy style\b|"
                       r"\b(?:for|with) me\b.*\b(?:best|better)\b|\bi'?m (?:a )?(?:big |huge )?"
                       r"fan of\b|\bi(?:'d| would) like\b|\bi want\b|\bi find\b|"
                       r"^(?:no|only|don't|do not) [a-z]|,? please\.?$"),
        ("decision", r"\b(?:we|i|the team) (?:have |has |'ve )?(?:decided|chose|chosen|agreed|"
                     r"settled on|standardi[sz]ed on|switched|moved|migrated)\b|"
                     r"\b(?:we|i|the team)(?: are|'re| am|'m| is)? standardi[sz]ing on\b|"
                     r"\b(?:let's|we'll|we will|we're going to) (?:go with|use|stick with|"
                     r"switch to|move to|adopt)\b|\bfrom now on\b|\bgoing forward\b|"
                     r"\bdecision\b|^decided\b|\b(?:voted|approved|picked|adopted|agreed)\b|"
                     r"\b(?:we're|we are|we'll be) (?:moving|switching|migrating|dropping|"
                     r"adopting|replacing)\b|\bstick with\b"),
        ("relationship", r"\b(?:is|are) (?:my|our|the) (?:\w+ )?(?:manager|boss|lead|"
                         r"colleague|teammate|owner|maintainer|reviewer|client|customer|"
                         r"partner|wife|husband|sister|brother|friend|cto|ceo|mentor|"
                         r"contact)\b|\breports? to\b|\bworks? (?:with|for|on)\b|\bowns? the\b|"
                         r"\bmaintains? the\b|\bdepends on\b|^[A-Z][a-z]+ (?:and I|leads|"
                         r"manages|mentors|runs|reviews)\b|\b(?:calls|integrates with)\b"),
        ("entity", r"\b(?:is|are) (?:a|an|our|the) (?:\w+ ){0,2}(?:service|library|tool|"
                   r"project|team|company|framework|repo|repository|database|api|app|product|"
                   r"package|module|cluster|server|bus|queue|platform|codename|dashboard|"
                   r"harness|system)\b|\b(?:called|named|codename)\b|\bis the name of\b"),
        ("fact", r"\b(?:my|our|the|this) [\w\- ]{1,40}? (?:is|are|was|uses?|runs? on|lives? in|"
                 r"lives? at|deploys? to|deploys? with|targets?|requires?|has|have|holds?|"
                 r"talks? to)\b|\b(?:i|we) (?:use|run|deploy|work|live|am|have|need|target)\b|"
                 r"\b(?:uses|runs on|is hosted|is deployed|is written in|is built with)\b|"
                 r"\b(?:is|are) (?:tracked|kept|stored|hosted|managed|configured|defined|"
                 r"documented|tagged|built) (?:in|on|with|by|from)\b|\bi'?m based\b|"
                 r"^[A-Z]\w+ (?:live|lives|run|runs|are|is) (?:in|on)\b"),
    ))
# pasted output, code, diffs, logs: never a memory
_PASTED = re.compile(r"^(?:traceback|\$ |diff --git|npm err|error:|warning:|fatal:)|"
                     r"^(?:def|class) \w+\s*[(:]|^from [\w.]+ import |^import [\w.]+\s*$|"
                     r"^(?:select|insert|update|delete)\s.+\b(?:from|into|set|where)\b|"
                     r"^(?:const|let|var) \w+ =|^(?:func|fn) \w+\(|"
                     r"[{};]\s*$|^\s*[{\[<]|\w+\.\w+:\d+", re.IGNORECASE)
_CONTRADICTION = re.compile(
    r"\b(?:actually|no longer|not any ?more|anymore|instead|switched|changed|moved from|"
    r"migrated|replaced|rather than|correction|not .+ but|from now on|no,)\b", re.IGNORECASE)
_EMPHASIS = re.compile(r"\b(?:always|never|must|important|importantly|remember|don't forget|"
                       r"make sure|critical|crucial|absolutely|every time|under no)\b",
                       re.IGNORECASE)
_SPECIFIC = re.compile(r"\b\d[\d.,:x]*\b|\bv\d|[\w-]+/[\w./-]+|\w+\.\w{1,5}\b|`[^`]+`|"
                       r"\b[a-z]+[A-Z]\w*|\b\w+_\w+\b|(?<!^)(?<![.!?] )\b[A-Z][a-zA-Z]+")
_NOT_STATEMENT = re.compile(r"^(?:can|could|would|will|should|do|does|did|is|are|what|why|"
                            r"how|when|where|which|who|please (?!always|never|remember)|"
                            r"let me|fix|run|write|create|add|make|show|explain|tell|help|"
                            r"generate|convert|move|bump|summari[sz]e|undo|open|update|delete|"
                            r"remove|rename|refactor|implement|check|look|find|print|list|"
                            r"change|install|build|debug|test|review|commit|push|merge|revert|"
                            r"lint|document|translate|optimi[sz]e|clean|try|"
                            r"thanks|thank|hi|hello|ok|okay|sure|great|yes|no)\b",
                            re.IGNORECASE)
_TRANSIENT = re.compile(r"\b(?:again|right now|currently|today|at the moment|this time|just now|"
                        r"broken|failing|fails|crash(?:es|ed)?|error|bug|stuck|not working|"
                        r"doesn't work|keeps)\b", re.IGNORECASE)
TRANSIENT_PENALTY = 0.3
_CAPS = re.compile(r"\b[A-Z]{3,}\b")
_SUBJECT_IS = re.compile(r"^(?:my|our|the) ([\w\- ]{2,40}?) (?:is|are|runs on|uses) ",
                         re.IGNORECASE)
_SUBJECT_FOR = re.compile(r"\b(?:prefer|use|go with|switched|moved|migrated|stick with)\b .+? "
                          r"\bfor ([\w\- ]{3,40})$", re.IGNORECASE)


@attrs.frozen
class Surprise:
    novelty: float
    contradiction: float
    specificity: float
    emphasis: float
    context_switch: float
    prior: float = 0.0

    @property
    def total(self) -> float:
        factors = sum(getattr(self, name) * weight for name, weight in WEIGHTS.items())
        return min(1.0, max(0.0, factors + self.prior))


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCES.split(text) if s and s.strip()]


def kind_of(sentence: str) -> MemoryKind | None:
    """The memory type a statement reads as, or None for questions, requests and chat."""
    stripped = sentence.strip()
    if (stripped.endswith("?") or _NOT_STATEMENT.match(stripped) or _PASTED.search(stripped)
            or len(stripped.split()) < MIN_WORDS or len(stripped) > MAX_CHARS):
        return None
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(stripped):
            return kind
    return None


def subject_of(sentence: str) -> str:
    """A key shared by statements about the same thing ("our database is X" and "our database
    is Y"), so the newer replaces the older; "" when there is no clear one."""
    text = sentence.strip().rstrip(".!")
    for pattern in (_SUBJECT_IS, _SUBJECT_FOR):
        match = pattern.search(text)
        if match:
            words = [w for w in terms(match.group(1)) if w not in STOP_WORDS]
            if words:
                return " ".join(words)
    return ""


def score(sentence: str, kind: MemoryKind, known: frozenset[str], previous: frozenset[str],
          known_subjects: frozenset[str] = frozenset()) -> Surprise:
    words = set(terms(sentence, limit=64))
    if not words:
        return Surprise(0, 0, 0, 0, 0)
    novelty = len(words - known) / len(words)
    subject = subject_of(sentence)
    contradiction = 1.0 if _CONTRADICTION.search(sentence) else (
        0.7 if subject and subject in known_subjects else 0.0)
    if novelty <= ALREADY_KNOWN and not contradiction:
        return Surprise(novelty, 0, 0, 0, 0)  # a restatement: nothing to learn
    specificity = min(1.0, len(_SPECIFIC.findall(sentence)) / 3)
    emphasis = min(1.0, (len(_EMPHASIS.findall(sentence)) + sentence.count("!")
                         + len(_CAPS.findall(sentence))) / 2)
    switch = 1.0 if not previous else 1.0 - len(words & previous) / len(words | previous)
    prior = KIND_PRIOR[kind] - (TRANSIENT_PENALTY if _TRANSIENT.search(sentence) else 0.0)
    return Surprise(novelty, contradiction, specificity, emphasis, switch, prior)


def _words_of(messages: Iterable[Message]) -> frozenset[str]:
    return frozenset(w for m in messages for w in terms(turn_text(m), limit=10_000))


def _answer_text(answer: Sequence[object]) -> str:
    return "\n".join(b.text for b in answer if isinstance(b, TextBlock))


def statements(turn: Message, answer: Sequence[object]) -> list[tuple[str, MemoryKind]]:
    """The sentences of the user's ``turn`` that read as a memory of some kind, and the
    decisions stated in the ``answer``: what ``extract`` scores (no history needed)."""
    said = [(s, kind) for s in sentences(turn_text(turn)) if (kind := kind_of(s)) is not None]
    said += [(s, "decision") for s in sentences(_answer_text(answer))
             if kind_of(s) == "decision"]
    return said


def extract(turn: Message, answer: Sequence[object], history: Sequence[Message] = (),
            known: Sequence[str] = (), threshold: float = 0.3,
            said: list[tuple[str, MemoryKind]] | None = None) -> tuple[Candidate, ...]:
    """The candidates worth storing from the user's ``turn`` and the assistant's ``answer``
    (its content blocks), given the earlier ``history`` and the texts of ``known`` memories."""
    found: dict[str, Candidate] = {}
    said = statements(turn, answer) if said is None else said  # given: found already
    if not said:
        return ()  # nothing that reads as a memory: the history need not be read
    known_words = frozenset(w for text in known for w in terms(text, limit=10_000))
    known_subjects = frozenset(s for s in map(subject_of, known) if s)
    users = [m for m in history if m.role == "user"]
    previous = _words_of(users[-1:])
    seen = known_words | _words_of(history)
    for sentence, kind in said:
        if sentence in found:
            continue
        surprise = score(sentence, kind, seen, previous, known_subjects)
        if surprise.total > threshold:
            found[sentence] = Candidate(kind, sentence, round(surprise.total, 3),
                                        subject_of(sentence))
    return tuple(found.values())


def candidates_for(request: Request, answer: Sequence[object], known: Sequence[str] = (),
                   threshold: float = 0.3, said: list[tuple[str, MemoryKind]] | None = None
                   ) -> tuple[Candidate, ...]:
    """``extract`` for a finished exchange: the request's newest typed user turn (with the
    conversation before it as history) and the answer's content blocks."""
    index = newest_turn(request.messages)
    if index is None:
        return ()
    return extract(request.messages[index], answer, request.messages[:index], known, threshold,
                   said)
