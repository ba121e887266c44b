"""The literature's mechanisms, each against a slow, obvious oracle written here: the
Grokfast-MA filter, the perpendicular gradient, the norm constraint, StableMax, and the
forward-forward goodness, loss and prediction."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import genome
from brains.forward_forward import ForwardForward, kwta
from brains.gene import BrainGene
from brains.models import build_model
from brains.optim import grokfast_ma, hold_norm_, orthogonalize_grads, weight_norm
from brains.loop import TrainData
from brains.losses import loss_function, stablemax_cross_entropy
from brains.train import train


def _model_with_grad(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = nn.Linear(3, 2)
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    return model


def test_grokfast_ma_matches_window_mean():
    """From the window's filling step on, grad + lamb * (mean of the last `size` raw grads)."""
    torch.manual_seed(0)
    model = nn.Linear(2, 1, bias=False)
    raw = [torch.randn(1, 2) for _ in range(7)]
    state, size, lamb = None, 3, 5.0
    for t, g in enumerate(raw):
        model.weight.grad = g.clone()
        state = grokfast_ma(model, state, size, lamb)
        window = raw[max(0, t - size + 1):t + 1]
        expected = g + lamb * sum(window) / size if len(window) == size else g
        assert torch.allclose(model.weight.grad, expected, atol=1e-6), t


def test_orthogonal_gradient_against_scalar_oracle():
    model = _model_with_grad(1)
    before = {n: (p.detach().clone(), p.grad.clone()) for n, p in model.named_parameters()}
    orthogonalize_grads(model)
    for name, param in model.named_parameters():
        w, g = (t.reshape(-1).tolist() for t in before[name])
        dot = sum(a * b for a, b in zip(w, g)) / sum(a * a for a in w)
        perp = [b - dot * a for a, b in zip(w, g)]
        scale = math.sqrt(sum(b * b for b in g)) / math.sqrt(sum(c * c for c in perp))
        expected = torch.tensor([c * scale for c in perp]).view_as(param)
        assert torch.allclose(param.grad, expected, atol=1e-5)
        assert abs(float((param.detach() * param.grad).sum())) < 1e-5   # orthogonal to w
        assert math.isclose(float(param.grad.norm()), float(before[name][1].norm()), rel_tol=1e-5)


def test_norm_constraint_restores_total_norm():
    model = _model_with_grad(2)
    norm0 = weight_norm(model)
    expected = math.sqrt(sum(float((p.detach() ** 2).sum()) for p in model.parameters()))
    assert math.isclose(float(norm0), expected, rel_tol=1e-6)
    torch.optim.SGD(model.parameters(), lr=0.5).step()
    assert not math.isclose(float(weight_norm(model)), expected, rel_tol=1e-3)
    direction = [p.detach().clone() / float(weight_norm(model)) for p in model.parameters()]
    hold_norm_(model, norm0)
    assert math.isclose(float(weight_norm(model)), expected, rel_tol=1e-5)
    for p, d in zip(model.parameters(), direction):   # only the length changes
        assert torch.allclose(p / expected, d, atol=1e-6)


def test_stablemax_against_python_oracle():
    torch.manual_seed(3)
    out, y = torch.randn(5, 4) * 3, torch.tensor([0, 1, 2, 3, 1])

    def s(x: float) -> float:
        return x + 1 if x >= 0 else 1 / (1 - x)
    losses = [-math.log(s(row[t]) / sum(s(v) for v in row)) for row, t in zip(out.tolist(), y.tolist())]
    assert math.isclose(float(stablemax_cross_entropy(out, y)), sum(losses) / len(losses), rel_tol=1e-6)
    gene = BrainGene(stablemax=True)
    assert loss_function(gene, 4) is stablemax_cross_entropy
    assert loss_function(BrainGene(), 4) is F.cross_entropy


def test_stablemax_does_not_collapse_where_softmax_does():
    """Large float32 logits: softmax gives a loss of exactly 0 (no gradient), StableMax not."""
    out, y = torch.tensor([[120.0, 0.0, -3.0]]), torch.tensor([0])
    assert float(F.cross_entropy(out, y)) == 0.0
    assert float(stablemax_cross_entropy(out, y)) > 0.0


def _ff_oracle(model: ForwardForward, x: np.ndarray, label: int) -> list[np.ndarray]:
    """Layer outputs of one example with one candidate label, in numpy, unit by unit."""
    h = np.concatenate([x, np.eye(model.n_out)[label]])
    outs = []
    for layer, k in zip(model.layers, model.keep):
        h = h / (np.sqrt((h * h).sum()) + 1e-8)
        z = np.maximum(layer.weight.detach().numpy().astype(np.float64) @ h
                       + layer.bias.detach().numpy(), 0.0)
        kth = sorted(z, reverse=True)[k - 1]
        h = np.where(z >= kth, z, 0.0)
        outs.append(h)
    return outs


def test_forward_forward_goodness_and_prediction_against_oracle():
    gene = BrainGene(family="ff", hidden=(16, 12), ff_k=0.25, activation="relu")
    torch.manual_seed(4)
    model = build_model(gene, 6, 5)
    assert model.keep == [4, 3]
    x = torch.randn(3, 6)
    scores = model(x)
    for i in range(3):
        for c in range(5):
            layers = _ff_oracle(model, x[i].numpy().astype(np.float64), c)
            expected = (layers[1] ** 2).mean()      # all layers but the first
            assert math.isclose(float(scores[i, c]), expected, rel_tol=1e-4, abs_tol=1e-7)
            assert sum(v > 0 for v in layers[0]) <= 4


def test_forward_forward_local_loss_against_oracle():
    gene = BrainGene(family="ff", hidden=(8,), ff_k=0.5, ff_theta=0.3)
    torch.manual_seed(5)
    model = build_model(gene, 4, 3)
    x, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    loss = model.local_loss(x, y, torch.Generator().manual_seed(9))
    shift = torch.randint(1, 3, y.shape, generator=torch.Generator().manual_seed(9))
    wrong = ((y + shift) % 3).tolist()
    assert all(w != t for w, t in zip(wrong, y.tolist()))

    def softplus(v: float) -> float:
        return math.log1p(math.exp(v))
    pos = [(_ff_oracle(model, x[i].numpy(), int(y[i]))[0] ** 2).mean() for i in range(6)]
    neg = [(_ff_oracle(model, x[i].numpy(), wrong[i])[0] ** 2).mean() for i in range(6)]
    expected = sum(softplus(0.3 - g) for g in pos) / 6 + sum(softplus(g - 0.3) for g in neg) / 6
    assert math.isclose(float(loss), expected, rel_tol=1e-5)


def test_forward_forward_gradients_stay_inside_each_layer():
    """Layer 2's loss must not move layer 1: the local objective, not backpropagation."""
    gene = BrainGene(family="ff", hidden=(8, 8))
    torch.manual_seed(6)
    model = build_model(gene, 4, 3)
    x, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])
    h = model.layer(0, model.with_label(x, y))
    g2 = ((model.layer(1, h.detach()) ** 2).mean(-1)).sum()
    g2.backward()
    assert model.layers[0].weight.grad is None and model.layers[1].weight.grad is not None


def test_kwta_keeps_top_k():
    h = torch.tensor([[0.125, 0.5, 0.25, 0.75], [4.0, 1.0, 2.0, 3.0]])
    assert kwta(h, 2).tolist() == [[0.0, 0.5, 0.0, 0.75], [4.0, 0.0, 0.0, 3.0]]


@pytest.mark.parametrize("changes", [
    {"grokfast_lambda": 5.0, "grokfast_filter": "ma", "grokfast_window": 4},
    {"orthograd": True, "weight_decay": 0.0},
    {"norm_constraint": True, "weight_decay": 0.0, "init_scale": 0.8},
    {"stablemax": True},
    {"family": "ff"},
])
def test_each_mechanism_trains_and_is_reproducible(changes):
    gene = BrainGene(hidden=(32,), lr=1e-2, warmup=0, **changes)
    torch.manual_seed(0)
    x, y = torch.randn(64, 10), torch.randint(0, 5, (64,))
    data = TrainData(x[:48], y[:48], x[48:], y[48:], n_classes=5)

    def run():
        torch.manual_seed(1)
        model = build_model(gene, 10, 5)
        result = train(model, data, gene, seed=0, budget=30, eval_every=10)
        return result, [p.detach().clone() for p in model.parameters()]
    (r1, w1), (r2, w2) = run(), run()
    assert r1.steps_run == 30 and not r1.diverged and len(r1.curve) == 3
    assert r1.curve == r2.curve and all(torch.equal(a, b) for a, b in zip(w1, w2))
    if changes.get("norm_constraint"):
        torch.manual_seed(1)
        fresh = build_model(gene, 10, 5)
        assert math.isclose(float(weight_norm(fresh)),
                            math.sqrt(sum(float((w * w).sum()) for w in w1)), rel_tol=1e-4)


def test_inactive_fields_follow_chained_conditions():
    off = BrainGene(grokfast_lambda=0.0, grokfast_filter="ma", grokfast_window=7)
    assert not {"grokfast_filter", "grokfast_window", "grokfast_alpha"} & set(genome.active(off))
    ma = BrainGene(grokfast_lambda=5.0, grokfast_filter="ma")
    assert "grokfast_window" in genome.active(ma) and "grokfast_alpha" not in genome.active(ma)
    ff = BrainGene(family="ff", stablemax=True)
    assert "loss" not in genome.active(ff) and "stablemax" not in genome.active(ff)
