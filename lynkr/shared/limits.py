"""Requests and tokens per minute per key, as token buckets in Redis, shared by every process.

Assumes: ``Link`` for I/O; the same bucket rules as ``governance/limits.py`` (capacity = the
per-minute limit, refill limit/60 a second, a request takes one request token, reported tokens
are charged afterwards and may put the token bucket in debt).
Guarantees: each admission is one Lua script, atomic in Redis, so N processes sharing one Redis
admit no more than one process would (the 4-process test: at most 100 of 400 concurrent
requests for a 100 requests/min key, plus what refills while they arrive). Time is Redis's own
clock (``TIME`` inside the script), never a process's, so processes and hosts need not agree.
A bucket expires once it would be full again (a missing bucket is a full one). While Redis is
unreachable the in-process ``LocalLimiter`` decides (each process then enforces the limit on its
own) and the fallback is counted (see ``link.py``).
Never: takes a request token twice for one request (no retries), or fails a request because
Redis is down.
"""

from __future__ import annotations

import math

from lynkr.governance.limits import LocalLimiter
from lynkr.model.limits import Decision, Window
from lynkr.shared.link import Link, Unavailable

# KEYS: the requests bucket, the tokens bucket; ARGV: rpm, tpm (0: no such limit).
# Returns {allowed, wait_s, which, requests level, tokens level} (levels -1: no bucket).
ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function load(key, limit)
  if limit <= 0 then
    redis.call('DEL', key)
    return nil
  end
  local b = redis.call('HMGET', key, 'limit', 'level', 'at')
  if tonumber(b[1]) ~= limit then
    return limit
  end
  return math.min(limit, tonumber(b[2]) + math.max(0, now - tonumber(b[3])) * limit / 60)
end
local function save(key, limit, level)
  redis.call('HSET', key, 'limit', limit, 'level', tostring(level), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((limit - level) * 60000 / limit) + 1000)
end
local rpm, tpm = tonumber(ARGV[1]), tonumber(ARGV[2])
local req, tok = load(KEYS[1], rpm), load(KEYS[2], tpm)
local allowed, wait, which = 1, 0, ''
if req and req < 1 then
  allowed, wait, which = 0, (1 - req) * 60 / rpm, 'requests'
elseif tok and tok <= 0 then
  allowed, wait, which = 0, math.max(-tok * 60 / tpm, 0.001), 'tokens'
elseif req then
  req = req - 1
end
if req then save(KEYS[1], rpm, req) end
if tok then save(KEYS[2], tpm, tok) end
return {allowed, tostring(wait), which, tostring(req or -1), tostring(tok or -1)}
"""

# KEYS: the tokens bucket; ARGV: tokens reported. Only an existing bucket is charged.
CHARGE = """
local b = redis.call('HMGET', KEYS[1], 'limit', 'level', 'at')
if not b[1] then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local limit = tonumber(b[1])
local level = math.min(limit, tonumber(b[2]) + math.max(0, now - tonumber(b[3])) * limit / 60)
level = level - tonumber(ARGV[1])
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((limit - level) * 60000 / limit) + 1000)
return 1
"""


def _window(limit: int | None, level: float) -> Window | None:
    if limit is None or level == -1:
        return None
    return Window(limit, max(0, math.floor(level)), max(0.0, (limit - level) * 60 / limit))


def decision(reply: object, rpm: int | None, tpm: int | None) -> Decision:
    """The ``Decision`` of the admission script's reply."""
    assert isinstance(reply, list) and len(reply) == 5
    allowed, wait, which, requests, tokens = reply
    return Decision(
        allowed == 1,
        float(wait) if allowed != 1 else 0.0,
        which.decode() if which else None,
        _window(rpm, float(requests)),
        _window(tpm, float(tokens)),
    )


class RedisLimiter:
    """The ``RateLimiter`` port on Redis, with ``LocalLimiter`` while Redis is away."""

    def __init__(self, link: Link, local: LocalLimiter | None = None) -> None:
        self.link = link
        self.local = local or LocalLimiter()

    async def admit(self, key: str, rpm: int | None, tpm: int | None, now: float) -> Decision:
        keys = (self.link.key("limit", key, "requests"), self.link.key("limit", key, "tokens"))
        try:
            reply = await self.link.script("limits", ADMIT, keys, (rpm or 0, tpm or 0))
        except Unavailable:
            return await self.local.admit(key, rpm, tpm, now)
        return decision(reply, rpm, tpm)

    def charge(self, key: str, tokens: int, now: float) -> None:
        self.local.charge(key, tokens, now)
        if tokens:
            self.link.post(
                "limits", "EVAL", CHARGE, 1, self.link.key("limit", key, "tokens"), tokens
            )
