"""grokevo from Python (a notebook, a script): the same settings as the command line,
errors raised as exceptions (evo.errors.UserError, genome.GeneError, evo.tasks.TaskError)
instead of exit codes.

    import evo
    record = evo.train("onehot-quad", "add", p=23, budget=1000)
    front = evo.run("runs/nb", p=23, generations=3, population=3, offspring=2, budget=30, workers=1)
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from evo.cli.pair_args import build, checked, suggested
from evo.errors import UserError
from evo.execution.curriculum import evaluate_gene_curriculum
from evo.execution.evaluate import evaluate
from evo.pair import Pair
from evo.records import Record
from evo.runner import execute
from evo.search.config import RunConfig
from evo.search.scoring import run_key
from evo.settings import PAIR_FILE_KEYS
from evo.tasks import TaskSpec
from evo.views.dashboard import PlainLog

TASK_FIELDS = {f.name for f in dataclasses.fields(TaskSpec)} - {"op"}


class _Quiet:
    """A listener that shows nothing."""

    def __enter__(self) -> "_Quiet":
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def emit(self, event: str, **data: Any) -> None:
        pass


def run(out: str | Path | None = None, *, resume: bool = False, log: bool = False,
        **settings: Any) -> list[dict[str, Any]]:
    """The co-search, as `python -m evo run` runs it; `settings` are its options with
    underscores (generations=50, task="mul", seed_with=("onehot-quad",), ...). Returns the
    re-checked front: front.json's members, each with its search record (`record`) and its
    holdout re-checks (`rechecks`), from the run directory `out` (default runs/run-TIME)."""
    run_dir = Path(out) if out is not None else Path(time.strftime("runs/run-%Y%m%d-%H%M%S"))
    if settings.get("task") is not None and settings.get("tasks"):
        raise UserError("evo.run: task and tasks: give one (with tasks, the first operation stands for the run)")
    # As the command line does: the options given, over the defaults; on a resume, only
    # those a resume may change are taken, the rest must equal the run's (check_resume).
    config = RunConfig.from_dict(settings, "evo.run")
    listener = (lambda c, first: PlainLog(c.generations, first)) if log else (lambda c, first: _Quiet())
    doc, state = execute(config, run_dir, listener, resume=resume, explicit=set(settings))
    members = []
    for member in doc["members"]:
        pair = Pair.from_dict(member)
        members.append({**member, "record": state.record(pair),
                        "rechecks": [state.finals[run_key(pair, state.settings.with_seed(s), holdout=True)]
                                     for s in member["seeds"]]})
    return members


def train(pair: str | Path | Pair | dict[str, Any], task: str | TaskSpec | None = None, *, device: str = "auto",
          report_holdout: bool = True, curriculum_pool: tuple[str, ...] | None = None, **options: Any) -> Record:
    """One training run, as `python -m evo train` runs it: `pair` is a recipe name, a pair
    file, a Pair or a dict with 'encoder' and 'brain'; `task` an operation (default: the
    recipe's or pair file's, else add) or a TaskSpec; `options` are task fields (p,
    train_frac, select_frac, split, pairs, split_seed) and run settings (seed, budget,
    max_flops, threshold, eval_every, patience), merged as the command line merges its
    flags (evo.cli.pair_args). Returns the record (holdout measured after training)."""
    unknown = sorted(set(options) - TASK_FIELDS - set(PAIR_FILE_KEYS))
    if unknown:
        raise UserError(f"evo.train: unknown option {unknown[0]!r} (task fields: {', '.join(sorted(TASK_FIELDS))}; "
                        f"run settings: {', '.join(PAIR_FILE_KEYS)})")
    if isinstance(pair, (str, Path)):
        is_file = Path(pair).exists()  # else a name: a recipe, or an error naming them
        pair, task_fields, run, pool = suggested(None if is_file else str(pair), pair if is_file else None)
    else:
        pair = pair if isinstance(pair, Pair) else Pair.from_dict(pair)
        task_fields, run, pool = {}, {}, None
    if isinstance(task, TaskSpec):
        task_fields.update(dataclasses.asdict(task))
    elif task is not None:
        task_fields["op"] = task
    task_fields.update({k: v for k, v in options.items() if k in TASK_FIELDS})
    run.update({k: checked("evo.train", k, v) for k, v in options.items() if k in PAIR_FILE_KEYS})
    settings = build(pair, task_fields, run, curriculum_pool if curriculum_pool is not None else pool, device,
                     source="evo.train")
    if pair.brain.curriculum:
        return evaluate_gene_curriculum(pair, settings, report_holdout=report_holdout)
    return evaluate(pair, settings, report_holdout=report_holdout)
