"""The argparse parser of every command, and the flag validators that `train` also applies
to run settings read from a pair file."""
from __future__ import annotations

import argparse
import math
from typing import Callable, NoReturn

from brains.stopping import PLATEAU_SIGNALS
from evo.search.config import BACKENDS, MUON_LRS, SCHEDULES, SPEED_METRICS, SYMMETRIC_CHOICES, TIES, UPDATE_RULES
from evo.search.scoring import MISS_RANKS
from evo.tasks import OPERATIONS, PAIRS, SEED_LIMIT, SELECTS, SPLITS

PROG = "grokevo"


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse prints the usage block too)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message}\n")


def number(cast: type, ok: Callable[[float], bool], requirement: str) -> Callable[[str], float]:
    """An argparse type: parse with `cast`, then check `ok`, with a one-line message."""
    def parse(text: str) -> float:
        try:
            value = cast(text)
        except ValueError:
            kind = "a whole number" if cast is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{requirement}, got {text}")
        return value
    return parse


positive_int = number(int, lambda v: v > 0, "must be > 0")
nonneg_int = number(int, lambda v: v >= 0, "must be >= 0")
positive_float = number(float, lambda v: 0 < v < math.inf, "must be a finite number > 0")
fraction = number(float, lambda v: 0 < v < 1, "must lie strictly between 0 and 1")
threshold = number(float, lambda v: 0 < v <= 1, "must lie in (0, 1]")
seed = number(int, lambda v: 0 <= v < SEED_LIMIT, "must be a whole number from 0 to 2**63-1")


hold = number(float, lambda v: 0 <= v <= 10, "must be from 0 to 10")


def fraction_list(text: str) -> tuple[float, ...]:
    """A comma list of fractions, each strictly between 0 and 1."""
    values = tuple(fraction(part) for part in text.split(",") if part.strip())
    if not values:
        raise argparse.ArgumentTypeError(f"expected a comma list of fractions, got {text!r}")
    return values


def add_task_options(p: argparse.ArgumentParser) -> None:
    """Task flags default to None so that a recipe's suggested settings can fill the gaps."""
    g = p.add_argument_group("task")
    g.add_argument("--task", help=f"operation: {', '.join(OPERATIONS)}, or an expression in x and y "
                                  "with + - * / ^ and parentheses (default add)")
    g.add_argument("--p", type=int, help="prime modulus, 5..1009 (default 97)")
    g.add_argument("--train-frac", type=fraction, help="fraction of pairs to train on (default 0.5)")
    g.add_argument("--select-frac", type=fraction,
                   help="fraction of the rest used for select; holdout gets the remainder (default 0.5)")
    g.add_argument("--split", choices=SPLITS, help="random (seeded) or ordered (generator order)")
    g.add_argument("--pairs", choices=PAIRS,
                   help="ordered: all p*p pairs; unordered: x<y only; unordered-diag: x<=y")
    g.add_argument("--split-seed", type=seed, help="seed of the split (default 0)")


def add_pair_options(p: argparse.ArgumentParser, pair_help: str) -> None:
    """What `train` and `inspect` share: the pair (a recipe or a file), its task and its run."""
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--recipe", help="a named recipe (see `recipes`)")
    src.add_argument("--pair", help=pair_help)
    add_task_options(p)
    p.add_argument("--seed", type=seed, help="training seed (default 0, or the pair file's)")
    p.add_argument("--budget", type=positive_int, help="step cap (default: the recipe's or pair file's, else 1000)")
    p.add_argument("--max-flops", type=positive_float, help="FLOP cap of the run (default: none, or the pair file's)")
    p.add_argument("--threshold", type=threshold, help="select accuracy that counts as generalized (default 0.99)")
    p.add_argument("--eval-every", type=positive_int, help="steps between evaluations (default: the recipe's, else 10)")
    p.add_argument("--eval-dense", type=nonneg_int, metavar="STEPS",
                   help="evaluate at every step up to STEPS first (default 0, or the pair file's)")
    p.add_argument("--charge-evals", action=argparse.BooleanOptionalAction, default=None,
                   help="count select evaluations' FLOPs in the figures and under --max-flops (default off, "
                        "or the pair file's)")
    p.add_argument("--dense-locates", action=argparse.BooleanOptionalAction, default=None,
                   help="the --eval-dense reads only locate a crossing: not charged, and the plateau stop "
                        "and a miss's rank read only every --eval-every steps (default off, or the pair file's)")
    p.add_argument("--hold", type=hold, help="a crossing at step s counts only if select stays at or above the "
                                             "threshold to the step cap, or to step s + HOLD * s if later "
                                             "(default 0: the first crossing, or the pair file's)")
    p.add_argument("--hold-window", action=argparse.BooleanOptionalAction, default=None,
                   help="the hold ends at step s + HOLD * s even before the step cap, and the run with it "
                        "(default off, or the pair file's)")
    p.add_argument("--select", choices=SELECTS, help="select pairs the run is scored on: all (default, or the "
                                                      "pair file's) or unseen-mirror (those whose mirror (y, x) "
                                                      "is not a training pair)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description="Evolve input encoders and networks that grok modular arithmetic fast.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("train", help="train one (encoder, brain) pair and report its figures")
    add_pair_options(t, "a pair file: JSON with 'encoder' and 'brain'")
    t.add_argument("--save", metavar="FILE", help="also write the JSON record to FILE")
    c = t.add_argument_group("curriculum")
    c.add_argument("--curriculum", metavar="OPS",
                   help="operations to train on in turn, the last the target (e.g. add,x^3+x*y^2+y); new "
                        "layers are stacked on the trained brain before each later stage")
    c.add_argument("--new-hidden", metavar="WIDTHS", default="128",
                   help="hidden widths of the layers each later stage adds (comma list; default 128)")
    c.add_argument("--freeze", action="store_true", help="keep the earlier stages' layers fixed")
    c.add_argument("--reads", choices=("answer", "scores"), default="answer",
                   help="what the new layers read of the trained brain: its answer as a one-hot "
                        "(default) or its raw scores")
    t.set_defaults(func="train")

    ins = sub.add_parser("inspect", help="train (or load) a pair and show the Fourier structure it learned")
    add_pair_options(ins, "a pair file (a run's front/ID.json loads its saved weights)")
    ins.add_argument("--weights", metavar="FILE.pt", help="trained weights to load instead of training")
    ins.add_argument("--run-on", action="store_true",
                     help="after reaching the threshold, train on to --budget (weight decay cleans the "
                          "spectrum up); default: stop at the threshold")
    ins.add_argument("--share", type=fraction, default=0.8,
                     help="key frequencies: the fewest that hold this share of the power (default 0.8)")
    ins.add_argument("--png", metavar="FILE", help="picture of the spectra (default inspect-NAME.png)")
    ins.set_defaults(func="inspect")

    run = sub.add_parser("run", help="the co-search: evolve encoders and brains, keep the Pareto front")
    add_task_options(run)
    run.add_argument("--tasks", metavar="OPS",
                     help="multi-task fitness: score every pair on each of these operations (comma list, "
                          "two or more; the first stands for the run where one task is needed)")
    run.add_argument("--task-cost", choices=("sum", "max"),
                     help="with --tasks, a pair's cost: the tasks' costs summed (default) or the worst")
    run.add_argument("--curriculum-pool", metavar="OPS",
                     help="let the search evolve curricula: earlier operations drawn from these (comma "
                          "list; auto = the partial sums of the task's expression); default: none")
    run.add_argument("--objectives", metavar="LIST",
                     help="what survival trades: cost,size (default) or cost,size,data (data: the smallest "
                          "training fraction of the ladder at which a pair still reaches the threshold)")
    run.add_argument("--fractions", type=fraction_list, metavar="LIST",
                     help="with --objectives ...,data: the training fractions tried below --train-frac, "
                          "walked down while the pair reaches (default 0.5,0.3,0.2,0.15,0.1,0.07,0.05)")
    run.add_argument("--data-credit", choices=("reached", "progress"),
                     help="with --objectives ...,data: a pair's data objective is the lowest fraction it "
                          "reached (reached), or that moved towards the fraction it then missed by its progress "
                          "there (progress, default)")
    g = run.add_argument_group("search")
    g.add_argument("--generations", type=positive_int, help="generations, the initial one included (default 50)")
    g.add_argument("--population", type=positive_int, help="encoders and brains kept per side (default 16)")
    g.add_argument("--offspring", type=positive_int, help="children per generation (default 12)")
    g.add_argument("--partners", type=positive_int, help="top partners each child is scored with (default 2)")
    g.add_argument("--schedule", choices=SCHEDULES, help="alternate (default) or joint")
    g.add_argument("--speed-metric", choices=SPEED_METRICS, help="generalization cost: steps (default), flops, seconds")
    g.add_argument("--rank-misses", choices=MISS_RANKS,
                   help="survival of pairs that missed the threshold: by cost and size like any pair "
                        "(size, default), by their shortfall alone (shortfall), by the rank of the right "
                        "answer alone (progress), or as progress with a curriculum credited for the earlier stages it "
                        "crossed (stages)")
    g.add_argument("--budget", type=positive_int, help="step cap per training run (default 300)")
    g.add_argument("--max-flops", type=positive_float, help="FLOP cap per training run (default 1e11)")
    g.add_argument("--threshold", type=threshold, help="select accuracy that counts as generalized (default 0.99)")
    g.add_argument("--eval-every", type=positive_int, help="steps between evaluations (default 10)")
    g.add_argument("--eval-dense", type=nonneg_int, metavar="STEPS",
                   help="evaluate select at every step up to STEPS, then every --eval-every steps, so that an "
                        "early crossing reads its own step (default 50; 0: only every --eval-every steps)")
    g.add_argument("--charge-evals", action=argparse.BooleanOptionalAction, default=None,
                   help="count each select evaluation's FLOPs in the FLOP objective and under --max-flops "
                        "(default on)")
    g.add_argument("--dense-locates", action=argparse.BooleanOptionalAction, default=None,
                   help="the --eval-dense reads only locate a crossing: not charged, and the plateau stop "
                        "and a miss's rank read only every --eval-every steps (default on)")
    g.add_argument("--rungs", type=positive_int,
                   help="successive halving: new pairs train on this many rising budgets, the top one "
                        "--budget, the best 1/ETA (and all that reached) going on at each (default 1: off)")
    g.add_argument("--eta", type=number(int, lambda v: v >= 2, "must be >= 2"),
                   help="with --rungs, the budget ratio between rungs and the share promoted, 1/ETA (default 3)")
    g.add_argument("--min-budget", type=nonneg_int, metavar="STEPS",
                   help="with --rungs, the lowest rung's steps (default: --budget / ETA^(RUNGS-1))")
    g.add_argument("--hold", type=hold, help="a crossing at step s counts only if select stays at or above the "
                                             "threshold to the step cap, or to step s + HOLD * s if later "
                                             "(default 1; 0: the first crossing counts)")
    g.add_argument("--hold-window", action=argparse.BooleanOptionalAction, default=None,
                   help="the hold ends at step s + HOLD * s even before the step cap, and the run with it "
                        "(default on; off: a crossing holds to the cap)")
    g.add_argument("--select", choices=SELECTS, help="select pairs fitness and the stop rule read: unseen-mirror "
                                                      "(default: those whose mirror (y, x) is not a training "
                                                      "pair) or all")
    g.add_argument("--second-opinion", action=argparse.BooleanOptionalAction, default=None,
                   help="train a pair that would enter the front on a second seed first and keep the worse "
                        "of its two runs (default on)")
    g.add_argument("--plateau", choices=PLATEAU_SIGNALS,
                   help="what a plateau stop reads: select accuracy (default), the rank of the right "
                        "answer (a gain = the rank falling by 0.01), which moves before accuracy does, "
                        "or either of them (the rank cannot fall near the threshold)")
    g.add_argument("--patience", type=nonneg_int,
                   help="stop a run after this many evaluations without a select accuracy gain of "
                        "0.01 (default 5; 0: never)")
    g.add_argument("--symmetric-combiners", choices=SYMMETRIC_CHOICES,
                   help="offer the combiners that code (x, y) as (y, x) (sum, sum_sdr, product): auto "
                        "(default) only where they can reach the threshold, that is on a commutative "
                        "operation; on; off")
    g.add_argument("--update-rules", choices=UPDATE_RULES,
                   help="the update rules brains may draw: all (default: AdamW, Adam, SGD, also Muon, the "
                        "egalitarian gradient, cosine and one-cycle schedules) or classic (AdamW, Adam, SGD, "
                        "constant rate after the warm-up)")
    g.add_argument("--muon-lr", choices=MUON_LRS,
                   help="under --update-rules all: Muon at the brain's learning rate (shared, default), "
                        "or at its own multiple of it, the gene muon_lr_scale (own)")
    g.add_argument("--polish", type=nonneg_int, metavar="N",
                   help="each generation, also try every gene one step along one field of the N fastest "
                        "front members, on the side the generation varies (default 1; 0 = off)")
    g.add_argument("--polish-floor", type=number(float, lambda v: 0 <= v <= 1, "must be from 0 to 1"),
                   metavar="ACC", help="with --polish-misses: polish a miss only once its select accuracy "
                                       "reaches ACC (default 0: any)")
    g.add_argument("--immigrants", type=nonneg_int, metavar="K",
                   help="of each generation's offspring, K are fresh random genes instead of mutants "
                        "(default 0)")
    g.add_argument("--give-up", type=number(float, lambda v: v == 0 or v >= 1, "must be 0 or >= 1"), metavar="K",
                   help="stop a new pair's run once its crossing would cost more than K times a front "
                        "member's no larger than it (default 1: once it can no longer enter the front; 0 = off)")
    g.add_argument("--ties", choices=TIES,
                   help="a pair that ties a front member on every objective: keep it beside the member "
                        "or one (default: one member per point of the front)")
    g.add_argument("--opinion-to-cap", action=argparse.BooleanOptionalAction, default=None,
                   help="the second opinion trains to the step cap, without --hold-window, so that a "
                        "crossing that decays after its window keeps the pair out of the front (default on)")
    g.add_argument("--opinion-rounds", action=argparse.BooleanOptionalAction, default=None,
                   help="second opinions in rounds: a pair another fresh pair dominates waits, and needs "
                        "none if that one holds (default on)")
    g.add_argument("--hold-behind", action=argparse.BooleanOptionalAction, default=None,
                   help="hold a crossing that costs at least its give-up bar, although it cannot enter the "
                        "front (default off: such a run ends at its crossing, stopped as behind)")
    g.add_argument("--polish-misses", action=argparse.BooleanOptionalAction, default=None,
                   help="with --polish: while fewer than N front members have reached the threshold, "
                        "polish the closest misses too (default off: polish waits for the first reach)")
    g.add_argument("--seed", type=seed, help="seed of the search and of every training run (default 0)")
    g.add_argument("--final-seeds", type=positive_int, help="seeds the front is re-checked on (default 3)")
    g.add_argument("--seed-with", metavar="NAMES", help="start the populations from these recipes (comma list)")
    g.add_argument("--brain-families", metavar="NAMES",
                   help="brain families the search draws and mutates into (default mlp; also transformer, "
                        "ff = forward-forward, router = blocks and a router; seeded recipes' families are "
                        "always allowed)")
    x = run.add_argument_group("execution")
    x.add_argument("--workers", type=positive_int, help="parallel training processes (default: CPU count)")
    x.add_argument("--device", metavar="DEVICE",
                   help="where training runs: cpu (default), cuda, auto, or mixed (each run on the GPU when "
                        "its step is estimated at 1e8 FLOPs or more, else on a CPU core; mixed:FLOPS sets the bar)")
    x.add_argument("--batched", action="store_true", default=None,
                   help="train a generation's MLP pairs padded to a grid of shapes, a cell as one batched "
                        "computation (figures equal a lone run's within float tolerance, not bit for bit)")
    x.add_argument("--backend", choices=BACKENDS, help="joblib backend: loky (default), dask, ray")
    x.add_argument("--scheduler", help="dask scheduler address, tcp://HOST:PORT")
    x.add_argument("--out", default=None, metavar="RUN_DIR", help="run directory (default runs/run-TIMESTAMP)")
    x.add_argument("--resume", action="store_true", help="continue the run in --out")
    x.add_argument("--no-dashboard", action="store_true", help="plain log lines instead of the live screen")
    x.add_argument("--config", metavar="FILE.toml", help="options from a TOML file (flags win)")
    run.set_defaults(func="run")

    show = sub.add_parser("show", help="print the front of a finished run")
    show.add_argument("run_dir", metavar="RUN_DIR")
    show.add_argument("--json", action="store_true", help="print front.json")
    show.set_defaults(func="show")

    rep = sub.add_parser("report", help="write RUN_DIR/report.md and its pictures (a finished, running "
                                          "or interrupted run)")
    rep.add_argument("run_dir", metavar="RUN_DIR")
    rep.set_defaults(func="report")

    r = sub.add_parser("recipes", help="list the named recipes, one per line, name first")
    r.set_defaults(func="recipes")
    k = sub.add_parser("tasks", help="list the named operations, one per line: name, tab, expression")
    k.set_defaults(func="tasks")
    return parser
