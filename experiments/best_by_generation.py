"""How far a search had climbed after each generation: the best select accuracy (the credited
figure fitness reads: the last of a crossing that did not hold) and the best rank of the right
answer among every run trained up to that generation, rungs and second opinions included,
with the runs counted. Read from the run's checkpoint, so a search stopped early still
compares generation by generation with another (for example with and without
`--polish-misses`); select figures only, holdout plays no part.

    python experiments/best_by_generation.py RUN_DIR [RUN_DIR ...] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evo.records import credited_rank, credited_select  # noqa: E402
from evo.rundir import checkpoint  # noqa: E402


def climb(run_dir: Path) -> dict[str, Any]:
    state = checkpoint.load(run_dir)
    # each record's figures once, then running bests generation by generation
    runs = sorted((r.get("generation", 0), credited_select(r), credited_rank(r))
                  for r in state["cache"].values() if not r.get("failed"))
    rows, i, best_select, best_rank = [], 0, None, None
    for g in range(state["generation"] + 1):
        while i < len(runs) and runs[i][0] <= g:
            _, select, rank = runs[i]
            best_select = select if best_select is None else max(best_select, select)
            best_rank = rank if best_rank is None or (rank is not None and rank < best_rank) else best_rank
            i += 1
        rows.append({"generation": g, "runs": i, "best_select": best_select, "best_rank": best_rank})
    return {"run": str(run_dir), "config": state["config"], "generations": rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--out", help="write the JSON here too")
    args = ap.parse_args(argv)
    doc = {"runs": [climb(Path(r)) for r in args.runs]}
    for run in doc["runs"]:
        print(run["run"])
        for row in run["generations"]:
            print(f"  gen {row['generation']:3d}: {row['runs']:5d} runs, best select {row['best_select']:.3f}, "
                  f"best rank {row['best_rank'] if row['best_rank'] is None else round(row['best_rank'], 4)}")
    if args.out:
        Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
