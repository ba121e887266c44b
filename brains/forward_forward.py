"""Forward-forward learning (Hinton 2022) with k-winners-take-all layers: the alternative
to backpropagation that the forum asked about.

The label is embedded in the input (pair features followed by a one-hot of a candidate
answer). Each layer learns on its own: high goodness (mean squared activity) for the true
answer, low for a wrong one drawn at random (the negative data); no gradient crosses a
layer, because each layer reads the previous layer's output detached and length-normalised.
To predict, every candidate answer is tried and the one with the most goodness wins.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from brains.gene import BrainGene
from brains.layers import activation


PREDICT_ROWS = 65536   # (example, answer) rows per chunk when predicting


def kwta(h: torch.Tensor, k: int) -> torch.Tensor:
    """Keep each row's k largest activations, zero the rest (ties at the k-th value kept)."""
    kth = h.topk(k, dim=-1).values[..., -1:]
    return h * (h >= kth)


def goodness(h: torch.Tensor) -> torch.Tensor:
    return h.pow(2).mean(-1)


class ForwardForward(nn.Module):
    def __init__(self, in_dim: int, n_out: int, gene: BrainGene):
        super().__init__()
        widths = (in_dim + n_out,) + tuple(gene.hidden)
        self.layers = nn.ModuleList(nn.Linear(a, b, bias=gene.bias) for a, b in zip(widths, widths[1:]))
        self.act = activation(gene.activation)
        self.keep = [max(1, round(gene.ff_k * h)) for h in gene.hidden]
        self.theta = gene.ff_theta
        self.n_out = n_out

    def with_label(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, F.one_hot(labels, self.n_out).to(x.dtype)], dim=-1)

    def layer(self, i: int, h: torch.Tensor) -> torch.Tensor:
        """Layer i on the direction of its input: the previous layer's goodness (its
        length) is not passed on, so each layer must find its own features."""
        h = h / (h.norm(dim=-1, keepdim=True) + 1e-8)
        return kwta(self.act(self.layers[i](h)), self.keep[i])

    def local_loss(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Sum over layers of softplus(theta - goodness) on positive data and
        softplus(goodness - theta) on negative data; inputs detached per layer."""
        shift = torch.randint(1, self.n_out, y.shape, generator=generator).to(y.device)
        pos, neg = self.with_label(x, y), self.with_label(x, (y + shift) % self.n_out)
        loss = x.new_zeros(())
        for i in range(len(self.layers)):
            pos, neg = self.layer(i, pos.detach()), self.layer(i, neg.detach())
            loss = loss + F.softplus(self.theta - goodness(pos)).mean() \
                + F.softplus(goodness(neg) - self.theta).mean()
        return loss

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Goodness of every candidate answer [n, n_out], summed over all layers but the
        first when there are several (Hinton's rule: the first layer's goodness mostly
        measures the input). All answers go through at once, in row chunks."""
        if not len(x):
            return x.new_zeros((0, self.n_out))
        rows = max(1, PREDICT_ROWS // self.n_out)
        return torch.cat([self._scores(x[s:s + rows]) for s in range(0, len(x), rows)])

    def _scores(self, x: torch.Tensor) -> torch.Tensor:
        # The first layer sees [x, onehot(c)] / |[x, onehot(c)]|, and that length does not
        # depend on c: so its pre-activation is (W_x x + W_c[:, c]) / sqrt(|x|^2 + 1) + b,
        # one product for x plus a column per answer, instead of p products.
        n, c, first = len(x), self.n_out, self.layers[0]
        w_x, w_c = first.weight[:, :x.shape[1]], first.weight[:, x.shape[1]:]
        scale = 1.0 / (torch.sqrt((x * x).sum(-1) + 1.0) + 1e-8)
        z = ((x @ w_x.T)[:, None, :] + w_c.T[None, :, :]) * scale[:, None, None]
        if first.bias is not None:
            z = z + first.bias
        h = kwta(self.act(z), self.keep[0]).reshape(n * c, -1)
        total = goodness(h) if len(self.layers) == 1 else h.new_zeros(n * c)
        for i in range(1, len(self.layers)):
            h = self.layer(i, h)
            total = total + goodness(h)
        return total.view(n, c)
