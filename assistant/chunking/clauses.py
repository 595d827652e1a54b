"""Clause assembly: the heading stack turns a Document's lines into Clause records with hierarchy paths."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from ..records import Clause, Document
from .headings import (
    _any_heading_like,
    _detect_headings,
    _Head,
    _markdown_headings,
    _tidy_title,
)
from .lines import _doc_lines, _Joiner, _Line
from .text import _CJK_RE
from .toc import _find_toc, _markdown_toc, _toc_outline

# --------------------------------------------------------------------------- assembly

# the modal verbs of a Chinese standard's provisions (应 / 不应 / 宜 / 可 / 须 / 不得)
_PROVISION_WORD_RE = re.compile(r"^(?:应|不应|宜|不宜|可|须|必须|不得|严禁)")


def _label(head: _Head) -> str:
    if head.family in ("front", "md", "plain"):
        return head.title if head.marker == head.title else f"{head.marker} {head.title}"
    return f"{head.marker} {head.title}".strip()


def _short_title(text: str, limit: int = 40) -> str:
    first = text.split("\n", 1)[0].strip()
    if len(first) <= limit:
        return first
    cut = first[:limit]
    if not _CJK_RE.search(cut):
        space = cut.rfind(" ")
        if space > limit // 2:
            cut = cut[:space]
    return cut.rstrip(" ,，、;；:：")


def _paragraph_clauses(
    doc: Document, lines: Sequence[_Line], joiner: _Joiner, start: int = 1, limit: int = 600
) -> list[Clause]:
    """Unnumbered text: one clause per paragraph, short consecutive paragraphs grouped."""
    groups: list[list[list[_Line]]] = []
    size = 0
    for para in joiner.paragraphs(lines):
        length = len(joiner.join(para))
        if groups and size + length + 1 <= limit:
            groups[-1].append(para)
            size += length + 1
        else:
            groups.append([para])
            size = length
    clauses = []
    for n, group in enumerate(groups, start=start):
        text = "\n".join(joiner.join(p) for p in group)
        flat = [line for p in group for line in p]
        number = f"¶{n}"
        clauses.append(
            Clause(
                id=f"{doc.id}:{number}",
                document=doc.id,
                number=number,
                title=_short_title(text),
                path=[doc.title],
                text=text,
                page_start=flat[0].page if doc.has_pages else None,
                page_end=flat[-1].page if doc.has_pages else None,
                lang=doc.lang,
            )
        )
    return clauses


def _pop_for(stack: list[_Head], head: _Head) -> None:
    if head.family == "front":
        stack.clear()
        return
    if head.family == "md":
        while stack and stack[-1].family == "md" and stack[-1].depth >= head.depth:
            stack.pop()
        return
    if head.family == "plain":  # an unnumbered heading from the contents list: under the numbered ones
        while stack and (
            stack[-1].family == "md"
            or stack[-1].family == "plain" and (head.container or head.depth or not stack[-1].container)
            or head.depth and stack[-1].family == "dotted" and stack[-1].rank >= head.depth
        ):
            stack.pop()
        return
    while stack:
        top = stack[-1]
        if top.family == "plain" and top.depth and head.family == "dotted" and head.rank == top.depth:
            below = stack[-2] if len(stack) > 1 else None
            if below is None or below.family == "dotted" and head.key[: len(below.key)] == below.key:
                break  # a grouping sub-heading ("Basic Security Requirements") keeps its members
        if top.family == "md":
            stack.pop()
            continue
        if top.family == "front":
            stack.pop()
            continue
        if top.rank >= head.rank:
            stack.pop()
            continue
        if top.family == "dotted" and head.family == "dotted" and head.key[: len(top.key)] != top.key:
            stack.pop()
            continue
        break


def _qualified_number(head: _Head, stack: list[_Head]) -> str:
    """Markers that restart under each parent get the parent markers prefixed: 二（一）, 1)(a)."""
    if head.family == "cnlist" and head.rank > 1 or head.family == "paren" and head.rank > 1:
        parents = [h.marker for h in stack if h.family == head.family]
        return "".join(parents) + head.marker
    if head.family == "statute" and head.rank == 3:  # 第一节 restarts in every chapter
        chapters = [h.marker for h in stack if h.family == "statute" and h.rank < 3]
        return "".join(chapters) + head.marker
    return head.marker


def parse_clauses(doc: Document) -> list[Clause]:
    """Split a Document into Clauses with hierarchy paths, pages and verbatim text."""
    lines = _doc_lines(doc)
    if not lines:
        return []
    joiner = _Joiner(lines, doc.format)
    has_md_headings = doc.format in ("markdown", "docx") and sum(1 for line in lines if line.md_depth) >= 2
    if has_md_headings:
        toc = _markdown_toc(lines)
        heads = _markdown_headings(lines, toc)
    else:
        toc = _find_toc(lines, _any_heading_like)
        heads = _detect_headings(lines, toc, joiner, _toc_outline(lines, toc))
    if not heads:
        body = [line for i, line in enumerate(lines) if i not in toc and not line.md_depth]
        return _paragraph_clauses(doc, body, joiner) if body else []

    clauses: list[Clause] = []
    title_key = re.sub(r"\s+", "", doc.title)
    labels = {page.number: page.label for page in doc.pages} if doc.has_pages else {}

    def part_of_title(text: str) -> bool:  # a cover title, possibly wrapped over several lines
        key = re.sub(r"\s+", "", text)
        return key == title_key or (len(key) >= 4 and key in title_key)

    preamble = [
        line
        for i, line in enumerate(lines[: heads[0].index])
        if i not in toc and not line.md_depth and not part_of_title(line.text)
    ]
    if preamble:
        clauses.extend(_paragraph_clauses(doc, preamble, joiner))

    used: Counter[str] = Counter()
    stack: list[_Head] = []
    bounds = [h.index for h in heads] + [len(lines)]
    for n, head in enumerate(heads):
        head.title = _tidy_title(head.title)
        body_lines: list[_Line] = []
        if head.rest:
            body_lines.append(_Line(head.rest, lines[head.index].page))
        for i in range(head.index + 1 + head.consumed, bounds[n + 1]):
            if i in toc or lines[i].md_depth:
                continue
            body_lines.append(lines[i])
        text = joiner.join(body_lines).strip()
        nxt = heads[n + 1] if n + 1 < len(heads) else None
        if head.family == "plain" and not text and not head.depth and nxt is not None:
            # an unnumbered heading right above another heading heads it ("Frontispiece" /
            # "About the Standard"; "Security Verification Requirements" / "V4.1 …")
            if nxt.family == "dotted":
                head.depth = nxt.rank
            elif nxt.family == "plain":
                head.container = True
        if (
            not text
            and head.family == "dotted"
            and len(head.key) >= 2
            and (nxt is None or nxt.key[: len(head.key)] != head.key)
            and _PROVISION_WORD_RE.search(head.title)
        ):
            # a GB provision short enough to pass as a title ("5.2 应有光泽") with nothing under it:
            # the provision is its own text
            text = head.title
        _pop_for(stack, head)
        head.number = _qualified_number(head, stack)
        path = [_label(h) for h in stack] + [_label(head)]
        stack.append(head)
        if not text:
            continue  # a heading without a body: only in its children's paths
        used[head.number] += 1
        suffix = "" if used[head.number] == 1 else f"-{used[head.number]}"
        page_start = lines[head.index].page if doc.has_pages else None
        page_end = (body_lines[-1].page if body_lines else page_start) if doc.has_pages else None
        clauses.append(
            Clause(
                id=f"{doc.id}:{head.number}{suffix}",
                document=doc.id,
                number=head.number,
                title=head.title,
                path=path,
                text=text,
                page_start=page_start,
                page_end=page_end,
                lang=doc.lang,
                page_label_start=labels.get(page_start),
                page_label_end=labels.get(page_end),
            )
        )
    return clauses
