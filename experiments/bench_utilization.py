"""How much of the machine the main job uses: the training FLOPs its records count, per
second of wall time, against this machine's peak measured in the same process.

    python experiments/bench_utilization.py [--run-dir RUN_DIR --wall SECONDS] [--out FILE] [-- run flags]

Without --run-dir it runs the main job (`python -m evo run --generations 50`, flags after
--) as experiments/bench_run.py does. Peak: a 2048 x 2048 float32 matmul on one thread (each
worker trains on one thread), times the number of workers. `overall` is FLOPs per wall
second over that peak; `while_training` is FLOPs per second of training (the records' own
clocks, summed) over the one-thread peak. Writes one JSON document (default
experiments/results/bench_utilization.json).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from bench_run import run_once, utilization  # noqa: E402  (this folder)
from evo.machine import describe  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, help="a finished run to read instead of running one")
    parser.add_argument("--wall", type=float, help="with --run-dir: its wall time in seconds")
    parser.add_argument("--generations", type=int, default=50)
    parser.add_argument("--out", default="experiments/results/bench_utilization.json")
    parser.add_argument("extra", nargs="*", help="more `evo run` flags, after --")
    args = parser.parse_args()
    if args.run_dir:
        if args.wall is None:
            parser.error("--run-dir needs --wall (the run's wall time)")
        state = json.loads((args.run_dir / "checkpoint.json").read_text())["state"]
        doc = {"run_dir": str(args.run_dir), "wall_seconds": args.wall, "utilization": utilization(state, args.wall)}
    else:
        run = run_once(args.generations, args.extra)
        doc = {key: run[key] for key in ("command", "wall_seconds", "pairs_trained", "utilization")}
    doc = {"benchmark": "bench_utilization", "machine": describe(torch.device("cpu")), **doc}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    u = doc["utilization"]
    print(f"{u['training_flops']:.3g} training FLOPs; {u['overall']:.1%} of peak over the wall time, "
          f"{u['while_training'] or 0:.1%} while training; wrote {args.out}")


if __name__ == "__main__":
    main()
