"""Which part of the forum's encoder matters: the forum brain (recipe `forum`) trained on
the forum's task (add mod 97, unordered pairs, random split 0.5) with its VarCycle code
varied in clock shape (cosine bump or sawtooth), period range and SDR fraction.

    python experiments/forum_encoders.py [--seeds 0] [--steps 2400] [--out FILE]

2400 steps of batch 200 are about the forum's 200 sklearn epochs. Writes JSON (default
experiments/results/forum_encoders.json) and prints a table.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evo.execution.evaluate import evaluate  # noqa: E402
from evo.machine import describe  # noqa: E402
from evo.recipes import RECIPES  # noqa: E402
from evo.tasks import TaskSpec  # noqa: E402
from evo.settings import RunSettings  # noqa: E402

VARIANTS = [  # (waveform, period_min, period_max, combine_k)
    ("cosine", 2.0, 100.0, 1 / 3), ("sawtooth", 2.0, 100.0, 1 / 3),
    ("cosine", 2.0, 20.0, 1 / 3), ("sawtooth", 2.0, 20.0, 1 / 3),
    ("sawtooth", 2.0, 10.0, 1 / 3), ("sawtooth", 1.5, 6.0, 1 / 3),
    ("sawtooth", 4.0, 50.0, 1 / 3), ("sawtooth", 10.0, 200.0, 1 / 3),
    ("sawtooth", 50.0, 1000.0, 1 / 3), ("sawtooth", 2.0, 20.0, 0.5),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--steps", type=int, default=2400)
    parser.add_argument("--out", default="experiments/results/forum_encoders.json")
    args = parser.parse_args()
    recipe = RECIPES["forum"]
    task = TaskSpec(op="add", p=97, pairs="unordered")
    rows = []
    for waveform, lo, hi, k in VARIANTS:
        encoder = replace(recipe.pair.encoder, waveform=waveform, period_min=lo, period_max=hi, combine_k=k)
        for seed in (int(s) for s in args.seeds.split(",")):
            record = evaluate(replace(recipe.pair, encoder=encoder), RunSettings(task=task, seed=seed, budget=args.steps, eval_every=100), report_holdout=True)
            best = max(c["select_acc"] for c in record["curve"])
            rows.append({"waveform": waveform, "period_min": lo, "period_max": hi, "combine_k": k,
                         "seed": seed, "steps_to_threshold": record["steps_to_threshold"],
                         "best_select_acc": best, "select_acc": record["select_acc"],
                         "train_acc": record["train_acc"], "holdout_acc": record["holdout_acc"],
                         "seconds": record["seconds"]})
            print(f"{waveform:8s} periods {lo:g}-{hi:g} k {k:.2f} seed {seed}: best select {best:.3f}, "
                  f"holdout {record['holdout_acc']:.3f}, 99% at {record['steps_to_threshold']}", flush=True)
    doc = {"experiment": "forum_encoders", "machine": describe(torch.device("cpu")),
           "command": f"python experiments/forum_encoders.py --seeds {args.seeds} --steps {args.steps}",
           "task": task.to_dict(), "brain": recipe.pair.brain.to_dict(), "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
