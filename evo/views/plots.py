"""The report's pictures (matplotlib, no display needed). Each function draws one PNG and
returns its file name, or None when the run has nothing to show for it (an old
checkpoint without the figures it needs, or an empty front)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from encoders import build_table  # noqa: E402
from evo.search.scoring import gene_key, objectives  # noqa: E402
from evo.summary import encoder as encoder_summary  # noqa: E402


def _save(fig: Any, path: Path) -> str:
    fig.tight_layout()
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path.name


def front_picture(path: Path, pts: list, front: list, recipes: dict, config: Any) -> str | None:
    if not pts:
        return None
    fig, ax = plt.subplots(figsize=(7, 5))
    for done, colour, label in ((False, "0.7", "missed the threshold"), (True, "tab:blue", "reached it")):
        chosen = [p for p in pts if p.reached == done]
        if chosen:
            ax.scatter([p.size for p in chosen], [p.cost for p in chosen], s=10, c=colour, label=label)
    values = sorted(objectives(m.search, config.speed_metric, config.rank_misses) for m in front)
    if values:
        ax.scatter([v[1] for v in values], [v[0] for v in values], s=70, facecolors="none",
                   edgecolors="tab:red", linewidths=1.5, label="front")
    for name, p in recipes.items():
        ax.scatter([p.size], [p.cost], marker="*", s=160, c="tab:orange", edgecolors="k", zorder=5)
        ax.annotate(name, (p.size, p.cost), textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.set_xlabel("log10 parameters")
    ax.set_ylabel(f"log10 cost ({config.speed_metric} to {config.threshold:g} select; misses above the cap)")
    ax.set_title(f"{len(pts)} scored pairs, {config.task} mod {config.p}")
    ax.legend(fontsize=8)
    return _save(fig, path)


def history_picture(path: Path, pts: list, state: Any, front_at: Callable[[list, int], list]) -> str | None:
    hv = [(e["gen"], e["hypervolume"]) for e in state.logbook if "hypervolume" in e]
    dated = [p for p in pts if p.generation is not None]
    if not hv and not dated:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    last = state.generation
    gens = sorted({round(last * k / 4) for k in range(5)})
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(gens)))
    for g, colour in zip(gens, colours):
        front = sorted(front_at(dated, g), key=lambda p: p.size)
        if front:
            left.step([p.size for p in front], [p.cost for p in front], where="post", color=colour,
                      marker="o", ms=3, label=f"gen {g}")
    if dated:
        left.set_xlabel("log10 parameters")
        left.set_ylabel("log10 cost")
        left.set_title("front after generation")
        left.legend(fontsize=8)
    else:
        left.set_title("(this checkpoint does not date its pairs)")
    if hv:
        right.plot([g for g, _ in hv], [v for _, v in hv], marker=".")
    right.set_xlabel("generation")
    right.set_ylabel("hypervolume (log objective space)")
    right.set_title("hypervolume")
    return _save(fig, path)


def curves_picture(path: Path, front: list, threshold: float) -> str | None:
    if not front:
        return None
    n = len(front)
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, m in zip(axes.flat, front):
        runs = m.rechecks or [m.search]
        for i, record in enumerate(runs):
            curve = record.get("curve") or []
            steps = [pt["step"] for pt in curve]
            label = (lambda s: s) if i == 0 else (lambda s: None)
            ax.plot(steps, [pt["train_acc"] for pt in curve], "--", color="tab:blue", alpha=0.7, label=label("train"))
            ax.plot(steps, [pt["select_acc"] for pt in curve], "-", color="tab:green", alpha=0.8, label=label("select"))
            if any("holdout_acc" in pt for pt in curve):
                ax.plot(steps, [pt.get("holdout_acc", np.nan) for pt in curve], ":", color="tab:red",
                        label=label("holdout"))
        ax.axhline(threshold, color="0.6", lw=0.8)
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(m.id, fontsize=9)
        ax.set_xlabel("step")
        ax.legend(fontsize=7, loc="upper left")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return _save(fig, path)


def diversity_picture(path: Path, state: Any) -> str | None:
    entries = [e for e in state.logbook if "families" in e]
    if not entries:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    counts = [{(side, fam): n for side, fam, n in e["families"]} for e in entries]
    gens = [e["gen"] for e in entries]
    for ax, side in zip(axes, ("encoder", "brain")):
        names = sorted({fam for c in counts for s, fam in c if s == side})
        if names:
            ax.stackplot(gens, [[c.get((side, f), 0) for c in counts] for f in names], labels=names)
            ax.legend(fontsize=8, loc="upper left")
        ax.set_xlabel("generation")
        ax.set_ylabel("members")
        ax.set_title(f"{side} families in the populations")
    return _save(fig, path)


def encoder_picture(path: Path, front: list, p: int) -> str | None:
    genes, seen = [], set()
    for m in front:
        if gene_key(m.pair.encoder) not in seen:
            seen.add(gene_key(m.pair.encoder))
            genes.append(m.pair.encoder)
    if not genes:
        return None
    fig, axes = plt.subplots(1, len(genes), figsize=(3.2 * len(genes), 3.6), squeeze=False)
    for ax, gene in zip(axes.flat, genes):
        table = build_table(gene, p)
        ax.imshow(table, aspect="auto", interpolation="nearest", cmap="viridis")
        ax.set_title(encoder_summary(gene), fontsize=8)
        ax.set_xlabel(f"code unit (d={table.shape[1]})")
        ax.set_ylabel("residue")
    return _save(fig, path)


def ladder_picture(path: Path, front: list, threshold: float) -> str | None:
    """The data objective: each front member's steps to the threshold on select against the
    training fraction, over the fractions its ladder walked (a hollow mark: the fraction it
    missed, where its walk stopped)."""
    walked = [m for m in front if m.search.get("ladder")]
    if not walked:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m in walked:
        steps = m.search["ladder"]
        hit = [s for s in steps if s["reached"]]
        line, = ax.plot([s["train_frac"] for s in hit], [s["steps_to_threshold"] for s in hit], "o-", label=m.id)
        for s in steps:
            if not s["reached"]:
                top = max((h["steps_to_threshold"] for h in hit), default=1)
                ax.scatter([s["train_frac"]], [top], facecolors="none", edgecolors=line.get_color(), s=60)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training fraction")
    ax.set_ylabel(f"steps to {threshold:g} select")
    ax.set_title("steps against training data (hollow: the fraction missed, drawn at the member's slowest)")
    ax.legend(fontsize=7)
    return _save(fig, path)
