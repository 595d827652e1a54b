"""Table-of-contents detection: contents blocks, dot leaders and page-numbered heading runs are set aside."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from .headings import _title_ok
from .lines import _Line
from .text import _width

# --------------------------------------------------------------------------- table of contents

_TOC_MARKERS = {"目次", "目录", "contents", "tableofcontents", "目錄"}
_LEADER_RE = re.compile(r"(?:\.{3,}|…{2,}|·{3,}|_{4,}|(?:\.\s){3,}\.?|(?:·\s){3,}|-{4,})")
_TRAILING_PAGE_RE = re.compile(r"\s(?:\d{1,3}|[IVXLCDMivxlcdm]{1,6})$")
_PURE_LEADER_RE = re.compile(r"^[\s.…·_\-]*\s*(?:\d{1,3}|[IVXLCDMivxlcdm]{1,6})?$")


def _is_leader_only(text: str) -> bool:
    return bool(_PURE_LEADER_RE.match(text)) and bool(_LEADER_RE.search(text))


def _has_leader_entry(text: str) -> bool:
    """"4.5 企业高层领导支持 ........ 7"."""
    m = _LEADER_RE.search(text)
    if not m:
        return False
    tail = text[m.end() :].strip(" .…·_-")
    return tail == "" or bool(re.fullmatch(r"\d{1,3}|[IVXLCDMivxlcdm]{1,6}", tail))


def _toc_key(text: str) -> str:
    t = _LEADER_RE.split(text)[0]
    t = _TRAILING_PAGE_RE.sub("", t.strip())
    return re.sub(r"[\s#]+", "", t).lower()


def _is_toc_marker(text: str) -> bool:
    return re.sub(r"[\s#]+", "", text).lower() in _TOC_MARKERS


def _find_toc(lines: Sequence[_Line], looks_like_heading) -> set[int]:
    """Indexes of table-of-contents lines."""
    toc: set[int] = set()
    n = len(lines)
    # 1. lines with dot leaders (+ page number), and a title line next to a leader-only line
    for i, line in enumerate(lines):
        t = line.text
        if _is_leader_only(t):
            toc.add(i)
            for j in (i - 1, i + 1):
                if 0 <= j < n and looks_like_heading(lines[j].text) and not _is_toc_marker(lines[j].text):
                    # reportlab & co. may draw the leader before or after the title
                    toc.add(j)
        elif _has_leader_entry(t):
            toc.add(i)
    # 2. an explicit contents block: from the marker until the headings restart or body text
    for i, line in enumerate(lines):
        if not _is_toc_marker(line.text):
            continue
        toc.add(i)
        seen: set[str] = set()
        weak: list[int] = []
        j = i + 1
        while j < n:
            t = lines[j].text
            if _is_toc_marker(t):
                break
            if _is_leader_only(t):
                toc.add(j)
                j += 1
                continue
            key = _toc_key(t)
            if key and key in seen and looks_like_heading(t):
                break  # the headings start again: the body begins here
            strong = _has_leader_entry(t) or (
                bool(_TRAILING_PAGE_RE.search(t)) and looks_like_heading(_TRAILING_PAGE_RE.sub("", t))
            )
            if strong:
                toc.add(j)
                toc.update(weak)
                weak.clear()
            elif looks_like_heading(t) or _width(t) <= 40 or _title_ok(t):
                weak.append(j)  # an entry without its page number (e.g. wrapped or split)
            else:
                break  # body text
            if key:
                seen.add(key)
            j += 1
        # weak lines directly before a restart belong to the contents too (title-only entries)
        if j < n and _toc_key(lines[j].text) in seen and looks_like_heading(lines[j].text):
            toc.update(weak)
    # 3. a run of >= 3 heading-like lines each ending with a page number, whose headings come
    #    back later in the document (titles that merely end in a number do not)
    later: Counter[str] = Counter(re.sub(r"[\s#]+", "", line.text).lower() for line in lines)
    run: list[int] = []
    for i, line in enumerate([*lines, _Line("", None)]):  # sentinel
        t = line.text
        if t and _TRAILING_PAGE_RE.search(t) and looks_like_heading(_TRAILING_PAGE_RE.sub("", t)):
            run.append(i)
            continue
        if len(run) >= 3:
            pages = [_page_value(lines[k].text) for k in run]
            ordered = all(a <= b for a, b in zip(pages, pages[1:]) if a is not None and b is not None)
            repeated = sum(1 for k in run if later[_toc_key(lines[k].text)] > 0)
            if ordered and repeated >= 0.6 * len(run):
                toc.update(run)
        run = []
    return toc


def _page_value(text: str) -> int | None:
    m = re.search(r"(\d{1,3})$", text)
    return int(m.group(1)) if m else None


def _markdown_toc(lines: Sequence[_Line]) -> set[int]:
    """In Markdown, a 目次/Contents heading and everything under it until the next heading."""
    toc: set[int] = set()
    inside = False
    for i, line in enumerate(lines):
        if line.md_depth:
            inside = _is_toc_marker(line.text)
            if inside:
                toc.add(i)
            continue
        if inside or _has_leader_entry(line.text) or _is_leader_only(line.text):
            toc.add(i)
    return toc
