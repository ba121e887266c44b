"""Does the load-balancing loss keep a router from collapsing onto one block, and at what cost?

    python experiments/router_balance.py [--weights 0,0.01,0.1] [--seeds 0] [--task add] [--out FILE]

The `router` recipe trained to its crossing of 99% select (mod 97, random half) at each
balance weight; then the share of all pairs whose top block is each block, per recursion
step (brains.introspect.usage: it reads the trained network over every pair, steering
nothing). Writes JSON (default experiments/results/router_balance.json).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from brains import introspect  # noqa: E402
from brains.train import train  # noqa: E402
from evo.execution.evaluate import features, prepare, train_options  # noqa: E402
from evo.machine import describe  # noqa: E402
from evo.pair import Pair  # noqa: E402
from evo.recipes import get_recipe  # noqa: E402
from evo.settings import RunSettings  # noqa: E402
from evo.tasks import TaskSpec  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", default="0,0.01,0.1")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--task", default="add")
    ap.add_argument("--budget", type=int, default=500)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "router_balance.json"))
    args = ap.parse_args(argv)
    base = get_recipe("router").pair
    doc = {"benchmark": "router_balance", "task": args.task, "budget": args.budget,
           "command": "python experiments/router_balance.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "machine": describe(torch.device("cpu")), "rows": []}
    for weight in [float(w) for w in args.weights.split(",")]:
        for seed in [int(s) for s in args.seeds.split(",")]:
            pair = Pair(base.encoder, dataclasses.replace(base.brain, router_balance=weight))
            settings = RunSettings(task=TaskSpec(op=args.task, p=97), seed=seed, budget=args.budget)
            prep = prepare(pair, settings.task, seed, torch.device("cpu"), settings.select)
            result = train(prep.model, prep.data, pair.brain, **train_options(settings))
            every = np.arange(len(prep.split.pairs))
            seen = introspect.routes(prep.model, features(pair, prep.table, prep.split, every, prep.device))
            usage = introspect.usage(seen["chosen"], len(prep.model.blocks)).tolist()
            doc["rows"].append({"balance": weight, "seed": seed, "steps_to_threshold": result.steps_to_threshold,
                                "select_acc": result.select_acc, "usage": usage})
            print(f"balance {weight}: seed {seed}: steps {result.steps_to_threshold}, share per block and step "
                  f"{np.round(usage, 3).tolist()}", flush=True)
            Path(args.out).write_text(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
