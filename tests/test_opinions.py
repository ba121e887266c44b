"""A second opinion before the front: a pair that would enter it is trained on the next
seed too, and keeps the worse of its two runs."""
import json

from evo.pair import Pair
from evo.rundir import checkpoint
from evo.search.config import RunConfig
from evo.search.scoring import cost, run_key
from runs import SMALL, run_cli

EASY = ["--seed-with", "onehot-quad", "--population", "4", "--train-frac", "0.7", "--budget", "150",
        "--threshold", "0.5", "--select", "all", "--hold", "0"]   # p 11: select is a few pairs, and noisy


def test_front_members_carry_the_worse_of_two_seeds(tmp_path, capsys):
    assert run_cli("run", *SMALL, "--generations", "3", *EASY, "--out", str(tmp_path / "r")) == 0
    capsys.readouterr()
    doc = checkpoint.load(tmp_path / "r")
    config = RunConfig.stored(doc["config"])
    seed, metric = config.seed, config.speed_metric
    second = config.run_settings("cpu").with_seed(seed + 1)
    judged = {k: r for k, r in doc["cache"].items() if "opinions" in r}
    assert judged, "no pair reached the threshold: the rule was not exercised"
    for key, record in judged.items():
        assert json.loads(key)["seed"] == seed
        assert record["opinions"]["seeds"] == [seed, seed + 1]
        other = doc["cache"][run_key(Pair.from_dict(record), second)]
        if record["opinions"]["taken"] == seed + 1:
            assert record["curve"] == other["curve"] and record["seed"] == seed + 1
        else:
            assert record["seed"] == seed and cost(record, metric) >= cost(other, metric)
    members = json.loads((tmp_path / "r" / "front.json").read_text())["members"]
    mine = {run_key(Pair.from_dict(m), config.run_settings("cpu")) for m in members}
    reached_members = [k for k in mine if doc["cache"][k].get("steps_to_threshold") is not None]
    assert reached_members and all(k in judged for k in reached_members)


def test_no_second_opinion_when_asked(tmp_path, capsys):
    assert run_cli("run", *SMALL, "--generations", "2", *EASY, "--no-second-opinion",
                   "--out", str(tmp_path / "r")) == 0
    capsys.readouterr()
    doc = checkpoint.load(tmp_path / "r")
    assert not any("opinions" in r for r in doc["cache"].values())
    assert {json.loads(k)["seed"] for k in doc["cache"]} == {doc["config"]["seed"]}
