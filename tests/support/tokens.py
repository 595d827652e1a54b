"""Remembered BM25 tokens for the unit tests.

The tests build the small fixture corpus about 80 times per run (every upload, delete, reindex
and ingest test builds), and about half of each repeat build's CPU was jieba and the stemmer
tokenising the same passage texts again for BM25. Tokens are a pure function of the text (and
of the phrase flag): jieba's dictionary and the stemmer never change during a run, and nothing
in the package adds words to jieba. So the test session remembers them; each caller still gets
its own list. The first time a text is seen it goes through the real tokeniser.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache


def remember_tokens(maxsize: int = 65536) -> Callable[[], None]:
    """Memoise assistant.lexical._terms (behind tokenize and bm25_terms) for this process;
    returns the function that undoes it."""
    from assistant import lexical

    original = lexical._terms
    remembered = lru_cache(maxsize=maxsize)(lambda text, phrases: tuple(original(text, phrases)))

    def terms(text: str, phrases: bool) -> list[str]:
        return list(remembered(text, phrases))

    terms.computes = original  # the real tokeniser, for a test to compare against
    lexical._terms = terms

    def undo() -> None:
        lexical._terms = original

    return undo
