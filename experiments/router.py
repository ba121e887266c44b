"""Router brains against an MLP, side by side, at equal parameter count and equal FLOP budget.

    python experiments/router.py [--ops add,mul,...] [--seeds 0,1] [--mlp-steps 1000] [--out PREFIX]

Each operation mod 97 (random half of the pairs, one-hot operands concatenated) is trained by:
- `mlp`: onehot-quad's brain (one quadratic layer, no biases, MSE, AdamW lr 1e-2 wd 1, full
  batch), its width set so that its parameter count equals the routers';
- `router-soft`: the `router` recipe's brain at state width 64 (two quadratic residual blocks
  of 64, a soft router over 2 recursion steps, the same training; `--router-dim` and
  `--block-width` change both widths);
- `router-hard`: the same with hard top-1 routing (straight-through gradient).
Every run has the same FLOP cap, `--mlp-steps` steps of the MLP, and goes on to it; the
holdout is read there, as a re-check reads it. A brain solves an operation on a seed when
select reaches 0.99 and the holdout at the end is >= 0.99. All runs in one process, one
after the other, so the seconds in the JSON compare (on an otherwise idle machine). Writes
PREFIX.json and PREFIX.md (default
experiments/results/router).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from brains.models import build_model, count_params  # noqa: E402
from encoders import feature_dim  # noqa: E402
from evo.execution.evaluate import evaluate  # noqa: E402
from evo.machine import describe  # noqa: E402
from evo.pair import Pair  # noqa: E402
from evo.recipes import QUAD_BRAIN, get_recipe  # noqa: E402
from evo.settings import RunSettings  # noqa: E402
from evo.summary import brain as brain_summary  # noqa: E402
from evo.tasks import TaskSpec  # noqa: E402

# add and mul, which the MLP search solves, and the suite's operations it does not (README, suite.md)
OPS = "add,mul,x^2+x*y+y^2,x^2+x*y+y^2+x,x^3+x*y,x^3+x*y^2+y,cond"


def brains(p: int, dim: int = 64, width: int = 64) -> dict[str, Pair]:
    """The three arms; the MLP's width matched to the router's parameter count."""
    base = get_recipe("router").pair
    soft = dataclasses.replace(base.brain, router_dim=dim, router_blocks=(width,) * len(base.brain.router_blocks))
    features = feature_dim(base.encoder, p)
    params = count_params(build_model(soft, features, p))
    hidden = round(params / (features + p))         # a biasless one-layer MLP: (in + out) x hidden
    mlp = dataclasses.replace(QUAD_BRAIN, hidden=(hidden,))
    return {"mlp": Pair(base.encoder, mlp), "router-soft": Pair(base.encoder, soft),
            "router-hard": Pair(base.encoder, dataclasses.replace(soft, router_kind="hard"))}


def markdown(doc: dict[str, Any]) -> str:
    lines = [f"# Router against MLP, equal parameters and FLOPs (p = {doc['p']}, seeds {doc['seeds']})", "",
             f"Command: `{doc['command']}`. Machine: {doc['machine']['cpu']}, {doc['machine']['cores']} cores, "
             f"torch {doc['machine']['torch']}. FLOP cap per run: {doc['max_flops']:.3g} "
             f"({doc['mlp_steps']} MLP steps).", ""]
    for name, arm in doc["arms"].items():
        lines.append(f"- `{name}`: {arm['summary']}, {arm['params']} parameters, "
                     f"{arm['flops_per_step']:.3g} FLOPs per step, step cap {arm['steps_cap']}")
    lines += ["", "Steps to 99% select (- : never) and holdout at the end of the cap, per seed (each run's "
              "seconds are in the JSON).",
              "", "| operation | " + " | ".join(doc["arms"]) + " |", "|---|" + "---|" * len(doc["arms"])]
    for op in doc["ops"]:
        cells = []
        for name in doc["arms"]:
            rows = [r for r in doc["rows"] if r["op"] == op and r["arm"] == name]
            cells.append(" / ".join(f"{r['steps_to_threshold'] or '-'}, {r['holdout_acc']:.3f}" for r in rows))
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    lines += ["", "Solved (select >= 0.99 and holdout >= 0.99 at the end), seeds out of "
              f"{len(doc['seeds'])}:", "", "| operation | " + " | ".join(doc["arms"]) + " |",
              "|---|" + "---|" * len(doc["arms"])]
    for op in doc["ops"]:
        lines.append(f"| {op} | " + " | ".join(str(sum(r["solved"] for r in doc["rows"]
                                                        if r["op"] == op and r["arm"] == name))
                                               for name in doc["arms"]) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ops", default=OPS, help="operations, comma separated")
    ap.add_argument("--p", type=int, default=97)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--mlp-steps", type=int, default=1000, help="the FLOP cap, in steps of the MLP arm")
    ap.add_argument("--router-dim", type=int, default=64, help="the routers' state width")
    ap.add_argument("--block-width", type=int, default=64, help="the hidden width of each of the routers' two blocks")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "router"))
    args = ap.parse_args(argv)
    ops, seeds = args.ops.split(","), [int(s) for s in args.seeds.split(",")]
    arms = brains(args.p, args.router_dim, args.block_width)
    doc: dict[str, Any] = {"benchmark": "router", "p": args.p, "ops": ops, "seeds": seeds,
                           "mlp_steps": args.mlp_steps,
                           "command": "python experiments/router.py " + " ".join(argv if argv is not None
                                                                                 else sys.argv[1:]),
                           "machine": describe(torch.device("cpu")), "arms": {}, "rows": []}
    for op in ops:
        for seed in seeds:
            for name, pair in arms.items():
                task = TaskSpec(op=op, p=args.p)
                base = RunSettings(task=task, seed=seed, budget=100 * args.mlp_steps)
                if not doc["arms"]:   # the cap: the MLP's FLOPs for mlp_steps steps
                    probe = evaluate(arms["mlp"], dataclasses.replace(base, budget=1), report_holdout=False)
                    doc["max_flops"] = float(probe["flops_per_step"] * args.mlp_steps)
                settings = dataclasses.replace(base, max_flops=doc["max_flops"])
                start = time.perf_counter()
                record = evaluate(pair, settings, report_holdout=True)
                seconds = time.perf_counter() - start
                doc["arms"].setdefault(name, {"summary": brain_summary(pair.brain), "params": record["params"],
                                              "flops_per_step": record["flops_per_step"],
                                              "steps_cap": record["steps_cap"], "brain": pair.brain.to_dict(),
                                              "encoder": pair.encoder.to_dict()})
                reached = record["steps_to_threshold"]
                doc["rows"].append({"op": op, "seed": seed, "arm": name, "steps_to_threshold": reached,
                                    "flops_to_threshold": record["flops_to_threshold"],
                                    "select_acc": record["select_acc"], "holdout_acc": record["holdout_acc"],
                                    "steps_run": record["steps_run"], "diverged": record["diverged"],
                                    "seconds": seconds,
                                    "solved": reached is not None and record["holdout_acc"] >= 0.99})
                print(f"{op:>14} seed {seed} {name:<11}: steps {reached}, select {record['select_acc']:.3f}, "
                      f"holdout {record['holdout_acc']:.3f}, {seconds:.0f} s", flush=True)
                Path(args.out + ".json").write_text(json.dumps(doc, indent=1))
                Path(args.out + ".md").write_text(markdown(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
