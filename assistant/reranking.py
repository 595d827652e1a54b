"""Optional second stage: a cross-encoder re-scores the top candidates of the fused search.

Off by default: no cross-encoder ships its weights on PyPI, and the default pipeline must run
without a model hub. Where one is reachable, `ASSISTANT_RERANKER=st:<cross-encoder id or path>`
(e.g. `st:BAAI/bge-reranker-v2-m3`) turns it on, and `assistant eval --reranker` measures it.
Models load in warm_up(), never at import.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Reranker(Protocol):
    id: str

    def warm_up(self) -> None: ...

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """One relevance score per text, higher is better (any scale)."""
        ...


class RerankerError(RuntimeError):
    pass


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder by hub id or local path."""

    # A cross-encoder reads question and text together; longer texts are cut (characters).
    max_text_chars = 1500

    def __init__(self, model: str) -> None:
        self.model_name = model
        self.id = f"st:{model}"
        self._model = None
        # One prediction at a time: torch modules are not documented as safe to share.
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._model is None:
                self._model = self._load()

    def _load(self):
        from sentence_transformers import CrossEncoder

        from assistant.embedding import SentenceTransformerEmbedder

        try:
            return CrossEncoder(SentenceTransformerEmbedder.resolve(self.model_name), device="cpu")
        except Exception as exc:
            raise RerankerError(f"cannot load cross-encoder {self.model_name!r}: {exc}") from exc

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, dtype=np.float32)
        self.warm_up()
        pairs = [(question, text[: self.max_text_chars]) for text in texts]
        with self._lock:
            scores = self._model.predict(pairs, batch_size=len(pairs), show_progress_bar=False)
        return np.asarray(scores, dtype=np.float32).reshape(len(texts), -1)[:, -1]


class FakeReranker:
    """How many of the question's terms the text shares: model-free, for unit tests."""

    id = "fake"

    def warm_up(self) -> None:
        pass

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        from assistant.lexical import tokenize

        wanted = set(tokenize(question))
        return np.array([len(wanted & set(tokenize(text))) for text in texts], dtype=np.float32)


def make_reranker(spec: str | None) -> Reranker | None:
    """Build (not load) the reranker named by a settings value; None or "" means no second stage."""
    if not spec:
        return None
    if spec.startswith("st:") and len(spec) > 3:
        return CrossEncoderReranker(spec[3:])
    if spec == FakeReranker.id:
        return FakeReranker()
    raise RerankerError(f"unknown reranker {spec!r}: use st:<cross-encoder id or path>, or fake")
