"""A question that only names a clause ("第11.7条", "clause 99.9", "第二十章"): whether it is one,
the unit it asks by, and, when the guidance lacks that clause, the nearest ones. /api/ask refuses
such a question with it and /api/search shows it (answering.missing_view), by one rule."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.kinds import DEFAULT_KIND
from assistant.retrieval import Hit, clause_numbers_in, question_lang, topic_terms
from assistant.text import CJK_RE, CN_NUMERALS, cn_numeral_to_int

if TYPE_CHECKING:
    from assistant.index import LoadedIndex


# Characters of words that only ask for a clause or only join a Chinese sentence: a character
# bigram made of them alone ("讲的", "是什" in "第11.7条讲的是什么") is no topic.
_LOOKUP_CHARS = frozenset("第章条节款附录规定内容说讲写条文要求什么具体打开查看的是了吗呢么啊呀吧一下请问这个那个里中有哪些")


def lookup_topic(question: str) -> set[str]:
    """The question's topic terms, without the filler bigrams a clause lookup's Chinese asking
    words make: what is left decides whether the question only names a clause."""
    return {t for t in topic_terms(question) if not (CJK_RE.match(t) and all(ch in _LOOKUP_CHARS for ch in t))}


# The unit a question names a number by, as the refusal says it back: "第二十章" asks for a
# chapter, not an article. Chinese units and English words map to one English name; reasons.py
# says each name in Chinese again.
_UNIT_OF = {"章": "chapter", "条": "clause", "节": "section", "款": "paragraph", "chapter": "chapter",
            "section": "section", "article": "article", "art": "article", "clause": "clause", "rule": "rule",
            "paragraph": "paragraph", "§": "section"}


def asked_unit(question: str, number: str) -> str:
    """How the question names ``number``: "chapter", "section", "clause", … ("clause" when bare)."""
    escaped = re.escape(number)
    match = re.search(rf"第\s*{escaped}\s*([条章节款])", question) or re.search(
        rf"\b(clause|section|article|chapter|rule|paragraph|art)\.?\s*{escaped}(?![\d.])|(§)\s*{escaped}",
        question, re.IGNORECASE)
    if match is None:
        return "clause"
    return _UNIT_OF.get((match.group(1) or match.group(2) or "").lower(), "clause")


@dataclass
class MissingClause:
    """A clause number the guidance lacks, as asked ("chapter" 20), and its nearest clauses."""

    number: str  # as the clause numbers are written: "20" for "二十"
    unit: str  # asked_unit's name: "clause", "chapter", …
    document: str | None  # the guidance document looked in (None: no document at all)
    nearest: list[Hit]

    @property
    def reason(self) -> str:
        if self.document is None:
            return f"no {self.unit} {self.number}."
        tail = f"; nearest: {', '.join(h.clause.number for h in self.nearest)}" if self.nearest else ""
        return f"no {self.unit} {self.number} in {self.document}{tail}."


def missing_lookup(question: str, hits: list[Hit], index: LoadedIndex, kind: Callable[[str], str],
                   document: str | None, lang: str | None) -> MissingClause | None:
    """The clause the question only names ("clause 99.9", "第二十章") when no hit found it by its
    number; None for any other question. /api/ask refuses with it and /api/search shows it, by
    this one rule. ``kind`` gives a document's kind (AnswerConfig.kind): the guidance is looked in."""
    named = clause_numbers_in(question)
    if not named or lookup_topic(question) or any(h.matched_by == "number" for h in hits):
        return None
    return missing_clause(named[0], index, kind, document, lang or question_lang(question),
                          asked_unit(question, named[0]))


def missing_clause(
    number: str, index: LoadedIndex, kind: Callable[[str], str], document: str | None, lang: str,
    unit: str = "clause",
) -> MissingClause:
    """No clause ``number``: in the guidance document asked about (the question's edition first),
    with the nearest clauses ("no clause 99.9 in ccso-zh; nearest: 9.9, 9.1"). A number asked in
    Chinese numerals ("第十二章") is said, and compared, as the clause numbers are written: 12.
    ``unit`` (asked_unit) is said as asked ("no chapter 20 …"), and a chapter's nearest are
    chapters."""
    if number and all(ch in CN_NUMERALS for ch in number) and (value := cn_numeral_to_int(number)) is not None:
        number = str(value)
    documents = [d["id"] for d in index.documents if document is None or d["id"] == document]
    guidance = [d for d in documents if kind(d) == DEFAULT_KIND] or documents
    langs = {c.document: c.lang for c in index.clauses}
    guidance.sort(key=lambda d: langs.get(d) != lang)
    if not guidance:
        return MissingClause(number, unit, None, [])
    target = guidance[0]
    numbers = [c.number for c in index.clauses if c.document == target and not c.number.startswith("¶")]
    if unit == "chapter" and "." not in number:
        numbers = [n for n in numbers if n.isdigit()] or numbers
    hits = [Hit(index.clause_by_id[f"{target}:{n}"], 0.0, 0.0, 0.0, "search") for n in nearest_numbers(number, numbers)
            if f"{target}:{n}" in index.clause_by_id]
    return MissingClause(number, unit, target, hits)


def nearest_numbers(number: str, numbers: list[str], count: int = 3) -> list[str]:
    """Clause numbers that look most like the one asked for (a typo'd or mistaken number)."""
    depth = number.count(".")

    def closeness(candidate: str) -> tuple[float, int]:
        ratio = difflib.SequenceMatcher(None, number, candidate).ratio()
        return (ratio, -abs(candidate.count(".") - depth))

    ranked = sorted(dict.fromkeys(numbers), key=closeness, reverse=True)
    return [n for n in ranked[:count] if closeness(n)[0] > 0.3]
