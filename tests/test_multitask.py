"""Multi-task fitness: merging per-task records (against hand-computed figures), pricing a
miss above any reached pair, and a search whose every record matches lone runs per task."""
import json
import math

import pytest

from evo.execution import multitask
from evo.cli import main
from evo.execution.evaluate import evaluate
from evo.pair import Pair
from evo.search.scoring import cost
from evo.tasks import TaskSpec
from evo.settings import RunSettings


def rec(steps, flops_per_step=10.0, select=0.995, curve_best=None, **extra):
    reached = steps is not None
    return {"steps_to_threshold": steps, "flops_to_threshold": steps * flops_per_step if reached else None,
            "seconds_to_threshold": steps / 100 if reached else None, "flops_per_step": flops_per_step,
            "train_acc": 1.0, "select_acc": select, "holdout_acc": None, "holdout_acc_unseen_mirror": None,
            "holdout_acc_at_threshold": None, "diverged": False, "stopped": "threshold" if reached else "plateau",
            "steps_run": steps or 300, "steps_cap": 300, "seconds": 1.0, "budget": 300, "max_flops": 3000.0,
            "threshold": 0.99, "params": 7,
            "curve": [{"step": 10, "select_acc": select if curve_best is None else curve_best}], **extra}


def test_all_reached_sums_or_takes_the_worst():
    records = [rec(50), rec(120, flops_per_step=20.0), rec(80)]
    summed = multitask.merge(["add", "sub", "mul"], records, "sum")
    assert summed["steps_to_threshold"] == 250 and summed["flops_to_threshold"] == 500 + 2400 + 800
    assert summed["steps_run"] == 250 and summed["seconds"] == 3.0
    worst = multitask.merge(["add", "sub", "mul"], records, "max")
    assert worst["steps_to_threshold"] == 120 and worst["flops_to_threshold"] == 2400
    assert summed["bottleneck"] == worst["bottleneck"] == "sub"  # the costliest in FLOPs
    assert summed["per_task"]["mul"]["steps_to_threshold"] == 80
    assert summed["task_count"] == 3 and summed["task_cost"] == "sum"


def test_one_miss_misses_the_whole_and_its_curve_leads():
    records = [rec(50, select=0.999), rec(None, select=0.4, curve_best=0.4), rec(None, select=0.7, curve_best=0.7)]
    merged = multitask.merge(["add", "sub", "mul"], records, "sum")
    assert merged["steps_to_threshold"] is None and merged["flops_to_threshold"] is None
    assert merged["bottleneck"] == "sub" and merged["curve"] == records[1]["curve"]
    assert merged["select_acc"] == 0.4  # the weakest task's


def test_a_failed_task_fails_the_pair():
    merged = multitask.merge(["add", "sub"], [rec(50), {"failed": True, "error": "boom", "curve": []}], "max")
    assert merged["failed"] and merged["per_task"]["sub"]["error"] == "boom"


def test_a_summed_miss_costs_more_than_any_reached_pair():
    """Three tasks each reached just under the cap sum to nearly 3 caps: a miss must cost more."""
    reached = multitask.merge(["a", "b", "c"], [rec(299), rec(299), rec(299)], "sum")
    missed = multitask.merge(["a", "b", "c"], [rec(10), rec(10), rec(None, select=0.989, curve_best=0.989)], "sum")
    assert cost(reached, "flops") < cost(missed, "flops")
    assert math.isclose(cost(missed, "flops"), 3 * 3000.0 * 10 ** ((0.99 - 0.989) / 0.99))


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError):
        multitask.merge(["a", "b"], [rec(1), rec(1)], "mean")


def test_a_multi_task_search_scores_each_task_as_a_lone_run_would(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--p", "11", "--tasks", "add,mul", "--population", "3", "--offspring", "2",
                 "--partners", "1", "--budget", "20", "--generations", "2", "--final-seeds", "1",
                 "--workers", "1", "--no-dashboard", "--out", str(out)]) == 0
    capsys.readouterr()
    state = json.loads((out / "checkpoint.json").read_text())["state"]
    assert state["config"]["tasks"] == ["add", "mul"] and state["config"]["task"] == "add"
    record = next(iter(state["cache"].values()))
    pair = Pair.from_dict(record)
    for op in ("add", "mul"):  # the oracle: the same pair trained alone on the task
        alone = evaluate(pair, RunSettings(task=TaskSpec(op=op, p=11), seed=state["config"]["seed"], budget=20, max_flops=1e11, patience=state["config"]["patience"],
                                    hold=1.0, select="unseen-mirror"))
        assert record["per_task"][op]["select_acc"] == alone["select_acc"]
        assert record["per_task"][op]["steps_run"] == alone["steps_run"]
    assert record["select_acc"] == min(record["per_task"][op]["select_acc"] for op in ("add", "mul"))
    front = json.loads((out / "front.json").read_text())
    assert front["tasks"] == ["add", "mul"] and front["task_cost"] == "sum"
    assert all(set(m["per_task"]) == {"add", "mul"} for m in front["members"])
    assert main(["report", str(out)]) == 0
    assert "Which encoders transfer" in (out / "report.md").read_text()


def test_transfer_counts_reached_tasks_by_family_and_encoder():
    from evo.views import transfer

    def record(family, dim, add, mul):
        return {"encoder": {"family": family, "dim": dim},
                "per_task": {"add": {"steps_to_threshold": add}, "mul": {"steps_to_threshold": mul}}}
    records = [record("onehot", 64, 50, None), record("onehot", 64, 60, 70), record("fourier", 32, None, None),
               {"failed": True, "encoder": {"family": "fourier"}}, {"encoder": {"family": "scalar"}}]
    fams = transfer.tally(records, ["add", "mul"], "family")
    assert fams == {"onehot": {"pairs": 2, "reached": {"add": 2, "mul": 1}, "all": 1},
                    "fourier": {"pairs": 1, "reached": {"add": 0, "mul": 0}, "all": 0}}
    assert len(transfer.tally(records, ["add", "mul"], "encoder")) == 2
    text = "\n".join(transfer.markdown(records, ["add", "mul"], "max"))
    assert "| onehot | 2 | 2 (100%) | 1 (50%) | 1 (50%) |" in text and "the worst" in text
