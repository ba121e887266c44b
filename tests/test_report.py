"""`python -m evo report`: Markdown and pictures for a finished, interrupted or bad run."""
import json
import re

import pytest

from evo.cli import main

SMALL = ["--p", "11", "--population", "3", "--offspring", "2", "--partners", "1", "--budget", "30",
         "--final-seeds", "2", "--no-dashboard", "--seed", "5", "--generations", "3"]
PICTURES = ("report_front.png", "report_history.png", "report_curves.png", "report_diversity.png",
            "report_encoders.png")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("report") / "run"
    assert main(["run", *SMALL, "--out", str(run_dir)]) == 0
    return run_dir


def test_report_of_a_finished_run(finished, capsys):
    assert main(["report", str(finished)]) == 0
    text = (finished / "report.md").read_text()
    for name in PICTURES:
        assert (finished / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({name})" in text
    front = json.loads((finished / "front.json").read_text())["members"]
    rows = [line for line in text.splitlines() if re.match(r"\| p\d\d-", line)]
    assert len(rows) == len(front) >= 1
    for member, row in zip(front, rows):
        assert member["id"] in row and f"--pair {finished}/front/{member['id']}.json" in row
    assert "finished" in text


def test_report_curves_carry_holdout_from_the_rechecks(finished):
    """Re-checks record holdout at each evaluation (for the curves); search runs never do."""
    state = json.loads((finished / "checkpoint.json").read_text())["state"]
    assert all("holdout_acc" in pt for r in state["finals"].values() for pt in r["curve"])
    assert not any("holdout_acc" in pt for r in state["cache"].values() for pt in r["curve"])
    assert all("generation" in r for r in state["cache"].values())
    assert all(isinstance(e["families"], list) for e in state["logbook"])


def test_report_of_an_interrupted_run(tmp_path, capsys):
    """No front.json yet (as while a run goes on): the report says so and still draws."""
    run_dir = tmp_path / "run"
    assert main(["run", *SMALL[:-1], "2", "--out", str(run_dir)]) == 0
    (run_dir / "front.json").unlink()
    assert main(["report", str(run_dir)]) == 0
    text = (run_dir / "report.md").read_text()
    assert "still going or interrupted" in text and "--resume" in text
    assert (run_dir / "report_front.png").exists()


@pytest.mark.parametrize("setup", ["missing", "empty", "garbage"])
def test_report_refuses_what_is_not_a_run(tmp_path, capsys, setup):
    run_dir = tmp_path / "run"
    if setup != "missing":
        run_dir.mkdir()
    if setup == "garbage":
        (run_dir / "checkpoint.json").write_text("{not json")
    assert main(["report", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and str(run_dir) in err
    assert not (run_dir / "report.md").exists()


def test_inspect_loads_the_runs_saved_weights(finished, capsys, tmp_path):
    """The run saved each re-check's weights; inspect on a front pair file loads them
    (no retraining) and reports a spectrum for both operands."""
    member = json.loads((finished / "front.json").read_text())["members"][0]
    assert all((finished / w).is_file() for w in member["weights"])
    png = tmp_path / "spectrum.png"
    assert main(["inspect", "--pair", str(finished / member["pair_file"]), "--png", str(png), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["source"].startswith("weights ") and member["weights"][0] in out["source"]
    assert set(out["operands"]) == {"a", "b"} and len(out["operands"]["a"]["power"]) == 11 // 2 + 1
    assert 0 <= out["holdout_acc_key_frequencies_only"] <= 1 and png.read_bytes()[:4] == b"\x89PNG"


def test_inspect_refuses_a_planted_pickle(finished, capsys, tmp_path):
    """Weights load with weights_only=True: a pickle that would run code is refused."""
    import pickle

    class Boom:
        def __reduce__(self):
            return (print, ("pickle executed",))
    bad = tmp_path / "evil.pt"
    bad.write_bytes(pickle.dumps(Boom()))
    member = json.loads((finished / "front.json").read_text())["members"][0]
    assert main(["inspect", "--pair", str(finished / member["pair_file"]), "--weights", str(bad),
                 "--png", str(tmp_path / "x.png")]) == 2
    captured = capsys.readouterr()
    assert "pickle executed" not in captured.out + captured.err
    assert captured.err.count("\n") == 1 and "--weights" in captured.err


def test_report_fronts_follow_the_runs_rank_misses(tmp_path, capsys):
    """Under --rank-misses shortfall the report rebuilt its history fronts with size-ranked
    objectives, so they differed from the run's; now the last one is the run's archive."""
    from evo.cli import main
    from evo.search.scoring import pair_key
    from evo.views.report import front_at, load_state, points

    run_dir = tmp_path / "run"
    assert main(["run", "--p", "11", "--population", "4", "--offspring", "2", "--partners", "1", "--budget", "10",
                 "--final-seeds", "1", "--no-dashboard", "--workers", "1", "--seed", "3", "--generations", "3",
                 "--rank-misses", "shortfall", "--out", str(run_dir)]) == 0
    capsys.readouterr()
    state = load_state(run_dir)
    rebuilt = {pair_key(pt.pair) for pt in front_at(points(state), state.generation, state.config.ties)}
    assert rebuilt == {pair_key(ind.gene) for ind in state.archive}
