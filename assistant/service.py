"""The Assistant: the one object the CLI and the HTTP API both call."""

from __future__ import annotations

import functools
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from assistant import lexical
from assistant.abstention import Calibration, ScopeModel
from assistant.answering import (
    AnswerConfig,
    compose_answer,
    missing_view,
    order_search_hits,
    search_view,
)
from assistant.cache import LRUCache
from assistant.config import Settings
from assistant.documents import DocumentError, discover
from assistant.editions import Editions, editions_of
from assistant.embedding import Embedder, QueryBatcher, embedder_traits, make_embedder
from assistant.index import (
    BuildOptions,
    IndexError_,
    IndexMissing,
    IndexStale,
    LoadedIndex,
    ProgressFactory,
    build_index,
    build_lock,
    check_fresh,
    load_index,
)
from assistant.build_worker import Cancelled, prepare_corpus
from assistant.ingest import DocumentCaps
from assistant.quarantine import Quarantine
from assistant.memory import release_freed_memory
from assistant.kinds import DEFAULT_KIND, KindsError, read_kinds
from assistant.lookups import missing_lookup
from assistant.parts import question_parts
from assistant.sections import is_section
from assistant.records import Answer, Clause
from assistant.reranking import Reranker, make_reranker
from assistant.retrieval import RetrievalConfig, Retriever, index_artifacts


@dataclass
class SearchResults:
    hits: list[dict]
    missing: dict | None = None  # answering.missing_view: the named clause the guidance lacks


class QuestionError(ValueError):
    """The question cannot be answered as given (empty, too long)."""


class NotReady(RuntimeError):
    """No index is loaded yet."""


# A question that arrives during a rebuild waits for the batch the model is on: 8 texts instead
# of 32 make that wait a quarter as long (docs/reliability.md, "Builds").
SERVING_EMBED_BATCH = 8


@dataclass
class BuildNeeded:
    """Why the index on disk cannot simply be served."""

    reason: str
    error: IndexError_  # raised when building is not allowed
    outcome: str  # what open() reports after building
    damaged: bool = False
    serving_stale: bool = False  # the old version is installed meanwhile


@dataclass
class _Live:
    """The index and its retriever, swapped together as one object."""

    index: LoadedIndex
    retriever: Retriever
    kinds: dict[str, str] = field(default_factory=dict)  # document id -> kind, where not guidance


def clean_question(text: str, max_chars: int) -> str:
    # Control characters (other than spaces) say nothing about the question and upset tokenizers.
    cleaned = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise QuestionError("the question is empty")
    if len(cleaned) > max_chars:
        raise QuestionError(f"the question is too long ({len(cleaned)} characters; the limit is {max_chars})")
    return cleaned


def _one_question(method):
    """Runs the method in lexical.question_scope(): a text the question's stages all tokenise
    (analysis, BM25, scope decision, answer) is tokenised once."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with lexical.question_scope():
            return method(*args, **kwargs)

    return wrapper


class Assistant:
    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, reranker: Reranker | None = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings.embedder)
        self.reranker = reranker or make_reranker(settings.reranker)
        self._live: _Live | None = None
        # Repeated questions skip the model (query vectors) or everything (answers, keyed by the
        # index version so a rebuilt index never serves stale answers).
        self._query_cache: LRUCache[np.ndarray] = LRUCache(settings.cache_size)
        self._answer_cache: LRUCache[Answer] = LRUCache(settings.cache_size)
        self._batcher = QueryBatcher(self.embedder)
        self.last_build_errors: list[DocumentError] = []
        self._scope_model: ScopeModel | None = None
        self._calibration: Calibration | None = None

    # -- settings-derived --------------------------------------------------------------
    @property
    def calibration(self) -> Calibration:
        """The citation floor of the embedder's registry entry (embedding.EMBEDDERS); the scope
        decision itself is abstention.ScopeModel."""
        # Worked out once: every answer's config carries it, and the embedder does not change.
        if self._calibration is None:
            traits = embedder_traits(self.embedder.id)
            self._calibration = Calibration(traits.threshold, dict(traits.shifts))
        return self._calibration

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
        self.embedder.warm_up()
        if self.reranker is not None:
            self.reranker.warm_up()
        lexical.warm_up()

    def open(
        self, *, build_if_needed: bool | None = None, progress: ProgressFactory | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> str:
        """Load the index, building it when missing, stale or damaged and allowed to. Returns
        what happened. ``on_wait`` hears when another builder holds the build lock."""
        build_if_needed = self.settings.auto_build if build_if_needed is None else build_if_needed
        plan = self.load_existing(serve_stale=build_if_needed)
        if plan is None:
            return "loaded"
        if not build_if_needed:
            raise plan.error
        with build_lock(self.settings.index_dir, on_wait=on_wait):
            # Whoever held the lock (a server's job, an ingest) may have just built this very
            # corpus: building it again would cost minutes for the same index.
            if self.load_existing(serve_stale=False) is None:
                return "loaded (built meanwhile by another builder)"
            self.rebuild(progress=progress)
        return plan.outcome

    def load_existing(self, *, serve_stale: bool = True) -> "BuildNeeded | None":
        """Install the index on disk when it is fresh (None); otherwise say why a build is needed.

        A stale index built with this embedder is installed meanwhile (``serve_stale``) so that
        questions keep being answered during the rebuild, unless files it contains have left
        the corpus: removed documents are not served again. A damaged one is never installed.
        """
        # Every way of serving passes through here (open() for the CLI, eval and the scripts,
        # which never warm up; the server's start-up): with OpenBLAS's threads spinning beside
        # the model's a question took several times as long (docs/benchmarks.md, "Speed: stop 12").
        single_threaded_blas()
        try:
            index = load_index(self.settings.index_dir)
        except IndexMissing as exc:
            return BuildNeeded("no index yet", exc, "built (no index yet)")
        except IndexError_ as exc:  # damaged, or an unreadable format
            return BuildNeeded(f"the index is damaged: {exc}", exc, f"rebuilt (the index was damaged: {exc})",
                               damaged=True)
        paths = self.corpus_paths()
        stale = check_fresh(index, paths, self.build_options())
        if stale is None:
            self._install(index)
            return None
        error = IndexStale(f"the index in {self.settings.index_dir} is stale: {stale}; run `assistant ingest`")
        serving = False
        if serve_stale and index.manifest.embedder == self.embedder.id and self._live is None:
            removed = sorted({d.get("source") for d in index.documents} - {p.name for p in paths} - {None})
            if removed:
                stale += f"; the old index is not served meanwhile (files removed: {', '.join(removed)})"
            else:
                self._install(index)
                serving = True
        return BuildNeeded(stale, error, f"rebuilt ({stale})", serving_stale=serving)

    def rebuild(
        self, paths: list[Path] | None = None, *, progress: ProgressFactory | None = None,
        on_wait: Callable[[str], None] | None = None, cancel: threading.Event | None = None,
        serving: bool = False,
    ) -> LoadedIndex:
        """Build a new index from the corpus (or the given files) under the index folder's build
        lock (``on_wait`` hears when another builder holds it); swaps in on success. Documents
        are read in the build worker with the per-document caps; setting ``cancel`` stops the
        build (build_worker.Cancelled) and leaves the live index as it was. ``serving``: questions
        are being answered meanwhile, so the model is taken in smaller batches."""
        with build_lock(self.settings.index_dir, on_wait=on_wait):
            corpus = prepare_corpus(
                paths if paths is not None else self.corpus_paths(),
                self.settings.passage_chars,
                max_bytes=self.settings.max_upload_bytes,
                caps=DocumentCaps.from_settings(self.settings),
                quarantine=Quarantine(self.settings.index_dir),
                cancel=cancel,
            )
            index = build_index(self.settings.index_dir, corpus, self.embedder, self.build_options(),
                                progress=_build_ticks(progress, cancel),
                                embed_batch=SERVING_EMBED_BATCH if serving else 32,
                                extra_files=index_artifacts(self.embedder))
            self.last_build_errors = corpus.errors
            self._install(index)
        del corpus  # the build's documents and passages, before the trim
        release_freed_memory()  # a build's peak would otherwise stay as RSS (docs/reliability.md)
        return index

    def _install(self, index: LoadedIndex) -> None:
        if index.manifest.embedder != self.embedder.id:
            raise IndexStale(
                f"the index was built with {index.manifest.embedder}, the service uses {self.embedder.id}"
            )
        config = RetrievalConfig.from_settings(self.settings, self.embedder.id)
        retriever = Retriever(index, self.embedder, config, self.reranker)
        retriever.profile  # noqa: B018 - built now, at load, not on the first question
        for lang in ("zh", "en"):  # the index's near-miss levels, also at load
            self.scope_model.threshold_for(lang, retriever)
        self._live = _Live(index, retriever, self._read_kinds())

    def _read_kinds(self) -> dict[str, str]:
        """Document kinds from the corpus folder's documents.toml, read when an index is installed."""
        try:
            return read_kinds(self.settings.corpus_dir)
        except KindsError as exc:
            # A broken sidecar must not take the service down; everything stays guidance, said loudly.
            import logging

            logging.getLogger(__name__).error("%s; every document is treated as guidance", exc)
            return {}

    def answer_config(self, include_background: bool = False) -> AnswerConfig:
        return AnswerConfig(
            calibration=self.calibration,
            kinds=self.live.kinds,
            include_background=include_background,
            contact=self.settings.refusal_contact,
        )

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

    def clear_caches(self) -> None:
        """Forget every cached query vector and answer (benchmarks measure cold questions so)."""
        self._query_cache.clear()
        self._answer_cache.clear()

    @_one_question
    def ask(
        self,
        question: str,
        k: int | None = None,
        document: str | None = None,
        lang: str | None = None,
        include_background: bool = False,
    ) -> Answer:
        started = time.perf_counter()
        question = clean_question(question, self.settings.max_question_chars)
        k = k or self.settings.top_k
        live = self.live
        key = (question, k, document, lang, include_background, live.index.version)
        cached = self._answer_cache.get(key)
        if cached is not None:
            return replace(cached, took_ms=_elapsed_ms(started), timings_ms={"answer_cache": _elapsed_ms(started)})
        timings: dict[str, float] = {}
        retriever = live.retriever
        mark = time.perf_counter()
        analysis = retriever.analyse(question)
        timings["analyse"] = _elapsed_ms(mark)
        mark = time.perf_counter()
        vector = self._query_vector(analysis.search_text)
        timings["embed"] = _elapsed_ms(mark)
        result = retriever.search(
            question, k=max(k, 10), document=document, lang=lang, query_vector=vector, analysis=analysis
        )
        _add_timings(timings, result.timings_ms)
        scope_result = result
        if document is not None or lang is not None:
            # Ranked across every edition; compose_answer maps these to the filter's edition.
            scope_result = retriever.search(question, k=max(k, 10) * 2, query_vector=vector, analysis=analysis)
            _add_timings(timings, scope_result.timings_ms)
        mark = time.perf_counter()
        decision = self.scope_model.decide(analysis, scope_result, retriever, self.settings.min_confidence)
        timings["scope"] = _elapsed_ms(mark)
        part_vectors = None
        if not decision.abstain and (parts := question_parts(question, live.index)):
            # A question asking two things: each part's own vector finds its best clause.
            mark = time.perf_counter()
            part_vectors = [self._query_vector(retriever.analyse(part).search_text) for part in parts]
            timings["embed_parts"] = _elapsed_ms(mark)
        mark = time.perf_counter()
        answer = compose_answer(
            question,
            result.cited,
            vector,
            live.index,
            self.answer_config(include_background),
            k,
            scope_result.cited if scope_result is not result else None,
            document=document,
            lang=lang,
            decision=decision,
            analysis=analysis,
            part_vectors=part_vectors,
        )
        timings["compose"] = _elapsed_ms(mark)
        # A refusal made in composition (a clause number the guidance lacks) is never 'uncertain'.
        answer = replace(answer, confidence=round(decision.confidence, 4),
                         uncertain=decision.uncertain and not answer.abstained)
        self._answer_cache.put(key, answer)
        return replace(answer, took_ms=_elapsed_ms(started), timings_ms=timings)

    def search(
        self, query: str, k: int = 10, document: str | None = None, lang: str | None = None
    ) -> list[dict]:
        return self.search_results(query, k, document, lang).hits

    @_one_question
    def search_results(
        self, query: str, k: int = 10, document: str | None = None, lang: str | None = None
    ) -> SearchResults:
        """The hits, and for a query that only names a clause the guidance lacks ("clause 99.9"),
        what /api/ask would say of it (``missing``)."""
        query = clean_question(query, self.settings.max_question_chars)
        live = self.live
        retriever = live.retriever
        analysis = retriever.analyse(query)
        vector = self._query_vector(analysis.search_text)
        result = retriever.search(query, k=k, document=document, lang=lang, query_vector=vector, analysis=analysis)
        config = self.answer_config()
        # Unfiltered, the scope decision /api/ask makes says whether anything matches at all: a
        # nonsense query's nearest paragraph can pass the cosine floor ("xyzzy qwerty").
        covered = True
        if document is None and lang is None:
            covered = not self.scope_model.decide(analysis, result, retriever, self.settings.min_confidence).abstain
        hits = order_search_hits(query, result.cited, live.index, config, analysis)
        views = search_view(query, hits, vector, live.index, config, covered=covered)
        missing = missing_lookup(query, result.cited, live.index, config.kind, document, lang)
        return SearchResults(
            hits=[
                {**asdict(hit.clause), "score": round(hit.score, 4), "dense": round(hit.dense, 4),
                 "lexical": round(hit.lexical, 4), "matched_by": hit.matched_by,
                 **({"rerank": round(hit.rerank, 4)} if hit.rerank is not None else {}), **view}
                for hit, view in zip(hits, views)
            ],
            missing=None if missing is None else missing_view(missing, query, live.index, config, lang),
        )

    # -- browsing ----------------------------------------------------------------------------
    def clause(self, clause_id: str) -> Clause | None:
        return self.live.index.clause_by_id.get(clause_id)

    def unknown_document(self, document: str | None) -> str | None:
        """Why `document` cannot filter anything, or None. A mistyped id (a widget's
        `data-document`, `--document`) would otherwise come back as a refusal, as if the guidance
        did not cover the question."""
        if document is None:
            return None
        ids = [doc["id"] for doc in self.live.index.documents]
        if document in ids:
            return None
        return f"no document {document!r}; the indexed documents are {', '.join(ids)}"

    def documents(self) -> list[dict]:
        index = self.live.index
        counts: dict[str, int] = {}
        for clause in index.clauses:
            if not is_section(clause):
                counts[clause.document] = counts.get(clause.document, 0) + 1
        kinds = self.live.kinds
        return [{**doc, "clauses": counts.get(doc["id"], 0), "kind": kinds.get(doc["id"], DEFAULT_KIND)}
                for doc in index.documents]

    def document_clauses(self, document_id: str) -> list[Clause]:
        """The parsed clauses of a document in order; the synthesised sections are left out (the
        viewer shows their headings from the clauses' paths)."""
        return [c for c in self.live.index.clauses if c.document == document_id and not is_section(c)]

    def editions(self) -> Editions:
        """Which documents are editions of each other, and each clause's counterparts: the same
        rule the citations' ``also_in`` follows, worked out once per loaded index."""
        return editions_of(self.live.index)

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


def _build_ticks(progress: ProgressFactory | None, cancel: threading.Event | None) -> ProgressFactory:
    """A progress factory whose ticks (one per embedded batch) stop the build once cancelled."""

    def factory(label: str, total: int):
        inner = progress(label, total) if progress else None

        def tick(count: int) -> None:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if inner is not None:
                inner(count)

        return tick

    return factory


def _elapsed_ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000.0, 2)


def _add_timings(into: dict[str, float], more: dict[str, float]) -> None:
    """Adds a search's stage times to the call's (a filtered question searches twice)."""
    for stage, ms in more.items():
        into[stage] = round(into.get(stage, 0.0) + ms, 2)


def single_threaded_blas() -> None:
    """Keep numpy's (and FAISS's) OpenBLAS to one thread in this process.

    Questions already run in parallel on request threads and the model has its own threads; a
    multi-threaded product over a few thousand sentence vectors made OpenBLAS's spinning threads
    take the model's cores and multiplied HTTP latency (docs/benchmarks.md, "Stop 9: the full
    run"). The model's own OpenMP threads are not BLAS and are left alone.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


__all__ = ["Assistant", "NotReady", "QuestionError", "IndexError_", "clean_question"]
