"""Table-of-contents detection: contents blocks, dot leaders and page-numbered heading runs are set aside."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from .headings import _ANNEX_BASE, _dotted_candidate, _front_heading, _Head, _title_ok
from .lines import _Line
from .text import _width

# --------------------------------------------------------------------------- table of contents

_TOC_MARKERS = {"目次", "目录", "contents", "tableofcontents", "目錄"}
_LEADER_RE = re.compile(r"(?:\.{3,}|…{2,}|·{3,}|_{4,}|(?:\.\s){3,}\.?|(?:·\s){3,}|-{4,})")
_LEADER_STUB_RE = re.compile(r"(?:\s*[·…]|\s*\.{2,})+\s*$")
_TRAILING_PAGE_RE = re.compile(r"\s(?:\d{1,3}|[IVXLCDMivxlcdm]{1,6}|[Ⅰ-Ⅻⅰ-ⅻ])$")
_PURE_LEADER_RE = re.compile(r"^[\s.…·_\-]*\s*(?:\d{1,3}|[IVXLCDMivxlcdm]{1,6}|[Ⅰ-Ⅻⅰ-ⅻ])?$")


def _is_leader_only(text: str) -> bool:
    return bool(_PURE_LEADER_RE.match(text)) and bool(_LEADER_RE.search(text))


def _has_leader_entry(text: str) -> bool:
    """"4.5 企业高层领导支持 ........ 7"."""
    m = _LEADER_RE.search(text)
    if not m:
        return False
    tail = text[m.end() :].strip(" .…·_-")
    return tail == "" or bool(re.fullmatch(r"\d{1,3}|[IVXLCDMivxlcdm]{1,6}|[Ⅰ-Ⅻⅰ-ⅻ]", tail))


def _toc_key(text: str) -> str:
    t = _LEADER_STUB_RE.sub("", _LEADER_RE.split(text)[0])
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


# --------------------------------------------------------------------------- contents as evidence

_CHAPTER_WORDS = {
    w: n
    for n, w in enumerate(
        "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen".split(), 1
    )
}
_CHAPTER_RE = re.compile(r"^chapter\s+([a-z]+|\d{1,2})\b\s*(.*)$", re.I)


def _match_key(text: str) -> str:
    """Heading text compared between contents and body: NFKC, case, spaces and punctuation ignored."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] not in "PS")


def _entry_head(text: str) -> _Head:
    """A contents entry read as a heading (index filled in later)."""
    m = _CHAPTER_RE.match(text)
    if m:
        word = m.group(1).lower()
        value = int(word) if word.isdigit() else _CHAPTER_WORDS.get(word)
        if value:
            return _Head(-1, "dotted", 1, (value,), str(value), m.group(2).strip() or text)
    fh = _front_heading(text)
    if fh and fh[0] != fh[1] or fh and re.match(r"^(?:附录|Annex |Appendix )[A-Z]$", fh[0]):
        key = ()
        if re.match(r"^(?:附录|Annex |Appendix )[A-Z]$", fh[0]):
            key = (_ANNEX_BASE + ord(fh[0][-1]) - ord("A"),)
        return _Head(-1, "dotted" if key else "front", 1 if key else 0, key, fh[0], fh[1])
    head = _dotted_candidate(0, [_Line(text, None)])
    if head is not None and not head.rest and 0 not in head.key[1:]:  # "4.0 版的新内容" is a version
        return head
    return _Head(-1, "plain", 99, (), text, text)


def _infer_missing_levels(entries: list[_Head]) -> set[int]:
    """Contents whose second-level numbers are missing from the text layer (NIST SP 800-63B
    prints "4.1" in a font without text): an unnumbered entry inside a numbered chapter takes the
    number the order implies — the parent of the numbered entry after it, or the next sibling."""
    numbered = [e.key for e in entries if e.family == "dotted" and e.key and e.key[0] < _ANNEX_BASE]
    inferred: set[int] = set()
    if not any(len(k) >= 3 for k in numbered) or any(len(k) == 2 for k in numbered):
        return inferred
    last: tuple[int, ...] | None = None
    for n, entry in enumerate(entries):
        if entry.family == "dotted" and entry.key:
            last = entry.key if entry.key[0] < _ANNEX_BASE else None
            continue
        if last is None or entry.family != "plain":
            continue
        nxt = entries[n + 1] if n + 1 < len(entries) else None
        if nxt is not None and nxt.family == "dotted" and len(nxt.key) == 3 and nxt.key[0] == last[0] and nxt.key[:2] != last[:2]:
            key = nxt.key[:2]
        else:
            key = (last[0], last[1] + 1) if len(last) >= 2 else (last[0], 1)
        entry.family, entry.rank, entry.key = "dotted", 2, key
        entry.marker = ".".join(str(x) for x in key)
        inferred.add(n)
        last = key
    return inferred


def _main_block(toc: set[int], gap: int = 6) -> list[int]:
    """The longest run of contents lines (small gaps allowed): the contents list itself, not a
    stray leader line further on (a form's "______" blank)."""
    runs: list[list[int]] = []
    for i in sorted(toc):
        if runs and i - runs[-1][-1] <= gap:
            runs[-1].append(i)
        else:
            runs.append([i])
    return max(runs, key=len) if runs else []


def _toc_outline(lines: Sequence[_Line], toc: set[int]) -> dict[int, _Head]:
    """The headings of the document's contents list, located in the body: line index -> head."""
    block = _main_block(toc)
    entries: list[_Head] = []
    texts: list[str] = []
    for i in block:
        t = lines[i].text
        if not _has_leader_entry(t):
            continue
        text = _LEADER_RE.split(t)[0].strip()  # the page number is after the leader
        text = _LEADER_STUB_RE.sub("", text)  # an OCR layer breaks leaders up: "前言·· ····Ⅱ"
        if text and not _is_toc_marker(text):
            entries.append(_entry_head(text))
            texts.append(text)
    if len(entries) < 3:
        return {}
    inferred = _infer_missing_levels(entries)
    body_start = block[-1] + 1
    keys = [_match_key(line.text) for line in lines]
    found: dict[int, _Head] = {}
    cursor = body_start
    for n, entry in enumerate(entries):
        wanted = {_match_key(texts[n])}
        if n in inferred:
            wanted.add(_match_key(f"{entry.marker} {entry.title}"))
        wanted.discard("")
        if not wanted:
            continue
        for i in range(cursor, len(lines)):
            if i in toc:
                continue
            hit = 0
            if keys[i] in wanted:
                hit = 1
            elif i + 1 < len(lines) and keys[i] + keys[i + 1] in wanted and lines[i + 1].page == lines[i].page:
                hit = 2
            elif i + 2 < len(lines) and keys[i] + keys[i + 1] + keys[i + 2] in wanted and lines[i + 2].page == lines[i].page:
                hit = 3  # "附录A" / "（规范性附录）" / "检验规则"
            if hit:
                head = _Head(i, entry.family, entry.rank, entry.key, entry.marker, entry.title, consumed=hit - 1)
                found[i] = head
                cursor = i + hit
                break
    return found

