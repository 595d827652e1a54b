"""One document's shape as people read it: the outline tree of its clauses, its chapters, printed
page labels, and the cross-references inside clause text ("按4.3制定", "see 5.3.1"). Domain rules
only, no HTML: the viewer and the chapter filter render what this module computes. Which other
documents are editions of this one, and which clause there is this clause, is editions.py."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.records import Clause

_CHAPTER = re.compile(r"^(\d+)(?:\s+(.*))?$")
# A dotted clause number standing alone: not part of a longer number, a decimal or a version.
_DOTTED = re.compile(r"(?<![0-9A-Za-z.])(\d+(?:\.\d+)+)(?!\.?\d|[A-Za-z])(?!\s*(?:%|％|‰))")
# After a number, these make it a quantity ("3.5 天", "1.5 hours"), not a clause reference.
_UNIT = re.compile(r"\s*(?:[天日时分秒年月周倍元米个次]|小时|分钟|工作日|working|days?|hours?|minutes?|"
                   r"seconds?|weeks?|months?|years?|times|m\b|s\b|km|kg)", re.I)


@dataclass
class OutlineNode:
    label: str
    clause: Clause | None = None
    anchor: str | None = None
    children: list["OutlineNode"] = field(default_factory=list)

    def child(self, label: str) -> "OutlineNode":
        for node in self.children:
            if node.label == label:
                return node
        node = OutlineNode(label)
        self.children.append(node)
        return node

    @property
    def heading(self) -> tuple[str, str]:
        """(number, title) to show; the number is "" when the heading has none of its own."""
        if self.clause is not None:
            number, title = self.clause.number, self.clause.title
            return ("", title) if number == title else (number, title)  # "前言 前言" reads once
        parts = self.label.split(maxsplit=1)
        if len(parts) == 2 and self.anchor == parts[0]:
            return parts[0], parts[1]
        return "", self.label


def outline(clauses: list[Clause]) -> OutlineNode:
    """A tree from the clauses' title paths; headings without a body of their own (a chapter,
    say) become nodes with no clause. Each node's anchor is its clause number when free, so
    that /documents/ccso-zh#4.5 names clause 4.5."""
    root = OutlineNode("")
    for clause in clauses:
        node = root
        for label in clause.path[:-1]:
            node = node.child(label)
        own = clause.path[-1] if clause.path else f"{clause.number} {clause.title}".strip()
        existing = next((n for n in node.children if n.label == own and n.clause is None), None)
        if existing is None:
            existing = OutlineNode(own)
            node.children.append(existing)
        existing.clause = clause
    taken = {clause.number for clause in clauses}
    used: set[str] = set()

    def assign(node: OutlineNode) -> None:
        for child in node.children:
            if child.clause is not None:
                if child.clause.number not in used:  # ids stay unique even if a number repeats
                    child.anchor = child.clause.number
                    used.add(child.anchor)
            else:
                number = child.label.split(maxsplit=1)[0] if child.label.strip() else ""
                if number and re.match(r"^[\w.()（）¶-]+$", number) and number not in taken:
                    child.anchor = number
                    taken.add(number)
            assign(child)

    assign(root)
    return root


def anchors(node: OutlineNode) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current.anchor:
            found.add(current.anchor)
        stack.extend(current.children)
    return found


def chapter_of(clause: Clause) -> str | None:
    """The chapter a clause belongs to: the first number of its clause number ("4" for "4.5")."""
    head = clause.number.split(".", 1)[0]
    return head if head.isdigit() else None


def chapter_title(clause: Clause, chapter: str) -> str:
    if clause.path:
        match = _CHAPTER.match(clause.path[0].strip())
        if match and match.group(1) == chapter:
            return (match.group(2) or "").strip()
    return ""


def chapters(document: dict, clauses: list[Clause]) -> list[dict]:
    """The numbered chapters of one document in document order, with their clause counts."""
    seen: dict[str, dict] = {}
    out: list[dict] = []
    for clause in clauses:
        chapter = chapter_of(clause)
        if chapter is None:
            continue
        entry = seen.get(chapter)
        if entry is None:
            entry = seen[chapter] = {"document": document["id"], "lang": document["lang"], "number": chapter,
                                     "title": chapter_title(clause, chapter), "clauses": 0}
            out.append(entry)
        entry["clauses"] += 1
    return out


def page_label(clause: Clause) -> str | None:
    """The printed page label range ("6", "6–7", "iii"), from the labels the parser read when it
    has them, else from the page indexes."""
    start = getattr(clause, "page_label_start", None) or (
        str(clause.page_start) if clause.page_start is not None else None)
    end = getattr(clause, "page_label_end", None) or (str(clause.page_end) if clause.page_end is not None else None)
    if start is None:
        return None
    return start if end in (None, start) else f"{start}–{end}"


def pages_text(label: str | None, lang: str) -> str:
    """A page label as a reader sees it: "p. 6", "pp. 6–7", "第 6 页"; "" without one. The
    widget and the search page say the same through static/citation.js."""
    if not label:
        return ""
    if lang.startswith("zh"):
        return f"第 {label} 页"
    return f"pp. {label}" if "–" in label else f"p. {label}"


def cross_references(text: str, numbers: set[str]) -> list[tuple[str, str | None]]:
    """``text`` cut into (piece, clause number or None): the pieces that name a clause of this
    document ("按4.3制定", "see 5.3.1") carry its number. Quantities ("3.5 天") and numbers
    the document does not have stay plain text."""
    pieces: list[tuple[str, str | None]] = []
    at = 0
    for match in _DOTTED.finditer(text):
        number = match.group(1)
        if number not in numbers or _UNIT.match(text, match.end()):
            continue
        if match.start() > at:
            pieces.append((text[at:match.start()], None))
        pieces.append((number, number))
        at = match.end()
    if at < len(text) or not pieces:
        pieces.append((text[at:], None))
    return pieces


def paragraphs(text: str) -> list[tuple[int, str]]:
    """The clause text's paragraphs (split at line breaks) with each one's character offset in
    the text, so that highlight spans over the whole text can be placed inside them."""
    out = []
    for match in re.finditer(r"[^\n]+", text):
        piece = match.group(0)
        stripped = piece.strip()
        if stripped:
            out.append((match.start() + (len(piece) - len(piece.lstrip())), stripped))
    return out
