"""Hybrid retrieval over clause passages: dense + BM25 fusion, clause-number lookup, filters."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from assistant.abbreviations import Abbreviations
from assistant.lexical import tokenize
from assistant.query import clause_numbers_in, question_lang, topic_terms  # noqa: F401 - re-exported
from assistant.records import Clause
from assistant.numeric import mean_std
from assistant.text import CN_NUMERALS, cn_numeral_to_int, int_to_cn_numeral

if TYPE_CHECKING:
    from assistant.abstention import IndexProfile
    from assistant.config import Settings
    from assistant.embedding import Embedder
    from assistant.query import QueryAnalysis
    from assistant.index import LoadedIndex
    from assistant.reranking import Reranker

@dataclass(frozen=True)  # made whole by for_embedder() / from_settings(), never patched afterwards
class RetrievalConfig:
    candidates: int = 200  # passages taken from each of the dense and lexical lists
    # Weight of the dense signal per question language (BM25 gets the rest). Chinese BM25 works
    # on segmenter output and adds little over the dense model (STARD: best at 0.8); English BM25
    # on stems is as strong as the dense model (ObliQA: best at 0.5).
    dense_weight: dict[str, float] = field(default_factory=lambda: {"zh": 0.8, "en": 0.5})
    # Added to the cosine of passages in another language than the question's: multilingual
    # models score translations lower than same-language paraphrases, which would otherwise
    # hide the only document that answers (a Chinese question about an English report).
    cross_lingual_shift: float = 0.0
    # A bare lookup ("第4.5条", "what does clause 4.5 say", "Rule 3.3") puts the clauses it names
    # first. A number asked with a topic ("as per Rule 12.5.1, what counts as material?") only
    # adds number_boost: such questions are often answered by the guidance under the rule or the
    # rule next to it (ObliQA: 127 of 128), and where the number names many clauses (every
    # rulebook has a 3.3) the text decides which is meant. One that names at most
    # unambiguous_numbers (one per language edition) stays in the results whatever its rank.
    unambiguous_numbers: int = 2
    number_boost: float = 1.0
    # Per question language: a clause's dense score is the better of its passage's cosine and its
    # best sentence's cosine less this discount (no entry: passages only). One sentence often
    # answers a question and the rest of a long passage dilutes it; short texts score a little
    # high, hence the discount. Adopted for English on ObliQA; Chinese is left out: STARD gained
    # a little but two questions of the guidance's own set were lost (docs/benchmarks.md,
    # "ObliQA", the sentence-level rows).
    sentence_discount: dict[str, float] = field(default_factory=lambda: {"en": 0.01})
    # Each candidate gains this much of the best fused score in its own document: the rulebook
    # or law that holds the best match usually holds the other relevant clauses too.
    document_prior: float = 0.2
    # Per question language: weight of the other language edition's evidence. The guidance's
    # editions share clause numbers, and the multilingual model's cosine of the question to the
    # other edition's clause is a second, partly independent opinion on the same clause: each
    # candidate gains this weight times the z-score (over the candidates) of its counterpart's
    # best passage cosine (editions.Editions pairs them). Only in the question's own edition, and
    # only for a multilingual model: the embedder's registry entry gives it (for_embedder).
    edition_weight: dict[str, float] = field(default_factory=dict)
    # With a reranker (off by default), how many of the fused hits it re-scores and re-orders.
    rerank_depth: int = 30

    @classmethod
    def for_embedder(cls, embedder_id: str, **overrides) -> RetrievalConfig:
        """The defaults with the cross-lingual shift and edition weight of that model's registry
        entry (embedding.EMBEDDERS), and any field given in ``overrides``."""
        from assistant.embedding import embedder_traits

        traits = embedder_traits(embedder_id)
        fields = {"cross_lingual_shift": traits.cross_lingual_shift, "edition_weight": dict(traits.edition_weight)}
        return cls(**{**fields, **overrides})

    @classmethod
    def from_settings(cls, settings: Settings, embedder_id: str) -> RetrievalConfig:
        """The service's configuration: the embedder's defaults and the settings that tune retrieval."""
        return cls.for_embedder(embedder_id, rerank_depth=settings.rerank_depth)


def index_artifacts(embedder: Embedder, config: RetrievalConfig | None = None):
    """build_index's ``extra_files``: what the scope decision stores with a new index.

    The pseudo near misses (abstention.scope_profile), searched as the service configures
    retrieval, without a reranker; the homophone tables (abstention.homophone_tables), so that
    the first Chinese question does not build them.
    """

    def files(index: LoadedIndex) -> dict[str, object]:
        from assistant.abstention import SCOPE_PROFILE_FILE, homophone_tables, scope_profile
        from assistant.homophones import HOMOPHONES_FILE

        retriever = Retriever(index, embedder, config or RetrievalConfig.for_embedder(embedder.id))
        profile = scope_profile(retriever)  # reads SearchResult.hits, as the decision does
        return {SCOPE_PROFILE_FILE: profile, HOMOPHONES_FILE: homophone_tables(index, profile)}

    return files


@dataclass
class Hit:
    clause: Clause
    score: float  # fused relevance, higher is better; 1.0 for a clause put first by a bare lookup
    dense: float  # best cosine similarity of the question to one of the clause's passages
    lexical: float  # best BM25 score of the clause's passages, divided by the best over the query
    matched_by: str  # "number" (named by the question; first only in a bare lookup) or "search"
    sentence: float | None = None  # best cosine of the question to one sentence of the clause
    rerank: float | None = None  # the reranker's score, where one re-ordered this hit

    @property
    def similarity(self) -> float:
        """The clause's closeness to the question: its best sentence when sentence vectors exist."""
        return self.sentence if self.sentence is not None else self.dense


@dataclass
class SearchResult:
    hits: list[Hit]
    query_vector: np.ndarray | None
    timings_ms: dict[str, float] = field(default_factory=dict)
    # Every passage's plain cosine and BM25 score for the question (views, not copies): the
    # scope decision normalises the best scores against the question's own distribution.
    cosines: np.ndarray | None = None
    lexical_scores: np.ndarray | None = None
    sentence_cosines: np.ndarray | None = None  # every sentence's cosine, where retrieval needed them
    # The hits ranked with the other language edition's evidence too (RetrievalConfig.edition_weight),
    # None where it does not apply. Citations follow them; the scope decision keeps ``hits``, the
    # ranking its parameters were fitted on.
    edition_hits: list[Hit] | None = None

    @property
    def cited(self) -> list[Hit]:
        """The hits to cite: ranked with the other edition's evidence where there is one."""
        return self.edition_hits if self.edition_hits is not None else self.hits


_ANNEX = re.compile(r"^(?:附\s*录\s*|(?:Annex|Appendix)\s+)([A-Z])$")


def annex_key(number: str) -> str | None:
    """附录A, Annex A and Appendix A are one annex across editions: "annex:A"."""
    match = _ANNEX.match(number)
    return f"annex:{match.group(1)}" if match else None


class Retriever:
    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        config: RetrievalConfig | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        self.reranker = reranker
        self._clauses_by_number: dict[str, list[Clause]] = {}
        # "4" -> {document: its first clause numbered 4.x}, for headings without a body.
        self._first_children: dict[str, dict[str, Clause]] = {}
        for clause in index.clauses:
            for key in self._number_keys(clause.number):
                self._clauses_by_number.setdefault(key, []).append(clause)
            parts = clause.number.split(".")
            for depth in range(1, len(parts)):
                self._first_children.setdefault(".".join(parts[:depth]), {}).setdefault(clause.document, clause)
        self._passage_documents = np.array([self._doc_of(p.clause_id) for p in index.passages])
        self._passage_langs = np.array([index.clause_by_id[p.clause_id].lang for p in index.passages])
        clause_row = {clause.id: row for row, clause in enumerate(index.clauses)}
        self._passage_clause_rows = np.array([clause_row[p.clause_id] for p in index.passages], dtype=np.int64)
        self._sentence_clause_rows = np.array([clause_row[s.clause_id] for s in index.sentences], dtype=np.int64)
        document_rows: dict[str, int] = {}
        self._clause_document_rows = np.array(
            [document_rows.setdefault(c.document, len(document_rows)) for c in index.clauses], dtype=np.int64
        )
        # Each clause's row in another language edition (same number), or -1 (editions.Editions).
        from assistant.editions import editions_of

        editions = editions_of(index)  # the index's one Editions, which answers use as well
        self._counterpart_rows = np.full(len(index.clauses), -1, dtype=np.int64)
        for row, clause in enumerate(index.clauses):
            for other in editions.others(clause):
                if other.lang != clause.lang:
                    self._counterpart_rows[row] = clause_row[other.id]
                    break
        self._profile: IndexProfile | None = None
        self._profile_lock = threading.Lock()
        # The abbreviations the corpus defines (abbreviations.py): a scan of the clause texts.
        self.abbreviations = Abbreviations.from_clauses(index.clauses, _is_english_word)

    @property
    def profile(self) -> IndexProfile:
        """This index's statistics for the scope decision and typo correction (built once)."""
        if self._profile is None:
            with self._profile_lock:
                if self._profile is None:
                    from assistant.abstention import IndexProfile

                    self._profile = IndexProfile(self.index)
        return self._profile

    def analyse(self, question: str) -> QueryAnalysis:
        from assistant.query import analyse

        return analyse(question, self.profile.vocabulary, self.abbreviations, self.profile.homophones)

    def _doc_of(self, clause_id: str) -> str:
        return self.index.clause_by_id[clause_id].document

    @staticmethod
    def _number_keys(number: str) -> list[str]:
        keys = [number]
        match = re.fullmatch(rf"第([{CN_NUMERALS}\d]+)[条章节款]", number)
        if match:
            keys.append(match.group(1))
        annex = annex_key(number)
        if annex:
            keys.append(annex)
        return keys

    def lookup_numbers(
        self, question: str, document: str | None, lang: str | None, analysis: QueryAnalysis | None = None
    ) -> list[Clause]:
        wanted = analysis.lang if analysis is not None else question_lang(question)
        numbers = analysis.clause_numbers if analysis is not None else clause_numbers_in(question)
        results: list[Clause] = []
        for number in numbers:
            candidates = list(self._clauses_by_number.get(number, []))
            if number.isdigit():
                candidates += self._clauses_by_number.get(int_to_cn_numeral(int(number)), [])
            value = None if number.isdigit() else cn_numeral_to_int(number)
            if value is not None:
                # 第十二章 / 第十二条 in a guidance numbered 1, 2, ...: chapter 12.
                candidates += [c for c in self._clauses_by_number.get(str(value), []) if c not in candidates]
            annex = annex_key(number)
            if annex:
                candidates += [c for c in self._clauses_by_number.get(annex, []) if c not in candidates]
            if not candidates:
                # A heading without a body of its own ("4"): its first child in each edition.
                candidates = list(self._first_children.get(number, {}).values())
            candidates = [c for c in candidates if _passes(c, document, lang)]
            candidates.sort(key=lambda c: c.lang != wanted)  # the question's language first (stable)
            results.extend(c for c in candidates if c not in results)
        return results

    def embed_query(self, question: str) -> np.ndarray:
        return self.embedder.embed_queries([question])[0]

    def search(
        self,
        question: str,
        k: int = 10,
        *,
        document: str | None = None,
        lang: str | None = None,
        query_vector: np.ndarray | None = None,
        analysis: QueryAnalysis | None = None,
    ) -> SearchResult:
        """Hits for the question; ``analysis`` (from analyse()) supplies its language, numbers and
        the text to match, which drops an asking template and corrects misspelt words."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        if analysis is None:
            analysis = self.analyse(question)
        text = analysis.search_text
        numbered = self.lookup_numbers(question, document, lang, analysis)
        timings["lookup"] = _ms(started)

        mark = time.perf_counter()
        if query_vector is None:
            query_vector = self.embed_query(text)
        timings["embed"] = _ms(mark)

        language = analysis.lang
        mask = self._mask(document, lang)
        n = len(self.index.passages)
        candidates = min(self.config.candidates, n)

        mark = time.perf_counter()
        # Exact inner product over all passages: one BLAS call, cheaper than copying out of
        # FAISS for the candidates BM25 adds (see docs/benchmarks.md for when to switch to IVF).
        cosines = self.index.passage_scores(query_vector)
        dense_all = cosines
        discount = self.config.sentence_discount.get(language)
        # Every sentence only where sentences rank clauses; otherwise the hits' own, below.
        sentence_cosines = None
        if discount is not None:
            sentence_cosines = self.index.sentence_scores(query_vector)
        best_sentences = (
            self._best_per_clause(self._sentence_clause_rows, sentence_cosines) if sentence_cosines is not None else None
        )
        if best_sentences is not None:
            # Only the question's own language: across languages, short sentences drew unrelated
            # text in (Chinese small talk matched English news sentences).
            discounted = np.where(
                self._passage_langs == language, best_sentences[self._passage_clause_rows] - discount, -np.inf
            )
            dense_all = np.maximum(cosines, discounted.astype(np.float32))
        if self.config.cross_lingual_shift:
            dense_all = dense_all + np.where(
                self._passage_langs != language, self.config.cross_lingual_shift, 0.0
            ).astype(np.float32)
        if mask is not None:
            dense_all = np.where(mask, dense_all, -np.inf)
        dense_rows = _top(dense_all, candidates)
        dense_rows = dense_rows[np.isfinite(dense_all[dense_rows])]
        timings["dense"] = _ms(mark)

        mark = time.perf_counter()
        lexical_all = self.index.lexical.scores(text)
        # Words shared across languages (an English question against the English abbreviations
        # inside a Chinese clause) are accidents, not evidence.
        same_language = self._passage_langs == language
        lexical_all = np.where(same_language if mask is None else same_language & mask, lexical_all, 0.0)
        lexical_rows = _top(lexical_all, candidates)
        lexical_rows = lexical_rows[lexical_all[lexical_rows] > 0]
        timings["lexical"] = _ms(mark)

        mark = time.perf_counter()
        edition_all = None
        if self.config.edition_weight.get(language):
            # Only for the question's own edition: the other edition's clauses would otherwise
            # rise on the question-language cosine of their counterparts and crowd the top.
            edition_all = np.where(same_language, self._edition_evidence(cosines), np.nan)
        # The candidates, sorted and unique (what np.union1d gives, without its sort).
        chosen = np.zeros(n, dtype=bool)
        chosen[dense_rows] = True
        chosen[lexical_rows] = True
        if numbered and analysis.terms:
            chosen[[r for c in numbered for r in self.index.passage_rows(c.id)]] = True
        rows = np.flatnonzero(chosen)
        scores = (rows, dense_all, cosines, lexical_all, language)
        # With a reranker its order is the second stage's word: no second ranking to cite from.
        variants = (None,) if edition_all is None or self.reranker is not None else (None, edition_all)
        hits, *rest = self._rank(question, scores, numbered, analysis, query_vector, k, timings, variants)
        cited = rest[0] if rest else None
        self._score_sentences(hits + (cited or []), query_vector)
        timings["fusion"] = _ms(mark) - timings.get("rerank", 0.0)
        return SearchResult(
            hits, query_vector, timings, cosines=cosines, lexical_scores=lexical_all, sentence_cosines=sentence_cosines,
            edition_hits=cited,
        )

    def _rank(self, question: str, scores: tuple, numbered: list[Clause], analysis: QueryAnalysis,
              query_vector: np.ndarray, k: int, timings: dict[str, float],
              variants: tuple[np.ndarray | None, ...] = (None,)) -> list[list[Hit]]:
        """Per entry of ``variants`` (see _fuse_variants), the best ``k`` clauses, fused and
        reranked, with the clauses the question names placed as search() describes."""
        # Hits past k are dropped below, except for the reranker's depth and the named clauses.
        limit = max(k, self.config.rerank_depth if self.reranker is not None else 0) + len(numbered)
        out = []
        if numbered and analysis.terms:
            for hits in self._fuse_variants(*scores, {c.id for c in numbered}, variants, limit):
                hits = self._rerank(question, hits, timings)
                if len(numbered) <= self.config.unambiguous_numbers:
                    # The clause the question names stays among the results, last if it must.
                    missing = [h for h in hits[k:] if h.matched_by == "number"]
                    hits = hits[: max(0, k - len(missing))] + missing
                out.append(hits[:k])
        else:
            numbered_ids = {c.id for c in numbered}
            head = [Hit(c, 1.0, self._clause_dense(c.id, query_vector), 0.0, "number") for c in numbered]
            for n, hits in enumerate(self._fuse_variants(*scores, frozenset(), variants, limit)):
                hits = self._rerank(question, [h for h in hits if h.clause.id not in numbered_ids], timings)
                out.append((([replace(h) for h in head] if n else head) + hits)[:k])
        return out

    def _rerank(self, question: str, hits: list[Hit], timings: dict[str, float]) -> list[Hit]:
        """The reranker's order for the best `rerank_depth` hits; the rest keep the fused order."""
        if self.reranker is None or not hits:
            return hits
        mark = time.perf_counter()
        head = hits[: self.config.rerank_depth]
        texts = [f"{h.clause.title}\n{h.clause.text}".strip() for h in head]
        for hit, score in zip(head, self.reranker.score(question, texts).tolist()):
            hit.rerank = float(score)
        head.sort(key=lambda h: -h.rerank)  # stable: ties keep the fused order
        timings["rerank"] = _ms(mark)
        return head + hits[self.config.rerank_depth :]

    def _score_sentences(self, hits: list[Hit], query_vector: np.ndarray) -> None:
        if self.index.sentence_store is None:
            return
        done: dict[str, float | None] = {}
        for hit in hits:
            if hit.clause.id in done:  # the same clause in both rankings
                hit.sentence = done[hit.clause.id]
                continue
            rows = self.index.sentence_rows(hit.clause.id)
            if rows:
                hit.sentence = float(self.index.sentence_scores(query_vector, rows).max())
                if hit.clause.children:
                    # A section's sentences are its children's; its own topic is its title, which
                    # only its passage vector carries.
                    hit.sentence = max(hit.sentence, self._clause_dense(hit.clause.id, query_vector))
            done[hit.clause.id] = hit.sentence

    def _edition_evidence(self, cosines: np.ndarray) -> np.ndarray:
        """Per passage: the best passage cosine of its clause's counterpart in the other language
        edition (NaN where the clause has none)."""
        best = self._best_per_clause(self._passage_clause_rows, cosines)
        counterpart = self._counterpart_rows[self._passage_clause_rows]
        return np.where(counterpart >= 0, best[np.maximum(counterpart, 0)], np.nan)

    def best_passage_cosines(self, query_vector: np.ndarray) -> np.ndarray:
        """Each clause's best passage cosine, in index.clauses order: the embedder alone, unfused."""
        return self._best_per_clause(self._passage_clause_rows, self.index.passage_scores(query_vector))

    def _best_per_clause(self, clause_rows: np.ndarray, values: np.ndarray) -> np.ndarray:
        best = np.full(len(self.index.clauses), -np.inf, dtype=np.float32)
        np.maximum.at(best, clause_rows, values)
        return best

    def _mask(self, document: str | None, lang: str | None) -> np.ndarray | None:
        if document is None and lang is None:
            return None
        mask = np.ones(len(self.index.passages), dtype=bool)
        if document is not None:
            mask &= self._passage_documents == document
        if lang is not None:
            mask &= self._passage_langs == lang
        return mask

    def _clause_dense(self, clause_id: str, query_vector: np.ndarray) -> float:
        rows = self.index.passage_rows(clause_id)
        return float(self.index.passage_scores(query_vector, rows).max()) if rows else 0.0

    def _fuse(
        self,
        rows: np.ndarray,
        dense_all: np.ndarray,
        cosines: np.ndarray,
        lexical_all: np.ndarray,
        language: str,
        boost_clauses: set[str] = frozenset(),
        edition: np.ndarray | None = None,
        limit: int | None = None,
    ) -> list[Hit]:
        """Weighted sum of z-scored dense and BM25 scores over the candidates; best passage per clause.

        z-scores put both signals on the scale of their own spread for this query, which beat
        min-max and reciprocal-rank fusion on both benchmarks (docs/benchmarks.md).
        """
        return self._fuse_variants(rows, dense_all, cosines, lexical_all, language, boost_clauses, (edition,), limit)[0]

    def _fuse_variants(
        self,
        rows: np.ndarray,
        dense_all: np.ndarray,
        cosines: np.ndarray,
        lexical_all: np.ndarray,
        language: str,
        boost_clauses: set[str],
        editions: tuple[np.ndarray | None, ...],
        limit: int | None,
    ) -> list[list[Hit]]:
        """_fuse's hits once per entry of ``editions`` (None: without the other edition's
        evidence), sharing the work the rankings have in common. Only the best ``limit`` clauses
        (and every boosted one) become hits, when it is given."""
        rows = rows.astype(np.int64)
        if rows.size == 0:
            return [[] for _ in editions]
        dense_values = dense_all[rows]
        lexical_values = lexical_all[rows]
        weight = self.config.dense_weight.get(language, 0.5)
        base = weight * _zscore(dense_values) + (1.0 - weight) * _zscore(lexical_values)
        if boost_clauses:
            named = np.array([self.index.passages[r].clause_id in boost_clauses for r in rows.tolist()])
            base = base + np.where(named, self.config.number_boost, 0.0)
        top_lexical = float(lexical_values.max())
        lexical_share = lexical_values / top_lexical if top_lexical > 0 else np.zeros_like(lexical_values)

        # A clause is as good as its best passage: the maximum over each clause's run of rows,
        # sorted by clause (reduceat, the same maxima as np.maximum.at at a fraction of its cost).
        owners = self._passage_clause_rows[rows]
        by_clause = np.argsort(owners, kind="stable")
        owners = owners[by_clause]
        starts = np.flatnonzero(np.concatenate(([True], owners[1:] != owners[:-1])))
        clause_rows = owners[starts]
        best = {}
        # Hits report the plain cosine; the cross-lingual shift only orders the candidates.
        for name, values in (("dense", cosines[rows]), ("lexical", lexical_share)):
            best[name] = np.maximum.reduceat(values[by_clause], starts).astype(np.float64)
        documents = self._clause_document_rows[clause_rows]
        boosted = {g for g, row in enumerate(clause_rows.tolist()) if self.index.clauses[row].id in boost_clauses} \
            if boost_clauses else set()
        clauses = self.index.clauses
        out = []
        for edition in editions:
            fused = base
            if edition is not None:
                # A clause without a counterpart (a single-language document) is neither helped nor hurt.
                other = edition[rows]
                known = np.isfinite(other)
                if known.any():
                    z = np.zeros_like(base)
                    z[known] = _zscore(other[known])
                    fused = base + self.config.edition_weight.get(language, 0.0) * z
            clause_fused = np.maximum.reduceat(fused[by_clause], starts).astype(np.float64)
            if self.config.document_prior:
                document_best = np.full(int(documents.max()) + 1, -np.inf)
                np.maximum.at(document_best, documents, clause_fused)
                clause_fused = clause_fused + self.config.document_prior * document_best[documents]
            order = np.argsort(-clause_fused, kind="stable")
            kept = order.tolist()
            if limit is not None and limit < order.size:
                # Past what the caller keeps, only the named clauses (kept wherever they rank).
                kept = kept[:limit] + ([g for g in kept[limit:] if g in boosted] if boosted else [])
            # Python floats and ints in one go: per-element numpy scalars were most of this function.
            hits = []
            for row, fused_score, dense, lexical in zip(
                clause_rows[kept].tolist(), clause_fused[kept].tolist(), best["dense"][kept].tolist(),
                best["lexical"][kept].tolist(),
            ):
                clause = clauses[row]
                # A boosted clause is still the one the question named: cited whatever its score.
                matched_by = "number" if clause.id in boost_clauses else "search"
                hits.append(Hit(clause, fused_score, dense, lexical, matched_by))
            out.append(hits)
        return out


def _is_english_word(word: str) -> bool:
    from assistant.query import english_words

    return word.lower() in english_words()


def _top(scores: np.ndarray, count: int) -> np.ndarray:
    """Rows of the `count` highest scores, unordered."""
    if count >= scores.size:
        return np.arange(scores.size)
    return np.argpartition(-scores, count)[:count]


def _zscore(values: np.ndarray) -> np.ndarray:
    mean, std = mean_std(values)
    spread = float(std)
    return (values - mean) / spread if spread > 1e-9 else np.zeros_like(values)


def _passes(clause: Clause, document: str | None, lang: str | None) -> bool:
    return (document is None or clause.document == document) and (lang is None or clause.lang == lang)


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0
