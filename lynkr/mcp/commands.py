"""``lynkr mcp list``: starts every configured MCP server as ``lynkr start`` would, waits until
each is ready or has failed once, prints servers, state, isolation and tools, and stops them.

Exit status 0 when every server is ready and no manifest has a problem, else 1.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
import trio

from lynkr.config.mcp import McpSettings, mcp_settings
from lynkr.config.settings import Env, Settings
from lynkr.mcp.start import load_manifests

if TYPE_CHECKING:
    from lynkr.mcp.box import McpBox


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("mcp", help="MCP servers from the manifests: state and tools")
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser(
        "list",
        help="start each configured server, show its state, isolation and tools, then stop them",
    )
    listing.add_argument("--json", action="store_true", help="one JSON document")


def run(args: argparse.Namespace, settings: Settings) -> int:
    logging.getLogger("lynkr.mcp").setLevel(logging.ERROR)  # the report says it all
    return trio.run(_list, settings.environ, args.json)


def _report(
    box: McpBox | None, settings: McpSettings, problems: list[str], files: list[str]
) -> dict[str, Any]:
    servers = []
    for handle in box.supervisor.handles.values() if box is not None else ():
        spec = handle.spec
        servers.append(
            {
                "name": spec.name,
                "transport": spec.transport,
                "state": handle.state,
                "isolation": handle.isolation_detail,
                "source": spec.source,
                "target": spec.url
                if spec.transport != "stdio"
                else " ".join([spec.command or "", *spec.args]),
                "error": handle.last_error,
                "tools": box.offered(spec.name) if box else [],
            }
        )
    return {
        "manifests": files,
        "manifest_paths": list(settings.manifest_paths),
        "problems": problems,
        "servers": servers,
    }


def _print(report: dict[str, Any]) -> None:
    if not report["manifests"]:
        print(f"no MCP manifest found (looked in: {', '.join(report['manifest_paths'])})")
    else:
        print(f"manifests: {', '.join(report['manifests'])}")
    for problem in report["problems"]:
        print(f"problem: {problem}")
    for server in report["servers"]:
        print(
            f"{server['name']}  {server['transport']}  {server['state']}  "
            f"isolation: {server['isolation']}  ({len(server['tools'])} tools)"
        )
        print(f"  {server['target']}")
        if server["error"]:
            print(f"  error: {server['error']}")
        for tool in server["tools"]:
            print(f"  - {tool}")


async def _list(environ: Mapping[str, str], as_json: bool) -> int:
    settings = mcp_settings(Env(environ))
    manifests = load_manifests(settings, environ)
    box = None
    async with trio.open_nursery() as nursery:
        if manifests.servers:
            from lynkr.mcp.box import McpBox, Supervisor  # the SDK, only for this command

            supervisor = Supervisor(manifests, settings, environ)
            supervisor.start(nursery)
            box = McpBox(supervisor)
            with trio.move_on_after(settings.start_timeout_s + 5):
                await supervisor.wait_settled()
        report = _report(box, settings, [str(p) for p in manifests.problems], list(manifests.files))
        nursery.cancel_scope.cancel()
    if as_json:
        print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    else:
        _print(report)
    ready = all(s["state"] == "ready" for s in report["servers"])
    return 0 if ready and not report["problems"] else 1
