"""``lynkr bench``: replay recorded sessions through pipelines and compare effective cost.

    lynkr bench [--pipeline NAME_OR_PATH ...] [--sessions PATH ...] [--backend openai|ollama]
                [--ablation] [--report FILE.md] [--json FILE]

Sessions: the bundled ones (Claude Code on four coding tasks, a long session that crosses a
compaction threshold, a client with lowercase tool names), or the user's own, recorded by Lynkr
with ``LYNKR_RECORD_DIR``. Every figure is a ratio to ``passthrough`` on the same backend.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs
import orjson

from lynkr.bench import report
from lynkr.bench.cost import PrefixMeter, Totals
from lynkr.bench.replay import BACKENDS, SessionResult, replay, with_stage, without
from lynkr.bench.sessions import Session, find
from lynkr.pipeline.compile import Pipeline, PipelineError, compile_file, resolve
from lynkr.ports import estimate_tokens

NAMED = ("default", "max-savings", "local-only")
BACKEND_FOR = {"local-only": "ollama"}  # the backend a named pipeline is meant for
_ALWAYS = frozenset({"normalize", "route", "map_model", "prompt_cache"})  # never ablated


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lynkr bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--pipeline", action="append", default=[], metavar="NAME_OR_PATH",
                   help=f"a pipeline to measure (default: {', '.join(NAMED)})")
    p.add_argument("--sessions", action="append", default=[], metavar="PATH",
                   help="session files or directories (default: the bundled sessions)")
    p.add_argument("--backend", choices=sorted(BACKENDS),
                   help="the upstream family priced (default: openai; ollama for local-only)")
    p.add_argument("--ablation", action="store_true",
                   help="also each pipeline without each stage, passthrough with each stage")
    p.add_argument("--report", metavar="FILE.md", help="write a Markdown report (+ FILE.svg)")
    p.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    return p


class Progress:
    def __init__(self, total: int, out: TextIO) -> None:
        self.total, self.done, self.out = total, 0, out

    def step(self, what: str) -> None:
        self.done += 1
        filled = round(30 * self.done / max(self.total, 1))
        self.out.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} "
                       f"{what[:40]:<40}")
        if self.done == self.total:
            self.out.write("\n")
        self.out.flush()


@attrs.frozen
class Measured:
    label: str
    backend: str
    results: tuple[SessionResult, ...]

    @property
    def totals(self) -> Totals:
        return sum((r.totals for r in self.results), Totals())


def plan(pipelines: dict[str, Pipeline], backend: str | None, ablation: bool
         ) -> list[tuple[str, str, Pipeline]]:
    """(label, backend, pipeline) to replay: passthrough per backend, each pipeline, and with
    ``ablation`` each pipeline minus one stage and passthrough plus that stage."""
    base = compile_file(resolve("passthrough"))
    runs: list[tuple[str, str, Pipeline]] = []
    backends = {backend or BACKEND_FOR.get(n, "openai") for n in pipelines}
    for b in sorted(backends):
        runs.append((f"passthrough@{b}", b, base))
    for name, pipeline in pipelines.items():
        b = backend or BACKEND_FOR.get(name, "openai")
        runs.append((name, b, pipeline))
        if ablation:
            for stage in dict.fromkeys(s.name for s in pipeline.stages):
                if stage in _ALWAYS:
                    continue
                runs.append((f"{name} - {stage}", b, without(pipeline, stage)))
                runs.append((f"passthrough + {stage} ({name})", b,
                             with_stage(base, pipeline, stage)))
    return runs


def measure(runs: list[tuple[str, str, Pipeline]], sessions: Sequence[Session],
            count: Callable[[str], int], progress: Progress | None) -> dict[str, Measured]:
    meter = PrefixMeter(count)
    out = {}
    for label, backend, pipeline in runs:
        results = []
        for session in sessions:
            results += replay(pipeline, [session], backend, count, meter)
            if progress:
                progress.step(f"{label}: {session.name}")
        out[label] = Measured(label, backend, tuple(results))
    return out


def render(measured: dict[str, Measured], names: list[str], sessions: Sequence[Session],
           ablation: bool) -> tuple[str, dict[str, Any]]:
    def base(m: Measured) -> Measured:
        return measured[f"passthrough@{m.backend}"]

    main = {n: (measured[n].totals, base(measured[n]).totals) for n in names}
    text = ["Effective input cost as a ratio to passthrough (all sessions; lower is better)",
            report.ratio_table(main), ""]
    for index, session in enumerate(sessions):
        rows = {n: (measured[n].results[index].totals, base(measured[n]).results[index].totals)
                for n in names}
        text += [f"Session {session.name} ({len(session.requests)} requests)",
                 report.ratio_table(rows), ""]
    breaks = {**{f"passthrough@{b}": measured[f"passthrough@{b}"].totals
                 for b in sorted({measured[n].backend for n in names})},
              **{n: measured[n].totals for n in names}}
    text += ["Where each request's prefix first differs from the previous request",
             report.breaks_table(breaks), ""]
    missing = {n: [f"{r.name} {m}" for r in measured[n].results for m in r.missing_tools]
               for n in names}
    text += ["Tools removed that the session later calls: " + "; ".join(
        f"{n} {len(v)}" + (f" ({', '.join(v[:4])})" if v else "") for n, v in missing.items()),
        ""]
    if ablation:
        for n in names:
            rows = {label: (m.totals, base(m).totals) for label, m in measured.items()
                    if label == n or label.startswith(f"{n} - ")
                    or label.endswith(f"({n})")}
            text += [f"Per stage, {n}: the pipeline without each stage, and passthrough with "
                     "only that stage", report.ratio_table(rows), ""]
    figures = {label: {"backend": m.backend, "ratios": m.totals.ratios(base(m).totals),
                       "breaks": dict(m.totals.breaks), "raw": m.totals.raw,
                       "sessions": {r.name: r.totals.ratios(br.totals)
                                    for r, br in zip(m.results, base(m).results, strict=True)},
                       "missing_tools": [f"{r.name} {x}" for r in m.results
                                         for x in r.missing_tools]}
               for label, m in measured.items()}
    return "\n".join(text), figures


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parser().parse_args(argv)
    names = args.pipeline or list(NAMED)
    try:
        pipelines = {Path(n).stem if n.endswith((".yaml", ".yml")) else n:
                     compile_file(resolve(n)) for n in names}
        sessions = find(args.sessions)
    except PipelineError as exc:
        print(f"lynkr bench: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, KeyError, TypeError) as exc:  # an unreadable session file
        print(f"lynkr bench: cannot read the sessions ({exc!r})", file=sys.stderr)
        return 2
    if not sessions:
        print("lynkr bench: no sessions found", file=sys.stderr)
        return 2
    runs = plan(pipelines, args.backend, args.ablation)
    progress = Progress(len(runs) * len(sessions), sys.stderr)
    measured = measure(runs, sessions, estimate_tokens, progress)
    text, figures = render(measured, list(pipelines), sessions, args.ablation)
    out.write(text + "\n")
    chart_rows = {n: figures[n]["ratios"] for n in pipelines}
    out.write("\nAnthropic pricing, ratio to passthrough:\n"
              + report.text_chart(chart_rows, "anthropic") + "\n")
    if args.report:
        path = Path(args.report)
        svg = path.with_suffix(".svg")
        svg.write_text(report.svg_chart(chart_rows, "Effective input cost vs passthrough"))
        path.write_text("# Lynkr bench: effective input cost\n\n"
                        f"Sessions: {', '.join(s.name for s in sessions)}. Every figure is a "
                        "ratio to passthrough on the same backend; 'local prefill' is the tokens "
                        "a local server prefills after reusing the previous request's common "
                        f"prefix.\n\n![effective cost]({svg.name})\n\n```\n"
                        + report.text_chart(chart_rows, "gpt-5") + "\n```\n\n" + text + "\n")
        out.write(f"wrote {path} and {svg}\n")
    if args.json:
        Path(args.json).write_text(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    return 0


__all__ = ["main", "measure", "plan", "render"]
