"""Shared by the format tests: the golden byte streams under tests/golden/."""

import contextlib
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parents[2] / "golden"

# When a property fails, Hypothesis's pytest plugin imports its patch writer, which imports
# libcst → mypy_extensions.TypedDict, which warns; under ``filterwarnings = error`` that turns
# the failure report into an INTERNALERROR. Import it once here with that warning silenced.
with warnings.catch_warnings(), contextlib.suppress(ImportError):
    warnings.simplefilter("ignore", DeprecationWarning)
    import hypothesis.extra._patching  # noqa: F401


@pytest.fixture
def golden() -> Callable[[str], bytes]:
    """``golden("openai/text.sse")`` is that file's exact bytes."""
    return lambda name: (GOLDEN / name).read_bytes()
