"""How often a randomly drawn (encoder, brain) pair learns, and which genes go with it.

    python experiments/prior_probe.py [--pairs 160] [--seed 0] [--families mlp]
                                      [--priors declared|uniform|both] [--patience N] [--out FILE]

Draws pairs as the search's generation 0 does (variation.random_gene, valid for the task)
and trains each under the main job's default settings (budget, FLOP cap, evaluation
interval, plateau stop), on select only. `declared` draws each mechanism switch with the
field's own `p_on`; `uniform` switches every one on half the time (the rule before
p_on existed). For each prior: how many pairs reached the threshold, the distribution
of best select accuracy, and, for each switch and choice field, the mean best select
accuracy and the count of threshold hits for each value: which genes a random population
wastes its runs on. Writes JSON (default experiments/results/prior_probe.json).
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

import genome
from brains.gene import BrainGene
from encoders.gene import EncoderGene
from evo.search import variation
from evo.search.config import RunConfig
from evo.machine import describe
from evo.pair import Pair
from evo.execution.parallel import Scorer
from evo.search.population import encoder_valid
from evo.records import best_select
from evo.settings import Job

FIELDS = {"encoder": ["family", "combiner", "waveform"],
          "brain": ["activation", "optimizer", "loss", "bias", "stablemax", "orthograd", "norm_constraint",
                    "grokfast_lambda", "grad_clip", "batch_size", "warmup", "weight_decay"]}


def draw(n: int, seed: int, families: tuple[str, ...], priors: bool, p: int) -> list[Pair]:
    rng = random.Random(seed)
    enc_ok = encoder_valid(p)
    return [Pair(variation.random_gene(EncoderGene, rng, enc_ok, priors=priors),
                 variation.random_gene(BrainGene, rng, lambda g: g.family in families, priors=priors))
            for _ in range(n)]


def value_label(gene: object, name: str) -> str:
    """A choice or switch as it is; a field with an off value as on/off."""
    spec = genome.specs(gene)[name]
    value = getattr(gene, name)
    if spec.off is not None:
        return "off" if value == spec.off else "on"
    return str(value)


def breakdown(pairs: list[Pair], records: list[dict]) -> dict:
    out: dict[str, dict[str, dict]] = {}
    for side, names in FIELDS.items():
        for name in names:
            groups: dict[str, list[dict]] = {}
            for pair, record in zip(pairs, records):
                gene = getattr(pair, side)
                if genome.is_active(gene, genome.specs(gene)[name]):
                    groups.setdefault(value_label(gene, name), []).append(record)
            out[f"{side}.{name}"] = {
                label: {"pairs": len(rs), "reached": sum(r.get("stopped") == "threshold" for r in rs),
                        "mean_best_select": statistics.fmean(best_select(r) for r in rs)}
                for label, rs in sorted(groups.items())}
    return out


def probe(pairs: list[Pair], config: RunConfig, workers: int) -> tuple[list[dict], float]:
    start = time.perf_counter()
    with Scorer(workers) as scorer:
        records = scorer.map([Job(pair, config.run_settings()) for pair in pairs])
    return records, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=160)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--families", default="mlp")
    parser.add_argument("--priors", choices=("declared", "uniform", "both"), default="both")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--patience", type=int, default=RunConfig.patience,
                        help="plateau stop (0 = every run goes to the step cap)")
    parser.add_argument("--out", default="experiments/results/prior_probe.json")
    args = parser.parse_args()
    config = RunConfig(workers=args.workers, patience=args.patience)
    families = tuple(args.families.split(","))
    doc = {"benchmark": "prior_probe", "machine": describe(torch.device("cpu")),
           "command": "python experiments/prior_probe.py " + " ".join(sys.argv[1:]),
           "settings": {k: config.to_dict()[k] for k in ("task", "p", "budget", "max_flops", "threshold",
                                                          "eval_every", "patience")},
           "seed": args.seed, "families": list(families), "results": {}}
    for name in (("declared", "uniform") if args.priors == "both" else (args.priors,)):
        pairs = draw(args.pairs, args.seed, families, name == "declared", config.p)
        records, seconds = probe(pairs, config, args.workers)
        best = sorted(best_select(r) for r in records)
        result = {"pairs": len(pairs), "wall_seconds": seconds,
                  "train_seconds": sum(r.get("seconds") or 0.0 for r in records),
                  "reached": sum(r.get("stopped") == "threshold" for r in records),
                  "failed": sum(bool(r.get("failed")) for r in records),
                  "best_select_quartiles": [best[len(best) // 4], best[len(best) // 2], best[3 * len(best) // 4]],
                  "above_half": sum(b >= 0.5 for b in best), "by_field": breakdown(pairs, records),
                  "runs": [{"encoder": pair.encoder.to_dict(), "brain": pair.brain.to_dict(),
                            "stopped": r.get("stopped"), "steps_run": r.get("steps_run"),
                            "best_select": best_select(r),
                            "best_train": max((q["train_acc"] for q in r.get("curve", ())), default=0.0)}
                           for pair, r in zip(pairs, records)]}
        doc["results"][name] = result
        print(f"{name:9s}: {result['reached']}/{len(pairs)} reached {config.threshold}, "
              f"{result['above_half']} above 0.5 select, quartiles of best select "
              f"{[round(b, 3) for b in result['best_select_quartiles']]}, {seconds:.0f} s", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
