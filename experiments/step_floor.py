"""How few steps can a found pair take? Its recipe varied by hand around what the search found:
warm-up off, the learning rate scaled, on the same seeds and under the fast-pair table's
rules (select read at every step to 50, each pass charged; a crossing must hold).

    python experiments/step_floor.py --pair FILE [--seeds 0,1,2] [--lr-scale 1,2,3,5]
                                     [--warmups KEEP,0] [--set GENE=VALUE ...] [--budget 120] [--out FILE]

`--set` changes a brain gene first (for example `--set muon=true` or `--set optimizer=sgd`),
by the gene's own JSON reading, so a value out of its declared range is refused.

The search cannot take a step the gene space does not offer: if the floor found here is far
below the search's figure, the search missed it; if not, the gene space (or the task) sets
the limit. Select figures steer nothing here: this is a probe of one pair, not a search.
Writes JSON (default experiments/results/step_floor.json).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from evo.execution.evaluate import evaluate  # noqa: E402
from evo.machine import describe  # noqa: E402
from evo.pair import Pair  # noqa: E402
from evo.settings import RunSettings  # noqa: E402
from fast_pairs import RULES, pair_file_settings  # noqa: E402  (this folder: the table's rules)


def variants(pair: Pair, lr_scales: list[float], warmups: list[str]) -> list[tuple[dict[str, Any], Pair]]:
    """The pair with its learning rate scaled and its warm-up kept or replaced."""
    out = []
    for warm in warmups:
        warmup = pair.brain.warmup if warm == "keep" else int(warm)
        for scale in lr_scales:
            brain = dataclasses.replace(pair.brain, lr=pair.brain.lr * scale, warmup=warmup)
            out.append(({"lr_scale": scale, "warmup": warmup}, Pair(pair.encoder, brain)))
    return out


def with_genes(pair: Pair, items: list[str]) -> Pair:
    """The pair with brain genes set from GENE=VALUE items, read back through the gene's
    JSON round trip so that its checks apply."""
    if not items:
        return pair
    data = pair.to_dict()
    changes = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            changes[name] = json.loads(value)
        except json.JSONDecodeError:
            changes[name] = value  # a bare word: a choice such as sgd
    return Pair.from_dict({**data, "brain": {**data["brain"], **changes}})


def probe_settings(path: Path, genes: list[str], budget: int) -> tuple[Pair, RunSettings]:
    """The pair file's pair with `genes` set, and its settings under the table's rules with
    `budget` steps."""
    pair, base = pair_file_settings(path, **RULES, budget=budget)
    return with_genes(pair, genes), base


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pair", required=True, help="a pair file (python -m evo train --pair FILE)")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--lr-scale", default="1,2,3,5")
    ap.add_argument("--warmups", default="keep,0", help="keep (the pair's own) or a step count, comma separated")
    ap.add_argument("--set", action="append", default=[], metavar="GENE=VALUE",
                    help="a brain gene changed before the scan (JSON value; repeat)")
    ap.add_argument("--budget", type=int, default=120, help="steps per run (the crossing must hold to here)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "step_floor.json"))
    args = ap.parse_args(argv)
    pair, base = probe_settings(Path(args.pair), args.set, args.budget)
    seeds = [int(s) for s in args.seeds.split(",")]
    doc: dict[str, Any] = {"benchmark": "step_floor", "pair_file": args.pair, "seeds": seeds,
                           "set": args.set, "command": "python experiments/step_floor.py " + " ".join(argv if argv is not None
                                                                                     else sys.argv[1:]),
                           "machine": describe(torch.device("cpu")), "settings": base.to_dict(), "rows": []}
    for knobs, variant in variants(pair, [float(x) for x in args.lr_scale.split(",")], args.warmups.split(",")):
        for seed in seeds:
            start = time.perf_counter()
            record = evaluate(variant, base.with_seed(seed), report_holdout=True)
            doc["rows"].append({**knobs, "lr": variant.brain.lr, "seed": seed,
                                "steps_to_threshold": record["steps_to_threshold"],
                                "flops_to_threshold": record["flops_to_threshold"],
                                "holdout_acc": record["holdout_acc"], "select_acc": record["select_acc"],
                                "diverged": record["diverged"], "seconds": time.perf_counter() - start})
            print(f"lr x{knobs['lr_scale']:<4} warm-up {knobs['warmup']:>3} seed {seed}: "
                  f"steps {record['steps_to_threshold']}, holdout {record['holdout_acc']:.4f}", flush=True)
            Path(args.out).write_text(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
