"""An app factory for hypercorn's multi-process mode (``lynkr start --workers N``)."""

from __future__ import annotations

from lynkr.config.secrets import Scrubber, configured_secrets
from lynkr.config.settings import load_settings
from lynkr.observability.logs import configure
from lynkr.server.app import build_app, build_state
from lynkr.server.shedding import LoadShedder


def create_app() -> LoadShedder:
    settings = load_settings()
    configure(settings.log_level, Scrubber(configured_secrets(settings)))
    return build_app(build_state(settings))
