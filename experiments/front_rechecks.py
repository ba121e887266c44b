"""Every re-check seed of a finished run's front, read from its checkpoint (no training).

    python experiments/front_rechecks.py RUN_DIR [...] [--out FILE]

front.json gives each member's median over its re-check seeds; the fast-pair issue asks for
the fastest member's steps and the deep-search issue for every seed's holdout at the end.
The run's own re-check records (the checkpoint's `finals`) hold both, per seed, as the run
measured them; experiments/recheck_front.py retrains them instead, on any machine.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from evo.pair import Pair  # noqa: E402
from evo.rundir import checkpoint  # noqa: E402
from evo.search.scoring import pair_key  # noqa: E402


def rechecks(run_dir: Path) -> dict:
    """Each front member's re-checks, seed by seed, fastest member (median steps) first."""
    doc = checkpoint.load(run_dir)
    by_pair: dict[str, list[dict]] = {}
    for record in doc["finals"].values():
        by_pair.setdefault(pair_key(Pair.from_dict(record)), []).append(record)
    members = []
    for member in json.loads((run_dir / "front.json").read_text())["members"]:
        runs = sorted(by_pair.get(pair_key(Pair.from_dict(member)), []), key=lambda r: r["seed"])
        members.append({"id": member["id"], "encoder": member["encoder_summary"], "brain": member["brain_summary"],
                        "params": member["params"], "median_steps": member["steps_to_threshold"],
                        "seeds": [{"seed": r["seed"], "steps_to_threshold": r.get("steps_to_threshold"),
                                   "holdout_at_end": r.get("holdout_acc")} for r in runs]})
    members.sort(key=lambda m: (m["median_steps"] is None, m["median_steps"] or 0, m["params"]))
    held = [s["holdout_at_end"] or 0.0 for m in members for s in m["seeds"]]
    return {"run": str(run_dir), "config": doc["config"], "members": members,
            "rechecks": len(held), "at_least_0.99": sum(h >= 0.99 for h in held), "lowest": min(held, default=None)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", default="experiments/results/front_rechecks.json")
    args = parser.parse_args()
    out = [rechecks(run) for run in args.runs]
    for run in out:
        best = run["members"][0] if run["members"] else None
        print(f"{run['run']}: {run['at_least_0.99']} of {run['rechecks']} re-checks >= 0.99 (lowest {run['lowest']}); "
              f"fastest: {best and [s['steps_to_threshold'] for s in best['seeds']]} steps, {best and best['params']} weights")
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
