"""Tables printed at the end of a command: the front of a run (`run`, `show`) and the
figures of one training run (`train`). They fit a terminal of 80-100 columns: the figures
in a table, each front member's encoder and brain on a line of its own below it."""
from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from evo.records import Record


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def print_front(doc: dict[str, Any], console: Console | None = None) -> None:
    """front.json as a table of figures, then one line per member for its genes."""
    console = console or Console()
    task = doc["task"]
    table = Table(title=f"front after generation {doc['generation']}: {task['op']} mod {task['p']} "
                        f"(medians over seeds; holdout first seen here)")
    data = any("ladder" in m for m in doc["members"])  # the data objective: each member's own fraction
    table.add_column("id", no_wrap=True)
    for name in ("train", "steps", "flops", "params", "select", "holdout", "unseen mirror", "twins"):
        if name != "train" or data:
            table.add_column(name, justify="right", no_wrap=True)
    for m in doc["members"]:
        table.add_row(m["id"], *([f"{m['train_frac']:g}"] if data else []),
                      "did not reach" if m["steps_to_threshold"] is None else str(m["steps_to_threshold"]),
                      "-" if m["flops_to_threshold"] is None else f"{m['flops_to_threshold']:.3g}",
                      str(m["params"]), _pct(m["select_acc"]), _pct(m["holdout_acc"]),
                      _pct(m["holdout_acc_unseen_mirror"]), str(m.get("twins", 0)))
    console.print(table)
    for m in doc["members"]:
        console.print(f"{m['id']}  encoder: {m['encoder_summary']}", soft_wrap=True, highlight=False)
        console.print(f"{' ' * len(m['id'])}  brain:   {m['brain_summary']}", soft_wrap=True, highlight=False)


def _fmt(value: Any) -> str:
    if value is None:
        return "did not reach"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def print_record(record: Record) -> None:
    """The figures of one training run, a curriculum's stages, and a word on divergence."""
    t = record["task"]
    table = Table(title=f"{t['op']} mod {t['p']}, {t['split']} split, train {t['sizes']['train']} / "
                        f"select {t['sizes']['select']} / holdout {t['sizes']['holdout']}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = ["steps_to_threshold", "seconds_to_threshold", "flops_to_threshold", "params", "train_acc",
            "select_acc", "holdout_acc", "holdout_acc_unseen_mirror", "steps_run", "seconds", "diverged",
            "combiner", "seed"]
    for key in rows:
        table.add_row(key, _fmt(record[key]))
    Console().print(table)
    for k, stage in enumerate(record.get("curriculum", {}).get("stages", [])):
        print(f"stage {k + 1}: {stage['op']}: {stage['steps_run']} steps, threshold "
              f"{_fmt(stage['steps_to_threshold'])}, select {stage['select_acc']:.4f}, {stage['params']} params")
    if record["diverged"]:
        print("the run diverged (loss not finite or exploding); figures are those it had", file=sys.stderr)
