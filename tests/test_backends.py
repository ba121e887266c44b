"""Spreading the work: the dask and ray backends give the same front as local processes."""
import json

import pytest

from evo.rundir import checkpoint
from evo.cli import main


SMALL = ["--p", "11", "--population", "3", "--offspring", "2", "--partners", "1", "--budget", "20",
         "--final-seeds", "1", "--no-dashboard", "--seed", "2", "--generations", "3"]


@pytest.mark.slow
def test_dask_backend_matches_local(tmp_path, capsys):
    distributed = pytest.importorskip("dask.distributed")  # the dask extra; CI installs it
    local, remote = tmp_path / "local", tmp_path / "dask"
    assert main(["run", *SMALL, "--out", str(local), "--workers", "1"]) == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        assert main(["run", *SMALL, "--out", str(remote), "--backend", "dask",
                     "--scheduler", cluster.scheduler_address]) == 0
    capsys.readouterr()
    a, b = checkpoint.load(local), checkpoint.load(remote)
    assert a["archive"] == b["archive"] and a["encoders"] == b["encoders"] and a["brains"] == b["brains"]


@pytest.mark.slow
def test_ray_backend_matches_local(tmp_path, capsys):
    ray = pytest.importorskip("ray")
    local, remote = tmp_path / "local", tmp_path / "ray"
    assert main(["run", *SMALL, "--out", str(local), "--workers", "1"]) == 0
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        assert main(["run", *SMALL, "--out", str(remote), "--backend", "ray"]) == 0
    finally:
        ray.shutdown()
    capsys.readouterr()
    a, b = checkpoint.load(local), checkpoint.load(remote)
    assert a["archive"] == b["archive"] and a["encoders"] == b["encoders"] and a["brains"] == b["brains"]


@pytest.mark.slow
def test_real_dask_cluster_survives_a_lost_worker(tmp_path, capsys):
    """A dask scheduler and two workers as separate processes on 127.0.0.1; one worker is
    killed mid-run; dask moves its work to the other, and the front equals a local run's."""
    import signal
    import subprocess
    import sys
    import threading
    import time

    pytest.importorskip("dask.distributed")
    local, remote = tmp_path / "local", tmp_path / "dask"
    args = ["--p", "11", "--population", "3", "--offspring", "2", "--partners", "1", "--budget", "30",
            "--final-seeds", "1", "--no-dashboard", "--seed", "2", "--generations", "12"]
    assert main(["run", *args, "--out", str(local), "--workers", "1"]) == 0
    file = tmp_path / "scheduler.json"
    env_cmd = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
               "--no-dashboard", "--scheduler-file", str(file)]
    procs = [subprocess.Popen(env_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(file.read_text())["address"]
        for _ in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                 "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from dask.distributed import Client
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)

        def kill_one_worker():
            while not (remote / "checkpoint.json").exists() and time.monotonic() < deadline + 120:
                time.sleep(0.1)
            procs[1].send_signal(signal.SIGKILL)
        killer = threading.Thread(target=kill_one_worker)
        killer.start()
        assert main(["run", *args, "--out", str(remote), "--backend", "dask", "--scheduler", address]) == 0
        killer.join()
        assert procs[1].poll() is not None  # the worker was killed during the run
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    capsys.readouterr()
    a, b = checkpoint.load(local), checkpoint.load(remote)
    assert a["generation"] == b["generation"] == 11
    assert a["archive"] == b["archive"] and a["encoders"] == b["encoders"] and a["brains"] == b["brains"]
