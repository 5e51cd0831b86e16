"""The Grafana dashboard only charts metrics the proxy really exports."""

import json
import re
from pathlib import Path

from lynkr.observability.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parents[3] / "config" / "grafana" / "lynkr-dashboard.json"


def test_every_expression_names_an_exported_metric() -> None:
    exported = {m.name for m in Metrics().registry.collect()}
    exprs = [t["expr"] for p in json.loads(DASHBOARD.read_text())["panels"]
             for t in p["targets"]]
    assert exprs
    for expr in exprs:
        names = set(re.findall(r"\blynkr_[a-z_]+", expr))
        assert names, expr
        for name in names:
            base = re.sub(r"_(bucket|count|sum|total)$", "", name)
            assert base in exported or name in exported, f"{name} is not exported"
