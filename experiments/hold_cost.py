"""What the hold rule costs a search: under `--hold 1` a run that crosses at step s trains on
to its cap, so this reads, from a run's checkpoint, the training time spent after step 2s by
runs that reached (the least a hold of "as many steps again" needs), and how many reached
runs would have counted a different crossing had the hold ended at 2s, and how many misses
had lost a crossing. Training seconds are the records' own step clocks, given as shares of
the run's training time, not as wall time.

    python experiments/hold_cost.py RUN_DIR [RUN_DIR ...] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evo.rundir import checkpoint  # noqa: E402


def first_held_to_double(curve: list[dict[str, float]], threshold: float) -> int | None:
    """The first crossing at which select stays at or above the threshold up to twice its step."""
    for point in curve:
        if point["select_acc"] >= threshold:
            c = point["step"]
            if all(q["select_acc"] >= threshold for q in curve if c <= q["step"] <= 2 * c):
                return c
    return None


def hold_cost(run_dir: Path) -> dict[str, Any]:
    records = [r for r in checkpoint.load(run_dir)["cache"].values() if not r.get("failed")]
    reached = [r for r in records if r["steps_to_threshold"] is not None]
    total = sum(r["profile"]["steps"] for r in records)
    after = sum(r["profile"]["steps"] * max(0, r["steps_run"] - 2 * r["steps_to_threshold"]) / max(1, r["steps_run"])
                for r in reached)
    return {"run": str(run_dir), "runs": len(records), "reached": len(reached),
            "share_after_double": after / total if total else 0.0,
            "reached_crossing_differs_at_double": sum(
                first_held_to_double(r["curve"], r["threshold"]) != r["steps_to_threshold"] for r in reached),
            "misses_with_lost_crossing": sum(1 for r in records
                                             if r["steps_to_threshold"] is None and r.get("crossings_lost"))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--out", help="write the JSON here too")
    args = ap.parse_args(argv)
    doc = {"runs": [hold_cost(Path(r)) for r in args.runs]}
    for row in doc["runs"]:
        print(json.dumps(row))
    if args.out:
        Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
