"""Flushing denormal floats to zero while training: how much faster, and are the records the same?

    python experiments/bench_flush.py [--pairs 60] [--out FILE]

brains.denormals.flushed_denormals wraps every trainer. This trains the distinct front
members of the committed main-job benchmarks (add mod 97, the main job's run settings,
seed 0, one thread, as a search worker does) twice each, with the flush and with it
turned off (the trainers' context manager replaced by a no-op), alternating which goes
first, and compares every figure of the two records but the clocks: stop, steps, crossing,
every curve point. Writes JSON (default experiments/results/bench_flush.json).
"""
from __future__ import annotations

import argparse
import contextlib
import glob
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

import brains.train  # noqa: E402
from batched_device import RUNS, front_pairs  # noqa: E402  (this folder)
from evo.execution.evaluate import evaluate  # noqa: E402
from evo.machine import describe  # noqa: E402
from evo.search.config import RunConfig  # noqa: E402

CLOCKS = ("seconds", "seconds_to_threshold", "profile", "machine")


def figures(record: dict) -> str:
    """Every figure but the clocks, as text (so that NaN equals NaN)."""
    return json.dumps({k: v for k, v in record.items() if k not in CLOCKS}, sort_keys=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=60)
    parser.add_argument("--out", default="experiments/results/bench_flush.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    settings = RunConfig(workers=1).run_settings("cpu")
    flushing = brains.train.flushed_denormals
    seconds = {"flushed": 0.0, "not flushed": 0.0}
    rows = []
    for k, pair in enumerate(front_pairs(glob.glob(RUNS), args.pairs)):
        records = {}
        for way in (("flushed", "not flushed") if k % 2 == 0 else ("not flushed", "flushed")):
            brains.train.flushed_denormals = flushing if way == "flushed" else contextlib.nullcontext
            began = time.perf_counter()
            records[way] = evaluate(pair, settings)
            seconds[way] += time.perf_counter() - began
        brains.train.flushed_denormals = flushing
        same = figures(records["flushed"]) == figures(records["not flushed"])
        rows.append({"pair": k, "brain": records["flushed"]["brain"].get("activation"), "identical": same,
                     "seconds": {w: r["seconds"] for w, r in records.items()}})
        print(f"pair {k}: identical {same}, {records['not flushed']['seconds']:.2f} s -> "
              f"{records['flushed']['seconds']:.2f} s", flush=True)
    doc = {"benchmark": "bench_flush", "machine": describe(torch.device("cpu")), "pairs": len(rows),
           "identical": sum(r["identical"] for r in rows), "seconds": seconds,
           "flushed_over_not": seconds["flushed"] / seconds["not flushed"], "rows": rows}
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{doc['identical']} of {len(rows)} identical; flushed / not flushed: {doc['flushed_over_not']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
