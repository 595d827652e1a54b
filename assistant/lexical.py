"""Words for BM25: jieba for Chinese runs, Snowball stems for Latin-script runs."""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.text import CJK_CLASS as _CJK

_RUN = re.compile(rf"([{_CJK}]+)|(\d+(?:\.\d+[a-z]?)+)|([a-z0-9]+(?:'[a-z]+)?)", re.IGNORECASE)

ENGLISH_STOPWORDS = frozenset(
    """a an and are as at be been being but by can could did do does doing for from had has have
    having he her here hers him his how i if in into is it its itself me my of off on once only or
    other our ours out over own same she should so some such than that the their theirs them then
    there these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours shall may must also any each about above after
    again against all am both few more most nor not no s t just don now""".split()
)
CHINESE_STOPWORDS = frozenset(
    "的 了 和 与 及 或 在 是 对 为 等 中 其 之 并 应 宜 可 不 有 被 以 由 于 将 把 我 我们 你 他 她 它 这 那 吗 呢 啊 吧 什么 怎么 如何 哪些 是否 要 会 能 该 各 每 条 第".split()
)

_jieba_lock = threading.Lock()
_jieba_ready = False


def jieba_segmenter():
    """jieba with its dictionary loaded, once per process (what that costs: docs/benchmarks.md,
    "Test suite", v5-fast): the one way the package reaches the Chinese segmenter, for BM25
    tokens and for the modules that segment questions or read its word frequencies (query,
    homophones, abstention)."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_ready = True
    return jieba


@lru_cache(maxsize=1)
def english_stemmer():
    """The Snowball stemmer of the BM25 tokens, made once; query.py stems question words with it."""
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Split mixed Chinese/English text into index terms (lower-cased, stemmed, no stopwords)."""
    return _terms(text, phrases=False)


def bm25_terms(text: str) -> list[str]:
    """tokenize(), plus each pair of English words that only spaces or stopwords separate.

    "holding of client money" also gives hold_client and client_money: a question that names a
    term of art ("client money", "market abuse") finds the passages that use it as a phrase
    before those that use its words apart. The pairs play the part the character bigrams play
    for Chinese; adopted for the ObliQA gain (docs/benchmarks.md, "ObliQA", stop 10 rows).
    """
    return _terms(text, phrases=True)


# What may separate the two words of a phrase: spaces and the stopwords dropped between them.
_PHRASE_GAP = re.compile(r"[\sa-z']*", re.IGNORECASE)


# Inside one question the same texts are tokenised by several stages (the analysis, BM25, the
# scope decision, the answer); within question_scope() each distinct text is tokenised once.
# Nothing is kept across questions, so a new question always pays for its own tokenising.
_QUESTION_TERMS: ContextVar[dict[tuple[str, bool], tuple[str, ...]] | None] = ContextVar(
    "assistant_question_terms", default=None
)


@contextmanager
def question_scope() -> Iterator[None]:
    """Remember the terms of every text tokenised until the block ends (one question's work)."""
    token = _QUESTION_TERMS.set({})
    try:
        yield
    finally:
        _QUESTION_TERMS.reset(token)


def _terms(text: str, phrases: bool) -> list[str]:
    memo = _QUESTION_TERMS.get()
    if memo is None:
        return _split_terms(text, phrases)
    found = memo.get((text, phrases))
    if found is None:
        found = memo[(text, phrases)] = tuple(_split_terms(text, phrases))
    return list(found)


def _split_terms(text: str, phrases: bool) -> list[str]:
    tokens: list[str] = []
    latin_positions: list[int] = []
    pairs: list[tuple[int, int]] = []
    previous: tuple[int, int] | None = None  # position and end of the last English word kept
    for match in _RUN.finditer(text):
        cjk, number, word = match.groups()
        if cjk:
            tokens.extend(p for p in jieba_segmenter().lcut_for_search(cjk) if p not in CHINESE_STOPWORDS)
            # Character bigrams catch what the segmenter splits differently in question and text
            # (adopted on STARD: docs/benchmarks.md, "STARD", the BM25 token rows).
            tokens.extend(cjk[i : i + 2] for i in range(len(cjk) - 1))
            previous = None
        elif number:
            tokens.append(number.lower())
            previous = None
        elif (word := word.lower()) not in ENGLISH_STOPWORDS:
            if previous is not None and _PHRASE_GAP.fullmatch(text, previous[1], match.start()):
                pairs.append((previous[0], len(tokens)))
            previous = (len(tokens), match.end())
            latin_positions.append(len(tokens))
            tokens.append(word)
    if latin_positions:
        stems = english_stemmer().stemWords([tokens[i] for i in latin_positions])
        for position, stem in zip(latin_positions, stems):
            tokens[position] = stem
    if phrases:
        tokens.extend(f"{tokens[first]}_{tokens[second]}" for first, second in pairs)
    return tokens


def warm_up() -> None:
    jieba_segmenter()
    english_stemmer()


class LexicalIndex:
    """BM25 over passages (bm25s), saved and loaded with the index artifact."""

    def __init__(self, retriever) -> None:
        self._retriever = retriever

    @classmethod
    def build(cls, texts: list[str], k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25(k1=k1, b=b)
        corpus_tokens = [bm25_terms(text) or [""] for text in texts]
        retriever.index(corpus_tokens, show_progress=False)
        return cls(retriever)

    def save(self, directory: Path) -> None:
        self._retriever.save(str(directory))

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(directory), mmap=False))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query (zeros when no term matches)."""
        tokens = [t for t in bm25_terms(query) if t in self._retriever.vocab_dict]
        if not tokens:
            return np.zeros(self._retriever.scores["num_docs"], dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)

    def idf(self) -> dict[str, float] | None:
        """The BM25 IDF of each indexed term (None when bm25s keeps its counts otherwise): the one
        place outside bm25s that reads its document frequencies. LoadedIndex.term_idf keeps it."""
        try:
            bm25 = self._retriever
            n_docs = int(bm25.scores["num_docs"])
            df = np.diff(np.asarray(bm25.scores["indptr"]))
            vocab = bm25.vocab_dict
        except (AttributeError, KeyError, TypeError):
            return None
        out = {}
        for token, column in vocab.items():
            count = float(df[column]) if column < len(df) else 0.0
            if count > 0:
                out[token] = math.log(1.0 + (n_docs - count + 0.5) / (count + 0.5))
        return out
