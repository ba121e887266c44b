"""A run made on one device, read and resumed on another (bugs 2 and 3)."""
import json

from evo.rundir import checkpoint
from runs import SMALL, resumed_on_the_cpu, run_cli


def pretend_made_on_cuda(run_dir):
    """Rewrite a CPU run's checkpoint as the same run made with --device cuda (keys, records
    and config), as a GPU machine would have written it."""
    doc = checkpoint.load(run_dir)
    text = json.dumps(doc).replace('\\"device\\": \\"cpu\\"', '\\"device\\": \\"cuda\\"')
    doc = json.loads(text)
    doc["config"]["device"] = "cuda"
    doc.pop("device", None)  # as a checkpoint written before the device was saved
    for records in (doc["cache"], doc["finals"]):
        for record in records.values():
            record["machine"]["device"] = "cuda:0"
    checkpoint.save(run_dir, doc)


def test_a_run_made_on_cuda_reports_and_resumes_on_a_cpu(tmp_path, capsys, monkeypatch):
    """Bugs 2 and 3: `report` refused a run made with --device cuda on a machine without
    CUDA, and `--resume --device cpu` raised an uncaught KeyError (its records are keyed by
    the device). Now the report reads the run as made, and the resume trains the archive's
    pairs again on this device, then goes on."""
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    run_dir = tmp_path / "run"
    assert run_cli("run", *SMALL, "--generations", "2", "--workers", "1", "--out", str(run_dir)) == 0
    pretend_made_on_cuda(run_dir)
    assert run_cli("report", str(run_dir)) == 0
    assert run_cli("run", "--out", str(run_dir), "--resume", "--generations", "3", "--no-dashboard") == 2
    assert "--device" in capsys.readouterr().err  # the stored cuda is absent: the user says where
    doc, front = resumed_on_the_cpu(run_dir, capsys)
    for key in (*doc["finals"], *[k for k, r in doc["cache"].items() if r.get("generation") == 2]):
        assert '"device": "cpu"' in key
    assert front["members"] and all(m["holdout_acc"] is not None for m in front["members"])
