"""Per-step time and steps to the select threshold of every named recipe on add mod 97.

    python experiments/bench_train.py [--recipes a,b] [--seeds 0,1] [--out FILE]

Writes one JSON document (default experiments/results/bench_train.json) and prints a table.
Step time is measured in a separate run of `--timing-steps` steps with a single evaluation
at the end, so that evaluation cost does not inflate it; the grokking run evaluates every
`--eval-every` steps as the search does.
"""
from __future__ import annotations

import sys

import argparse
import json
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from evo.execution.evaluate import evaluate
from evo.machine import describe
from evo.recipes import RECIPES
from evo.tasks import TaskSpec
from evo.settings import RunSettings


def bench(name: str, seed: int, timing_steps: int, eval_every: int) -> dict:
    recipe = RECIPES[name]
    task = TaskSpec(**{"op": "add", "p": 97, "split": "random", "train_frac": 0.5, **recipe.task})
    timed = evaluate(recipe.pair, RunSettings(task=task, seed=seed, budget=timing_steps, threshold=1.01, eval_every=timing_steps))
    run = evaluate(recipe.pair, RunSettings(task=task, seed=seed, budget=recipe.budget, eval_every=eval_every), report_holdout=True)
    return {
        "recipe": name, "seed": seed, "task": run["task"], "budget": recipe.budget,
        "step_seconds": timed["seconds"] / timing_steps, "timing_steps": timing_steps,
        "flops_per_step": run["flops_per_step"], "params": run["params"],
        "steps_to_threshold": run["steps_to_threshold"],
        "seconds_to_threshold": run["seconds_to_threshold"],
        "flops_to_threshold": run["flops_to_threshold"],
        "train_acc": run["train_acc"], "select_acc": run["select_acc"],
        "holdout_acc": run["holdout_acc"], "holdout_acc_unseen_mirror": run["holdout_acc_unseen_mirror"],
        "diverged": run["diverged"], "seconds": run["seconds"], "curve": run["curve"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--timing-steps", type=int, default=50)
    parser.add_argument("--eval-every", type=int, default=10)
    parser.add_argument("--out", default="experiments/results/bench_train.json")
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    rows = []
    for name in args.recipes.split(","):
        for seed in map(int, args.seeds.split(",")):
            row = bench(name, seed, args.timing_steps, args.eval_every)
            rows.append(row)
            reached = row["steps_to_threshold"] if row["steps_to_threshold"] is not None else "did not reach"
            print(f"{name:14s} seed {seed}  step {1000 * row['step_seconds']:8.2f} ms  "
                  f"steps to 99% select: {reached!s:>14s}  holdout {row['holdout_acc']:.4f}  "
                  f"({row['seconds']:.1f} s)", flush=True)
    doc = {"benchmark": "bench_train", "started": started, "machine": describe(torch.device("cpu")),
           "command": "python experiments/bench_train.py " + " ".join(
               f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()),
           "results": rows}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
