"""Language editions of one document, and how to cite a clause once across them.

Two documents in different languages that share most of their clause numbers (ccso-zh and
ccso-en) are editions of each other: clause 9.4.2 of one is clause 9.4.2 of the other. Nothing in
the files says so, so it is inferred from the numbers.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote

from assistant.records import Clause

if TYPE_CHECKING:
    from assistant.index import LoadedIndex

# Share of the smaller document's numbered clauses the other must have to count as an edition.
EDITION_OVERLAP = 0.6
_SHAREABLE = re.compile(r"^(?!¶)\S+$")  # "¶3" paragraphs are positions, not numbers


class Editions:
    def __init__(self, clauses: list[Clause]) -> None:
        self._by_number: dict[tuple[str, str], Clause] = {}
        numbers: dict[str, set[str]] = {}
        langs: dict[str, str] = {}
        for clause in clauses:
            if _SHAREABLE.match(clause.number):
                self._by_number.setdefault((clause.document, clause.number), clause)
                numbers.setdefault(clause.document, set()).add(clause.number)
            langs.setdefault(clause.document, clause.lang)
        self.family: dict[str, tuple[str, ...]] = {}
        documents = sorted(numbers)
        for document in documents:
            siblings = [document]
            for other in documents:
                if other == document or langs[other] == langs[document]:
                    continue
                small = min(len(numbers[document]), len(numbers[other]))
                if small and len(numbers[document] & numbers[other]) / small >= EDITION_OVERLAP:
                    siblings.append(other)
            self.family[document] = tuple(sorted(siblings))

    def others_of(self, document: str) -> tuple[str, ...]:
        """The document's other editions (none when it has none)."""
        return tuple(d for d in self.siblings(document) if d != document)

    def siblings(self, document: str) -> tuple[str, ...]:
        """The document and its other editions (just itself when it has none)."""
        return self.family.get(document, (document,))

    def key(self, clause: Clause) -> tuple[str, str]:
        """Clauses with the same key are one clause in several editions."""
        if not _SHAREABLE.match(clause.number):
            return (clause.document, clause.id)
        return (self.siblings(clause.document)[0], clause.number)

    def counterpart(self, clause: Clause, document: str) -> Clause | None:
        """The clause with the same number in ``document``, if that is an edition of the clause's."""
        if document == clause.document:
            return clause
        if document not in self.siblings(clause.document) or not _SHAREABLE.match(clause.number):
            return None
        return self._by_number.get((document, clause.number))

    def in_lang(self, clause: Clause, lang: str) -> Clause | None:
        if clause.lang == lang:
            return clause
        for document in self.siblings(clause.document):
            other = self.counterpart(clause, document)
            if other is not None and other.lang == lang:
                return other
        return None

    def others(self, clause: Clause) -> list[Clause]:
        found = []
        for document in self.siblings(clause.document):
            if document != clause.document:
                other = self.counterpart(clause, document)
                if other is not None:
                    found.append(other)
        return found


def clause_link(clause: Clause, highlights: list[tuple[int, int]] | None = None) -> str:
    """The viewer URL of a clause; ``?hl=`` carries the quoted spans for the viewer to mark."""
    link = _document_path(clause.document)
    if highlights:
        link += "?hl=" + ",".join(f"{start}-{end}" for start, end in highlights)
    return f"{link}#{_anchor(clause.number)}"


# Every answer links each citation, its editions and its children: a dozen links, quoted again
# and again for the same few hundred documents and numbers.
@lru_cache(maxsize=8192)
def _document_path(document: str) -> str:
    return f"/documents/{quote(document, safe='')}"


@lru_cache(maxsize=65536)
def _anchor(number: str) -> str:
    return quote(number, safe=".-_()¶")


def editions_of(index: LoadedIndex) -> Editions:
    """The index's editions, worked out once per loaded index."""
    return index.derived("editions", lambda: Editions(index.clauses))
