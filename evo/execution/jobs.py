"""A Job into its Record: the one dispatch over plain runs, curricula and multi-task runs,
run inside a worker. An exception becomes a record marked failed, so that one bad pair
never stops a search."""
from __future__ import annotations

import traceback

from evo.execution.curriculum import evaluate_gene_curriculum
from evo.execution.evaluate import batch_key, evaluate, evaluate_group
from evo.execution.multitask import evaluate_tasks
from evo.records import Record
from evo.settings import Job, RunSettings


def failed(job: Job, exc: BaseException, message: str | None = None) -> Record:
    """The record of a run that raised (or whose worker died): it scores worst."""
    return {"failed": True, "error": message or f"{type(exc).__name__}: {exc}",
            "traceback": "" if message else traceback.format_exc(limit=5),
            "encoder": job.pair.encoder.to_dict(), "brain": job.pair.brain.to_dict(), "seed": job.seed,
            "params": None, "steps_to_threshold": None, "diverged": False, "curve": []}


def run_job(job: Job) -> Record:
    """One training run (a re-check also sends its trained weights back, for inspect). Only
    a plain run carries its state (brains.carry); a curriculum or multi-task run ignores
    `keep` and is never given a `start`."""
    def run_one(settings: RunSettings) -> Record:
        if job.pair.brain.curriculum:  # earlier operations first (evo.execution.curriculum)
            return evaluate_gene_curriculum(job.pair, settings, report_holdout=job.report_holdout,
                                            weights=job.report_holdout)
        alone = not job.settings.tasks
        return evaluate(job.pair, settings, report_holdout=job.report_holdout, weights=job.report_holdout,
                        start=job.start if alone else None, keep=job.keep and alone)

    try:
        if job.settings.tasks:  # multi-task fitness: one run per task, merged (evo.execution.multitask)
            return evaluate_tasks(run_one, job.settings)
        return run_one(job.settings)
    except Exception as exc:  # noqa: BLE001  (recorded, never raised: see the module docstring)
        return failed(job, exc)


def run_group(jobs: list[Job]) -> list[Record]:
    """Jobs of one group key (see group_key) trained as one batched computation (a key of
    one job too: its figures must not depend on its company); jobs without a key, or a
    group that fails, go through run_job one by one."""
    if group_key(jobs[0]) is None:
        return [run_job(job) for job in jobs]
    try:
        return evaluate_group([job.pair for job in jobs], [job.settings for job in jobs])  # never re-checks
    except Exception:  # noqa: BLE001  (each member then fails or succeeds on its own)
        return [run_job(job) for job in jobs]


def group_key(job: Job) -> str | None:
    """Jobs with equal keys train as one batched group (evaluate.batch_key); re-checks train
    alone, since they go on past the threshold and send their weights back, and so do runs
    that carry their state (a batched group has none per member)."""
    if job.report_holdout or job.keep or job.start is not None or not job.settings.batched:
        return None
    return batch_key(job.pair, job.settings)
