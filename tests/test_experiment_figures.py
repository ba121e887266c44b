"""Figures the experiment scripts derive from records, against hand counts."""
import sys
from pathlib import Path

import pytest

from evo.recipes import RECIPES
from genome import GeneError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))

from step_floor import variants, with_genes  # noqa: E402
from suite import timed_seconds, to_holdout  # noqa: E402


def curve(*holdouts):
    return [{"step": 10 * (i + 1), "holdout_acc": h} for i, h in enumerate(holdouts)]


def test_to_holdout_reads_the_first_evaluation_at_the_target():
    record = {"curve": curve(0.5, 0.98, 0.991, 0.999), "steps_run": 40, "seconds": 4.0}
    assert to_holdout(record) == (30, 3.0)
    assert to_holdout({**record, "curve": curve(0.5, 0.98)}) == (None, None)


def test_to_holdout_counts_a_curriculum_s_earlier_stages():
    # stages of 50 and 120 steps (2 s and 6 s) before a last stage of 40 steps in 4 s
    stages = [{"steps_run": 50, "seconds": 2.0}, {"steps_run": 120, "seconds": 6.0},
              {"steps_run": 40, "seconds": 4.0}]
    record = {"curve": curve(0.5, 0.995), "steps_run": 40, "seconds": 4.0, "curriculum": {"stages": stages}}
    assert to_holdout(record) == (50 + 120 + 20, 2.0 + 6.0 + 2.0)


def test_timed_seconds_sum_the_timed_phases_of_every_resume(tmp_path):
    import json
    events = [{"event": "generation_start", "generation": 0}, {"event": "timing", "phase": "generation", "seconds": 2.5},
              {"event": "timing", "phase": "checkpoint", "seconds": 0.25}, {"event": "message", "text": "resumed"},
              {"event": "timing", "phase": "generation", "seconds": 4.0}, {"event": "timing", "phase": "rechecks",
                                                                            "seconds": 1.0}]
    (tmp_path / "events.jsonl").write_text("\n".join(json.dumps(e) for e in events) + "\n")
    assert timed_seconds(tmp_path) == 2.5 + 0.25 + 4.0 + 1.0


def test_training_flops_count_steps_times_step_flops_and_earlier_stages():
    from yardsticks import training_flops

    plain = {"steps_run": 40, "flops_per_step": 1000, "seconds": 2.0}
    stages = [{"steps_run": 50, "flops_per_step": 100}, {"steps_run": 30, "flops_per_step": 300}]
    staged = {"steps_run": 30, "flops_per_step": 300, "seconds": 1.5, "curriculum": {"stages": stages}}
    failed = {"failed": True, "steps_run": 99, "flops_per_step": 99}
    assert training_flops([plain, staged, failed]) == (40 * 1000 + 50 * 100 + 30 * 300, 3.5)


def test_training_flops_count_charged_evaluations_after_a_carry():
    from yardsticks import training_flops

    points = [{"step": s} for s in (1, 2, 3, 10, 20, 30)]
    record = {"steps_run": 30, "flops_per_step": 100, "flops_per_eval": 7, "curve": points, "seconds": 1.0,
              "profile": {"from_step": 10, "steps": 0.5, "evaluations": 0.1}}
    assert training_flops([record]) == (20 * 100 + 2 * 7, 0.6)   # steps 11-30 and the evaluations at 20, 30


def test_fast_pairs_medians_count_a_miss_as_slowest_and_name_the_fastest():
    from fast_pairs import median_or_none, summary

    assert median_or_none([30, None, 10]) == 30 and median_or_none([None, None, 5]) is None
    assert median_or_none([10, 20]) == 15 and median_or_none([10, None]) is None

    def row(name, seed, steps, flops, params=100, holdout=0.995):
        return {"op": "add", "name": name, "seed": seed, "steps_to_threshold": steps, "flops_to_threshold": flops,
                "params": params, "holdout_acc": holdout}
    rows = [row("search", 0, 12, 5e8), row("search", 1, 15, 6e8), row("search", 2, None, None, holdout=0.4),
            row("gromov", 0, 50, 1e10), row("gromov", 1, 40, 1e10), row("gromov", 2, 60, 1e10)]
    out = summary(rows)["add"]
    assert out["rows"]["search"]["steps"] == 15 and out["rows"]["search"]["max_steps"] is None
    assert out["rows"]["search"]["min_holdout"] == 0.4 and out["fastest"] == "search"
    assert out["rows"]["gromov"] == {"seeds": [0, 1, 2], "steps": 50, "flops": 1e10, "max_steps": 60,
                                     "min_holdout": 0.995, "params": 100}


def test_step_floor_sets_genes_through_the_gene_checks_and_scales_the_rate():
    pair = RECIPES["onehot-quad"].pair
    changed = with_genes(pair, ["muon=true", "optimizer=sgd", "hidden=[64]"])
    assert (changed.brain.muon, changed.brain.optimizer, changed.brain.hidden) == (True, "sgd", (64,))
    assert changed.encoder == pair.encoder and with_genes(pair, []) is pair
    with pytest.raises((GeneError, ValueError)):
        with_genes(pair, ["lr=5"])        # above the gene's declared range (at most 1)
    rows = variants(changed, [1.0, 3.0], ["keep", "0"])
    assert [(k["lr_scale"], k["warmup"]) for k, _ in rows] == [(1.0, pair.brain.warmup), (3.0, pair.brain.warmup),
                                                               (1.0, 0), (3.0, 0)]
    assert [p.brain.lr for _, p in rows] == [pair.brain.lr, 3 * pair.brain.lr] * 2


def test_patience_replay_stops_a_flat_curve_where_the_loop_s_rule_would():
    from patience_replay import replayed_stop, rule_of

    # dense reads at every step to 50, then every 10; a flat curve at chance, with noise
    # under the 0.01 gain, and a climb that crosses at step 50
    steps = list(range(1, 51)) + [60, 70, 80]
    flat = [{"step": s, "select_acc": 0.01 + 0.005 * (s % 3), "train_acc": 0.5} for s in steps]
    record = {"threshold": 0.99, "eval_every": 10, "eval_dense": 50, "dense_locates": True}
    # on the 10-step grid: best of step 10 not beaten by 0.01 in the next N spans
    assert replayed_stop(flat, rule_of(record, 3)) == ("plateau", 40)
    assert replayed_stop(flat, rule_of(record, 5)) == ("plateau", 60)
    climb = [{**p, "select_acc": min(1.0, 0.02 * p["step"])} for p in flat]
    assert replayed_stop(climb, rule_of(record, 3)) == ("threshold", 50)
