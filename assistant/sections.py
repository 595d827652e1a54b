"""Section clauses, synthesised between parsing and indexing (assistant/ingest.py calls it).

The parser (assistant/chunking) gives a clause per heading that has a body. A heading with
children but no body of its own ("5.4 培训与发展", "12 用户权益保护") is still what a topic
question asks about, so it becomes a *section* clause here, synthesised from its children's
paths: its text for retrieval is each child's title and lead sentence, and it lists the
children's ids so that an answer can link to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.records import Clause
from assistant.text import CN_NUMERALS, sentence_spans

# A heading label's first token is a clause number we can synthesise a section for:
# "5.4", "12", "第十二章", "附录A", "A.1".
_SECTION_NUMBER = re.compile(
    rf"^(?:\d+(?:\.\d+)*|第[{CN_NUMERALS}\d]+[章节条]|附录[A-Z]|Annex\s?[A-Z]|[A-Z](?:\.\d+)+)$"
)
# A child's lead sentence is cut here: the section text is a table of contents with a gist,
# not a copy of the chapter.
LEAD_CHARS = 160
_WORD_CHAR = re.compile(r"[A-Za-z0-9'’\-]")

def split_label(label: str) -> tuple[str, str]:
    """ "5.4 培训与发展" -> ("5.4", "培训与发展"); "Annex A Forms" -> ("Annex A", "Forms")."""
    label = label.strip()
    match = re.match(r"^(Annex\s?[A-Z])\s*(.*)$", label)
    if match:
        return match.group(1), match.group(2).strip()
    parts = label.split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], (parts[1] if len(parts) > 1 else "")


def lead_sentence(text: str) -> str:
    spans = sentence_spans(text)
    if not spans:
        return ""
    start, end = spans[0]
    lead = text[start:end]
    if len(lead) > LEAD_CHARS:
        head = lead[:LEAD_CHARS]
        # Not inside a word of a spaced script ("…the protection of users' ri…"): back to the
        # last space, unless the word is most of the sentence. Chinese is cut anywhere.
        if _WORD_CHAR.match(lead[LEAD_CHARS]) and _WORD_CHAR.match(head[-1]):
            space = head.rfind(" ")
            if space > LEAD_CHARS // 2:
                head = head[:space]
        return head.rstrip().rstrip(",;:，；：") + "…"
    # A lead-in ("…采取以下措施：") without its list would read as a cut answer: say it goes on.
    return re.sub(r"\s*[:：]\s*$", "…", lead)


@dataclass
class _Pending:
    number: str
    title: str
    path: list[str]
    document: str
    lang: str
    children: list[str]
    first_row: int


def add_sections(clauses: list[Clause]) -> list[Clause]:
    """The clauses with a section clause before the first descendant of each body-less heading."""
    by_key = {(c.document, tuple(c.path)): c for c in clauses if c.path}
    numbers = {(c.document, c.number) for c in clauses}
    pending: dict[tuple[str, tuple[str, ...]], _Pending] = {}
    for row, clause in enumerate(clauses):
        for depth in range(1, len(clause.path)):
            key = (clause.document, tuple(clause.path[:depth]))
            if key in by_key:
                continue
            number, title = split_label(clause.path[depth - 1])
            if not _SECTION_NUMBER.match(number) or (clause.document, number) in numbers:
                continue
            section = pending.get(key)
            if section is None:
                section = pending[key] = _Pending(
                    number, title, list(key[1]), clause.document, clause.lang, [], row
                )
            child_id = f"{clause.document}:{split_label(clause.path[depth])[0]}" if depth + 1 < len(clause.path) else clause.id
            if child_id not in section.children:
                section.children.append(child_id)
    if not pending:
        return list(clauses)
    by_id = {c.id: c for c in clauses}
    sections: dict[str, Clause] = {}
    # Deepest first, so a chapter's text can use its sections' titles.
    pending_ids = {f"{s.document}:{s.number}" for s in pending.values()}
    for key, section in sorted(pending.items(), key=lambda item: -len(item[1].path)):
        section_id = f"{section.document}:{section.number}"
        section.children = [c for c in section.children if c in by_id or c in pending_ids]
        lines = []
        descendants = [by_id[i] for i in _descendant_ids(section.children, by_id, sections)]
        for child_id in section.children:
            child = by_id.get(child_id) or sections.get(child_id)
            if child is None:
                continue
            separator = "：" if section.lang == "zh" else ": "
            if child_id in by_id:
                lead = lead_sentence(child.text)
            else:
                # A child section has no lead sentence: its own children's titles stand for it.
                titles = [by_id[g].title if g in by_id else sections[g].title
                          for g in child.children if g in by_id or g in sections]
                lead = ("、" if section.lang == "zh" else ", ").join(t for t in titles if t)
            # Titles without numbers: a child's number in the text would make the section match
            # every question that names that child.
            head = child.title or child.number
            lines.append(f"{head}{separator}{lead}" if lead else head)
        pages = [c.page_start for c in descendants if c.page_start is not None]
        ends = [c.page_end for c in descendants if c.page_end is not None]
        clause = Clause(
            id=section_id,
            document=section.document,
            number=section.number,
            title=section.title,
            path=section.path,
            text="\n".join(lines),
            page_start=min(pages) if pages else None,
            page_end=max(ends) if ends else None,
            lang=section.lang,
            children=list(section.children),
        )
        _copy_page_labels(clause, descendants)
        sections[section_id] = clause
    out: list[Clause] = []
    first_rows: dict[int, list[Clause]] = {}
    for key, section in pending.items():
        first_rows.setdefault(section.first_row, []).append(sections[f"{section.document}:{section.number}"])
    for row, clause in enumerate(clauses):
        # Outer sections first: "5" before "5.4".
        for section in sorted(first_rows.get(row, []), key=lambda c: len(c.path)):
            out.append(section)
        out.append(clause)
    return out


def _descendant_ids(children: list[str], by_id: dict[str, Clause], sections: dict[str, Clause]) -> list[str]:
    found: list[str] = []
    stack = list(children)
    while stack:
        current = stack.pop(0)
        if current in by_id:
            found.append(current)
        elif current in sections:
            stack.extend(getattr(sections[current], "children", []))
    return found


def _copy_page_labels(section: Clause, descendants: list[Clause]) -> None:
    """Printed page labels, when the parser provides them (Clause.page_label_start/_end)."""
    starts = [getattr(c, "page_label_start", None) for c in descendants]
    ends = [getattr(c, "page_label_end", None) for c in descendants]
    if hasattr(section, "page_label_start"):
        section.page_label_start = next((s for s in starts if s), None)
        section.page_label_end = next((e for e in reversed(ends) if e), None)


def is_section(clause: Clause) -> bool:
    return bool(getattr(clause, "children", None))
