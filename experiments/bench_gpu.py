"""The main job and batched training on a GPU, in one command.

    python experiments/bench_gpu.py [--generations 50] [--sizes 16,64,256] [--parts ...] [--out FILE]

On a machine with CUDA, in this order (each part is written to the JSON document as soon as
it ends, so that a run stopped at a time limit keeps what it measured):
  power        one power run on the GPU, timed in this process (the yardstick);
  main_job     `python -m evo run --generations N --device cuda` (defaults otherwise, as
               experiments/bench_run.py does), as a multiple of that power run;
  main_job_cpu the same main job with `--device cpu` on the same machine's cores, so that
               the GPU's gain is a ratio measured side by side;
  main_job_mixed    the main job with `--device mixed`: each run on the GPU when its step is
               estimated at 1e8 FLOPs or more, else on a CPU core (evo.machine.run_device);
  main_job_batched  the cuda main job with `--batched` (brains.batched: a generation's MLPs
               padded to a grid of shapes, a cell trained as one computation);
  batched      experiments/bench_population.py's batched-against-one-by-one measurement
               at the given population sizes on the GPU, against the GPU's matmul peak.
Default output experiments/results/bench_gpu.json. On a machine without CUDA it says so in
one line and exits 0, having measured nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from bench_population import SHAPES, measure  # noqa: E402  (this folder)
from bench_run import run_once  # noqa: E402
from evo.machine import describe  # noqa: E402
from yardsticks import peak_matmul_flops, power_run  # noqa: E402


PARTS = ("power", "main_job_cpu", "main_job_mixed", "main_job", "main_job_batched", "batched")
JOB_FLAGS = {"main_job": ["--device", "cuda"], "main_job_cpu": ["--device", "cpu"],
             "main_job_mixed": ["--device", "mixed"], "main_job_batched": ["--device", "cuda", "--batched"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=50)
    parser.add_argument("--workers", type=int, default=0, help="each main job's --workers (default: its own, the CPU count)")
    parser.add_argument("--sizes", default="16,64,256")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"some of {','.join(PARTS)}, run in that order")
    parser.add_argument("--out", default="experiments/results/bench_gpu.json")
    args = parser.parse_args()
    parts = [part for part in PARTS if part in args.parts.split(",")]
    if not torch.cuda.is_available():
        print("bench_gpu: torch sees no CUDA device on this machine; nothing measured")
        return 0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    peak = peak_matmul_flops(n=8192, device="cuda")
    doc: dict = {"benchmark": "bench_gpu", "machine": describe(torch.device("cuda")), "cpu_count": os.cpu_count(),
                 "peak_matmul_flops_per_second": peak}

    def save() -> None:  # after each part, so that a run stopped at a limit keeps what it measured
        out.write_text(json.dumps(doc, indent=1) + "\n")

    keys = ("command", "wall_seconds", "pairs_trained", "stopped", "best", "utilization", "profile", "runs_by_device")
    power = power_run(device="cuda") if "power" in parts or any(p in JOB_FLAGS for p in parts) else None
    if power:
        doc["power"] = power
        save()
    for name in (part for part in parts if part in JOB_FLAGS):
        run = run_once(args.generations, JOB_FLAGS[name] + (["--workers", str(args.workers)] if args.workers else []))
        doc[name] = {**{key: run[key] for key in keys}, "wall_over_power": run["wall_seconds"] / power["seconds_to_threshold"]}
        if name != "main_job_cpu" and "main_job_cpu" in doc:   # the GPU's gain, side by side
            doc[name]["wall_over_cpu_main_job"] = run["wall_seconds"] / doc["main_job_cpu"]["wall_seconds"]
        save()
        print(f"{name}: {run['wall_seconds']:.1f} s, {doc[name]['wall_over_power']:.2f} power runs", flush=True)
    if "batched" in parts:
        doc["batched"] = []
        for shape in SHAPES:
            for size in map(int, args.sizes.split(",")):
                doc["batched"].append(measure(shape, size, peak, device="cuda"))
                save()
                row = doc["batched"][-1]
                print(f"batched {shape} x{size}: speed-up {row['speedup']:.1f}", flush=True)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
