"""An app factory for hypercorn's multi-process mode (``lynkr start --workers N``).

Hypercorn spawns each worker and loads ``application_path`` there. The parent's settings
(environment, ``.env`` and command-line flags such as ``--pipeline``) travel inside that path as
one encoded value, so every worker runs exactly what the parent validated and announced,
instead of rebuilding its settings from the environment alone.
"""

from __future__ import annotations

import base64
import pickle

from lynkr.config.secrets import Scrubber, configured_secrets
from lynkr.config.settings import Settings
from lynkr.observability.logs import configure
from lynkr.server.app import build_app, build_state
from lynkr.server.shedding import LoadShedder


def application_path(settings: Settings) -> str:
    """Hypercorn's ``application_path`` that builds the app of ``settings`` in a worker."""
    encoded = base64.b64encode(pickle.dumps(settings)).decode("ascii")
    return f"lynkr.server.factory:create_app({encoded!r})"


def create_app(encoded: str) -> LoadShedder:
    # our own value, written by the parent process a moment ago (see application_path)
    settings = pickle.loads(base64.b64decode(encoded))
    if not isinstance(settings, Settings):
        raise TypeError("lynkr worker: the encoded value is not Settings")
    configure(settings.log_level, Scrubber(configured_secrets(settings)))
    return build_app(build_state(settings))
