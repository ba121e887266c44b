"""The end of a run: the front's pairs re-trained on several seeds and measured on holdout
for the first time; front.json and one reproducible pair file per member."""
from __future__ import annotations

import hashlib
import json
import os
import statistics
from pathlib import Path
from typing import Any

from evo.pair import Pair
from evo.records import Record
from evo.search import ladder
from evo.search.archive import twins
from evo.search.scoring import pair_key, run_key
from evo.search.state import SearchState
from evo.settings import Job, RunSettings
from evo.summary import brain as brain_summary
from evo.summary import encoder as encoder_summary

FRONT, FRONT_DIR, WEIGHTS_DIR = "front.json", "front", "weights"


def pair_hash(pair: Pair) -> str:
    return hashlib.sha256(pair_key(pair).encode()).hexdigest()[:8]


def member_id(index: int, pair: Pair) -> str:
    return f"p{index:02d}-{pair_hash(pair)}"


def weights_file(pair: Pair, seed: int) -> str:
    """Where a re-check's trained weights go, relative to the run directory (keyed by the
    pair, not its place on the front, which changes as the front does)."""
    return f"{WEIGHTS_DIR}/{pair_hash(pair)}-seed{seed}.pt"


def store_rechecks(state: SearchState, run_dir: Path, keys: list[str], jobs: list[Job],
                   records: list[Record]) -> None:
    """Re-check records into state.finals; the weights they carry into RUN_DIR/weights/
    (torch.save of a state dict: `inspect` loads it with weights_only=True)."""
    (run_dir / WEIGHTS_DIR).mkdir(exist_ok=True)
    for key, job, record in zip(keys, jobs, records):
        blob = record.pop("weights", None)
        if blob is not None:
            path = run_dir / weights_file(job.pair, job.seed)
            tmp = path.with_suffix(".pt.tmp")
            tmp.write_bytes(blob)
            os.replace(tmp, path)
        state.finals[key] = record


def median(values: list[Any]) -> Any:
    """Median treating a missed threshold (None) as worse than any figure; None if the
    median itself missed."""
    ranked = sorted(values, key=lambda v: (v is None, v if v is not None else 0))
    mid = ranked[(len(ranked) - 1) // 2]
    if mid is None or len(ranked) % 2 == 1:
        return mid
    upper = ranked[len(ranked) // 2]
    return None if upper is None else statistics.median([mid, upper])


def final_seeds(state: SearchState) -> list[int]:
    return [state.config.seed + i for i in range(state.config.final_seeds)]


def member_settings(state: SearchState, pair: Pair) -> RunSettings:
    """The settings a front member is re-checked and filed under: the run's, or with the
    data objective those of the smallest training fraction it reached (evo.search.ladder),
    the claim its third objective makes."""
    record = state.cache[run_key(pair, state.settings)]
    if not state.config.data_objective or "lowest_frac" not in record:
        return state.settings
    return ladder.settings_at(state.settings, record["lowest_frac"])


def final_keys(state: SearchState) -> list[tuple[str, Pair, int]]:
    """(key, pair, seed) of every holdout re-check the current front needs."""
    return [(run_key(ind.gene, member_settings(state, ind.gene).with_seed(seed), holdout=True), ind.gene, seed)
            for ind in state.archive for seed in final_seeds(state)]


def final_jobs(state: SearchState) -> tuple[list[str], list[Job]]:
    """Re-training jobs of the front not yet done (kept in state.finals across a resume).
    Re-checks of pairs that have left the front are dropped, so that a run extended by a
    resume holds exactly what the same run left alone holds."""
    needed = final_keys(state)
    state.finals = {key: state.finals[key] for key, _, _ in needed if key in state.finals}
    keys: list[str] = []
    jobs: list[Job] = []
    for key, pair, seed in needed:
        if key not in state.finals and key not in keys:
            keys.append(key)
            jobs.append(Job(pair, member_settings(state, pair).with_seed(seed), report_holdout=True))
    return keys, jobs


def front_document(state: SearchState) -> dict[str, Any]:
    settings = state.settings
    members = []
    for index, ind in enumerate(state.archive):
        pair: Pair = ind.gene
        mine = member_settings(state, pair)
        records = [state.finals[run_key(pair, mine.with_seed(s), holdout=True)] for s in final_seeds(state)]
        search_record = state.cache[run_key(pair, settings)]

        def med(key: str) -> Any:
            return median([r.get(key) for r in records])
        members.append({
            "id": member_id(index, pair), "encoder": pair.encoder.to_dict(), "brain": pair.brain.to_dict(),
            "encoder_summary": encoder_summary(pair.encoder), "brain_summary": brain_summary(pair.brain),
            "combiner": pair.combiner, "seeds": final_seeds(state), "train_frac": mine.task.train_frac,
            "steps_to_threshold": med("steps_to_threshold"), "flops_to_threshold": med("flops_to_threshold"),
            "seconds_to_threshold": med("seconds_to_threshold"), "params": search_record.get("params"),
            "select_acc": med("select_acc"), "holdout_acc": med("holdout_acc"),
            "holdout_acc_unseen_mirror": med("holdout_acc_unseen_mirror"),
            "holdout_acc_at_threshold": med("holdout_acc_at_threshold"),
            "twins": twins(search_record, list(state.cache.values()), state.config.speed_metric,
                           state.config.rank_misses, state.config.data_objective),
            "diverged_seeds": sum(bool(r.get("diverged")) for r in records),
            "failed_seeds": sum(bool(r.get("failed")) for r in records),
            "search_objectives": list(ind.fitness.values),
            "pair_file": f"{FRONT_DIR}/{member_id(index, pair)}.json",
            "weights": [weights_file(pair, s) for s in final_seeds(state)],
        })
        if pair.brain.curriculum:  # the earlier operations its indices name in this run's pool
            pool = state.config.curriculum_pool
            members[-1]["curriculum_ops"] = [pool[i % len(pool)] for i in pair.brain.curriculum]
        if "ladder" in search_record:  # the data objective: the fractions walked, from the search's runs
            members[-1]["ladder"] = search_record["ladder"]
        if state.config.tasks:  # multi-task: every task's own medians
            members[-1]["per_task"] = {op: {key: median([r.get("per_task", {}).get(op, {}).get(key) for r in records])
                                            for key in ("steps_to_threshold", "flops_to_threshold", "holdout_acc",
                                                        "holdout_acc_at_threshold")}
                                       for op in state.config.tasks}
    multi = {"tasks": list(state.config.tasks), "task_cost": state.config.task_cost} if state.config.tasks else {}
    return {"generation": state.generation, "task": state.config.task_spec().to_dict(), **multi,
            "speed_metric": state.config.speed_metric, "threshold": state.config.threshold,
            "budget": state.config.budget, "max_flops": state.config.max_flops, "members": members}


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


def write_front(state: SearchState, run_dir: Path) -> dict[str, Any]:
    """front.json plus front/ID.json: pair files that `python -m evo train --pair` takes,
    carrying the task and budget so that one command reproduces the member."""
    doc = front_document(state)
    (run_dir / FRONT_DIR).mkdir(exist_ok=True)
    current = {Path(m["pair_file"]).name for m in doc["members"]}
    for stale in (run_dir / FRONT_DIR).glob("*.json"):  # former members of an extended run
        if stale.name not in current:
            stale.unlink()
    for ind, member in zip(state.archive, doc["members"]):
        _write_json(run_dir / member["pair_file"], member_settings(state, ind.gene).pair_file(ind.gene))
    _write_json(run_dir / FRONT, doc)
    return doc
