"""The pair and run settings of `train`, `inspect` and `evo.train`: flags (or keyword
arguments) win over what a recipe or a pair file suggests, which wins over RunSettings'
defaults. One merge, so the command line and the Python API cannot drift apart."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from evo.cli import parser as flags
from evo.errors import UserError
from evo.machine import resolve_device
from evo.pair import Pair, load_pair
from evo.recipes import get_recipe
from brains.stopping import PLATEAU_SIGNALS
from evo.settings import PAIR_FILE_KEYS, RunSettings
from evo.tasks import SELECTS, TaskSpec, canonical_op, make_split

TASK_FLAGS = {"task": "op", "p": "p", "train_frac": "train_frac", "select_frac": "select_frac",
              "split": "split", "pairs": "pairs", "split_seed": "split_seed"}
# How a run setting read from a pair file (or given to evo.train) is checked: as the flag of the same name is.
CHECKS = {"budget": flags.positive_int, "eval_every": flags.positive_int, "seed": flags.seed,
          "max_flops": flags.positive_float, "threshold": flags.threshold,
          "patience": flags.number(int, lambda v: v >= 0, "must be >= 0"), "hold": flags.hold,
          "eval_dense": flags.number(int, lambda v: v >= 0, "must be >= 0")}


def suggested(recipe: str | None, path: str | Path | None) -> tuple[Pair, dict[str, Any], dict[str, Any], Any]:
    """A recipe's or a pair file's pair, the task fields and run settings it suggests, and
    the curriculum pool a pair file names (None when it names none)."""
    if recipe:
        named = get_recipe(recipe)
        return named.pair, dict(named.task), {"budget": named.budget, "eval_every": named.eval_every}, None
    pair, extras = load_pair(path)
    task = extras.get("task", {})
    if not isinstance(task, dict):
        raise UserError(f"--pair: {path}: 'task' must be an object")
    task = {k: v for k, v in task.items() if k != "sizes" and k != "holdout_unseen_mirror"}
    run = {k: checked(f"--pair: {path}", k, extras[k]) for k in PAIR_FILE_KEYS if extras.get(k) is not None}
    return pair, task, run, extras.get("curriculum_pool")


def build(pair: Pair, task: dict[str, Any], run: dict[str, Any], pool: Any, device: str,
          source: str = "--pair") -> RunSettings:
    """The run settings, every part checked before any training (device resolved: cuda
    asked for and absent is a user error here)."""
    try:
        spec = TaskSpec(**task)
    except TypeError as exc:
        raise UserError(f"{source}: task: {exc}") from None
    make_split(spec)  # an empty set is refused now, not after training starts
    pair.check_buildable(spec.p)
    return RunSettings(task=spec, device=resolve_device(device).type,
                       curriculum_pool=curriculum_pool(source, pool) if pair.brain.curriculum else (), **run)


def resolve(args: argparse.Namespace) -> tuple[Pair, RunSettings]:
    pair, task, run, pool = suggested(args.recipe, args.pair)
    task.update({field: getattr(args, flag) for flag, field in TASK_FLAGS.items()
                 if getattr(args, flag) is not None})
    run.update({k: getattr(args, k) for k in PAIR_FILE_KEYS if getattr(args, k, None) is not None})
    return pair, build(pair, task, run, pool, args.device)


def checked(source: str, key: str, value: Any) -> Any:
    """A run setting read from a pair file or given to evo.train, checked as the flag of the
    same name is."""
    for name, allowed in (("select", SELECTS), ("plateau", PLATEAU_SIGNALS)):
        if key == name:
            if value not in allowed:
                raise UserError(f"{source}: {name}: {value!r} is not one of {', '.join(allowed)}")
            return value
    if key in ("charge_evals", "dense_locates", "hold_window"):
        if not isinstance(value, bool):
            raise UserError(f"{source}: {key}: expected true or false, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"{source}: {key}: expected a number, got {value!r}")
    try:
        return CHECKS[key](repr(value) if isinstance(value, float) else str(value))
    except argparse.ArgumentTypeError as exc:
        raise UserError(f"{source}: {key}: {exc}") from None


def curriculum_pool(source: str, pool: Any) -> tuple[str, ...]:
    """The pool a curriculum gene's indices refer to: the run's, written into its pair files."""
    if not isinstance(pool, (list, tuple)) or not pool or not all(isinstance(op, str) for op in pool):
        raise UserError(f"{source}: the brain has a curriculum gene but no curriculum_pool is given "
                        "(a list of operations)")
    try:
        return tuple(canonical_op(op) for op in pool)
    except ValueError as exc:
        raise UserError(f"{source}: curriculum_pool: {exc}") from None
