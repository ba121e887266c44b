"""`python -m evo train`: one pair, one seed, the full record (holdout included)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from evo.cli.pair_args import resolve
from evo.errors import UserError
from evo.execution.curriculum import evaluate_curriculum, evaluate_gene_curriculum
from evo.execution.evaluate import evaluate
from evo.pair import Pair
from evo.records import Record
from evo.settings import RunSettings
from evo.tasks import canonical_op
from evo.views.tables import print_record


def run_train(args: argparse.Namespace) -> int:
    pair, settings = resolve(args)
    if args.save:
        _check_writable(Path(args.save))
    if args.curriculum:
        ops, widths = curriculum_options(args)
        record = evaluate_curriculum(pair, ops, settings, new_hidden=widths, freeze=args.freeze, read=args.reads)
    elif pair.brain.curriculum:  # a searched pair whose brain carries a curriculum gene
        record = evaluate_gene_curriculum(pair, settings)
    elif args.json:
        record = evaluate(pair, settings, report_holdout=True)
    else:
        record = _train_with_progress(pair, settings)
    text = json.dumps(record)
    if args.save:
        try:
            Path(args.save).write_text(text + "\n")
        except OSError as exc:
            raise UserError(f"--save: cannot write {args.save}: {exc.strerror or exc}") from None
    if args.json:
        print(text)
    else:
        print_record(record)
    return 0


def curriculum_options(args: argparse.Namespace) -> tuple[list[str], tuple[int, ...]]:
    """--curriculum OPS (two or more operations, each checked) and --new-hidden WIDTHS."""
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


def _train_with_progress(pair: Pair, settings: RunSettings) -> Record:
    console = Console(stderr=True)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("step {task.completed}/{task.total}"),
                  TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=console) as progress:
        bar = progress.add_task(f"{settings.task.op} mod {settings.task.p}", total=settings.budget, status="")

        def on_eval(point: dict[str, float]) -> None:
            progress.update(bar, completed=int(point["step"]),
                            status=f"train {point['train_acc']:.3f} select {point['select_acc']:.3f}")
        return evaluate(pair, settings, report_holdout=True, on_eval=on_eval)
