"""The e5-small transformer layers in torch, initialised from `nlp_models.e5_base`, for fine-tuning and export.

The module takes word embeddings (not ids): e5's 250k-row embedding table stays frozen and outside the
exported graph, so the shipped ONNX file holds only the layers that were trained.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from nlp_models.e5_base import E5Base

__all__ = ["EncoderClassifier"]


class _Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, ffn: int, eps: float):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.ao = (nn.Linear(hidden, hidden) for _ in range(4))
        self.aln = nn.LayerNorm(hidden, eps=eps)
        self.fi, self.fo = nn.Linear(hidden, ffn), nn.Linear(ffn, hidden)
        self.oln = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, h = x.shape
        split = lambda y: y.view(b, t, self.heads, h // self.heads).transpose(1, 2)  # noqa: E731
        ctx = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)), attn_mask=bias)
        x = self.aln(x + self.ao(ctx.transpose(1, 2).reshape(b, t, h)))
        return self.oln(x + self.fo(F.gelu(self.fi(x))))


class EncoderClassifier(nn.Module):
    """The first `layers` of e5-small, mean pooling, and a linear head over `classes` labels."""

    def __init__(self, base: E5Base, layers: int, classes: int):
        super().__init__()
        h = base.hidden
        self.pos = nn.Parameter(torch.from_numpy(base.position_embeddings()))
        self.token_type = nn.Parameter(torch.from_numpy(base.vector("emb.type")[:h]))
        self.eln = nn.LayerNorm(h, eps=base.eps)
        self.eln.weight.data = torch.from_numpy(base.vector("emb.ln.w"))
        self.eln.bias.data = torch.from_numpy(base.vector("emb.ln.b"))
        self.layers = nn.ModuleList(_Layer(h, base.heads, base.ffn, base.eps) for _ in range(layers))
        for i, layer in enumerate(self.layers):
            for name in ("q", "k", "v", "ao", "fi", "fo"):
                lin = getattr(layer, name)
                lin.weight.data = torch.from_numpy(base.matrix(f"l{i}.{name}.w"))
                lin.bias.data = torch.from_numpy(base.vector(f"l{i}.{name}.b"))
            for name in ("aln", "oln"):
                ln = getattr(layer, name)
                ln.weight.data = torch.from_numpy(base.vector(f"l{i}.{name}.w"))
                ln.bias.data = torch.from_numpy(base.vector(f"l{i}.{name}.b"))
        self.head = nn.Linear(h, classes)

    def pooled(self, embeds: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean of the last layer over real tokens: (batch, hidden)."""
        t = embeds.shape[1]
        x = self.eln(embeds + self.pos[:t] + self.token_type)
        bias = ((1.0 - mask[:, None, None, :]) * -1e4).to(x.dtype)
        for layer in self.layers:
            x = layer(x, bias)
        m = mask[..., None].to(x.dtype)
        return (x * m).sum(1) / m.sum(1).clamp(min=1.0)

    def forward(self, embeds: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Class probabilities (batch, classes) and the pooled encoding (batch, hidden) other heads reuse."""
        pooled = self.pooled(embeds, mask)
        return torch.softmax(self.head(pooled), dim=-1), pooled
