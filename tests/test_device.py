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


def test_mixed_sends_each_run_by_its_estimated_step():
    """--device mixed: a run whose estimated step reaches the bar goes to the GPU, the rest to
    the CPU; the estimate is checked against an independent count (6 x rows x the weights of
    the built network's linear layers, biases left out as the estimate leaves them)."""
    from brains.gene import BrainGene
    from encoders.gene import EncoderGene
    from evo.execution.evaluate import prepare, step_estimate
    from evo.machine import gpu_from, run_device
    from evo.pair import Pair
    from evo.settings import RunSettings
    from evo.tasks import TaskSpec
    import torch

    task = TaskSpec(p=23, train_frac=0.5)
    pair = Pair(EncoderGene(family="onehot", dim=23), BrainGene(hidden=(40, 17), batch_size=100))
    model = prepare(pair, task, 0, torch.device("cpu")).model
    weights = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
    estimate = step_estimate(pair, RunSettings(task=task))
    assert estimate == 6 * 100 * weights
    assert gpu_from("mixed") == 1e8 and gpu_from("mixed:3e7") == 3e7
    assert run_device(f"mixed:{estimate}", estimate).type == "cuda"
    assert run_device(f"mixed:{estimate + 1}", estimate).type == "cpu"
    assert run_device("cpu", 1e12).type == "cpu" and run_device("cuda", 0).type == "cuda"


def test_mixed_without_cuda_or_with_a_bad_bar_is_a_user_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    for device, says in (("mixed", "no CUDA"), ("mixed:lots", "mixed:FLOPS"), ("tpu", "tpu")):
        assert run_cli("run", *SMALL, "--generations", "1", "--device", device, "--out", str(tmp_path / device)) == 2
        err = capsys.readouterr().err.strip()
        assert says in err and len(err.splitlines()) == 1
