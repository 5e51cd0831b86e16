"""Shared by every test directory."""

import contextlib
import os
import warnings

from hypothesis import settings

# When a property fails, Hypothesis's pytest plugin imports its patch writer, which imports
# libcst → mypy_extensions.TypedDict, which warns; under ``filterwarnings = error`` that turns
# the failure report into an INTERNALERROR. Import it once here with that warning silenced.
with warnings.catch_warnings(), contextlib.suppress(ImportError):
    warnings.simplefilter("ignore", DeprecationWarning)
    import hypothesis.extra._patching  # noqa: F401

# In CI (CI=true) properties run on a fixed sequence of examples, so a submission's result does
# not depend on the draw; local runs stay random and keep finding new counterexamples (each one
# found becomes a plain regression test, as test_optimization_properties shows).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
