"""`python -m evo report RUN_DIR`: RUN_DIR/report.md and the pictures beside it.

Reads only the checkpoint (and whether front.json exists, i.e. the run has finished), so
it works on a run that is still going or was interrupted. The pictures are drawn by evo.views.plots;
this module gathers what they show and writes the Markdown.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from evo.errors import UserError
from evo.rundir import checkpoint
from evo.rundir.final import FRONT, final_keys, median, member_id
from evo.pair import Pair
from evo.recipes import RECIPES
from evo.records import reached
from evo.search.scoring import objectives, pair_key, run_key
from evo.search.archive import behaviour, keep_generalizers, new_archive
from evo.search.individuals import boxed
from evo.search.state import SearchState, from_json
from evo.summary import brain as brain_summary
from evo.views import plots, transfer
from evo.summary import encoder as encoder_summary

REPORT = "report.md"
MAX_CURVES = 12        # front pairs whose learning curves are drawn
MAX_TABLES = 8         # front encoders whose code tables are drawn


@dataclass
class Point:
    """One scored pair as the pictures see it."""

    pair: Pair
    cost: float          # log10 generalization cost
    size: float          # log10 parameters
    reached: bool
    generation: int | None
    behaviour: str | None = None   # its curve (evo.search.archive.behaviour): twins count once
    data: float | None = None      # log10 lowest training fraction reached (the data objective)


@dataclass
class Member:
    """One front pair: its search record and its holdout re-checks (empty while running)."""

    id: str
    pair: Pair
    search: dict[str, Any]
    rechecks: list[dict[str, Any]]


def load_state(run_dir: Path) -> SearchState:
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: no such run directory")
    if not (run_dir / checkpoint.NAME).exists() and not (run_dir / checkpoint.PREVIOUS).exists():
        raise UserError(f"{run_dir}: no checkpoint (not a grokevo run directory, or nothing saved yet)")
    doc = checkpoint.load(run_dir)
    try:
        return from_json(doc, resolve=False)  # a report needs no device
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{run_dir}: checkpoint does not describe a run ({type(exc).__name__}: {exc})") from None


def points(state: SearchState) -> list[Point]:
    out = []
    metric, data = state.config.speed_metric, state.config.data_objective
    for record in state.cache.values():
        if record.get("failed") or "pool_frac" in record["task"]:   # a ladder's lower fraction: not a pair's score
            continue
        pair = Pair.from_dict({"encoder": record["encoder"], "brain": record["brain"]})
        values = objectives(record, metric, state.config.rank_misses, data)
        out.append(Point(pair, values[0], values[1], reached(record), record.get("generation"), behaviour(record),
                         values[2] if data else None))
    return out


def front_at(pts: list[Point], generation: int, ties: str = "keep") -> list[Point]:
    """The front the run held after `generation`: DEAP's ParetoFront over the pairs scored
    by then, and only those that reached the threshold once any had (evo.search.loop)."""
    front = new_archive(ties)
    by_key = {}
    for pt in pts:
        if pt.generation is not None and pt.generation <= generation:
            by_key[pair_key(pt.pair)] = pt
            values = (pt.cost, pt.size) if pt.data is None else (pt.cost, pt.size, pt.data)
            front.update([boxed("pair", pt.pair, values, pt.behaviour)])
    keep_generalizers(front, lambda ind: by_key[pair_key(ind.gene)].reached)
    return [by_key[pair_key(ind.gene)] for ind in front]


def members(state: SearchState) -> list[Member]:
    settings = state.settings
    rechecks: dict[str, list[dict[str, Any]]] = {}
    for key, pair, _ in final_keys(state):
        if key in state.finals:
            rechecks.setdefault(pair_key(pair), []).append(state.finals[key])
    return [Member(member_id(i, ind.gene), ind.gene, state.cache[run_key(ind.gene, settings)],
                   rechecks.get(pair_key(ind.gene), []))
            for i, ind in enumerate(state.archive)]


def recipes_in_run(state: SearchState) -> dict[str, Point]:
    """Named recipes the run scored (seeded with --seed-with, or met by chance)."""
    settings, metric = state.settings, state.config.speed_metric
    out = {}
    for name, recipe in RECIPES.items():
        record = state.cache.get(run_key(recipe.pair, settings))
        if record is not None and not record.get("failed"):
            cost, size = objectives(record, metric, state.config.rank_misses)
            out[name] = Point(recipe.pair, cost, size, reached(record), record.get("generation"))
    return out


def write_report(run_dir: Path) -> Path:
    run_dir = Path(run_dir)
    state = load_state(run_dir)
    if state.generation < 0:
        raise UserError(f"{run_dir}: no generation is complete yet; nothing to report")
    pts, front = points(state), members(state)
    pictures: dict[str, str | None] = {
        "front": plots.front_picture(run_dir / "report_front.png", pts, front, recipes_in_run(state), state.config),
        "history": plots.history_picture(run_dir / "report_history.png", pts, state,
                                         lambda dated, g: front_at(dated, g, state.config.ties)),
        "curves": plots.curves_picture(run_dir / "report_curves.png", front[:MAX_CURVES], state.config.threshold),
        "diversity": plots.diversity_picture(run_dir / "report_diversity.png", state),
        "encoders": plots.encoder_picture(run_dir / "report_encoders.png", front[:MAX_TABLES], state.config.p),
    }
    if state.config.data_objective:
        pictures["ladder"] = plots.ladder_picture(run_dir / "report_ladder.png", front, state.config.threshold)
    text = markdown(run_dir, state, front, pictures)
    path = run_dir / REPORT
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown(run_dir: Path, state: SearchState, front: list[Member], pictures: dict[str, str | None]) -> str:
    config = state.config
    finished = (run_dir / FRONT).exists()
    title = ", ".join(config.tasks) if config.tasks else config.task
    lines = [f"# grokevo run report: {title} mod {config.p}", "",
             f"Run directory `{run_dir}`; generation {state.generation} of {config.generations} complete"
             f" ({'finished' if finished else 'still going or interrupted: figures are those saved so far'}).",
             f"Split {config.split} {config.train_frac:g} / select {config.select_frac:g} of the rest, "
             f"schedule {config.schedule}, speed metric {config.speed_metric}, misses ranked by {config.rank_misses}, "
             f"budget {config.budget} steps, "
             f"threshold {config.threshold:g} on select, seed {config.seed}; {len(state.cache)} pairs trained.",
             "", "Holdout accuracy appears only in the re-checks of the front, after the search.", ""]
    captions = {
        "front": "All scored pairs, cost against size (log scales); the front circled, named recipes starred.",
        "history": "The front after several generations, and the hypervolume after each.",
        "curves": "Learning curves of the front pairs (train dashed, select solid, holdout dotted; "
                  "re-check seeds when done, else the search run).",
        "diversity": "Encoder and brain families in the populations, by generation.",
        "encoders": "The code table of each front encoder (rows: residues 0..p-1, columns: code units).",
        "ladder": "Steps to the threshold on select against the training fraction, for each front member "
                  "over the fractions its ladder walked (search runs).",
    }
    titles = {"front": "Pareto front", "history": "History", "curves": "Learning curves",
              "diversity": "Diversity", "encoders": "Encoder tables", "ladder": "Learning from less"}
    for key, caption in captions.items():
        if key not in pictures:
            continue
        name = pictures.get(key)
        lines += [f"## {titles[key]}", ""]
        lines += [f"![{key}]({name})", "", caption, ""] if name else [
            "Not drawn: this run's checkpoint holds nothing for it (an empty front, or a checkpoint "
            "written before grokevo recorded it).", ""]
    data = config.data_objective
    lines += ["## Front members", "",
              "| id | encoder | combiner | brain | " + ("train fraction | " if data else "") +
              "steps (search) | steps (re-check median) | params | select | holdout | reproduce |",
              "|---|---|---|---|---|---|---|---|---|---|" + ("---|" if data else "")]
    for m in front:
        med = (lambda key: median([r.get(key) for r in m.rechecks])) if m.rechecks else (lambda key: None)
        frac = f"{m.search.get('lowest_frac', config.train_frac):g} | " if data else ""
        lines.append(
            f"| {m.id} | {encoder_summary(m.pair.encoder)} | {m.pair.combiner} | {brain_summary(m.pair.brain)} | {frac}"
            f"{_fmt(m.search.get('steps_to_threshold')) if reached(m.search) else 'did not reach'} | "
            f"{_fmt(med('steps_to_threshold')) if m.rechecks else 'not re-checked yet'} | {m.search.get('params')} | "
            f"{_fmt(med('select_acc') if m.rechecks else m.search.get('select_acc'))} | {_fmt(med('holdout_acc'))} | "
            f"`python -m evo train --pair {run_dir}/front/{m.id}.json` |")
    if config.tasks:
        lines += ["", "Per task (re-check medians: steps to the threshold on select / holdout at the end):", "",
                  "| id | " + " | ".join(config.tasks) + " |", "|---|" + "---|" * len(config.tasks)]
        for m in front:
            def cell(op: str) -> str:
                figures = [r.get("per_task", {}).get(op, {}) for r in m.rechecks] or [m.search["per_task"][op]]
                steps = median([f.get("steps_to_threshold") for f in figures])
                return f"{_fmt(steps) if steps is not None else 'missed'} / {_fmt(median([f.get('holdout_acc') for f in figures]))}"
            lines.append(f"| {m.id} | " + " | ".join(cell(op) for op in config.tasks) + " |")
        lines += [""] + transfer.markdown(list(state.cache.values()), list(config.tasks), config.task_cost)
    if not finished:
        lines += ["", "Pair files under front/ are written when the run finishes; until then, resume it: "
                      f"`python -m evo run --out {run_dir} --resume`."]
    return "\n".join(lines) + "\n"
