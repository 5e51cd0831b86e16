"""Token savings of Lynkr's named pipelines on real Claude Code sessions.

    python -m benchmarks.token_savings [--quick] [--json PATH] [--sessions DIR]
                                       [--pipeline NAME=PATH ...] [--no-e2e]

1. Record: runs the real Claude Code CLI through Lynkr (``passthrough``) against a scripted fake
   model for each scenario in ``scenarios.py``, keeping every Anthropic request Lynkr received
   and every upstream body. The recording (which holds the CLI's own prompt text) goes to a
   temporary directory that is deleted at the end, or to ``--sessions DIR`` (outside the
   repository) where a later run reuses it.
2. Replay: sends each recorded request through Lynkr running each named pipeline found
   (passthrough, default, max-savings, local-only) and counts the upstream input tokens; then
   the headline, effective cost once prompt caches are counted (``lynkr.bench``: each pricing
   rule, local prefill, where prefixes break, tools removed that a session later calls).
3. End to end: re-runs every scenario live with each optimizing pipeline and checks the result
   in the workspace; a task that breaks is a failed optimization.

See benchmarks/README.md, "Token savings", for what is measured.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))  # tests/harness: fake model, servers, CLI finder
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.token_savings import scenarios as sc  # noqa: E402
from benchmarks.token_savings.live import LiveRun, run_live  # noqa: E402
from benchmarks.token_savings.replay import replay, upstream_text  # noqa: E402

NAMED = ("passthrough", "default", "max-savings", "local-only")
# effective cost against passthrough: under every pricing rule, and the local prefill
GOALS = {"default": (0.80, 0.90), "max-savings": (0.60, 0.70)}
DIALECT = {"local-only": "ollama"}  # the upstream a pipeline is meant for


def find_pipelines(overrides: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """{name: path} of the named pipelines in pipelines/ (or given), and notes on the rest."""
    found: dict[str, str] = {}
    notes: list[str] = []
    for name in NAMED:
        named = ROOT / "pipelines" / f"{name}.yaml"
        if name in overrides:
            found[name] = overrides[name]
            notes.append(f"{name}: from {overrides[name]} (given on the command line)")
        elif named.exists():
            found[name] = str(named)
        else:
            notes.append(f"{name}: pipelines/{name}.yaml does not exist; skipped")
    for name, path in overrides.items():
        if name not in found:
            found[name] = path
    return found, notes


def token_counter() -> tuple[Callable[[str], int], str]:
    """The counter Lynkr itself uses (its Ports' count_tokens, as built at start-up)."""
    from lynkr.config.settings import load_settings
    from lynkr.pipeline.compile import compile_file
    from lynkr.server.app import build_state
    settings = load_settings(environ={"MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "x",
                                      "OPENAI_ENDPOINT": "http://127.0.0.1:9/v1",
                                      "OPENAI_MODEL": "fake-model",
                                      "LYNKR_DB_PATH": tempfile.mktemp(suffix=".db")},
                             env_file="/nonexistent/.env")
    state = build_state(settings, compile_file(ROOT / "pipelines" / "passthrough.yaml"))
    fn = state.ports.count_tokens
    name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
    return fn, name


# -- record ----------------------------------------------------------------------------------

def record(names: list[str], sessions_dir: Path, scratch: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        path = sessions_dir / f"{name}.json"
        if path.exists():
            out[name] = json.loads(path.read_text())
            print(f"  {name}: reusing {path} ({len(out[name]['anthropic'])} requests)")
            continue
        run = run_live(sc.SCENARIOS[name], "passthrough", scratch / f"record-{name}")
        data = {"scenario": name, "pipeline": "passthrough", "anthropic": run.anthropic,
                "upstream": run.upstream, "results": run.results, "failure": run.failure,
                "seconds": run.seconds}
        path.write_text(json.dumps(data))
        out[name] = data
        print(f"  {name}: {len(run.anthropic)} requests, "
              f"{'ok' if run.failure is None else 'FAILED: ' + run.failure} "
              f"({run.seconds:.1f} s)")
    return out


# -- report ----------------------------------------------------------------------------------

def pct(base: int, value: int) -> str:
    return f"{100 * (base - value) / base:5.1f}%" if base else "  n/a"


def table(headers: list[str], rows: list[list[str]], left: int = 1) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(str(c).rjust(w) if i >= left else str(c).ljust(w)
                              for i, (c, w) in enumerate(zip(r, widths, strict=True))) + " |"
            for r in rows]
    return "\n".join([line, rule, *body])


def summarise(replays: dict[str, dict[str, list[dict[str, Any]]]], live: dict[str, Any],
              names: list[str]) -> dict[str, Any]:
    pipelines = list(replays)
    summary: dict[str, Any] = {"sessions": {}, "total": {}, "stages": {}}
    for name in [*names, "TOTAL"]:
        entry: dict[str, Any] = {}
        for p in pipelines:
            rows = [r for s in (names if name == "TOTAL" else [name]) for r in replays[p][s]]
            last = replays[p][name][-1] if name != "TOTAL" else None
            entry[p] = {"requests": len(rows),
                        "main_requests": sum(r["main"] for r in rows),
                        "upstream_tokens": sum(r["upstream_tokens"] for r in rows),
                        "upstream_bytes": sum(r["upstream_bytes"] for r in rows),
                        "upstream_calls": sum(r["upstream_calls"] for r in rows),
                        "errors": sum(r["status"] != 200 for r in rows),
                        "tokens_removed_header": sum(r["tokens_removed_header"] for r in rows),
                        "last_request_tokens": last["upstream_tokens"] if last else None}
        base = entry.get("passthrough", {}).get("upstream_tokens", 0)
        for p in pipelines:
            value = entry[p]["upstream_tokens"]
            entry[p]["saving_pct"] = round(100 * (base - value) / base, 2) if base else None
        (summary["sessions"].__setitem__(name, entry) if name != "TOTAL"
         else summary.__setitem__("total", entry))
    for p in pipelines:
        stages: dict[str, dict[str, Any]] = {}
        for rows in replays[p].values():
            for r in rows:
                for stage, removed in r["stage_tokens"].items():
                    s = stages.setdefault(stage, {"tokens_removed": 0, "requests_changed": 0,
                                                  "header_tokens": 0})
                    s["tokens_removed"] += removed
                    s["requests_changed"] += removed > 0
                    s["header_tokens"] += r["stage_tokens_header"].get(stage) or 0
        summary["stages"][p] = stages
    summary["e2e"] = live
    summary["_replays"] = replays
    return summary


def summary_rows(summary: dict[str, Any], pipeline: str) -> list[list[dict[str, Any]]]:
    return list(summary["_replays"][pipeline].values())


def render(summary: dict[str, Any], names: list[str], pipelines: list[str],
           counter_name: str) -> str:
    out: list[str] = []
    others = [p for p in pipelines if p != "passthrough"]
    headers = ["session", "requests", "passthrough"]
    for p in others:
        headers += [p, "saving"]
    rows = []
    for name in [*names, "TOTAL"]:
        entry = summary["total"] if name == "TOTAL" else summary["sessions"][name]
        base = entry["passthrough"]["upstream_tokens"]
        row = [name, str(entry["passthrough"]["requests"]), f"{base:,}"]
        for p in others:
            value = entry[p]["upstream_tokens"]
            row += [f"{value:,}" + (f" ({entry[p]['errors']} err)" if entry[p]["errors"] else ""),
                    pct(base, value)]
        rows.append(row)
    out += [f"Upstream input tokens per session (sum over every request; counter: "
            f"{counter_name})", table(headers, rows), ""]
    rows = []
    for name in names:
        entry = summary["sessions"][name]
        base = entry["passthrough"]["last_request_tokens"]
        rows.append([name, str(entry["passthrough"]["requests"]), f"{base:,}",
                     *[x for p in others for x in (f"{entry[p]['last_request_tokens']:,}",
                                                   pct(base, entry[p]['last_request_tokens']))]])
    out += ["The last request of each session (the longest history)", table(headers, rows), ""]
    total = summary["total"]
    base_b = total["passthrough"]["upstream_bytes"]
    out += ["Upstream bytes, all sessions: " + ", ".join(
        f"{p} {total[p]['upstream_bytes']:,} ({pct(base_b, total[p]['upstream_bytes']).strip()})"
        for p in pipelines), ""]
    rows = []
    kinds = ("tools", "system", "tool_results", "conversation")
    for p in pipelines:
        comp = {k: sum(r["composition"].get(k, 0) for rows_ in summary_rows(summary, p)
                       for r in rows_) for k in kinds}
        whole = sum(comp.values()) or 1
        rows.append([p, *(f"{comp[k]:,} ({100 * comp[k] / whole:.0f}%)" for k in kinds)])
    out += ["Where the upstream input tokens are (all sessions)",
            table(["pipeline", "tool schemas", "system text", "tool results",
                   "rest of conversation"], rows), ""]
    rows = []
    for p in pipelines:
        for stage, s in sorted(summary["stages"][p].items(), key=lambda kv: -kv[1]
                               ["tokens_removed"]):
            if s["tokens_removed"] or s["requests_changed"]:
                rows.append([p, stage, f"{s['tokens_removed']:,}",
                             f"{s['requests_changed']}/{total[p]['requests']}"])
        rows.append([p, "(x-lynkr-tokens-removed, summed)",
                     f"{total[p]['tokens_removed_header']:,}", ""])
    out += ["Tokens removed per stage (stage notes of the same requests; all sessions)",
            table(["pipeline", "stage", "tokens removed", "requests changed"], rows, left=2), ""]
    e2e = summary["e2e"]
    if e2e:
        live_pipes = sorted({p for runs in e2e.values() for p in runs},
                            key=lambda p: list(NAMED).index(p) if p in NAMED else 99)
        rows = []
        for name in names:
            row = [name]
            for p in live_pipes:
                run = e2e[name].get(p)
                row.append("-" if run is None else
                           (f"PASS ({run['model_calls']} calls, {run['upstream_tokens']:,} tok)"
                            if run["failure"] is None else "FAIL"))
            rows.append(row)
        out += ["", "End to end: the real CLI re-runs each task live (PASS = the workspace "
                "check holds)", table(["session", *live_pipes], rows, left=99)]
        for name in names:
            for p in live_pipes:
                run = e2e[name].get(p)
                if run and run["failure"]:
                    out.append(f"  FAIL {name} / {p}: {run['failure'][:400]}")
    return "\n".join(out)


def _live_entry(run: LiveRun | dict[str, Any], count: Callable[[str], int]) -> dict[str, Any]:
    upstream = run.upstream if isinstance(run, LiveRun) else run["upstream"]
    failure = run.failure if isinstance(run, LiveRun) else run["failure"]
    seconds = run.seconds if isinstance(run, LiveRun) else run["seconds"]
    return {"failure": failure, "model_calls": len(upstream), "seconds": round(seconds, 1),
            "upstream_tokens": sum(count(upstream_text(b)) for b in upstream)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.token_savings")
    parser.add_argument("--quick", action="store_true",
                        help=f"only the sessions {', '.join(sc.QUICK)}")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--sessions", metavar="DIR",
                        help="keep the recording here (outside the repository) and reuse it")
    parser.add_argument("--pipeline", action="append", default=[], metavar="NAME=PATH",
                        help="measure this pipeline file under NAME (adds or replaces)")
    parser.add_argument("--no-e2e", action="store_true", help="skip the live re-runs")
    parser.add_argument("--scenario", action="append", choices=sorted(sc.SCENARIOS),
                        help="only these sessions")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    names = args.scenario or (list(sc.QUICK) if args.quick else list(sc.SCENARIOS))
    overrides = dict(item.split("=", 1) for item in args.pipeline)
    pipelines, notes = find_pipelines(overrides)
    if "passthrough" not in pipelines:
        print("pipelines/passthrough.yaml is missing: nothing to compare against")
        return 2
    count, counter_name = token_counter()
    scratch = Path(tempfile.mkdtemp(prefix="lynkr-token-savings-"))
    if args.sessions:
        sessions_dir = Path(args.sessions).resolve()
        if sessions_dir == ROOT or ROOT in sessions_dir.parents:
            print("--sessions must be outside the repository (it holds the CLI's prompt text)")
            return 2
        sessions_dir.mkdir(parents=True, exist_ok=True)
    else:
        sessions_dir = scratch / "sessions"
        sessions_dir.mkdir()
    try:
        for note in notes:
            print("note:", note)
        print(f"pipelines: {', '.join(f'{n} ({p})' for n, p in pipelines.items())}")
        print("recording (passthrough, real Claude Code CLI) ...")
        recorded = record(names, sessions_dir, scratch)
        sessions = {n: recorded[n]["anthropic"] for n in names}
        replays = {}
        for p, path in pipelines.items():
            t0 = time.perf_counter()
            replays[p] = replay(path, sessions, scratch / f"replay-{p}", count,
                                DIALECT.get(p, "openai"))
            print(f"replayed {sum(map(len, sessions.values()))} requests through {p} "
                  f"({time.perf_counter() - t0:.1f} s)")
        live: dict[str, dict[str, Any]] = {n: {"passthrough": _live_entry(recorded[n], count)}
                                           for n in names}
        if not args.no_e2e:
            for p, path in pipelines.items():
                if p == "passthrough":
                    continue
                for n in names:
                    run = run_live(sc.SCENARIOS[n], path, scratch / f"e2e-{p}-{n}",
                                   DIALECT.get(p, "openai"))
                    live[n][p] = _live_entry(run, count)
                    print(f"e2e {n} / {p}: "
                          f"{'PASS' if run.failure is None else 'FAIL'} ({run.seconds:.1f} s)")
        summary = summarise(replays, live, names)
        print()
        print(render(summary, names, list(pipelines), counter_name))
        print()
        effective, figures = _effective(pipelines, recorded, names)
        print(effective)
        summary["effective"] = figures
        elapsed = time.perf_counter() - started
        print(f"\n({elapsed:.0f} s)")
        if args.json:
            commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                    capture_output=True, text=True, check=False).stdout.strip()
            cli = _cli_version()
            meta = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                    "commit": commit, "claude_code": cli, "counter": counter_name,
                    "pipelines": pipelines, "notes": notes, "sessions": names,
                    "seconds": round(elapsed, 1)}
            detail = {p: {n: [{k: v for k, v in r.items()} for r in rows]
                          for n, rows in by.items()} for p, by in replays.items()}
            summary.pop("_replays", None)
            Path(args.json).write_text(json.dumps({"meta": meta, "summary": summary,
                                                   "requests": detail}, indent=1))
            print(f"wrote {args.json}")
        failed = any(run["failure"] for runs in live.values() for run in runs.values())
        return 1 if failed else 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _effective(pipelines: dict[str, str], recorded: dict[str, dict[str, Any]],
               names: list[str]) -> tuple[str, dict[str, Any]]:
    """The effective-cost report of ``lynkr bench`` over this run's recordings."""
    from lynkr.bench.command import measure, plan
    from lynkr.bench.command import render as render_effective
    from lynkr.bench.sessions import Session
    from lynkr.pipeline.compile import compile_file
    from lynkr.ports import estimate_tokens

    sessions = [Session(n, sc.SCENARIOS[n].description,
                        tuple({"path": "/v1/messages", **r} for r in recorded[n]["anthropic"]))
                for n in names]
    chosen = {n: compile_file(p) for n, p in pipelines.items() if n != "passthrough"}
    measured = measure(plan(chosen, None, False), sessions, estimate_tokens, None)
    text, figures = render_effective(measured, list(chosen), sessions, False)
    lines = [text]
    for name, (priced, local) in GOALS.items():
        if name not in figures:
            lines.append(f"Goal {name}: pipeline not found, not measured")
            continue
        ratios = figures[name]["ratios"]
        worst = max(v for k, v in ratios.items() if k not in ("raw", "local prefill"))
        met = worst <= priced and ratios["local prefill"] <= local
        lines.append(f"Goal {name}: effective cost <= {priced:.2f} under every pricing rule "
                     f"(worst {worst:.2f}) and local prefill <= {local:.2f} "
                     f"({ratios['local prefill']:.2f}): {'MET' if met else 'NOT MET'}")
    return "\n".join(lines), figures


def _cli_version() -> str:
    from harness.claude_cli import find_claude
    binary = find_claude()
    if not binary:
        return "?"
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30,
                          check=False)
    return done.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
