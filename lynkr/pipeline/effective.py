"""The effective pipeline: the one function that turns settings into what a server runs.

settings.pipeline (the YAML file or name, ``LYNKR_PIPELINE`` or ``--pipeline``) is compiled,
then the original's environment variables are laid over its stage parameters
(``env_overlay``), then the hybrid-routing settings (``PREFER_OLLAMA``, ``FALLBACK_PROVIDER``)
fill in a route stage that sets no tiers or fallbacks of its own. The server, every worker
process, ``lynkr check`` and ``lynkr pipeline show`` call this and nothing else, so what they
print is what runs.

``load_pipeline`` is the same for a server that may load the file again (hot reload): it reads
the file once and names what it compiled by a hash of those bytes, so a version names exactly
the text that was compiled, even when the file changes again right after.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import attrs

from lynkr.config.routing import RoutingSettings
from lynkr.config.settings import Settings
from lynkr.pipeline.compile import Pipeline, PipelineError, compile_file, compile_text, resolve
from lynkr.pipeline.env_overlay import apply_env
from lynkr.stages.route import RouteConfig
from lynkr.stages.route_rules import Tier


def effective_pipeline(settings: Settings, path: str | Path | None = None) -> Pipeline:
    """The pipeline ``settings`` run: its file (or ``path``), environment overlays, routing."""
    pipeline = compile_file(path if path is not None else resolve(settings.pipeline))
    return overlaid(pipeline, settings)


def overlaid(pipeline: Pipeline, settings: Settings) -> Pipeline:
    return apply_routing(apply_env(pipeline, settings.environ), settings.routing)


@attrs.frozen
class Loaded:
    """An effective pipeline and the file text it was compiled from, by hash."""

    pipeline: Pipeline
    path: Path
    digest: str  # SHA-256 of the file's bytes, hex


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_pipeline(settings: Settings, path: Path | None = None) -> Loaded:
    """``effective_pipeline`` from one read of the file, with the digest of what was read."""
    path = path if path is not None else resolve(settings.pipeline)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PipelineError(str(path), [f"cannot read: {exc.strerror}"]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PipelineError(str(path), [f"{path}: not UTF-8 text ({exc.reason} at byte "
                                        f"{exc.start})"]) from None
    return Loaded(overlaid(compile_text(text, str(path)), settings), path, file_digest(data))


def apply_routing(pipeline: Pipeline, routing: RoutingSettings) -> Pipeline:
    """The route stage with the tiers and fallbacks of PREFER_OLLAMA / FALLBACK_PROVIDER, unless
    the pipeline file sets its own."""
    if not (routing.tiers or routing.fallbacks):
        return pipeline
    stages = []
    for bound in pipeline.stages:
        config = bound.config
        if isinstance(config, RouteConfig) and not config.tiers and not config.fallbacks:
            tiers = tuple(Tier(t.provider, t.max_tools) for t in routing.tiers)
            bound = attrs.evolve(bound, config=attrs.evolve(
                config, tiers=tiers, fallbacks=routing.fallbacks))
        stages.append(bound)
    return attrs.evolve(pipeline, stages=tuple(stages))
