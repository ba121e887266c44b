"""Which spectacles transfer: per-task results of a multi-task run, grouped by encoder.

A multi-task record (evo.execution.multitask) keeps every task's figures in `per_task`. Grouping the
scored pairs by encoder family, and by encoder, and counting on which tasks they reached
the threshold shows whether an encoding helps one operation or several. Select accuracy
only: these are the search's own runs.
"""
from __future__ import annotations

from typing import Any

from encoders.gene import EncoderGene
from evo.summary import encoder as encoder_summary

MAX_ENCODERS = 10


def _reached(figures: dict[str, Any]) -> bool:
    return figures.get("steps_to_threshold") is not None and not figures.get("diverged") \
        and not figures.get("failed")


def tally(records: list[dict[str, Any]], tasks: list[str], by: str) -> dict[str, dict[str, Any]]:
    """{group: {"pairs": n, "reached": {task: n}, "all": n}} over multi-task records, grouped
    by encoder `family` or by the whole `encoder`."""
    out: dict[str, dict[str, Any]] = {}
    for record in records:
        if record.get("failed") or "per_task" not in record:
            continue
        encoder = EncoderGene.from_dict(record["encoder"])
        name = encoder.family if by == "family" else encoder_summary(encoder)
        row = out.setdefault(name, {"pairs": 0, "reached": {t: 0 for t in tasks}, "all": 0})
        row["pairs"] += 1
        hits = [_reached(record["per_task"].get(t, {})) for t in tasks]
        for task, hit in zip(tasks, hits):
            row["reached"][task] += hit
        row["all"] += all(hits)
    return out


def markdown(records: list[dict[str, Any]], tasks: list[str], rule: str) -> list[str]:
    """The report's section: by family (shares), then the encoders that reached most tasks."""
    head = "| {} | pairs | " + " | ".join(f"reached {t}" for t in tasks) + " | reached all |"
    rule_line = "|---|---|" + "---|" * len(tasks) + "---|"
    lines = ["## Which encoders transfer", "",
             f"Every pair was scored on {', '.join(tasks)} (cost: {'the sum' if rule == 'sum' else 'the worst'} "
             "of the tasks' costs). Counts of scored pairs that reached the threshold on select, per task.", "",
             head.format("encoder family"), rule_line]
    families = tally(records, tasks, "family")
    for name, row in sorted(families.items(), key=lambda kv: (-kv[1]["all"], -kv[1]["pairs"])):
        lines.append(f"| {name} | {row['pairs']} | "
                     + " | ".join(f"{row['reached'][t]} ({row['reached'][t] / row['pairs']:.0%})" for t in tasks)
                     + f" | {row['all']} ({row['all'] / row['pairs']:.0%}) |")
    encoders = tally(records, tasks, "encoder")
    ranked = sorted(encoders.items(), key=lambda kv: (-sum(v > 0 for v in kv[1]["reached"].values()),
                                                      -kv[1]["all"], -kv[1]["pairs"]))[:MAX_ENCODERS]
    lines += ["", f"The {len(ranked)} encoders that reached the most tasks (with any of their brains):", "",
              head.format("encoder"), rule_line]
    for name, row in ranked:
        lines.append(f"| {name} | {row['pairs']} | " + " | ".join(str(row["reached"][t]) for t in tasks)
                     + f" | {row['all']} |")
    return lines + [""]
