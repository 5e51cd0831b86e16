"""Workers get the parent's settings, flags included, through hypercorn's application path."""

from __future__ import annotations

import ast
from pathlib import Path

import attrs
import pytest

from lynkr.config.settings import load_settings
from lynkr.server.factory import application_path, create_app


def test_the_application_path_carries_the_settings_intact(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lynkr.server.factory.configure",
                        lambda level, scrub=None: None)  # global logging
    settings = attrs.evolve(load_settings(environ={"PROMPT_CACHE_ENABLED": "false",
                                                   "LYNKR_DB_PATH": str(tmp_path / "db")},
                                          env_file="/nonexistent/.env"),
                            pipeline="max-savings", workers=2)
    path = application_path(settings)
    module, _, call = path.partition(":")
    assert module == "lynkr.server.factory" and call.startswith("create_app(")
    app = create_app(ast.literal_eval(call.removeprefix("create_app(").removesuffix(")")))
    state = app.app.state  # the load shedder wraps the fast paths, which keep the state
    assert state.lynkr.settings == settings
    assert state.lynkr.settings.environ["PROMPT_CACHE_ENABLED"] == "false"
    assert state.lynkr.pipeline.name == "max-savings"
    assert state.lynkr.ports.cache is None  # the overlay reached the worker's pipeline
