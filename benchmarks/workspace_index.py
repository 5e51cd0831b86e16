"""How long the workspace tools take on a real repository: a cold index (every file listed,
read and parsed), a warm refresh (nothing changed: only stat calls), a refresh after one file
changed, symbol search and references; through the box, as the loop calls it.

    python -m benchmarks.workspace_index [ROOT] [--repeat 5] [--json results.json]

ROOT defaults to this repository. Each figure is the median of ``--repeat`` runs, in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trio

from lynkr.config.workspace import WorkspaceSettings
from lynkr.tools.port import ToolContext
from lynkr.tools.workspace import WorkspaceBox, workspace_box

CONTEXT = ToolContext("bench", None, "bench", "", 0.0)


async def _median_ms(work: Callable[[], Awaitable[Any]], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


async def _call(box: WorkspaceBox, name: str, **args: Any) -> dict[str, Any]:
    outcome = await box.run(name, args, CONTEXT)
    if outcome.is_error:
        raise SystemExit(f"{name} failed: {outcome.text}")
    result: dict[str, Any] = json.loads(outcome.text)
    return result


async def measure(root: Path, repeat: int, db: Path) -> dict[str, Any]:
    box = workspace_box(WorkspaceSettings(root=str(root), db_path=str(db)))
    assert box is not None
    ws = box.workspace
    cold = await _median_ms(lambda: ws.refresh_index(full=True), repeat)
    summary = await _call(box, "project_summary")
    warm = await _median_ms(ws.refresh_index, repeat)
    probe = next(p for p in sorted(ws.index.entries) if p.endswith(".py"))
    real = ws.jail.resolve(probe)
    before = real.stat()

    async def touched() -> None:  # a new modification time: parsed again, content unchanged
        os.utime(real, ns=(before.st_atime_ns, time.time_ns()))
        await ws.refresh_index()

    try:
        one_changed = await _median_ms(touched, repeat)
    finally:
        os.utime(real, ns=(before.st_atime_ns, before.st_mtime_ns))
    search = await _median_ms(lambda: _call(box, "workspace_symbol_search", query="run"), repeat)
    references = await _median_ms(
        lambda: _call(box, "workspace_symbol_references", symbol="Settings"), repeat
    )
    box.close()
    return {
        "root": str(root),
        "files": summary["files"],
        "parsers": summary["parsers"],
        "cold_index_ms": cold,
        "warm_refresh_ms": warm,
        "one_file_changed_ms": one_changed,
        "symbol_search_ms": search,
        "references_ms": references,
        "files_per_second_cold": round(summary["files"] / (cold / 1000)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        figures = trio.run(measure, Path(args.root), args.repeat, Path(folder) / "ws.db")
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
