"""Does flushing denormal floats to zero speed up our long CPU runs, and does it change
the figures? Each recipe is trained twice with the same seed, flush off then on.

    python experiments/bench_denormal.py [--recipes onehot-mlp,power] [--out FILE]

Writes JSON (default experiments/results/bench_denormal.json) and prints a table.
"""
from __future__ import annotations

import sys

import argparse
import json
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from evo.execution.evaluate import evaluate
from evo.machine import describe
from evo.recipes import RECIPES
from evo.tasks import TaskSpec
from evo.settings import RunSettings


def run(name: str, flush: bool, seed: int) -> dict:
    recipe = RECIPES[name]
    torch.set_flush_denormal(flush)
    try:
        r = evaluate(recipe.pair, RunSettings(task=TaskSpec(**recipe.task), seed=seed, budget=recipe.budget), report_holdout=True)
    finally:
        torch.set_flush_denormal(False)
    return {"recipe": name, "flush_denormal": flush, "seed": seed, "steps_run": r["steps_run"],
            "ms_per_step": 1000 * r["seconds"] / r["steps_run"], "steps_to_threshold": r["steps_to_threshold"],
            "select_acc": r["select_acc"], "holdout_acc": r["holdout_acc"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default="onehot-mlp,power,onehot-quad")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="experiments/results/bench_denormal.json")
    args = parser.parse_args()
    rows = []
    for name in args.recipes.split(","):
        for flush in (False, True):
            row = run(name, flush, args.seed)
            rows.append(row)
            print(f"{name:12s} flush={flush!s:5s} {row['ms_per_step']:7.2f} ms/step  steps {row['steps_run']:5d}  "
                  f"to 99%: {row['steps_to_threshold']}  holdout {row['holdout_acc']:.4f}", flush=True)
    doc = {"benchmark": "bench_denormal", "machine": describe(torch.device("cpu")),
           "command": f"python experiments/bench_denormal.py --recipes {args.recipes} --seed {args.seed}",
           "results": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
