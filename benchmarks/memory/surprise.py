"""Precision and recall of the surprise heuristic on the labelled turns.

    python -m benchmarks.memory.surprise [--json FILE]

A turn counts as stored when the heuristic yields at least one memory from it; it is a true
positive when the label says it holds something worth remembering; the type is right when the
first memory's type is the label's. Reported at the default threshold (0.3) and around it, on
the turns the patterns were tuned on and, apart, on two held-out sets: the first was read once
(its misses) before a last revision of the patterns, the second was written after it and is the
blind figure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import orjson

from benchmarks.memory.turns import Turn, held_out_2_turns, held_out_turns, labelled_turns
from lynkr.memory.surprise import extract
from lynkr.model import Message, TextBlock

THRESHOLDS = (0.2, 0.3, 0.4, 0.5)


def evaluate(threshold: float, turns: list[Turn]) -> dict[str, object]:
    tp = fp = fn = tn = kind_right = 0
    misses, false_alarms = [], []
    for turn in turns:
        found = extract(Message("user", (TextBlock(turn.text),)), (), known=turn.known,
                        threshold=threshold)
        if found and turn.kind:
            tp += 1
            kind_right += found[0].kind == turn.kind
        elif found:
            fp += 1
            false_alarms.append(turn.text)
        elif turn.kind:
            fn += 1
            misses.append(turn.text)
        else:
            tn += 1
    return {
        "threshold": threshold, "turns": tp + fp + fn + tn, "worth_remembering": tp + fn,
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "type_accuracy": round(kind_right / tp, 4) if tp else None,
        "false_positives": false_alarms, "misses": misses,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory.surprise")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    results = {name: [evaluate(t, turns) for t in THRESHOLDS]
               for name, turns in (("tuned_on", labelled_turns()),
                                   ("held_out_1_seen", held_out_turns()),
                                   ("held_out_2", held_out_2_turns()))}
    for name, rows in results.items():
        for r in rows:
            print(f"{name} threshold {r['threshold']}: precision {r['precision']}, recall "
                  f"{r['recall']}, type accuracy {r['type_accuracy']} ({r['turns']} turns, "
                  f"{r['worth_remembering']} worth remembering)")
        default = next(r for r in rows if r["threshold"] == 0.3)
        print(f"{name} false positives at 0.3:", *sorted(set(default["false_positives"])),  # type: ignore[call-overload]
              sep="\n  ")
        print(f"{name} misses at 0.3:", *sorted(set(default["misses"])), sep="\n  ")  # type: ignore[call-overload]
    if args.json:
        Path(args.json).write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
