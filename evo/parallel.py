"""Score many pairs through joblib: loky processes here, or dask/ray across machines.

Jobs and results are plain dicts (JSON-ready), so every backend ships them the same way,
and every result depends only on its job: not on the backend or the number of workers.
"""
from __future__ import annotations

import traceback
from contextlib import ExitStack
from typing import Any, Callable, Iterator

from evo.errors import UserError


def score_job(job: dict[str, Any]) -> dict[str, Any]:
    """Runs in a worker: one training run. An exception becomes a record marked failed so
    that one bad pair never stops a search."""
    import torch

    from evo.evaluate import evaluate
    from evo.machine import resolve_device
    from evo.pair import Pair
    from evo.tasks import TaskSpec

    import numba

    torch.set_num_threads(job["threads"])
    numba.set_num_threads(min(job["threads"], numba.config.NUMBA_NUM_THREADS))
    try:
        return evaluate(Pair.from_dict(job["pair"]), TaskSpec.from_dict(job["task"]), seed=job["seed"],
                        budget=job["budget"], threshold=job["threshold"], eval_every=job["eval_every"],
                        max_flops=job["max_flops"], patience=job.get("patience", 0),
                        device=resolve_device(job["device"]),
                        report_holdout=job.get("report_holdout", False))
    except Exception as exc:  # noqa: BLE001  (recorded, never raised: see docstring)
        return {"failed": True, "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=5), "encoder": job["pair"]["encoder"],
                "brain": job["pair"]["brain"], "seed": job["seed"], "params": None,
                "steps_to_threshold": None, "diverged": False, "curve": []}


class Scorer:
    """A joblib pool kept open across generations (a context manager)."""

    def __init__(self, workers: int, backend: str = "loky", scheduler: str = ""):
        self.workers, self.backend, self.scheduler = workers, backend, scheduler
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
        results: Iterator[dict[str, Any]] = (
            map(score_job, jobs) if self._parallel is None
            else self._parallel(delayed(score_job)(job) for job in jobs))
        out = []
        for i, record in enumerate(results):
            out.append(record)
            if on_result is not None:
                on_result(i, record)
        return out
