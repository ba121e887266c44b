"""How likely is one of the search's random draws to land on a hand pair's recipe, and how
many of a search's trained pairs did?

    python experiments/draw_odds.py --task x^3+x*y --update-rules all --curriculum-pool auto
                                    [--draws 20000] [--run RUN_DIR ...] [--out FILE]

The hand pairs that crack cond, x^3+x*y and x^3+x*y^2+y (README "Harder problems, measured")
share one recipe: one-hot codes, concatenated, one quadratic layer under MSE, the
egalitarian gradient, and on the polynomials a curriculum. A search that never trains a pair
in that region cannot find them. This draws pairs as a search's first generation does
(evo.search.loop.Search.initial: the same validity checks and held fields), counts the share
that lands in each nested region, and counts the pairs of each given run's cache that did.
No training: it takes seconds.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

from evo.search.config import RunConfig  # noqa: E402
from evo.search.loop import Search  # noqa: E402
from evo.search.state import new_state  # noqa: E402


def regions(pool: tuple[str, ...], op: str | None) -> list[tuple[str, Callable[[dict, dict], bool]]]:
    """Nested regions, each inside the one before, then the last without the egalitarian
    gradient: (name, test on the encoder's and brain's dicts)."""
    wanted = pool.index(op) if op in pool else None
    tests: list[tuple[str, Callable[[dict, dict], bool]]] = [
        ("one-hot codes, concatenated", lambda e, b: e["family"] == "onehot" and e["combiner"] == "concat"),
        ("+ an MLP with one quadratic layer", lambda e, b: b["family"] == "mlp" and b["activation"] == "quadratic"
         and len(b["hidden"]) == 1),
        ("+ MSE", lambda e, b: b.get("loss") == "mse"),
        ("+ the egalitarian gradient", lambda e, b: bool(b.get("egalitarian"))),
    ]
    out, so_far = [], []
    for name, test in tests:
        so_far = so_far + [test]
        out.append((name, lambda e, b, ts=tuple(so_far): all(t(e, b) for t in ts)))
    if wanted is not None:   # the curriculum, with the egalitarian gradient and with any update rule
        def curriculum(e: dict, b: dict) -> bool:
            return [i % len(pool) for i in b.get("curriculum", [])] == [wanted]
        last, mse = out[-1][1], out[-2][1]
        out.append((f"+ the curriculum ({op}) alone", lambda e, b: last(e, b) and curriculum(e, b)))
        out.append((f"one-hot, concatenated, one quadratic layer, MSE, the curriculum ({op}) alone, any update rule",
                    lambda e, b: mse(e, b) and curriculum(e, b)))
    return out


def drawn(config: RunConfig, n: int, seed: int) -> list[tuple[dict, dict]]:
    """n (encoder, brain) dicts drawn as a search's first generation draws them (Search.draw)."""
    search = Search(new_state(config), None, None)
    search.state.rng = random.Random(seed)
    return [(search.draw("encoder").to_dict(), search.draw("brain").to_dict()) for _ in range(n)]


def trained(run_dir: Path) -> list[tuple[dict, dict]]:
    """The (encoder, brain) of every record in a run's cache (rungs and seeds included)."""
    cache = json.loads((run_dir / "checkpoint.json").read_text())["state"]["cache"]
    return [(r["encoder"], r["brain"]) for r in cache.values() if "encoder" in r]


def counts(pairs: list[tuple[dict, dict]], tests: list) -> list[dict[str, Any]]:
    out = []
    for name, test in tests:
        hits = sum(test(e, b) for e, b in pairs)
        out.append({"region": name, "pairs": hits, "share": hits / max(1, len(pairs))})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="x^3+x*y")
    ap.add_argument("--update-rules", default="all")
    ap.add_argument("--curriculum-pool", default="auto", help="comma-separated, or auto; empty: none")
    ap.add_argument("--curriculum-op", default="mul", help="the earlier operation the region's curriculum names")
    ap.add_argument("--draws", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--run", action="append", default=[], help="a run directory whose trained pairs to count")
    ap.add_argument("--out", default="experiments/results/draw_odds.json")
    args = ap.parse_args()
    pool = tuple(x for x in args.curriculum_pool.split(",") if x)
    config = RunConfig(task=args.task, update_rules=args.update_rules, curriculum_pool=pool, workers=1)
    tests = regions(config.curriculum_pool, args.curriculum_op)
    doc: dict[str, Any] = {"command": " ".join(sys.argv), "task": config.task, "update_rules": config.update_rules,
                           "curriculum_pool": list(config.curriculum_pool), "draws": args.draws, "seed": args.seed,
                           "drawn": counts(drawn(config, args.draws, args.seed), tests), "runs": {}}
    for run in args.run:
        pairs = trained(Path(run))
        doc["runs"][run] = {"records": len(pairs), "regions": counts(pairs, tests)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    for row in doc["drawn"]:
        print(f"{row['share']:.2e}  {row['region']}")
    for run, got in doc["runs"].items():
        print(run, got["records"], "records:", ", ".join(str(r["pairs"]) for r in got["regions"]))


if __name__ == "__main__":
    main()
