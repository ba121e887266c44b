"""What the run tests share: a small run's flags, the CLI called in-process, and a spy on
the pairs a run encodes."""
import numpy as np

from evo.cli import main
from evo.execution import evaluate as evaluate_module

SMALL = ["--p", "11", "--population", "3", "--offspring", "2", "--partners", "1", "--budget", "20",
         "--final-seeds", "2", "--no-dashboard", "--seed", "5"]


def run_cli(*argv):
    try:
        return main(list(argv))
    except SystemExit as exc:
        return exc.code


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
