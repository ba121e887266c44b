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


def test_the_second_opinion_holds_to_the_cap_and_ties_get_none(tmp_path, capsys):
    """--hold-window --opinion-to-cap: the search's runs end at twice their crossing, the
    second opinion trains on to the step cap (its key has no window); --ties one: no two
    front members share a point."""
    flags = [*EASY[:-2], "--hold", "1", "--hold-window", "--opinion-to-cap", "--ties", "one"]
    assert run_cli("run", *SMALL, "--generations", "3", *flags, "--out", str(tmp_path / "r")) == 0
    capsys.readouterr()
    doc = checkpoint.load(tmp_path / "r")
    config = RunConfig.stored(doc["config"])
    first = config.run_settings("cpu")
    second = first.with_seed(config.seed + 1, hold_window=False)
    assert first.hold_window and not second.hold_window
    judged = [r for r in doc["cache"].values() if "opinions" in r]
    assert judged, "no pair reached the threshold: the rule was not exercised"
    held, windowed = 0, 0
    for record in judged:
        other = doc["cache"][run_key(Pair.from_dict(record), second)]
        if other.get("steps_to_threshold") is not None:   # held: trained to the cap, not to its window
            assert other["curve"][-1]["step"] == config.budget
            held += 1
        if record["opinions"]["taken"] == config.seed and record.get("steps_to_threshold") is not None:
            assert record["curve"][-1]["step"] <= 2 * record["steps_to_threshold"]   # the window
            windowed += 1
    assert held and windowed, "no second opinion held, or no first run's window was read: nothing checked"
    members = json.loads((tmp_path / "r" / "front.json").read_text())["members"]
    points = [tuple(m["search_objectives"]) for m in members]
    assert points and len(points) == len(set(points))


def judge(rounds: bool, second_steps: dict[float, int]) -> tuple[list[list[float]], dict]:
    """Three fresh pairs by their lr: a (10 steps, 1,000 weights) dominates b (12, 2,000); c (8,
    5,000) trades with both. The second seed crosses at `second_steps[lr]`. Returns the lrs of
    each round's second opinions, and the cache."""
    from brains.gene import BrainGene
    from encoders.gene import EncoderGene
    from evo.search.opinions import second_opinions
    config = RunConfig(p=11, workers=1, speed_metric="steps", opinion_rounds=rounds)
    settings = config.run_settings("cpu")
    first = {0.01: (10, 1000), 0.02: (12, 2000), 0.03: (8, 5000)}

    def record(lr: float, steps: int, seed: int) -> dict:
        return {"seed": seed, "steps_to_threshold": steps, "flops_to_threshold": 1.0, "seconds_to_threshold": 1.0,
                "params": first[lr][1]}
    pairs = {lr: Pair(EncoderGene(), BrainGene(lr=lr)) for lr in first}
    cache = {run_key(pair, settings): record(lr, first[lr][0], config.seed) for lr, pair in pairs.items()}
    rounds_seen: list[list[float]] = []

    def train(jobs):
        rounds_seen.append(sorted(job.pair.brain.lr for job in jobs))
        return [record(job.pair.brain.lr, second_steps[job.pair.brain.lr], job.settings.seed) for job in jobs]
    fresh = {run_key(pair, settings): pair for pair in pairs.values()}
    second_opinions(fresh, cache, [], config, settings, train, 1, lambda text: None)
    return rounds_seen, cache


def test_a_pair_a_fresh_pair_dominates_waits_and_needs_no_opinion_if_that_one_holds():
    held, cache = judge(True, {0.01: 10, 0.02: 12, 0.03: 9})
    assert held == [[0.01, 0.03]]    # b waits for a, which holds: b could not enter
    assert sum("opinions" in r for r in cache.values()) == 2
    fell, cache = judge(True, {0.01: 40, 0.02: 12, 0.03: 9})
    assert fell == [[0.01, 0.03], [0.02]]    # a took 40 steps on its second seed: b is judged next
    taken = {r["params"]: r["steps_to_threshold"] for r in cache.values() if "opinions" in r}
    assert taken == {1000: 40, 2000: 12, 5000: 9}
    at_once, _ = judge(False, {0.01: 10, 0.02: 12, 0.03: 9})
    assert at_once == [[0.01, 0.02, 0.03]]
