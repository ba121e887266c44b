"""Brain genes, models, FLOP counting and the Grokfast filter, each against an oracle."""
import json
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from brains.flops import step_flops
from brains.gene import BrainGene
from brains.models import Block, build_model, count_params
from brains.optim import grokfast_ema
from brains.losses import loss_function
from genome import GeneError
from strategies import gene_dicts


@st.composite
def brain_genes(draw):
    data = draw(gene_dicts(BrainGene))
    data["n_heads"] = draw(st.sampled_from([h for h in range(1, 9) if data["d_model"] % h == 0]))
    if data["family"] == "ff" and not data["hidden"]:
        data["hidden"] = [draw(st.integers(1, 1024))]
    if data["family"] != "mlp":  # only MLPs stack curriculum layers
        data["curriculum"] = []
    return BrainGene.from_dict(data)


@settings(max_examples=200, deadline=None)
@given(brain_genes())
def test_brain_gene_json_round_trip(gene):
    back = BrainGene.from_dict(json.loads(json.dumps(gene.to_dict())))
    assert back == gene and hash(back) == hash(gene)


@pytest.mark.parametrize("data, field", [
    ({"family": "rnn"}, "family"), ({"hidden": [16] * 7}, "hidden"), ({"hidden": [0]}, "hidden"),
    ({"lr": 0.0}, "lr"), ({"lr": "fast"}, "lr"), ({"activation": "tanh"}, "activation"),
    ({"batch_size": -1}, "batch_size"), ({"bias": 1}, "bias"), ({"loss": "hinge"}, "loss"),
    ({"family": "transformer", "d_model": 30, "n_heads": 4}, "n_heads"), ({"depth": 3}, "depth"),
    ({"weight_decay": float("nan")}, "weight_decay"),
    ({"family": "ff", "hidden": []}, "hidden"), ({"grokfast_filter": "median"}, "grokfast_filter"),
    ({"grokfast_window": 1}, "grokfast_window"), ({"ff_k": 0.0}, "ff_k"), ({"orthograd": "yes"}, "orthograd"),
])
def test_invalid_brain_gene_names_field(data, field):
    with pytest.raises(GeneError, match=rf"BrainGene\.{field}"):
        BrainGene.from_dict(data)


@pytest.mark.parametrize("hidden", [(), (8,), (8, 16, 4)])
def test_mlp_shape_and_params(hidden):
    model = build_model(BrainGene(hidden=hidden), 10, 7)
    assert model(torch.zeros(5, 10)).shape == (5, 7)
    widths = [10, *hidden, 7]
    assert count_params(model) == sum(a * b + b for a, b in zip(widths, widths[1:]))


@pytest.mark.parametrize("layer_norm", [True, False])
def test_transformer_reads_the_answer_at_equals(layer_norm):
    gene = BrainGene(family="transformer", n_layers=2, d_model=16, n_heads=4, d_mlp=32, layer_norm=layer_norm)
    torch.manual_seed(0)
    model = build_model(gene, 11, 11)
    codes = torch.randn(6, 2, 11)
    assert model(codes).shape == (6, 11)
    # Causal: the first operand's position never sees the second operand, so changing the
    # second operand must change the output (read at `=`, which sees both).
    other = codes.clone()
    other[:, 1] += 1.0
    assert not torch.allclose(model(codes), model(other))


def test_attention_is_causal():
    torch.manual_seed(0)
    block = Block(BrainGene(family="transformer", d_model=16, n_heads=4, d_mlp=32))
    x = torch.randn(2, 3, 16)
    later = x.clone()
    later[:, 1:] += 1.0
    assert torch.allclose(block(x)[:, 0], block(later)[:, 0])      # position 0 sees only itself
    assert not torch.allclose(block(x)[:, 2], block(later)[:, 2])


def block_oracle(block, x: torch.Tensor) -> torch.Tensor:
    """The Block written out by hand, as it computed attention before it called
    scaled_dot_product_attention: scores over sqrt(head width), future masked to -inf."""
    n, t, d = x.shape
    q, k, v = block.qkv(block.ln1(x)).view(n, t, 3, block.heads, d // block.heads).permute(2, 0, 3, 1, 4)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(d // block.heads)
    mask = torch.ones(t, t, dtype=torch.bool).triu(1)
    att = scores.masked_fill(mask, float("-inf")).softmax(-1)
    x = x + block.proj((att @ v).transpose(1, 2).reshape(n, t, d))
    return x + block.mlp(block.ln2(x))


@pytest.mark.parametrize("d_model, n_heads, layer_norm, bias, t", [
    (16, 4, True, True, 3), (32, 1, False, False, 3), (24, 8, True, False, 7), (8, 2, False, True, 1)])
def test_block_attention_matches_hand_written_oracle(d_model, n_heads, layer_norm, bias, t):
    torch.manual_seed(d_model + n_heads + t)
    block = Block(BrainGene(family="transformer", d_model=d_model, n_heads=n_heads, d_mlp=2 * d_model,
                            layer_norm=layer_norm, bias=bias, activation="gelu"))
    with torch.no_grad():  # random weights of unit-variance outputs, layer norms and biases included
        for param in block.parameters():
            param.copy_(torch.randn_like(param) / math.sqrt(param.shape[-1] if param.dim() > 1 else 4))
    x = torch.randn(5, t, d_model)
    with torch.no_grad():
        assert torch.allclose(block(x), block_oracle(block, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n_layers, n_heads", [(1, 4), (2, 2)])
def test_attention_flops_are_the_written_out_computations(monkeypatch, n_layers, n_heads):
    """Whatever kernel scaled_dot_product_attention runs on (on CPU torch counts none of
    it), a step costs what the hand-written attention's products cost."""
    gene = BrainGene(family="transformer", n_layers=n_layers, d_model=16, n_heads=n_heads, d_mlp=32)
    torch.manual_seed(0)
    model = build_model(gene, 11, 11)
    codes, y = torch.randn(20, 2, 11), torch.randint(0, 11, (20,))
    fused = step_flops(model, codes, y, loss_function(gene, 11))
    monkeypatch.setattr(Block, "forward", block_oracle)
    assert fused == step_flops(model, codes, y, loss_function(gene, 11))


def test_init_scale_multiplies_weights():
    torch.manual_seed(0)
    base = build_model(BrainGene(hidden=(8,)), 4, 3)
    torch.manual_seed(0)
    scaled = build_model(BrainGene(hidden=(8,), init_scale=0.5), 4, 3)
    for a, b in zip(base.parameters(), scaled.parameters()):
        assert torch.allclose(a * 0.5, b)


def test_step_flops_match_hand_count():
    n, d, h, p = 32, 10, 16, 7
    model = build_model(BrainGene(hidden=(h,), bias=False), d, p)
    x, y = torch.randn(n, d), torch.randint(0, p, (n,))
    # forward: 2n(dh + hp); backward: weight grads of both layers and the hidden grad,
    # no input grad: 2n(dh + 2hp).
    assert step_flops(model, x, y, loss_function(BrainGene(), p)) == 2 * n * (2 * d * h + 3 * h * p)
    assert all(param.grad is None for param in model.parameters())


def test_grokfast_ema_matches_recurrence():
    model = torch.nn.Linear(3, 2, bias=False)
    grads = [torch.randn(2, 3) for _ in range(4)]
    alpha, lamb, ema, state = 0.9, 2.0, None, None
    for g in grads:
        model.weight.grad = g.clone()
        state = grokfast_ema(model, state, alpha, lamb)
        ema = g.clone() if ema is None else alpha * ema + (1 - alpha) * g
        assert torch.allclose(model.weight.grad, g + lamb * ema)


def test_mse_loss_is_against_one_hot_targets():
    out = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.5, 0.0]])
    y = torch.tensor([0, 1])
    assert loss_function(BrainGene(loss="mse"), 3)(out, y).item() == pytest.approx(0.25 / 6)


def test_step_flops_are_counted_once_per_shape_and_equal_a_fresh_count():
    """The per-process cache gives what counting gives, for every family, and tells apart
    what changes the count: widths, batch rows, a frozen layer."""
    import torch

    from brains import flops
    from brains.losses import loss_function
    from brains.models import build_model
    from brains.stacked import Stacked

    torch.manual_seed(0)
    x, y = torch.randn(32, 22), torch.randint(0, 11, (32,))
    genes = [BrainGene(hidden=(16,)), BrainGene(hidden=(24, 8), activation="quadratic", loss="mse"),
             BrainGene(family="ff", hidden=(16,))]
    for gene in genes:
        model = build_model(gene, 22, 11)
        loss = loss_function(gene, 11)
        counted = flops.count_step_flops(model, x, y, loss)
        assert flops.step_flops(model, x, y, loss) == counted == flops.step_flops(model, x, y, loss)
        assert flops.step_flops(model, x[:16], y[:16], loss) == flops.count_step_flops(model, x[:16], y[:16], loss)
    base = build_model(genes[0], 22, 11)
    loss = loss_function(genes[0], 11)
    free = Stacked(build_model(genes[0], 22, 11), 22, 11, (8,), "relu", True, freeze=False, read="scores")
    frozen = Stacked(base, 22, 11, (8,), "relu", True, freeze=True, read="scores")
    assert flops.step_flops(frozen, x, y, loss) == flops.count_step_flops(frozen, x, y, loss)
    assert flops.step_flops(free, x, y, loss) == flops.count_step_flops(free, x, y, loss)
    assert flops.step_flops(frozen, x, y, loss) < flops.step_flops(free, x, y, loss)
