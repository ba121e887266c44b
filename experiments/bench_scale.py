"""Cost of encoding and of one training step as p grows (97, 211, 499, 1009: up to a
million pairs), on the CPU, with the memory peak; numba kernels against plain numpy.

    python experiments/bench_scale.py [--primes 97,211,499,1009] [--out FILE]

Each prime runs in its own child process so that its memory peak (ru_maxrss) is its own.
The encoder is the forum's (VarCycle d=400, summed then top-1/3 SDR: the heaviest pair
kernel) and one-hot concat; the training step is a full-batch step of an MLP [128] on
fixed-width VarCycle features, so its cost should grow with the number of pairs only.
Writes JSON (default experiments/results/bench_scale.json) and prints a table.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not


def numpy_pair_features(table: np.ndarray, a: np.ndarray, b: np.ndarray, mode: str, k: int) -> np.ndarray:
    """The plain numpy version the numba kernels are measured against."""
    if mode == "concat":
        return np.concatenate([table[a], table[b]], axis=1)
    s = table[a] + table[b]
    out = np.zeros_like(s)
    top = np.argpartition(-s, k - 1, axis=1)[:, :k]
    np.put_along_axis(out, top, 1.0, axis=1)
    return out


def best_of(fn, reps: int = 3) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(p: int) -> dict:
    import torch

    from brains.gene import BrainGene
    from brains.models import build_model
    from brains.optim import make_optimizers
    from brains.losses import loss_function
    from encoders import build_table, pair_features
    from encoders.gene import EncoderGene
    from evo.tasks import TaskSpec, make_split

    split = make_split(TaskSpec(p=p))
    a, b = split.pairs[:, 0], split.pairs[:, 1]
    forum = EncoderGene(family="varcycle", dim=400, combiner="sum_sdr", combine_k=1 / 3)
    onehot = EncoderGene(family="onehot", combiner="concat")
    row: dict = {"p": p, "pairs": len(split.pairs)}
    pair_features(forum, build_table(forum, 11), a[:4], b[:4])  # compile outside the timing
    for name, gene in (("forum_sum_sdr", forum), ("onehot_concat", onehot)):
        if name == "onehot_concat" and p > 499:
            continue  # 2p-wide features of a million pairs: 8 GB, beyond this machine's share
        table = build_table(gene, p)
        k = max(1, round(gene.combine_k * table.shape[1]))
        row[f"table_seconds_{name}"] = best_of(lambda: build_table(gene, p))
        row[f"encode_seconds_numba_{name}"] = best_of(lambda: pair_features(gene, table, a, b))
        row[f"encode_seconds_numpy_{name}"] = best_of(
            lambda: numpy_pair_features(table, a, b, gene.combiner, k), reps=1)
    width = EncoderGene(family="varcycle", dim=128, combiner="sum")
    x = torch.from_numpy(pair_features(width, build_table(width, p), a[split.train], b[split.train]))
    y = torch.from_numpy(split.labels[split.train])
    brain = BrainGene(hidden=(128,))
    torch.manual_seed(0)
    model = build_model(brain, x.shape[1], p)
    (opt,), loss_fn = make_optimizers(model, brain), loss_function(brain, p)

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    step()
    row["train_rows"] = len(x)
    row["step_seconds"] = best_of(step)
    row["step_seconds_per_million_rows"] = row["step_seconds"] / len(x) * 1e6
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--primes", default="97,211,499,1009")
    parser.add_argument("--out", default="experiments/results/bench_scale.json")
    args = parser.parse_args()
    import torch

    from evo.machine import describe

    ctx = mp.get_context("spawn")
    rows = []
    for p in map(int, args.primes.split(",")):
        with ctx.Pool(1) as pool:
            row = pool.apply(measure, (p,))
        rows.append(row)
        print(f"p {p:5d} pairs {row['pairs']:8d}  encode forum: numba {row['encode_seconds_numba_forum_sum_sdr']:.3f} s"
              f" numpy {row['encode_seconds_numpy_forum_sum_sdr']:.3f} s  step {row['step_seconds']:.3f} s "
              f"({row['step_seconds_per_million_rows']:.2f} s per 1M rows)  peak {row['peak_rss_mb']:.0f} MB",
              flush=True)
    doc = {"benchmark": "bench_scale", "machine": describe(torch.device("cpu")),
           "command": f"python experiments/bench_scale.py --primes {args.primes}", "results": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
