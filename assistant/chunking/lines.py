"""A Document's pages as lines: running headers/footers and page numbers removed, wrapped lines re-joined."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ..records import Document
from .text import _HARD_END, _clean_line, _join_text, _width

# --------------------------------------------------------------------------- lines


@dataclass
class _Line:
    text: str
    page: int | None
    break_before: bool = False  # a blank line / block boundary precedes it
    md_depth: int = 0  # number of '#' marks for explicit Markdown headings


_MD_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
# the DOCX loader writes Word heading levels 1-9 as '#' marks and escapes a body '#' as '\#'
_DOCX_HEADING_RE = re.compile(r"^(#{1,9}) (.*)$")


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
            elif doc.format == "docx":
                m = _DOCX_HEADING_RE.match(t)
                if m:
                    depth, t = len(m.group(1)), m.group(2).strip()
                elif t.startswith("\\#"):
                    t = t[1:]
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
