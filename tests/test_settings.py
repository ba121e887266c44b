"""RunSettings: a JSON round trip, and cache keys that are those of the old run-settings
dict (a hand-written oracle of what 16a4068's `run_settings` wrote), so old checkpoints
keep their cache."""
import json
import shutil
from pathlib import Path

from evo.cli import main
from evo.rundir import checkpoint
from evo.search.config import RunConfig
from evo.settings import RunSettings
from evo.tasks import TaskSpec


def test_json_round_trip():
    full = RunSettings(task=TaskSpec(op="mul", p=23, split="ordered"), seed=3, budget=50, max_flops=1e9,
                       threshold=0.9, eval_every=5, patience=2, hold=1.5, select="unseen-mirror", device="cpu",
                       batched=True,
                       tasks=("mul", "add"), task_cost="max", curriculum_pool=("x*y",))
    for settings in (full, RunSettings()):
        assert RunSettings.from_dict(json.loads(settings.to_json())) == settings


def test_keys_are_the_old_run_settings():
    """Settings that came later (hold, select, dense, charged and sparse-charged evaluations)
    are named in the key only when not at the value old runs were made with."""
    config = RunConfig(p=11, workers=1, hold=0.0, select="all", eval_dense=0, charge_evals=False)
    old = {"task": config.task_spec().to_dict(), "seed": config.seed, "budget": config.budget,
           "max_flops": config.max_flops, "threshold": config.threshold, "eval_every": config.eval_every,
           "patience": config.patience, "device": "cpu"}
    assert config.run_settings().to_dict() == old
    was = {"hold": 0.0, "select": "all", "eval_dense": 0, "charge_evals": False}
    assert RunConfig(p=11, workers=1, batched=True, **was).run_settings().to_dict() == \
        {**old, "batched": True}
    multi = RunConfig(p=11, workers=1, tasks=("add", "sub"), **was).run_settings().to_dict()
    assert multi == {**old, "tasks": ["add", "sub"], "task_cost": "sum"}
    assert RunConfig(p=11, workers=1).run_settings().to_dict() == \
        {**old, "hold": 1.0, "select": "unseen-mirror", "eval_dense": 50, "charge_evals": True,
         "dense_locates": True, "hold_window": True}
    assert RunConfig(p=11, workers=1, dense_locates=False, hold_window=False).run_settings().to_dict() == \
        {**old, "hold": 1.0, "select": "unseen-mirror", "eval_dense": 50, "charge_evals": True}


FIXTURE = Path(__file__).parent / "fixtures" / "run_v1"


def test_a_checkpoint_written_before_the_restructuring_resumes(tmp_path, capsys):
    """tests/fixtures/run_v1 was written by main at 16a4068 (3 generations, p 11, seed 5).
    Its cache keys are today's RunSettings keys: it loads with no pair to retrain, resumes,
    and keeps every record it had. (Until the canonical-gene fix changed the search's path,
    the resumed run also ended exactly where a fresh 5-generation run ends: checked at the
    restructuring commit.)"""
    from evo.search.state import from_json

    old = tmp_path / "old"
    shutil.copytree(FIXTURE, old)
    before = checkpoint.load(old)
    assert from_json(before).stale == []
    assert main(["run", "--out", str(old), "--resume", "--generations", "5", "--no-dashboard"]) == 0
    capsys.readouterr()
    after = checkpoint.load(old)
    assert after["generation"] == 4 and len(after["cache"]) > len(before["cache"])
    assert all(after["cache"][key] == record for key, record in before["cache"].items())
    assert (old / "front.json").exists()
