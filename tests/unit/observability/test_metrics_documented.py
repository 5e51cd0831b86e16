"""Every metric Lynkr exports is documented in the metrics table of docs/production.md."""

import re
from pathlib import Path

from lynkr.observability.metrics import Metrics

README = Path(__file__).resolve().parents[3] / "docs" / "production.md"


def exported() -> dict[str, str]:
    """Name as scraped (counters with their ``_total``) -> type."""
    out = {}
    for family in Metrics().registry.collect():
        name = family.name + ("_total" if family.type == "counter" else "")
        out[name] = family.type
    return out


def test_every_exported_metric_has_a_row_in_the_readme() -> None:
    rows = {m.group(1): m.group(2) for m in re.finditer(
        r"^\| `((?:lynkr|http)_[a-z_]+)` \| (counter|gauge|histogram|summary) \|",
        README.read_text(), re.MULTILINE)}
    metrics = exported()
    assert len(metrics) >= 14
    missing = sorted(set(metrics) - set(rows))
    assert not missing, f"metrics missing from docs/production.md: {missing}"
    wrong = {name: (rows[name], kind) for name, kind in metrics.items() if rows[name] != kind}
    assert not wrong, f"docs/production.md gives the wrong type (readme, real): {wrong}"
    stale = sorted(set(rows) - set(metrics))
    assert not stale, f"docs/production.md documents metrics that are not exported: {stale}"
