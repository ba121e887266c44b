"""Score many pairs through joblib: loky processes here, or dask/ray across machines.

Jobs and results are plain dicts (JSON-ready), so every backend ships them the same way,
and every result depends only on its job: not on the backend or the number of workers.
With `batched`, jobs of one computation shape train as one group (brains.batched): a
member's figures then equal its lone run's within float tolerance, not bit for bit.
"""
from __future__ import annotations

import json
import traceback
from contextlib import ExitStack
from typing import Any, Callable, Iterator

from evo.errors import UserError


def _set_threads(threads: int) -> None:
    import numba
    import torch

    torch.set_num_threads(threads)
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def _failed(job: dict[str, Any], exc: Exception) -> dict[str, Any]:
    return {"failed": True, "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=5), "encoder": job["pair"]["encoder"],
            "brain": job["pair"]["brain"], "seed": job["seed"], "params": None,
            "steps_to_threshold": None, "diverged": False, "curve": []}


def score_job(job: dict[str, Any]) -> dict[str, Any]:
    """Runs in a worker: one training run. An exception becomes a record marked failed so
    that one bad pair never stops a search."""
    from evo.evaluate import evaluate
    from evo.machine import resolve_device
    from evo.pair import Pair
    from evo.tasks import TaskSpec

    _set_threads(job["threads"])

    def run_one(task: dict[str, Any]) -> dict[str, Any]:
        pair, spec = Pair.from_dict(job["pair"]), TaskSpec.from_dict(task)
        run = {"seed": job["seed"], "budget": job["budget"], "threshold": job["threshold"],
               "eval_every": job["eval_every"], "max_flops": job["max_flops"], "patience": job.get("patience", 0),
               "device": resolve_device(job["device"]), "report_holdout": job.get("report_holdout", False),
               "weights": job.get("weights", False)}
        if pair.brain.curriculum:  # earlier operations first (evo.curriculum)
            from evo.curriculum import evaluate_gene_curriculum
            return evaluate_gene_curriculum(pair, job["curriculum_pool"], spec, **run)
        return evaluate(pair, spec, **run)

    try:
        if job.get("tasks"):  # multi-task fitness: one run per task, merged (evo.multitask)
            from evo.multitask import evaluate_tasks
            return evaluate_tasks(run_one, job["tasks"], job["task_cost"])
        return run_one(job["task"])
    except Exception as exc:  # noqa: BLE001  (recorded, never raised: see docstring)
        return _failed(job, exc)


def score_group(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs in a worker: jobs of one group key (see group_key) trained as one batched
    computation; a lone job, or a group that fails, goes through score_job one by one."""
    if len(jobs) == 1:
        return [score_job(jobs[0])]
    from evo.evaluate import evaluate_group
    from evo.machine import resolve_device
    from evo.pair import Pair
    from evo.tasks import TaskSpec

    _set_threads(jobs[0]["threads"])
    first = jobs[0]
    try:
        return evaluate_group([(Pair.from_dict(j["pair"]), TaskSpec.from_dict(j["task"]), j["seed"]) for j in jobs],
                              budget=first["budget"], threshold=first["threshold"],
                              eval_every=first["eval_every"], max_flops=first["max_flops"],
                              patience=first.get("patience", 0), device=resolve_device(first["device"]),
                              report_holdout=first.get("report_holdout", False))
    except Exception:  # noqa: BLE001  (each member then fails or succeeds on its own)
        return [score_job(job) for job in jobs]


def group_key(job: dict[str, Any]) -> str | None:
    """Jobs with equal keys can train as one batched group: same computation shape (brain
    fields other than per-member ones, feature width) and the same run settings; None =
    train alone. Read from the genes, without building anything."""
    from brains.batched import shape_key, supports
    from brains.gene import BrainGene
    from encoders.families import feature_dim
    from encoders.gene import EncoderGene

    try:
        brain = BrainGene.from_dict(job["pair"]["brain"])
        width = feature_dim(EncoderGene.from_dict(job["pair"]["encoder"]), job["task"]["p"])
    except Exception:  # noqa: BLE001  (a bad gene fails in score_job, with its message)
        return None
    if not supports(brain) or brain.curriculum or job.get("report_holdout") or job.get("tasks"):
        return None  # re-checks, curricula and multi-task jobs train alone
    settings = {k: v for k, v in job.items() if k not in ("pair", "seed")}
    return json.dumps([repr(shape_key(brain, width, 0, 0)), settings], sort_keys=True, default=str)


def worker_death_errors() -> tuple[type[BaseException], ...]:
    """What joblib raises when a worker process dies under it: loky's, and dask's when the
    scheduler gives a task up after its workers died."""
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    errors: list[type[BaseException]] = [TerminatedWorkerError]
    try:
        from distributed.scheduler import KilledWorker
        errors.append(KilledWorker)
    except ImportError:
        pass
    return tuple(errors)


def plan_groups(jobs: list[dict[str, Any]], batched: bool) -> list[list[int]]:
    """Indices of the jobs, in units of work: one per job, or (batched) one per group key."""
    if not batched:
        return [[i] for i in range(len(jobs))]
    units: dict[Any, list[int]] = {}
    for i, job in enumerate(jobs):
        key = group_key(job)
        units.setdefault(key if key is not None else ("alone", i), []).append(i)
    return list(units.values())


class Scorer:
    """A joblib pool kept open across generations (a context manager)."""

    def __init__(self, workers: int, backend: str = "loky", scheduler: str = "", batched: bool = False,
                 work: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] = score_group):
        self.workers, self.backend, self.scheduler, self.batched = workers, backend, scheduler, batched
        self.work = work  # what a worker runs on a unit of jobs (tests inject faults here)
        # One thread per training run, whatever the number of workers: the thread count can
        # change floating-point reduction order, and results must not depend on --workers.
        self.threads = 1
        self._stack = ExitStack()
        self._parallel = None

    def __enter__(self) -> "Scorer":
        from joblib import Parallel, parallel_config

        if self.backend == "dask":
            try:
                from dask.distributed import Client
            except ImportError:
                raise UserError("--backend dask: install the extra: pip install -e '.[dask]'") from None
            try:
                self._stack.enter_context(Client(self.scheduler, timeout=30))
            except (OSError, TimeoutError, ValueError) as exc:
                raise UserError(f"--scheduler: cannot reach {self.scheduler}: {exc}") from None
            self._stack.enter_context(parallel_config(backend="dask"))
        elif self.backend == "ray":
            try:
                from ray.util.joblib import register_ray
            except ImportError:
                raise UserError("--backend ray: install the extra: pip install -e '.[ray]'") from None
            register_ray()
            self._stack.enter_context(parallel_config(backend="ray"))
        n_jobs = self.workers if self.backend == "loky" else -1
        if self.backend == "loky" and self.workers == 1:
            self._parallel = None  # in-process: no pool, no pickling
        else:
            self._parallel = self._stack.enter_context(
                Parallel(n_jobs=n_jobs, backend=None if self.backend != "loky" else "loky",
                         # ray's joblib backend cannot stream results back one by one
                         return_as="list" if self.backend == "ray" else "generator"))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def map(self, jobs: list[dict[str, Any]],
            on_result: Callable[[int, dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
        """Results in job order; on_result(i, record) as each arrives, for progress."""
        from joblib import delayed

        jobs = [{**job, "threads": self.threads} for job in jobs]
        units = plan_groups(jobs, self.batched)
        results: Iterator[list[dict[str, Any]]] = (
            (self.work([jobs[i] for i in unit]) for unit in units) if self._parallel is None
            else self._parallel(delayed(self.work)([jobs[i] for i in unit]) for unit in units))
        out: list[dict[str, Any] | None] = [None] * len(jobs)

        def deliver(unit: list[int], records: list[dict[str, Any]]) -> None:
            for i, record in zip(unit, records):
                out[i] = record
                if on_result is not None:
                    on_result(i, record)
        try:
            for unit, records in zip(units, results):
                deliver(unit, records)
        except worker_death_errors() as exc:
            for unit in units:
                if out[unit[0]] is None:
                    deliver(unit, self._retry_alone([jobs[i] for i in unit], exc))
        return out  # type: ignore[return-value]

    def _retry_alone(self, unit: list[dict[str, Any]], first: BaseException) -> list[dict[str, Any]]:
        """After a worker died (killed, out of memory), each unit not yet back runs once more,
        alone in a fresh worker, so that only the unit that kills its worker again is lost:
        it is recorded as failed and the run goes on."""
        from joblib import Parallel, delayed

        try:
            n_jobs, backend = (2, "loky") if self.backend == "loky" else (-1, None)  # 2: a process, not in-line
            return Parallel(n_jobs=n_jobs, backend=backend)([delayed(self.work)(unit)])[0]
        except worker_death_errors() as again:
            message = f"worker died twice ({type(first).__name__}; then {type(again).__name__}: {again})"
            return [{**_failed(job, RuntimeError(message)), "error": message, "traceback": ""} for job in unit]
