"""Spreading the work: the dask and ray backends give the same front as local processes."""
import pytest

from evo import checkpoint
from evo.cli import main


SMALL = ["--p", "11", "--population", "3", "--offspring", "2", "--partners", "1", "--budget", "20",
         "--final-seeds", "1", "--no-dashboard", "--seed", "2", "--generations", "3"]


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
