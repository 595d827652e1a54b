"""Compose the answer: cited clauses, highlighted sentences, an extractive summary, or abstention."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from assistant.abstention import Calibration, ScopeDecision
from assistant.index import LoadedIndex
from assistant.lexical import tokenize
from assistant.records import Answer, Citation
from assistant.retrieval import Hit, question_lang, topic_terms
from assistant.sentences import sentence_spans


@lru_cache(maxsize=16384)
def _terms(sentence: str) -> frozenset[str]:
    """Index terms of a clause sentence; cached because the same clauses are cited again and again."""
    return frozenset(tokenize(sentence))


@dataclass
class AnswerConfig:
    calibration: Calibration
    answer_sentences: int = 3
    highlights_per_clause: int = 2
    # A sentence joins the highlights when it is within this much of the clause's best sentence.
    highlight_margin: float = 0.04
    citation_margin: float = 0.03


@dataclass
class ScoredSentence:
    start: int
    end: int
    score: float


def compose_answer(
    question: str,
    hits: list[Hit],
    query_vector: np.ndarray | None,
    index: LoadedIndex,
    config: AnswerConfig,
    k: int,
    scope_hits: list[Hit] | None = None,
    decision: ScopeDecision | None = None,
) -> Answer:
    """``decision`` (abstention.ScopeModel.decide, made by the service on an unfiltered search)
    says whether the guidance covers the question; a document or language filter chooses what
    to cite, not whether the question is in scope. ``scope_hits`` are those unfiltered hits."""
    if decision is not None:
        reason = decision.reason if decision.abstain else None
    else:
        reason = None if hits else "The guidance has no clause that matches this question."
    if reason is None and not hits:
        reason = "No clause within the chosen document or language matches this question."
    if reason:
        return Answer(question=question, answer="", abstained=True, reason=reason, index_version=index.version)

    query_terms = topic_terms(question)
    # "第4.5条" asks for that clause only; anything else retrieved would be noise.
    bare_lookup = hits[0].matched_by == "number" and not query_terms
    if bare_lookup:
        kept = [h for h in hits if h.matched_by == "number"][:k]
    else:
        language = question_lang(question)
        # Once the question is in scope, clauses a little below the bar still help the reader.
        floor = config.calibration.threshold - config.citation_margin
        if hits:
            # The scope decision has said the question is covered: its best clause is cited even
            # when its cosine is below the old cutoff.
            best = max(config.calibration.relevance(h, language) for h in hits)
            floor = min(floor, best - config.citation_margin)
        if scope_hits is not None and hits:
            # Filtered to other clauses than the ones that put the question in scope: cite the
            # best of what the filter allows.
            best = max(config.calibration.relevance(h, language) for h in hits)
            floor = min(floor, best - config.citation_margin)
        relevant = [h for h in hits if h.matched_by != "number" and config.calibration.relevance(h, language) >= floor]
        # Clauses the question named are always cited; the best of the rest fill up to k.
        chosen = {id(h) for h in hits if h.matched_by == "number"}
        chosen.update(id(h) for h in relevant[: max(0, k - len(chosen))])
        kept = [h for h in hits if id(h) in chosen]

    citations: list[Citation] = []
    scored_by_citation: list[list[ScoredSentence]] = []
    for hit in kept:
        sentences = score_sentences(hit.clause.id, hit.clause.text, query_vector, query_terms, index)
        if bare_lookup:
            highlights: list[tuple[int, int]] = []
        else:
            highlights = [(s.start, s.end) for s in pick_highlights(sentences, config)]
        scored_by_citation.append(sentences)
        clause = hit.clause
        citations.append(
            Citation(
                id=clause.id,
                document=clause.document,
                clause=clause.number,
                title=clause.title,
                path=list(clause.path),
                page_start=clause.page_start,
                page_end=clause.page_end,
                lang=clause.lang,
                text=clause.text,
                highlights=sorted(highlights),
                # The similarity the abstention decision uses (cosine scale); 1.0 for a bare lookup.
                score=round(1.0 if bare_lookup else float(hit.similarity), 4),
            )
        )
    answer = extractive_answer(question, citations, scored_by_citation, config, bare_lookup)
    return Answer(
        question=question,
        answer=answer,
        abstained=False,
        reason=None,
        citations=citations,
        index_version=index.version,
    )


def score_sentences(
    clause_id: str,
    text: str,
    query_vector: np.ndarray | None,
    query_terms: set[str],
    index: LoadedIndex,
) -> list[ScoredSentence]:
    """Dense similarity of each sentence to the question, nudged by shared words."""
    rows = index.sentence_rows_by_clause.get(clause_id)
    if rows and index.sentence_vectors is not None and query_vector is not None:
        spans = [(index.sentences[r].start, index.sentences[r].end) for r in rows]
        dense = index.sentence_vectors[rows] @ query_vector
    else:
        spans = sentence_spans(text)
        dense = np.zeros(len(spans), dtype=np.float32)
    scored = []
    for (start, end), cosine in zip(spans, dense.tolist()):
        overlap = 0.0
        if query_terms:
            terms = _terms(text[start:end])
            overlap = len(query_terms & terms) / len(query_terms)
        scored.append(ScoredSentence(start, end, float(cosine) + 0.1 * overlap))
    return scored


def pick_highlights(sentences: list[ScoredSentence], config: AnswerConfig) -> list[ScoredSentence]:
    if not sentences:
        return []
    ranked = sorted(sentences, key=lambda s: s.score, reverse=True)
    best = ranked[0].score
    return [s for s in ranked[: config.highlights_per_clause] if s.score >= best - config.highlight_margin]


def extractive_answer(
    question: str,
    citations: list[Citation],
    scored: list[list[ScoredSentence]],
    config: AnswerConfig,
    bare_lookup: bool,
) -> str:
    """The best sentences across the citations, each marked with its citation number.

    Sentences come from citations in the question's language when there are any, so an English
    question is not answered with the Chinese edition's wording of the same clause.
    """
    if not citations:
        return ""
    if bare_lookup:
        first = citations[0]
        spans = sentence_spans(first.text)[: config.answer_sentences]
        joiner, marker = ("", "[1]") if first.lang == "zh" else (" ", " [1]")
        return joiner.join(first.text[s:e] for s, e in spans) + marker
    wanted = question_lang(question)
    numbers = [n for n, c in enumerate(citations) if c.lang == wanted] or list(range(len(citations)))
    pool: list[tuple[float, int, ScoredSentence]] = []
    for rank, number in enumerate(numbers):
        highlighted = set(citations[number].highlights)
        for sentence in scored[number]:
            if (sentence.start, sentence.end) in highlighted:
                # Earlier citations are better matches; prefer their sentences on ties.
                pool.append((sentence.score - 0.01 * rank, number, sentence))
    pool.sort(key=lambda item: item[0], reverse=True)
    # Only sentences about as good as the best one: a weaker clause's sentence reads as noise.
    chosen = [item for item in pool[: config.answer_sentences] if item[0] >= pool[0][0] - config.highlight_margin] if pool else []
    if not chosen:
        first = numbers[0]
        spans = sentence_spans(citations[first].text)[:1]
        return " ".join(f"{citations[first].text[s:e]} [{first + 1}]" for s, e in spans)
    # Keep the order of citations, then of position inside the clause, so the answer reads naturally.
    chosen.sort(key=lambda item: (item[1], item[2].start))
    joiner, marker = ("", "[{}]") if wanted == "zh" else (" ", " [{}]")
    return joiner.join(citations[n].text[s.start : s.end] + marker.format(n + 1) for _, n, s in chosen)
