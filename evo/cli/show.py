"""`python -m evo show RUN_DIR`: the front of a finished run, as a table or as front.json."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from evo.errors import UserError
from evo.rundir.final import FRONT
from evo.views.tables import print_front


def show(args: argparse.Namespace) -> int:
    path = Path(args.run_dir) / FRONT
    if not Path(args.run_dir).is_dir():
        raise UserError(f"{args.run_dir}: no such run directory")
    if not path.exists():
        raise UserError(f"{args.run_dir}: no front.json yet (the run has not finished; "
                        f"resume it with python -m evo run --out {args.run_dir} --resume)")
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: unreadable ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("members"), list) or "task" not in doc:
        raise UserError(f"{path}: not a grokevo front document")
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        print_front(doc)
    return 0
