"""The Assistant: the one object the CLI and the HTTP API both call."""

from __future__ import annotations

import threading
import time
import unicodedata
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from assistant import lexical
from assistant.abstention import Calibration, ScopeModel
from assistant.answering import AnswerConfig, compose_answer
from assistant.cache import LRUCache
from assistant.config import Settings
from assistant.documents import DocumentError, discover
from assistant.embedding import Embedder, QueryBatcher, make_embedder
from assistant.index import (
    BuildOptions,
    IndexError_,
    IndexMissing,
    IndexStale,
    LoadedIndex,
    ProgressFactory,
    build_index,
    check_fresh,
    load_index,
    prepare_files,
)
from assistant.records import Answer, Clause
from assistant.reranking import Reranker, make_reranker
from assistant.retrieval import RetrievalConfig, Retriever

# Cosine level per embedder (threshold, and shifts per question/clause language pair) below
# which a retrieved clause is not cited once the question is in scope (the scope decision
# itself is abstention.ScopeModel). Cosine scales differ a lot between models; for e5-small,
# Chinese-Chinese cosines sit high and a Chinese question against English text low.
_E5_CALIBRATION = (0.845, {("zh", "zh"): -0.065, ("zh", "en"): 0.03, ("en", "zh"): -0.03})
DEFAULT_CALIBRATIONS = {
    "e5-small": _E5_CALIBRATION,
    "e5-small-q4": _E5_CALIBRATION,  # the same model on another engine: the same cosines
    "use-multilingual": (0.30, {}),
    "fake": (0.25, {}),
}
DEFAULT_ST_CALIBRATION = (0.35, {})


class QuestionError(ValueError):
    """The question cannot be answered as given (empty, too long)."""


class NotReady(RuntimeError):
    """No index is loaded yet."""


@dataclass
class _Live:
    """The index and its retriever, swapped together as one object."""

    index: LoadedIndex
    retriever: Retriever


def clean_question(text: str, max_chars: int) -> str:
    # Control characters (other than spaces) say nothing about the question and upset tokenizers.
    cleaned = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise QuestionError("the question is empty")
    if len(cleaned) > max_chars:
        raise QuestionError(f"the question is too long ({len(cleaned)} characters; the limit is {max_chars})")
    return cleaned


class Assistant:
    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, reranker: Reranker | None = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings.embedder)
        self.reranker = reranker or make_reranker(settings.reranker)
        self._live: _Live | None = None
        self._build_lock = threading.Lock()
        # Repeated questions skip the model (query vectors) or everything (answers, keyed by the
        # index version so a rebuilt index never serves stale answers).
        self._query_cache: LRUCache[np.ndarray] = LRUCache(settings.cache_size)
        self._answer_cache: LRUCache[Answer] = LRUCache(settings.cache_size)
        self._batcher = QueryBatcher(self.embedder)
        self.last_build_errors: list[DocumentError] = []
        self._scope_model: ScopeModel | None = None

    # -- settings-derived --------------------------------------------------------------
    @property
    def calibration(self) -> Calibration:
        if self.embedder.id.startswith("st:"):
            threshold, shifts = DEFAULT_ST_CALIBRATION
        else:
            threshold, shifts = DEFAULT_CALIBRATIONS.get(self.embedder.id, (0.5, {}))
        return Calibration(threshold, dict(shifts))

    @property
    def scope_model(self) -> ScopeModel:
        if self._scope_model is None:
            self._scope_model = ScopeModel.load(self.embedder.id)
        return self._scope_model

    @property
    def min_confidence(self) -> float:
        """The setting, else the fitted fallback (the decision uses the question language's own point)."""
        if self.settings.min_confidence is not None:
            return self.settings.min_confidence
        return self.scope_model.min_confidence

    def build_options(self) -> BuildOptions:
        return BuildOptions(embedder_id=self.embedder.id, passage_chars=self.settings.passage_chars)

    def corpus_paths(self) -> list[Path]:
        return discover(self.settings.corpus_dir)

    # -- lifecycle -----------------------------------------------------------------------
    def warm_up(self) -> None:
        single_threaded_blas()
        self.embedder.warm_up()
        if self.reranker is not None:
            self.reranker.warm_up()
        lexical.warm_up()

    def open(self, *, build_if_needed: bool | None = None, progress: ProgressFactory | None = None) -> str:
        """Load the index, building it when missing or stale and allowed to. Returns what happened."""
        build_if_needed = self.settings.auto_build if build_if_needed is None else build_if_needed
        try:
            index = load_index(self.settings.index_dir)
            stale = check_fresh(index, self.corpus_paths(), self.build_options())
            if stale is None:
                self._install(index)
                return "loaded"
            if not build_if_needed:
                raise IndexStale(f"the index in {self.settings.index_dir} is stale: {stale}; run `assistant ingest`")
            if index.manifest.embedder == self.embedder.id and self._live is None:
                # Keep answering from the old version while the new one builds.
                self._install(index)
            why = f"rebuilt ({stale})"
        except IndexMissing:
            if not build_if_needed:
                raise
            why = "built (no index yet)"
        self.rebuild(progress=progress)
        return why

    def rebuild(
        self, paths: list[Path] | None = None, *, progress: ProgressFactory | None = None
    ) -> LoadedIndex:
        """Build a new index from the corpus (or the given files); serialised; swaps in on success."""
        with self._build_lock:
            corpus = prepare_files(
                paths if paths is not None else self.corpus_paths(),
                self.settings.passage_chars,
                max_bytes=self.settings.max_upload_bytes,
            )
            index = build_index(self.settings.index_dir, corpus, self.embedder, self.build_options(), progress=progress)
            self.last_build_errors = corpus.errors
            self._install(index)
            return index

    def _install(self, index: LoadedIndex) -> None:
        if index.manifest.embedder != self.embedder.id:
            raise IndexStale(
                f"the index was built with {index.manifest.embedder}, the service uses {self.embedder.id}"
            )
        config = RetrievalConfig.for_embedder(self.embedder.id)
        config.rerank_depth = self.settings.rerank_depth
        retriever = Retriever(index, self.embedder, config, self.reranker)
        retriever.profile  # noqa: B018 - built now, at load, not on the first question
        for lang in ("zh", "en"):  # the index's near-miss levels, also at load
            self.scope_model.threshold_for(lang, retriever)
        self._live = _Live(index, retriever)

    @property
    def live(self) -> _Live:
        if self._live is None:
            raise NotReady("the index is not loaded yet")
        return self._live

    @property
    def ready(self) -> bool:
        return self._live is not None

    # -- questions -------------------------------------------------------------------------
    def _query_vector(self, question: str) -> np.ndarray:
        vector = self._query_cache.get(question)
        if vector is None:
            vector = self._batcher.embed(question)
            self._query_cache.put(question, vector)
        return vector

    def ask(self, question: str, k: int | None = None, document: str | None = None, lang: str | None = None) -> Answer:
        started = time.perf_counter()
        question = clean_question(question, self.settings.max_question_chars)
        k = k or self.settings.top_k
        live = self.live
        key = (question, k, document, lang, live.index.version)
        cached = self._answer_cache.get(key)
        if cached is not None:
            return replace(cached, took_ms=_elapsed_ms(started))
        retriever = live.retriever
        analysis = retriever.analyse(question)
        vector = self._query_vector(analysis.search_text)
        result = retriever.search(
            question, k=max(k, 10), document=document, lang=lang, query_vector=vector, analysis=analysis
        )
        scope_result = result
        if document is not None or lang is not None:
            scope_result = retriever.search(question, k=10, query_vector=vector, analysis=analysis)
        decision = self.scope_model.decide(analysis, scope_result, retriever, self.settings.min_confidence)
        answer = compose_answer(
            question,
            result.hits,
            vector,
            live.index,
            AnswerConfig(calibration=self.calibration),
            k,
            scope_result.hits if scope_result is not result else None,
            decision=decision,
        )
        answer = replace(answer, confidence=round(decision.confidence, 4), uncertain=decision.uncertain)
        self._answer_cache.put(key, answer)
        return replace(answer, took_ms=_elapsed_ms(started))

    def search(
        self, query: str, k: int = 10, document: str | None = None, lang: str | None = None
    ) -> list[dict]:
        query = clean_question(query, self.settings.max_question_chars)
        retriever = self.live.retriever
        analysis = retriever.analyse(query)
        result = retriever.search(
            query, k=k, document=document, lang=lang, query_vector=self._query_vector(analysis.search_text),
            analysis=analysis,
        )
        return [
            {**asdict(hit.clause), "score": round(hit.score, 4), "dense": round(hit.dense, 4),
             "lexical": round(hit.lexical, 4), "matched_by": hit.matched_by,
             **({"rerank": round(hit.rerank, 4)} if hit.rerank is not None else {})}
            for hit in result.hits
        ]

    # -- browsing ----------------------------------------------------------------------------
    def clause(self, clause_id: str) -> Clause | None:
        return self.live.index.clause_by_id.get(clause_id)

    def documents(self) -> list[dict]:
        index = self.live.index
        counts: dict[str, int] = {}
        for clause in index.clauses:
            counts[clause.document] = counts.get(clause.document, 0) + 1
        return [{**doc, "clauses": counts.get(doc["id"], 0)} for doc in index.documents]

    def document_clauses(self, document_id: str) -> list[Clause]:
        return [c for c in self.live.index.clauses if c.document == document_id]

    def status(self) -> dict:
        if self._live is None:
            return {"ready": False}
        manifest = self._live.index.manifest
        return {
            "ready": True,
            "version": manifest.version,
            "built_at": manifest.built_at,
            "embedder": manifest.embedder,
            "counts": manifest.counts,
            "load_errors": manifest.load_errors,
        }


def _elapsed_ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000.0, 2)


def single_threaded_blas() -> None:
    """Keep numpy's (and FAISS's) OpenBLAS to one thread in this process.

    Questions already run in parallel on request threads and the model has its own threads; a
    multi-threaded product over a few thousand sentence vectors made OpenBLAS's spinning threads
    take the model's cores: HTTP p50 12 -> 44 ms on 2 cores (docs/benchmarks.md). The model's own
    OpenMP threads are not BLAS and are left alone.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


__all__ = ["Assistant", "NotReady", "QuestionError", "IndexError_", "clean_question"]
