"""What a run with rungs spent at each rung, and what promoted pairs trained twice.

    python experiments/rung_share.py RUN_DIR [--out FILE]

Reads a finished (or interrupted) run's checkpoint. A pair promoted from one rung to a
higher one goes on from the state its lower run left (brains.carry; its profile's
`from_step`), or, where it had none (a run resumed, batched or curriculum runs, an older
run), trains again from its start: the steps between where it went on from and where its
lower run stopped are trained twice. This gives the FLOPs each rung trained, the share
trained twice, and the bytes of carried state the runs shipped (their profiles'
`carry_bytes`).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from evo.pair import Pair  # noqa: E402
from evo.records import run_flops  # noqa: E402
from evo.rundir import checkpoint  # noqa: E402
from evo.search import rungs  # noqa: E402
from evo.search.config import RunConfig  # noqa: E402
from evo.search.scoring import run_key  # noqa: E402


def shares(doc: dict) -> dict:
    config = RunConfig.stored(doc["config"])
    top = config.run_settings(doc.get("device", "cpu"))
    ladder = config.rung_budgets()
    at = {budget: rungs.settings_at(top, budget) for budget in ladder}
    flops = {budget: 0.0 for budget in ladder}
    runs = {budget: 0 for budget in ladder}
    repeated, carried_bytes, promoted, went_on = 0.0, 0, 0, 0
    for key, record in doc["cache"].items():
        settings = json.loads(key)
        if settings["seed"] != top.seed or "rung" in record or record.get("failed"):
            continue   # second opinions and verdicts (a copy of a lower rung's run) aside
        budget = settings["budget"]
        if budget not in flops:
            continue
        profile = record.get("profile") or {}
        start = profile.get("from_step", 0)
        flops[budget] += run_flops(record, since=start)
        runs[budget] += 1
        carried_bytes += profile.get("carry_bytes", 0)
        if budget == ladder[0]:
            continue
        pair = Pair.from_dict(record)
        below = [doc["cache"][run_key(pair, at[b])] for b in ladder[:ladder.index(budget)]
                 if run_key(pair, at[b]) in doc["cache"]]
        if below:   # its last run below: trained from `start` to where that run stopped again
            promoted += 1
            went_on += start > 0
            repeated += max(0.0, run_flops(below[-1], since=start))
    total = sum(flops.values())
    return {"rungs": ladder, "eta": config.eta, "generations": doc["generation"] + 1,
            "runs_per_rung": {str(b): runs[b] for b in ladder},
            "flops_share_per_rung": {str(b): flops[b] / total for b in ladder},
            "promoted_runs": promoted, "went_on_from_a_carry": went_on,
            "repeated_flops_share": repeated / total, "carried_state_mb_total": carried_bytes / 1e6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--out")
    args = parser.parse_args()
    doc = {"benchmark": "rung_share", "run_dir": args.run_dir, **shares(checkpoint.load(Path(args.run_dir)))}
    text = json.dumps(doc, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
