"""e5_engine's forward pass as it ran before assistant/e5_forward.py: every torch operator called
from Python. The reference the scripted pass is checked against bit for bit
(tests/integration/test_e5_forward.py) and timed against (scripts/bench_model_gil.py)."""

from __future__ import annotations

import numpy as np


def eager_forward(model, sequences):
    """e5_engine.E5Model._forward as it was before e5_forward: every operator called from Python."""
    import torch

    from assistant.e5_engine import bucket, dequantise_q4

    h = model.header
    functional = torch.nn.functional

    def norm(x, weight_and_bias):
        return functional.layer_norm(x, (h.hidden,), *weight_and_bias, eps=h.eps)

    batch, length = bucket(len(sequences)), bucket(max(map(len, sequences)))
    ids = np.zeros((batch, length), dtype=np.int64)
    mask = np.zeros((batch, length), dtype=bool)
    for row, sequence in enumerate(sequences + [[model._bos, model._eos]] * (batch - len(sequences))):
        ids[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = True
    keep = torch.from_numpy(mask)
    names = ("qkv", "ao", "aln", "fi", "fo", "oln")
    with torch.inference_mode():
        x = torch.from_numpy(dequantise_q4(model._words[ids]))
        x = x + model._positions[:length] + model._token_type
        x = norm(x, model._embedding_norm).to(model.dtype)
        attend = None if bool(mask.all()) else keep[:, None, None, :]
        heads, head_size = h.heads, h.hidden // h.heads
        for weights in model._layer_weights:
            layer = {name: (weights[2 * i], weights[2 * i + 1]) for i, name in enumerate(names)}
            qkv = functional.linear(x, *layer["qkv"]).chunk(3, dim=-1)
            q, k, v = (part.view(batch, length, heads, head_size).transpose(1, 2) for part in qkv)
            context = functional.scaled_dot_product_attention(q, k, v, attn_mask=attend)
            context = context.transpose(1, 2).reshape(batch, length, h.hidden)
            x = norm(x + functional.linear(context, *layer["ao"]), layer["aln"])
            middle = functional.gelu(functional.linear(x, *layer["fi"]))
            x = norm(x + functional.linear(middle, *layer["fo"]), layer["oln"])
        x = x.float() * keep[..., None]
        return (x.sum(dim=1) / keep.sum(dim=1, keepdim=True))[: len(sequences)]


def eager_encode(model, texts, is_query):
    """E5Model.encode with the eager forward pass and the eager pooling loop (the windows and
    batches are the engine's own: what is compared is the forward pass and the pooling)."""
    import torch

    torch.set_num_threads(1 if is_query and len(texts) > 1 else model.threads)
    sums = torch.zeros((len(texts), model.header.hidden), dtype=torch.float32)
    weights = torch.zeros(len(texts), dtype=torch.float32)
    for batch in model.window_batches(texts, is_query):
        pooled = eager_forward(model, [[model._bos, *ids, model._eos] for _, ids in batch])
        for (row, ids), vector in zip(batch, pooled):
            weight = float(max(len(ids), 1))
            sums[row] += weight * vector
            weights[row] += weight
    vectors = sums / weights.clamp(min=1.0)[:, None]
    return torch.nn.functional.normalize(vectors, dim=1).numpy()
