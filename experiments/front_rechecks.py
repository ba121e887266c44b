"""Every re-check seed of a finished run's front, and what its search did, read from its checkpoint (no training).

    python experiments/front_rechecks.py RUN_DIR [...] [--out FILE]

front.json gives each member's median over its re-check seeds; the fast-pair issue asks for
the fastest member's steps and the deep-search issue for every seed's holdout at the end.
The run's own re-check records (the checkpoint's `finals`) hold both, per seed, as the run
measured them; experiments/recheck_front.py retrains them instead, on any machine. With
them, from the cache: the generation of the first run that reached the threshold, the second
opinions and how many went to a pair that another of the same generation dominated (both
after their opinions), the own seed's runs by why they stopped and how many lost a crossing in
its hold, the training seconds and FLOPs (yardsticks.training_flops, the same on every machine) of
every run (opinions included), and the milliseconds a
training step took in runs of 50,000-100,000 weights, full batch against minibatches (this
machine's figure, to compare within a run).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from evo.pair import Pair  # noqa: E402
from evo.records import reached  # noqa: E402
from evo.rundir import checkpoint  # noqa: E402
from evo.search.config import RunConfig  # noqa: E402
from evo.search.opinions import beaten, fitness  # noqa: E402
from evo.search.scoring import pair_key  # noqa: E402
from yardsticks import training_flops  # noqa: E402  (this folder)


def search_figures(doc: dict) -> dict:
    """What the search did, from its cache (the records of the run's own seed, but for the
    second opinions' runs); dominance as the opinion rounds read it (evo.search.opinions)."""
    config, cache = RunConfig.stored(doc["config"]), doc["cache"]
    own = [r for key, r in cache.items() if json.loads(key)["seed"] == config.seed]
    judged: dict[int, list] = {}
    steps: dict[str, list[float]] = {"full batch": [0.0, 0], "minibatch": [0.0, 0]}
    for r in own:
        if "opinions" in r:
            judged.setdefault(r["generation"], []).append(fitness(r, config))
        if 50_000 <= r.get("params", 0) < 100_000 and r.get("curve") and r.get("seconds"):
            kind = steps["minibatch" if r["brain"].get("batch_size") else "full batch"]
            kind[0] += r["seconds"]
            kind[1] += r["curve"][-1]["step"]
    return {"first_reach_generation": min((r["generation"] for r in own if reached(r)), default=None),
            "runs": len(own), "stopped": dict(sorted(Counter(r["stopped"] for r in own).items())),
            "runs_with_lost_crossings": sum(bool(r.get("crossings_lost")) for r in own),
            "training_seconds": round(sum(r.get("seconds") or 0.0 for r in cache.values()), 1),
            "training_flops": float(f"{training_flops(list(cache.values()))[0]:.4g}"),
            "second_opinions": sum(len(v) for v in judged.values()),
            "opinions_dominated_in_generation": sum(beaten(a, values, False)
                                                    for values in judged.values() for a in values),
            "ms_per_step_50k_100k_weights": {kind: round(1000 * sec / n, 1) if n else None
                                             for kind, (sec, n) in steps.items()}}


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
    return {"run": str(run_dir), "config": doc["config"], **search_figures(doc), "members": members,
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
