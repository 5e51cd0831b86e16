"""The command line: ``lynkr start | check | pipeline lint FILE | pipeline show [FILE] |
memory ... | keys ... | usage | mcp list | bench ...``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from functools import partial

import attrs
import orjson
import trio
import yaml

from lynkr import __version__
from lynkr.auth import commands as key_commands
from lynkr.check import effective, probe
from lynkr.config.errors import SettingsError
from lynkr.config.secrets import Scrubber, configured_secrets
from lynkr.config.settings import Settings, load_settings, raw_environment
from lynkr.config.variables import environment_warnings
from lynkr.mcp import commands as mcp_commands
from lynkr.memory import commands as memory_commands
from lynkr.observability.logs import configure
from lynkr.pipeline.compile import PipelineError, compile_file, resolve
from lynkr.pipeline.effective import effective_pipeline


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lynkr", description=__doc__)
    parser.add_argument("--version", action="version", version=f"lynkr {__version__}")
    sub = parser.add_subparsers(dest="command")  # none: start, as the original's `lynkr`
    start = sub.add_parser("start", help="serve the proxy")
    start.add_argument("--host", help="address to bind (LYNKR_HOST, default 127.0.0.1)")
    start.add_argument("--port", type=int, help="port (PORT, default 8081)")
    start.add_argument("--workers", type=int, help="processes (LYNKR_WORKERS, default 1)")
    start.add_argument("--pipeline", help="pipeline file or name (LYNKR_PIPELINE)")
    sub.add_parser("check", help="print the effective configuration and probe the provider")
    pipeline = sub.add_parser("pipeline", help="lint or show a pipeline file")
    psub = pipeline.add_subparsers(dest="action", required=True)
    lint = psub.add_parser("lint", help="check a pipeline file; exit 1 on any problem")
    lint.add_argument("file")
    show = psub.add_parser("show", help="print a pipeline normalised, with every parameter")
    show.add_argument("file", nargs="?")
    memory_commands.add_parser(sub)
    key_commands.add_parser(sub)
    mcp_commands.add_parser(sub)
    sub.add_parser("bench", add_help=False,
                   help="replay recorded sessions through pipelines: effective cost")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["bench"]:
        from lynkr.bench.command import main as bench

        return bench(given[1:])
    args = _parser().parse_args(given or ["start"])  # `lynkr` alone serves, as the original's
    try:
        if args.command == "pipeline" and args.action == "lint":
            return _lint(args.file)
        settings = with_flags(load_settings(), args)
        if args.command == "pipeline":
            return _show(settings, args.file)
        if args.command == "check":
            return _check(settings)
        if args.command == "memory":
            return memory_commands.run(args, settings)
        if args.command in ("keys", "usage"):
            return key_commands.run(args, settings)
        if args.command == "mcp":
            return mcp_commands.run(args, settings)
        return _start(settings)
    except (SettingsError, PipelineError) as exc:
        print(f"lynkr: {exc}", file=sys.stderr)
        for warning in environment_warnings(raw_environment()):  # a misspelling may be why
            print(f"lynkr: warning: {warning}", file=sys.stderr)
        return 2


def with_flags(settings: Settings, args: argparse.Namespace) -> Settings:
    """``settings`` with the command line's flags laid over the environment's values."""
    flags = {key: getattr(args, key, None) for key in ("host", "port", "workers", "pipeline")}
    return attrs.evolve(settings, **{k: v for k, v in flags.items() if v is not None})


def _lint(path: str) -> int:
    try:
        pipeline = compile_file(path)
    except PipelineError as exc:
        print(f"lynkr: {exc}", file=sys.stderr)
        return 1  # lint's documented exit code for a file with problems
    print(f"{path}: ok ({len(pipeline.stages) + 1} stages: "
          f"{', '.join(s.name for s in pipeline.stages)}, egress)")
    return 0


def _show(settings: Settings, file: str | None) -> int:
    """The effective pipeline: the file (or LYNKR_PIPELINE) with the environment's overlays."""
    pipeline = effective_pipeline(settings, resolve(file) if file else None)
    print(f"# {pipeline.source}")
    print(yaml.safe_dump(pipeline.describe(), sort_keys=False), end="")
    return 0


def announcements(settings: Settings) -> list[str]:
    """What start-up and ``lynkr check`` say about the environment before anything else: how
    the provider was chosen when MODEL_PROVIDER is not set, and variables that do nothing."""
    lines = [f"provider {settings.model_provider}: {settings.provider_source}"] \
        if settings.provider_source != "MODEL_PROVIDER" else []
    return lines + [f"warning: {w}" for w in environment_warnings(settings.environ)]


def _check(settings: Settings) -> int:
    for line in announcements(settings):
        print(line)
    print(orjson.dumps(effective(settings), option=orjson.OPT_INDENT_2).decode())
    pipeline = effective_pipeline(settings)
    print(f"pipeline: {pipeline.source} ({', '.join(s.name for s in pipeline.stages)})")
    print(f"shared state: {_shared_line(settings)}")
    ok, message = probe(settings.provider)
    print(("ok: " if ok else "FAIL: ") + message)
    return 0 if ok else 1


def _shared_line(settings: Settings) -> str:
    """Where limits, breakers, cache and sessions are shared, and whether Redis answers (a
    Redis that does not is not fatal: the server then serves from local state)."""
    shared = settings.shared
    if shared.redis_url is None:
        return ("sqlite (workers share limits and budgets through the key database's folder)"
                if settings.workers > 1 else "local (this process; budgets in the key database)")
    from lynkr.shared.resp import Address, Pool, RedisDown

    address = Address.parse(shared.redis_url)

    async def ping() -> str:
        pool = Pool(address, 1, shared.timeout_s)
        try:
            return f"answers PING ({(await pool.call('PING'))!r})"
        except RedisDown as exc:
            return f"UNREACHABLE ({exc}): requests would use local state"
        finally:
            await pool.aclose()

    return f"redis {address.shown()}: {trio.run(ping)}"


def _start(settings: Settings) -> int:
    from lynkr.server.app import build_state
    from lynkr.server.serve import hypercorn_config, serve_app

    configure(settings.log_level, Scrubber(configured_secrets(settings)))
    if settings.workers > 1:
        from lynkr.server.workers import metrics_folder, run_workers

        folder = metrics_folder()  # before any metric exists: the workers sum theirs there
    state = build_state(settings)  # compiles the pipeline: its errors stop us here
    config = hypercorn_config(settings)
    provider = settings.provider
    for line in announcements(settings):
        print(f"lynkr: {line}", file=sys.stderr, flush=True)
    print(f"lynkr {__version__}: http://{settings.host}:{settings.port} -> {provider.name} "
          f"{provider.endpoint} (model {provider.model}), pipeline {state.pipeline.name}",
          file=sys.stderr, flush=True)
    if settings.workers > 1:  # the parent's state was built only to validate
        return run_workers(settings, config, folder)
    trio.run(partial(serve_app, state, config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
