"""output_limits: a provider's model list in, each model's output limit out."""

from __future__ import annotations

from typing import Any

import pytest

from lynkr.formats.model_list import output_limits


@pytest.mark.parametrize(("listing", "expected"), [
    pytest.param({"data": [{"id": "deepseek/deepseek-r1", "context_length": 163840,
                            "top_provider": {"context_length": 163840,
                                             "max_completion_tokens": 32768}}]},
                 {"deepseek/deepseek-r1": 32768}, id="openrouter"),
    pytest.param({"data": [{"id": "a", "max_completion_tokens": 100},
                           {"id": "b", "max_output_tokens": 200}]},
                 {"a": 100, "b": 200}, id="top-level-fields"),
    pytest.param({"data": [{"id": "x", "context_length": 8192},
                           {"id": "y", "top_provider": {"max_completion_tokens": None}}]},
                 {}, id="context-length-is-not-an-output-limit"),
    pytest.param({"data": [{"id": "z", "max_output_tokens": True}, {"max_output_tokens": 5},
                           "junk", {"id": "w", "max_output_tokens": -1}]}, {}, id="junk"),
    pytest.param({"models": []}, {}, id="not-a-list"),
    pytest.param([], {}, id="not-an-object"),
])
def test_output_limits(listing: Any, expected: dict[str, int]) -> None:
    assert output_limits(listing) == expected
