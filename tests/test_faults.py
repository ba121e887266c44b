"""Faults: kill -9 at random moments (half of them aimed at checkpoint writes), a worker that
dies under a job, a full disk. A run resumed after every kill ends exactly where the same run
left alone ends, and no checkpoint on disk is ever unreadable."""
import json
import random
import signal
import subprocess
import sys
import time

import pytest

from evo.rundir import checkpoint
from evo.cli import main

from runs import EARLIER
from test_search import state_of

# under the earlier defaults (tests/runs.py): under today's (polish, the newer rules) the harness's
# first case had not finished after 6 minutes of a CI run, and it needs 100-300 generations for its
# kills to land; a resume under today's defaults is checked exactly by tests/test_giveup.py (a run
# split in two)
SMALL = ["--p", "11", "--population", "3", "--offspring", "2", "--partners", "1", "--budget", "20",
         "--final-seeds", "2", "--no-dashboard", "--seed", "5", "--generations", "150", "--workers", "1", *EARLIER]
KILLS = 20


def writing(run_dir, since_ns):
    """A checkpoint's temporary file written since `since_ns` (not one an earlier kill left)."""
    try:
        return (run_dir / (checkpoint.NAME + ".tmp")).stat().st_mtime_ns >= since_ns
    except FileNotFoundError:
        return False


# the data objective: an easy recipe seeded and a lower threshold, so that pairs reach and walk the ladder
DATA = ["--objectives", "cost,size,data", "--seed-with", "onehot-quad", "--train-frac", "0.7", "--fractions",
        "0.5,0.35,0.2", "--threshold", "0.5", "--select", "all", "--hold", "0", "--budget", "60", "--generations", "100"]


@pytest.mark.slow
# with rungs a generation trains less (promoted pairs go on from their carries), so the run is
# made longer, that the harness's 20 kills land before it ends
@pytest.mark.parametrize("flags", [[], ["--rungs", "2", "--eta", "2", "--generations", "300"], DATA],
                         ids=["plain", "rungs", "data"])
def test_kill_9_at_random_moments_loses_nothing(tmp_path, capsys, flags):
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert main(["run", *SMALL, *flags, "--out", str(whole)]) == 0
    capsys.readouterr()
    rng = random.Random(0)
    command = [sys.executable, "-m", "evo", "run", *SMALL, *flags, "--out", str(split)]
    # The first run is left to write its first checkpoint, so that a run always exists to
    # resume; how long that took (interpreter, torch, numba, generation 0: 2-5 s on the
    # machines seen) scales the kill moments, so that they land in training on any machine.
    start, proc = time.monotonic(), subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while not (split / checkpoint.NAME).exists():
        assert proc.poll() is None and time.monotonic() - start < 120, "no first checkpoint"
        time.sleep(0.005)
    boot = time.monotonic() - start
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    kills, finished, in_write = 1, False, 0
    while kills < KILLS and not finished:
        resume = ["--resume"] if (split / checkpoint.NAME).exists() or (split / checkpoint.PREVIOUS).exists() else []
        proc = subprocess.Popen([*command, *resume], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if kills % 2:  # every other kill aims at a checkpoint write: a fresh temporary file
            started, deadline = time.time_ns(), time.monotonic() + rng.uniform(0.7, 1.8) * boot
            while time.monotonic() < deadline and proc.poll() is None and not writing(split, started):
                time.sleep(0.0005)
            in_write += writing(split, started)
        else:
            time.sleep(rng.uniform(0.5, 1.5) * boot)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        _, err = proc.communicate(timeout=60)
        finished = proc.returncode == 0
        assert proc.returncode in (0, -signal.SIGKILL), err
        for name in (checkpoint.NAME, checkpoint.PREVIOUS):
            if (split / name).exists():
                checkpoint.read(split / name)  # raises if a kill ever left it unreadable
    if not finished:
        assert main(["run", *SMALL, *flags, "--out", str(split), "--resume"]) == 0
    capsys.readouterr()
    print(f"killed {kills} times ({in_write} with a checkpoint write under way; first checkpoint after "
          f"{boot:.1f} s), finished by the kills: {finished}")
    assert kills == KILLS  # the harness killed the run at every one of its random moments
    a, b = state_of(whole), state_of(split)
    for key in ("generation", "encoders", "brains", "archive", "cache", "finals", "best", "random", "logbook"):
        assert a[key] == b[key], key
    strip = lambda doc: [{k: v for k, v in m.items() if k != "seconds_to_threshold"} for m in doc["members"]]
    fa, fb = (json.loads((d / "front.json").read_text()) for d in (whole, split))
    assert strip(fa) == strip(fb)
    if "--rungs" in flags:
        assert any("rung" in r for r in a["cache"].values())   # the rungs were exercised
    if "--objectives" in flags:
        assert any("lowest_frac" in r for r in a["cache"].values())   # the ladder was walked


@pytest.mark.slow
def test_a_worker_that_dies_is_retried_once_then_recorded_as_failed():
    """A job that kills its worker process (as an out-of-memory kill would) costs only
    itself: it is retried once in a fresh worker, then recorded as failed; the other jobs
    of the batch come back with their figures."""
    from evo.search.config import RunConfig
    from evo.pair import Pair
    from evo.execution.parallel import Scorer
    from evo.recipes import RECIPES
    from evo.settings import Job

    def dies_on_seed_13(jobs):  # nested: cloudpickle ships it by value to the workers
        import os

        from evo.execution.parallel import score_group
        if any(j.seed == 13 for j in jobs):
            os._exit(1)
        return score_group(jobs)

    config = RunConfig(p=11, budget=10)
    pair = Pair.from_dict(RECIPES["onehot-quad"].pair.to_dict())
    jobs = [Job(pair, config.run_settings().with_seed(s)) for s in (1, 13, 2, 3)]
    seen = []
    with Scorer(2, work=dies_on_seed_13) as scorer:
        records = scorer.map(jobs, lambda i, r: seen.append(i))
    assert sorted(seen) == [0, 1, 2, 3]
    assert records[1]["failed"] and "worker died twice" in records[1]["error"]
    assert not any(records[i].get("failed") for i in (0, 2, 3))
    assert [records[i]["seed"] for i in (0, 2, 3)] == [1, 2, 3]


def test_disk_full_is_a_clear_error_before_training(tmp_path, capsys, monkeypatch):
    """A run directory that cannot take a write (disk full; as root, a read-only mode does
    not stop writes, so the write itself is made to fail) ends in one line before any
    training, with no checkpoint left behind."""
    import errno
    import pathlib

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(pathlib.Path, "write_bytes", full)
    out = tmp_path / "run"
    assert main(["run", *SMALL, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left" in err and "Traceback" not in err
    assert not list(out.glob("checkpoint*")) and not list(out.glob("front*"))


def test_after_ctrl_c_the_pools_own_threads_fail_quietly(monkeypatch, capfd):
    """Ctrl-C tears the pool down with jobs in flight; a thread of the pool that then fails on
    a killed worker's pipe must not print a traceback under the run's one line. Without an
    interrupt, thread failures are reported as ever."""
    import threading

    from evo.execution.parallel import Scorer, quiet_after_interrupt

    monkeypatch.setattr(threading, "excepthook", threading.excepthook)   # restored afterwards
    before = threading.excepthook
    with Scorer(1):
        pass
    assert threading.excepthook is before
    with pytest.raises(KeyboardInterrupt):
        with Scorer(1):
            raise KeyboardInterrupt
    assert threading.excepthook is quiet_after_interrupt
    monkeypatch.setattr(threading, "excepthook", before)
    # Python's own Ctrl-C handler, as in a terminal (a shell's background job starts with SIGINT ignored)
    ignored = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with Scorer(1):   # a real Ctrl-C: quiet from the signal on, before joblib tears the pool down
            with pytest.raises(KeyboardInterrupt):
                signal.raise_signal(signal.SIGINT)
            assert threading.excepthook is quiet_after_interrupt
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, ignored)

    def fails():
        raise OSError("a killed worker's pipe")
    thread = threading.Thread(target=fails, name="ExecutorManagerThread")
    thread.start()
    thread.join()
    assert "Traceback" not in capfd.readouterr().err
