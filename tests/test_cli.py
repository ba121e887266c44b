"""The command line: the JSON contract, the recipe list, and bad input ending in one line
on stderr with exit status 2."""
import json
import subprocess
import sys

import pytest

from evo.cli import main
from evo.recipes import RECIPES

CONTRACT = ["task", "encoder", "brain", "seed", "steps_to_threshold", "seconds_to_threshold",
            "flops_to_threshold", "params", "train_acc", "select_acc", "holdout_acc",
            "holdout_acc_unseen_mirror", "diverged", "curve"]


def run_main(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # argparse exits on its own errors
        return exc.code


def test_train_json_contract_end_to_end():
    out = subprocess.run([sys.executable, "-m", "evo", "train", "--recipe", "onehot-quad", "--p", "23",
                          "--train-frac", "0.6", "--json"], capture_output=True, text=True, check=True)
    record = json.loads(out.stdout)
    assert all(key in record for key in CONTRACT)
    assert record["task"]["p"] == 23 and record["encoder"]["family"] == "onehot"
    assert record["holdout_acc"] is not None


def test_train_table_output(capsys):
    assert run_main(["train", "--recipe", "onehot-quad", "--p", "11", "--budget", "20"]) == 0
    out = capsys.readouterr().out
    assert "holdout_acc_unseen_mirror" in out and "add mod 11" in out


def test_recipe_task_suggestions_yield_to_flags(capsys, tmp_path):
    save = tmp_path / "r.json"
    assert run_main(["train", "--recipe", "forum", "--p", "11", "--budget", "5", "--json",
                     "--save", str(save)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["task"]["pairs"] == "unordered"  # the recipe's suggestion
    assert json.loads(save.read_text()) == record
    assert run_main(["train", "--recipe", "forum", "--p", "11", "--budget", "5", "--json",
                     "--pairs", "ordered"]) == 0
    assert json.loads(capsys.readouterr().out)["task"]["pairs"] == "ordered"


def test_pair_file_round_trip(tmp_path, capsys):
    pair = tmp_path / "pair.json"
    pair.write_text(json.dumps(RECIPES["onehot-quad"].pair.to_dict()))
    assert run_main(["train", "--pair", str(pair), "--p", "11", "--budget", "10", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["brain"] == RECIPES["onehot-quad"].pair.brain.to_dict()


def test_recipes_lists_one_per_line_name_first(capsys):
    assert run_main(["recipes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(RECIPES)
    assert {"onehot-mlp", "power", "forum"} <= set(RECIPES)


def pair_file(tmp_path, text):
    path = tmp_path / "pair.json"
    path.write_text(text)
    return str(path)


GOOD = RECIPES["onehot-quad"].pair.to_dict()
BAD_INPUTS = [
    (lambda tmp: ["train", "--recipe", "nosuch"], "--recipe"),
    (lambda tmp: ["train", "--recipe", "power", "--p", "91"], "p: 91 is not prime"),
    (lambda tmp: ["train", "--recipe", "power", "--p", "1013"], "p: 1013"),
    (lambda tmp: ["train", "--recipe", "power", "--p", "x"], "--p"),
    (lambda tmp: ["train", "--recipe", "power", "--train-frac", "1.5"], "--train-frac"),
    (lambda tmp: ["train", "--recipe", "power", "--train-frac", "0"], "--train-frac"),
    (lambda tmp: ["train", "--recipe", "power", "--budget", "0"], "--budget"),
    (lambda tmp: ["train", "--recipe", "power", "--budget", "-5"], "--budget"),
    (lambda tmp: ["train", "--recipe", "power", "--threshold", "2"], "--threshold"),
    (lambda tmp: ["train", "--recipe", "power", "--task", "pow"], "neither a known operation"),
    (lambda tmp: ["train", "--recipe", "power", "--split", "sorted"], "--split"),
    (lambda tmp: ["train", "--recipe", "power", "--pair", "x.json"], "not allowed with"),
    (lambda tmp: ["train"], "one of the arguments --recipe --pair is required"),
    (lambda tmp: ["train", "--recipe", "power", "--frobnicate"], "unrecognized arguments"),
    (lambda tmp: ["fly"], "invalid choice"),
    (lambda tmp: ["train", "--pair", str(tmp / "missing.json")], "no such file"),
    (lambda tmp: ["train", "--pair", pair_file(tmp, "{not json")], "not valid JSON"),
    (lambda tmp: ["train", "--pair", pair_file(tmp, "[1, 2]")], "'encoder' and 'brain'"),
    (lambda tmp: ["train", "--pair", pair_file(tmp, json.dumps(
        {**GOOD, "encoder": {"family": "morse"}}))], "EncoderGene.family"),
    (lambda tmp: ["train", "--pair", pair_file(tmp, json.dumps(
        {**GOOD, "brain": {"family": "rnn"}}))], "BrainGene.family"),
    (lambda tmp: ["train", "--pair", pair_file(tmp, json.dumps(
        {**GOOD, "brain": {**GOOD["brain"], "lr": 5.0}}))], "BrainGene.lr"),
    (lambda tmp: ["train", "--pair", pair_file(tmp, json.dumps(
        {**GOOD, "brain": {**GOOD["brain"], "hidden": "wide"}}))], "BrainGene.hidden"),
    (lambda tmp: ["train", "--pair", pair_file(tmp, json.dumps(
        {**GOOD, "encoder": {"family": "fourier", "freqs": [1], "sdr": 0.9}}))], "EncoderGene.sdr"),
    (lambda tmp: ["train", "--recipe", "power", "--save", str(tmp / "no" / "dir.json")], "--save"),
    (lambda tmp: ["train", "--recipe", "power", "--task", "__import__('os').system('x')"], "unexpected '_'"),
    (lambda tmp: ["train", "--recipe", "onehot-quad", "--curriculum", "add"], "--curriculum"),
    (lambda tmp: ["train", "--recipe", "onehot-quad", "--curriculum", "add,pow"], "--curriculum"),
    (lambda tmp: ["train", "--recipe", "onehot-quad", "--curriculum", "add,mul", "--new-hidden", "wide"],
     "--new-hidden"),
    # run: options checked before any directory is made
    (lambda tmp: ["run", "--out", str(tmp / "r"), "--population", "0"], "--population"),
    (lambda tmp: ["run", "--out", str(tmp / "r"), "--population", "3", "--partners", "5"], "--partners"),
    (lambda tmp: ["run", "--out", str(tmp / "r"), "--brain-families", "rnn"], "--brain-families"),
    (lambda tmp: ["run", "--out", str(tmp / "r"), "--seed-with", "nosuch"], "--seed-with"),
    (lambda tmp: ["run", "--out", str(tmp / "r"), "--task", "x +* y"], "task"),
    (lambda tmp: ["run", "--out", str(tmp / "r"), "--train-frac", "0.999", "--p", "5"], "train_frac"),
    (lambda tmp: ["run", "--out", str(tmp / "r"), "--backend", "dask"], "--scheduler"),
    (lambda tmp: ["run", "--out", str(tmp / "r"), "--task", "mul", "--curriculum-pool", "auto"], "sum of terms"),
    (lambda tmp: ["run", "--out", str(tmp / "r"), "--curriculum-pool", "add,pow"], "--curriculum-pool"),
    (lambda tmp: ["train", "--pair", pair_file(tmp, json.dumps(
        {**GOOD, "brain": {**GOOD["brain"], "curriculum": [0]}}))], "curriculum_pool"),
    (lambda tmp: ["inspect", "--pair", pair_file(tmp, json.dumps(
        {**GOOD, "brain": {**GOOD["brain"], "curriculum": [0]}, "curriculum_pool": ["x"]}))], "curriculum gene"),
    (lambda tmp: ["run", "--out", str(tmp / "r"), "--tasks", "add"], "two or more different"),
    (lambda tmp: ["run", "--out", str(tmp / "r"), "--tasks", "add,add"], "two or more different"),
    (lambda tmp: ["run", "--out", str(tmp / "r"), "--tasks", "add,pow"], "--tasks"),
    (lambda tmp: ["run", "--out", str(tmp / "r"), "--task", "mul", "--tasks", "add,sub"], "give one"),
    (lambda tmp: ["run", "--out", str(tmp / "r"), "--tasks", "add,sub", "--task-cost", "mean"], "--task-cost"),
    (lambda tmp: ["run", "--out", str(tmp / "r"), "--config", str(tmp / "missing.toml")], "missing.toml"),
    (lambda tmp: ["run", "--resume"], "--resume"),
    (lambda tmp: ["run", "--out", str(tmp), "--resume"], "checkpoint"),
    # show, report, inspect
    (lambda tmp: ["show", str(tmp / "nosuch")], "no such run directory"),
    (lambda tmp: ["show", str(tmp)], "no front.json"),
    (lambda tmp: ["report", str(tmp / "nosuch")], "no such run directory"),
    (lambda tmp: ["report", str(tmp)], "no checkpoint"),
    (lambda tmp: ["inspect", "--recipe", "nosuch"], "--recipe"),
    (lambda tmp: ["inspect", "--recipe", "onehot-quad", "--share", "1.5"], "--share"),
    (lambda tmp: ["inspect", "--recipe", "onehot-quad", "--weights", str(tmp / "none.pt")], "--weights"),
    (lambda tmp: ["inspect", "--pair", pair_file(tmp, "{not json")], "not valid JSON"),
]


@pytest.mark.parametrize("make_argv, needle", BAD_INPUTS)
def test_bad_input_is_one_line_and_exit_2(make_argv, needle, tmp_path, capsys):
    argv = make_argv(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert run_main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert needle in lines[0] and "Traceback" not in captured.err
    assert captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_bad_input_as_a_real_process():
    out = subprocess.run([sys.executable, "-m", "evo", "train", "--recipe", "power", "--p", "91"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "not prime" in out.stderr


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_trains_through_the_cli(name, capsys):
    assert run_main(["train", "--recipe", name, "--p", "11", "--budget", "4", "--eval-every", "2",
                     "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["brain"] == RECIPES[name].pair.brain.to_dict()
    assert record["steps_run"] == 4 and record["holdout_acc"] is not None


def test_every_recipe_seeds_a_search(tmp_path, capsys):
    """--seed-with puts each recipe's own pair among the first generation's scored pairs."""
    names = sorted(RECIPES)
    out = tmp_path / "run"
    assert run_main(["run", "--p", "11", "--population", str(len(names)), "--offspring", "2",
                     "--partners", "1", "--budget", "3", "--generations", "1", "--final-seeds", "1",
                     "--no-dashboard", "--workers", "1", "--seed-with", ",".join(names),
                     "--out", str(out)]) == 0
    capsys.readouterr()
    cache = json.loads((out / "checkpoint.json").read_text())["state"]["cache"]
    brains = {json.dumps(record["brain"], sort_keys=True) for record in cache.values()}
    for name in names:
        assert json.dumps(RECIPES[name].pair.brain.to_dict(), sort_keys=True) in brains, name
