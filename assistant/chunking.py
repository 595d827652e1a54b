"""Clause parser (numbered headings -> Clause records with hierarchy) and passage splitter.

Pipeline of `parse_clauses`:

1. Lines. Page texts are split into lines; for PDFs the running headers/footers and page
   numbers are removed first (lines repeated in the top/bottom zone of many pages, compared with
   digits normalised). Markdown `#` headings are marked as explicit headings.
2. Table of contents. A "目次"/"目录"/"Contents" block and any line with dot leaders and a
   page number are set aside, so the real headings later in the document are the ones used.
3. Headings. Markdown documents with `#` headings use those. Otherwise the numbering *family*
   is detected first (dotted `4.2.1`; statute `第X章`/`第X节`/`第X条`; Chinese lists
   `一、`/`（一）`/`1)`/`(a)`; plain lists `1)`/`(a)`) and only that family's patterns are used,
   so list items inside a dotted document's clauses stay body text. Candidate heading lines must
   look like headings (short title, no sentence punctuation, not a wrapped sentence) and the
   accepted numbers must progress plausibly: the longest plausible numbering chain is chosen by
   dynamic programming, so a wrapped line starting "2.1 ..." in chapter 7 or a cross-reference
   is rejected.
4. Clauses. Each heading with a body becomes a Clause; headings without a body only appear in
   their children's paths. Text before the first heading and documents without numbering become
   paragraph clauses "¶1", "¶2", ...

`split_passages` cuts long clauses at sentence boundaries into Passages that cite the clause.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .records import Clause, Document, Passage

__all__ = ["parse_clauses", "split_passages"]

# --------------------------------------------------------------------------- character classes

_CJK_CHARS = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_ANY = rf"\u3000-\u303f{_CJK_CHARS}\uff00-\uffef"  # ideographs + CJK punctuation/full-width
_CJK_RE = re.compile(rf"[{_CJK_CHARS}]")
_CJK_ANY_RE = re.compile(rf"[{_CJK_ANY}]")
_CN_NUM = "零〇一二三四五六七八九十百千两"
_TERMINAL = "。！？；：.!?;:"
_HARD_END = "。！？.!?"
_SENTENCE_PUNCT = "。；！？"

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def _cn_to_int(s: str) -> int | None:
    """Chinese numerals (一 .. 九千九百九十九) or ASCII digits to int."""
    if s.isdigit():
        return int(s)
    total, digit = 0, None
    for ch in s:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        else:
            return None
    if digit is not None:
        total += digit
    return total


@lru_cache(maxsize=65536)
def _width(text: str) -> int:
    """Display width: CJK and full-width characters count 2."""
    return len(text) + len(_CJK_ANY_RE.findall(text))


def _join_text(a: str, b: str) -> str:
    """Join two wrapped line fragments: no space around CJK, a space between Latin words."""
    if not a:
        return b
    if not b:
        return a
    if _CJK_ANY_RE.match(a[-1]) or _CJK_ANY_RE.match(b[0]):
        return a + b
    if a.endswith("-") and len(a) > 1 and a[-2].isalpha() and b[0].islower():
        return a + b  # hyphenated wrap: keep the hyphen, drop the break
    return a + " " + b


# --------------------------------------------------------------------------- lines


@dataclass
class _Line:
    text: str
    page: int | None
    break_before: bool = False  # a blank line / block boundary precedes it
    md_depth: int = 0  # number of '#' marks for explicit Markdown headings


_WS_RE = re.compile(r"[\s\u3000\u00a0]+")
_MD_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


def _clean_line(text: str) -> str:
    return _WS_RE.sub(" ", text).strip()


_PAGE_NUM_RE = re.compile(
    r"^(?:[-–—~·•\s]*#[-–—~·•\s]*|第\s*#\s*页(?:\s*[,，/]?\s*共\s*#\s*页)?|page\s*#(?:\s*(?:of|/)\s*#)?"
    r"|#\s*/\s*#|[-–—\s]*[ivxlcdm]+[-–—\s]*)$",
    re.I,
)
_ROMAN_RE = re.compile(r"^[-–—\s]*[IVXLCDMivxlcdm]{1,7}[-–—\s]*$")


def _norm_repeat(text: str) -> str:
    if _ROMAN_RE.match(text):
        return "#"
    return re.sub(r"\d+", "#", text.lower()).replace(" ", "")


def _strip_running(pages: list[list[str]]) -> list[list[str]]:
    """Remove running headers/footers/page numbers: lines repeated in the top/bottom zone."""
    n = len(pages)
    if n < 2:
        return pages
    zone = 3
    counts: Counter[str] = Counter()
    for lines in pages:
        seen = set()
        for line in lines[:zone] + lines[-zone:]:
            seen.add(_norm_repeat(line))
        counts.update(seen)
    threshold = max(2, n - 1) if n <= 4 else max(3, math.ceil(0.4 * n))
    # a dotted heading ("4.1 综述") can repeat at page tops in a short document: never a header
    heading_like = re.compile(r"^\d+(\.\d+)+(\s|$)")

    def removable(line: str) -> bool:
        key = _norm_repeat(line)
        if counts[key] < threshold or len(line) > 120:
            return False
        if n == 2:  # too few pages to trust repetition: only page-number lines
            return bool(_PAGE_NUM_RE.match(key))
        return not heading_like.match(line)

    out = []
    for lines in pages:
        keep = list(lines)
        top = min(zone, len(keep))
        # remove from the top zone, then the bottom zone (indexes recomputed each time)
        i = 0
        removed = 0
        while i < len(keep) and removed < top and i < zone:
            if removable(keep[i]):
                keep.pop(i)
                removed += 1
            else:
                i += 1
        j = len(keep) - 1
        checked = 0
        while j >= 0 and checked < zone:
            if removable(keep[j]):
                keep.pop(j)
            checked += 1
            j -= 1
        out.append(keep)
    return out


def _doc_lines(doc: Document) -> list[_Line]:
    lines: list[_Line] = []
    if doc.format == "pdf":
        pages = [[_clean_line(t) for t in p.text.splitlines()] for p in doc.pages]
        pages = [[t for t in page if t] for page in pages]
        pages = _strip_running(pages)
        for page, texts in zip(doc.pages, pages, strict=True):
            for t in texts:
                lines.append(_Line(t, page.number if doc.has_pages else None))
        return lines
    for page in doc.pages:
        start = len(lines)
        pending_break = True
        for raw in page.text.splitlines():
            t = _clean_line(raw)
            if not t:
                pending_break = True
                continue
            depth = 0
            if doc.format == "markdown":
                m = _MD_HEADING_RE.match(t)
                if m:
                    depth = len(m.group(1))
                    t = m.group(2).strip()
                    if not t:
                        continue
                elif t.startswith("|") and t.endswith("|"):
                    t = " ".join(c.strip() for c in t.strip("|").split("|") if c.strip())
            block_format = doc.format in ("docx", "html")
            lines.append(
                _Line(t, page.number if doc.has_pages else None, pending_break or block_format, depth)
            )
            pending_break = False
        if doc.format == "markdown":
            _mark_unwrapped_blocks(lines[start:])
    return lines


def _hard_wrapped(block: Sequence[_Line]) -> bool:
    """A run of Markdown lines that is one hard-wrapped paragraph (not a line-per-item list)."""
    if len(block) < 2:
        return False
    widths = [_width(line.text) for line in block]
    widest = max(widths)
    return widest >= 60 and all(w >= 0.75 * widest for w in widths[:-1])


def _mark_unwrapped_blocks(lines: Sequence[_Line]) -> None:
    """In Markdown, keep each line of a block that is not a wrapped paragraph on its own line."""
    block: list[_Line] = []
    for line in list(lines) + [_Line("", None, True)]:
        if line.break_before or line.md_depth:
            if not _hard_wrapped(block):
                for member in block:
                    member.break_before = True
            block = []
        if not line.md_depth:
            block.append(line)


# --------------------------------------------------------------------------- line joining

_LIST_ITEM_RE = re.compile(
    r"^(?:[-*+•●○■□▪◆◇·]\s*|——|[a-zA-Z][)）]|[（(][a-zA-Z0-9一二三四五六七八九十]{1,3}[)）]"
    r"|\d{1,3}[)）]|\d{1,3}[.、．]\s*(?!\d)|[一二三四五六七八九十]{1,3}、|[①-⑳]|注\s*\d*\s*[：:]|NOTE\b|Note\b)"
)


class _Joiner:
    """Decides whether two consecutive lines are one wrapped paragraph."""

    def __init__(self, lines: Sequence[_Line], fmt: str) -> None:
        self.fmt = fmt
        widths = sorted(_width(line.text) for line in lines if len(line.text) > 1)
        self.full = widths[min(len(widths) - 1, int(len(widths) * 0.9))] if widths else 0
        if self.full > 220:
            self.full = 0  # one paragraph per line (no printed page is that wide): never re-wrap

    def is_full(self, text: str) -> bool:
        return self.full > 0 and _width(text) >= 0.7 * self.full

    def continues(self, prev: str, nxt: _Line) -> bool:
        """True when `nxt` continues the paragraph that `prev` (a joined line) ends."""
        if nxt.break_before or _LIST_ITEM_RE.match(nxt.text):
            return False
        if self.fmt in ("docx", "html"):
            return False
        last = prev[-1] if prev else ""
        lower_next = nxt.text[0].islower()
        if self.fmt == "markdown":  # only lines of a hard-wrapped paragraph get here
            return last not in _HARD_END or lower_next
        if last in _HARD_END:
            # "... the enterprise.\nstaffing" cannot start a paragraph in English; 。 ends one
            return last in ".!?" and lower_next
        return self.is_full(prev) or (last in ",;:" and lower_next)

    def join(self, lines: Sequence[_Line]) -> str:
        """Join body lines: wraps re-joined, paragraph breaks and list items kept as newlines."""
        paragraphs: list[str] = []
        last_line = ""
        for line in lines:
            if paragraphs and self.continues(last_line, line):
                paragraphs[-1] = _join_text(paragraphs[-1], line.text)
            else:
                paragraphs.append(line.text)
            last_line = line.text
        return "\n".join(paragraphs)

    def paragraphs(self, lines: Sequence[_Line]) -> list[list[_Line]]:
        groups: list[list[_Line]] = []
        for line in lines:
            if groups and self.continues(groups[-1][-1].text, line):
                groups[-1].append(line)
            else:
                groups.append([line])
        return groups


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


# --------------------------------------------------------------------------- heading candidates


@dataclass
class _Head:
    index: int  # line index
    family: str  # "dotted", "statute", "cnlist", "paren", "front", "md"
    rank: int  # nesting rank within the family (smaller = higher)
    key: tuple[int, ...]  # numeric value(s) used for progression checks
    marker: str  # number as shown in the path, e.g. "4.5", "第一章", "（一）"
    title: str
    rest: str = ""  # body text on the heading line (第十二条 用人单位应当...)
    consumed: int = 0  # following lines that belong to the heading (number-only heading lines)
    weight: float = 1.0
    number: str = ""  # final clause number (qualified where the marker repeats)
    depth: int = 0  # Markdown '#' depth of an unnumbered sub-heading


# Chinese text that continues a sentence ("5 个工作日内", "5.3.2 的要求") rather than a title
_CONT_START_ZH = re.compile(
    r"^(?:[的之和与或而但则%％倍‰]|个(?:工作日|自然日|月|小时|以上|以内)|[日天年月周](?:内|起|以[上下内]|之内|后|为)"
    r"|条(?:规定|的|所|中|第|之)|款|项(?:规定|的|所|中)|以上|以下|以内|之内|之间|规定|所述|所列"
    r"|[个名人次家项台套件位种类元万亿岁秒分](?:以上|以下|以内|之内|左右|及以上|及以下)"
    r"|(?:小时|分钟|秒|米|平方米|公里|千米|mm|cm|km|kg|ms|MB|GB)(?![\u4e00-\u9fff]{2}))"
)


def _title_ok(title: str, *, allow_empty: bool = False) -> bool:
    """A heading title: short, no sentence punctuation, not the middle of a sentence."""
    title = title.strip()
    if not title:
        return allow_empty
    if any(p in title for p in _SENTENCE_PUNCT):
        return False
    if title[-1] in "，,、:：;；.。!?！？(（-—":
        return False
    cjk = bool(_CJK_RE.search(title))
    if cjk:
        if "，" in title or _width(title) > 64:
            return False
        if _CONT_START_ZH.match(title):
            return False
    else:
        if len(title) > 100 or len(title.split()) > 16:
            return False
        if title[0].islower():
            return False
        if re.search(r"[a-z]\.\s+[A-Z]", title):  # two sentences
            return False
    if not re.search(rf"[A-Za-z{_CJK_CHARS}]", title):
        return False
    return True


_DOTTED_RE = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){0,5})\.?(?:\s+(\S.*)|(?<=\d)([" + _CJK_CHARS + r"].*))?$")
_STATUTE_RE = re.compile(
    rf"^第\s*([{_CN_NUM}\d]{{1,6}})\s*(编|章|节|条)(之[{_CN_NUM}]{{1,3}})?(?:\s*(.*))?$"
)
_CN_TOP_RE = re.compile(rf"^([{_CN_NUM}]{{1,4}})\s*、\s*(.*)$")
_CN_PAREN_RE = re.compile(rf"^[（(]\s*([{_CN_NUM}]{{1,4}})\s*[)）]\s*(.*)$")
_DIGIT_PAREN_RE = re.compile(r"^(?:[（(]\s*(\d{1,2})\s*[)）]|(\d{1,2})\s*[)）]|(\d{1,2})、)\s*(.*)$")
_ALPHA_PAREN_RE = re.compile(r"^(?:[（(]([a-z])[)）]|([a-z])[)）])\s*(.*)$")
_FRONT_WORDS_ZH = {"前言", "引言", "序言", "导言", "序", "总则说明", "参考文献", "编制说明", "后记", "索引"}
_FRONT_WORDS_EN = {"foreword", "preface", "introduction", "bibliography", "references", "index", "acknowledgements", "acknowledgments"}
_ANNEX_RE = re.compile(r"^(附\s*录\s*[A-Z]?|(?:Annex|Appendix)\s+[A-Z0-9]{1,2})(?:\s*(.*))?$")


def _front_heading(text: str) -> tuple[str, str] | None:
    """Unnumbered front/back matter headings: (number, title)."""
    compact = re.sub(r"\s+", "", text)
    if compact in _FRONT_WORDS_ZH:
        return compact, compact
    if text.strip().lower() in _FRONT_WORDS_EN:
        return text.strip(), text.strip()
    m = _ANNEX_RE.match(text.strip())
    if m:
        number = re.sub(r"\s+", "", m.group(1)) if m.group(1).startswith("附") else " ".join(m.group(1).split())
        title = (m.group(2) or "").strip()
        if not title or (_width(title) <= 80 and not any(p in title for p in _SENTENCE_PUNCT)):
            return number, title or number
    return None


def _dotted_candidate(i: int, lines: Sequence[_Line]) -> _Head | None:
    text = lines[i].text
    m = _DOTTED_RE.match(text)
    if not m:
        return None
    number = m.group(1)
    title = (m.group(2) or m.group(3) or "").strip()
    key = tuple(int(x) for x in number.split("."))
    if key[0] > 99:
        return None
    weight = 1.0
    if m.group(3) and len(key) == 1:
        # "4规划及发展方向" (the extractor lost the space) is possible but so is "10个工作日":
        # the title checks and the numbering chain decide, with less trust
        weight = 0.6
    consumed = 0
    if not title:
        # number-only line ("4.5") with the title on the next line
        if len(key) < 2 or i + 1 >= len(lines):
            return None
        nxt = lines[i + 1].text
        if not _title_ok(nxt) or _DOTTED_RE.match(nxt):
            return None
        title, consumed = nxt, 1
    elif not _title_ok(title):
        return None
    return _Head(i, "dotted", len(key), key, number, title, consumed=consumed, weight=weight)


def _split_title_body(rest: str) -> tuple[str, str]:
    """For 一、/（一）/1)/(a) headings: a short title, or no title and the body on the line."""
    rest = rest.strip()
    if not rest:
        return "", ""
    if _title_ok(rest) and _width(rest) <= 50:
        return rest, ""
    return "", rest


def _statute_candidate(i: int, lines: Sequence[_Line]) -> _Head | None:
    text = lines[i].text
    m = _STATUTE_RE.match(text)
    if not m:
        return None
    value = _cn_to_int(m.group(1))
    if value is None or value == 0:
        return None
    unit = m.group(2)
    suffix = m.group(3) or ""
    rest = (m.group(4) or "").strip()
    marker = f"第{m.group(1)}{unit}{suffix}"
    rank = {"编": 1, "章": 2, "节": 3, "条": 4}[unit]
    sub = _cn_to_int(suffix[1:]) if suffix else 0
    if unit == "条":
        title = ""
        bracket = re.match(r"^[【\[]([^】\]]{1,30})[】\]]\s*(.*)$", rest)
        if bracket:
            title, rest = bracket.group(1), bracket.group(2)
        separated = bool(re.match(rf"^第\s*[{_CN_NUM}\d]+\s*条(之[{_CN_NUM}]+)?(\s|$|[【\[])", text))
        head = _Head(i, "statute", rank, (value, sub or 0), marker, title, rest=rest)
        if not separated:
            if rest[:1] in ("的", "规", "所", "和", "、", "，", "或", "至", "中", "第"):
                return None  # "第十二条规定的..." is a cross-reference that wrapped to a line start
            head.weight = 0.6
        return head
    if rest and not _title_ok(rest):
        return None
    return _Head(i, "statute", rank, (value, sub or 0), marker, rest)


def _cnlist_candidate(i: int, lines: Sequence[_Line]) -> _Head | None:
    text = lines[i].text
    m = _CN_TOP_RE.match(text)
    if m:
        value = _cn_to_int(m.group(1))
        if value:
            title, rest = _split_title_body(m.group(2))
            return _Head(i, "cnlist", 1, (value,), m.group(1), title, rest=rest)
        return None
    m = _CN_PAREN_RE.match(text)
    if m:
        value = _cn_to_int(m.group(1))
        if value:
            title, rest = _split_title_body(m.group(2))
            return _Head(i, "cnlist", 2, (value,), f"（{m.group(1)}）", title, rest=rest)
        return None
    head = _paren_candidate(i, lines)
    if head:
        head.family = "cnlist"
        head.rank += 2
    return head


def _paren_candidate(i: int, lines: Sequence[_Line]) -> _Head | None:
    text = lines[i].text
    m = _DIGIT_PAREN_RE.match(text)
    if m:
        if m.group(1):
            marker, num = f"({m.group(1)})", m.group(1)
        elif m.group(2):
            marker, num = f"{m.group(2)})", m.group(2)
        else:
            marker, num = m.group(3), m.group(3)
        value = int(num)
        if value == 0:
            return None
        title, rest = _split_title_body(m.group(4))
        if not title and not rest:
            return None
        return _Head(i, "paren", 1, (value,), marker, title, rest=rest)
    m = _ALPHA_PAREN_RE.match(text)
    if m:
        letter = m.group(1) or m.group(2)
        marker = f"({letter})" if m.group(1) else f"{letter})"
        title, rest = _split_title_body(m.group(3))
        if not title and not rest:
            return None
        return _Head(i, "paren", 2, (ord(letter) - ord("a") + 1,), marker, title, rest=rest)
    return None


_FAMILIES = {
    "dotted": _dotted_candidate,
    "statute": _statute_candidate,
    "cnlist": _cnlist_candidate,
    "paren": _paren_candidate,
}


def _any_heading_like(text: str) -> bool:
    probe = [_Line(text, None)]
    if _front_heading(text):
        return True
    for fn in _FAMILIES.values():
        head = fn(0, probe)
        if head is not None and (head.title or head.family == "statute"):
            return True
    return False


# --------------------------------------------------------------------------- progression checks


def _dotted_step(a: tuple[int, ...], b: tuple[int, ...]) -> float | None:
    """Penalty for heading number b following a (None = implausible)."""
    if len(b) > len(a) and b[: len(a)] == a:
        extra = b[len(a) :]
        if all(x == 1 for x in extra) and len(extra) <= 2:
            return 0.0 if len(extra) == 1 else 0.3
        return None
    for k in range(len(a), 0, -1):
        if len(b) < k or b[: k - 1] != a[: k - 1]:
            continue
        step = b[k - 1] - a[k - 1]
        if 1 <= step <= 3 and all(x == 1 for x in b[k:]) and len(b) - k <= 2:
            return 0.35 * (step - 1) + 0.3 * (len(b) - k)
        return None
    return None


def _best_chain(cands: list[_Head], step, start_penalty, window: int = 60) -> list[_Head]:
    """Highest-scoring subsequence of candidates in which every step is plausible."""
    if not cands:
        return []
    score = [0.0] * len(cands)
    prev = [-1] * len(cands)
    for i, c in enumerate(cands):
        best, arg = c.weight - start_penalty(c), -1
        for j in range(max(0, i - window), i):
            pen = step(cands[j], c)
            if pen is None:
                continue
            s = score[j] + c.weight - pen
            if s > best:
                best, arg = s, j
        score[i], prev[i] = best, arg
    i = max(range(len(cands)), key=lambda k: (score[k], -k))
    chain = []
    while i != -1:
        chain.append(cands[i])
        i = prev[i]
    return chain[::-1]


def _validate_dotted(cands: list[_Head]) -> list[_Head]:
    def start_penalty(c: _Head) -> float:
        return 0.0 if all(x <= 1 for x in c.key) else 0.5

    return _best_chain(cands, lambda a, b: _dotted_step(a.key, b.key), start_penalty)


def _validate_ranked(cands: list[_Head]) -> list[_Head]:
    """Families without prefix numbers: validate rank by rank, within the higher ranks' segments."""
    accepted: list[_Head] = []
    for rank in sorted({c.rank for c in cands}):
        bounds = sorted(h.index for h in accepted)
        level = [c for c in cands if c.rank == rank]
        # split into segments between accepted higher-rank headings
        segments: list[list[_Head]] = []
        current: list[_Head] = []
        b = 0
        for c in level:
            moved = False
            while b < len(bounds) and bounds[b] < c.index:
                b += 1
                moved = True
            if moved and current:
                segments.append(current)
                current = []
            current.append(c)
        if current:
            segments.append(current)
        last: tuple[int, ...] | None = None
        for seg in segments:
            expected = {1} if last is None else {1, last[0] + 1}

            def start_penalty(c: _Head, expected=expected, last=last) -> float:
                if c.key[0] in expected:
                    return 0.0
                if last is not None and c.key[0] == last[0] + 2:
                    return 0.3
                return 0.6 if last is None else 0.9

            def step(a: _Head, b: _Head) -> float | None:
                if a.key[0] == b.key[0] and b.key[1:] > a.key[1:]:
                    return 0.0  # 第十条之一 after 第十条
                d = b.key[0] - a.key[0]
                return {1: 0.0, 2: 0.35, 3: 0.7}.get(d)

            chain = _best_chain(seg, step, start_penalty)
            if chain:
                accepted.extend(chain)
                last = chain[-1].key
    accepted.sort(key=lambda h: h.index)
    return accepted


def _context_weight(i: int, lines: Sequence[_Line], joiner: _Joiner, toc: set[int]) -> float:
    """Lower weight for a candidate whose previous line runs on into it (a wrapped sentence)."""
    j = i - 1
    while j >= 0 and j in toc:
        j -= 1
    if j < 0 or lines[i].break_before:
        return 1.0
    prev = lines[j].text
    if prev[-1] in _TERMINAL or not joiner.is_full(prev) or lines[j].page != lines[i].page:
        return 1.0
    return 0.4


def _detect_headings(lines: Sequence[_Line], toc: set[int], joiner: _Joiner) -> list[_Head]:
    """Pick the numbering family and return its validated headings (+ front matter headings)."""
    best: list[_Head] = []
    for family, fn in _FAMILIES.items():
        cands: list[_Head] = []
        skip_until = -1
        for i in range(len(lines)):
            if i in toc or i <= skip_until:
                continue
            head = fn(i, lines)
            if head is None:
                continue
            head.weight *= _context_weight(i, lines, joiner, toc)
            cands.append(head)
            skip_until = i + head.consumed
        if not cands:
            continue
        accepted = _validate_dotted(cands) if family == "dotted" else _validate_ranked(cands)
        if family == "dotted":
            ok = len(accepted) >= 3 or (
                len(accepted) >= 2 and (any(len(h.key) > 1 for h in accepted) or accepted[0].key in ((0,), (1,)))
            )
        elif family == "paren":
            ok = len(accepted) >= 2 and any(h.title for h in accepted) or len(accepted) >= 3
        else:
            ok = len(accepted) >= 2
        if ok:
            best = accepted
            break
    if not best:
        return []
    taken = {h.index for h in best}
    for h in best:
        taken.update(range(h.index, h.index + h.consumed + 1))
    for i, line in enumerate(lines):
        if i in toc or i in taken:
            continue
        fh = _front_heading(line.text)
        if fh:
            best.append(_Head(i, "front", 0, (), fh[0], fh[1]))
    best.sort(key=lambda h: h.index)
    return best


def _markdown_headings(lines: Sequence[_Line], toc: set[int]) -> list[_Head]:
    """Explicit Markdown headings; the numbering is parsed from the heading text."""
    heads: list[_Head] = []
    numbered_depths: list[int] = []
    raw: list[tuple[int, _Head | None]] = []
    for i, line in enumerate(lines):
        if not line.md_depth or i in toc:
            continue
        probe = [_Line(line.text, None)]
        head = None
        for fn in (_dotted_candidate, _statute_candidate, _cnlist_candidate):
            head = fn(0, probe)
            if head is not None:
                break
        if head is not None and head.family == "dotted" and head.consumed:
            head = None
        if head is not None:
            if head.rest and head.family != "statute":
                head.title, head.rest = (head.title + " " + head.rest).strip(), ""
            head.index = i
            numbered_depths.append(line.md_depth)
        raw.append((i, head))
    if not raw:
        return []
    top_depth = min(numbered_depths) if numbered_depths else None
    first_index = raw[0][0]
    for i, head in raw:
        if head is None:
            text = lines[i].text
            depth = lines[i].md_depth
            if i == first_index and depth == 1 and (top_depth is None or top_depth > 1):
                continue  # the document title
            fh = _front_heading(text)
            if fh:
                head = _Head(i, "front", 0, (), fh[0], fh[1])
            elif top_depth is None or depth <= top_depth:
                head = _Head(i, "front", 0, (), text, text)
            else:
                head = _Head(i, "md", 99, (), text, text, depth=depth)  # unnumbered sub-heading
        heads.append(head)
    return heads


# --------------------------------------------------------------------------- assembly


_SPACED_CJK_RE = re.compile(rf"^[{_CJK_CHARS}](?: [{_CJK_CHARS}])+$")


def _tidy_title(title: str) -> str:
    """"总 则" (typographic letter spacing) -> "总则"."""
    title = title.strip()
    if _SPACED_CJK_RE.match(title):
        return title.replace(" ", "")
    return title


def _label(head: _Head) -> str:
    if head.family in ("front", "md"):
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
    while stack:
        top = stack[-1]
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
    has_md_headings = doc.format == "markdown" and sum(1 for line in lines if line.md_depth) >= 2
    if has_md_headings:
        toc = _markdown_toc(lines)
        heads = _markdown_headings(lines, toc)
    else:
        toc = _find_toc(lines, _any_heading_like)
        heads = _detect_headings(lines, toc, joiner)
    if not heads:
        body = [line for i, line in enumerate(lines) if i not in toc and not line.md_depth]
        return _paragraph_clauses(doc, body, joiner) if body else []

    clauses: list[Clause] = []
    title_key = re.sub(r"\s+", "", doc.title)

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
        _pop_for(stack, head)
        head.number = _qualified_number(head, stack)
        path = [_label(h) for h in stack] + [_label(head)]
        stack.append(head)
        body_lines: list[_Line] = []
        if head.rest:
            body_lines.append(_Line(head.rest, lines[head.index].page))
        for i in range(head.index + 1 + head.consumed, bounds[n + 1]):
            if i in toc or lines[i].md_depth:
                continue
            body_lines.append(lines[i])
        text = joiner.join(body_lines).strip()
        if not text:
            continue  # a heading without a body: only in its children's paths
        used[head.number] += 1
        suffix = "" if used[head.number] == 1 else f"-{used[head.number]}"
        page_start = lines[head.index].page if doc.has_pages else None
        page_end = body_lines[-1].page if doc.has_pages else None
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
            )
        )
    return clauses


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


# --------------------------------------------------------------------------- passages

_SENT_END_RE = re.compile(r"[。！？；!?;]+[”’\"')）]*|\.+[”’\"')）]*(?=\s|$)|\n")


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) spans of sentences, whitespace between them excluded."""
    spans = []
    pos = 0
    for m in _SENT_END_RE.finditer(text):
        end = m.end()
        if end > pos:
            spans.append((pos, end))
        pos = end
    if pos < len(text):
        spans.append((pos, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def _hard_cut(text: str, s: int, e: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence into pieces <= max_chars, preferring commas and spaces."""
    pieces = []
    while e - s > max_chars:
        cut = s + max_chars
        window = text[s + max_chars // 2 : cut]
        best = max(window.rfind(ch) for ch in "，,、 ")
        if best >= 0:
            cut = s + max_chars // 2 + best + 1
        piece_end = cut
        while piece_end > s and text[piece_end - 1].isspace():
            piece_end -= 1
        pieces.append((s, piece_end))
        s = cut
        while s < e and text[s].isspace():
            s += 1
    if e > s:
        pieces.append((s, e))
    return pieces


def split_passages(clause: Clause, max_chars: int = 600, overlap_sentences: int = 0) -> list[Passage]:
    """One Passage for a short clause; sentence-aligned pieces of <= max_chars for a long one."""
    text = clause.text
    if len(text) <= max_chars:
        return [Passage(id=clause.id, clause_id=clause.id, text=text, start=0)]
    units: list[tuple[int, int]] = []
    for s, e in _sentence_spans(text):
        if e - s > max_chars:
            units.extend(_hard_cut(text, s, e, max_chars))
        else:
            units.append((s, e))
    pieces: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        start = units[i][0]
        j = i
        while j + 1 < len(units) and units[j + 1][1] - start <= max_chars:
            j += 1
        pieces.append((start, units[j][1]))
        nxt = j + 1
        if overlap_sentences > 0 and nxt < len(units):
            back = max(i + 1, nxt - overlap_sentences)
            # only overlap if the overlapped sentences plus the next one still fit
            while back < nxt and units[nxt][1] - units[back][0] > max_chars:
                back += 1
            nxt = back
        i = nxt
    return [
        Passage(id=f"{clause.id}#{n}", clause_id=clause.id, text=text[s:e], start=s)
        for n, (s, e) in enumerate(pieces, start=1)
    ]

