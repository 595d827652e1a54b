"""A Document's pages as lines: running headers/footers and page numbers removed, wrapped lines re-joined."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ..records import Document
from .ocr import repair_ocr_numbers
from .text import _HARD_END, _clean_line, _join_text, _normalise_number, _width

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
_ROMAN_RE = re.compile(r"^[-–—\s]*(?:[IVXLCDMivxlcdm]{1,7}|[Ⅰ-Ⅻⅰ-ⅻ]{1,3})[-–—\s]*$")
# a header line that ends in its page number: "CHAPTER THREE PAGE 10", "… Standard 4.0.3 17"
_LABELLED_PAGE_RE = re.compile(r"^(?:.*\bpage\s+|第\s*)(\d{1,4}|[ivxlcdm]{1,7})(?:\s*页)?$", re.I)
_ZONE = 6  # running headers/footers may be several lines high (NIST: 4 lines)
_SHORT_ZONE = 3  # in a short document two pages' headings can repeat by chance: look less deep


def _zone(n_pages: int) -> int:
    return _ZONE if n_pages >= 8 else _SHORT_ZONE


def _norm_repeat(text: str) -> str:
    if _ROMAN_RE.match(text):
        return "#"
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"\d+", "#", text.lower()).replace(" ", "")


def _zone_counts(pages: list[list[str]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    zone = _zone(len(pages))
    for lines in pages:
        counts.update({_norm_repeat(line) for line in lines[:zone] + lines[-zone:]})
    return counts


def _repeat_threshold(n: int) -> int:
    return max(2, n - 1) if n <= 4 else max(3, math.ceil(0.4 * n))


def _strip_running(pages: list[list[str]]) -> list[list[str]]:
    """Remove running headers/footers/page numbers: runs of lines at the top or bottom of a page
    that repeat (digits normalised) on many pages, however many lines high."""
    n = len(pages)
    if n < 2:
        return pages
    counts = _zone_counts(pages)
    threshold = _repeat_threshold(n)
    # a dotted heading ("4.1 综述") can repeat at page tops in a short document: never a header
    heading_like = re.compile(r"^\d+(\.\d+)+(\s|$)")

    zone = _zone(n)
    # pages whose header/footer carries "… PAGE n": such a line is a header whatever precedes it
    labelled = sum(1 for lines in pages if any(_LABELLED_PAGE_RE.match(t) for t in lines[:zone] + lines[-zone:]))

    def removable(line: str) -> bool:
        key = _norm_repeat(line)
        if len(line) > 120:
            return False
        if counts[key] < threshold:
            # a per-chapter header line carrying the page number ("CHAPTER THREE PAGE 10")
            return n > 4 and labelled >= threshold and bool(_LABELLED_PAGE_RE.match(line))
        if n == 2:  # too few pages to trust repetition: only page-number lines
            return bool(_PAGE_NUM_RE.match(key))
        return not heading_like.match(line)

    out = []
    for lines in pages:
        top = 0
        while top < min(zone, len(lines)) and removable(lines[top]):
            top += 1
        bottom = len(lines)
        while bottom > top and len(lines) - bottom < zone and removable(lines[bottom - 1]):
            bottom -= 1
        out.append(lines[top:bottom])
    return out


def _roman_value(text: str) -> int | None:
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
    text = text.lower()
    if not text or any(ch not in values for ch in text):
        return None
    total = 0
    for a, b in zip(text, text[1:] + " "):
        v = values[a]
        total += -v if b != " " and values[b] > v else v
    return total


def printed_page_labels(page_texts: Sequence[str]) -> list[str | None]:
    """The page number printed in each page's running header or footer, or None.

    A candidate is a number (Arabic, Roman, full-width) standing alone or ending a line at the
    top or bottom of the page whose digit-normalised form repeats on many pages; the label of a
    page is the number on its most repeated candidate line.
    """
    pages = [[_clean_line(t) for t in text.splitlines()] for text in page_texts]
    pages = [[t for t in page if t] for page in pages]
    n = len(pages)
    if n < 3:
        return [None] * n
    counts = _zone_counts(pages)
    threshold = max(3, math.ceil(0.3 * n))
    number_re = re.compile(
        r"(?:^|\s|page\s*|第\s*)(\d{1,4}|[ivxlcdm]{1,7}|[Ⅰ-Ⅻⅰ-ⅻ])(?:\s*页)?(?:\s*[-–—]+)?$", re.I
    )  # "12", "… 4.0.3 17", "PAGE 10", "第 3 页", "— 4 —"
    # "第 3 页 共 10 页", "Page 3 of 10", "3 / 10": the page, not the total
    of_total_re = re.compile(r"(?:第\s*(\d{1,4})\s*页\s*[,，]?\s*共\s*\d+\s*页|(?:page\s*)?(\d{1,4})\s*(?:of|/)\s*\d{1,4})$", re.I)
    labels: list[str | None] = []
    for lines in pages:
        best: tuple[int, str] | None = None
        zone = _zone(n)
        for line in lines[:zone] + lines[-zone:]:
            text = unicodedata.normalize("NFKC", line)
            m = of_total_re.search(text) or number_re.search(text)
            if not m or len(text) > 120:
                continue
            key = _norm_repeat(line)
            count = counts[key]
            bare = n <= 6 and key == "#" and count >= 2  # a short document: a bare number on two pages
            if count < threshold and not bare and not (count >= 3 and _LABELLED_PAGE_RE.match(text)):
                continue
            value = next(g for g in m.groups() if g)
            if not value.isdigit() and _roman_value(value) is None:
                continue
            if best is None or count > best[0]:
                best = (count, value)
        labels.append(best[1] if best else None)
    return labels


def _doc_lines(doc: Document) -> list[_Line]:
    lines: list[_Line] = []
    if doc.format == "pdf":
        pages = [[_clean_line(t) for t in p.text.splitlines()] for p in doc.pages]
        pages = [[t for t in page if t] for page in pages]
        pages = _strip_running(pages)
        flat = [(page.number if doc.has_pages else None, _normalise_number(t)) for page, texts in
                zip(doc.pages, pages, strict=True) for t in texts]
        repaired = repair_ocr_numbers([t for _, t in flat])  # scanned PDFs carry OCR layers
        return [_Line(t, number) for (number, _), t in zip(flat, repaired, strict=True)]
    for page in doc.pages:
        start = len(lines)
        pending_break = True
        for raw in page.text.splitlines():
            t = _normalise_number(_clean_line(raw))
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
