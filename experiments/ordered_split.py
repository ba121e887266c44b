"""Addition mod 97 on the forum's ordered split: which spectacles make it possible?

    python experiments/ordered_split.py [--seeds 0,1,2] [--max-steps 1000] [--recipes ...]
                                        [--codes NAME ...] [--pairs FILE ...] [--out FILE]

The ordered split trains on the first half of the pairs in generator order (x major), so
training sees x only from 0 to 48 (and x = 48 with half its partners): half the first
operands never appear first in training. An encoder that gives each residue its own
unrelated code (one-hot, random codes) leaves the brain nothing to go on for those x; a
code with structure over the residues (Fourier, clocks) may. Trains each named recipe given
and the onehot-quad brain behind several encoders, on that split, with each seed; reports
steps to 99% select and holdout accuracy at the end of the run (nearly every holdout pair
has a first operand that training never saw first: the JSON gives the count). The combiner
matters too: summed codes share one block of first-layer weights between the operands, and
every x does appear as a second operand in training.

Besides these hand-built codes behind one brain, it trains pairs found by the search on this
split (`python -m evo run --split ordered`): pair files as `run` writes them into
RUN_DIR/front/ (default: the ones copied into experiments/results/pairs/ordered-*.json).
Each is trained as `python -m evo train --pair FILE --seed S` trains it: the step cap,
evaluation interval, threshold, FLOP cap and patience its file carries (the cap lowered to
--max-steps if that is smaller), on the same split (a file for another task is refused).

Unless --no-cross is given, the two halves are also swapped, to tell the code's part from
the brain's: each searched code behind the onehot-quad brain, and each searched brain
behind the concatenated one-hot, all-frequency Fourier and frequency-5 Fourier codes, with
the hand-built rows' settings (cap 500, no patience).

Every row also gives holdout accuracy over the holdout pairs whose mirror (y, x) is not a
training pair either (`holdout_acc_unseen_mirror`): there neither operand order was seen,
so a summed code cannot answer from memory. Writes JSON and Markdown (a table, and the
candidates that reached 99% on every seed, computed from the rows).
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from encoders.gene import EncoderGene  # noqa: E402
from evo.execution.evaluate import evaluate  # noqa: E402
from evo.machine import describe  # noqa: E402
from evo.pair import Pair, load_pair  # noqa: E402
from evo.recipes import RECIPES  # noqa: E402
from evo.summary import brain as brain_summary  # noqa: E402
from evo.summary import encoder as encoder_summary  # noqa: E402
from evo.settings import RunSettings  # noqa: E402
from evo.tasks import Split, TaskSpec, make_split  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAIRS_GLOB = "experiments/results/pairs/ordered-*.json"
# the hand-built concatenated codes each searched brain is also put behind (--cross)
CROSS_CODES = ("onehot", "fourier all", "fourier 5")

BRAIN = RECIPES["onehot-quad"].pair.brain
ENCODERS = {
    "onehot": EncoderGene(family="onehot"),
    "onehot, summed": EncoderGene(family="onehot", combiner="sum"),
    "random d128": EncoderGene(family="random", dim=128, code_seed=1),
    "fourier all": EncoderGene(family="fourier", freqs=()),
    "fourier all, summed": EncoderGene(family="fourier", freqs=(), combiner="sum"),
    "fourier 1,2,3": EncoderGene(family="fourier", freqs=(1, 2, 3)),
    "fourier 5": EncoderGene(family="fourier", freqs=(5,)),
    "cyclic d128": EncoderGene(family="cyclic", dim=128, width=0.1),
    "scalar d128": EncoderGene(family="scalar", dim=128, width=0.1),
    "varcycle sawtooth 2-20": EncoderGene(family="varcycle", dim=400, period_min=2.0, period_max=20.0,
                                          waveform="sawtooth", code_seed=0),
}


def unseen_first(task: TaskSpec) -> tuple[np.ndarray, Split]:
    """Holdout indices whose first operand never appears first in a training pair, and the split."""
    split = make_split(task)
    seen = np.unique(split.pairs[split.train, 0])
    return split.holdout[~np.isin(split.pairs[split.holdout, 0], seen)], split


def searched(path: str, task: TaskSpec, max_steps: int) -> tuple[str, Pair, dict[str, Any]]:
    """A search's pair file: its name, pair and run settings (those `evo train --pair` reads)."""
    pair, extras = load_pair(path)
    suggested = {k: v for k, v in extras.get("task", {}).items() if k not in ("sizes", "holdout_unseen_mirror")}
    if TaskSpec.from_dict(suggested) != task:
        sys.exit(f"{path}: scored on {suggested}, not on this experiment's task {task.to_dict()}")
    run = {"budget": min(extras.get("budget") or 1000, max_steps), "eval_every": extras.get("eval_every") or 10,
           "threshold": extras.get("threshold") or 0.99, "max_flops": extras.get("max_flops"),
           "patience": extras.get("patience") or 0}
    shown = path
    try:
        shown = str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        pass
    name = f"search {Path(path).stem.removeprefix('ordered-')}"
    return name, pair, {**run, "pair_file": shown}


def freqs_mod(pair: Pair, p: int) -> list[int] | None:
    """A Fourier code's frequencies as the table uses them (k mod p; k and p - k are one
    frequency with its sine negated)."""
    if pair.encoder.family != "fourier" or not pair.encoder.freqs:
        return None
    return [k % p for k in pair.encoder.freqs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--max-steps", type=int, default=1000)
    parser.add_argument("--recipes", default="onehot-quad,fourier-quad,gromov,orthograd")
    parser.add_argument("--codes", nargs="*", default=list(ENCODERS), metavar="NAME",
                        help="hand-built codes put behind the onehot-quad brain (default: all; none given = none)")
    parser.add_argument("--pairs", nargs="*", default=None, metavar="FILE",
                        help=f"pair files of the search's front (default: {PAIRS_GLOB})")
    parser.add_argument("--no-cross", dest="cross", action="store_false",
                        help="do not swap codes and brains between the searched pairs and the hand-built ones")
    parser.add_argument("--out", default="experiments/results/ordered_split.json")
    args = parser.parse_args()
    task = TaskSpec(op="add", p=97, split="ordered", train_frac=0.5)
    unseen, split = unseen_first(task)
    plain = {"threshold": 0.99, "max_flops": None, "patience": 0, "pair_file": None}
    candidates: dict[str, tuple[Pair, dict[str, Any]]] = {
        f"recipe {n}": (RECIPES[n].pair, {**plain, "budget": min(RECIPES[n].budget, args.max_steps),
                                          "eval_every": RECIPES[n].eval_every})
        for n in args.recipes.split(",") if n}
    codes = args.codes
    unknown = sorted(set(codes) - set(ENCODERS))
    if unknown:
        sys.exit(f"--codes: unknown {unknown} (known: {', '.join(ENCODERS)})")
    candidates.update({f"{name} + onehot-quad brain": (Pair(ENCODERS[name], BRAIN),
                                                       {**plain, "budget": min(500, args.max_steps), "eval_every": 10})
                       for name in codes})
    files = args.pairs if args.pairs is not None else sorted(str(f) for f in ROOT.glob(PAIRS_GLOB))
    found = [searched(path, task, args.max_steps) for path in files]
    candidates.update({name: (pair, run) for name, pair, run in found})
    if args.cross:
        hand = {**plain, "budget": min(500, args.max_steps), "eval_every": 10}
        codes_seen, brains_seen = set(), set()
        for name, pair, _ in found:
            code_key, brain_key = json.dumps(pair.encoder.to_dict()), json.dumps(pair.brain.to_dict())
            if code_key not in codes_seen:
                codes_seen.add(code_key)
                candidates[f"{name} code + onehot-quad brain"] = (Pair(pair.encoder, BRAIN), hand)
            if brain_key not in brains_seen:
                brains_seen.add(brain_key)
                candidates.update({f"{code} + {name} brain": (Pair(ENCODERS[code], pair.brain), hand)
                                   for code in CROSS_CODES})
    rows = []
    for name, (pair, run) in candidates.items():
        settings = {k: v for k, v in run.items() if k != "pair_file"}
        for seed in (int(s) for s in args.seeds.split(",")):
            record = evaluate(pair, RunSettings(task=task, seed=seed, **settings), report_holdout=True)
            rows.append({"name": name, "encoder": encoder_summary(pair.encoder), "brain": brain_summary(pair.brain),
                         "freqs_mod_p": freqs_mod(pair, task.p), "pair_file": run["pair_file"],
                         "params": record["params"], "seed": seed, "cap": settings["budget"],
                         "eval_every": settings["eval_every"], "patience": settings["patience"],
                         "steps_to_threshold": record["steps_to_threshold"], "steps_run": record["steps_run"],
                         "stopped": record["stopped"], "seconds": record["seconds"],
                         "train_acc": record["train_acc"], "select_acc": record["select_acc"],
                         "holdout_acc": record["holdout_acc"],
                         "holdout_acc_unseen_mirror": record["holdout_acc_unseen_mirror"],
                         "holdout_acc_at_threshold": record["holdout_acc_at_threshold"],
                         "holdout_pairs": len(split.holdout)})
            print(f"{name:44s} seed {seed}: steps {record['steps_to_threshold']}, select "
                  f"{record['select_acc']:.3f}, holdout {record['holdout_acc']:.3f}, unseen mirror "
                  f"{record['holdout_acc_unseen_mirror']:.3f} ({record['seconds']:.0f} s)", flush=True)
    machine = describe(torch.device("cpu"))
    command = shlex.join(["python", "experiments/ordered_split.py", *sys.argv[1:]])
    doc = {"benchmark": "ordered_split", "machine": machine, "command": command,
           "task": task.to_dict(), "sizes": split.sizes(),
           # nearly every holdout pair has a first operand that training never saw first
           "holdout_unseen_first": int(len(unseen)),
           # holdout pairs whose mirror (y, x) is not a training pair either
           "holdout_unseen_mirror": int(len(split.unseen_mirror())), "rows": rows}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(doc))
    print(f"wrote {out} and {out.with_suffix('.md')}")


def markdown(doc: dict[str, Any]) -> str:
    rows, sizes, m = doc["rows"], doc["sizes"], doc["machine"]
    lines = [f"Addition mod {doc['task']['p']}, ordered split (`{doc['command']}`; {m['cpu']}, {m['cores']} cores, "
             f"torch {m['torch']}, {m['device']}). Train {sizes['train']} pairs (the first half in generator order), "
             f"select {sizes['select']}, holdout {sizes['holdout']}: {doc['holdout_unseen_first']} holdout pairs "
             f"have a first operand never seen first in training, and {doc['holdout_unseen_mirror']} have a mirror "
             f"(y, x) that is not a training pair either (the last column). Holdout is measured at the end of "
             f"the run (the run goes on past the first 99% select to its cap).", ""]
    searched_rows = {r["name"]: r for r in rows if r["pair_file"]}
    if searched_rows:
        lines += ["Pairs found by the search (`python -m evo train --pair FILE --seed S` reproduces each row):", ""]
        lines += [f"- {name}: {r['encoder']}"
                  + (f" (frequencies k mod p: {r['freqs_mod_p']}; k and p - k are one frequency)"
                     if r["freqs_mod_p"] else "")
                  + f", {r['brain']}, {r['params']:,} parameters; `{r['pair_file']}`"
                  for name, r in searched_rows.items()]
        lines.append("")
    lines += ["| candidate | seed | cap | patience | steps to 99% select | select | holdout | holdout, mirror unseen |",
              "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['name']} | {r['seed']} | {r['cap']} | {r['patience']} | "
              f"{r['steps_to_threshold'] or 'not reached'} | {r['select_acc']:.3f} | {r['holdout_acc']:.3f} | "
              f"{r['holdout_acc_unseen_mirror']:.3f} |" for r in rows]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_name.setdefault(r["name"], []).append(r)

    def every(test) -> list[str]:
        return [f"`{n}`" for n, rs in by_name.items() if all(test(r) for r in rs)] or ["none"]
    lines += ["", "Computed from the rows above, on every seed run:", "",
              "- 99% select reached and holdout >= 0.99: "
              + "; ".join(every(lambda r: r["steps_to_threshold"] is not None and r["holdout_acc"] >= 0.99)),
              "- holdout >= 0.99 over the mirror-unseen pairs too: "
              + "; ".join(every(lambda r: r["steps_to_threshold"] is not None and r["holdout_acc"] >= 0.99
                                and r["holdout_acc_unseen_mirror"] >= 0.99))]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
