"""egress: how the answer's events go back to the client (a stream stage, always last).

Assumes: the transport hands it the canonical events of one upstream read at a time.
Guarantees (in the server's egress writer, configured here): events leave in Anthropic order;
with ``coalesce`` the frames of one upstream read go out in one write; the reported model is
the one the client asked for, or the upstream's with ``report_model: upstream``.
Never: delays bytes the client could already have, or changes their content.
"""

from __future__ import annotations

from typing import Literal

import attrs


@attrs.frozen
class EgressConfig:
    coalesce: bool = True
    report_model: Literal["client", "upstream"] = "client"
    # a keep-alive ping after this many seconds of upstream silence (0: never); Anthropic
    # clients get `event: ping`, OpenAI-dialect clients nothing (their formats have none)
    ping_interval_s: float = 10.0
