"""The main job and batched training on a GPU, in one command.

    python experiments/bench_gpu.py [--generations 50] [--sizes 16,64,256] [--out FILE]

On a machine with CUDA: times `python -m evo run --generations N --device cuda` (defaults
otherwise, as experiments/bench_run.py does), the same with `--batched` (brains.batched:
a generation's MLPs padded to a grid of shapes, a cell trained as one computation), each
as a multiple of one power run on the GPU timed in this process, and
experiments/bench_population.py's batched-against-one-by-one measurement at
population sizes 16, 64 and 256 on the GPU, against the GPU's own matmul peak; writes one
JSON document (default experiments/results/bench_gpu.json). On a machine without CUDA it
says so in one line and exits 0, having measured nothing.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from bench_population import SHAPES, measure  # noqa: E402  (this folder)
from bench_run import run_once  # noqa: E402
from evo.machine import describe  # noqa: E402
from yardsticks import peak_matmul_flops, power_run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=50)
    parser.add_argument("--sizes", default="16,64,256")
    parser.add_argument("--out", default="experiments/results/bench_gpu.json")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("bench_gpu: torch sees no CUDA device on this machine; nothing measured")
        return 0
    peak = peak_matmul_flops(n=8192, device="cuda")
    power = power_run(device="cuda")
    keys = ("command", "wall_seconds", "pairs_trained", "stopped", "best", "utilization", "profile")
    jobs = {}
    for name, flags in (("main_job", []), ("main_job_batched", ["--batched"])):
        run = run_once(args.generations, ["--device", "cuda", *flags])
        jobs[name] = {**{key: run[key] for key in keys}, "wall_over_power": run["wall_seconds"] / power["seconds_to_threshold"]}
    batched = [measure(shape, size, peak, device="cuda") for shape in SHAPES for size in map(int, args.sizes.split(","))]
    doc = {"benchmark": "bench_gpu", "machine": describe(torch.device("cuda")), "peak_matmul_flops_per_second": peak,
           "power": power, **jobs, "batched": batched}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    print(f"main job on cuda: {jobs['main_job']['wall_over_power']:.2f} power runs, batched "
          f"{jobs['main_job_batched']['wall_over_power']:.2f}; batched speed-ups "
          + ", ".join(f"{r['shape']} x{r['members']}: {r['speedup']:.1f}" for r in batched) + f"; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
