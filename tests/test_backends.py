"""Spreading the work: the dask backend gives the same front as local processes."""
import pytest

from evo import checkpoint
from evo.cli import main

distributed = pytest.importorskip("dask.distributed")

SMALL = ["--p", "11", "--population", "3", "--offspring", "2", "--partners", "1", "--budget", "20",
         "--final-seeds", "1", "--no-dashboard", "--seed", "2", "--generations", "3"]


def test_dask_backend_matches_local(tmp_path, capsys):
    local, remote = tmp_path / "local", tmp_path / "dask"
    assert main(["run", *SMALL, "--out", str(local), "--workers", "1"]) == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        assert main(["run", *SMALL, "--out", str(remote), "--backend", "dask",
                     "--scheduler", cluster.scheduler_address]) == 0
    capsys.readouterr()
    a, b = checkpoint.load(local), checkpoint.load(remote)
    assert a["archive"] == b["archive"] and a["encoders"] == b["encoders"] and a["brains"] == b["brains"]
