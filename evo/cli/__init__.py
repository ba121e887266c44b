"""The command line: the parser and its validators (parser), one module per command
(train, run, show, inspect), and the pair and settings `train` and `inspect` share
(pair_args). `main` is the console script's entry point."""
from evo.cli.main import main

__all__ = ["main"]
