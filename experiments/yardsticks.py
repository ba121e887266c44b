"""What a main-job figure is measured against, on the same machine and in the same
process: the machine's peak matmul rate, and one `power` run to its crossing.

Machines differ by 2x or more between sessions, so a speed figure is a ratio of two things
timed side by side here, never seconds from another machine.
"""
from __future__ import annotations

import time
from typing import Any

import torch

import evo
from evo.records import run_flops


def peak_matmul_flops(threads: int = 1, n: int = 2048, reps: int = 5, device: str = "cpu") -> float:
    """float32 FLOP/s of an n x n matmul on `threads` CPU threads (restored after), or on the
    GPU when `device` is cuda (then n should be larger, e.g. 8192, to fill it)."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
        a @ b
        sync(device)
        start = time.perf_counter()
        for _ in range(reps):
            a @ b
        sync(device)
        return 2 * n ** 3 * reps / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(before)


def sync(device: str) -> None:
    """Wait for queued GPU work, so that a clock read after it times the work."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def power_run(seed: int = 0, device: str = "cpu") -> dict[str, Any]:
    """Power et al.'s recipe on the main job's task (add mod 97, random half) until 99%
    select, in this process, on `device`: its steps and seconds to the crossing (evo.train
    stops there when it does not report holdout)."""
    start = time.perf_counter()
    record = evo.train("power", "add", seed=seed, report_holdout=False, device=device)
    return {"command": f"python -m evo train --recipe power --device {device} (to its crossing)", "seed": seed,
            "torch_threads": torch.get_num_threads(), "wall_seconds": time.perf_counter() - start,
            "steps_to_threshold": record["steps_to_threshold"],
            "seconds_to_threshold": record["seconds_to_threshold"], "steps_run": record["steps_run"]}


def training_flops(records: list[dict[str, Any]]) -> tuple[float, float]:
    """(FLOPs, seconds) the records' own counts say their training took: steps run times the
    counted FLOPs per step and, where charged, per evaluation (a curriculum's earlier stages included), less the steps and
    seconds a run carried from a lower rung (its profile's `from_step`: brains.carry)."""
    flops = seconds = 0.0
    for record in records:
        if record.get("failed"):
            continue
        stages = record.get("curriculum", {}).get("stages", [])
        flops += sum(run_flops(s) for s in stages[:-1])
        profile = record.get("profile") or {}
        flops += run_flops(record, since=profile.get("from_step", 0)) if "steps_run" in record else 0.0
        seconds += (profile.get("steps", 0.0) + profile.get("evaluations", 0.0) if profile.get("from_step")
                    else record.get("seconds") or 0.0)
    return flops, seconds
