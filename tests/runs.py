"""What the run tests share: a small run's flags, the CLI called in-process, and a spy on
the pairs a run encodes."""
import json

import numpy as np

from evo.cli import main
from evo.execution import evaluate as evaluate_module
from evo.execution.parallel import Scorer
from evo.rundir import checkpoint
from evo.search.loop import Search
from evo.search.state import new_state
from evo.tasks import make_split

SMALL = ["--p", "11", "--population", "3", "--offspring", "2", "--partners", "1", "--budget", "20",
         "--final-seeds", "2", "--no-dashboard", "--seed", "5"]


def run_cli(*argv):
    try:
        return main(list(argv))
    except SystemExit as exc:
        return exc.code


def resumed_on_the_cpu(run_dir, capsys) -> tuple[dict, dict]:
    """Resume a 2-generation run made elsewhere with `--device cpu` to a third generation;
    its checkpoint and front, checked to be this device's and complete."""
    assert run_cli("run", "--out", str(run_dir), "--resume", "--generations", "3", "--device", "cpu",
                   "--no-dashboard") == 0
    capsys.readouterr()
    doc = checkpoint.load(run_dir)
    assert doc["device"] == "cpu" and doc["generation"] == 2
    return doc, json.loads((run_dir / "front.json").read_text())


def spy_on_features(monkeypatch) -> list[set]:
    """Record the pair indices every feature encoding in this process is asked for (the
    list fills as runs go), so a test can check that holdout pairs never were."""
    seen: list[set] = []
    real = evaluate_module.features

    def spy(pair, table, split, idx, device):
        seen.append(set(np.asarray(idx).tolist()))
        return real(pair, table, split, idx, device)
    monkeypatch.setattr(evaluate_module, "features", spy)
    return seen


def holdout_seen_by_search(config, generations, monkeypatch):
    """Run `generations` of a search in process under the encoding spy; its state, and the
    holdout pairs any encoding asked for (the search must ask for none)."""
    holdout = set(make_split(config.task_spec()).holdout.tolist())
    seen = spy_on_features(monkeypatch)
    state = new_state(config)
    with Scorer(1) as scorer:
        search = Search(state, scorer, lambda *a, **k: None)
        for _ in range(generations):
            search.generation()
    assert seen, "nothing was encoded: the spy saw no run"
    return state, set().union(*seen) & holdout

# The main job's defaults before the fast-pair issue (README "What the main job does,
# measured"): for tests of mechanisms whose checks were written against them.
EARLIER = ["--speed-metric", "flops", "--update-rules", "classic", "--polish", "0", "--no-hold-window",
           "--ties", "keep", "--no-opinion-to-cap", "--no-opinion-rounds", "--hold-behind"]
