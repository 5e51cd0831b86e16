"""Shared by the format tests: the golden byte streams under tests/golden/."""

from collections.abc import Callable
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parents[2] / "golden"



@pytest.fixture
def golden() -> Callable[[str], bytes]:
    """``golden("openai/text.sse")`` is that file's exact bytes."""
    return lambda name: (GOLDEN / name).read_bytes()
