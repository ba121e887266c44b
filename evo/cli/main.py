"""`python -m evo` / `grokevo`: parse, dispatch to the command's module. User errors end
in one line on stderr and exit status 2, never a traceback."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Sequence

from evo.cli.inspect import run_inspect
from evo.cli.parser import PROG, build_parser
from evo.cli.run import run
from evo.cli.show import show
from evo.cli.train import run_train
from evo.errors import UserError
from evo.recipes import RECIPES
from evo.tasks import NAMED, OPERATIONS, TaskError
from evo.views.report import write_report
from genome import GeneError


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.func == "train":
            return run_train(args)
        if args.func == "run":
            if args.out is None:
                if args.resume:
                    raise UserError("--resume: name the run to continue with --out RUN_DIR")
                args.out = time.strftime("runs/run-%Y%m%d-%H%M%S")
            return run(args)
        if args.func == "show":
            return show(args)
        if args.func == "inspect":
            return run_inspect(args)
        if args.func == "report":
            print(write_report(Path(args.run_dir)))
            return 0
        if args.func == "recipes":
            for recipe in RECIPES.values():
                print(f"{recipe.name}\t{recipe.summary}")
            return 0
        if args.func == "tasks":
            for op in OPERATIONS:
                print(f"{op}\t{NAMED[op]}")
            return 0
        raise AssertionError(args.func)
    except (UserError, GeneError, TaskError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `grokevo recipes | head`: the reader has what it wanted
        sys.stdout = open(os.devnull, "w")
        return 0
