"""Do two runs of the main job end the same? Front members, cache and re-checks compared,
wall-clock timings and the machine aside.

    python experiments/compare_runs.py RUN_A RUN_B [--label-a TEXT --label-b TEXT] [--out FILE]

Written to check that a restructuring changed nothing: the same seed must give the same
front (genes and figures), the same trained pairs with the same records, and the same
holdout re-checks. Writes one JSON document (default experiments/results/compare_runs.json).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from evo.machine import describe  # noqa: E402

import torch  # noqa: E402

TIMINGS = ("seconds", "seconds_to_threshold", "machine", "profile")


def untimed(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in TIMINGS}


def load(run_dir: Path) -> tuple[dict, dict]:
    front = json.loads((run_dir / "front.json").read_text())
    state = json.loads((run_dir / "checkpoint.json").read_text())["state"]
    return front, state


def compare(a: Path, b: Path) -> dict:
    (front_a, state_a), (front_b, state_b) = load(a), load(b)
    members_a = [untimed(m) for m in front_a["members"]]
    members_b = [untimed(m) for m in front_b["members"]]
    same_keys = set(state_a["cache"]) == set(state_b["cache"])
    differing = [k for k in state_a["cache"] if k in state_b["cache"]
                 and untimed(state_a["cache"][k]) != untimed(state_b["cache"][k])]
    finals_differing = [k for k in state_a["finals"] if untimed(state_a["finals"][k])
                        != untimed(state_b["finals"].get(k, {}))]
    return {"front_members": [len(members_a), len(members_b)], "fronts_equal": members_a == members_b,
            "pairs_trained": [len(state_a["cache"]), len(state_b["cache"])], "same_cache_keys": same_keys,
            "records_differing": len(differing), "rechecks_differing": len(finals_differing),
            "logbooks_equal": state_a["logbook"] == state_b["logbook"],
            "members": [{"id": m["id"], "encoder": m["encoder_summary"], "brain": m["brain_summary"],
                         "steps_to_threshold": m["steps_to_threshold"], "holdout_acc": m["holdout_acc"]}
                        for m in front_a["members"]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    parser.add_argument("--label-a", default="")
    parser.add_argument("--label-b", default="")
    parser.add_argument("--out", default="experiments/results/compare_runs.json")
    args = parser.parse_args()
    doc = {"benchmark": "compare_runs", "machine": describe(torch.device("cpu")),
           "a": {"run_dir": str(args.run_a), "label": args.label_a},
           "b": {"run_dir": str(args.run_b), "label": args.label_b}, **compare(args.run_a, args.run_b)}
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps({k: v for k, v in doc.items() if k not in ("members", "machine")}))


if __name__ == "__main__":
    main()
