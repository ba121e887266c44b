"""The pair and run settings of `train` and `inspect`: flags win over what a recipe or a
pair file suggests, which wins over RunSettings' defaults."""
from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from evo.cli import parser as flags
from evo.errors import UserError
from evo.machine import resolve_device
from evo.pair import Pair, load_pair
from evo.recipes import get_recipe
from evo.settings import PAIR_FILE_KEYS, RunSettings
from evo.tasks import TaskSpec, canonical_op, make_split

TASK_FLAGS = {"task": "op", "p": "p", "train_frac": "train_frac", "select_frac": "select_frac",
              "split": "split", "pairs": "pairs", "split_seed": "split_seed"}
# How a run setting read from a pair file is checked: as the flag of the same name is.
CHECKS = {"budget": flags.positive_int, "eval_every": flags.positive_int, "seed": flags.seed,
          "max_flops": flags.positive_float, "threshold": flags.threshold,
          "patience": flags.number(int, lambda v: v >= 0, "must be >= 0")}


def resolve(args: argparse.Namespace) -> tuple[Pair, RunSettings]:
    """The pair and the settings of its run (device resolved: cuda asked for and absent is
    a user error here, before any training)."""
    task: dict[str, Any] = {}
    run: dict[str, Any] = {}
    pool: tuple[str, ...] = ()
    if args.recipe:
        recipe = get_recipe(args.recipe)
        pair, run["budget"], run["eval_every"] = recipe.pair, recipe.budget, recipe.eval_every
        task.update(recipe.task)
    else:
        pair, extras = load_pair(args.pair)
        suggested = extras.get("task", {})
        if not isinstance(suggested, dict):
            raise UserError(f"--pair: {args.pair}: 'task' must be an object")
        task.update({k: v for k, v in suggested.items() if k != "sizes" and k != "holdout_unseen_mirror"})
        run.update({k: _checked(args.pair, k, extras[k]) for k in PAIR_FILE_KEYS if extras.get(k) is not None})
        if pair.brain.curriculum:
            pool = _curriculum_pool(args.pair, extras.get("curriculum_pool"))
    task.update({field: getattr(args, flag) for flag, field in TASK_FLAGS.items()
                 if getattr(args, flag) is not None})
    run.update({k: getattr(args, k) for k in PAIR_FILE_KEYS if getattr(args, k, None) is not None})
    try:
        spec = TaskSpec(**task)
    except TypeError as exc:
        raise UserError(f"--pair: task: {exc}") from None
    make_split(spec)  # an empty set is refused now, not after training starts
    pair.check_buildable(spec.p)
    settings = RunSettings(task=spec, device=resolve_device(args.device).type, curriculum_pool=pool, **run)
    return pair, settings


def with_task(settings: RunSettings, **task: Any) -> RunSettings:
    return dataclasses.replace(settings, task=dataclasses.replace(settings.task, **task))


def _checked(path: str, key: str, value: Any) -> Any:
    """A run setting read from a pair file, checked as the flag of the same name is."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"--pair: {path}: {key}: expected a number, got {value!r}")
    try:
        return CHECKS[key](repr(value) if isinstance(value, float) else str(value))
    except argparse.ArgumentTypeError as exc:
        raise UserError(f"--pair: {path}: {key}: {exc}") from None


def _curriculum_pool(path: str, pool: Any) -> tuple[str, ...]:
    """The pool a curriculum gene's indices refer to: the run's, written into its pair files."""
    if not isinstance(pool, list) or not pool or not all(isinstance(op, str) for op in pool):
        raise UserError("--pair: the brain has a curriculum gene but the file names no curriculum_pool "
                        "(a list of operations)")
    try:
        return tuple(canonical_op(op) for op in pool)
    except ValueError as exc:
        raise UserError(f"--pair: curriculum_pool: {exc}") from None
