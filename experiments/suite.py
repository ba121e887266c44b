"""Every operation of Power et al.'s suite: the search's best pair against the `power` recipe.

    python experiments/suite.py [--ops all] [--generations 50] [--power-cap 3000] [--out FILE]

For each operation, mod 97 with 50% of the pairs for training:
- the main job, `python -m evo run --task OP` on defaults (timed as a child process), and
  its best front member as a user would pick it from front.json (fewest median re-check
  FLOPs to 99% select: holdout plays no part in the choice);
- the `power` recipe trained once (seed 0) up to --power-cap steps.
Both are then read the same way: the first evaluation at which holdout accuracy reached 99%
(holdout is measured at every evaluation of these report runs, off the clock, and never
stops or steers them). Seconds to that step are the run's measured training seconds per
step times the step. For the search's pair the figure is the median over its re-check
seeds (a seed that never reached counts as worse than any that did). Results are saved
after every operation; --resume skips operations already in the JSON, but for those given by
--from-run, which replace theirs.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from bench_run import best_key  # noqa: E402
from evo.execution.evaluate import evaluate  # noqa: E402
from evo.rundir.final import median  # noqa: E402
from evo.machine import describe  # noqa: E402
from reproduce import machine_line  # noqa: E402
from evo.pair import Pair  # noqa: E402
from evo.recipes import RECIPES  # noqa: E402
from evo.search.scoring import run_key  # noqa: E402
from evo.search.config import RunConfig  # noqa: E402
from evo.tasks import OPERATIONS, TaskSpec  # noqa: E402
from evo.settings import RunSettings  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
TARGET = 0.99


def to_holdout(record: dict[str, Any], target: float = TARGET) -> tuple[int | None, float | None]:
    """(step, seconds) of the first evaluation with holdout accuracy >= target, or Nones.
    A curriculum's curve and run figures are its last stage's: the earlier stages' steps
    and seconds are added, as they are to its cost."""
    step = next((pt["step"] for pt in record.get("curve", []) if (pt.get("holdout_acc") or 0) >= target), None)
    if step is None or not record.get("steps_run"):
        return None, None
    earlier = record.get("curriculum", {}).get("stages", [])[:-1]
    return (sum(s["steps_run"] for s in earlier) + step,
            sum(s["seconds"] for s in earlier) + record["seconds"] * step / record["steps_run"])


def search_row(op: str, p: int, generations: int, extra: list[str], keep: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = keep / op if keep else Path(tmp) / "run"
        command = [sys.executable, "-m", "evo", "run", "--task", op, "--p", str(p), "--generations",
                   str(generations), "--no-dashboard", "--out", str(run_dir), *extra]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        shown = " ".join(["python -m evo run", *command[4:]]).replace(str(run_dir), "RUN_DIR")
        return read_run(run_dir, wall, shown)


def timed_seconds(run_dir: Path) -> float:
    """A finished run directory's wall time as its own clock read it: the sum of the timed
    phases in its event log (generations, checkpoints, re-checks), over every resume. For a
    search run by hand (stopped and resumed) rather than by this script; start-up is left out."""
    events = (json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines() if line.strip())
    return sum(e["seconds"] for e in events if e.get("event") == "timing")


def read_run(run_dir: Path, wall: float, command: str) -> dict[str, Any]:
    """The search's row from its finished run directory: its best front member as a user
    would pick it from front.json, and that member's re-check records."""
    state = json.loads((run_dir / "checkpoint.json").read_text())["state"]
    front = json.loads((run_dir / "front.json").read_text())
    config = RunConfig.from_dict(state["config"])
    best = min(front["members"], key=best_key)
    pair = Pair.from_dict(best)
    records = [state["finals"][run_key(pair, config.run_settings().with_seed(s), holdout=True)]
               for s in best["seeds"]]
    hits = [to_holdout(r) for r in records]
    return {"command": command, "config": state["config"], "wall_seconds": wall, "generations": state["generation"] + 1,
            "pairs_trained": len(state["cache"]),
            "reached_select": sum(r.get("stopped") == "threshold" for r in state["cache"].values()),
            "best": {k: best[k] for k in ("encoder_summary", "brain_summary", "combiner", "params", "seeds",
                                          "steps_to_threshold", "holdout_acc", "holdout_acc_at_threshold")},
            "pair": pair.to_dict(),
            "pair_file": config.run_settings("cpu").pair_file(pair),
            "steps_to_holdout": median([h[0] for h in hits]),
            "seconds_to_holdout": median([h[1] for h in hits]),
            "per_seed": [{"seed": r["seed"], "steps_to_holdout": h[0], "seconds_to_holdout": h[1],
                          "holdout_acc": r["holdout_acc"], "steps_run": r["steps_run"], "curve": r["curve"]}
                         for r, h in zip(records, hits)]}


def power_row(op: str, p: int, cap: int, seed: int) -> dict[str, Any]:
    record = evaluate(RECIPES["power"].pair, RunSettings(task=TaskSpec(op=op, p=p), seed=seed, budget=cap), report_holdout=True)
    step, seconds = to_holdout(record)
    return {"seed": seed, "cap": cap, "steps_to_holdout": step, "seconds_to_holdout": seconds,
            "steps_to_threshold": record["steps_to_threshold"], "holdout_acc": record["holdout_acc"],
            "steps_run": record["steps_run"], "seconds": record["seconds"], "params": record["params"],
            "curve": record["curve"]}


def table(doc: dict[str, Any]) -> str:
    def fig(steps: Any, seconds: Any, cap: Any) -> str:
        return f"not reached in {cap}" if steps is None else f"{steps} / {seconds:.1f} s"
    lines = [f"# The operation suite mod {doc['p']}, 50% train: search's best pair vs `power`", "",
             f"Machine: {doc['machine']}. Command: `{doc['command']}`. Steps / seconds to 99% holdout "
             "accuracy (first evaluation at or above it). Search: median over its re-check seeds, runs "
             f"capped at the search's budget; `power`: seed {doc['power_seed']}, capped at {doc['power_cap']} steps.", "",
             "| operation | search: best pair | params | steps / s to 99% holdout | holdout at end | search wall s "
             "| `power`: steps / s to 99% holdout | holdout at end |", "|---|---|---|---|---|---|---|---|"]
    for op, row in doc["ops"].items():
        s, pw = row["search"], row["power"]
        cap = max(r["steps_run"] for r in s["per_seed"])
        found = fig(s["steps_to_holdout"], s["seconds_to_holdout"], cap) if s["reached_select"] else \
            f"not reached: none of its {s['pairs_trained']} pairs reached 99% select"
        lines.append(f"| {op} | {s['best']['encoder_summary']} / {s['best']['brain_summary']} | {s['best']['params']} | "
                     f"{found} | {s['best']['holdout_acc']:.3f} | "
                     f"{s['wall_seconds']:.0f} | {fig(pw['steps_to_holdout'], pw['seconds_to_holdout'], pw['steps_run'])} "
                     f"| {pw['holdout_acc']:.3f} |")
    by_hand = [(op, row["search"]) for op, row in doc["ops"].items() if row["search"]["command"].startswith("run dir")]
    if by_hand:
        lines += ["", "Searches read from a run directory (`--from-run`; wall time: the sum of its timed phases):"]
        lines += [f"- {op}: {s['command']}, {s['generations']} generations, {s['pairs_trained']} runs"
                  + (f"; read on {s['machine']}" if "machine" in s else "") for op, s in by_hand]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", default="all", help="comma list of operations, or all")
    parser.add_argument("--p", type=int, default=97)
    parser.add_argument("--generations", type=int, default=50)
    parser.add_argument("--power-cap", type=int, default=3000)
    parser.add_argument("--power-seed", type=int, default=0)
    parser.add_argument("--out", default=str(RESULTS / "suite"))
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--power-from", metavar="FILE.json",
                        help="take each operation's `power` row from this earlier suite JSON (same machine, "
                             "same day) instead of training it again")
    parser.add_argument("--keep", metavar="DIR", help="keep each search's run directory as DIR/OP")
    parser.add_argument("--pairs", metavar="DIR", help="write each operation's best pair, where the search "
                                                       "reached 99%% select, as DIR/suite-OP.json")
    parser.add_argument("--from-run", metavar="OP=DIR", action="append", default=[],
                        help="read OP's search from this finished run directory (a search run by hand, "
                             "stopped and resumed) instead of running one; its wall time is the sum of the "
                             "timed phases in its event log. Repeatable")
    parser.add_argument("extra", nargs="*", help="more `evo run` flags, after --")
    args = parser.parse_args(argv)
    done_by_hand = dict(item.split("=", 1) for item in args.from_run)
    ops = list(OPERATIONS) if args.ops == "all" else args.ops.split(",")
    ops += [op for op in done_by_hand if op not in ops]
    out = Path(args.out)
    here = machine_line(describe(torch.device("cpu")))
    doc: dict[str, Any] = {"benchmark": "suite", "machine": here, "p": args.p,
                           "power_cap": args.power_cap, "power_seed": args.power_seed,
                           "command": "python experiments/suite.py " + " ".join(sys.argv[1:] if argv is None else argv),
                           "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "ops": {}}
    if args.resume and out.with_suffix(".json").exists():
        command, doc = doc["command"], json.loads(out.with_suffix(".json").read_text())
        doc["command"] += f"`, then `{command}"
    earlier = json.loads(Path(args.power_from).read_text())["ops"] if args.power_from else {}
    for op in ops:
        if op in doc["ops"] and op not in done_by_hand:
            continue
        if op in done_by_hand:
            run_dir = Path(done_by_hand[op])
            search = read_run(run_dir, timed_seconds(run_dir), f"run directory {run_dir.name} (its config: "
                              "config.json there; stopped and resumed by hand)")
            search["machine"] = here   # a resumed JSON's header may name another machine
        else:
            search = search_row(op, args.p, args.generations, args.extra, Path(args.keep) if args.keep else None)
        row = {"search": search,
               "power": earlier[op]["power"] if op in earlier else power_row(op, args.p, args.power_cap, args.power_seed)}
        doc["ops"][op] = row
        if args.pairs and row["search"]["reached_select"]:
            Path(args.pairs).mkdir(parents=True, exist_ok=True)
            (Path(args.pairs) / f"suite-{op}.json").write_text(json.dumps(row["search"]["pair_file"], indent=1) + "\n")
        print(f"{op}: search {row['search']['steps_to_holdout']} steps, power {row['power']['steps_to_holdout']} "
              f"steps", flush=True)
        out.with_suffix(".json").write_text(json.dumps(doc, indent=1))
        out.with_suffix(".md").write_text(table(doc))
    doc["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    out.with_suffix(".json").write_text(json.dumps(doc, indent=1))
    out.with_suffix(".md").write_text(table(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
