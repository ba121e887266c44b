"""A search from its start (or its last checkpoint) to its re-checked front: the one driver
under `python -m evo run` and `evo.run()`. It holds the run directory's lock, checkpoints
every generation and writes front.json; what is shown while it runs is the caller's
listener (the dashboard, the plain log, or nothing)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable

from evo.errors import UserError
from evo.execution.parallel import Scorer
from evo.recipes import get_recipe
from evo.rundir import checkpoint
from evo.rundir.events import EventLog
from evo.rundir.final import final_jobs, store_rechecks, write_front
from evo.rundir.lock import RunLock
from evo.search.config import RunConfig, check_resume
from evo.search.loop import Search
from evo.search.state import SearchState, from_json, new_state, to_json

# (config, first generation to run) -> a listener: a context manager with emit(event, **data)
Listener = Callable[[RunConfig, int], Any]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run; `saved` is the last generation on disk (-1: none)."""

    def __init__(self, saved: int):
        super().__init__(saved)
        self.saved = saved


def prepare_dir(run_dir: Path) -> None:
    """A fresh run directory that we can write, checked before any training starts."""
    if (run_dir / checkpoint.NAME).exists() or (run_dir / checkpoint.PREVIOUS).exists():
        raise UserError(f"--out: {run_dir} already holds a run; add --resume, or choose another --out")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-probe"
        probe.write_bytes(b"x" * 65536)
        with open(probe, "rb") as fh:
            os.fsync(fh.fileno())
        probe.unlink()
    except OSError as exc:
        raise UserError(f"--out: cannot write to {run_dir}: {exc.strerror or exc}") from None


def resumed_state(config: RunConfig, explicit: set[str], run_dir: Path) -> SearchState:
    """The checkpoint's state under its stored config, with the settings a resume may
    change (evo.search.config.RESUMABLE) taken from `config`."""
    doc = checkpoint.load(run_dir)
    try:
        stored = RunConfig.stored(doc["config"])
    except (KeyError, TypeError):
        raise UserError(f"{run_dir}: checkpoint has no readable config") from None
    config = check_resume(stored, config, explicit)
    try:
        if config.generations - 1 < doc["generation"]:
            raise UserError(f"--generations: {config.generations} is fewer than the "
                            f"{doc['generation'] + 1} generations the run has completed")
        config.run_settings()  # the device: cuda asked for and absent is a user error now
        return from_json(doc, config)
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{run_dir}: checkpoint does not describe a run ({type(exc).__name__}: {exc})") from None


def execute(config: RunConfig, run_dir: Path, listener: Listener, *, resume: bool = False,
            explicit: set[str] = frozenset()) -> tuple[dict[str, Any], SearchState]:
    """Run (or resume) the search to `config.generations`, re-check its front on holdout and
    return front.json's document with the final state (its cache and re-checks hold every
    member's records). User errors are raised before anything is written."""
    run_dir = Path(run_dir)
    if "give_up" in explicit and config.give_up and (clash := config.give_up_clash()):
        raise UserError(f"--give-up: not with {clash} (its bar is one run's steps or FLOPs; "
                        "give --give-up 0 or drop that option)")
    if resume:  # every check of the checkpoint and the options, before the lock writes anything
        resumed_state(config, explicit, run_dir)
    else:
        for name in config.seed_with:
            get_recipe(name, "--seed-with")
        config.run_settings()
    with RunLock(run_dir):  # one writer per run directory, checked before anything is written
        if resume:  # read again under the lock: another writer may have saved since
            state = resumed_state(config, explicit, run_dir)
        else:
            prepare_dir(run_dir)
            state = new_state(config)
        return _drive(state, run_dir, listener(state.config, state.generation + 1))


def _drive(state: SearchState, run_dir: Path, listener: Any) -> tuple[dict[str, Any], SearchState]:
    config = state.config
    saved = state.generation

    log = EventLog(run_dir, listener)

    def save() -> None:
        nonlocal saved
        began = time.perf_counter()
        (run_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=1) + "\n")
        checkpoint.save(run_dir, to_json(state))
        saved = state.generation
        log.emit("timing", phase="checkpoint", seconds=time.perf_counter() - began)

    try:
        with Scorer(config.workers, config.backend, config.scheduler) as scorer, listener:
            search = Search(state, scorer, log.emit)
            search.retrain_stale()  # a resume on another device
            while state.generation < config.generations - 1:
                began = time.perf_counter()
                search.generation()
                log.emit("timing", phase="generation", generation=state.generation,
                         seconds=time.perf_counter() - began)
                save()
            keys, jobs = final_jobs(state)
            if jobs:
                began = time.perf_counter()
                log.emit("message", text=f"re-checking {len(state.archive)} front pairs on "
                                          f"{config.final_seeds} seeds with holdout")
                log.emit("scoring", total=len(jobs), cached=0)
                records = scorer.map(jobs, lambda i, r: log.emit("evaluated", index=i, total=len(jobs), record=r))
                store_rechecks(state, run_dir, keys, jobs, records)
                log.emit("timing", phase="rechecks", seconds=time.perf_counter() - began)
                save()
            return write_front(state, run_dir), state
    except KeyboardInterrupt:
        raise Interrupted(saved) from None
