"""`python -m evo run`: drive the search, checkpoint every generation, resume, and finish
with the re-checked front."""
from __future__ import annotations

import argparse
import sys
import tomllib
import warnings
from pathlib import Path
from typing import Any

from evo.errors import UserError, read_text
from evo.runner import Interrupted, execute
from evo.search.config import RunConfig
from evo.views.dashboard import Dashboard, PlainLog
from evo.views.tables import print_front

CONFIG_FLAGS = ("generations", "population", "offspring", "partners", "schedule", "speed_metric", "task",
                "p", "train_frac", "select_frac", "split", "pairs", "split_seed", "budget", "max_flops",
                "threshold", "eval_every", "patience", "hold", "select", "second_opinion", "seed", "final_seeds", "workers", "device", "backend",
                "scheduler", "seed_with", "brain_families", "batched", "tasks", "task_cost", "curriculum_pool",
                "rank_misses", "rungs", "eta", "min_budget", "plateau",
                "symmetric_combiners", "update_rules", "eval_dense", "charge_evals",
                "dense_locates", "objectives", "fractions", "data_credit", "muon_lr", "polish",
                "polish_misses", "hold_window", "immigrants", "polish_floor", "give_up",
                "ties", "opinion_to_cap", "opinion_rounds", "hold_behind")


def read_toml(path: str | Path) -> dict[str, Any]:
    """Keys as in RunConfig, dashes or underscores (`train-frac` or `train_frac`)."""
    text = read_text(path, "--config")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"--config: {path} is not valid TOML ({exc})") from None
    return {key.replace("-", "_"): value for key, value in data.items()}


def config_from_args(args: argparse.Namespace) -> tuple[RunConfig, set[str]]:
    """Defaults < --config FILE < flags; returns the config and the keys the user set."""
    values: dict[str, Any] = read_toml(args.config) if args.config else {}
    explicit = set(values)
    for name in CONFIG_FLAGS:
        value = getattr(args, name, None)
        if value is not None:
            values[name] = value
            explicit.add(name)
    if "task" in explicit and values.get("tasks"):
        raise UserError("--task and --tasks: give one (with --tasks, the first operation stands for the run)")
    for name in ("seed_with", "brain_families", "tasks", "curriculum_pool", "objectives"):
        if isinstance(values.get(name), str):
            values[name] = [n for n in values[name].split(",") if n]
    return RunConfig.from_dict(values, "--config" if args.config else "options"), explicit


def run(args: argparse.Namespace) -> int:
    # loky warns when Ctrl-C stops its workers mid-job; the run says what happened itself.
    warnings.filterwarnings("ignore", message="A worker stopped while some jobs")
    config, explicit = config_from_args(args)
    run_dir = Path(args.out)
    use_dashboard = not args.no_dashboard and sys.stdout.isatty()

    def listener(config: RunConfig, first: int) -> PlainLog:
        tasks = f"{'+'.join(config.tasks)} ({config.task_cost} of costs)" if config.tasks else config.task
        title = f"{tasks} mod {config.p}, {config.split} split {config.train_frac:g}, {config.schedule}"
        return Dashboard(config.generations, first, title) if use_dashboard else PlainLog(config.generations, first)
    try:
        doc, _ = execute(config, run_dir, listener, resume=args.resume, explicit=explicit)
    except Interrupted as stop:
        where = "nothing is saved yet" if stop.saved < 0 else f"generation {stop.saved} is saved"
        print(f"interrupted; {where}. Resume with: python -m evo run --out {run_dir} --resume",
              file=sys.stderr)
        return 130
    print_front(doc)
    print(f"front: {run_dir / 'front.json'}   reproduce a member: python -m evo train --pair "
          f"{run_dir}/<pair_file>")
    return 0
