"""Are lone training runs bit-identical across a change of the training code?

    python experiments/train_identity.py --out before.json     # on the old code
    python experiments/train_identity.py --out after.json      # on the new code
    python experiments/train_identity.py --compare before.json after.json

Trains a set of pairs on p 23 that touch every branch of the lone trainer (full batch and
minibatch; mlp, transformer and forward-forward; Grokfast EMA and MA, perpendicular gradient,
norm constraint, SGD, Adam, StableMax, MSE, gradient clip; plateau, FLOP cap, divergence,
run-on with a holdout curve) through brains.train.train and writes what each returns: every
TrainResult figure, every curve point, the points `on_eval` saw, and a digest of the trained
weights. A search record is a function of these (its holdout figures of the weights), so
equal outputs mean an unchanged front. `--compare` says which runs differ, ignoring the
wall-clock fields only. Only `prepare` and `holdout_curve` are taken from evo, found where
they live before and after evo's restructuring.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from brains.gene import BrainGene
from encoders.gene import EncoderGene

try:
    from evo.execution.evaluate import holdout_curve, prepare   # evo restructured into rooms
except ImportError:
    from evo.evaluate import holdout_curve, prepare
from brains.train import train
from evo.pair import Pair
from evo.tasks import TaskSpec

CLOCK = {"seconds", "seconds_to_threshold", "eval_seconds"}   # wall-clock fields: not compared
TASK = TaskSpec(p=23, train_frac=0.6)
ONEHOT, RANDOM = EncoderGene(), EncoderGene(family="random", dim=32, code_seed=3)
FAST = BrainGene(hidden=(64,), activation="quadratic", bias=False, loss="mse", lr=1e-2, warmup=0)
TF = BrainGene(family="transformer", n_layers=1, d_model=32, n_heads=4, d_mlp=64, lr=3e-3, weight_decay=0.5)

# name -> (pair, evaluate keywords)
CASES: dict[str, tuple[Pair, dict[str, Any]]] = {
    "mlp-full-adamw": (Pair(ONEHOT, BrainGene(hidden=(64,))), {"budget": 200}),
    "mlp-fast-threshold": (Pair(ONEHOT, FAST), {"budget": 400}),
    "mlp-minibatch-sgd": (Pair(RANDOM, BrainGene(hidden=(48,), optimizer="sgd", lr=0.05, momentum=0.9,
                                                 weight_decay=1e-3, batch_size=64)), {"budget": 200}),
    "mlp-adam-grokfast-ema": (Pair(ONEHOT, BrainGene(hidden=(64,), optimizer="adam", activation="gelu",
                                                     weight_decay=1e-3, grokfast_lambda=2.0,
                                                     grokfast_alpha=0.9)), {"budget": 150}),
    "mlp-grokfast-ma-minibatch": (Pair(ONEHOT, BrainGene(hidden=(64,), grokfast_lambda=1.0, grokfast_filter="ma",
                                                         grokfast_window=7, batch_size=100)), {"budget": 150}),
    "mlp-orthograd-stablemax": (Pair(ONEHOT, BrainGene(hidden=(64,), orthograd=True, stablemax=True,
                                                       weight_decay=0.0, lr=3e-3)), {"budget": 150}),
    "mlp-norm-constraint-clip": (Pair(RANDOM, BrainGene(hidden=(32, 32), norm_constraint=True, grad_clip=0.5,
                                                        init_scale=2.0, warmup=0)), {"budget": 150}),
    "mlp-mse-eval7": (Pair(ONEHOT, replace(FAST, lr=3e-3)), {"budget": 100, "eval_every": 7}),
    "mlp-patience": (Pair(ONEHOT, BrainGene(hidden=(), lr=1e-2)), {"budget": 400, "patience": 3}),
    "mlp-max-flops": (Pair(ONEHOT, BrainGene(hidden=(128,))), {"budget": 400, "max_flops": 2e8}),
    "mlp-diverges": (Pair(ONEHOT, BrainGene(hidden=(256, 256), activation="quadratic", optimizer="sgd", lr=1.0,
                                            momentum=0.99, init_scale=5.0, loss="mse", warmup=0)),
                     {"budget": 100}),
    "mlp-diverges-later": (Pair(ONEHOT, BrainGene(hidden=(256, 256), activation="quadratic", optimizer="sgd",
                                                  lr=1.0, momentum=0.99, init_scale=3.0, loss="mse", warmup=100)),
                           {"budget": 100}),
    "mlp-diverges-adamw": (Pair(ONEHOT, BrainGene(hidden=(256, 256), activation="quadratic", lr=1.0,
                                                  init_scale=3.0, loss="mse", warmup=1)), {"budget": 100}),
    "mlp-run-on-holdout": (Pair(ONEHOT, FAST), {"budget": 300, "report_holdout": True}),
    "mlp-holdout-no-run-on": (Pair(ONEHOT, FAST), {"budget": 300, "report_holdout": True, "run_on": False}),
    "mlp-run-on-no-holdout": (Pair(ONEHOT, FAST), {"budget": 300, "run_on": True, "patience": 2}),
    "transformer-full": (Pair(ONEHOT, TF), {"budget": 60}),
    "transformer-minibatch-holdout": (Pair(ONEHOT, replace(TF, batch_size=64, n_layers=2, layer_norm=False)),
                                      {"budget": 40, "report_holdout": True}),
    "ff-minibatch": (Pair(ONEHOT, BrainGene(family="ff", hidden=(64,), batch_size=64, lr=3e-3)), {"budget": 60}),
    "ff-full-holdout-flops": (Pair(RANDOM, BrainGene(family="ff", hidden=(32, 32), weight_decay=0.0)),
                              {"budget": 60, "report_holdout": True, "max_flops": 5e8}),
}


def digest(model: torch.nn.Module) -> dict[str, str]:
    return {k: hashlib.sha256(v.detach().cpu().contiguous().numpy().tobytes()).hexdigest()
            for k, v in model.state_dict().items()}


def run_case(pair: Pair, run: dict[str, Any], seed: int) -> dict[str, Any]:
    """As evo's evaluate trains a pair: its data and model from `prepare`, the holdout curve
    as `extra` when the report asks for holdout, run on past the threshold then by default."""
    run = dict(run)
    report = run.pop("report_holdout", False)
    run_on = run.pop("run_on", report)
    prep = prepare(pair, TASK, seed, torch.device("cpu"))
    seen: list[dict[str, float]] = []
    result = train(prep.model, prep.data, pair.brain, seed=seed, on_eval=lambda pt: seen.append(dict(pt)),
                   run_on=run_on, extra=holdout_curve(prep) if report else None, **run)
    return {**dataclasses.asdict(result), "on_eval": seen, "weights": digest(prep.model)}


def records() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (pair, run) in CASES.items():
        for seed in (0, 1):
            r = out[f"{name}/{seed}"] = run_case(pair, run, seed)
            print(f"{name}/{seed}: stopped {r['stopped']} at {r['steps_run']}/{r['steps_cap']}, "
                  f"threshold at {r['steps_to_threshold']}", flush=True)
    return out


def strip(value: Any) -> Any:
    """The record without wall-clock fields; NaN made comparable."""
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in CLOCK}
    if isinstance(value, list):
        return [strip(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


def compare(a_path: str, b_path: str) -> int:
    a, b = json.loads(Path(a_path).read_text()), json.loads(Path(b_path).read_text())
    bad = 0
    for name in sorted(set(a) | set(b)):
        same = name in a and name in b and strip(a[name]) == strip(b[name])
        bad += not same
        print(f"{'same' if same else 'DIFFERENT'}  {name}")
    print(f"{len(set(a) | set(b)) - bad} identical, {bad} different")
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out")
    parser.add_argument("--compare", nargs=2)
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)
    torch.set_num_threads(1)
    Path(args.out).write_text(json.dumps(records(), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
