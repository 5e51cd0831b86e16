"""Zero cross-user leaks: two users with personal and secret-like facts, in the same and in
other workspaces, each asking the other's questions, by keywords and with embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lynkr.config.memory import MemorySettings
from lynkr.memory.store import SqliteMemoryStore
from lynkr.model.memory import Candidate, Scope

T0 = 1_700_000_000.0
SHARED = "/srv/shared-checkout"
FACTS = {
    "alice": ("My doctor is Dr. Emma Stone at Riverside clinic",
              "I live at 12 Harbour Road in Lisbon",
              "My daughter Mia goes to Lincoln school",
              "Our payroll export runs on the finance server every Friday",
              "I prefer Python for data processing"),
    "bob": ("My doctor is Dr. Raj Patel at Hillview hospital",
            "I live at 7 Mill Lane in Toronto",
            "My son Leo plays hockey on Tuesdays",
            "Our payroll export runs on the HR server every Monday",
            "I prefer Rust for data processing"),
}
SECRET_LIKE = ("my password is Tr0ub4dor&3 for the VPN",
               "deploy token: ghp_abcdefghijklmnopqrstuvwxyz0123456789",
               "AWS key AKIAIOSFODNN7EXAMPLE for the backups")
QUESTIONS = ("who is my doctor?", "where do I live?", "which school does my kid go to?",
             "when does payroll export run?", "what language for data processing?",
             "what is my password?", "deploy token", "AWS key for backups")


class WordEmbedder:
    """Vectors from hashed words: similar wording, similar vectors, for any text."""

    model = "test:words"

    async def embed_texts(self, texts: Sequence[str]) -> list[Sequence[float]]:
        out = []
        for text in texts:
            vector = [0.0] * 64
            for word in text.lower().split():
                vector[hash(word.strip("?.,")) % 64] += 1.0
            out.append([v + 0.001 for v in vector])
        return out


def scopes(user: str) -> list[Scope]:
    return [Scope(user, SHARED), Scope(user, f"/home/{user}/app"), Scope(user, "")]


async def filled(tmp_path: Path, embedder: WordEmbedder | None) -> SqliteMemoryStore:
    store = SqliteMemoryStore(tmp_path / "memory.db", MemorySettings(), embedder=embedder)
    for user, facts in FACTS.items():
        for scope in scopes(user):
            await store.remember(scope, [Candidate("fact", f, 0.9) for f in facts], T0)
            await store.remember(scope, [Candidate("fact", s, 0.9) for s in SECRET_LIKE], T0)
        await store.remember(Scope(user, SHARED),
                             [Candidate("preference", f"{user} likes dark mode", 0.9,
                                        is_global=True)], T0)
    return store


@pytest.mark.parametrize("embedder", [None, WordEmbedder()], ids=["fts5", "fused"])
async def test_each_user_recalls_only_their_own(tmp_path: Path,
                                                embedder: WordEmbedder | None) -> None:
    store = await filled(tmp_path, embedder)
    for user, facts in FACTS.items():
        other = next(u for u in FACTS if u != user)
        for scope in scopes(user):
            for question in (*QUESTIONS, *FACTS[other], f"{other} likes dark mode"):
                recalled = await store.recall(scope, question, 10, T0)
                assert all(r.memory.user == user for r in recalled), (scope, question)
                assert not any(r.memory.text in FACTS[other] for r in recalled)
        own = await store.recall(Scope(user, SHARED), "who is my doctor", 5, T0)
        assert own and own[0].memory.text == facts[0]  # the test can see a hit
    store.close()


async def test_secret_like_facts_never_reach_the_database(tmp_path: Path) -> None:
    store = await filled(tmp_path, None)
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("memory.db"))
    for secret in ("Tr0ub4dor", "ghp_abcdef", "AKIAIOSFODNN7EXAMPLE"):
        assert secret.encode() not in raw
    assert b"Riverside clinic" in raw  # the ordinary facts are there


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(" ".join(FACTS["alice"]).split()), min_size=1,
                      max_size=6),
       noise=st.text(max_size=20))
def test_any_question_built_from_another_users_words_leaks_nothing(
        tmp_path_factory: pytest.TempPathFactory, words: list[str], noise: str) -> None:
    path = tmp_path_factory.mktemp("leak")

    async def check() -> None:
        store = await filled(path, WordEmbedder())
        for scope in scopes("bob"):
            recalled = await store.recall(scope, " ".join(words) + noise, 10, T0)
            assert all(r.memory.user == "bob" for r in recalled)
        store.close()

    trio.run(check)
