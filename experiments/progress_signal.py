"""Which select-side figure moves first on a run that groks: accuracy, cross-entropy, or the
rank of the right answer (brains.losses.outranked)?

    python experiments/progress_signal.py [--recipes orthograd,grokfast-ma,nanda] [--seeds 0]
                                          [--out experiments/results/progress_signal.json]

Trains each recipe on add mod 97 (random half, select only; holdout is not built) to 99%
select, evaluating every 10 steps, and gives for each figure the first step at which it has
gone 10% and 50% of the way from its first evaluation to its last. A figure that gets
there earlier than accuracy can rank the misses of a search before any of them groks.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

import evo  # noqa: E402
from evo.machine import describe  # noqa: E402

FIGURES = ("select_acc", "select_loss", "select_rank")


def first_step(curve: list[dict], figure: str, share: float) -> int | None:
    """The first step at which `figure` has covered `share` of its way from start to end."""
    start, end = curve[0][figure], curve[-1][figure]
    if start == end:
        return None
    for point in curve:
        if (point[figure] - start) / (end - start) >= share:
            return point["step"]
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default="orthograd,grokfast-ma,nanda")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--out", default="experiments/results/progress_signal.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for recipe in args.recipes.split(","):
        for seed in map(int, args.seeds.split(",")):
            record = evo.train(recipe, "add", seed=seed, budget=args.budget, report_holdout=False, device="cpu")
            curve = record["curve"]
            row = {"recipe": recipe, "seed": seed, "steps_to_threshold": record["steps_to_threshold"],
                   "first": {f: curve[0][f] for f in FIGURES}, "last": {f: curve[-1][f] for f in FIGURES},
                   "step_10pct": {f: first_step(curve, f, 0.1) for f in FIGURES},
                   "step_50pct": {f: first_step(curve, f, 0.5) for f in FIGURES}, "curve": curve}
            rows.append(row)
            print(f"{recipe} seed {seed}: 99% at {row['steps_to_threshold']}; 10% of the way at "
                  + ", ".join(f"{f} {row['step_10pct'][f]}" for f in FIGURES)
                  + "; 50% at " + ", ".join(f"{f} {row['step_50pct'][f]}" for f in FIGURES), flush=True)
    doc = {"benchmark": "progress_signal", "machine": describe(torch.device("cpu")), "threads": 1,
           "task": "add mod 97, random split 0.5, select only", "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
