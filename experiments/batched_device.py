"""Does batched training find on CUDA the crossings it finds on the CPU?

    python experiments/batched_device.py [--runs FILE ...] [--pairs 24] [--out FILE]

The seed-0 `--batched` main job found 20 crossings on the 2-core CPU and none on an H200
(README "Speed, measured"). Either the search drifted (float rounding differs between
devices, and a search amplifies it) or batched training on CUDA is at fault. This trains
pairs known to cross, the front members of the given main-job benchmarks (add mod 97, the
main job's run settings), four ways: alone and batched (all the pairs at once through
evo.execution.evaluate.evaluate_group, so that pairs of one cell of brains.batched's grid
train as one group, as the search's --batched does), each on the CPU and on CUDA. It
writes each run's crossing step, stop reason and last select accuracy, and a count per way
(default experiments/results/batched_device.json). Without CUDA it measures the CPU half.
"""
from __future__ import annotations

import argparse
import glob
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from evo.execution.evaluate import evaluate, evaluate_group  # noqa: E402
from evo.machine import describe  # noqa: E402
from evo.pair import Pair  # noqa: E402
from evo.search.config import RunConfig  # noqa: E402

RUNS = "experiments/results/bench_run_*seed*.json"


def front_pairs(paths: list[str], limit: int) -> list[Pair]:
    """Distinct front members of main jobs on add mod 97 (pairs that crossed there)."""
    pairs: dict[str, Pair] = {}
    for path in sorted(paths):
        doc = json.loads(Path(path).read_text())
        config, front = doc.get("config", {}), doc.get("front") or {}
        if config.get("task") != "add" or config.get("p") != 97 or config.get("tasks"):
            continue
        for member in front.get("members", []):
            if member["brain"].get("family") == "mlp" and not member["brain"].get("curriculum"):
                pair = Pair.from_dict({"encoder": member["encoder"], "brain": member["brain"]})
                pairs.setdefault(json.dumps(pair.to_dict(), sort_keys=True), pair)
    return list(pairs.values())[:limit]


def summary(record: dict) -> dict:
    return {"steps_to_threshold": record["steps_to_threshold"], "stopped": record["stopped"],
            "select_acc": record["select_acc"], "steps_run": record["steps_run"],
            "group_size": record.get("group_size", 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="*", default=None, help=f"main-job benchmark JSON (default {RUNS})")
    parser.add_argument("--pairs", type=int, default=24)
    parser.add_argument("--out", default="experiments/results/batched_device.json")
    args = parser.parse_args()
    torch.set_num_threads(1)   # as a search worker trains
    pairs = front_pairs(args.runs if args.runs else glob.glob(RUNS), args.pairs)
    devices = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
    doc: dict = {"benchmark": "batched_device", "machines": {d: describe(torch.device(d)) for d in devices},
                 "settings": "RunConfig() defaults (the main job's run settings), seed 0", "pairs": len(pairs),
                 "ways": {}}
    for device in devices:
        settings = RunConfig(workers=1).run_settings(device)
        for way in ("alone", "batched"):
            began = time.perf_counter()
            if way == "alone":
                records = [evaluate(pair, settings) for pair in pairs]
            else:
                records = evaluate_group(pairs, [settings] * len(pairs))
            rows = [summary(r) for r in records]
            name = f"{device}-{way}"
            doc["ways"][name] = {"seconds": time.perf_counter() - began, "runs": rows,
                                 "crossed": sum(r["steps_to_threshold"] is not None for r in rows)}
            print(f"{name}: {doc['ways'][name]['crossed']} of {len(rows)} crossed, "
                  f"{doc['ways'][name]['seconds']:.1f} s", flush=True)
            Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
