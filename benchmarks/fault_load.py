"""The fault-load run of ``tests/integration/test_fault_load.py``, its figures as JSON.

    python -m benchmarks.fault_load [--rate 0.2] [--json benchmarks/results/fault_load.json]

Loopback only, bounded: 2,000 requests from 50 clients, then 60 during an outage and 60 after.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from test_fault_load import CLIENTS, REQUESTS, run_load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = run_load(args.requests, args.clients, args.rate)
    text = orjson.dumps(figures, option=orjson.OPT_INDENT_2)
    if args.json:
        args.json.write_bytes(text + b"\n")
    print(text.decode())


if __name__ == "__main__":
    main()
