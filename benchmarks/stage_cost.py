"""What each stage of a named pipeline costs on the 49 KB Claude Code-shaped request, with a
session store as in production (the second and later turns of a session reuse its decisions).

    python -m benchmarks.stage_cost [--pipeline default] [--rounds 400]

Prints the median and p90 microseconds per stage and for all stages together, interleaving
the pipelines round by round so machine noise hits each alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import orjson
import trio

from benchmarks.request_49k import build_body
from lynkr.bench.replay import parse, ports_for
from lynkr.pipeline.compile import compile_file, resolve
from lynkr.pipeline.runner import run_stages


async def _measure(names: list[str], rounds: int) -> dict[str, dict[str, list[float]]]:
    record = {"path": "/v1/messages", "headers": {"x-claude-code-session-id": "bench"},
              "body": orjson.loads(orjson.dumps(build_body()))}
    pipelines = {n: compile_file(resolve(n)) for n in names}
    ports = {n: ports_for("openai") for n in names}
    out: dict[str, dict[str, list[float]]] = {n: {} for n in names}
    for _ in range(rounds):
        for name, pipeline in pipelines.items():
            _, timings = await run_stages(pipeline, parse(record, 0), ports[name])
            per = out[name]
            for t in timings:
                per.setdefault(t.stage, []).append(t.micros)
            per.setdefault("(all stages)", []).append(sum(t.micros for t in timings))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stage_cost")
    parser.add_argument("--pipeline", action="append", help="default: default, max-savings")
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args(argv)
    names = args.pipeline or ["default", "max-savings"]
    result = trio.run(_measure, names, args.rounds)
    for name, per in result.items():
        print(f"{name} ({args.rounds} rounds, 49 KB request), microseconds: median / p90")
        for stage, values in per.items():
            values.sort()
            p90 = values[int(len(values) * 0.9)]
            print(f"  {stage:<24} {statistics.median(values):8.1f} {p90:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
