"""x^3 + x*y^2 + y mod 97 at 50% training data: curricula against a direct run.

    python experiments/poly_curriculum.py [--seeds 0,1,2] [--budget 1500] [--out FILE]

Power et al. never saw this polynomial generalize. A single quadratic layer cannot either:
e(k (x^3 + x y^2 + y)) has no few-term expansion in additive or multiplicative characters
of the operands. Its parts can: x*y^2 is a product (sparse in multiplicative characters),
and once a brain outputs w = x*y^2 as an answer, w + y and then (w + y) + x^3 are sums of
two residues, each an addition task with one operand relabelled. So the curriculum of the
polynomial's own sub-expressions, x*y^2 -> x*y^2+y -> target, gives every stage a problem
one quadratic layer solves. Every stage trains on the target's train pairs only (labelled
by the stage's operation), so the target's holdout stays unseen.

Arms (each with every seed): that curriculum with the new layers reading the old brain's
answer (default) or frozen old layers; the same reading raw scores; the forum's add ->
target; onehot-quad trained directly; and the `router` recipe on the same curriculum, each
stage handing its trained blocks (frozen or not) to a new router that adds a block of 64
(brains.router), against the router trained directly. Writes JSON (records with learning curves), a
Markdown table and a PNG of the last stage's curves.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from evo.execution.curriculum import evaluate_curriculum  # noqa: E402
from evo.execution.evaluate import evaluate  # noqa: E402
from evo.machine import describe  # noqa: E402
from reproduce import machine_line  # noqa: E402
from evo.recipes import RECIPES  # noqa: E402
from evo.tasks import TaskSpec  # noqa: E402
from evo.settings import RunSettings  # noqa: E402

TARGET = "x^3+x*y^2+y"
CHAIN = ["x*y^2", "x*y^2+y", TARGET]
ARMS: dict[str, dict[str, Any]] = {
    "sub-expressions, reads answer": {"ops": CHAIN},
    "sub-expressions, reads answer, frozen": {"ops": CHAIN, "freeze": True},
    "sub-expressions, reads scores": {"ops": CHAIN, "read": "scores"},
    "add first (forum), reads answer": {"ops": ["add", TARGET]},
    "direct (no curriculum)": {"ops": [TARGET]},
    # the forum's router proposal: each stage's router takes the trained blocks and adds one of 64
    "router, blocks handed over": {"ops": CHAIN, "recipe": "router", "new_hidden": (64,)},
    "router, blocks handed over, frozen": {"ops": CHAIN, "recipe": "router", "new_hidden": (64,), "freeze": True},
    "router, direct": {"ops": [TARGET], "recipe": "router"},
}
RESULTS = Path(__file__).resolve().parent / "results"


def run_arm(arm: dict[str, Any], seed: int, budget: int) -> dict[str, Any]:
    pair, task = RECIPES[arm.get("recipe", "onehot-quad")].pair, TaskSpec(op=TARGET, p=97)
    if len(arm["ops"]) == 1:
        return evaluate(pair, RunSettings(task=task, seed=seed, budget=budget), report_holdout=True)
    return evaluate_curriculum(pair, arm["ops"], RunSettings(task=task, seed=seed, budget=budget),
                               new_hidden=arm.get("new_hidden", (128,)), freeze=arm.get("freeze", False),
                               read=arm.get("read", "answer"))


def table(doc: dict[str, Any]) -> str:
    lines = [f"# {TARGET} mod 97, 50% train: curricula (onehot-quad brain, new layers 128 wide; "
             "router arms: the router recipe, a block of 64 added per stage)", "",
             f"Machine: {doc['machine']}. Command: `{doc['command']}`. Each stage up to {doc['budget']} "
             "steps; the last goes on to the cap. Steps and seconds count every stage.", "",
             "| arm | seed | stages reached (steps) | steps to 99% select | seconds | holdout at crossing "
             "| holdout at end |", "|---|---|---|---|---|---|---|"]
    for row in doc["rows"]:
        r = row["record"]
        stages = r.get("curriculum", {}).get("stages", [])
        reached = ", ".join(f"{s['op']} ({s['steps_to_threshold'] or 'no'})" for s in stages) or "-"
        sec = r["seconds_to_threshold"]
        at = r.get("holdout_acc_at_threshold")
        lines.append(f"| {row['arm']} | {row['seed']} | {reached} | {r['steps_to_threshold'] or 'not reached'} | "
                     f"{'-' if sec is None else f'{sec:.1f}'} | {'-' if at is None else f'{at:.4f}'} | "
                     f"{r['holdout_acc']:.4f} |")
    return "\n".join(lines) + "\n"


def plot(doc: dict[str, Any], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(row["arm"] for row in doc["rows"]))
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.4), sharey=True, squeeze=False)
    axes = axes[0]
    for ax, name in zip(axes, names):
        for row in (r for r in doc["rows"] if r["arm"] == name):
            curve = row["record"]["curve"]
            steps = [pt["step"] for pt in curve]
            ax.plot(steps, [pt["select_acc"] for pt in curve], color="tab:orange", lw=1)
            ax.plot(steps, [pt["train_acc"] for pt in curve], color="tab:blue", lw=1, alpha=0.6)
            if "holdout_acc" in curve[0]:
                ax.plot(steps, [pt["holdout_acc"] for pt in curve], color="tab:green", lw=1, ls="--")
        ax.set_xscale("log")
        ax.set_title(name, fontsize=8)
        ax.set_xlabel("step of the last stage")
    axes[0].set_ylabel("accuracy")
    axes[0].legend(handles=[plt.Line2D([], [], color=c, ls=ls, label=n) for c, ls, n in (
        ("tab:blue", "-", "train"), ("tab:orange", "-", "select"), ("tab:green", "--", "holdout"))], fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--budget", type=int, default=1500)
    parser.add_argument("--arms", default=";".join(ARMS), help="arm names separated by ;")
    parser.add_argument("--out", default=str(RESULTS / "poly_curriculum"))
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    arms = [a for a in args.arms.split(";") if a]
    doc = {"benchmark": "poly_curriculum", "machine": machine_line(describe(torch.device("cpu"))), "budget": args.budget,
           "command": "python experiments/poly_curriculum.py " + " ".join(sys.argv[1:] if argv is None else argv),
           "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "rows": []}
    out = Path(args.out)
    for name in arms:
        for seed in seeds:
            record = run_arm(ARMS[name], seed, args.budget)
            for stage in record.get("curriculum", {}).get("stages", []):
                stage.pop("curve")  # the last stage's curve is the record's; earlier ones only bloat the JSON
            doc["rows"].append({"arm": name, "seed": seed, "record": record})
            print(f"{name} seed {seed}: steps {record['steps_to_threshold']} holdout {record['holdout_acc']:.4f}",
                  flush=True)
            out.with_suffix(".json").write_text(json.dumps(doc, indent=1))
    doc["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    out.with_suffix(".json").write_text(json.dumps(doc, indent=1))
    out.with_suffix(".md").write_text(table(doc))
    plot(doc, out.with_suffix(".png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
