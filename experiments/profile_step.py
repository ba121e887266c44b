"""Where a small network's training step goes, and what a Grokfast filter adds to it.

    python experiments/profile_step.py [--out experiments/results/profile_step.json]

One of the main job's typical small pairs (codes 36 wide, ReLU MLP [41, 17], AdamW, batch
537 of 4,704 training pairs, add mod 97), trained by the lone trainer on one thread as a
worker trains it. Part 1: torch's profiler over 200 steps, each operator's self time as a
share of the whole, grouped (matrix products, log-softmax and its backward, the max that
reads the answers, the optimizer, the minibatch gather, the rest). Part 2: milliseconds per
step without a Grokfast filter (the optimizer's share is its total time, its own element-wise
operators included, which `rest` then leaves out), with Grokfast-EMA and with Grokfast-MA (window 100, past
filling), in 5 interleaved rounds; the medians. Writes JSON.
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
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from brains.gene import BrainGene  # noqa: E402
from brains.train import Lone  # noqa: E402
from encoders.gene import EncoderGene  # noqa: E402
from evo.execution.evaluate import prepare  # noqa: E402
from evo.machine import describe  # noqa: E402
from evo.pair import Pair  # noqa: E402
from evo.tasks import TaskSpec  # noqa: E402

PAIR = Pair(EncoderGene(family="random", dim=18, code_seed=1),
            BrainGene(hidden=(41, 17), activation="relu", bias=False, lr=0.02, weight_decay=2e-4, batch_size=537,
                      warmup=18))
GROUPS = {"matrix products": ("aten::mm", "aten::addmm", "aten::bmm"),
          "log-softmax": ("aten::_log_softmax", "aten::_log_softmax_backward_data"),
          "answers (max)": ("aten::max", "aten::argmax"),
          "minibatch gather": ("aten::index_select", "aten::index")}


def backend(brain: BrainGene) -> Lone:
    prep = prepare(dataclasses.replace(PAIR, brain=brain), TaskSpec(p=97), 0, torch.device("cpu"))
    lone = Lone(prep.model, prep.data, brain, 0, horizon=1000)
    for _ in range(110):   # past warm-up and a Grokfast-MA window of 100
        lone.step()
    return lone


def shares(steps: int = 200) -> dict[str, float]:
    lone = backend(PAIR.brain)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            lone.step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    out = {name: sum(e.self_cpu_time_total for e in events if e.key in keys) / total for name, keys in GROUPS.items()}
    out["optimizer"] = sum(e.cpu_time_total for e in events if e.key.startswith("Optimizer.step")) / total
    out["rest"] = 1 - sum(out.values())   # the optimizer's operators are in its own share
    return out


def ms_per_step(lone: Lone, steps: int = 200) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        lone.step()
    return (time.perf_counter() - start) / steps * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="experiments/results/profile_step.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    filters = {"none": PAIR.brain,
               "grokfast-ema": dataclasses.replace(PAIR.brain, grokfast_lambda=2.0),
               "grokfast-ma": dataclasses.replace(PAIR.brain, grokfast_lambda=2.0, grokfast_filter="ma",
                                                  grokfast_window=100)}
    rounds: dict[str, list[float]] = {name: [] for name in filters}
    for _ in range(5):
        for name, brain in filters.items():
            rounds[name].append(ms_per_step(backend(brain)))
    doc = {"benchmark": "profile_step", "machine": describe(torch.device("cpu")), "threads": 1,
           "pair": PAIR.to_dict(), "self_time_shares": shares(),
           "ms_per_step": {name: statistics.median(v) for name, v in rounds.items()}, "rounds": rounds}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps({k: doc[k] for k in ("self_time_shares", "ms_per_step")}, indent=1))


if __name__ == "__main__":
    main()
