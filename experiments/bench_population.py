"""Same-shape MLP pairs trained one by one versus as one batched group (brains.batched).

    python experiments/bench_population.py [--sizes 4,16,64] [--json] [--out FILE]

For each group size and each of two shapes (a small minibatch MLP, and the full-batch
quadratic MLP the search finds), members differ in learning rate, weight decay, seed and
code table (random codes of one width), as a generation's children do. Both ways run
the default budget of the search (300 steps, evaluation every 10) with the threshold set
out of reach, so that both do the same work. Reports wall times, their ratio, evaluations
per minute, and achieved FLOP/s against the peak float32 matrix-multiply FLOP/s measured on
this machine in this run. Writes JSON (default experiments/results/bench_population.json).
"""
from __future__ import annotations

import sys

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from brains.gene import BrainGene
from encoders.gene import EncoderGene
from evo.execution.evaluate import evaluate, evaluate_group
from evo.machine import describe
from evo.pair import Pair
from evo.tasks import TaskSpec
from evo.settings import RunSettings  # noqa: E402
from yardsticks import peak_matmul_flops, sync  # noqa: E402  (experiments/, this script's folder)

SHAPES = {
    "small-minibatch": BrainGene(hidden=(32,), lr=3e-3, weight_decay=1.0, batch_size=256, warmup=0),
    "quad-fullbatch": BrainGene(hidden=(128,), activation="quadratic", bias=False, loss="mse", lr=1e-2,
                                weight_decay=1.0, warmup=0),
}
BUDGET, EVAL_EVERY = 300, 10


def jobs(brain: BrainGene, size: int) -> list[tuple[Pair, TaskSpec, int]]:
    task = TaskSpec(p=97)
    return [(Pair(EncoderGene(family="random", dim=64, code_seed=i),
                  dataclasses.replace(brain, lr=brain.lr * (1 + i % 4) / 2, weight_decay=0.5 + i % 3)),
             task, i) for i in range(size)]


def measure(shape: str, size: int, peak: float, device: str = "cpu") -> dict:
    group = jobs(SHAPES[shape], size)
    settings = [RunSettings(task=task, seed=seed, budget=BUDGET, threshold=1.01, eval_every=EVAL_EVERY, device=device)
                for _, task, seed in group]
    start = time.perf_counter()
    alone = [evaluate(pair, s) for (pair, _, _), s in zip(group, settings)]
    sync(device)
    loop_seconds = time.perf_counter() - start
    start = time.perf_counter()
    together = evaluate_group([pair for pair, _, _ in group], settings)
    sync(device)
    batched_seconds = time.perf_counter() - start
    assert all(r["group_size"] == size for r in together)
    flops = sum(r["flops_per_step"] * r["steps_run"] for r in alone)
    return {"shape": shape, "members": size, "budget": BUDGET, "params_per_member": alone[0]["params"],
            "loop_seconds": loop_seconds, "batched_seconds": batched_seconds,
            "speedup": loop_seconds / batched_seconds,
            "evals_per_minute_loop": 60 * size / loop_seconds,
            "evals_per_minute_batched": 60 * size / batched_seconds,
            "training_flops": flops, "flops_per_second_loop": flops / loop_seconds,
            "flops_per_second_batched": flops / batched_seconds,
            "fraction_of_peak_batched": flops / batched_seconds / peak,
            "max_select_acc_gap": max(abs(a["select_acc"] - b["select_acc"]) for a, b in zip(alone, together))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4,16,64")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--json", action="store_true", help="print one JSON object (16-member case first)")
    parser.add_argument("--out", default="experiments/results/bench_population.json")
    args = parser.parse_args()
    peak = peak_matmul_flops(torch.get_num_threads())
    warm = jobs(SHAPES["small-minibatch"], 2)  # first calls pay for imports and JIT: not timed
    evaluate_group([pair for pair, _, _ in warm], [RunSettings(task=task, seed=seed, budget=20) for _, task, seed in warm])
    evaluate(warm[0][0], RunSettings(task=warm[0][1], budget=20))
    rows = []
    for shape in args.shapes.split(","):
        for size in map(int, args.sizes.split(",")):
            row = measure(shape, size, peak)
            rows.append(row)
            if not args.json:
                print(f"{shape:16s} {size:3d} members: loop {row['loop_seconds']:7.2f} s  batched "
                      f"{row['batched_seconds']:7.2f} s  speedup {row['speedup']:5.2f}x  "
                      f"{row['evals_per_minute_batched']:7.1f} evals/min  "
                      f"{100 * row['fraction_of_peak_batched']:5.1f}% of peak", flush=True)
    doc = {"benchmark": "bench_population", "machine": describe(torch.device("cpu")),
           "peak_matmul_flops_per_second": peak, "results": rows,
           "command": "python experiments/bench_population.py --sizes " + args.sizes + " --shapes " + args.shapes}
    sixteen = next((r for r in rows if r["members"] == 16), rows[0])
    doc.update({k: sixteen[k] for k in ("loop_seconds", "batched_seconds", "speedup")})
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    if args.json:
        print(json.dumps(doc))
    else:
        print(f"peak matmul {peak / 1e9:.1f} GFLOP/s; wrote {args.out}")


if __name__ == "__main__":
    main()
