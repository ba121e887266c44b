"""What a shorter plateau patience would have cut from a finished search, and which reachers it
would have lost, read from the run's own curves before spending a search on it.

    python experiments/patience_replay.py RUN_DIR [RUN_DIR ...] [--patience 2 3 4] [--out FILE]

Each record's curve is replayed through the training loop's own stop rule
(brains.stopping.decide, under brains.stopping.run_rule of the record's settings, as brains.loop builds it) with
another patience. A run it would have stopped earlier saves its steps from there on (FLOPs:
the record's FLOPs per step; seconds: its step clock's share); a run that reached the
threshold and would have been stopped first is a lost reacher. This is the first-order
effect only: a search with another patience trains other pairs after its first generation,
so its wall time must still be measured (experiments/bench_run.py).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from brains.stopping import StopRule, decide, run_rule  # noqa: E402
from evo.rundir import checkpoint  # noqa: E402


def rule_of(record: dict[str, Any], patience: int) -> StopRule:
    return run_rule(record["threshold"], patience, record.get("plateau", "accuracy"), record["eval_every"],
                    record.get("eval_dense", 0), bool(record.get("dense_locates")))


def replayed_stop(curve: list[dict[str, float]], rule: StopRule) -> tuple[str | None, int]:
    """(verdict, step) of the first evaluation at which the rule ends the run, or (None, last step)."""
    for i in range(1, len(curve) + 1):
        verdict = decide(curve[:i], rule)
        if verdict:
            return verdict, curve[i - 1]["step"]
    return None, curve[-1]["step"]


def replay(run_dir: Path, patience: int) -> dict[str, Any]:
    records = [r for r in checkpoint.load(run_dir)["cache"].values()
               if r.get("curve") and not r.get("failed") and r.get("patience") and "rung" not in r]
    flops = sum(r["steps_run"] * r["flops_per_step"] for r in records)
    seconds = sum(r["profile"]["steps"] for r in records)
    saved_flops = saved_seconds = 0.0
    lost = []
    for r in records:
        verdict, step = replayed_stop(r["curve"], rule_of(r, patience))
        if verdict != "plateau":
            continue
        if r["steps_to_threshold"] is not None and step < r["steps_to_threshold"]:
            lost.append({"steps_to_threshold": r["steps_to_threshold"], "params": r["params"]})
        if step < r["steps_run"]:
            saved_flops += (r["steps_run"] - step) * r["flops_per_step"]
            saved_seconds += r["profile"]["steps"] * (r["steps_run"] - step) / r["steps_run"]
    return {"run": str(run_dir), "patience": patience, "recorded_patience": sorted({r["patience"] for r in records}),
            "runs": len(records), "reached": sum(r["steps_to_threshold"] is not None for r in records),
            "lost_reachers": sorted(lost, key=lambda x: (x["steps_to_threshold"], x["params"])),
            "training_flops_saved_share": saved_flops / flops if flops else 0.0,
            "step_seconds_saved_share": saved_seconds / seconds if seconds else 0.0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--patience", type=int, nargs="+", default=[2, 3, 4])
    ap.add_argument("--out", help="write the JSON here too")
    args = ap.parse_args(argv)
    doc = {"benchmark": "patience_replay", "rows": [replay(Path(r), p) for r in args.runs for p in args.patience]}
    for row in doc["rows"]:
        print(json.dumps({k: v for k, v in row.items() if k != "lost_reachers"} | {"lost": len(row["lost_reachers"])}))
    if args.out:
        Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
