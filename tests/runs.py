"""What the run tests share: a small run's flags and the CLI called in-process."""
from evo.cli import main

SMALL = ["--p", "11", "--population", "3", "--offspring", "2", "--partners", "1", "--budget", "20",
         "--final-seeds", "2", "--no-dashboard", "--seed", "5"]


def run_cli(*argv):
    try:
        return main(list(argv))
    except SystemExit as exc:
        return exc.code
