"""The same work on CUDA as on the CPU. Skipped where torch sees no CUDA device (CI has
none); run on a GPU machine with `python -m pytest -q tests/test_cuda.py`.

The oracle is the CPU: a model is initialised on the CPU and moved, so a run on CUDA starts
from the same weights and its first figures must match the CPU's closely; later figures
drift apart (float order differs between devices), so only their outcome is compared."""
import dataclasses

import pytest
import torch

import evo
from brains.gene import BrainGene
from encoders.gene import EncoderGene
from evo.execution.evaluate import evaluate, evaluate_group
from evo.pair import Pair
from evo.rundir import checkpoint
from evo.settings import RunSettings
from evo.tasks import TaskSpec
from runs import SMALL, resumed_on_the_cpu, run_cli

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no CUDA device")

TASK = TaskSpec(p=23, train_frac=0.6)
RECIPES = ["onehot-mlp", "power", "nanda", "grokfast", "grokfast-ma", "gromov", "orthograd", "egd", "muon",
           "omnigrok", "ff", "forum", "onehot-quad", "fourier-quad", "router"]


@pytest.mark.parametrize("recipe", RECIPES)
def test_every_recipe_starts_as_on_the_cpu(recipe):
    """Every recipe (so every brain family, update rule and encoder the recipes use) runs on
    CUDA, and its first evaluation matches the CPU run's: same steps, losses within 1e-3."""
    runs = {device: evo.train(recipe, "add", device=device, p=23, budget=20, eval_every=10, threshold=1.0)
            for device in ("cpu", "cuda")}
    cpu, gpu = runs["cpu"], runs["cuda"]
    assert gpu["machine"]["device"].startswith("cuda")
    assert [c["step"] for c in gpu["curve"]] == [c["step"] for c in cpu["curve"]]
    first_cpu, first_gpu = cpu["curve"][0], gpu["curve"][0]
    assert first_gpu["train_loss"] == pytest.approx(first_cpu["train_loss"], rel=1e-3, abs=1e-5)
    assert first_gpu["select_loss"] == pytest.approx(first_cpu["select_loss"], rel=1e-3, abs=1e-5)
    assert gpu["params"] == cpu["params"] and gpu["flops_per_step"] == cpu["flops_per_step"]


def test_a_grokking_recipe_crosses_on_cuda_as_on_the_cpu():
    """onehot-quad groks add mod 23 (70% train) on both devices, at crossing steps within a factor 2."""
    runs = {device: evo.train("onehot-quad", "add", device=device, p=23, train_frac=0.7, budget=400) for device in ("cpu", "cuda")}
    steps = {device: run["steps_to_threshold"] for device, run in runs.items()}
    assert None not in steps.values(), steps
    assert 0.5 <= steps["cuda"] / steps["cpu"] <= 2.0, steps
    assert runs["cuda"]["holdout_acc"] >= 0.9


@pytest.mark.parametrize("brain", [
    BrainGene(hidden=(32,), lr=1e-2, weight_decay=1.0, warmup=5),
    BrainGene(hidden=(32, 16), activation="quadratic", bias=False, loss="mse", lr=3e-3, batch_size=32),
    BrainGene(hidden=(32,), lr=1e-2, grokfast_lambda=2.0, grokfast_alpha=0.9, grad_clip=0.5),
])
def test_a_batched_group_on_cuda_matches_its_members_alone_on_cuda(brain):
    """brains.batched on the GPU, where it is meant to pay: each member's figures equal its
    lone run's on the same device."""
    encoders = [EncoderGene(family="random", dim=16, code_seed=1), EncoderGene(family="cyclic", dim=16),
                EncoderGene(family="scalar", dim=16)]
    jobs = [(Pair(e, dataclasses.replace(brain, lr=brain.lr * (1 + k))),
             RunSettings(task=TASK, seed=k, budget=60, device="cuda")) for k, e in enumerate(encoders)]
    together = evaluate_group([p for p, _ in jobs], [s for _, s in jobs], report_holdout=True)
    for (pair, settings), grouped in zip(jobs, together):
        alone = evaluate(pair, settings, report_holdout=True)
        assert grouped["group_size"] == len(jobs)
        assert grouped["steps_run"] == alone["steps_run"] and grouped["stopped"] == alone["stopped"]
        for g, a in zip(grouped["curve"], alone["curve"]):
            assert g["train_loss"] == pytest.approx(a["train_loss"], rel=1e-3, abs=1e-5)
            assert abs(g["select_acc"] - a["select_acc"]) <= 0.03
        assert abs(grouped["holdout_acc"] - alone["holdout_acc"]) <= 0.03


def test_a_main_job_on_cuda_resumes_and_reports_on_the_cpu(tmp_path, capsys):
    """A small search made on CUDA (workers in their own processes, each on the GPU) writes
    its records under cuda keys; `report` reads it, and `--resume --device cpu` retrains the
    archive on the CPU and goes on (the CPU-only test pretends this; here it is real)."""
    run_dir = tmp_path / "run"
    assert run_cli("run", *SMALL, "--generations", "2", "--workers", "2", "--device", "cuda", "--out", str(run_dir)) == 0
    doc = checkpoint.load(run_dir)
    assert doc["cache"] and all('"device": "cuda"' in key for key in doc["cache"])
    assert all(record["machine"]["device"].startswith("cuda") for record in doc["cache"].values())
    assert run_cli("report", str(run_dir)) == 0
    _, front = resumed_on_the_cpu(run_dir, capsys)
    assert front["members"] and all(m["holdout_acc"] is not None for m in front["members"])


def test_a_mixed_main_job_trains_large_runs_on_cuda_and_small_on_the_cpu(tmp_path, capsys):
    """--device mixed:1e7: every record was made where its estimated step says (seed 5's
    first generation has runs on both sides of the bar), its key names the setting, and
    the run resumes on the CPU alone."""
    from evo.execution.evaluate import step_estimate
    from evo.search.config import RunConfig

    run_dir = tmp_path / "run"
    assert run_cli("run", *SMALL, "--generations", "2", "--workers", "2", "--device", "mixed:1e7",
                   "--out", str(run_dir)) == 0
    doc = checkpoint.load(run_dir)
    settings = RunConfig.stored(doc["config"]).run_settings("mixed:1e7")
    made = set()
    for key, record in doc["cache"].items():
        assert '"device": "mixed:1e7"' in key
        pair = Pair.from_dict({"encoder": record["encoder"], "brain": record["brain"]})
        want = "cuda" if step_estimate(pair, settings) >= 1e7 else "cpu"
        assert record["machine"]["device"].split(":")[0] == want
        made.add(want)
    assert made == {"cpu", "cuda"}
    _, front = resumed_on_the_cpu(run_dir, capsys)
    assert front["members"] and all(m["holdout_acc"] is not None for m in front["members"])
