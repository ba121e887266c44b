"""Score many jobs through joblib: loky processes here, or dask/ray across machines.

Jobs (evo.settings.Job) are picklable frozen dataclasses and records plain JSON objects,
so every backend ships them the same way, and every record depends only on its job (its
wall-clock timings aside): not on the backend or the number of workers. In a batched run
(RunSettings.batched), jobs of one cell of brains.batched's grid train as one group: a
member's figures then equal its lone run's within float tolerance, not bit for bit, and do
not depend on the group it trained in.
"""
from __future__ import annotations

import signal
import threading
from contextlib import ExitStack
from typing import Any, Callable, Iterator

import numba
import torch
from joblib import Parallel, delayed, parallel_config
from joblib.externals.loky.process_executor import TerminatedWorkerError

from evo.errors import UserError
from evo.execution.evaluate import work_estimate
from evo.execution.jobs import failed, group_key, run_group
from evo.records import Record
from evo.settings import Job

# One thread per training run, whatever the number of workers: the thread count can change
# floating-point reduction order, and results must not depend on --workers.
THREADS = 1


def score_group(jobs: list[Job]) -> list[Record]:
    """Runs in a worker: one unit of work (a lone job, or a batched group)."""
    torch.set_num_threads(THREADS)
    numba.set_num_threads(min(THREADS, numba.config.NUMBA_NUM_THREADS))
    return run_group(jobs)


def worker_death_errors() -> tuple[type[BaseException], ...]:
    """What joblib raises when a worker process dies under it: loky's, and dask's when the
    scheduler gives a task up after its workers died."""
    errors: list[type[BaseException]] = [TerminatedWorkerError]
    try:  # an extra: imported only where installed
        from distributed.scheduler import KilledWorker
        errors.append(KilledWorker)
    except ImportError:
        pass
    return tuple(errors)


def plan_groups(jobs: list[Job], workers: int) -> list[list[int]]:
    """Indices of the jobs, in units of work: one per job without a group key (a run that
    is not batched), else one per key, cut so that no unit holds more than an even share of
    the jobs (every worker gets work); the costliest first by evaluate.work_estimate (longest
    processing time first: the long runs start first, short ones fill the gaps). A
    member's figures do not depend on its unit (brains.batched), so the cut may depend on
    the number of workers."""
    keyed: dict[Any, list[int]] = {}
    for i, job in enumerate(jobs):
        key = group_key(job)
        keyed.setdefault(key if key is not None else ("alone", i), []).append(i)
    share = max(1, -(-len(jobs) // max(1, workers)))
    units = [unit[start:start + share] for unit in keyed.values() for start in range(0, len(unit), share)]
    cost = [work_estimate(job.pair, job.settings) for job in jobs]
    return sorted(units, key=lambda unit: sum(cost[i] for i in unit), reverse=True)


def quiet_after_interrupt(args: threading.ExceptHookArgs) -> None:
    """After Ctrl-C the pool is torn down with its jobs in flight, and its own threads (loky's
    ExecutorManagerThread) may fail on the pipes of workers killed under them: a traceback the
    run's one line ("interrupted; resume with ...") should not be buried under. Only exceptions
    from threads are dropped (the main thread's go through sys.excepthook, untouched), and
    only once the run was interrupted."""


class Scorer:
    """A joblib pool kept open across generations (a context manager)."""

    def __init__(self, workers: int, backend: str = "loky", scheduler: str = "",
                 work: Callable[[list[Job]], list[Record]] = score_group):
        self.workers, self.backend, self.scheduler = workers, backend, scheduler
        self.work = work  # what a worker runs on a unit of jobs (tests inject faults here)
        self._stack = ExitStack()
        self._parallel = None

    def __enter__(self) -> "Scorer":
        if self.backend == "dask":
            try:  # an extra, imported only when asked for
                from dask.distributed import Client
            except ImportError:
                raise UserError("--backend dask: install the extra: pip install -e '.[dask]'") from None
            try:
                self._stack.enter_context(Client(self.scheduler, timeout=30))
            except (OSError, TimeoutError, ValueError) as exc:
                raise UserError(f"--scheduler: cannot reach {self.scheduler}: {exc}") from None
            self._stack.enter_context(parallel_config(backend="dask"))
        elif self.backend == "ray":
            try:  # an extra, imported only when asked for
                from ray.util.joblib import register_ray
            except ImportError:
                raise UserError("--backend ray: install the extra: pip install -e '.[ray]'") from None
            register_ray()
            self._stack.enter_context(parallel_config(backend="ray"))
        previous = signal.getsignal(signal.SIGINT)
        if callable(previous) and threading.current_thread() is threading.main_thread():
            def interrupted(signum: int, frame: Any) -> None:  # joblib tears the pool down before __exit__
                threading.excepthook = quiet_after_interrupt
                previous(signum, frame)
            signal.signal(signal.SIGINT, interrupted)
            self._stack.callback(signal.signal, signal.SIGINT, previous)
        n_jobs = self.workers if self.backend == "loky" else -1
        if self.backend == "loky" and self.workers == 1:
            self._parallel = None  # in-process: no pool, no pickling
        else:
            self._parallel = self._stack.enter_context(
                # batch_size 1: joblib's automatic batching would tie short runs together
                # behind a long one at the end of a generation
                Parallel(n_jobs=n_jobs, backend=None if self.backend != "loky" else "loky", batch_size=1,
                         # ray's joblib backend cannot stream results back one by one
                         return_as="list" if self.backend == "ray" else "generator"))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            threading.excepthook = quiet_after_interrupt
        self._stack.close()

    def map(self, jobs: list[Job], on_result: Callable[[int, Record], None] | None = None) -> list[Record]:
        """Results in job order; on_result(i, record) as each arrives, for progress."""
        units = plan_groups(jobs, self.workers)
        results: Iterator[list[Record]] = (
            (self._inline([jobs[i] for i in unit]) for unit in units) if self._parallel is None
            else self._parallel(delayed(self.work)([jobs[i] for i in unit]) for unit in units))
        out: list[Record | None] = [None] * len(jobs)

        def deliver(unit: list[int], records: list[Record]) -> None:
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

    def _inline(self, unit: list[Job]) -> list[Record]:
        """A unit run in this process, with torch's global generator left as it was: every
        run seeds itself, and the state the checkpoint saves must not depend on which runs
        the cache spared (a resumed run re-checks fewer pairs than the same run left alone)."""
        with torch.random.fork_rng(devices=[]):
            return self.work(unit)

    def _retry_alone(self, unit: list[Job], first: BaseException) -> list[Record]:
        """After a worker died (killed, out of memory), each unit not yet back runs once more,
        alone in a fresh worker, so that only the unit that kills its worker again is lost:
        it is recorded as failed and the run goes on."""
        try:
            n_jobs, backend = (2, "loky") if self.backend == "loky" else (-1, None)  # 2: a process, not in-line
            return Parallel(n_jobs=n_jobs, backend=backend)([delayed(self.work)(unit)])[0]
        except worker_death_errors() as again:
            message = f"worker died twice ({type(first).__name__}; then {type(again).__name__}: {again})"
            return [failed(job, again, message) for job in unit]
