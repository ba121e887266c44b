"""The main job's own generations trained one by one and batched (brains.batched: padded
cells of a grid of shapes), side by side in one process on one thread, as one worker of
the main job would train them.

Reads the jobs of a finished run (its checkpoint's cache, in the order they were trained;
a generation's jobs are the ones its logbook row added), replays each generation both ways,
alternating which goes first, and writes the seconds, the speed-up, how the groups came out
and how far the batched figures are from the lone ones.

    python -m evo run --generations 50 --seed 0 --no-dashboard --out RUN
    python experiments/bench_batching.py --run RUN --out experiments/results/bench_batching_seed0.json
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from evo.execution.jobs import run_group  # noqa: E402
from evo.execution.parallel import THREADS, plan_groups  # noqa: E402
from evo.machine import describe  # noqa: E402
from evo.pair import Pair  # noqa: E402
from evo.rundir.checkpoint import load  # noqa: E402
from evo.settings import Job, RunSettings  # noqa: E402


def generations(run: Path) -> list[list[Job]]:
    """Each generation's jobs, as the run trained them (lone: its settings say so)."""
    state = load(run)
    jobs = []
    for key in state["cache"]:
        doc = json.loads(key)
        if doc.pop("holdout", False):
            continue
        pair = Pair.from_dict(doc.pop("pair"))
        jobs.append(Job(pair, RunSettings.from_dict(doc)))
    out, start = [], 0
    for row in state["logbook"]:
        out.append(jobs[start:row["trained"]])
        start = row["trained"]
    return [g for g in out if g]


def timed(jobs: list[Job], units: list[list[int]]) -> tuple[float, list[dict]]:
    records: list[dict | None] = [None] * len(jobs)
    began = time.perf_counter()
    for unit in units:
        for i, record in zip(unit, run_group([jobs[i] for i in unit])):
            records[i] = record
    return time.perf_counter() - began, records  # type: ignore[return-value]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", required=True, help="a finished run's directory")
    ap.add_argument("--every", type=int, default=1, help="replay every k-th generation")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(THREADS)
    gens = generations(Path(args.run))[::args.every]
    rows = []
    for g, lone in enumerate(gens):
        batched = [Job(job.pair, dataclasses.replace(job.settings, batched=True)) for job in lone]
        units = plan_groups(batched, 1)
        runs = [(lone, [[i] for i in range(len(lone))]), (batched, units)]
        if g % 2:
            runs.reverse()
        (a_s, a_rec), (b_s, b_rec) = (timed(jobs, plan) for jobs, plan in runs)
        if g % 2:
            (a_s, a_rec), (b_s, b_rec) = (b_s, b_rec), (a_s, a_rec)
        same_stop = sum(x["steps_to_threshold"] == y["steps_to_threshold"] and x["steps_run"] == y["steps_run"]
                        for x, y in zip(a_rec, b_rec))
        acc_gap = max(abs((x.get("select_acc") or 0) - (y.get("select_acc") or 0)) for x, y in zip(a_rec, b_rec))
        rows.append({"generation": g * args.every, "jobs": len(lone), "lone_seconds": a_s, "batched_seconds": b_s,
                     "speedup": a_s / b_s, "groups": sorted((len(u) for u in units), reverse=True),
                     "same_steps": same_stop, "max_select_acc_gap": acc_gap,
                     "failed": sum(bool(r.get("failed")) for r in b_rec)})
        print(f"gen {rows[-1]['generation']:3d}: {len(lone):2d} jobs in {len(units):2d} groups  "
              f"lone {a_s:6.2f} s  batched {b_s:6.2f} s  x{a_s / b_s:5.2f}  same steps {same_stop}/{len(lone)}",
              flush=True)
    lone_total, batched_total = sum(r["lone_seconds"] for r in rows), sum(r["batched_seconds"] for r in rows)
    doc = {"benchmark": "bench_batching", "machine": {**describe(torch.device("cpu")), "threads": THREADS},
           "run": str(args.run), "run_config": load(Path(args.run))["config"], "every": args.every, "generations": len(rows),
           "lone_seconds": lone_total, "batched_seconds": batched_total, "speedup": lone_total / batched_total,
           "median_generation_speedup": statistics.median(r["speedup"] for r in rows),
           "jobs": sum(r["jobs"] for r in rows), "same_steps": sum(r["same_steps"] for r in rows),
           "max_select_acc_gap": max(r["max_select_acc_gap"] for r in rows), "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1))
    print(f"all: lone {lone_total:.1f} s, batched {batched_total:.1f} s: x{lone_total / batched_total:.2f}; "
          f"same steps {doc['same_steps']}/{doc['jobs']} -> {args.out}")


if __name__ == "__main__":
    main()
