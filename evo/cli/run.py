"""`python -m evo run`: drive the search, checkpoint every generation, resume, and finish
with the re-checked front."""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from evo.errors import UserError
from evo.execution.parallel import Scorer
from evo.recipes import get_recipe
from evo.rundir import checkpoint
from evo.rundir.events import EventLog
from evo.rundir.final import final_jobs, store_rechecks, write_front
from evo.rundir.lock import RunLock
from evo.search.config import RunConfig, check_resume, read_toml
from evo.search.loop import Search
from evo.search.state import from_json, new_state, to_json
from evo.views.dashboard import Dashboard, PlainLog
from evo.views.tables import print_front

CONFIG_FLAGS = ("generations", "population", "offspring", "partners", "schedule", "speed_metric", "task",
                "p", "train_frac", "select_frac", "split", "pairs", "split_seed", "budget", "max_flops",
                "threshold", "eval_every", "patience", "seed", "final_seeds", "workers", "device", "backend",
                "scheduler", "seed_with", "brain_families", "batched", "tasks", "task_cost", "curriculum_pool",
                "rank_misses")


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
    for name in ("seed_with", "brain_families", "tasks", "curriculum_pool"):
        if isinstance(values.get(name), str):
            values[name] = [n for n in values[name].split(",") if n]
    return RunConfig.from_dict(values, "--config" if args.config else "options"), explicit


def _check_seed_with(config: RunConfig) -> None:
    for name in config.seed_with:
        get_recipe(name, "--seed-with")


def prepare_dir(run_dir: Path) -> None:
    """A fresh run directory that we can write, checked before any training starts."""
    if (run_dir / checkpoint.NAME).exists() or (run_dir / checkpoint.PREVIOUS).exists():
        raise UserError(f"--out: {run_dir} already holds a run; add --resume, or choose another --out")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-probe"
        probe.write_bytes(b"x" * 65536)
        os.fsync(os.open(probe, os.O_RDONLY))
        probe.unlink()
    except OSError as exc:
        raise UserError(f"--out: cannot write to {run_dir}: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    # loky warns when Ctrl-C stops its workers mid-job; the run says what happened itself.
    warnings.filterwarnings("ignore", message="A worker stopped while some jobs")
    config, explicit = config_from_args(args)
    run_dir = Path(args.out)
    if args.resume and not run_dir.is_dir():
        raise UserError(f"{run_dir}: no such run directory")
    if not args.resume:
        _check_seed_with(config)
        config.run_settings()  # the device: cuda asked for and absent is a user error now
    with RunLock(run_dir):  # one writer per run directory, checked before anything is written
        return _run(args, config, explicit, run_dir)


def _run(args: argparse.Namespace, config: RunConfig, explicit: set[str], run_dir: Path) -> int:
    if args.resume:
        doc = checkpoint.load(run_dir)
        try:
            stored = RunConfig.from_dict(doc["config"], "checkpoint config")
        except (KeyError, TypeError):
            raise UserError(f"{run_dir}: checkpoint has no readable config") from None
        config = check_resume(stored, config, explicit)
        if config.generations - 1 < doc["generation"]:
            raise UserError(f"--generations: {config.generations} is fewer than the "
                            f"{doc['generation'] + 1} generations the run has completed")
        config.run_settings()  # the device, as for a new run
        state = from_json(doc, config)
    else:
        prepare_dir(run_dir)
        state = new_state(config)
    saved = state.generation

    def save() -> None:
        nonlocal saved
        (run_dir / "config.json").write_text(json.dumps(state.config.to_dict(), indent=1) + "\n")
        checkpoint.save(run_dir, to_json(state))
        saved = state.generation

    tasks = f"{'+'.join(config.tasks)} ({config.task_cost} of costs)" if config.tasks else config.task
    title = f"{tasks} mod {config.p}, {config.split} split {config.train_frac:g}, {config.schedule}"
    use_dashboard = not args.no_dashboard and sys.stdout.isatty()
    listener = (Dashboard(config.generations, state.generation + 1, title) if use_dashboard
                else PlainLog(config.generations, state.generation + 1))
    log = EventLog(run_dir, listener)
    try:
        with Scorer(config.workers, config.backend, config.scheduler, config.batched) as scorer, listener:
            search = Search(state, scorer, log.emit)
            while state.generation < config.generations - 1:
                search.generation()
                save()
            keys, jobs = final_jobs(state)
            if jobs:
                log.emit("message", text=f"re-checking {len(state.archive)} front pairs on "
                                          f"{config.final_seeds} seeds with holdout")
                log.emit("scoring", total=len(jobs), cached=0)
                records = scorer.map(jobs, lambda i, r: log.emit("evaluated", index=i, total=len(jobs), record=r))
                store_rechecks(state, run_dir, keys, jobs, records)
                save()
            doc = write_front(state, run_dir)
    except KeyboardInterrupt:
        where = "nothing is saved yet" if saved < 0 else f"generation {saved} is saved"
        print(f"interrupted; {where}. Resume with: python -m evo run --out {run_dir} --resume",
              file=sys.stderr)
        return 130
    print_front(doc)
    print(f"front: {run_dir / 'front.json'}   reproduce a member: python -m evo train --pair "
          f"{run_dir}/<pair_file>")
    return 0
