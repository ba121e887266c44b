"""Which machine a figure was measured on: every record carries this."""
from __future__ import annotations

import os
import platform
from functools import lru_cache
from typing import Any

import torch

from evo.errors import UserError


@lru_cache(maxsize=1)
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def resolve_device(name: str) -> torch.device:
    """auto -> cuda when present, else cpu; asking for cuda without one is a user error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device: cuda was asked for but torch sees no CUDA device")
    if name not in ("cpu", "cuda"):
        raise UserError(f"--device: unknown device {name!r} (known: auto, cpu, cuda, mixed, mixed:FLOPS)")
    return torch.device(name)


MIXED = "mixed"
# --device mixed: a run goes to the GPU when its training step is estimated at this many
# FLOPs or more (evo.execution.evaluate.step_estimate), the rest to the CPU cores. A guess,
# not yet measured on a GPU (README "Speed, measured" says from what); `mixed:FLOPS` sets another.
MIXED_FROM = 1e8


def gpu_from(setting: str) -> float:
    """The FLOPs-per-step bar of a `mixed` or `mixed:FLOPS` device setting."""
    _, _, bar = setting.partition(":")
    try:
        value = float(bar) if bar else MIXED_FROM
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise UserError(f"--device: {setting!r}: expected mixed or mixed:FLOPS with FLOPS a number >= 0")
    return value


def is_mixed(setting: str) -> bool:
    return setting.split(":")[0] == MIXED


def resolve_setting(name: str) -> str:
    """A search's device setting as its runs are keyed: cpu, cuda, or mixed (each run on
    the GPU or the CPU by its size, run_device); auto -> cuda when present, else cpu."""
    if is_mixed(name):
        gpu_from(name)
        if not torch.cuda.is_available():
            raise UserError(f"--device: {name} trains the large runs on CUDA, but torch sees no CUDA device")
        return name
    return resolve_device(name).type


def run_device(setting: str, flops_per_step: float) -> torch.device:
    """Where one run of a resolved setting trains: under mixed, a run whose step costs at
    least the bar goes to the GPU, where a small network's step costs its kernel launches
    and a large one's its arithmetic, and the rest stay on one CPU core each. A function of
    the genes, so a pair's record does not depend on the worker or the order of the work."""
    if is_mixed(setting):
        return torch.device("cuda" if flops_per_step >= gpu_from(setting) else "cpu")
    return torch.device(setting)


def describe(device: torch.device) -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu": _cpu_model(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__, "python": platform.python_version(), "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info
