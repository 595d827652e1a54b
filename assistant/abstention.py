"""The scope decision: does the indexed guidance cover this question, and how sure is that?

One cosine cutoff did not carry from one question set or corpus to another (issue 12). The
decision here combines several signals in a logistic regression whose parameters are fitted per
embedder on labelled questions from several corpora (scripts/fit_scope.py) and shipped in
assistant/scope_params/<embedder>.json. The signals are put on scales that do not depend on
the corpus: dense scores against the query's own score distribution over the index and against
pseudo-questions made from the index's own sentences, lexical evidence as shares of the
question's IDF weight, so that a corpus the parameters never saw calibrates itself.

The output is a confidence in [0, 1] (the fitted probability that the question is covered), the
decision (abstain below ``min_confidence``), an ``uncertain`` flag for answers just above it, and
a reason a person can read.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.homophones import HOMOPHONES_FILE, Homophones
from assistant.query import QueryAnalysis, Vocabulary, content_terms, english_word_frequency
from assistant.editions import editions_of
from assistant.numeric import mean_std
from assistant.text import CJK_CLASS, is_han

if TYPE_CHECKING:
    from assistant.index import LoadedIndex

PARAMS_DIR = Path(__file__).parent / "scope_params"

# The signals, in the order the parameter files list their weights.
SIGNALS = (
    "dense_z",  # best passage cosine, z-scored against this question's cosines over the whole index
    "dense_gap",  # best minus 10th-best passage cosine, in the same units
    "sim_pseudo",  # best sentence cosine of the top clauses against pseudo-questions of this index
    "bm25_norm",  # best BM25 score over the most the question's terms could score
    "cov_corpus",  # IDF-weighted share of the question's words the corpus knows at all
    "cov_top",  # IDF-weighted share of the question's words the top 3 clauses contain
    "cov_title",  # the same for the best clause's title, heading path and document title
    "lex_agree",  # the best fused clause's BM25 score over the best BM25 score
    "zh",  # the question is Chinese
    "cross",  # the best clause is in another language than the question
    "n_terms",  # log(1 + number of content words)
    "sent_z",  # best sentence cosine, z-scored against this question's cosines to every sentence
    "sim_margin",  # best minus second-best clause's sentence cosine, in pseudo-question units
    "doc_share",  # share of the top 10 clauses in the best clause's document
    "miss_idf",  # highest IDF (over the corpus maximum) of a question word the top 3 clauses lack
    "cov_top1",  # IDF-weighted share of the question's words the best clause contains
    "coherence",  # mean cosine between the top 5 clauses, in pseudo-question units
    "figure_gap",  # the question asks for a figure (how much, 多少, 几天) and the best clause states none
    "miss_top1",  # IDF share (over the corpus maximum) of the question's rarest word the best clause lacks
    "spec_miss",  # general-language specificity of the most specific question word the top 3 clauses lack
    "spec_unknown",  # the same for question words the corpus never uses at all
    "spec_share",  # specificity-weighted share of the question's words the best clause lacks
    # Not from the index: set by ScopeModel.decide from the model's own labelled questions (Exemplars).
    "exemplar_gap",  # best cosine to a labelled near miss minus best cosine to a labelled answerable question
    "exemplar_vote",  # share of near misses among the closest labelled questions, weighted by closeness
)


@dataclass
class Calibration:
    """Puts the cosine of any question/clause language pair on one scale (citation floors).

    No longer decides scope: compose_answer uses it to choose which retrieved clauses are close
    enough to cite once the scope decision has said the question is covered.
    """

    threshold: float
    shifts: dict[tuple[str, str], float] = field(default_factory=dict)

    def relevance(self, hit: Hit, question_language: str) -> float:
        return hit.similarity + self.shifts.get((question_language, hit.clause.lang), 0.0)


@dataclass
class ScopeDecision:
    confidence: float
    abstain: bool
    uncertain: bool
    reason: str | None
    signals: dict[str, float] = field(default_factory=dict)


# -- per-index statistics ------------------------------------------------------------------------


class IndexProfile:
    """What the decision needs to know about one index: IDF, vocabulary, its own score levels.

    Built once per index version (when the retriever is made) from the index's own vectors and
    BM25 statistics; no model call.
    """

    PSEUDO_SAMPLE = 256

    def __init__(self, index: LoadedIndex) -> None:
        bm25 = index.lexical._retriever
        self.k1 = float(getattr(bm25, "k1", 1.2))
        self.n_docs = int(bm25.scores["num_docs"])
        document_frequency = np.diff(np.asarray(bm25.scores["indptr"]))
        self.idf: dict[str, float] = {}
        for token, column in bm25.vocab_dict.items():
            df = float(document_frequency[column]) if column < len(document_frequency) else 0.0
            if df > 0:
                self.idf[token] = _idf(self.n_docs, df)
        self.max_idf = _idf(self.n_docs, 0.0)
        titles = {d["id"]: d.get("title") or "" for d in index.documents}
        self._clause_text = {c.id: c for c in index.clauses}
        self._titles = titles
        self.vocabulary = Vocabulary(
            [c.text for c in index.clauses] + [c.title for c in index.clauses] + list(titles.values())
        )
        # query.english_words is left to the first question word that neither the corpus nor its
        # stems know: most questions never need it, and it is quick to load since section h2-cold.
        self.pseudo = _pseudo_levels(index, self.PSEUDO_SAMPLE)
        self._terms_lock = threading.Lock()
        # What the build stored (scope_profile.json), read once here for everything below.
        stored = stored_scope_profile(index)
        # The clauses' coverage terms, tokenised when the index was built: tokenised on first
        # use, they slowed a fresh server's first few hundred questions (docs/benchmarks.md,
        # "Speed: stop 12").
        self._terms: dict[str, frozenset[str]] = _clause_terms_of(stored)
        # The Chinese text's spans and homophone keys (homophones.py), for the question analysis.
        self.homophones = chinese_homophones(index, self._terms, Path(index.root) / HOMOPHONES_FILE)
        self._near_miss_lock = threading.Lock()
        self._near_miss: list[dict[str, float]] | None = _near_misses_of(stored)
        self._levels: dict[tuple[int, str | None], float | None] = {}
        self._figures: dict[str, bool] = {}  # one bool per clause; a race writes the same value

    def near_miss_level(self, model: ScopeModel, retriever: Retriever, lang: str | None) -> float | None:
        """Mean logit the model gives this index's pseudo near misses (of ``lang``'s sentences).

        The near misses' signals are stored with the index when it is built (scope_profile.json,
        read when the profile is made); an index built before that, or by other signal code, has
        them computed here once (a few hundred searches with stored vectors). The level itself is
        per model.
        """
        key = (id(model), lang)
        if key not in self._levels:
            with self._near_miss_lock:
                if self._near_miss is None:
                    self._near_miss = pseudo_near_misses(retriever)
                self._levels[key] = model.near_miss_level(self._near_miss, lang)
        return self._levels[key]

    def clause_has_figure(self, clause_id: str) -> bool:
        """Whether the clause's text states a figure (a digit, a number word, 三个月)."""
        found = self._figures.get(clause_id)
        if found is None:
            found = self._figures[clause_id] = _FIGURE.search(self._clause_text[clause_id].text) is not None
        return found

    def clause_text(self, clause_id: str) -> str:
        clause = self._clause_text[clause_id]
        return f"{clause.title}\n{clause.text}"

    def idf_of(self, term: str) -> float:
        return self.idf.get(term, self.max_idf)

    def clause_terms(self, clause_id: str, with_text: bool = True) -> frozenset[str]:
        key = ("t:" if with_text else "h:") + clause_id
        terms = self._terms.get(key)
        if terms is None:
            clause = self._clause_text[clause_id]
            heading = " ".join([clause.title, *clause.path, self._titles.get(clause.document, "")])
            text = f"{heading}\n{clause.text}" if with_text else heading
            terms = frozenset(content_terms(text)) | frozenset(_tokens(text))
            with self._terms_lock:
                self._terms[key] = terms
        return terms


# A question asking for a quantity ("How many days of annual leave?", "加班费是几倍") is answered by a
# clause that states one; near misses of a standard are often exactly that: the topic is there
# (pay, leave, handle time), the figure is not. Asking words per language, and how figures are
# written (digits, number words, Chinese numerals before a unit).
_ASKS_FIGURE = re.compile(
    r"\bhow\s+(?:much|many|long|often|old|soon|far|high|low|big|large)\b"
    r"|\bwhat\s+(?:is|are|\'s)\s+(?:the\s+)?(?:\w+\s+)?(?:rate|age|amount|number|percentage|ratio|limit|minimum|"
    r"maximum|threshold|fee|price|cost|salary|wage|target|deadline|duration|period)s?\b"
    r"|\bper\s+(?:hour|day|week|month|year|seat|call)\b|\bhow\s+\w+\s+(?:cost|earn|pay)\b"
    r"|多少|几(?:个|天|日|次|年|月|周|小时|分钟|秒|倍|岁|成|人|元|名)|多久|多长|多大|多高|多快|几点|税率|比例是|百分之几",
    re.I,
)
_FIGURE = re.compile(
    r"(?<![\d.])\d+(?:\.\d+)?(?!\.?\d)|[零〇一二三四五六七八九十百千万两半]+\s*(?:个|日|天|年|月|周|星期|小时|分钟|秒|元|倍|%|％|次|人|岁|成|工作日|名)"
    r"|百分之|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
    r"fifty|sixty|hundred|thousand|half|twice|double|percent|dozen)\b",
    re.I,
)


def asks_for_figure(question: str) -> bool:
    return _ASKS_FIGURE.search(question) is not None


def _idf(n_docs: int, df: float) -> float:
    # bm25s's default (Lucene) IDF, so that bm25_norm's bound matches its scores.
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


@lru_cache(maxsize=8192)
def _tokens(text: str) -> tuple[str, ...]:
    from assistant.lexical import tokenize

    return tuple(tokenize(text))


def _pseudo_levels(index: LoadedIndex, sample: int) -> dict[str, tuple[float, float]]:
    """Per clause language: mean and spread of a sentence's best cosine to another clause.

    The index's own sentences stand in for questions: how close does text of this corpus come to
    other text of this corpus? A question scoring at that level looks like the corpus talking
    about itself; well below it, like something else.
    """
    if index.has_sentence_vectors:
        store = index.sentence_store
        owners = [s.clause_id for s in index.sentences]
    else:
        store = index.passage_store
        owners = [p.clause_id for p in index.passages]
    if len(store) < 3:
        return {}
    clause_row = {c.id: row for row, c in enumerate(index.clauses)}
    owner_rows = np.array([clause_row[o] for o in owners], dtype=np.int64)
    langs = np.array([index.clause_by_id[o].lang for o in owners])
    levels: dict[str, tuple[float, float]] = {}
    for lang in sorted(set(langs.tolist())):
        rows = np.flatnonzero(langs == lang)
        picked = rows[np.linspace(0, len(rows) - 1, num=min(sample, len(rows))).astype(np.int64)]
        sims = store.score_all(np.asarray(store.vectors(picked)))
        sims[owner_rows[picked][:, None] == owner_rows[None, :]] = -np.inf
        best = sims.max(axis=1)
        best = best[np.isfinite(best)]
        if best.size >= 2:
            levels[lang] = (float(best.mean()), max(float(best.std()), 1e-3))
    return levels


# -- signals ---------------------------------------------------------------------------------------


SPECIFICITY_SIGNALS = frozenset({"spec_miss", "spec_unknown", "spec_share"})


def signals(analysis: QueryAnalysis, result: SearchResult, retriever: Retriever,
            needed: frozenset[str] | None = None) -> dict[str, float]:
    """Every signal, or (``needed``) at least those: the specificity signals, which the shipped
    parameters do not use, are left at 0 unless needed (their cost per question: docs/benchmarks.md,
    section t1-scope)."""
    profile = retriever.profile
    hits = [h for h in result.hits if h.matched_by != "number"] or result.hits
    out = dict.fromkeys(SIGNALS, 0.0)
    out["zh"] = 1.0 if analysis.lang == "zh" else 0.0
    terms = content_terms(analysis.search_text)
    out["n_terms"] = math.log1p(len(terms))
    cosines = result.cosines
    if cosines is not None and cosines.size:
        mean, spread = mean_std(cosines)
        mean, spread = float(mean), float(spread) or 1e-3
        count = min(10, cosines.size)
        top = np.partition(cosines, cosines.size - count)[cosines.size - count :]
        out["dense_z"] = (float(top.max()) - mean) / spread
        out["dense_gap"] = (float(top.max()) - float(top.min())) / spread
    if hits:
        ranked = sorted(hits[:10], key=lambda h: -h.similarity)
        best = ranked[0]
        level = profile.pseudo.get(best.clause.lang)
        if level is not None:
            out["sim_pseudo"] = (best.similarity - level[0]) / level[1]
            if len(ranked) > 1:
                out["sim_margin"] = (best.similarity - ranked[1].similarity) / level[1]
        rows = [r[0] for h in hits[:5] if (r := retriever.index.passage_rows(h.clause.id))]
        if level is not None and len(rows) > 1:
            block = retriever.index.passage_store.vectors(rows)
            pairs = block @ block.T
            mean_pair = (float(pairs.sum()) - float(np.trace(pairs))) / (len(rows) * (len(rows) - 1))
            out["coherence"] = (mean_pair - level[0]) / level[1]
        top_document = hits[0].clause.document
        out["doc_share"] = sum(h.clause.document == top_document for h in hits[:10]) / min(10, len(hits))
        sentence_cosines = result.sentence_cosines
        if sentence_cosines is None and result.query_vector is not None:
            sentence_cosines = retriever.index.sentence_scores(result.query_vector)
        if sentence_cosines is not None and sentence_cosines.size > 1:
            mean, spread = mean_std(sentence_cosines)
            out["sent_z"] = (float(sentence_cosines.max()) - float(mean)) / (float(spread) or 1e-3)
        out["cross"] = 1.0 if best.clause.lang != analysis.lang else 0.0
        out["lex_agree"] = float(hits[0].lexical)
    weights = {t: profile.idf_of(t) for t in terms}
    total = sum(weights.values())
    if total > 0 and hits:
        known = sum(w for t, w in weights.items() if t in profile.idf)
        out["cov_corpus"] = known / total
        top_terms = frozenset().union(*(profile.clause_terms(h.clause.id) for h in hits[:3]))
        out["cov_top"] = sum(w for t, w in weights.items() if t in top_terms) / total
        heading = profile.clause_terms(hits[0].clause.id, with_text=False)
        out["cov_title"] = sum(w for t, w in weights.items() if t in heading) / total
        first = profile.clause_terms(hits[0].clause.id)
        out["cov_top1"] = sum(w for t, w in weights.items() if t in first) / total
        missing = [w for t, w in weights.items() if t not in top_terms]
        out["miss_idf"] = max(missing) / profile.max_idf if missing else 0.0
        # Only words the corpus knows: an unknown word is cov_corpus's evidence already.
        lacking = [w for t, w in weights.items() if t not in first and t in profile.idf]
        out["miss_top1"] = max(lacking) / profile.max_idf if lacking else 0.0
    if hits and asks_for_figure(analysis.text):
        out["figure_gap"] = 0.0 if profile.clause_has_figure(hits[0].clause.id) else 1.0
    if hits and (needed is None or not SPECIFICITY_SIGNALS.isdisjoint(needed)):
        out.update(specific_absence(analysis.search_text, hits, profile))
    lexical = result.lexical_scores
    if lexical is not None and lexical.size:
        from assistant.lexical import bm25_terms

        bound = sum(profile.idf[t] for t in bm25_terms(analysis.search_text) if t in profile.idf) * (profile.k1 + 1)
        if bound > 0:
            out["bm25_norm"] = min(1.0, float(lexical.max()) / bound)
    return out


# -- the specific thing asked ---------------------------------------------------------------------
#
# Near misses of a standard share its topic and lack the specific thing asked: "sick leave", "a
# headset brand", "servers abroad", 声纹识别. IDF over the corpus cannot say how specific a word is
# that the corpus never uses (every such word gets the same, highest IDF: miss_idf is 1.0 for most
# questions). How rare a word is in the language at large can: "canteen", "biometrics", 病假 are
# specific, "hey", "forever", 这算 are the casual wording of a real question. The general
# frequencies come from word lists the pipeline loads anyway: jieba's dictionary for Chinese,
# pyspellchecker's for English (query.english_word_frequency). Nothing is computed over clause text per
# question beyond a substring test on the three clauses retrieved first.


@dataclass(frozen=True)
class QuestionWord:
    word: str  # as asked, lower-cased
    keys: tuple[str, ...]  # index terms any one of which covers it (the word, or its stem)
    specificity: float  # in [0, 1]: -log of its general-language frequency, over -log of one in all


@lru_cache(maxsize=1)
def _general_frequencies() -> tuple[dict, float, dict, float]:
    # On first use, not when an index opens: the shipped parameters do not use these signals, and
    # jieba's dictionary is otherwise loaded by the first Chinese question's tokenisation.
    from assistant.lexical import jieba_segmenter

    dictionary = jieba_segmenter().dt
    dictionary.check_initialized()
    english = english_word_frequency()
    return dictionary.FREQ, float(dictionary.total), english.dictionary, float(english.total_words)


def _specificity(word: str, zh: bool) -> float:
    zh_freq, zh_total, en_freq, en_total = _general_frequencies()
    freq, total = (zh_freq, zh_total) if zh else (en_freq, en_total)
    count = freq.get(word)
    if count:
        return min(1.0, math.log(total / count) / math.log(total))
    if zh and len(word) > 1:
        # A word jieba's HMM made up (这算, 打进来): as specific as its characters on average.
        return float(np.mean([_specificity(c, True) for c in word]))
    return 1.0  # an English word no dictionary knows: a name (Twilio) or an uncorrected typo


_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z]+")


@lru_cache(maxsize=4096)
def question_words(text: str) -> tuple[QuestionWord, ...]:
    """The question's content words with their specificity (content_terms' words, unstemmed)."""
    from assistant.lexical import CHINESE_STOPWORDS, ENGLISH_STOPWORDS, jieba_segmenter
    from assistant.query import _EN_FILLER, _ZH_FILLER, _stem

    out: dict[str, QuestionWord] = {}
    for piece in re.split(f"([{CJK_CLASS}]+)", text):
        if not piece:
            continue
        if is_han(piece[0]):
            for word in jieba_segmenter().lcut(piece):
                if word not in CHINESE_STOPWORDS and word not in _ZH_FILLER:
                    out.setdefault(word, QuestionWord(word, (word,), _specificity(word, True)))
            continue
        for match in _LATIN_WORD.finditer(piece):
            word = match.group(0).lower()
            if word in ENGLISH_STOPWORDS:
                continue
            stem = _stem(word)
            if stem not in _EN_FILLER:
                out.setdefault(word, QuestionWord(word, tuple(dict.fromkeys((stem, word))), _specificity(word, False)))
    return tuple(out.values())


def _covered(word: QuestionWord, terms, texts: tuple[str, ...] = ()) -> bool:
    if any(key in terms for key in word.keys):
        return True
    if len(word.word) > 1 and is_han(word.word[0]):
        # Chinese writes one thing several ways: 客服 for 客户服务, 月工资 beside 工资. The word's
        # bigrams all in the terms, or its characters in order within a short span of the text.
        if len(word.word) > 2 and all(word.word[i : i + 2] in terms for i in range(len(word.word) - 1)):
            return True
        pattern = _spread(word.word)
        return any(pattern.search(text) for text in texts)
    return False


@lru_cache(maxsize=4096)
def _spread(word: str) -> re.Pattern:
    return re.compile(".{0,2}".join(re.escape(c) for c in word))


def specific_absence(text: str, hits: list[Hit], profile: IndexProfile) -> dict[str, float]:
    words = question_words(text)
    if not words:
        return {}
    top = [h.clause.id for h in hits[:3]]
    top_terms = frozenset().union(*(profile.clause_terms(c) for c in top))
    top_texts = tuple(profile.clause_text(c) for c in top)
    missing = [w.specificity for w in words if not _covered(w, top_terms, top_texts)]
    unknown = [w.specificity for w in words if not _covered(w, profile.idf)]
    first_terms = profile.clause_terms(top[0])
    lacking = sum(w.specificity for w in words if not _covered(w, first_terms, top_texts[:1]))
    total = sum(w.specificity for w in words)
    return {
        "spec_miss": max(missing, default=0.0),
        "spec_unknown": max(unknown, default=0.0),
        "spec_share": lacking / total if total > 0 else 0.0,
    }


def pseudo_near_misses(retriever: Retriever, sample: int = 200) -> list[dict[str, float]]:
    """Signals of the index's own sentences asked as questions, with their own clause masked out.

    Each stands for an in-domain near miss: a question in this corpus's words whose answer is not
    in the index. Their level is this index's own, measured without labels or model calls (the
    sentence vectors are the query vectors).

    Each pseudo-question is searched as a real question is (Retriever.search, then signals()):
    the ranking is per question, so only what is the same for all of them is done once (the
    sample, the query vectors, each row's clause for the masks). Each question's texts are
    tokenised once for all its stages, as the service does per question (lexical.question_scope),
    and BLAS runs on one thread here whatever the caller set: the rows do not depend on how the
    build was started (docs/benchmarks.md, "Test suite", v5-fast).
    """
    from dataclasses import replace

    from threadpoolctl import threadpool_limits

    from assistant.lexical import question_scope

    index = retriever.index
    sentences = index.sentences
    if index.sentence_store is None or len(sentences) < 3:
        return []
    picked = np.linspace(0, len(sentences) - 1, num=min(sample, len(sentences))).astype(np.int64)
    clause_row = {clause.id: row for row, clause in enumerate(index.clauses)}
    sentence_owner = np.array([clause_row[s.clause_id] for s in sentences], dtype=np.int64)
    passage_owner = np.array([clause_row[p.clause_id] for p in index.passages], dtype=np.int64)
    query_vectors = np.asarray(index.sentence_store.vectors(picked))
    out = []
    with threadpool_limits(limits=1, user_api="blas"):
        for n, row in enumerate(picked.tolist()):
            sentence = sentences[row]
            text = index.clause_by_id[sentence.clause_id].text[sentence.start : sentence.end]
            own = sentence_owner[row]  # its clause, masked out below (integer rows compare fast)
            with question_scope():
                analysis = retriever.analyse(text)
                result = retriever.search(text, k=20, query_vector=query_vectors[n], analysis=analysis)
                other = passage_owner != own
                masked = replace(
                    result,
                    hits=[h for h in result.hits if h.clause.id != sentence.clause_id and h.matched_by != "number"],
                    cosines=None if result.cosines is None else result.cosines[other],
                    lexical_scores=None if result.lexical_scores is None else result.lexical_scores[other],
                    sentence_cosines=None if result.sentence_cosines is None
                    else result.sentence_cosines[sentence_owner != own],
                )
                if masked.hits:
                    out.append(signals(analysis, masked, retriever))
    return out


# -- stored with the index ------------------------------------------------------------------------

SCOPE_PROFILE_FILE = "scope_profile.json"
# Bump when signals() or pseudo_near_misses() change: stored rows of another version are
# recomputed at load instead of being read.
SIGNALS_VERSION = "3"  # 2: figure_gap, miss_top1; 3: spec_miss, spec_unknown, spec_share


def scope_profile(retriever: Retriever) -> dict:
    """What the scope decision stores with a freshly built index: its pseudo near misses' signals
    and every clause's coverage terms.

    Computed at build time (stored vectors only, no model call) so that opening the index does
    not repeat the few hundred searches, and the first questions do not tokenise the clauses
    they meet (retrieval.index_artifacts hands it to build_index).
    """
    profile = retriever.profile
    terms = {}
    for clause in retriever.index.clauses:
        terms["t:" + clause.id] = sorted(profile.clause_terms(clause.id))
        terms["h:" + clause.id] = sorted(profile.clause_terms(clause.id, with_text=False))
    return {"signals_version": SIGNALS_VERSION, "near_misses": pseudo_near_misses(retriever), "clause_terms": terms}


def chinese_homophones(index: LoadedIndex, terms: dict[str, frozenset[str]], stored: Path | None = None) -> Homophones:
    """The index's Chinese text for homophone repair, the longer words from the clauses' coverage
    terms (keys "t:<id>"); its tables read from ``stored`` when the build wrote them there."""
    chinese = [c for c in index.clauses if c.lang == "zh"]
    return Homophones([c.text for c in chinese] + [c.title for c in chinese],
                      (w for c in chinese for w in terms.get(f"t:{c.id}", ())), stored)


def homophone_tables(index: LoadedIndex, profile: dict) -> dict:
    """The homophone tables a new index stores (HOMOPHONES_FILE), made from the coverage terms of
    its scope profile (``scope_profile``) as IndexProfile makes them when it reads that profile."""
    return chinese_homophones(index, _clause_terms_of(profile)).stored_form()


def stored_scope_profile(index: LoadedIndex) -> dict | None:
    """The scope_profile.json of the index's version folder, parsed; None when absent or written
    by other signal code. The one place the file is read: IndexProfile reads it once per load and
    takes each part through the functions below (a new stored field gets one of its own)."""
    path = Path(index.root) / SCOPE_PROFILE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # load_version checked its checksum; this is a file it did not list
    if not isinstance(data, dict) or data.get("signals_version") != SIGNALS_VERSION:
        return None
    return data


def _clause_terms_of(stored: dict | None) -> dict[str, frozenset[str]]:
    terms = stored.get("clause_terms") if stored is not None else None
    if not isinstance(terms, dict):
        return {}
    return {key: frozenset(value) for key, value in terms.items() if isinstance(value, list)}


def _near_misses_of(stored: dict | None) -> list[dict[str, float]] | None:
    rows = stored.get("near_misses") if stored is not None else None
    return rows if isinstance(rows, list) else None


def stored_clause_terms(index: LoadedIndex) -> dict[str, frozenset[str]]:
    """The clauses' coverage terms stored with the index (keys "t:<id>" with text, "h:<id>"
    heading only); empty when absent or stale, and then they are tokenised on first use."""
    return _clause_terms_of(stored_scope_profile(index))


def stored_near_misses(index: LoadedIndex) -> list[dict[str, float]] | None:
    """The pseudo near misses stored in the index's version folder; None when absent or stale."""
    return _near_misses_of(stored_scope_profile(index))


# -- the fitted model --------------------------------------------------------------------------------


class Exemplars:
    """The labelled questions of one corpus's fit split, as query vectors: a question closer to a
    known near miss than to any known answerable question is likely a near miss too.

    Near misses of the shipped corpus share its topics and vocabulary, so the lexical and dense
    signals against the index place them among real questions; labelled questions about the same
    kind of thing do not (docs/benchmarks.md, section t1-scope). Stored beside the parameter file
    (``<embedder>.exemplars.npz``): the vectors are the embedder's.
    """

    # exemplar_vote: the VOTERS closest labelled questions, each weighing exp(cosine / TEMPERATURE)
    # relative to the closest (grouped CV inside the fit split; docs/benchmarks.md, section u1-scope).
    VOTERS = 11
    TEMPERATURE = 0.02

    def __init__(self, vectors: np.ndarray, answerable: np.ndarray, file: str = "", k: int = 1) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        self.vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        self.answerable = np.asarray(answerable, dtype=bool)
        self.file = file
        self.k = max(1, int(k))
        self._near = np.flatnonzero(~self.answerable)
        self._real = np.flatnonzero(self.answerable)

    def gap(self, query_vector: np.ndarray | None, leave_out: int | None = None) -> float:
        """Mean cosine of the ``k`` closest labelled near misses minus that of the ``k`` closest
        labelled answerable questions (``leave_out``: the row of the question itself, when fitting
        on the exemplars)."""
        return self.signals(query_vector, leave_out)["exemplar_gap"]

    def signals(self, query_vector: np.ndarray | None, leave_out: int | None = None) -> dict[str, float]:
        """exemplar_gap and exemplar_vote for one question (one product with the exemplars)."""
        out = {"exemplar_gap": 0.0, "exemplar_vote": 0.0}
        if query_vector is None:
            return out
        q = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        sims = self.vectors @ (q / max(float(np.linalg.norm(q)), 1e-12))
        n_near, n_real = self._near.size, self._real.size
        if leave_out is not None:
            sims[leave_out] = -np.inf  # sims is this call's own array
            n_real, n_near = (n_real - 1, n_near) if self.answerable[leave_out] else (n_real, n_near - 1)
        if min(n_near, n_real) < self.k:
            return out
        near, real = sims[self._near], sims[self._real]
        if self.k == 1:
            out["exemplar_gap"] = float(near.max() - real.max())
        else:
            out["exemplar_gap"] = float(np.partition(near, near.size - self.k)[-self.k:].mean()
                                        - np.partition(real, real.size - self.k)[-self.k:].mean())
        count = min(self.VOTERS, n_near + n_real)
        closest = np.argpartition(sims, sims.size - count)[-count:]
        top = sims[closest]
        weight = np.exp((top - top.max()) / self.TEMPERATURE)
        out["exemplar_vote"] = float(weight[~self.answerable[closest]].sum() / weight.sum())
        return out

    def save(self, path: Path) -> None:
        np.savez_compressed(path, vectors=self.vectors.astype(np.float16), answerable=self.answerable,
                            k=np.array(self.k))

    @classmethod
    def read(cls, path: Path) -> Exemplars:
        with np.load(path) as data:
            k = int(data["k"]) if "k" in data.files else 1
            return cls(data["vectors"].astype(np.float32), data["answerable"], path.name, k)


@dataclass
class ScopeModel:
    features: list[str]
    mean: list[float]
    scale: list[float]
    weights: list[float]
    bias: float
    min_confidence: float  # shipped operating point: abstain below this confidence
    uncertain_margin: float  # answered but flagged "may not be covered" below min + margin
    meta: dict = field(default_factory=dict)
    # Operating point per question language, where fitted. One threshold had to keep the false
    # abstention of the lowest-scoring set (STARD, Chinese) under its bound, which left English
    # sets abstaining on almost nothing; each language now gets the highest threshold that keeps
    # the bound on every fitted set of that language. min_confidence serves the other languages.
    min_confidence_by_lang: dict[str, float] = field(default_factory=dict)

    # The operating point that moves with the index: in logit units, intercept + slope * the mean
    # logit of the index's own pseudo near misses of the question's language (pseudo_near_misses).
    # Fitted across corpora by scripts/fit_scope.py; where absent, min_confidence_by_lang.
    index_threshold: dict[str, float] = field(default_factory=dict)
    # Operating points fitted on labelled questions over one exact corpus (its fingerprint: file
    # names and bytes), per question language: the shipped corpus has its own labelled fit split,
    # which says more about its near misses than a line across corpora. Any change to the corpus
    # changes the fingerprint, and the index-moving point applies again.
    corpus_thresholds: dict[str, dict[str, float]] = field(default_factory=dict)
    # A model of the corpus's own, keyed by the same fingerprint, for a corpus with labelled
    # questions (scripts/fit_scope.py --corpus-model): its fit split weighing more than the
    # benchmarks, over signals of its own choosing. Its confidences are what that corpus's
    # corpus_thresholds are then set on. None is shipped (docs/benchmarks.md, section t1-scope).
    corpus_models: dict[str, ScopeModel] = field(default_factory=dict)
    # For the exemplar signals: the corpus's labelled questions (a corpus model's only).
    exemplars: Exemplars | None = None

    MIN_PSEUDO = 20  # fewer pseudo near misses of a language than this: use all of the index's

    def threshold_for(self, lang: str | None, retriever: Retriever | None = None, level: float | None = None) -> float:
        """The confidence below which a question of ``lang`` abstains on this retriever's index."""
        if retriever is not None:
            own = self.corpus_thresholds.get(retriever.index.manifest.corpus_fingerprint, {})
            if lang in own:
                return own[lang]
        if self.index_threshold:
            if level is None and retriever is not None:
                level = retriever.profile.near_miss_level(self, retriever, lang)
            if level is not None:
                # Not raised past the highest near-miss level the line was fitted on: above it (an
                # index unlike every fitting corpus) a higher threshold has no evidence behind it
                # and costs wrong abstentions. Below, a lower threshold only abstains less.
                level = min(level, self.index_threshold.get("max_level", math.inf))
                logit = self.index_threshold["intercept"] + self.index_threshold["slope"] * level
                return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))
        return self.min_confidence_by_lang.get(lang or "", self.min_confidence)

    def near_miss_level(self, rows: list[dict[str, float]], lang: str | None) -> float | None:
        own = [r for r in rows if (r.get("zh", 0.0) == 1.0) == (lang == "zh")]
        rows = own if len(own) >= self.MIN_PSEUDO else rows
        if len(rows) < self.MIN_PSEUDO:
            return None
        c = np.clip(np.array([self.confidence(r) for r in rows]), 1e-9, 1 - 1e-9)
        return float(np.mean(np.log(c / (1 - c))))

    @classmethod
    def load(cls, embedder_id: str) -> ScopeModel:
        """The parameters fitted for this embedder; the e5-small ones for a model without its own.

        The signals are normalised per index and per question, so another model's parameters are
        a reasonable start; refit with scripts/fit_scope.py for a model that will be used.
        """
        name = embedder_id.replace("/", "_").replace(":", "_")
        path = PARAMS_DIR / f"{name}.json"
        if path.exists():
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")), path.parent)
        model = cls.from_dict(json.loads((PARAMS_DIR / "e5-small.json").read_text(encoding="utf-8")), PARAMS_DIR)
        # A corpus model's exemplars are e5-small query vectors, meaningless to another model, and
        # its corpus's operating point was set on that model's confidences: both stay behind.
        for fingerprint in [fp for fp, own in model.corpus_models.items() if own.exemplars is not None]:
            del model.corpus_models[fingerprint]
            model.corpus_thresholds.pop(fingerprint, None)
        return model

    @classmethod
    def from_dict(cls, data: dict, root: Path = PARAMS_DIR) -> ScopeModel:
        """``root``: where the files it names (exemplars) are."""
        return cls(
            features=list(data["features"]),
            mean=[float(v) for v in data["mean"]],
            scale=[float(v) for v in data["scale"]],
            weights=[float(v) for v in data["weights"]],
            bias=float(data["bias"]),
            min_confidence=float(data["min_confidence"]),
            uncertain_margin=float(data.get("uncertain_margin", 0.1)),
            meta=dict(data.get("meta", {})),
            min_confidence_by_lang={k: float(v) for k, v in data.get("min_confidence_by_lang", {}).items()},
            index_threshold={k: float(v) for k, v in data.get("index_threshold", {}).items()},
            corpus_thresholds={fp: {k: float(v) for k, v in points.items()}
                               for fp, points in data.get("corpus_thresholds", {}).items()},
            corpus_models={fp: cls.from_dict(own, root) for fp, own in data.get("corpus_models", {}).items()},
            exemplars=Exemplars.read(root / data["exemplars"]) if data.get("exemplars") else None,
        )

    def to_dict(self) -> dict:
        out = {
            "features": self.features, "mean": self.mean, "scale": self.scale, "weights": self.weights,
            "bias": self.bias, "min_confidence": self.min_confidence, "uncertain_margin": self.uncertain_margin,
            "min_confidence_by_lang": self.min_confidence_by_lang, "index_threshold": self.index_threshold,
            "corpus_thresholds": self.corpus_thresholds, "meta": self.meta,
        }
        if self.corpus_models:  # absent otherwise: parameter files without one stay as they were
            out["corpus_models"] = {fp: model.to_dict() for fp, model in self.corpus_models.items()}
        if self.exemplars is not None:
            out["exemplars"] = self.exemplars.file
        return out

    def for_index(self, retriever: Retriever) -> ScopeModel:
        """The model that scores questions on this retriever's index: its corpus's own, or this one."""
        if not self.corpus_models:
            return self
        return self.corpus_models.get(retriever.index.manifest.corpus_fingerprint, self)

    @property
    def needed(self) -> frozenset[str]:
        return frozenset(self.features)

    def confidence(self, values: dict[str, float]) -> float:
        x = np.array([values.get(name, 0.0) for name in self.features], dtype=np.float64)
        z = (x - np.asarray(self.mean)) / np.asarray(self.scale)
        logit = float(z @ np.asarray(self.weights) + self.bias)
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))

    def decide(
        self,
        analysis: QueryAnalysis,
        result: SearchResult,
        retriever: Retriever,
        min_confidence: float | None = None,
    ) -> ScopeDecision:
        """Abstain below ``min_confidence`` (a setting) or, by default, the question language's threshold."""
        threshold = self.threshold_for(analysis.lang, retriever) if min_confidence is None else min_confidence
        hits = result.hits
        if not hits:
            return ScopeDecision(0.0, True, False, "The guidance has no clause that matches this question.")
        model = self.for_index(retriever)
        values = model.values(analysis, result, retriever)
        if any(h.matched_by == "number" for h in hits):
            # The question named a clause the guidance has: that clause is in scope.
            return ScopeDecision(1.0, False, False, None, values)
        confidence = model.confidence(values)
        if confidence < threshold:
            top = hits[:10]
            # In the question's own language where it can (the suggestions beside it are), and by
            # id: with several documents a bare number (or a report's ¶1) does not say where.
            best = max([h for h in top if h.clause.lang == analysis.lang] or top, key=lambda h: h.similarity)
            closest = editions_of(retriever.index).in_lang(best.clause, analysis.lang) or best.clause
            reason = (
                "The guidance does not appear to cover this question "
                f"(confidence {confidence:.2f}, below {threshold:.2f}; closest clause {closest.id})."
            )
            return ScopeDecision(confidence, True, False, reason, values)
        uncertain = confidence < threshold + self.uncertain_margin
        return ScopeDecision(confidence, False, uncertain, None, values)

    def values(self, analysis: QueryAnalysis, result: SearchResult, retriever: Retriever) -> dict[str, float]:
        """The signals this model reads, exemplar_gap included where it has exemplars."""
        values = signals(analysis, result, retriever, self.needed)
        if self.exemplars is not None:
            values.update(self.exemplars.signals(result.query_vector))
        return values


def fit_logistic(
    x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 50, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """L2-regularised (weighted) logistic regression by Newton's method on standardised features."""
    n, d = x.shape
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    design = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -60, 60)))
        gradient = design.T @ (sw * (p - y)) + penalty * w
        hessian = (design * (sw * p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (ties count half): P(score of a positive > score of a negative)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if not positives or not negatives:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # Average ranks over ties.
    i = 0
    while i < len(sorted_scores):
        j = i
        while j + 1 < len(sorted_scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[labels].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))
