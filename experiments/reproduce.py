"""Every named recipe side by side with a search's best pair: same task, same machine, one
process. Writes JSON (all records with their curves), a Markdown table and one PNG of all
learning curves on a log-step axis.

    python experiments/reproduce.py --task add --seeds 0,1 --run RUN_DIR
    python experiments/reproduce.py --task mul --seeds 0,1 --pair experiments/results/best_pair.json

Each recipe trains up to its own step cap (`python -m evo recipes`), lowered to --max-steps
when given; the table states the cap of every run. A recipe's task suggestion (the forum's
unordered pairs) is applied and shown. Results are saved after every run, and --resume
skips runs already in the JSON, so a long reproduction can be stopped and continued.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evo.execution.evaluate import evaluate  # noqa: E402
from evo.machine import describe  # noqa: E402
from evo.pair import Pair, load_pair  # noqa: E402
from evo.recipes import RECIPES  # noqa: E402
from evo.tasks import TaskSpec  # noqa: E402
from evo.settings import RunSettings  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SEARCH = "search-best"


@dataclass
class Entry:
    name: str
    pair: Pair
    budget: int
    eval_every: int = 10
    task: dict[str, Any] = field(default_factory=dict)
    source: str = ""


def best_of_run(path: Path) -> tuple[Pair, str]:
    """The front member with the fewest median steps to threshold on select (params break
    ties): chosen without looking at holdout, like everything the search decides."""
    if path.is_dir():
        path = path / "front.json"
    doc = json.loads(path.read_text())
    members = (doc if "members" in doc else doc["front"])["members"]  # front.json or bench_run JSON
    reached = [m for m in members if m.get("steps_to_threshold") is not None]
    if not reached:
        raise SystemExit(f"reproduce: no member of {path} reached the threshold")
    best = min(reached, key=lambda m: (m["steps_to_threshold"], m["params"]))
    return Pair.from_dict(best), f"{path} member {best.get('id', '?')}"


def entries(names: list[str], run: str | None, pair_file: str | None, search_budget: int) -> list[Entry]:
    out = [Entry(n, RECIPES[n].pair, RECIPES[n].budget, RECIPES[n].eval_every, dict(RECIPES[n].task),
                 RECIPES[n].summary) for n in names]
    if run:
        pair, source = best_of_run(Path(run))
        out.append(Entry(SEARCH, pair, search_budget, source=source))
    elif pair_file:
        pair, _ = load_pair(pair_file)
        out.append(Entry(SEARCH, pair, search_budget, source=pair_file))
    return out


def run_one(entry: Entry, task: TaskSpec, seed: int, cap: int, device: str) -> dict[str, Any]:
    spec = TaskSpec(**{**task.to_dict(), **entry.task})
    record = evaluate(entry.pair, RunSettings(task=spec, seed=seed, budget=cap, eval_every=entry.eval_every, device=device), report_holdout=True, run_on=False)  # holdout at the crossing
    return {"name": entry.name, "seed": seed, "cap": cap, "source": entry.source, **record}


def _fmt_steps(rows: list[dict[str, Any]]) -> str:
    return " / ".join(str(r["steps_to_threshold"]) if r["steps_to_threshold"] is not None
                      else f"not reached in {r['steps_run']}" for r in rows)


def _fmt(values: list[float | None], form: str) -> str:
    return " / ".join("-" if v is None else format(v, form) for v in values)


def ordered_names(rows: list[dict[str, Any]]) -> list[str]:
    """Names in `python -m evo recipes` order, the search's pair last (rows re-run with
    --redo come at the end of the JSON)."""
    order = {name: i for i, name in enumerate([*RECIPES, SEARCH])}
    return sorted(dict.fromkeys(r["name"] for r in rows), key=lambda n: order.get(n, len(order)))


def machine_line(machine: Any) -> str:
    """`evo.machine.describe` as words (older JSON held a dict's repr in a string)."""
    if isinstance(machine, dict):
        words = {"cores": "{v} cores", "torch_threads": "{v} torch threads", "torch": "torch {v}",
                 "device": "device {v}"}
        return ", ".join(words.get(k, "{v}").format(v=v) for k, v in machine.items() if k != "python")
    return str(machine)


def table(doc: dict[str, Any]) -> str:
    rows = doc["rows"]
    names = ordered_names(rows)
    commands = f"`{doc['command']}`" + "".join(f", after `{c}`" for c in reversed(doc.get("earlier_commands", [])))
    lines = [f"# Recipes side by side: {doc['task']['op']} mod {doc['task']['p']}", "",
             f"Machine: {machine_line(doc['machine'])}. Command: {commands}. Seeds {doc['seeds']} "
             f"(figures are seed by seed, separated by /). Threshold: 99% select accuracy, "
             f"checked every `eval` steps. Holdout is measured once, after training.", "",
             "| recipe | pairs | cap | eval | steps to 99% select | seconds to 99% | FLOPs to 99% | params "
             "| holdout acc | select acc at end | stopped |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in names:
        rs = sorted((r for r in rows if r["name"] == name), key=lambda r: r["seed"])
        lines.append(
            f"| {name} | {rs[0]['task']['pairs']} | {rs[0]['cap']} | {rs[0]['eval_every']} | {_fmt_steps(rs)} "
            f"| {_fmt([r['seconds_to_threshold'] for r in rs], '.1f')} "
            f"| {_fmt([r['flops_to_threshold'] for r in rs], '.2e')} | {rs[0]['params']} "
            f"| {_fmt([r['holdout_acc'] for r in rs], '.4f')} | {_fmt([r['select_acc'] for r in rs], '.3f')} "
            f"| {' / '.join(r['stopped'] for r in rs)} |")
    lines += ["", "Recipes:", ""]
    for name in names:
        source = next(r["source"] for r in rows if r["name"] == name)
        lines.append(f"- **{name}**: {source}")
    return "\n".join(lines) + "\n"


def plot(doc: dict[str, Any], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = doc["rows"]
    names = ordered_names(rows)
    cols = 4
    n_rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(n_rows, cols, figsize=(4 * cols, 2.8 * n_rows), sharey=True, squeeze=False)
    for ax, name in zip(axes.flat, names):
        for r, color in zip(sorted((r for r in rows if r["name"] == name), key=lambda r: r["seed"]),
                            ("tab:blue", "tab:orange", "tab:green")):
            steps = [c["step"] for c in r["curve"]]
            ax.plot(steps, [c["train_acc"] for c in r["curve"]], "--", color=color, lw=1,
                    label=f"train s{r['seed']}")
            ax.plot(steps, [c["select_acc"] for c in r["curve"]], "-", color=color, lw=1.5,
                    label=f"select s{r['seed']}")
        ax.axhline(0.99, color="grey", lw=0.5)
        ax.set_xscale("log")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("step")
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    axes.flat[0].set_ylabel("accuracy")
    axes.flat[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"{doc['task']['op']} mod {doc['task']['p']}: train (dashed) and select (solid) accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--task", default="add", help="operation (default add)")
    ap.add_argument("--p", type=int, default=97)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--recipes", default="all", help="comma list of recipe names, or all")
    ap.add_argument("--run", help="a run directory (or front.json, or bench_run JSON): its best pair joins")
    ap.add_argument("--pair", help="a pair file that joins as the search's best pair")
    ap.add_argument("--search-budget", type=int, default=1000, help="step cap of the search's pair")
    ap.add_argument("--max-steps", type=int, help="lower every step cap to this")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", help="output stem (default experiments/results/reproduce_TASK)")
    ap.add_argument("--resume", action="store_true", help="keep runs already in the JSON")
    ap.add_argument("--redo", default="", help="with --resume: comma list of names whose runs are trained again")
    ap.add_argument("--render", metavar="JSON", help="only rewrite the table and picture of this JSON")
    args = ap.parse_args(argv)
    if args.render:
        doc = json.loads(Path(args.render).read_text())
        stem = Path(args.render).with_suffix("")
        stem.with_suffix(".md").write_text(table(doc))
        plot(doc, stem.with_suffix(".png"))
        return 0
    names = list(RECIPES) if args.recipes == "all" else args.recipes.split(",")
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        print(f"reproduce: unknown recipe {unknown[0]!r}", file=sys.stderr)
        return 2
    seeds = [int(s) for s in args.seeds.split(",")]
    task = TaskSpec(op=args.task, p=args.p)
    stem = Path(args.out) if args.out else RESULTS / f"reproduce_{args.task}"
    stem.parent.mkdir(parents=True, exist_ok=True)
    json_path = stem.with_suffix(".json")
    command = "python experiments/reproduce.py " + " ".join(argv if argv is not None else sys.argv[1:])
    done: list[dict[str, Any]] = []
    earlier: list[str] = []
    if args.resume and json_path.exists():
        old = json.loads(json_path.read_text())
        redo = set(filter(None, args.redo.split(",")))
        done = [r for r in old["rows"] if r["name"] not in redo]
        earlier = old.get("earlier_commands", []) + [old["command"]]
    doc = {"benchmark": "reproduce", "task": task.to_dict(), "seeds": seeds,
           "machine": {**describe(torch.device(args.device)), "arch": platform.machine()},
           "command": command, "earlier_commands": earlier,
           "started": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": done}
    for entry in entries(names, args.run, args.pair, args.search_budget):
        cap = min(entry.budget, args.max_steps or entry.budget)
        for seed in seeds:
            if any(r["name"] == entry.name and r["seed"] == seed and r["cap"] == cap for r in done):
                continue
            row = run_one(entry, task, seed, cap, args.device)
            doc["rows"].append(row)
            json_path.write_text(json.dumps(doc, indent=1))
            steps = row["steps_to_threshold"]
            print(f"{entry.name:14s} seed {seed}: "
                  f"{'not reached in ' + str(row['steps_run']) if steps is None else steps} steps, "
                  f"{row['seconds']:.1f} s, holdout {row['holdout_acc']:.4f}", flush=True)
    doc["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    json_path.write_text(json.dumps(doc, indent=1))
    stem.with_suffix(".md").write_text(table(doc))
    plot(doc, stem.with_suffix(".png"))
    print(table(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
