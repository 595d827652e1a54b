"""Abbreviations the corpus defines itself ("KPI: Key Performance Indicator"), for questions.

A question that says "KPI" or "AHT" means the concept the abbreviation stands for, but the
abbreviation itself is found almost only in the definitions list (3.2 Abbreviations): BM25 and
the dense model then rank that list first, and the clauses about key performance indicators
(8.2) below it. The analysis puts the expansion in the abbreviation's place, so the question
matches the clauses about the concept as a reader who knows the abbreviation would read it; the
definitions list still matches the expansion, and a question about what "AHT" stands for finds
the definition (3.1.4) and the list. Keeping the abbreviation beside its expansion kept the list
first for a bare "KPI" (docs/benchmarks.md, section u3-rank).

Only the corpus's own definitions are used, so a new corpus brings its own:
- a line of a clause that is "ABBR: Expansion" or "ABBR：中文（English）" (a definitions list);
- a clause title "Expansion (ABBR)" / "中文（ABBR）" ("10.2.2 Interactive voice response (IVR)").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

from assistant.records import Clause
from assistant.text import is_han

_ABBR = r"[A-Z][A-Z0-9]{1,6}"
# "KPI: Key Performance Indicator", "AHT：平均处理时长（Average Handling Time）"
_DEFINITION_LINE = re.compile(rf"^\s*({_ABBR})\s*[:：]\s*(\S.{{1,80}}?)\s*$")
# "Interactive voice response (IVR)", "交互式语音应答（IVR）"
_TITLE = re.compile(rf"^\s*(\S.{{1,80}}?)\s*[(（]\s*({_ABBR})\s*[)）]\s*$")
_PARENTHESISED = re.compile(r"^(.*?)\s*[(（]\s*([^()（）]+?)\s*[)）]\s*$")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


class Abbreviations:
    """Abbreviation -> its expansion per language ("en", "zh"), as the corpus defines it."""

    def __init__(self, expansions: dict[str, dict[str, str]] | None = None,
                 lists: dict[str, set[str]] | None = None,
                 is_word: Callable[[str], bool] | None = None) -> None:
        self.expansions: dict[str, dict[str, str]] = expansions or {}
        # abbreviation -> ids of the clauses that define it in a list line (not by a title)
        self.lists: dict[str, set[str]] = lists or {}
        # Whether a lower-case word is an English word (never taken for an abbreviation then);
        # the retriever gives the spell checker's word list (query.english_words).
        self.is_word: Callable[[str], bool] = is_word or (lambda word: False)

    @classmethod
    def from_clauses(cls, clauses: Iterable[Clause], is_word: Callable[[str], bool] | None = None) -> Abbreviations:
        clauses = list(clauses)
        found: dict[str, dict[str, str]] = {}
        lists: dict[str, set[str]] = {}
        titles = Counter((clause.document, clause.title) for clause in clauses)
        for clause in clauses:
            for line in clause.text.splitlines():
                match = _DEFINITION_LINE.match(line)
                if match and _add(found, match.group(1), match.group(2)):
                    lists.setdefault(match.group(1), set()).add(clause.id)
            # Only a clause's own heading: a title every passage of a document carries is the
            # document's name ("Anti-Money Laundering and Sanctions Rules and Guidance (AML)" in
            # ObliQA), and the abbreviation names the rulebook, not a concept.
            match = _TITLE.match(clause.title or "")
            if match and titles[(clause.document, clause.title)] == 1:
                _add(found, match.group(2), match.group(1))
        return cls(found, lists, is_word)

    def lists_of(self, words: Iterable[str]) -> frozenset[str]:
        """Ids of the definitions lists that define the given abbreviations (``named``'s result)."""
        out: set[str] = set()
        for word in words:
            out |= self.lists.get(self._defined(word) or word, set())
        return frozenset(out)

    def __len__(self) -> int:
        return len(self.expansions)

    def named(self, text: str) -> list[str]:
        """The defined abbreviations the text uses, spelled out beside them or not ("FCR首次解决率"):
        either way the definitions list matches through the abbreviation."""
        return [m.group(0) for m in _WORD.finditer(text) if self._defined(m.group(0)) is not None]

    def expand(self, text: str, lang: str) -> tuple[str, dict[str, str]]:
        """The text with each defined abbreviation replaced by its expansion in ``lang`` (the
        other language's where ``lang`` has none), and the expansions made."""
        if not self.expansions:
            return text, {}
        made: dict[str, str] = {}
        pieces: list[str] = []
        last = 0
        for match in _WORD.finditer(text):
            abbreviation = self._defined(match.group(0))
            if abbreviation is None:
                continue
            by_lang = self.expansions[abbreviation]
            expansion = by_lang.get(lang) or next(iter(by_lang.values()))
            if expansion.lower() in text.lower():
                continue  # the question spells it out already
            made[match.group(0)] = expansion
            pieces.append(text[last : match.start()])
            pieces.append(expansion)
            last = match.end()
        if not made:
            return text, {}
        pieces.append(text[last:])
        return "".join(pieces), made

    def _defined(self, word: str) -> str | None:
        """The abbreviation a question word is: as defined, or its plural ("KPIs"); in lower
        case ("kpi") only when it has three letters or more and is no English word (lower-case
        "sl", "qa" or "funds" are something else)."""
        for candidate in (word, word[:-1] if word.endswith("s") and len(word) > 2 else None):
            if not candidate:
                continue
            if candidate in self.expansions:
                return candidate
            upper = candidate.upper()
            if len(candidate) >= 3 and upper in self.expansions and candidate.islower() and not self.is_word(word):
                return upper
        return None


def _add(found: dict[str, dict[str, str]], abbreviation: str, definition: str) -> bool:
    """Records a definition; False when the text is none ("Note: see clause 4")."""
    definition = definition.strip().rstrip("。.;；")
    match = _PARENTHESISED.match(definition)
    if match and is_han(match.group(1)[:1] or " ") and not is_han(match.group(2)[:1]):
        # "平均处理时长（Average Handling Time）": both languages in one line.
        found.setdefault(abbreviation, {}).setdefault("zh", match.group(1))
        found[abbreviation].setdefault("en", match.group(2))
        return True
    if not definition or definition.upper() == abbreviation:
        return False
    lang = "zh" if is_han(definition[0]) else "en"
    if lang == "en" and (definition.isupper() or not _initials_fit(abbreviation, definition)):
        return False
    found.setdefault(abbreviation, {}).setdefault(lang, definition)
    return True


def _initials_fit(abbreviation: str, definition: str) -> bool:
    """Whether an English expansion could be the abbreviation's: its letters appear, in order,
    among the words' initials and letters ("First Call Resolution" for FCR, "Workforce
    Management" for WFM)."""
    words = _WORD.findall(definition)
    if not words or words[0][0].upper() != abbreviation[0]:
        return False
    letters = "".join(words).upper()
    position = 0
    for letter in abbreviation:
        position = letters.find(letter, position)
        if position < 0:
            return False
        position += 1
    return True
