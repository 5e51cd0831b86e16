"""The usage ledger on SQLite (the ``UsageLedger`` port): the key database's ``usage`` table.

One row per key, UTC day, session and model, added to as answers report usage (an upsert, so
the table grows with sessions and days, not with requests). Every process on the file shares
it: budgets hold across ``--workers`` and servers on one host. Sums for a budget read one
key's rows from a day on (the primary key's prefix), or one session's (its index).
"""

from __future__ import annotations

import apsw

from lynkr.governance.budget import window_start
from lynkr.model.events import Usage
from lynkr.ports import Spend, UsageEntry, UsageRow

_RECORD = """
INSERT INTO usage (key, day_start, session, model, requests, input_tokens, output_tokens,
                   cache_read_tokens, cache_write_tokens, tokens, cost_usd)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key, day_start, session, model) DO UPDATE SET
    requests = requests + excluded.requests,
    input_tokens = input_tokens + excluded.input_tokens,
    output_tokens = output_tokens + excluded.output_tokens,
    cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
    cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
    tokens = tokens + excluded.tokens,
    cost_usd = cost_usd + excluded.cost_usd
"""
_REPORT = """
SELECT key, model, day_start, SUM(requests), SUM(input_tokens), SUM(output_tokens),
       SUM(cache_read_tokens), SUM(cache_write_tokens), SUM(tokens), SUM(cost_usd)
FROM usage WHERE day_start >= ? GROUP BY key, model, day_start ORDER BY day_start, key, model
"""


class SqliteLedger:
    """``UsageLedger`` on an open key database (``KeyStore.db``; its migrations made the
    table)."""

    def __init__(self, db: apsw.Connection) -> None:
        self.db = db

    async def load(self, key: str, session: str | None, now: float) -> None:
        return None  # the file is the shared state: nothing to bring close

    def record(self, entry: UsageEntry) -> None:
        u = entry.usage
        self.db.execute(
            _RECORD,
            (
                entry.key,
                window_start(entry.at, "day"),
                entry.session,
                entry.model,
                entry.requests,
                u.input_tokens,
                u.output_tokens,
                u.cache_read_input_tokens,
                u.cache_creation_input_tokens,
                entry.tokens,
                entry.cost_usd,
            ),
        )

    def spent(self, key: str, since: float, session: str | None = None) -> Spend:
        if session is None:
            row = self.db.execute(
                "SELECT SUM(tokens), SUM(cost_usd) FROM usage WHERE key = ? AND day_start >= ?",
                (key, since),
            ).fetchone()
        else:
            row = self.db.execute(
                "SELECT SUM(tokens), SUM(cost_usd) FROM usage WHERE "
                "session = ? AND day_start >= ? AND key = ?",
                (session, since, key),
            ).fetchone()
        tokens, usd = row if row is not None else (0, 0.0)
        return Spend(int(tokens or 0), float(usd or 0.0))

    def report(self, since: float = 0.0) -> list[UsageRow]:
        return [
            UsageRow(
                str(key),
                str(model),
                float(day),
                int(requests),
                Usage(
                    input_tokens=int(i),
                    output_tokens=int(o),
                    cache_creation_input_tokens=int(cw),
                    cache_read_input_tokens=int(cr),
                ),
                int(tokens),
                float(usd),
            )
            for key, model, day, requests, i, o, cr, cw, tokens, usd in self.db.execute(
                _REPORT, (since,)
            )
        ]
