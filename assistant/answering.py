"""Compose the answer: cited clauses, highlighted sentences, an extractive summary, or abstention.

What is cited: the clauses that answer, ordered by how well each answers; one citation per clause
across language editions (the other edition under ``also_in``); guidance before background
documents; a section (a heading without a body) with its children as links. What is said is
extract.py's (over units.py's readable units of a clause); a question asking two things is
split by parts.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from assistant.editions import Editions, clause_link, editions_of
from assistant.abstention import Calibration, ScopeDecision
from assistant.extract import extractive_answer
from assistant.index import LoadedIndex
from assistant.kinds import DEFAULT_KIND
from assistant.lookups import MissingClause, lookup_topic, missing_lookup
from assistant.lexical import tokenize
from assistant.numeric import mean_std
from assistant.outline import page_label
from assistant.parts import part_answers
from assistant.query import QueryAnalysis
from assistant.reasons import said_to_asker
from assistant.records import Answer, Citation, Clause
from assistant.retrieval import Hit, question_lang, topic_terms
from assistant.text import detect_language, sentence_spans
from assistant.units import ScoredSentence, clause_spans


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
    # Document id -> "guidance" | "background" (corpus/documents.toml); unlisted: guidance.
    kinds: dict[str, str] = field(default_factory=dict)
    # Cite background documents alongside the guidance (otherwise only when no guidance qualifies).
    include_background: bool = False
    contact: str | None = None  # added to refusals
    # Citation text is cut after the sentence that crosses this many characters (the highlights
    # always stay inside); the link opens the whole clause.
    citation_chars: int = 1500
    suggestions: int = 3
    # How a clause's signals (answer_signals) add up to its answer score when citations are
    # ordered: the fused score + sentence_weight x its best sentence's cosine + title_weight x
    # its title's share of the topic terms + heading_weight x the headings' above it. Chosen on
    # the fit split of tests/data/guidance_set.jsonl with scripts/tune_ordering.py
    # (docs/benchmarks.md, section t2-rank, "Citation order"). order_weights, when set,
    # replaces the formula by a weighted sum over any of the signals.
    order_weights: dict[str, float] | None = None
    sentence_weight: float = 4.0
    title_weight: float = 1.0
    heading_weight: float = 1.0
    # x the title's fit to the topic terms (title_fit: 1 when they are the same words).
    title_fit_weight: float = 0.0
    # Topic terms weighted by their BM25 IDF in the index (otherwise each counts the same).
    idf_terms: bool = False
    # The clause that BM25 and the best-sentence cosine both put first goes first when its closest
    # sentence is at least this much closer than the first clause's (order_by_answer): a smaller
    # lead is within what separates near-synonyms ("推销" in one clause, "营销" in the answer);
    # docs/benchmarks.md, section l-nu.
    agreement_margin: float = 0.015

    def kind(self, document: str) -> str:
        return self.kinds.get(document, DEFAULT_KIND)


def compose_answer(
    question: str,
    hits: list[Hit],
    query_vector: np.ndarray | None,
    index: LoadedIndex,
    config: AnswerConfig,
    k: int,
    scope_hits: list[Hit] | None = None,
    *,
    document: str | None = None,
    lang: str | None = None,
    decision: ScopeDecision | None = None,
    analysis: QueryAnalysis | None = None,
    part_vectors: list[np.ndarray] | None = None,
) -> Answer:
    """``scope_hits`` (an unfiltered search) decide whether the guidance covers the question when
    ``hits`` were narrowed by a document or language filter (``document``, ``lang``): the filter
    chooses what to cite, not whether the question is in scope. They are also ranked first for
    the filter: each is replaced by its counterpart in the wanted edition, so a Chinese question
    filtered to the English edition cites what it would cite unfiltered, in English.
    ``analysis`` (query.analyse) gives the topic terms citations are ordered by: without the
    asking template's words ("say", "requirements"), with misspelt words corrected.
    ``part_vectors`` (one per question_parts part, for a question asking two things) make each
    part's best clause cited and heard, after the first citation, in the parts' order."""
    editions = editions_of(index)
    # The analysis is of this very question: its language and numbers, not worked out again.
    language = analysis.lang if analysis is not None else question_lang(question)
    query_terms = lookup_topic(question)
    all_hits = scope_hits if scope_hits is not None else hits

    missing = missing_lookup(question, hits + (scope_hits or []), index, config.kind, document, lang)
    if missing is not None:
        # A bare lookup of a number the guidance lacks: say so, do not answer with something else.
        return _refusal(question, missing.reason, missing.nearest or all_hits, index, config, language, lang)

    # ``decision`` (abstention.ScopeModel.decide, made by the service on the unfiltered search)
    # says whether the guidance covers the question.
    if decision is not None:
        reason = decision.reason if decision.abstain else None
    else:
        reason = None if all_hits else "The guidance has no clause that matches this question."
    if reason is None and not hits and not _mapped(scope_hits or [], editions, document, lang):
        reason = "No clause within the chosen document or language matches this question."
    if reason:
        return _refusal(question, reason, all_hits, index, config, language, lang)

    if document is not None or lang is not None:
        candidates = _dedupe(_mapped(scope_hits or [], editions, document, lang) + hits)
    else:
        candidates = list(hits)
    wanted_lang = lang or language
    explicit_background = document is not None and config.kind(document) != DEFAULT_KIND

    # "第4.5条" asks for that clause only; anything else retrieved would be noise.
    # (Retrieval may have ranked the named clause below others where the asking words looked like
    # a topic to it; lookup_topic knows them.)
    bare_lookup = any(h.matched_by == "number" for h in candidates) and not query_terms
    if bare_lookup:
        numbered = [h for h in candidates if h.matched_by == "number"]
        # A bare number in a corpus with several documents means the guidance's clause.
        numbered.sort(key=lambda h: config.kind(h.clause.document) != DEFAULT_KIND)
        kept = _one_per_clause(numbered, editions, wanted_lang)[:k]
    else:
        # Once the question is in scope, clauses a little below the bar still help the reader.
        floor = config.calibration.threshold - config.citation_margin
        if candidates:
            # The scope decision has said the question is covered: its best clause is cited even
            # when its cosine is below the old cutoff; filtered to other clauses than the ones that
            # put the question in scope, the best of what the filter allows is cited.
            best = max(config.calibration.relevance(h, language) for h in candidates)
            floor = min(floor, best - config.citation_margin)
        usable = [h for h in candidates if h.matched_by == "number" or substantive(h.clause)]
        order_terms = set(analysis.terms) if analysis is not None else query_terms
        # A clause whose title is the asked topic ("scope" -> 1 Scope) answers it, however its
        # text's cosine compares with clauses that merely sound alike. The title is read in the
        # question's edition: filtered to the other one, the topic terms are still the question's.
        relevant = [h for h in usable if h.matched_by != "number" and (
            config.calibration.relevance(h, language) >= floor
            or title_fit(editions.in_lang(h.clause, language) or h.clause, order_terms) >= 1.0)]
        # The best fused match (words and meaning together) is cited too, even where its cosine
        # alone falls under the floor: a clause whose title and words match can score below one
        # that merely sounds alike.
        top = next((h for h in usable if h.matched_by != "number"), None)
        if top is not None and all(h is not top for h in relevant):
            relevant.insert(0, top)
        if not (config.include_background or explicit_background):
            guidance = [h for h in relevant if config.kind(h.clause.document) == DEFAULT_KIND]
            # Background is cited only when no guidance clause qualifies.
            relevant = guidance or relevant
        numbered = [h for h in usable if h.matched_by == "number"]
        ordered = order_by_answer(numbered + relevant, query_vector, order_terms, index, config)
        if analysis is not None:
            ordered = definitions_after_first(ordered, analysis.defined_in)
        ranked = _one_per_clause(ordered, editions, wanted_lang)
        # Clauses the question named are always cited; the best of the rest fill up to k.
        named_keys = {editions.key(h.clause) for h in numbered}
        room = max(0, k - len({key for key in named_keys}))
        keep = {id(h) for h in ranked if editions.key(h.clause) in named_keys}
        keep.update(id(h) for h in [h for h in ranked if id(h) not in keep][:room])
        kept = [h for h in ranked if id(h) in keep][:k]

    # A question asking two things: each part's best clause is cited, right after the best answer
    # to the whole question, in the parts' order, and says the part's best sentence.
    part_spans: list[tuple[str, tuple[int, int]]] = []
    if part_vectors and not bare_lookup and index.has_sentence_vectors:
        # A section's lines only repeat its children's: a part is answered by a clause itself.
        bests = part_answers(part_vectors, [h for h in ranked if substantive(h.clause) and not h.clause.children],
                             index, editions, language)
        firsts = list(dict.fromkeys(id(h) for h, _ in bests))
        part_spans = [(h.clause.id, span) for h, span in bests]
        by_id = {id(h): h for h in ranked}
        # The best answer to the whole question stays first; the parts' bests follow it.
        head = [kept[0]] if kept else []
        firsts = [i for i in firsts if not head or i != id(head[0])]
        kept = head + [by_id[i] for i in firsts] + [h for h in kept[1:] if id(h) not in firsts]
        kept = kept[:max(k, len(firsts) + 1)]

    citations: list[Citation] = []
    scored_by_citation: list[list[ScoredSentence]] = []
    for hit in kept:
        clause = hit.clause
        sentences = score_sentences(clause.id, clause.text, query_vector, query_terms, index)
        highlights = [] if bare_lookup else [(s.start, s.end) for s in pick_highlights(sentences, config)]
        scored_by_citation.append(sentences)
        citations.append(make_citation(clause, sorted(highlights), 1.0 if bare_lookup else hit.similarity,
                                       index, config, editions))
    position = {hit.clause.id: n for n, hit in enumerate(kept)}
    must_say = [(position[clause_id], span) for clause_id, span in part_spans if clause_id in position]
    answer = extractive_answer(question, citations, scored_by_citation, config, bare_lookup, must_say)
    for citation in citations:
        _bound(citation, config.citation_chars)
        citation.link = clause_link(index.clause_by_id[citation.id], citation.highlights)
    return Answer(
        question=question,
        answer=answer,
        abstained=False,
        reason=None,
        citations=citations,
        index_version=index.version,
    )


# -- what is cited ----------------------------------------------------------------------------


def _mapped(hits: list[Hit], editions: Editions, document: str | None, lang: str | None) -> list[Hit]:
    """Each hit as its counterpart that passes the filter (itself when it passes), in order."""
    out = []
    for hit in hits:
        clause = hit.clause
        if document is not None:
            clause = editions.counterpart(clause, document)
        if clause is not None and lang is not None:
            clause = editions.in_lang(clause, lang)
        if clause is not None and (document is None or clause.document == document):
            out.append(hit if clause is hit.clause else _as(hit, clause))
    return out


def _as(hit: Hit, clause: Clause) -> Hit:
    """The hit's scores for the same clause in another edition (the ranking was made on the hit)."""
    return Hit(clause, hit.score, hit.dense, hit.lexical, hit.matched_by, hit.sentence, hit.rerank)


def _dedupe(hits: list[Hit]) -> list[Hit]:
    seen: set[str] = set()
    out = []
    for hit in hits:
        if hit.clause.id not in seen:
            seen.add(hit.clause.id)
            out.append(hit)
    return out


def _one_per_clause(hits: list[Hit], editions: Editions, lang: str) -> list[Hit]:
    """One hit per clause across editions, in the wanted language's edition where it has one."""
    seen: set[tuple[str, str]] = set()
    out = []
    for hit in hits:
        key = editions.key(hit.clause)
        if key in seen:
            continue
        seen.add(key)
        preferred = editions.in_lang(hit.clause, lang)
        out.append(hit if preferred is None or preferred is hit.clause else _as(hit, preferred))
    return out


def order_by_answer(
    hits: list[Hit], query_vector: np.ndarray | None, query_terms: set[str], index: LoadedIndex | None,
    config: AnswerConfig,
) -> list[Hit]:
    """Hits ordered by how well each answers (see clause_answer_score), a section after the best
    retrieved part of it unless its own title fits the question better, and a clause with a body
    after a part of it whose title fits as well and whose best sentence is at least as close.

    The fused score ranks passages; a clause whose one sentence says exactly what was asked, or
    whose title or heading names the asked topic, answers better than one that merely shares
    many words.
    """
    if len(hits) < 2 or any(h.rerank is not None for h in hits):
        return hits  # a reranker's order is the second stage's word; it is not re-ordered here
    signals = answer_signals(hits, query_terms, index, config.idf_terms)
    scored = []
    signals_of: dict[str, dict[str, float]] = {}
    for position, (hit, parts) in enumerate(zip(hits, signals)):
        signals_of[hit.clause.id] = parts
        scored.append((clause_answer_score(hit, parts, config), -position, hit))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    ordered = [hit for _, _, hit in scored]
    # A section's text repeats its children's lead sentences, so it matches whatever they match.
    # It stays first only when its own title fits the question better than any retrieved part of
    # it; otherwise the best-ranked part that fits as well answers: it takes the section's place,
    # the section right after it (not merely the section moved down, which put whatever ranked
    # between them first). A clause with a body of its own above retrieved parts of it (9.4
    # Complaint handling over 9.4.4 Complaint follow-up and closure) states the topic in general:
    # it yields the same way, unless its own text answers closer (its best sentence).
    # docs/benchmarks.md, section v3-rank.
    for hit in [h for h in ordered if h.clause.children or _has_parts(h, ordered)]:
        prefix = hit.clause.number + "."
        below = [h for h in ordered[ordered.index(hit) + 1 :]
                 if h.clause.document == hit.clause.document and h.clause.number.startswith(prefix)]
        as_good = [h for h in below if signals_of[h.clause.id]["title"] >= signals_of[hit.clause.id]["title"]
                   and (hit.clause.children or h.similarity >= hit.similarity)]
        if as_good:
            ordered.remove(as_good[0])
            ordered.insert(ordered.index(hit), as_good[0])
    agreed = _first_by_both(ordered)
    if (agreed is not None and agreed is not ordered[0] and not _contains(agreed, ordered[0])
            and _title_says(signals_of[agreed.clause.id]) >= _title_says(signals_of[ordered[0].clause.id])
            and agreed.similarity >= ordered[0].similarity + config.agreement_margin):
        ordered.remove(agreed)
        ordered.insert(0, agreed)
    return ordered


def _first_by_both(hits: list[Hit]) -> Hit | None:
    """The clause that the words (its BM25 share) and the meaning (its best sentence's cosine)
    both put first among the searched hits, when one is; never a section, nor in a lookup.

    Each signal alone is noisy, and the fused score also weighs the passage cosine, which a long
    clause about something wider dilutes ("转接电话以后客户还要把问题再说一遍吗？": 10.2.3 CTI says it
    in one sentence, in the question's words, and ranked seventh). When both agree, and its
    sentence is clearly the closer (AnswerConfig.agreement_margin), the clause answers
    (docs/benchmarks.md, section l-nu)."""
    if any(h.matched_by == "number" for h in hits):
        return None
    if len(hits) < 2:
        return None
    by_words = max(hits, key=lambda h: h.lexical)
    by_meaning = max(hits, key=lambda h: h.similarity)
    if by_words is not by_meaning or by_words.clause.children:
        return None
    return by_words


def _title_says(parts: dict[str, float]) -> tuple[float, float]:
    """How well a clause's title says the asked topic: its share of the topic terms, then its fit."""
    return parts["title"], parts["title_fit"]


def _contains(outer: Hit, inner: Hit) -> bool:
    """Whether the inner hit's clause is a part of the outer one's (same document)."""
    return (outer.clause.document == inner.clause.document
            and inner.clause.number.startswith(outer.clause.number + "."))


def _has_parts(hit: Hit, hits: list[Hit]) -> bool:
    """Whether another of the hits is a sub-clause of the hit's clause (same document)."""
    prefix = hit.clause.number + "."
    return any(h.clause.document == hit.clause.document and h.clause.number.startswith(prefix) for h in hits)


def definitions_after_first(hits: list[Hit], defined_in: frozenset[str]) -> list[Hit]:
    """A definitions list that defines an abbreviation of the question (query.QueryAnalysis.
    defined_in) goes right after the first clause that is not one: it matches "KPI" through
    the abbreviation and its expansion, while the clause about the concept (8.2 Key performance
    indicator system, or 3.1.4 for "what does AHT stand for") answers. It stays cited."""
    if not defined_in or not hits or hits[0].clause.id not in defined_in:
        return hits
    first = next((n for n, h in enumerate(hits) if h.clause.id not in defined_in), None)
    if first is None:
        return hits
    return [hits[first]] + [h for n, h in enumerate(hits) if n != first]


SIGNALS = ("fused", "fused_z", "similarity", "dense", "lexical", "title", "heading", "coverage", "section",
           "rank", "title_fit")


def answer_signals(hits: list[Hit], query_terms: set[str], index: LoadedIndex | None,
                   idf_terms: bool = False) -> list[dict[str, float]]:
    """Per hit, what says how well its clause answers: the retrieval scores (fused, its z-score
    among these hits, best sentence cosine, passage cosine, BM25 share), its rank, whether it is a
    section, and how much of the question's topic (its terms, weighted by IDF with
    ``idf_terms``) its own title, the headings above it and its text carry, each in [0, 1].

    The headings above matter because a topic is usually a section's title: "staff training" is
    answered under 5.4 Training and development, not by 5.9 (outsourced and agency staff), whose
    own title shares as many words with the question but whose section is about something else.
    """
    weights = _term_weights(query_terms, index if idf_terms else None)
    total = sum(weights.values())
    # A clause's title and headings in every edition: with a language filter the hits are the
    # other edition's clauses, while the topic terms are still in the question's language.
    editions = editions_of(index) if index is not None and total else None
    fused = np.array([h.score for h in hits], dtype=np.float64)
    mean, spread = mean_std(fused)
    mean, spread = float(mean), float(spread) if len(hits) > 1 else 0.0
    out = []
    for position, hit in enumerate(hits):
        clause = hit.clause
        parts = {
            "fused": hit.score,
            "fused_z": (hit.score - mean) / spread if spread > 1e-9 else 0.0,
            "similarity": hit.similarity,
            "dense": hit.dense,
            "lexical": hit.lexical,
            "section": 1.0 if clause.children else 0.0,
            "rank": 1.0 / (1.0 + position),
            "title": 0.0,
            "heading": 0.0,
            "coverage": 0.0,
            "title_fit": title_fit(clause, query_terms),
        }
        if total:
            title = _terms(clause.title) if clause.title else frozenset()
            above = _heading_terms(tuple(clause.path[:-1])) if clause.path else frozenset()
            for other in editions.others(clause) if editions is not None else ():
                title = title | (_terms(other.title) if other.title else frozenset())
                above = above | (_heading_terms(tuple(other.path[:-1])) if other.path else frozenset())
            text = _terms(clause.text)
            parts["title"] = sum(w for t, w in weights.items() if t in title) / total
            parts["heading"] = sum(w for t, w in weights.items() if t in above) / total
            parts["coverage"] = sum(w for t, w in weights.items() if t in text or t in title) / total
        out.append(parts)
    return out


def clause_answer_score(hit: Hit, parts: dict[str, float], config: AnswerConfig) -> float:
    """How well the hit's clause answers: a weighted sum of its signals (answer_signals)."""
    if config.order_weights is not None:
        return sum(weight * parts.get(name, 0.0) for name, weight in config.order_weights.items())
    return (hit.score + config.sentence_weight * hit.similarity + config.title_weight * parts["title"]
            + config.heading_weight * parts["heading"] + config.title_fit_weight * parts.get("title_fit", 0.0))


def title_fit(clause: Clause, query_terms: set[str] | frozenset[str]) -> float:
    """How nearly the clause's title is the asked topic: the share of the words of either that
    both have (Jaccard), 1.0 when the title says the topic and nothing else ("Scope" for
    "What is the scope of this guidance?", "Data security" for "data security")."""
    if not query_terms or not clause.title:
        return 0.0
    title = _terms(clause.title)
    if not title:
        return 0.0
    shared = len(title & query_terms)
    return shared / len(title | query_terms) if shared else 0.0


_HEADING_NUMBER = re.compile(r"^\s*\S*\d\S*\s+")


@lru_cache(maxsize=4096)
def _heading_terms(path: tuple[str, ...]) -> frozenset[str]:
    """The topic terms of the headings above a clause (cached: siblings share them)."""
    return frozenset().union(*(_terms(_heading_text(p)) for p in path))


def _heading_text(label: str) -> str:
    """ "5.4 Training and development" -> "Training and development" (numbers are not topic words)."""
    return _HEADING_NUMBER.sub("", label)


def _term_weights(terms: set[str] | frozenset[str], index: LoadedIndex | None) -> dict[str, float]:
    """Each topic term's weight: its BM25 IDF in this index (1 each without an index)."""
    if not terms:
        return {}
    idf = index.term_idf() if index is not None else None
    if idf is None:
        return {t: 1.0 for t in terms}
    top = max(idf.values(), default=1.0)
    # A term the index does not know carries no evidence either way.
    return {t: idf.get(t, 0.0) / top for t in terms}


_DATE_LINE = re.compile(r"^[\s\d年月日/.:\-–—,]*$")
_BULLET_ONLY = re.compile(r"^[\s•·\-–*]*\w+(?:\s+\w+)?\s*$")
# A bullet with a word or two after it ("• Detail"): a page's navigation, not a statement.
_BULLET_LABEL = re.compile(r"^\s*[•·*]+\s*\w+(?:\s+\w+)?\s*$")
# Taken off a contentless sentence's score (score_sentences: a cosine plus at most 0.1), which
# puts it below every sentence that says something, however close it is to the question.
_CONTENTLESS_PENALTY = 10.0


def says_nothing(sentence: str, headings: tuple[str, ...] = ()) -> bool:
    """Whether a sentence of a clause is only a date line, a bulleted label, or a heading of the
    clause repeated in its text ("2022-10-22", "• Detail" and the page title at the top of a news
    page): never an answer sentence."""
    sentence = sentence.strip()
    return (not sentence or _DATE_LINE.match(sentence) is not None or _BULLET_LABEL.match(sentence) is not None
            or any(sentence == heading.strip() for heading in headings if heading))


def substantive(clause: Clause) -> bool:
    """Whether a clause says something: not only a date line, a bullet or a heading."""
    return _substantive(clause.text, clause.title)


@lru_cache(maxsize=16384)
def _substantive(text: str, title: str) -> bool:
    # Cached by text: every answer asks it of each candidate clause, and the same clauses come
    # back question after question.
    for start, end in sentence_spans(text):
        sentence = text[start:end].strip()
        # Besides what is never quoted, a clause says nothing in a word or two without a bullet,
        # or in the beginning of its own title.
        if says_nothing(sentence, (title,)) or _BULLET_ONLY.match(sentence) or title.startswith(sentence.rstrip("…")):
            continue
        words = len(sentence.split()) if not detect_language(sentence) == "zh" else len(sentence) // 2
        if words >= 4:
            return True
    return False


def make_citation(
    clause: Clause,
    highlights: list[tuple[int, int]],
    score: float,
    index: LoadedIndex,
    config: AnswerConfig,
    editions: Editions,
) -> Citation:
    children, also_in, label = _citation_parts(clause, index, editions)
    return Citation(
        id=clause.id,
        document=clause.document,
        clause=clause.number,
        title=clause.title,
        path=list(clause.path),
        page_start=clause.page_start,
        page_end=clause.page_end,
        lang=clause.lang,
        text=clause.text,
        highlights=highlights,
        # The similarity the abstention decision uses (cosine scale); 1.0 for a bare lookup.
        score=round(float(score), 4),
        kind=config.kind(clause.document),
        link=clause_link(clause, highlights),
        # Fresh dicts for every citation (callers may edit theirs); what goes in them is per clause.
        also_in=[dict(other) for other in also_in],
        children=[dict(child) for child in children],
        page_label=label,
    )


def _citation_parts(clause: Clause, index: LoadedIndex, editions: Editions) -> tuple[tuple[dict, ...], tuple[dict, ...], str | None]:
    """A clause's children and other editions (id, number or language, link) and its page label:
    the same for every citation of the clause, so worked out once per loaded index."""
    cache = index.derived("citation_parts", dict)
    parts = cache.get(clause.id)
    if parts is None or parts[0] is not editions:  # another Editions than the index's own: not cached for it
        children = []
        for child_id in clause.children:
            child = index.clause_by_id.get(child_id)
            if child is not None:
                children.append({"id": child.id, "clause": child.number, "title": child.title, "link": clause_link(child)})
        also_in = [{"id": o.id, "lang": o.lang, "link": clause_link(o)} for o in editions.others(clause)]
        parts = cache[clause.id] = (editions, tuple(children), tuple(also_in), page_label(clause))
    return parts[1:]


def _bound(citation: Citation, limit: int) -> None:
    """Cut a huge clause's text after the sentence that crosses ``limit`` (never before a highlight)."""
    if len(citation.text) <= limit:
        return
    need = max([limit] + [end for _, end in citation.highlights])
    cut = next((end for _, end in clause_spans(citation.text) if end >= need), len(citation.text))
    if cut < len(citation.text):
        citation.text = citation.text[:cut]
        citation.truncated = True


# -- refusals ---------------------------------------------------------------------------------


def _refusal(
    question: str,
    reason: str,
    hits: list[Hit],
    index: LoadedIndex,
    config: AnswerConfig,
    language: str,
    lang: str | None,
) -> Answer:
    message = said_to_asker(reason, language)
    if config.contact:
        reason = f"{reason} {config.contact}"
    return Answer(
        question=question,
        answer="",
        abstained=True,
        reason=reason,
        index_version=index.version,
        suggestions=suggestions(hits, index, config, lang or language),
        contact=config.contact,
        message=message,
    )


def suggestions(hits: list[Hit], index: LoadedIndex, config: AnswerConfig, lang: str) -> list[dict]:
    """The closest clauses, guidance first, one per clause: places to look, not answers."""
    editions = editions_of(index)
    usable = [h for h in hits if substantive(h.clause)]
    usable.sort(key=lambda h: config.kind(h.clause.document) != DEFAULT_KIND)  # stable
    out = []
    for hit in _one_per_clause(usable, editions, lang)[: config.suggestions]:
        clause = hit.clause
        out.append({"id": clause.id, "document": clause.document, "clause": clause.number,
                    "title": clause.title, "lang": clause.lang, "link": clause_link(clause)})
    return out


def missing_view(missing: MissingClause, question: str, index: LoadedIndex, config: AnswerConfig,
                 lang: str | None) -> dict:
    """What /api/search says of a missing clause: the parts, for a page to say it in its own
    language, the reason (English) and ``message`` in the question's language, as a refusal has."""
    return {"number": missing.number, "unit": missing.unit, "document": missing.document,
            "reason": missing.reason, "message": said_to_asker(missing.reason, question_lang(question)),
            "nearest": suggestions(missing.nearest, index, config, lang or question_lang(question))}


# -- highlights -------------------------------------------------------------------------------


def score_sentences(
    clause_id: str,
    text: str,
    query_vector: np.ndarray | None,
    query_terms: set[str],
    index: LoadedIndex,
) -> list[ScoredSentence]:
    """Dense similarity of each sentence to the question, nudged by shared words."""
    rows = index.sentence_rows(clause_id)
    if rows and index.has_sentence_vectors and query_vector is not None:
        spans = _row_spans(index, clause_id)
        dense = index.sentence_scores(query_vector, rows)
    else:
        spans = clause_spans(text)
        dense = np.zeros(len(spans), dtype=np.float32)
    clause = index.clause_by_id.get(clause_id)
    headings = (clause.title, *clause.path) if clause is not None else ()
    scored = []
    terms_of = _span_terms(text, spans) if query_terms else None
    for position, ((start, end), cosine) in enumerate(zip(spans, dense.tolist())):
        overlap = 0.0
        if terms_of is not None:
            overlap = len(query_terms & terms_of[position]) / len(query_terms)
        score = float(cosine) + 0.1 * overlap
        if says_nothing(text[start:end], headings):
            score -= _CONTENTLESS_PENALTY
        scored.append(ScoredSentence(start, end, score))
    return scored


def _row_spans(index: LoadedIndex, clause_id: str) -> tuple[tuple[int, int], ...]:
    """The clause's sentence spans as the index stores them, worked out once per loaded index."""
    cache = index.derived("row_spans", dict)
    spans = cache.get(clause_id)
    if spans is None:
        sentences = index.sentences
        spans = cache[clause_id] = tuple((sentences[r].start, sentences[r].end) for r in index.sentence_rows(clause_id))
    return spans


@lru_cache(maxsize=4096)
def _span_terms(text: str, spans: tuple[tuple[int, int], ...]) -> tuple[frozenset[str], ...]:
    """Each span's index terms (_terms), per clause text: one look-up instead of one per sentence."""
    return tuple(_terms(text[start:end]) for start, end in spans)


def pick_highlights(sentences: list[ScoredSentence], config: AnswerConfig) -> list[ScoredSentence]:
    if not sentences:
        return []
    ranked = sorted(sentences, key=lambda s: s.score, reverse=True)
    best = ranked[0].score
    return [s for s in ranked[: config.highlights_per_clause] if s.score >= best - config.highlight_margin]


# -- search results ---------------------------------------------------------------------------


def order_search_hits(question: str, hits: list[Hit], index: LoadedIndex, config: AnswerConfig,
                      analysis: QueryAnalysis | None = None, query_vector: np.ndarray | None = None) -> list[Hit]:
    """Search results in the order an answer would cite them (named clauses first), so the search
    page and /api/ask agree on the best clause."""
    named = [h for h in hits if h.matched_by == "number"]
    rest = [h for h in hits if h.matched_by != "number"]
    terms = set(analysis.terms) if analysis is not None else topic_terms(question)
    ordered = order_by_answer(rest, query_vector, terms, index, config)
    if analysis is not None:
        ordered = definitions_after_first(ordered, analysis.defined_in)
    return named + ordered


def search_view(question: str, hits: list[Hit], query_vector: np.ndarray | None, index: LoadedIndex,
                config: AnswerConfig, covered: bool = True) -> list[dict]:
    """What /api/search shows per hit besides the clause: the same highlights as an answer's, a
    plain relevance label, and ``weak`` below the floor that an answer would cite down to.
    ``covered`` False (the scope decision would refuse the query) makes every hit but a named
    clause weak: nothing matches, whatever its cosine."""
    language = question_lang(question)
    query_terms = topic_terms(question)
    editions = editions_of(index)
    high = config.calibration.threshold
    floor = high - config.citation_margin
    out = []
    for hit in hits:
        clause = hit.clause
        named = hit.matched_by == "number"
        relevance = config.calibration.relevance(hit, language)
        if named or (covered and relevance >= high):
            label = "high"
        elif covered and relevance >= floor:
            label = "medium"
        else:
            label = "low"
        sentences = score_sentences(clause.id, clause.text, query_vector, query_terms, index)
        highlights = [] if named and not query_terms else sorted(
            (s.start, s.end) for s in pick_highlights(sentences, config))
        citation = make_citation(clause, highlights, hit.similarity, index, config, editions)
        _bound(citation, config.citation_chars)
        out.append({
            "text": citation.text,
            "highlights": citation.highlights,
            "truncated": citation.truncated,
            "weak": label == "low" or (not named and not substantive(clause)),
            "relevance": label,
            "kind": citation.kind,
            "link": citation.link,
            "page_label": citation.page_label,
            "also_in": citation.also_in,
            "child_links": citation.children,
        })
    return out
