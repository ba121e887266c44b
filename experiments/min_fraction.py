"""The smallest training fraction at which a pair still reaches 99% holdout accuracy.

    python experiments/min_fraction.py [--recipes onehot-quad,fourier-quad,gromov]
        [--pair FILE ...] [--task add] [--p 97] [--pool 0.5] [--split random] [--seeds 0,1]
        [--lo 0.05] [--hi 0.5] [--iters 5] [--max-steps 1000] [--out FILE]

For each named recipe (and pair files, e.g. a search's lowest-data pair), bisection over the
training fraction in [lo, hi]: a fraction succeeds when every seed's holdout accuracy is
>= 0.99 at the end of its run (each run trains on past its first crossing of 99% select to
the step cap, as a front re-check does). The select set is half of the rest, holdout the
other half; with `--pool F` the rest is what lies outside the first F of the order at every
fraction, so select and holdout are the same at every fraction (TaskSpec.pool_frac, as the
search's data objective draws them). A candidate that fails at `hi` is reported as failing
there. A pair file is also re-checked at its own filed settings (its `own` row: a data-
objective pair file carries its training fraction), and bisected under those settings with
only the fraction changed. Writes JSON with every run, prints a table, and draws holdout
accuracy against fraction (PNG beside the JSON) and the table as Markdown (`--markdown-only
JSON` writes it for an existing JSON).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from evo.execution.evaluate import evaluate  # noqa: E402
from evo.machine import describe  # noqa: E402
from evo.pair import Pair  # noqa: E402
from evo.recipes import RECIPES  # noqa: E402
from evo.tasks import TaskSpec  # noqa: E402
from evo.settings import RunSettings  # noqa: E402
from fast_pairs import pair_file_settings  # noqa: E402  (this folder)

TARGET = 0.99


def at_fraction(settings: RunSettings, fraction: float, pool: float | None) -> RunSettings:
    return dataclasses.replace(settings, task=dataclasses.replace(settings.task, train_frac=fraction,
                                                                  pool_frac=pool))


def trial(pair: Pair, settings: RunSettings, seeds: list[int]) -> dict:
    runs = []
    for seed in seeds:
        record = evaluate(pair, settings.with_seed(seed), report_holdout=True)
        runs.append({k: record.get(k) for k in ("seed", "steps_to_threshold", "select_acc", "holdout_acc",
                                                "holdout_acc_at_threshold", "steps_run", "seconds", "diverged")})
        runs[-1]["sizes"] = record["task"]["sizes"]
    return {"fraction": settings.task.train_frac, "ok": all((r["holdout_acc"] or 0) >= TARGET for r in runs),
            "runs": runs}


def bisect(pair: Pair, base: RunSettings, args: argparse.Namespace) -> dict:
    seeds = [int(s) for s in args.seeds.split(",")]
    at = lambda f: at_fraction(base, f, args.pool)  # noqa: E731
    trials = [trial(pair, at(args.hi), seeds)]
    if not trials[0]["ok"]:
        return {"min_fraction": None, "trials": trials}
    lo, hi = args.lo, args.hi
    low = trial(pair, at(lo), seeds)
    trials.append(low)
    if low["ok"]:
        return {"min_fraction": lo, "trials": trials}
    for _ in range(args.iters):
        mid = round((lo + hi) / 2, 4)
        t = trial(pair, at(mid), seeds)
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


def markdown(doc: dict) -> str:
    """The table README quotes: each candidate's smallest fraction and its holdout there."""
    m = doc["machine"]
    machine = f"{m['cpu']}, {m['cores']} cores, torch {m['torch']}" if isinstance(m, dict) else m
    lines = [f"# Smallest training fraction with holdout >= {doc['target']}",
             "", f"`{doc['command']}`", "", f"Machine: {machine}. Task: {doc['task']['op']} mod "
             f"{doc['task']['p']}, {doc['task']['split']} split, pool {doc.get('pool')}, seeds {doc['seeds']}.", "",
             "| candidate | smallest fraction | holdout at the end there, per seed | steps to 99% select there |",
             "|---|---|---|---|"]
    for name, result in doc["results"].items():
        frac = result["min_fraction"]
        lowest = min(result["trials"], key=lambda t: t["fraction"])
        trial = next((t for t in result["trials"] if t["fraction"] == frac), lowest)  # figures there, else at the lowest tried
        runs = trial["runs"]
        holdout = " / ".join(f"{r['holdout_acc']:.4f}" for r in runs)
        steps = " / ".join(str(r["steps_to_threshold"]) if r["steps_to_threshold"] is not None else "-"
                           for r in runs)
        shown = f"{frac:g}" if frac is not None else f"none (figures at {lowest['fraction']:g})"
        lines.append(f"| {name} | {shown} | {holdout} | {steps} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default="onehot-quad,fourier-quad,gromov")
    parser.add_argument("--pair", action="append", default=[],
                        help="also a pair file (a front member, a search's lowest-data pair); repeatable")
    parser.add_argument("--task", default="add")
    parser.add_argument("--p", type=int, default=97)
    parser.add_argument("--pool", type=float, help="select and holdout drawn outside the first POOL of the "
                                                   "order at every fraction (default: outside the fraction's own)")
    parser.add_argument("--split", default="random", choices=("random", "ordered"))
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--lo", type=float, default=0.05)
    parser.add_argument("--hi", type=float, default=0.5)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--max-steps", type=int, default=1000)
    parser.add_argument("--out", default="experiments/results/min_fraction.json")
    parser.add_argument("--markdown-only", metavar="JSON",
                        help="write the Markdown table of an existing JSON beside it, and exit")
    args = parser.parse_args()
    if args.markdown_only:
        path = Path(args.markdown_only)
        path.with_suffix(".md").write_text(markdown(json.loads(path.read_text())))
        print(f"wrote {path.with_suffix('.md')}")
        return
    task = TaskSpec(op=args.task, p=args.p, split=args.split, train_frac=args.hi)
    candidates = {n: (RECIPES[n].pair, RunSettings(task=task, budget=min(RECIPES[n].budget, args.max_steps),
                                                   eval_every=RECIPES[n].eval_every))
                  for n in args.recipes.split(",") if n}
    results = {}
    for path in args.pair:
        pair, filed = pair_file_settings(Path(path))
        start = time.perf_counter()
        own = trial(pair, filed, [int(s) for s in args.seeds.split(",")])
        results[Path(path).stem + " (own)"] = {"min_fraction": own["fraction"] if own["ok"] else None,
                                               "trials": [own], "settings": filed.to_dict(),
                                               "seconds": time.perf_counter() - start, "cap": filed.budget}
        print(f"{Path(path).stem} at its own fraction {own['fraction']:g}: holdout "
              + " ".join(f"{r['holdout_acc']:.4f}" for r in own["runs"]), flush=True)
        candidates[Path(path).stem] = (pair, dataclasses.replace(filed, task=dataclasses.replace(
            filed.task, op=args.task, p=args.p, split=args.split)))
    for name, (pair, base) in candidates.items():
        start = time.perf_counter()
        result = bisect(pair, base, args)
        result.update(seconds=time.perf_counter() - start, cap=base.budget, settings=base.to_dict())
        results[name] = result
        print(f"{name:16s} min fraction {result['min_fraction']}  "
              + "  ".join(f"{t['fraction']:.3f}:{'ok' if t['ok'] else 'no'}" for t in sorted(
                  result["trials"], key=lambda t: t["fraction"]))
              + f"  ({result['seconds']:.0f} s)", flush=True)
    doc = {"benchmark": "min_fraction", "machine": describe(torch.device("cpu")),
           "command": "python experiments/min_fraction.py " + " ".join(sys.argv[1:]),
           "task": task.to_dict(), "pool": args.pool, "target": TARGET, "seeds": args.seeds, "results": results}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(doc))
    picture(out.with_suffix(".png"), results, f"{args.task} mod {args.p}, {args.split} split: smallest training "
                                               f"fraction with holdout >= {TARGET} (seeds {args.seeds})")
    print(f"wrote {out} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
