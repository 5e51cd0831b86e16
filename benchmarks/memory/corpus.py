"""A generated memory corpus: many users, two workspaces each, memories from ``frames``, and
questions that paraphrase them, some about facts that changed (the newer must win).

Deterministic for a seed. Personal memories (home city, pet, manager, ...) are stored global,
as a user would mark them, so they are asked about from either workspace.
"""

from __future__ import annotations

import random
import string

import attrs

from benchmarks.memory.frames import FRAMES, SLOTS
from lynkr.memory.surprise import subject_of
from lynkr.model.memory import Candidate, Scope

DAY = 86_400.0
NOW = 1_800_000_000.0
PERSONAL = ("I live in", "I drink", "My dog", "is my manager", "My editor", "commit messages",
            "Keep answers brief")
UPDATE_SHARE = 0.35
MAX_INSTANCES = 3  # a frame about a service may be said about up to three services


@attrs.frozen
class Item:
    scope: Scope
    candidate: Candidate
    created_at: float
    frame: int
    slots: tuple[tuple[str, str], ...]
    superseded: bool = False  # an older fact that a newer item replaced


@attrs.frozen
class Query:
    scope: Scope
    text: str
    target: int  # index of the item that answers it
    older: int | None = None  # the replaced item, which must rank below the target


def _fill(template: str, slots: dict[str, str]) -> str:
    return string.Formatter().vformat(template, (), slots)


def _slots(frame: dict[str, object], rng: random.Random, service: str | None) -> dict[str, str]:
    names = {f for _, f, _, _ in string.Formatter().parse(str(frame["say"])) if f}
    names |= {f for _, f, _, _ in string.Formatter().parse(str(frame.get("update", ""))) if f}
    values = {name: rng.choice(SLOTS[name]) for name in sorted(names) if name in SLOTS}
    if service is not None:
        values["service"] = service
    if "service2" in names:
        values["service2"] = rng.choice([s for s in SLOTS["service"] if s != values["service"]])
    if "old" in names:
        key = next(n for n in ("db", "cloud", "fe") if n in names)
        values["old"] = rng.choice([v for v in SLOTS[key] if v != values[key]])
    return values


def _scope_items(scope: Scope, rng: random.Random, target: int) -> list[Item]:
    items: list[Item] = []
    order = list(range(len(FRAMES)))
    rng.shuffle(order)
    while len(items) < target:
        for index in order:
            frame = FRAMES[index]
            uses_service = "{service}" in str(frame["say"])
            count = rng.randint(1, MAX_INSTANCES) if uses_service else 1
            if any(i.frame == index for i in items) and not uses_service:
                continue
            for service in rng.sample(SLOTS["service"], count) if uses_service else [None]:
                items += _instances(scope, rng, index, service)
            if len(items) >= target:
                break
    return items


def _instances(scope: Scope, rng: random.Random, index: int, service: str | None) -> list[Item]:
    frame = FRAMES[index]
    slots = _slots(frame, rng, service)
    said = _fill(str(frame["say"]), slots)
    personal = any(p in said for p in PERSONAL)
    importance = round(rng.uniform(0.3, 0.9), 2)
    key = tuple(sorted(slots.items()))
    if "update" in frame and rng.random() < UPDATE_SHARE:
        old_slots = {**slots, **{k: slots["old"] for k in ("db", "cloud", "fe") if k in slots}}
        old_text = _fill(str(frame["say"]), old_slots)
        new_text = _fill(str(frame["update"]), slots)
        old = Item(scope, Candidate(frame["kind"], old_text, importance, subject_of(old_text)),
                   NOW - rng.uniform(40, 85) * DAY, index, key, superseded=True)
        new = Item(scope, Candidate(frame["kind"], new_text, round(rng.uniform(0.3, 0.9), 2),
                                    subject_of(new_text)),
                   NOW - rng.uniform(1, 30) * DAY, index, key)
        return [old, new]
    return [Item(scope, Candidate(frame["kind"], said, importance, subject_of(said),
                                  is_global=personal),
                 NOW - rng.uniform(0, 85) * DAY, index, key)]


def generate(size: int, queries: int, seed: int = 14) -> tuple[list[Item], list[Query]]:
    """About ``size`` memories over users with two workspaces each, and ``queries`` questions."""
    rng = random.Random(seed)
    items: list[Item] = []
    user = 0
    while len(items) < size * 1.1:  # a little over: duplicates and repeats are dropped
        for workspace in ("/home/u{0}/app", "/home/u{0}/infra"):
            scope = Scope(f"user-{user}", workspace.format(user))
            items += _scope_items(scope, rng, rng.randint(25, 45))
        user += 1
    items = _dedupe([i for i in items  # personal memories are stated once per user
                     if not (i.candidate.is_global and i.scope.workspace.endswith("/infra"))])
    return items[:size], _queries(items[:size], rng, queries)


def _dedupe(items: list[Item]) -> list[Item]:
    """One item per (user, workspace or global, text), as the store keeps them."""
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for item in items:
        where = "" if item.candidate.is_global else item.scope.workspace
        key = (item.scope.user, where, item.candidate.text)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def _queries(items: list[Item], rng: random.Random, count: int) -> list[Query]:
    older = {(i.scope, i.frame, i.slots): n for n, i in enumerate(items) if i.superseded}
    answerable = [n for n, i in enumerate(items) if not i.superseded]
    updated = [n for n in answerable
               if (items[n].scope, items[n].frame, items[n].slots) in older]
    # a quarter of the questions are about facts that changed, the rest about anything
    chosen = rng.sample(updated, min(len(updated), count // 4))
    chosen += rng.sample([n for n in answerable if n not in set(chosen)], count - len(chosen))
    out = []
    for n in chosen:
        item = items[n]
        frame = FRAMES[item.frame]
        text = _fill(rng.choice(frame["ask"]), dict(item.slots))
        scope = item.scope
        if item.candidate.is_global:  # asked from either workspace
            scope = Scope(scope.user, rng.choice((scope.workspace,
                                                  scope.workspace.replace("/app", "/infra"))))
        out.append(Query(scope, text, n, older.get((item.scope, item.frame, item.slots))))
    return out
