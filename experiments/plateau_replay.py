"""Which of a finished search's curves `--plateau rank` would have stopped earlier than
`--plateau either`, replayed through the training loop's own stop rule (brains.stopping.decide
under brains.stopping.run_rule of each record's settings), stage by stage for curricula. A
curve that stopped under one rule is replayed point by point under both; first-order only, as
experiments/patience_replay.py: the searches part after the first generation.

    python experiments/plateau_replay.py RUN_DIR [RUN_DIR ...] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from brains.stopping import decide, run_rule  # noqa: E402
from evo.rundir import checkpoint  # noqa: E402


def first_stop(curve: list[dict], record: dict, plateau: str) -> tuple[str | None, int | None]:
    rule = run_rule(record["threshold"], record["patience"], plateau, record["eval_every"],
                    record["eval_dense"], record["dense_locates"])
    for i in range(1, len(curve) + 1):
        if (why := decide(curve[:i], rule)) is not None:
            return why, curve[i - 1]["step"]
    return None, None


def replay(run_dir: Path) -> dict:
    cache = checkpoint.load(run_dir)["cache"]
    curves, earlier, crossed = 0, Counter(), 0
    for record in cache.values():
        for stage in (record.get("curriculum") or {}).get("stages") or [{"curve": record.get("curve")}]:
            if not stage.get("curve"):
                continue
            curves += 1
            rank = first_stop(stage["curve"], record, "rank")
            either = first_stop(stage["curve"], record, "either")
            if rank[0] == "plateau" and (either[1] is None or rank[1] < either[1]):
                earlier[record["generation"]] += 1
                crossed += either[0] == "threshold"
    return {"run": str(run_dir), "stage_curves": curves, "rank_stops_earlier": sum(earlier.values()),
            "of_which_cross_under_either": crossed, "earlier_by_generation": dict(sorted(earlier.items()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = [replay(run) for run in args.runs]
    text = json.dumps({"runs": rows}, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
