"""The Python API: the README's example runs as written, settings are the CLI's, and user
errors are exceptions."""
import json
import re
from pathlib import Path

import pytest

import evo
from evo.errors import UserError
from evo.tasks import TaskError

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> str:
    text = README.read_text()
    match = re.search(r"## Python API.*?```python\n(.*?)```", text, re.S)
    assert match, "README has a Python API section with a python block"
    return match.group(1)


def test_the_readme_example_runs(tmp_path, monkeypatch):
    code = readme_example()
    assert len(code.strip().splitlines()) <= 5
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    front = scope["front"]
    assert front and all({"id", "holdout_acc", "record", "rechecks"} <= set(m) for m in front)
    assert all(len(m["rechecks"]) == len(m["seeds"]) for m in front)
    assert scope["record"]["steps_to_threshold"] is not None


def test_train_takes_the_cli_settings_and_equals_the_cli(tmp_path, capsys):
    import json

    from evo.cli import main

    record = evo.train("onehot-quad", "sub", p=11, budget=30, seed=2)
    assert main(["train", "--recipe", "onehot-quad", "--task", "sub", "--p", "11", "--budget", "30",
                 "--seed", "2", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    for key in ("steps_run", "params", "train_acc", "select_acc", "holdout_acc", "flops_per_step"):
        assert record[key] == cli[key], key
    assert record["task"]["op"] == "sub" and record["seed"] == 2


def test_errors_are_exceptions(tmp_path):
    with pytest.raises(UserError, match="unknown option"):
        evo.train("onehot-quad", budgett=3)
    with pytest.raises(TaskError, match="not prime"):
        evo.train("onehot-quad", p=12)
    with pytest.raises(UserError, match="--recipe"):
        evo.train("no-such-recipe")
    with pytest.raises(UserError, match="population"):
        evo.run(tmp_path / "r", population=0)
    assert not (tmp_path / "r").exists()


def test_train_keeps_the_task_a_pair_file_names(tmp_path):
    """evo.train(pair_file) trained add whatever the file named (its task defaulted to add)."""
    from evo.pair import Pair
    from evo.recipes import RECIPES
    from evo.settings import RunSettings
    from evo.tasks import TaskSpec

    path = tmp_path / "pair.json"
    pair = Pair.from_dict(RECIPES["onehot-quad"].pair.to_dict())
    path.write_text(json.dumps(RunSettings(task=TaskSpec(op="mul", p=11), budget=20).pair_file(pair)))
    record = evo.train(path)
    assert record["task"]["op"] == "mul" and record["budget"] == 20
    assert evo.train(path, "sub", budget=10)["task"]["op"] == "sub"


def test_train_refuses_what_it_would_ignore():
    from evo.pair import Pair
    from evo.recipes import RECIPES

    with pytest.raises(UserError, match="unknown option 'tasks'"):
        evo.train("onehot-quad", tasks=("add", "sub"))
    curriculum = Pair.from_dict({**RECIPES["onehot-quad"].pair.to_dict(),
                                 "brain": {**RECIPES["onehot-quad"].pair.brain.to_dict(), "curriculum": [0]}})
    with pytest.raises(UserError, match="curriculum_pool"):
        evo.train(curriculum, p=11)
    with pytest.raises(UserError, match="budget"):
        evo.train("onehot-quad", budget=0)
