"""Shared by every test directory."""

import contextlib
import warnings

# When a property fails, Hypothesis's pytest plugin imports its patch writer, which imports
# libcst → mypy_extensions.TypedDict, which warns; under ``filterwarnings = error`` that turns
# the failure report into an INTERNALERROR. Import it once here with that warning silenced.
with warnings.catch_warnings(), contextlib.suppress(ImportError):
    warnings.simplefilter("ignore", DeprecationWarning)
    import hypothesis.extra._patching  # noqa: F401
