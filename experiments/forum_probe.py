"""Why did the forum's recipe stop near 50% select? Splits its select accuracy by whether
a + b wraps past p.

    python experiments/forum_probe.py [--seeds 0,1] [--recipe forum-cosine] [--out FILE]

Trains the recipe as `python -m evo train --recipe NAME` does (unordered pairs, random
split 0.5, its step cap) and writes JSON (default experiments/results/forum_probe.json).
The committed JSON was measured on our first reconstruction, now named `forum-cosine`
(cosine-bump clocks); `forum` now uses sawtooth clocks, which was the cause.
"""
from __future__ import annotations

import sys

import argparse
import json
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from evo.execution.evaluate import prepare
from evo.machine import describe
from evo.recipes import RECIPES
from evo.tasks import TaskSpec
from brains.train import train


def probe(seed: int, name: str = "forum-cosine") -> dict:
    recipe = RECIPES[name]
    task = TaskSpec(**recipe.task)
    prep = prepare(recipe.pair, task, seed, torch.device("cpu"))
    result = train(prep.model, prep.data, recipe.pair.brain, seed=seed, budget=recipe.budget)
    with torch.no_grad():
        correct = (prep.model(prep.data.x_select).argmax(-1) == prep.data.y_select).numpy()
    wraps = prep.split.pairs[prep.split.select].sum(1) >= task.p
    return {"seed": seed, "steps_run": result.steps_run, "train_acc": result.train_acc,
            "select_acc": float(correct.mean()),
            "select_acc_no_wrap": float(correct[~wraps].mean()), "n_no_wrap": int((~wraps).sum()),
            "select_acc_wrap": float(correct[wraps].mean()), "n_wrap": int(wraps.sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--recipe", default="forum-cosine")
    parser.add_argument("--out", default="experiments/results/forum_probe.json")
    args = parser.parse_args()
    rows = [probe(int(s), args.recipe) for s in args.seeds.split(",")]
    for r in rows:
        print(f"seed {r['seed']}: select {r['select_acc']:.3f}; a+b < p: {r['select_acc_no_wrap']:.3f} "
              f"({r['n_no_wrap']} pairs); a+b >= p: {r['select_acc_wrap']:.3f} ({r['n_wrap']} pairs)")
    doc = {"experiment": "forum_probe", "machine": describe(torch.device("cpu")),
           "command": f"python experiments/forum_probe.py --seeds {args.seeds} --recipe {args.recipe}",
           "recipe": args.recipe, "results": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
