"""The live screen: a terminal scatter of the front, a mark where the best pair's select
accuracy jumps, and a layout that fits 80 x 24."""
import io

from rich.console import Console

from brains.gene import BrainGene
from encoders.gene import EncoderGene
from evo.views.dashboard import Dashboard, PlainLog, jump, text_scatter
from evo.pair import Pair


def test_text_scatter_puts_corners_in_corners():
    rows = text_scatter([(0.0, 0.0), (1.0, 1.0), (1.0, 1.0), (0.5, 0.5)], width=5, height=3)
    assert rows == ["    ●", "  •  ", "•    "]
    assert text_scatter([], width=3, height=2) == ["   ", "   "]


def test_jump_finds_the_largest_rise_only_if_large():
    assert jump([0.01, 0.02, 0.03, 0.6, 0.99]) == 3
    assert jump([0.1, 0.2, 0.25, 0.3]) is None


def front_rows(select_curve):
    curve = [{"step": 10 * (i + 1), "train_acc": 1.0, "select_acc": s} for i, s in enumerate(select_curve)]
    record = {"curve": curve, "steps_to_threshold": None, "params": 1000, "select_acc": select_curve[-1],
              "flops_to_threshold": None}
    pairs = [Pair(EncoderGene(family="fourier", freqs=(k,)), BrainGene(hidden=(8 * k,))) for k in (1, 2, 3)]
    return [{"pair": p, "values": (11.0 - k, 2.0 + k), "record": record} for k, p in enumerate(pairs)]


def test_dashboard_fits_80_by_24_and_marks_the_jump():
    dash = Dashboard(50, 0, "add mod 97, random split 0.5, alternate")
    dash.emit("generation_start", generation=0, phase="initial")
    dash.emit("generation_end", generation=0, phase="initial", front=front_rows([0.01, 0.02]),
              stats={"hypervolume": 1.0, "trained": 32})
    dash.emit("generation_start", generation=1, phase="brains")
    dash.emit("generation_end", generation=1, phase="brains", front=front_rows([0.01, 0.02, 0.05, 0.95]),
              stats={"hypervolume": 2.0, "trained": 56})
    console = Console(width=80, height=24, file=io.StringIO(), record=True, color_system=None)
    console.print(dash.render())
    lines = console.export_text().rstrip("\n").split("\n")
    assert len(lines) <= 24 and max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    assert "jump at step 40" in text and "•" in text
    assert any("best select jumped 0.020 -> 0.950" in e for e in dash.events)


def test_plain_log_says_when_the_best_select_jumps():
    out = io.StringIO()
    log = PlainLog(5, 0, stream=out)
    log.emit("generation_start", generation=0, phase="initial")
    log.emit("generation_end", generation=0, phase="initial", front=front_rows([0.1]), stats={})
    log.emit("generation_end", generation=1, phase="brains", front=front_rows([0.1, 0.9]), stats={})
    assert "jumped 0.100 -> 0.900" in out.getvalue()


def test_every_brain_family_is_named_as_itself():
    """A forward-forward brain was summarised as a transformer ("tf L2 d128 ...") in the
    dashboard, front.json and the report."""
    from brains.gene import BrainGene
    from evo.summary import brain

    assert brain(BrainGene(family="ff", hidden=(64, 32), ff_k=0.2)).startswith("ff[64, 32] relu k0.2")
    assert brain(BrainGene(family="transformer")).startswith("tf L2 d128 h4")
    assert brain(BrainGene(hidden=(16,))).startswith("mlp[16] relu")


def test_the_front_table_fits_100_columns():
    """At 100 columns each member's encoder and brain summaries wrapped over six lines; now
    the table holds the figures, one row a member, and each member's genes get a line each."""
    import io

    from rich.console import Console

    from evo.views.tables import print_front

    member = {"id": "p00-ccefa509", "steps_to_threshold": 300, "flops_to_threshold": 4.3e9, "params": 2562,
              "select_acc": 0.99, "holdout_acc": 0.986, "holdout_acc_unseen_mirror": 0.985, "twins": 1,
              "encoder_summary": "fourier[3] +concat sdr0.31 varcycle d97 T64.6-2.22e+03",
              "brain_summary": "mlp[41, 15] relu xent adamw lr1.3e-02 wd0.0002 b287 gf1.1 curriculum#0,1 stack[64]"}
    doc = {"generation": 49, "task": {"op": "add", "p": 97}, "members": [member, {**member, "id": "p01-0ec1f1ad"}]}
    out = io.StringIO()
    print_front(doc, Console(file=out, width=100))
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines if "encoder:" not in line and "brain:" not in line) <= 100
    assert sum("300" in line and "2562" in line for line in lines) == 2    # one table row per member
    assert sum("encoder: fourier[3]" in line for line in lines) == 2 and sum("brain:   mlp[41, 15]" in line
                                                                              for line in lines) == 2
    assert len([line for line in lines if line.strip()]) == 1 + 4 + 2 + 4, lines  # title, frame, rows, genes
