"""Listeners of the search's events: a live rich screen, or plain log lines.

They only read what the search emits; they never steer it.
"""
from __future__ import annotations

import sys
import time
from collections import deque
from typing import Any

from rich.console import Console
from rich.layout import Layout
from rich.live import Live
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from brains.gene import BrainGene
from evo import summary
from evo.records import best_select

BARS = "▁▂▃▄▅▆▇█"
SPARK = 40  # sparkline width


def sparkline(values: list[float], width: int = 40) -> str:
    """Values in [0, 1] as block characters, resampled to at most `width`."""
    if not values:
        return ""
    if len(values) > width:
        values = [values[int(i * len(values) / width)] for i in range(width)]
    return "".join(BARS[min(len(BARS) - 1, int(max(0.0, v) * len(BARS)))] for v in values)


def text_scatter(points: list[tuple[float, float]], width: int = 22, height: int = 5) -> list[str]:
    """(x, y) points in a width x height grid of characters, x growing to the right and y
    upward (low cost at the bottom, as in the report's picture); '•' one point, '●' more."""
    grid = [[" "] * width for _ in range(height)]
    if points:
        xs, ys = [x for x, _ in points], [y for _, y in points]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        for x, y in points:
            col = 0 if x1 == x0 else round((x - x0) / (x1 - x0) * (width - 1))
            row = height - 1 - (0 if y1 == y0 else round((y - y0) / (y1 - y0) * (height - 1)))
            grid[row][col] = "●" if grid[row][col] != " " else "•"
    return ["".join(row) for row in grid]


def jump(values: list[float], least: float = 0.2) -> int | None:
    """Index of the largest rise between consecutive values, if it is at least `least`:
    where a grokking curve jumps."""
    rises = [(b - a, i + 1) for i, (a, b) in enumerate(zip(values, values[1:]))]
    rise, index = max(rises, default=(0.0, None))
    return index if rise >= least else None


def fmt_num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer() or abs(value) >= 1e5:
        return f"{value:.3g}"
    return str(value)


def best_row(front: list[dict[str, Any]]) -> dict[str, Any] | None:
    return min(front, key=lambda row: tuple(row["values"]), default=None)


class Tracker:
    """What both listeners count: generation, phase, evaluations, rate, ETA."""

    def __init__(self, generations: int, first: int):
        self.generations, self.start, self.first = generations, time.monotonic(), first
        self.generation, self.phase, self.done, self.total, self.trained = first, "", 0, 0, 0
        self.front: list[dict[str, Any]] = []
        self.stats: dict[str, Any] = {}
        self.jumped: tuple[float, float] | None = None

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def rate(self) -> float:
        return self.trained / max(1e-9, self.elapsed())

    def eta(self) -> float | None:
        finished = self.generation - self.first
        if finished <= 0:
            return None
        return self.elapsed() / finished * max(0, self.generations - 1 - self.generation)

    def best_select(self) -> float:
        best = best_row(self.front)
        return best_select(best["record"]) if best else 0.0

    def update(self, event: str, data: dict[str, Any]) -> None:
        if event == "generation_start":
            self.generation, self.phase = data["generation"], data["phase"]
        elif event == "scoring":
            self.done, self.total = 0, data["total"]
        elif event == "evaluated":
            self.done, self.trained = self.done + 1, self.trained + 1
        elif event == "generation_end":
            before = self.best_select() if self.front else None
            self.front, self.stats = data["front"], data["stats"]
            after = self.best_select()
            # a jump of the best pair's select accuracy between generations, for the listeners
            self.jumped = (before, after) if before is not None and after - before >= 0.2 else None


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return time.strftime("%H:%M:%S", time.gmtime(seconds))


def describe_record(record: dict[str, Any]) -> str:
    if record.get("failed"):
        return f"FAILED ({record.get('error')})"
    if record.get("diverged"):
        return "diverged"
    steps = record.get("steps_to_threshold")
    best = best_select(record)
    return f"reached at step {steps}" if steps is not None else f"missed (best select {best:.3f})"


class PlainLog:
    """One line per generation and per notable event, for logs and non-terminals."""

    def __init__(self, generations: int, first: int, stream=None):
        self.tracker = Tracker(generations, first)
        self.stream = stream or sys.stdout

    def __enter__(self) -> "PlainLog":
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def say(self, text: str) -> None:
        print(f"[{_clock(self.tracker.elapsed())}] {text}", file=self.stream, flush=True)

    def emit(self, event: str, **data: Any) -> None:
        t = self.tracker
        t.update(event, data)
        if event == "evaluated" and (data["record"].get("diverged") or data["record"].get("failed")):
            rec = data["record"]
            self.say(f"gen {t.generation}: {describe_record(rec)}: "
                     f"{summary.brain(_brain(rec))}")
        elif event == "generation_end":
            best = best_row(t.front)
            text = (f"gen {t.generation}/{t.generations - 1} [{t.phase}] front {len(t.front)} "
                    f"hv {t.stats.get('hypervolume', 0):.3f} trained {t.stats.get('trained')} "
                    f"({t.rate():.2f}/s, eta {_clock(t.eta())})")
            if best:
                f = summary.figures(best["record"])
                text += (f" | best: {summary.encoder(best['pair'].encoder)} / {summary.brain(best['pair'].brain)}"
                         f" steps {fmt_num(f['steps'])} params {fmt_num(f['params'])} select {f['select_acc']:.3f}")
            self.say(text)
            if t.jumped:
                self.say(f"gen {t.generation}: best select accuracy jumped {t.jumped[0]:.3f} -> {t.jumped[1]:.3f}")
        elif event == "message":
            self.say(data["text"])


def _brain(record: dict[str, Any]):
    return BrainGene.from_dict(record["brain"])


class Dashboard(PlainLog):
    """A live screen (rich Live + Layout) refreshed 4 times a second."""

    def __init__(self, generations: int, first: int, title: str):
        super().__init__(generations, first)
        self.title = title
        self.console = Console()
        self.events: deque[str] = deque(maxlen=5)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 console=self.console)
        self.bar = self.progress.add_task("evaluations", total=1)
        self.live = None

    def __enter__(self) -> "Dashboard":
        self.live = Live(self.render(), console=self.console, refresh_per_second=4, screen=False,
                         get_renderable=self.render)
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def say(self, text: str) -> None:
        self.events.append(f"{_clock(self.tracker.elapsed())} {text}")

    def emit(self, event: str, **data: Any) -> None:
        t = self.tracker
        t.update(event, data)
        if event == "scoring":
            self.progress.update(self.bar, total=max(1, data["total"]), completed=0,
                                 description=f"gen {t.generation} [{t.phase}] evaluations")
        elif event == "evaluated":
            self.progress.update(self.bar, completed=t.done)
            rec = data["record"]
            if rec.get("diverged") or rec.get("failed"):
                self.say(f"gen {t.generation}: {describe_record(rec)}")
        elif event == "generation_end" and t.jumped:
            self.say(f"gen {t.generation}: best select jumped {t.jumped[0]:.3f} -> {t.jumped[1]:.3f}")
        elif event == "front_member":
            pair = data["pair"]
            self.say(f"gen {data['generation']}: new front member {summary.encoder(pair.encoder)} / "
                     f"{summary.brain(pair.brain)}")
        elif event == "message":
            self.say(data["text"])

    def render(self):
        t = self.tracker
        head = Text(f"{self.title}\ngen {t.generation}/{t.generations - 1} [{t.phase}]  "
                    f"elapsed {_clock(t.elapsed())}  eta {_clock(t.eta())}  {t.rate():.2f} evals/s  "
                    f"trained {t.trained}  hv {t.stats.get('hypervolume', 0):.3f}", no_wrap=True,
                    overflow="ellipsis")
        table = Table(expand=True, show_edge=False, pad_edge=False)
        for name in ("encoder", "brain"):
            table.add_column(name, overflow="ellipsis", no_wrap=True, ratio=1)
        data = any(len(r["values"]) == 3 for r in t.front)   # the data objective: the lowest fraction
        for name in ("cost", "steps", "params", "select", "train"):
            if name != "train" or data:
                table.add_column(name, no_wrap=True, justify="right", min_width=6)
        for row in sorted(t.front, key=lambda r: tuple(r["values"]))[:8]:
            f = summary.figures(row["record"])
            table.add_row(summary.encoder(row["pair"].encoder), summary.brain(row["pair"].brain),
                          f"{10 ** row['values'][0]:.3g}", fmt_num(f["steps"]), fmt_num(f["params"]),
                          f"{f['select_acc']:.3f}", *([f"{10 ** row['values'][2]:.3g}"] if data else []))
        best = best_row(t.front)
        curve = best["record"].get("curve", []) if best else []
        select = [p["select_acc"] for p in curve]
        at = jump(select)
        mark = ""
        if at is not None:
            col = at if len(select) <= SPARK else int(at * SPARK / len(select))
            mark = f"\n       {' ' * col}^ jump at step {curve[at]['step']}"
        spark = Text(f"train  {sparkline([p['train_acc'] for p in curve], SPARK)}\n"
                     f"select {sparkline(select, SPARK)}{mark}", no_wrap=True, overflow="ellipsis")
        dots = text_scatter([(r["values"][1], r["values"][0]) for r in t.front], width=14, height=4)
        scatter = Text("\n".join(["cost"] + dots + ["size ->"]), no_wrap=True)
        front = Layout()
        front.split_row(Layout(Panel(table, title=f"Pareto front (cost, size{', data' if data else ''})"), ratio=1),
                        Layout(Panel(scatter, title="front"), size=18))
        layout = Layout()
        layout.split_column(Layout(head, size=2), Layout(self.progress, size=1),
                            Layout(front, ratio=2),
                            Layout(Panel(spark, title="best pair: accuracy by evaluation"), size=5),
                            Layout(Panel(Text("\n".join(self.events), no_wrap=True, overflow="ellipsis"),
                                         title="events"), size=7))
        return layout
