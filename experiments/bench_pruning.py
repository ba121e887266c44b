"""The plateau stop (`--patience`) against none: the main job's wall time and its best
front pair, on several seeds.

    python experiments/bench_pruning.py [--seeds 0,1,2] [--patience 5] [--generations 50]

Writes JSON (default experiments/results/bench_pruning.json) and prints a table.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_run import run_once, summary  # noqa: E402

from evo.machine import describe  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--generations", type=int, default=50)
    parser.add_argument("--out", default="experiments/results/bench_pruning.json")
    args = parser.parse_args()
    rows = []
    for seed in args.seeds.split(","):
        for patience in (0, args.patience):
            doc = run_once(args.generations, ["--seed", seed, "--patience", str(patience)])
            doc.pop("logbook")
            rows.append({"seed": int(seed), "patience": patience, **doc})
            print(f"seed {seed} patience {patience}: {summary(doc)}", flush=True)
    out = {"benchmark": "bench_pruning", "machine": describe(torch.device("cpu")),
           "command": f"python experiments/bench_pruning.py --seeds {args.seeds} --patience {args.patience} "
                      f"--generations {args.generations}", "results": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
