"""The fast-pair table: on each operation, the unseeded search's fastest front member next to
hand recipes, every row trained here, in one process, on the same seeds and under the same
rules: select read at every step up to 50, then every 10, each select pass charged to the
FLOPs (README "Exact step counts"); fitness's select pairs (those whose mirror is unseen);
a crossing counts only if it holds to the end of the run, and every run trains to its cap,
where holdout is measured (the re-check).

    python experiments/fast_pairs.py --run add=RUN_DIR --run sub=RUN_DIR ... [--seeds 0,1,2]

Instead of a run directory, --run may name a front member's pair file (a search's run
directory is not kept forever; its pair file is committed), and an operation may be given
more than once: rows after the first are named after their file or directory.
A search's row trains with the settings of its pair file (RUN_DIR/front/ID.json: budget,
FLOP cap and the rest) but no plateau stop; a recipe's with its own step cap lowered to --max-steps, no FLOP
cap. The fastest row of each operation (fewest median steps, then FLOPs, then parameters:
select figures only) is written as experiments/results/pairs/fast-OP.json, a pair file
that `python -m evo train --pair FILE` reproduces on any seed. Writes
experiments/results/fast_pairs.{json,md}, after every run.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evo.execution.evaluate import evaluate  # noqa: E402
from evo.machine import describe  # noqa: E402
from evo.cli.pair_args import build, suggested  # noqa: E402
from evo.pair import Pair  # noqa: E402
from evo.recipes import RECIPES  # noqa: E402
from evo.settings import RunSettings  # noqa: E402
from evo.tasks import TaskSpec  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SEARCH = "search"
RULES = {"eval_every": 10, "eval_dense": 50, "charge_evals": True, "hold": 1.0, "select": "unseen-mirror",
         "threshold": 0.99}


def fastest_member(run_dir: Path) -> tuple[Path, str]:
    """The front member with the fewest median steps to the threshold (then FLOPs, then
    parameters), read from front.json: select figures only. Where no member reached the
    threshold, the member with the best select accuracy (then the fewest parameters), so that
    the table shows how far the search got. Its pair file and a line that names it."""
    if run_dir.is_file():
        return run_dir, f"pair file {run_dir}"
    members = json.loads((run_dir / "front.json").read_text())["members"]
    reached = [m for m in members if m.get("steps_to_threshold") is not None]
    if reached:
        best = min(reached, key=lambda m: (m["steps_to_threshold"], m["flops_to_threshold"], m["params"]))
        note = ""
    elif members:
        best = min(members, key=lambda m: (-m["select_acc"], m["params"]))
        note = " (no front member reached the threshold in the search; its best select accuracy)"
    else:
        raise SystemExit(f"fast_pairs: {run_dir} has an empty front")
    return run_dir / best["pair_file"], f"{run_dir.name} {best['id']}: {best['encoder_summary']}; {best['brain_summary']}{note}"


def pair_file_settings(path: Path, **override: Any) -> tuple[Pair, RunSettings]:
    """A pair file's pair and settings as `python -m evo train --pair FILE` reads them
    (evo.cli.pair_args, checks included), with `override` on top."""
    pair, task, run, pool = suggested(None, path)
    return pair, build(pair, task, {**run, **override}, pool, "cpu")


def recipe_settings(name: str, op: str, p: int, seed: int, max_steps: int) -> RunSettings:
    recipe = RECIPES[name]
    task = TaskSpec(**{"op": op, "p": p, **recipe.task})
    return RunSettings(task=task, seed=seed, budget=min(recipe.budget, max_steps), **RULES)


def row_of(name: str, source: str, settings: RunSettings, record: dict[str, Any]) -> dict[str, Any]:
    keep = ("steps_to_threshold", "seconds_to_threshold", "flops_to_threshold", "flops_per_step", "flops_per_eval",
            "params", "holdout_acc", "holdout_acc_unseen_mirror", "select_acc", "steps_run", "stopped",
            "crossings_lost", "seconds", "curve")
    return {"op": settings.task.op, "name": name, "source": source, "seed": settings.seed,
            "settings": settings.to_dict(), **{k: record.get(k) for k in keep}}


def median_or_none(values: list[Any]) -> Any:
    """The median over seeds; None (not reached) counts as infinitely slow."""
    ordered = sorted(values, key=lambda v: float("inf") if v is None else v)
    mid = ordered[len(ordered) // 2]
    return mid if len(ordered) % 2 else (None if None in ordered[len(ordered) // 2 - 1:len(ordered) // 2 + 1]
                                         else statistics.median(ordered))


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per operation and name: medians, and the fastest name by select figures."""
    out: dict[str, Any] = {}
    for op in dict.fromkeys(r["op"] for r in rows):
        names = {}
        for name in dict.fromkeys(r["name"] for r in rows if r["op"] == op):
            rs = [r for r in rows if r["op"] == op and r["name"] == name]
            names[name] = {"seeds": [r["seed"] for r in rs],
                           "steps": median_or_none([r["steps_to_threshold"] for r in rs]),
                           "flops": median_or_none([r["flops_to_threshold"] for r in rs]),
                           "max_steps": None if any(r["steps_to_threshold"] is None for r in rs)
                           else max(r["steps_to_threshold"] for r in rs),
                           "min_holdout": min(r["holdout_acc"] for r in rs), "params": rs[0]["params"]}
        reached = [n for n, v in names.items() if v["steps"] is not None]
        fastest = min(reached, key=lambda n: (names[n]["steps"], names[n]["flops"], names[n]["params"]),
                      default=None)
        out[op] = {"rows": names, "fastest": fastest}
    return out


def fmt(values: list[Any], form: str) -> str:
    return " / ".join("-" if v is None else format(v, form) for v in values)


def table(doc: dict[str, Any]) -> str:
    lines = ["# Fast pairs: the search's fastest member next to hand recipes", "",
             f"Machine: {doc['machine']}. Command: `{doc['command']}`. Seeds {doc['seeds']} (figures seed by seed, "
             "separated by /). Every row: select read at every step to 50, then every 10, each select pass "
             "charged; select = the pairs whose mirror is unseen; a crossing must hold to the end of the run; "
             "holdout measured at the end (the cap). `-`: not reached within the cap.", "",
             "| operation | pair | cap | steps to 99% select | FLOPs to 99% | seconds to 99% | params "
             "| holdout at the end | fastest |", "|---|---|---|---|---|---|---|---|---|"]
    for op, info in doc["summary"].items():
        for name in info["rows"]:
            rs = sorted((r for r in doc["rows"] if r["op"] == op and r["name"] == name), key=lambda r: r["seed"])
            lines.append(f"| {op} | {name} | {rs[0]['settings']['budget']} "
                         f"| {fmt([r['steps_to_threshold'] for r in rs], 'd')} "
                         f"| {fmt([r['flops_to_threshold'] for r in rs], '.2e')} "
                         f"| {fmt([r['seconds_to_threshold'] for r in rs], '.2f')} | {rs[0]['params']} "
                         f"| {fmt([r['holdout_acc'] for r in rs], '.4f')} | {'yes' if info['fastest'] == name else ''} |")
    lines += ["", "Pairs:", ""]
    for source in dict.fromkeys((r["op"], r["name"], r["source"]) for r in doc["rows"]):
        lines.append(f"- {source[0]}, **{source[1]}**: {source[2]}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", action="append", default=[], metavar="OP=RUN_DIR",
                    help="an operation and the run directory of its unseeded search, or the pair file of "
                         "one of its front members (repeat)")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--p", type=int, default=97)
    ap.add_argument("--recipes", default="onehot-quad,gromov,orthograd,muon,egd")
    ap.add_argument("--max-steps", type=int, default=500, help="lower every recipe's step cap to this")
    ap.add_argument("--out", default=str(RESULTS / "fast_pairs"), help="output stem")
    ap.add_argument("--pairs-dir", default=str(RESULTS / "pairs"))
    args = ap.parse_args(argv)
    runs = [tuple(item.split("=", 1)) for item in args.run]
    seeds = [int(s) for s in args.seeds.split(",")]
    names = [n for n in args.recipes.split(",") if n]
    stem = Path(args.out)
    command = "python experiments/fast_pairs.py " + " ".join(argv if argv is not None else sys.argv[1:])
    doc: dict[str, Any] = {"benchmark": "fast_pairs", "seeds": seeds, "command": command,
                           "machine": {**describe(torch.device("cpu")), "arch": platform.machine()},
                           "started": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": [], "summary": {}}
    files: dict[tuple[str, str], dict[str, Any]] = {}
    for op in dict.fromkeys(op for op, _ in runs):
        entries = []
        for i, run_dir in enumerate(path for o, path in runs if o == op):
            path, source = fastest_member(Path(run_dir))
            # no plateau stop: every row of the table trains to its cap, where holdout is read
            pair, base = pair_file_settings(path, patience=0)
            if base.task.op != op:
                raise SystemExit(f"fast_pairs: {path} trains {base.task.op}, not {op}")
            entries.append((SEARCH if i == 0 else f"{SEARCH} ({Path(run_dir).stem})", source, pair, base.with_seed))
        entries += [(n, RECIPES[n].summary, RECIPES[n].pair,
                     lambda s, n=n: recipe_settings(n, op, args.p, s, args.max_steps)) for n in names]
        for name, src, entry_pair, settings_of in entries:
            for seed in seeds:
                settings = settings_of(seed)
                record = evaluate(entry_pair, settings, report_holdout=True)
                doc["rows"].append(row_of(name, src, settings, record))
                files[(op, name)] = settings.with_seed(0).pair_file(entry_pair)
                doc["summary"] = summary(doc["rows"])
                stem.with_suffix(".json").write_text(json.dumps(doc, indent=1))
                print(f"{op:8s} {name:12s} seed {seed}: steps {record['steps_to_threshold']}, "
                      f"holdout {record['holdout_acc']:.4f}, {record['seconds']:.1f} s", flush=True)
        fastest = doc["summary"][op]["fastest"]
        if fastest is not None:
            Path(args.pairs_dir).mkdir(parents=True, exist_ok=True)
            (Path(args.pairs_dir) / f"fast-{op}.json").write_text(json.dumps(files[(op, fastest)], indent=1) + "\n")
    doc["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    stem.with_suffix(".json").write_text(json.dumps(doc, indent=1))
    stem.with_suffix(".md").write_text(table(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
