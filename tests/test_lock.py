"""The run directory's guards. One writer per run directory: a second `run` on a held directory ends in one line naming
the holder, exit 2, nothing written; a lock left by a process killed with kill -9 does
not block (the kill harness in test_faults resumes after every kill as well)."""
import os
import signal
import subprocess
import sys
import time

from evo.cli import main
from evo.rundir.lock import LOCK, RunLock

SMALL = ["--p", "11", "--population", "3", "--offspring", "2", "--partners", "1", "--budget", "10",
         "--final-seeds", "1", "--no-dashboard", "--workers", "1"]


def snapshot(run_dir):
    return {p.relative_to(run_dir): p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()}


def test_a_second_writer_is_refused_naming_the_holder(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert main(["run", *SMALL, "--generations", "2", "--out", str(run_dir)]) == 0
    before = snapshot(run_dir)
    capsys.readouterr()
    with RunLock(run_dir):  # held as another process would hold it: a second open file
        assert main(["run", "--out", str(run_dir), "--resume", "--generations", "3", "--no-dashboard"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"in use by process {os.getpid()}" in err
        assert main(["run", *SMALL, "--generations", "2", "--out", str(run_dir)]) == 2
        assert f"in use by process {os.getpid()}" in capsys.readouterr().err
        assert snapshot(run_dir) == before  # its .lock names this process already (the first run)
    assert main(["run", "--out", str(run_dir), "--resume", "--generations", "3", "--no-dashboard"]) == 0


def test_a_lock_left_by_kill_9_does_not_block(tmp_path):
    run_dir = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from evo.rundir.lock import RunLock; lock = RunLock(Path(sys.argv[1])).__enter__(); "
                               "print('held', flush=True); time.sleep(60)", str(run_dir)], stdout=subprocess.PIPE)
    assert holder.stdout.readline().strip() == b"held"
    try:
        with RunLock(run_dir):
            raise AssertionError("the lock was not held")
    except Exception as exc:  # noqa: BLE001
        assert f"in use by process {holder.pid}" in str(exc)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    time.sleep(0.1)
    assert (run_dir / LOCK).read_text().strip() == str(holder.pid)  # stale pid left in the file
    with RunLock(run_dir):
        assert (run_dir / LOCK).read_text().strip() == str(os.getpid())


def test_a_checkpoint_is_serialized_once_and_still_checked(tmp_path):
    """save() writes the state's text once (its digest is of that text); a changed byte is
    still caught, the cache's order survives, and checkpoints digested with sorted keys
    (written before) still read."""
    import json

    import pytest

    from evo.errors import UserError
    from evo.rundir import checkpoint

    state = {"cache": {"k2": {"x": 0.1 + 0.2}, "k1": {"x": float("nan")}}, "generation": 3}
    checkpoint.save(tmp_path, state)
    assert list(checkpoint.load(tmp_path)["cache"]) == ["k2", "k1"]
    path = tmp_path / checkpoint.NAME
    path.write_text(path.read_text().replace('"generation": 3', '"generation": 4'))
    with pytest.raises(UserError, match="corrupted"):
        checkpoint.read(path)
    old = {"grokevo_checkpoint": 1, "sha256": checkpoint._digest(state), "state": state}
    path.write_text(json.dumps(old))
    assert checkpoint.read(path)["generation"] == 3
