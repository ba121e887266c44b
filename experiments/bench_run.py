"""Wall time of the main job, the number of pairs it scored, and its best front pair.

    python experiments/bench_run.py [--generations 50] [--out FILE] [--keep RUN_DIR] [--no-power]
                                    [-- extra run flags]

Runs `python -m evo run --generations N --no-dashboard` (defaults otherwise) in a fresh
run directory as a child process, times it, and writes one JSON document (default
experiments/results/bench_run.json) with the machine, the command, the wall time, the
logbook and the front. Then, in this process on the same machine, it times one `power` run
to its crossing and gives the main job's wall time as a multiple of it (`wall_over_power`),
and the training FLOPs the job's records count per second of wall time against this
machine's peak (`utilization`, see experiments/bench_utilization.py): ratios that hold
from one machine to the next, where seconds do not. `--cold` runs the main job with empty
numba and bytecode caches, as on a fresh install (the worker start-up is timed both ways
in every run: `profile.worker_start`, and its `cold`).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from evo.machine import describe  # noqa: E402
from yardsticks import peak_matmul_flops, power_run, training_flops  # noqa: E402  (this folder)


def cold_env(tmp: str) -> dict[str, str]:
    """The environment of a fresh install: an empty numba cache (every worker compiles the
    encoder kernels) and an empty bytecode cache (every module is compiled on import)."""
    return {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba"),
            "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache")}


def run_once(generations: int, extra: list[str], keep: str | None = None, cold: bool = False) -> dict:
    """One timed main-job run in a temporary directory (or `keep`, left in place for
    `evo report`); its figures and front. `cold`: with the caches of a fresh install empty."""
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(keep) if keep else Path(tmp) / "run"
        command = [sys.executable, "-m", "evo", "run", "--generations", str(generations),
                   "--no-dashboard", "--out", str(run_dir), *extra]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=cold_env(tmp) if cold else None)
        wall = time.perf_counter() - start
        state = json.loads((run_dir / "checkpoint.json").read_text())["state"]
        front = json.loads((run_dir / "front.json").read_text())
        events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    best = min(front["members"], key=best_key)
    stopped: dict[str, int] = {}
    groups: dict[str, int] = {}   # runs by the size of the batched group they trained in
    devices: dict[str, int] = {}  # runs by the device they trained on (two under --device mixed)
    for record in state["cache"].values():
        device = record.get("machine", {}).get("device", "?").split(":")[0]
        devices[device] = devices.get(device, 0) + 1
        stopped[record.get("stopped", "failed")] = stopped.get(record.get("stopped", "failed"), 0) + 1
        size = str(record.get("group_size", 1))
        groups[size] = groups.get(size, 0) + 1
    return {"train_seconds": where_time_goes(list(state["cache"].values())),
            "command": "python -m evo run " + " ".join(command[4:6] + extra), "config": state["config"],
            "utilization": utilization(state, wall), "profile": phase_profile(state, events, wall),
            "wall_seconds": wall, "pairs_trained": len(state["cache"]), "stopped": stopped,
            "runs_by_group_size": groups, "runs_by_device": devices,
            "front_rechecks": len(state["finals"]), "logbook": state["logbook"], "front": front, "best": best}


def utilization(state: dict, wall: float) -> dict:
    """Training FLOPs the run's records count (search runs and re-checks), per second of wall
    time and per second of training, against the peak of a float32 matmul on one thread
    times the workers (each worker trains on one thread)."""
    workers = state["config"]["workers"]
    records = [*state["cache"].values(), *state["finals"].values()]
    flops, seconds = training_flops(records)
    peak = peak_matmul_flops(1)
    return {"training_flops": flops, "training_seconds_summed": seconds, "workers": workers,
            "peak_flops_one_thread": peak, "flops_per_wall_second": flops / wall,
            "overall": flops / wall / (peak * workers),
            "while_training": flops / seconds / peak if seconds else None,
            "by_flops_per_step": by_size(records, peak)}


def by_size(records: list[dict], peak: float) -> dict[str, dict[str, float]]:
    """Runs, training seconds and the share of the one-thread peak while training, by the
    decade of a run's FLOPs per step: small networks and large ones are bound by different
    things, and this says which of them the time goes to."""
    out: dict[str, dict[str, float]] = {}
    for record in records:
        per_step = record.get("flops_per_step") or 0
        if record.get("failed") or not per_step:
            continue
        decade = f"1e{len(str(int(per_step))) - 1}"
        row = out.setdefault(decade, {"runs": 0, "seconds": 0.0, "flops": 0.0})
        row["runs"] += 1
        row["seconds"] += record.get("seconds") or 0.0
        row["flops"] += training_flops([record])[0]
    for row in out.values():
        row["of_peak"] = row["flops"] / row["seconds"] / peak if row["seconds"] else None
    return dict(sorted(out.items()))


def phase_profile(state: dict, events: list[dict], wall: float) -> dict:
    """Where the main job's time went. Driver (wall seconds): generations, checkpoint writing,
    final re-checks, and the rest (process start-up, imports, pool start, front files).
    Workers (worker-seconds, from every record's own profile): preparing (split, encoding,
    model), set-up (FLOP counting, optimizer), training steps, evaluations, holdout; and the
    workers' time in none of these (scheduling, start-up, numba, pickling, waiting at the
    generation barrier). A cold worker's imports and first code tables are timed apart
    (`worker_start`)."""
    timing: dict[str, float] = {}
    for event in events:
        if event.get("event") == "timing":
            timing[event["phase"]] = timing.get(event["phase"], 0.0) + event["seconds"]
    driver = {"generations": timing.get("generation", 0.0), "checkpoints": timing.get("checkpoint", 0.0),
              "rechecks": timing.get("rechecks", 0.0)}
    driver["other"] = wall - sum(driver.values())
    workers: dict[str, float] = {}
    for record in [*state["cache"].values(), *state["finals"].values()]:
        for phase, seconds in record.get("profile", {}).items():
            workers[phase] = workers.get(phase, 0.0) + seconds
    capacity = wall * state["config"]["workers"]
    workers["outside_runs"] = capacity - sum(workers.values())
    return {"wall_seconds": wall, "driver_seconds": driver, "worker_seconds": workers,
            "worker_capacity_seconds": capacity, "worker_start": worker_start()}


WORKER_START = """
import json, time
t0 = time.perf_counter()
import evo.execution.parallel
t1 = time.perf_counter()
from encoders import FAMILIES, build_table
from encoders.gene import EncoderGene
for family in FAMILIES:
    build_table(EncoderGene(family=family), 97)
t2 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "first_tables": t2 - t1}))
"""


def worker_start() -> dict:
    """A fresh process doing what a worker does first: import the scorer, build one code
    table of every family (numba compiles its kernels, or loads them from its cache); warm
    (this install's caches) and cold (empty caches, as on a fresh install)."""
    def once(env: dict[str, str] | None) -> dict:
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", WORKER_START], check=True, capture_output=True, text=True,
                             env=env)
        return {**json.loads(out.stdout), "process": time.perf_counter() - start}
    with tempfile.TemporaryDirectory() as tmp:
        return {**once(None), "cold": once(cold_env(tmp))}


def best_key(member: dict) -> tuple:
    """The member a user would pick from front.json: fewest median FLOPs to the threshold on
    the re-check's fresh seeds (select accuracy; holdout plays no part), then fewest
    parameters; a member whose median missed comes last, by its search objectives."""
    flops = member["flops_to_threshold"]
    return (flops is None, flops or 0.0, member["params"], member["search_objectives"])


def where_time_goes(records: list[dict]) -> dict:
    """Training seconds (summed over runs, all workers), run counts and runs that reached the
    threshold, by brain family and by the brain's training mechanisms: the profile of where
    a search spends its time, and what it got for it."""
    out: dict[str, dict[str, float]] = {}

    def add(group: str, key: str, seconds: float) -> None:
        entry = out.setdefault(group, {}).setdefault(key, {"seconds": 0.0, "runs": 0, "reached": 0})
        entry["seconds"] += seconds
        entry["runs"] += 1
        entry["reached"] += reached
    for record in records:
        brain, seconds = record.get("brain", {}), record.get("seconds") or 0.0
        reached = int(record.get("stopped") == "threshold")
        add("family", brain.get("family", "?"), seconds)
        add("optimizer", brain.get("optimizer", "?"), seconds)
        add("grokfast", "off" if not brain.get("grokfast_lambda") else brain.get("grokfast_filter", "ema"), seconds)
        for flag in ("orthograd", "norm_constraint", "stablemax"):
            add(flag, str(bool(brain.get(flag))), seconds)
    return out


def summary(doc: dict) -> str:
    best = doc["best"]
    ratio = f" ({doc['wall_over_power']:.2f} power runs)" if "wall_over_power" in doc else ""
    return (f"wall {doc['wall_seconds']:.1f} s{ratio}, {doc['pairs_trained']} pairs trained {doc['stopped']}; best: "
            f"{best['encoder_summary']} / {best['brain_summary']}: steps {best['steps_to_threshold']}, params "
            f"{best['params']}, holdout {best['holdout_acc']} (at the threshold {best.get('holdout_acc_at_threshold')}), "
            f"unseen mirror {best['holdout_acc_unseen_mirror']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=50)
    parser.add_argument("--out", default="experiments/results/bench_run.json")
    parser.add_argument("--keep", metavar="RUN_DIR", help="run in RUN_DIR (new) and leave it there")
    parser.add_argument("--no-power", action="store_true", help="skip the power yardstick")
    parser.add_argument("--cold", action="store_true",
                        help="run the main job with empty numba and bytecode caches, as on a fresh install")
    parser.add_argument("extra", nargs="*", help="more `evo run` flags, after --")
    args = parser.parse_args()
    doc = {"benchmark": "bench_run", "machine": describe(torch.device("cpu")),
           "caches": "cold" if args.cold else "warm", **run_once(args.generations, args.extra, args.keep, args.cold)}
    if not args.no_power:
        doc["power"] = power_run()
        doc["wall_over_power"] = doc["wall_seconds"] / doc["power"]["seconds_to_threshold"]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{summary(doc)}; wrote {args.out}")


if __name__ == "__main__":
    main()
