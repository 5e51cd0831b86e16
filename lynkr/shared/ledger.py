"""The usage ledger's shared side in Redis: budgets that hold across hosts (``UsageLedger``).

Assumes: ``Link`` for I/O; the local ledger (the key database's SQLite table) stays the record
of this host's usage (``lynkr usage`` reports it); budgets are day or month windows (UTC).
Guarantees: every booking is added, in the background, to Redis counters per key and UTC day
(and per key, session and day), each a hash of ``tokens`` and ``usd`` that lives 40 days.
``load``, awaited before a request's budgets are checked, reads the current month's days of
the key (and of the session) in one script; ``spent`` then sums them, plus what this process
booked since. So a budget spent through any process is seen by the next request anywhere.
While Redis is unreachable (or a sum was never loaded), ``spent`` answers from the local
ledger: budgets then hold across the processes of this host only.
Never: fails a request because Redis is down; waits on Redis in ``spent`` or ``record``.
"""

from __future__ import annotations

from lynkr.governance.budget import window_start
from lynkr.ports import Spend, UsageEntry, UsageLedger, UsageRow
from lynkr.shared.link import Link, Unavailable

DAY = 86_400.0
KEEP_S = 40 * 86_400  # a month's window and some

# KEYS: the key's (or session's) day hashes; returns {tokens, usd} per key, "" when absent
READ = """
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, 'tokens', 'usd')
  out[i] = {v[1] or '0', v[2] or '0'}
end
return out
"""
# KEYS: the day hashes to add to; ARGV: tokens, usd, seconds to keep
ADD = """
for _, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 'tokens', ARGV[1])
  redis.call('HINCRBYFLOAT', key, 'usd', ARGV[2])
  redis.call('EXPIRE', key, ARGV[3])
end
return 1
"""

View = dict[float, list[float]]  # UTC day start -> [tokens, usd]


class RedisLedger:
    def __init__(self, link: Link, local: UsageLedger) -> None:
        self.link, self.local = link, local
        self.views: dict[tuple[str, str | None], View] = {}

    def _name(self, key: str, session: str | None, day: float) -> str:
        parts = ("usage", key or "-", f"{day:.0f}")
        return (
            self.link.key(*parts) if session is None else self.link.key(*parts, "session", session)
        )

    async def load(self, key: str, session: str | None, now: float) -> None:
        today, first = window_start(now, "day"), window_start(now, "month")
        days = [first + DAY * i for i in range(round((today - first) / DAY) + 1)]
        for summed in {None, session}:
            names = tuple(self._name(key, summed, day) for day in days)
            try:
                reply = await self.link.script("ledger", READ, names, ())
            except Unavailable:
                self.views.pop((key, summed), None)  # the local ledger answers meanwhile
                continue
            assert isinstance(reply, list)
            self.views[(key, summed)] = {
                day: [_number(pair[0]), _number(pair[1])]
                for day, pair in zip(days, reply, strict=True)
                if isinstance(pair, list) and len(pair) == 2
            }

    def record(self, entry: UsageEntry) -> None:
        self.local.record(entry)
        day = window_start(entry.at, "day")
        summed = (None, entry.session) if entry.session else (None,)
        for session in summed:
            view = self.views.get((entry.key, session))
            if view is not None:  # what this process booked counts before the next load
                totals = view.setdefault(day, [0.0, 0.0])
                totals[0] += entry.tokens
                totals[1] += entry.cost_usd
        names = [self._name(entry.key, session, day) for session in summed]
        self.link.post(
            "ledger", "EVAL", ADD, len(names), *names, entry.tokens, repr(entry.cost_usd), KEEP_S
        )

    def spent(self, key: str, since: float, session: str | None = None) -> Spend:
        view = self.views.get((key, session))
        if view is None:
            return self.local.spent(key, since, session)
        tokens = sum(t for day, (t, _) in view.items() if day >= since)
        usd = sum(u for day, (_, u) in view.items() if day >= since)
        return Spend(int(tokens), usd)

    def report(self, since: float = 0.0) -> list[UsageRow]:
        return self.local.report(since)


def _number(value: object) -> float:
    return float(value) if isinstance(value, bytes | int) else 0.0
