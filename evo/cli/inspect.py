"""`python -m evo inspect --pair FILE | --recipe NAME`: train (or load) a pair and show what
it learned: the Fourier spectrum over the residues of its input side, the key frequencies
and the share of the power they hold, and whether keeping only them keeps its accuracy; for
a router brain also which block it picks for which (a, b) at each step."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import torch

from brains import introspect
from brains.losses import loss_function, measure
from brains.train import train
from evo.cli.pair_args import resolve
from evo.errors import UserError
from evo.execution.evaluate import features, labels, prepare, train_options
from evo.rundir.final import weights_file
from evo.summary import brain as brain_summary
from evo.summary import encoder as encoder_summary

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the file-only back end)


def saved_weights(args: argparse.Namespace, pair: Any, seed: int) -> Path | None:
    """A front pair file RUN_DIR/front/ID.json has its re-check weights in
    RUN_DIR/weights/HASH-seedN.pt (written by the run); --weights names a file outright."""
    if args.weights:
        path = Path(args.weights)
        if not path.is_file():
            raise UserError(f"--weights: {path}: no such file")
        return path
    if args.pair:
        candidate = Path(args.pair).parent.parent / weights_file(pair, seed)
        return candidate if candidate.is_file() else None
    return None


def load_weights(model: torch.nn.Module, path: Path) -> None:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as exc:  # noqa: BLE001  (any unreadable or foreign file is the user's to fix)
        raise UserError(f"--weights: {path}: not this pair's weights ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0][:160]})") from None


def analyse(prep: Any, share: float) -> dict[str, Any]:

    pair, split = prep.pair, prep.split
    maps = introspect.input_maps(prep.model, prep.table, pair.combiner)
    operands = {}
    for name, values in maps.items():
        power = introspect.spectrum(values)
        keys = introspect.key_frequencies(power, share)
        operands[name] = {"power": power.tolist(), "keys": keys, "held": introspect.held_share(power, keys),
                          "constant_share": float(power[0] / power.sum()) if power.sum() > 0 else 0.0}
    keys = sorted({k for o in operands.values() for k in o["keys"]})
    loss_fn = loss_function(pair.brain, prep.task.p)
    y = labels(split, split.holdout, prep.device)
    full = measure(prep.model, features(pair, prep.table, split, split.holdout, prep.device), y, loss_fn)[0]
    restricted_table = introspect.restrict(prep.table, keys)
    kept = measure(prep.model, features(pair, restricted_table, split, split.holdout, prep.device), y, loss_fn)[0]
    return {"combiner": pair.combiner,
            "analysed": "code table" if pair.combiner not in (*introspect.LINEAR_COMBINERS, "brain:attention")
            else "first layer's input per residue",
            "operands": operands, "key_frequencies": keys, "holdout_acc": full,
            "holdout_acc_key_frequencies_only": kept}


def picture(path: Path, result: dict[str, Any], title: str) -> None:

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, (name, op) in zip(axes, result["operands"].items()):
        power = np.array(op["power"])
        share = power / power[1:].sum() if power[1:].sum() > 0 else power
        colours = ["tab:red" if k in op["keys"] else "0.6" for k in range(len(power))]
        ax.bar(range(1, len(power)), share[1:], color=colours[1:])
        ax.set_xlabel("frequency k")
        ax.set_ylabel("share of non-constant power")
        ax.set_title(f"operand {name}: keys {op['keys']} hold {op['held']:.0%}", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def routing(prep: Any, png: Path) -> dict[str, Any]:
    """A router brain's choices over every pair of the task (train, select and holdout
    alike: this reads the trained network, it steers nothing), and their picture."""
    split, p = prep.split, prep.task.p
    every = np.arange(len(split.pairs))
    seen = introspect.routes(prep.model, features(prep.pair, prep.table, split, every, prep.device))
    k = len(prep.model.blocks)
    grid = introspect.route_grid(seen["chosen"], split.pairs, p)
    use = introspect.usage(seen["chosen"], k)
    out: dict[str, Any] = {"blocks": k, "steps": int(grid.shape[0]), "usage": use.tolist(),
                           "picture": str(png)}
    if "halt" in seen:
        out["mean_halt_step"] = float((seen["halt"] * np.arange(1, grid.shape[0] + 1)[:, None]).sum(0).mean())
    fig, axes = plt.subplots(1, grid.shape[0], figsize=(3.6 * grid.shape[0] + 0.6, 3.6), squeeze=False)
    cmap = plt.get_cmap("tab10", k)
    for step, ax in enumerate(axes[0]):
        shown = np.ma.masked_less(grid[step], 0)
        image = ax.imshow(shown, cmap=cmap, vmin=-0.5, vmax=k - 0.5, origin="lower", interpolation="nearest")
        ax.set_title(f"step {step + 1}: " + " ".join(f"{u:.0%}" for u in use[step]), fontsize=8)
        ax.set_xlabel("b")
        ax.set_ylabel("a")
    fig.colorbar(image, ax=axes[0].tolist(), ticks=range(k), label="block chosen")
    fig.suptitle("block the router ranks first, per residue pair (a, b) and recursion step", fontsize=9)
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return out


def run_inspect(args: argparse.Namespace) -> int:
    pair, settings = resolve(args)
    if pair.brain.curriculum:
        raise UserError("inspect: a pair with a curriculum gene stacks layers on its brain; inspect reads a "
                        "single brain's input side and does not take it (train it with `train --pair`)")
    task, seed = settings.task, settings.seed
    png = Path(args.png or f"inspect-{args.recipe or Path(args.pair).stem}.png")
    prep = prepare(pair, task, seed, torch.device(settings.device), settings.select)
    weights = saved_weights(args, pair, seed)
    if weights is not None:
        load_weights(prep.model, weights)
        source = f"weights {weights}"
    else:
        result = train(prep.model, prep.data, pair.brain, **train_options(settings), run_on=args.run_on)
        source = (f"trained {result.steps_run} steps (seed {seed}); threshold "
                  f"{'reached at step ' + str(result.steps_to_threshold) if result.steps_to_threshold else 'not reached'}")
    prep.model.eval()
    out = analyse(prep, args.share)
    out.update({"source": source, "encoder": pair.encoder.to_dict(), "brain": pair.brain.to_dict(),
                "task": task.to_dict(), "picture": str(png)})
    if pair.brain.family == "router":
        out["routing"] = routing(prep, png.with_name(f"{png.stem}-routes{png.suffix}"))
    picture(png, out, f"{encoder_summary(pair.encoder)} / {brain_summary(pair.brain)}: {task.op} mod {task.p}")
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"{encoder_summary(pair.encoder)} / {brain_summary(pair.brain)}: {source}")
    print(f"analysed: {out['analysed']} (combiner {out['combiner']})")
    for name, op in out["operands"].items():
        print(f"operand {name}: key frequencies {op['keys']} hold {op['held']:.1%} of the non-constant power "
              f"(constant {op['constant_share']:.1%})")
    print(f"holdout accuracy {out['holdout_acc']:.4f}; with the code table restricted to frequencies "
          f"{out['key_frequencies']}: {out['holdout_acc_key_frequencies_only']:.4f}")
    if "routing" in out:
        for step, use in enumerate(out["routing"]["usage"]):
            print(f"router step {step + 1}: share of pairs per block " + ", ".join(f"{u:.0%}" for u in use))
        if "mean_halt_step" in out["routing"]:
            print(f"router halts at step {out['routing']['mean_halt_step']:.2f} on average")
        print(f"routing picture: {out['routing']['picture']}")
    print(f"picture: {png}")
    return 0
