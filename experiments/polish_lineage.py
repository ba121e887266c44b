"""Where a run's best pairs came from: each time the fastest pair that reached the threshold
improved, was it one step along one field (evo.search.variation.neighbours) from a pair that
had reached in an earlier generation? Reads the run's checkpoint only (select figures, the
search's own seed); trains nothing.

    python experiments/polish_lineage.py RUN_DIR [--out FILE]

A `--polish` run's improvements that are neighbours of an earlier best are the polish step's
work (a random mutation lands on a neighbour's exact value only for toggles and choices).
Writes JSON (default experiments/results/polish_lineage_<run name>.json).
"""
from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

import genome  # noqa: E402
from brains.gene import BrainGene  # noqa: E402
from encoders.gene import EncoderGene  # noqa: E402
from evo.rundir import checkpoint  # noqa: E402
from evo.search import variation  # noqa: E402
from evo.summary import brain as brain_summary, encoder as encoder_summary  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def reached_runs(doc: dict[str, Any]) -> list[tuple[int, int, EncoderGene, BrainGene]]:
    """(generation, steps, encoder, brain) of every search run on the run's seed that reached,
    in the order the search trained them (by generation, then steps)."""
    out = []
    for key, record in doc["cache"].items():
        what = json.loads(key)
        if what.get("holdout") or what.get("seed") != doc["config"]["seed"] or record.get("steps_to_threshold") is None:
            continue
        out.append((record["generation"], record["steps_to_threshold"],
                    EncoderGene.from_dict(what["pair"]["encoder"]), BrainGene.from_dict(what["pair"]["brain"])))
    return sorted(out, key=lambda t: (t[0], t[1]))


@functools.cache
def neighbour_keys(gene: EncoderGene | BrainGene) -> frozenset[str]:
    """The keys of the gene's one-step neighbours, once per gene (a gene is asked about for
    every later improvement)."""
    return frozenset(genome.key(n) for n in variation.neighbours(gene))


def step_from(encoder: EncoderGene, brain: BrainGene, earlier: list[tuple[int, int, EncoderGene, BrainGene]]
              ) -> dict[str, Any] | None:
    """The earlier reached pair this one is a neighbour of, the side and field that moved
    and its values before and after; None if none."""
    for generation, steps, e, b in earlier:
        for side, mine, theirs, other_same in (("brain", brain, b, genome.key(e) == genome.key(encoder)),
                                               ("encoder", encoder, e, genome.key(b) == genome.key(brain))):
            if other_same and genome.key(mine) in neighbour_keys(theirs):
                before, after = genome.active(theirs), genome.active(mine)
                field = next(n for n in {**before, **after} if before.get(n) != after.get(n))
                return {"generation": generation, "steps": steps, "side": side, "field": field,
                        "from": before.get(field), "to": after.get(field)}
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="a run directory")
    ap.add_argument("--out", help="output JSON")
    args = ap.parse_args(argv)
    run = Path(args.run)
    doc = checkpoint.load(run)
    runs = reached_runs(doc)
    best, rows = None, []
    for i, (generation, steps, encoder, brain) in enumerate(runs):
        if best is not None and steps >= best:
            continue
        best = steps
        earlier = [r for r in runs[:i] if r[0] < generation]
        rows.append({"generation": generation, "steps": steps, "encoder": encoder_summary(encoder),
                     "brain": brain_summary(brain), "neighbour_of": step_from(encoder, brain, earlier)})
        print(rows[-1], flush=True)
    out = Path(args.out) if args.out else RESULTS / f"polish_lineage_{run.name}.json"
    out.write_text(json.dumps({"run": str(run), "config": doc["config"], "generations": doc["generation"],
                               "reached_runs": len(runs), "improvements": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
