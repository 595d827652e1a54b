"""A question that asks two or more things ("投诉多久要回复？录音保存多长时间？"): its parts, and
per part the cited clause and sentence that answer it, so each part is cited and heard.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from assistant.editions import Editions
from assistant.index import LoadedIndex
from assistant.lexical import tokenize
from assistant.lookups import lookup_topic
from assistant.records import Clause
from assistant.retrieval import Hit


# Where a question asking two things splits: its question marks and semicolons, "… and how/who …",
# and Chinese joining words after a comma.
_PART_SPLIT = re.compile(
    r"[？?；;]+|[,，]?\s+and\s+(?=(?:how|what|when|which|who|whom|where|why|is|are|do|does|must|should|can|may)\b)|"
    r"[，,]\s*(?:还有|另外|以及|并且|同时)",
    re.IGNORECASE,
)


@lru_cache(maxsize=1)
def _courtesy() -> frozenset[str]:
    """Courtesy and asking words a part can consist of ("… ? Thanks", "…？谢谢！", "Please explain."):
    such a part asks nothing of its own. Tokenised on first use, not at import: tokenising loads
    jieba's dictionary, which importing the answering code need not pay for (docs/benchmarks.md,
    "Test suite", w4-fast)."""
    return frozenset(tokenize("please thanks thank you explain detail details hello hi help 谢谢 感谢 麻烦 请问 你好 "
                              "解释 说明 详细 一下"))


# Each part costs a model call on the shared model thread: a question of a hundred "?" must not buy
# a hundred (issue 15, bounded work). Parts past the cap are still in the whole question's search.
MAX_PARTS = 3


def question_parts(question: str, index: LoadedIndex | None = None) -> list[str]:
    """The parts of a question that asks two or more things ("投诉多久要回复？录音保存多长时间？",
    "How long are recordings kept and who can access them?"), each with a topic of its own (with
    ``index``: a term the index knows); [] for a question asking one thing."""
    known = index.term_idf() if index is not None else None
    parts = []
    for part in (p.strip(" ,，。.、!！") for p in _PART_SPLIT.split(question)):
        terms = lookup_topic(part) - _courtesy() if part else set()
        if known is not None:
            terms = {t for t in terms if known.get(t, 0.0) > 0.0}
        if terms:
            parts.append(part)
    return parts[:MAX_PARTS] if len(parts) > 1 else []


def part_answers(part_vectors: list[np.ndarray], hits: list[Hit], index: LoadedIndex,
                 editions: Editions | None = None, lang: str | None = None) -> list[tuple[Hit, tuple[int, int]]]:
    """Per part, the hit whose sentence answers the part best, and that sentence's span in the
    hit's own text. Clauses are judged by the part's own vector alone (mixed with the whole
    question's, one part's topic would win both parts) and, with ``editions``, in the question's
    language ``lang``: a filter to the other edition must not leave the choice to a cross-lingual
    cosine."""

    def best_sentence(clause: Clause, part: np.ndarray) -> tuple[float, int] | None:
        rows = index.sentence_rows(clause.id)
        if not rows:
            return None
        scores = index.sentence_scores(part, rows)
        top = int(np.argmax(scores))
        return float(scores[top]), rows[top]

    out = []
    for part in part_vectors:
        best, best_score = None, -np.inf
        for hit in hits:
            judge = (editions.in_lang(hit.clause, lang) if editions is not None and lang else None) or hit.clause
            found = best_sentence(judge, part)
            if found is not None and found[0] > best_score:
                best, best_score = hit, found[0]
        own = best_sentence(best.clause, part) if best is not None else None
        if own is not None:
            sentence = index.sentences[own[1]]
            out.append((best, (sentence.start, sentence.end)))
    return out
