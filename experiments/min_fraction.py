"""The smallest training fraction at which a pair still reaches 99% holdout accuracy.

    python experiments/min_fraction.py [--recipes onehot-quad,fourier-quad,gromov]
        [--pair FILE] [--task add] [--split random] [--seeds 0,1] [--lo 0.05] [--hi 0.5]
        [--iters 5] [--max-steps 1000] [--out FILE]

For each named recipe (and a pair file, e.g. a front member), bisection over the training
fraction in [lo, hi]: a fraction succeeds when every seed's holdout accuracy is >= 0.99 at
the end of its run (each run trains on past its first crossing of 99% select to the step
cap, as a front re-check does). The select set is half of the rest, holdout the other half.
A candidate that fails at `hi` is reported as failing there. Writes JSON with every run,
prints a table, and draws holdout accuracy against fraction (PNG beside the JSON).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from evo.execution.evaluate import evaluate  # noqa: E402
from evo.machine import describe  # noqa: E402
from evo.pair import Pair, load_pair  # noqa: E402
from evo.recipes import RECIPES  # noqa: E402
from evo.tasks import TaskSpec  # noqa: E402
from evo.settings import RunSettings  # noqa: E402

TARGET = 0.99


def trial(pair: Pair, task: dict, fraction: float, seeds: list[int], cap: int, eval_every: int) -> dict:
    runs = []
    for seed in seeds:
        record = evaluate(pair, RunSettings(task=TaskSpec(**{**task, "train_frac": fraction}), seed=seed, budget=cap, eval_every=eval_every), report_holdout=True)
        runs.append({k: record[k] for k in ("seed", "steps_to_threshold", "select_acc", "holdout_acc",
                                            "holdout_acc_at_threshold", "steps_run", "seconds", "diverged")})
    return {"fraction": fraction, "ok": all((r["holdout_acc"] or 0) >= TARGET for r in runs), "runs": runs}


def bisect(pair: Pair, task: dict, args: argparse.Namespace, cap: int, eval_every: int) -> dict:
    seeds = [int(s) for s in args.seeds.split(",")]
    trials = [trial(pair, task, args.hi, seeds, cap, eval_every)]
    if not trials[0]["ok"]:
        return {"min_fraction": None, "trials": trials}
    lo, hi = args.lo, args.hi
    low = trial(pair, task, lo, seeds, cap, eval_every)
    trials.append(low)
    if low["ok"]:
        return {"min_fraction": lo, "trials": trials}
    for _ in range(args.iters):
        mid = round((lo + hi) / 2, 4)
        t = trial(pair, task, mid, seeds, cap, eval_every)
        trials.append(t)
        lo, hi = (lo, mid) if t["ok"] else (mid, hi)
    return {"min_fraction": hi, "trials": trials}


def picture(path: Path, results: dict, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, result in results.items():
        points = sorted((t["fraction"], min(r["holdout_acc"] or 0 for r in t["runs"])) for t in result["trials"])
        line = ax.plot([f for f, _ in points], [a for _, a in points], marker="o", label=name)[0]
        if result["min_fraction"] is not None:
            ax.axvline(result["min_fraction"], color=line.get_color(), ls=":", lw=1)
    ax.axhline(TARGET, color="0.5", lw=0.8)
    ax.set_xlabel("training fraction")
    ax.set_ylabel("holdout accuracy (worst seed, end of run)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default="onehot-quad,fourier-quad,gromov")
    parser.add_argument("--pair", help="also a pair file (a front member, a search's best pair)")
    parser.add_argument("--task", default="add")
    parser.add_argument("--split", default="random", choices=("random", "ordered"))
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--lo", type=float, default=0.05)
    parser.add_argument("--hi", type=float, default=0.5)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--max-steps", type=int, default=1000)
    parser.add_argument("--out", default="experiments/results/min_fraction.json")
    args = parser.parse_args()
    candidates = {n: (RECIPES[n].pair, RECIPES[n].budget, RECIPES[n].eval_every)
                  for n in args.recipes.split(",") if n}
    if args.pair:
        candidates[Path(args.pair).stem] = (load_pair(args.pair)[0], args.max_steps, 10)
    task = {"op": args.task, "p": 97, "split": args.split}
    results = {}
    for name, (pair, budget, eval_every) in candidates.items():
        start = time.perf_counter()
        result = bisect(pair, task, args, min(budget, args.max_steps), eval_every)
        result.update(seconds=time.perf_counter() - start, cap=min(budget, args.max_steps))
        results[name] = result
        print(f"{name:16s} min fraction {result['min_fraction']}  "
              + "  ".join(f"{t['fraction']:.3f}:{'ok' if t['ok'] else 'no'}" for t in sorted(
                  result["trials"], key=lambda t: t["fraction"]))
              + f"  ({result['seconds']:.0f} s)", flush=True)
    doc = {"benchmark": "min_fraction", "machine": describe(torch.device("cpu")),
           "command": "python experiments/min_fraction.py " + " ".join(sys.argv[1:]),
           "task": task, "target": TARGET, "seeds": args.seeds, "results": results}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    picture(out.with_suffix(".png"), results, f"{args.task} mod 97, {args.split} split: smallest training "
                                               f"fraction with holdout >= {TARGET} (seeds {args.seeds})")
    print(f"wrote {out} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
