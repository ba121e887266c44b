"""Short human-readable names of genes and pairs, for tables and logs."""
from __future__ import annotations

from typing import Any

from brains.gene import BrainGene
from encoders.gene import EncoderGene
from evo.records import Record, best_select


def encoder(gene: EncoderGene) -> str:
    f = gene.family
    if f == "fourier":
        body = f"fourier[{len(gene.freqs) or 'all'}]"
    elif f in ("scalar", "cyclic"):
        body = f"{f} d{gene.dim} w{gene.width:.2f}"
    elif f == "varcycle":
        body = f"varcycle d{gene.dim} T{gene.period_min:.3g}-{gene.period_max:.3g}"
    elif f == "random":
        body = f"random d{gene.dim}"
    else:
        body = f
    if gene.sdr:
        body += f" sdr{gene.sdr:.2f}"
    comb = f"sum_sdr{gene.combine_k:.2f}" if gene.combiner == "sum_sdr" else gene.combiner
    return f"{body} +{comb}"


def brain(gene: BrainGene) -> str:
    if gene.family == "mlp":
        body = f"mlp{list(gene.hidden)} {gene.activation}"
    elif gene.family == "router":
        body = (f"router{list(gene.router_blocks)} d{gene.router_dim} R{gene.router_steps} {gene.router_kind} "
                f"{gene.activation}" + (" halt" if gene.router_halt else "")
                + (f" bal{gene.router_balance:.2g}" if gene.router_balance else ""))
    elif gene.family == "ff":
        body = f"ff{list(gene.hidden)} {gene.activation} k{gene.ff_k:.2g} theta{gene.ff_theta:.2g}"
    else:
        body = f"tf L{gene.n_layers} d{gene.d_model} h{gene.n_heads}" + ("" if gene.layer_norm else " noLN")
    # Muon updates the weight matrices, `optimizer` the rest: both are named
    muon = "" if not gene.muon else "muon+" if gene.muon_lr_scale == 1.0 else f"muon(x{gene.muon_lr_scale:.3g})+"
    opt = f"{muon}{gene.optimizer} lr{gene.lr:.1e} wd{gene.weight_decay:.2g}"
    extra = []
    if gene.batch_size:
        extra.append(f"b{gene.batch_size}")
    if gene.grokfast_lambda:
        extra.append(f"gf{gene.grokfast_lambda:.2g}")
    extra += [name for name, on in (("orthograd", gene.orthograd), ("norm-held", gene.norm_constraint),
                                    ("egalitarian", gene.egalitarian)) if on]
    if gene.lr_schedule != "constant":
        extra.append(gene.lr_schedule)
    if gene.curriculum:  # indices into the run's pool; front.json resolves them (curriculum_ops)
        router = gene.family == "router"   # a router hands its blocks on and adds blocks; it reads nothing
        extra.append(f"curriculum#{','.join(map(str, gene.curriculum))} "
                     f"{'blocks+' if router else 'stack'}{list(gene.stack_hidden)}"
                     + (" frozen" if gene.stack_freeze else "")
                     + ("" if gene.stack_read == "answer" or router else " scores"))
    return " ".join([body, gene.loss, opt, *extra])


def figures(record: Record) -> dict[str, Any]:
    """The figures a table row shows of one record."""
    return {"steps": record.get("steps_to_threshold"), "flops": record.get("flops_to_threshold"),
            "seconds": record.get("seconds_to_threshold"), "params": record.get("params"),
            "select_acc": best_select(record),
            "diverged": record.get("diverged", False), "failed": record.get("failed", False)}
