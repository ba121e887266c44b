"""`python -m evo train`: one pair, one seed, the full record (holdout included)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from evo.errors import UserError
from evo.pair import Pair, load_pair
from evo.recipes import get_recipe
from evo.tasks import TaskSpec, make_split

DEFAULT_BUDGET = 1000
TASK_FLAGS = {"task": "op", "p": "p", "train_frac": "train_frac", "select_frac": "select_frac",
              "split": "split", "pairs": "pairs", "split_seed": "split_seed"}


RUN_DEFAULTS = {"seed": 0, "threshold": 0.99, "eval_every": 10, "max_flops": None, "patience": 0}


def resolve(args: argparse.Namespace) -> tuple[Pair, TaskSpec, dict[str, Any]]:
    """Flags win over what a recipe or pair file suggests, which wins over the defaults."""
    task: dict[str, Any] = {}
    run: dict[str, Any] = {**RUN_DEFAULTS, "budget": DEFAULT_BUDGET}
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
        run.update({k: _checked(args.pair, k, extras[k]) for k in run if extras.get(k) is not None})
    task.update({field: getattr(args, flag) for flag, field in TASK_FLAGS.items()
                 if getattr(args, flag) is not None})
    run.update({k: getattr(args, k) for k in run if getattr(args, k, None) is not None})
    try:
        spec = TaskSpec(**task)
    except TypeError as exc:
        raise UserError(f"--pair: task: {exc}") from None
    make_split(spec)  # an empty set is refused now, not after training starts
    pair.check_buildable(spec.p)
    return pair, spec, run


def _checked(path: str, key: str, value: Any) -> Any:
    """A run setting read from a pair file, checked as the flag of the same name is."""
    from evo import cli
    parse = {"budget": cli.positive_int, "eval_every": cli.positive_int, "seed": cli.seed,
             "max_flops": cli.positive_float, "threshold": cli.threshold,
             "patience": cli.number(int, lambda v: v >= 0, "must be >= 0")}[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"--pair: {path}: {key}: expected a number, got {value!r}")
    try:
        return parse(repr(value) if isinstance(value, float) else str(value))
    except argparse.ArgumentTypeError as exc:
        raise UserError(f"--pair: {path}: {key}: {exc}") from None


def run_train(args: argparse.Namespace) -> int:
    from evo.evaluate import evaluate
    from evo.machine import resolve_device

    pair, task, run = resolve(args)
    device = resolve_device(args.device)
    if args.save:
        _check_writable(Path(args.save))
    if args.curriculum:
        from evo.curriculum import evaluate_curriculum
        ops, widths = curriculum_options(args)
        record = evaluate_curriculum(pair, ops, task, **run, device=device, new_hidden=widths, freeze=args.freeze,
                                     read=args.reads)
    elif pair.brain.curriculum:  # a searched pair whose brain carries a curriculum gene
        from evo.curriculum import evaluate_gene_curriculum
        record = evaluate_gene_curriculum(pair, _curriculum_pool(args), task, **run, device=device)
    elif args.json:
        record = evaluate(pair, task, **run, device=device, report_holdout=True)
    else:
        record = _train_with_progress(pair, task, run, device)
    text = json.dumps(record)
    if args.save:
        try:
            Path(args.save).write_text(text + "\n")
        except OSError as exc:
            raise UserError(f"--save: cannot write {args.save}: {exc.strerror or exc}") from None
    if args.json:
        print(text)
    else:
        _print_summary(record)
    return 0


def _curriculum_pool(args: argparse.Namespace) -> list[str]:
    """The pool a curriculum gene's indices refer to: the run's, written into its pair files."""
    from evo.tasks import canonical_op

    pool = load_pair(args.pair)[1].get("curriculum_pool") if args.pair else None
    if not isinstance(pool, list) or not pool or not all(isinstance(op, str) for op in pool):
        raise UserError("--pair: the brain has a curriculum gene but the file names no curriculum_pool "
                        "(a list of operations)")
    try:
        return [canonical_op(op) for op in pool]
    except ValueError as exc:
        raise UserError(f"--pair: curriculum_pool: {exc}") from None


def curriculum_options(args: argparse.Namespace) -> tuple[list[str], tuple[int, ...]]:
    """--curriculum OPS (two or more operations, each checked) and --new-hidden WIDTHS."""
    from evo.tasks import canonical_op

    ops = [op for op in args.curriculum.split(",") if op.strip()]
    if len(ops) < 2:
        raise UserError(f"--curriculum: expected two or more operations, got {args.curriculum!r}")
    try:
        ops = [canonical_op(op) for op in ops]
    except ValueError as exc:
        raise UserError(f"--curriculum: {exc}") from None
    try:
        widths = tuple(int(w) for w in args.new_hidden.split(",") if w.strip())
    except ValueError:
        raise UserError(f"--new-hidden: expected a comma list of widths, got {args.new_hidden!r}") from None
    if any(not 1 <= w <= 4096 for w in widths):
        raise UserError(f"--new-hidden: widths must lie in 1..4096, got {args.new_hidden!r}")
    return ops, widths


def _check_writable(path: Path) -> None:
    """Fail before training, not after it, and leave the disk as it was."""
    existed = path.exists()
    try:
        with open(path, "a"):
            pass
    except OSError as exc:
        raise UserError(f"--save: cannot write {path}: {exc.strerror or exc}") from None
    if not existed:
        path.unlink()


def _train_with_progress(pair: Pair, task: TaskSpec, run: dict[str, Any], device) -> dict[str, Any]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from evo.evaluate import evaluate

    console = Console(stderr=True)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("step {task.completed}/{task.total}"),
                  TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=console) as progress:
        bar = progress.add_task(f"{task.op} mod {task.p}", total=run["budget"], status="")

        def on_eval(point: dict[str, float]) -> None:
            progress.update(bar, completed=int(point["step"]),
                            status=f"train {point['train_acc']:.3f} select {point['select_acc']:.3f}")
        return evaluate(pair, task, **run, device=device, report_holdout=True, on_eval=on_eval)


def _fmt(value: Any) -> str:
    if value is None:
        return "did not reach"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _print_summary(record: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = record["task"]
    table = Table(title=f"{t['op']} mod {t['p']}, {t['split']} split, train {t['sizes']['train']} / "
                        f"select {t['sizes']['select']} / holdout {t['sizes']['holdout']}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = ["steps_to_threshold", "seconds_to_threshold", "flops_to_threshold", "params", "train_acc",
            "select_acc", "holdout_acc", "holdout_acc_unseen_mirror", "steps_run", "seconds", "diverged",
            "combiner", "seed"]
    for key in rows:
        table.add_row(key, _fmt(record[key]))
    Console().print(table)
    for k, stage in enumerate(record.get("curriculum", {}).get("stages", [])):
        print(f"stage {k + 1}: {stage['op']}: {stage['steps_run']} steps, threshold "
              f"{_fmt(stage['steps_to_threshold'])}, select {stage['select_acc']:.4f}, {stage['params']} params")
    if record["diverged"]:
        print("the run diverged (loss not finite or exploding); figures are those it had", file=sys.stderr)
