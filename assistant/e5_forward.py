"""e5_engine's tensor work (the transformer stack and the pooling of windows) as TorchScript.

Why: run eagerly, one batch is about 300 calls into torch, and each call lets go of the GIL and
has to take it back. While request threads run Python beside the model thread (a server under
load), every take-back can wait up to the interpreter's switch interval, so a batch took many
times its CPU time and the model thread, which every question waits for, stalled
(docs/benchmarks.md, "Stop 15: before and after"). Scripted, each function runs in C++ on the
calling thread with the GIL let go once.

The same aten operators in the same order, run by the interpreter with the graph optimiser off
(no fusion, no rewriting): the vectors are bit-identical to the eager code's
(tests/integration/test_e5_forward.py). Imported by E5Model only, which has already loaded torch.
"""

import warnings
from typing import List, Optional

import torch


def _encode(
    x: torch.Tensor,
    positions: torch.Tensor,
    token_type: torch.Tensor,
    embedding_norm: List[torch.Tensor],
    layers: List[List[torch.Tensor]],
    keep: torch.Tensor,
    attend: Optional[torch.Tensor],
    heads: int,
    eps: float,
    dtype: torch.dtype,
    rows: int,
) -> torch.Tensor:
    batch, length, hidden = x.size(0), x.size(1), x.size(2)
    head_size = hidden // heads
    x = x + positions[:length] + token_type
    x = torch.nn.functional.layer_norm(x, [hidden], embedding_norm[0], embedding_norm[1], eps=eps).to(dtype)
    for w in layers:  # qkv, ao, aln, fi, fo, oln: (weight, bias) each
        qkv = torch.nn.functional.linear(x, w[0], w[1]).chunk(3, dim=-1)
        q = qkv[0].view(batch, length, heads, head_size).transpose(1, 2)
        k = qkv[1].view(batch, length, heads, head_size).transpose(1, 2)
        v = qkv[2].view(batch, length, heads, head_size).transpose(1, 2)
        context = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=attend)
        context = context.transpose(1, 2).reshape(batch, length, hidden)
        x = torch.nn.functional.layer_norm(x + torch.nn.functional.linear(context, w[2], w[3]), [hidden], w[4], w[5],
                                           eps=eps)
        middle = torch.nn.functional.gelu(torch.nn.functional.linear(x, w[6], w[7]))
        x = torch.nn.functional.layer_norm(x + torch.nn.functional.linear(middle, w[8], w[9]), [hidden], w[10], w[11],
                                           eps=eps)
    x = x.float() * keep[..., None]
    return (x.sum(dim=1) / keep.sum(dim=1, keepdim=True))[:rows]


def _pool(sums: torch.Tensor, weights: torch.Tensor, pooled: torch.Tensor, rows: List[int],
          counts: List[float]) -> None:
    for i in range(len(rows)):
        sums[rows[i]] += counts[i] * pooled[i]
        weights[rows[i]] += counts[i]


with warnings.catch_warnings():
    # TorchScript is deprecated for torch.compile, which needs a C++ compiler at run time. torch is
    # pinned (pyproject.toml), and the bit-identity test would catch a release that changes it.
    warnings.simplefilter("ignore", DeprecationWarning)
    _encode = torch.jit.script(_encode)
    _pool = torch.jit.script(_pool)


def encode(*args) -> torch.Tensor:
    """_encode's arguments; the pooled vectors of the first ``rows`` rows."""
    # The optimiser flag is per thread: set for this call on whichever thread runs the model.
    with torch.jit.optimized_execution(False):
        return _encode(*args)


def pool(sums: torch.Tensor, weights: torch.Tensor, pooled: torch.Tensor, rows: List[int], counts: List[float]) -> None:
    """sums[rows[i]] += counts[i] * pooled[i] and weights[rows[i]] += counts[i], in order."""
    with torch.jit.optimized_execution(False):
        _pool(sums, weights, pooled, rows, counts)
