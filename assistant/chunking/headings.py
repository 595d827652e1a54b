"""Heading detection: candidates per numbering family, numbering-chain validation, Markdown headings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..text import cn_numeral_to_int
from .lines import _Joiner, _Line
from .text import (
    _CJK_CHARS,
    _CJK_RE,
    _CN_NUM,
    _SENTENCE_PUNCT,
    _TERMINAL,
    _width,
)

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
    depth: int = 0  # Markdown '#' depth; for "plain": rank of the numbered headings it groups
    container: bool = False  # "plain" without a body of its own, heading the plain ones after it


# Chinese text that continues a sentence ("5 个工作日内", "5.3.2 的要求") rather than a title
_CONT_START_ZH = re.compile(
    r"^(?:[的之和与或而但则%％倍‰]|个(?:工作日|自然日|月|小时|以上|以内)|[日天年月周](?:内|起|以[上下内]|之内|后|为)"
    r"|条(?:规定|的|所|中|第|之)|款|项(?:规定|的|所|中)|以上|以下|以内|之内|之间|规定|所述|所列"
    r"|[个名人次家项台套件位种类元万亿岁秒分](?:以上|以下|以内|之内|左右|及以上|及以下)"
    r"|(?:小时|分钟|秒|米|平方米|公里|千米|mm|cm|km|kg|ms|MB|GB)(?![" + _CJK_CHARS + r"]{2}))"
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


_DOTTED_RE = re.compile(
    r"^((?:V|[A-Z]\.)?\d{1,3}(?:\.\d{1,3}){0,5})\.?(?:\s+(\S.*)|(?<=\d)([" + _CJK_CHARS + r"].*))?$"
)
_ANNEX_BASE = 1000  # annex letters sort after every chapter number: A.1 -> (1000, 1)
# the level-tick / CWE / NIST columns that follow a requirement in ASVS-style tables
_TICK_COLUMNS_RE = re.compile(r"(?:\s+o)?\s+[✓✔](?:\s.*)?$")


def _number_key(number: str) -> tuple[int, ...]:
    """ "4.2" -> (4, 2); "V1.1" -> (1, 1) (same numbering as its requirements 1.1.1); "A.1" -> (1000, 1)."""
    if number[0] == "V":
        number = number[1:]
    if number[0].isalpha():
        return (_ANNEX_BASE + ord(number[0]) - ord("A"),) + tuple(int(x) for x in number[2:].split("."))
    return tuple(int(x) for x in number.split("."))


def _provision_title(text: str, limit: int = 120) -> str:
    """The first words of an untitled provision or requirement, as its title."""
    text = _TICK_COLUMNS_RE.sub("", text).strip()
    if _CJK_RE.search(text[:8]):
        # Chinese: the words up to the first comma or full stop, as a title should read
        m = re.match(r"^(.{4,30}?)[，。；：,;]", text)
        text = m.group(1) if m else text[:30]
        return text
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > limit // 2 and not _CJK_RE.search(cut) else cut


def _provision_ok(text: str) -> bool:
    """A numbered line that starts a provision's own sentence, not a wrapped cross-reference."""
    first = text[:1]
    if not first or not (first.isupper() or _CJK_RE.match(first) or first in "“\"(（[【"):
        return False
    return not _CONT_START_ZH.match(text)


_STATUTE_RE = re.compile(
    rf"^第\s*([{_CN_NUM}\d]{{1,6}})\s*(编|章|节|条)(之[{_CN_NUM}]{{1,3}})?(?:\s*(.*))?$"
)
_CN_TOP_RE = re.compile(rf"^([{_CN_NUM}]{{1,4}})\s*、\s*(.*)$")
_CN_PAREN_RE = re.compile(rf"^[（(]\s*([{_CN_NUM}]{{1,4}})\s*[)）]\s*(.*)$")
_DIGIT_PAREN_RE = re.compile(r"^(?:[（(]\s*(\d{1,2})\s*[)）]|(\d{1,2})\s*[)）]|(\d{1,2})、)\s*(.*)$")
_ALPHA_PAREN_RE = re.compile(r"^(?:[（(]([a-z])[)）]|([a-z])[)）])\s*(.*)$")
_FRONT_WORDS_ZH = {"前言", "引言", "序言", "导言", "序", "总则说明", "参考文献", "编制说明", "后记", "索引"}
_FRONT_WORDS_EN = {"foreword", "preface", "introduction", "bibliography", "references", "index", "acknowledgements", "acknowledgments", "abstract", "keywords"}
_ANNEX_RE = re.compile(
    r"^(附\s*录\s*[A-Z]?|(?i:annex|appendix)\s+[A-Z0-9]{1,2}\b)(?:\s*(.*))?$"
)
# the annex kind under "附录A" / "Annex A" (the title on the line after it), or before its title
# (an OCR layer may space the kind out: "（资 料性附录）")
_ANNEX_KIND = r"^[（(]\s*(?:(?:规\s*范|资\s*料)\s*性(?:\s*附\s*录)?|normative|informative)\s*[)）]"
_ANNEX_KIND_RE = re.compile(_ANNEX_KIND + "$", re.I)
_ANNEX_KIND_PREFIX_RE = re.compile(_ANNEX_KIND, re.I)


def _front_heading(text: str) -> tuple[str, str] | None:
    """Unnumbered front/back matter headings: (number, title)."""
    compact = re.sub(r"\s+", "", text)
    if compact in _FRONT_WORDS_ZH:
        return compact, compact
    if text.strip().lower() in _FRONT_WORDS_EN:
        return text.strip(), text.strip()
    m = _ANNEX_RE.match(text.strip())
    if m:
        if m.group(1).startswith("附"):
            number = re.sub(r"\s+", "", m.group(1))
        else:
            word, letter = m.group(1).split()
            number = f"{word.capitalize()} {letter}"
        title = (m.group(2) or "").strip().lstrip(":：—–-.． ").strip()
        title = _ANNEX_KIND_PREFIX_RE.sub("", title).strip()  # "（规范性附录） 检验规则" on one line
        if not title or (_width(title) <= 80 and not any(p in title for p in _SENTENCE_PUNCT)):
            return number, title or number
    return None


def _annex_title(i: int, lines: Sequence[_Line]) -> tuple[str, int] | None:
    """An annex heading without a title on its line: (title, lines consumed) from the lines after:
    "附录A" / "（规范性附录）" / "术语" or "APPENDIX A" / "REFERENCES"."""
    j = i + 1
    if j < len(lines) and _ANNEX_KIND_RE.match(lines[j].text):
        j += 1
    if j >= len(lines) or lines[j].page != lines[i].page:
        return None
    nxt = lines[j].text
    if not _title_ok(nxt) or _width(nxt) > 60 or _DOTTED_RE.match(nxt):
        return None
    if j == i + 1 and not (nxt.isupper() or _CJK_RE.search(nxt)):
        return None  # without the annex kind line, only a title set apart (upper case, CJK)
    return nxt, j - i


def _dotted_candidate(i: int, lines: Sequence[_Line]) -> _Head | None:
    text = lines[i].text
    m = _DOTTED_RE.match(text)
    if not m:
        return None
    number = m.group(1)
    title = (m.group(2) or m.group(3) or "").strip()
    key = _number_key(number)
    if key[0] > 99 and key[0] < _ANNEX_BASE:
        return None
    if number[0].isalpha() and number[0] != "V" and len(key) > 4:
        return None
    weight = 1.0
    if m.group(3) and len(key) == 1:
        # "4规划及发展方向" (the extractor lost the space) is possible but so is "10个工作日":
        # the title checks and the numbering chain decide, with less trust
        weight = 0.6
    consumed = 0
    rest = ""
    if not title:
        # number-only line ("4.5") with the title on the next line
        if len(key) < 2 or i + 1 >= len(lines):
            return None
        nxt = lines[i + 1].text
        if not _title_ok(nxt) or _DOTTED_RE.match(nxt):
            return None
        title, consumed = nxt, 1
    elif len(key) >= 2 and title[0] in "[【" and title[-1] in "]】":
        title, rest = title, title  # "1.4.2 [DELETED, NOT ACTIONABLE]": a requirement row all the same
    elif (
        len(key) >= 2
        and title[-1] not in _TERMINAL
        and i + 1 < len(lines)
        and lines[i + 1].page == lines[i].page
        and lines[i + 1].text[:1].islower()
        and _provision_ok(title)
    ):
        # a sentence that wraps onto the next line: a requirement, not a titled heading
        title, rest = _provision_title(title), title
        weight = 0.8
    elif _TICK_COLUMNS_RE.search(title) and len(key) >= 2 and _provision_ok(title):
        # a requirement row: its text, then level ticks and reference columns
        title, rest = _provision_title(title), title
        weight = 0.9
    elif not _title_ok(title):
        # a GB-style untitled provision ("4.2 地理位置在北纬…。") or a requirement that wraps
        # ("3.1.1 Limit system access to authorized users, …"): the clause is its own text
        if len(key) < 2 or not _provision_ok(title):
            return None
        title, rest = _provision_title(title), title
        weight = 0.7
    return _Head(i, "dotted", len(key), key, number, title, rest=rest, consumed=consumed, weight=weight)


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
    value = cn_numeral_to_int(m.group(1))
    if value is None or value == 0:
        return None
    unit = m.group(2)
    suffix = m.group(3) or ""
    rest = (m.group(4) or "").strip()
    marker = f"第{m.group(1)}{unit}{suffix}"
    rank = {"编": 1, "章": 2, "节": 3, "条": 4}[unit]
    sub = cn_numeral_to_int(suffix[1:]) if suffix else 0
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
        value = cn_numeral_to_int(m.group(1))
        if value:
            title, rest = _split_title_body(m.group(2))
            return _Head(i, "cnlist", 1, (value,), m.group(1), title, rest=rest)
        return None
    m = _CN_PAREN_RE.match(text)
    if m:
        value = cn_numeral_to_int(m.group(1))
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
    if b[0] >= _ANNEX_BASE > a[0]:  # the first annex after the chapters
        letter = b[0] - _ANNEX_BASE
        if letter <= 3 and all(x == 1 for x in b[1:]) and len(b) <= 3:
            return 0.2 * letter + 0.2 * (len(b) - 1)
        return None
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


def _detect_headings(
    lines: Sequence[_Line], toc: set[int], joiner: _Joiner, outline: dict[int, _Head] | None = None
) -> list[_Head]:
    """Pick the numbering family and return its validated headings (+ front matter headings).

    `outline` holds the headings the document's own contents list located in the body (line
    index -> head): they are the best evidence there is, so a candidate repeating one of their
    numbers elsewhere (a table row, a figure) is not a candidate at all.
    """
    outline = outline or {}
    placed = {h.marker: i for i, h in outline.items() if h.family == "dotted"}
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
            if family == "dotted" and placed.get(head.marker, i) != i:
                continue
            head.weight *= _context_weight(i, lines, joiner, toc)
            cands.append(head)
            skip_until = i + head.consumed
        if not cands:
            continue
        if family == "dotted":
            _table_run_penalty(cands)
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
    if outline and (not best or best[0].family == "dotted"):
        best = _merge_outline(best, outline)
    if not best:
        return []
    if best[0].family == "dotted":
        best.extend(_chapters_over_dotted(lines, toc, best))
        best.sort(key=lambda h: h.index)
    taken = {h.index for h in best}
    for h in best:
        taken.update(range(h.index, h.index + h.consumed + 1))
    dotted = bool(best) and any(h.family == "dotted" for h in best)
    placed_front = {h.marker for h in outline.values()}
    for i, line in enumerate(lines):
        if i in toc or i in taken:
            continue
        fh = _front_heading(line.text)
        if fh and fh[0] in placed_front:
            continue  # the contents list placed this annex on another line: a table row here
        if fh:
            head = _Head(i, "front", 0, (), fh[0], fh[1])
            if fh[0] == fh[1] and fh[0][:1] in "附A":
                found = _annex_title(i, lines)
                if found:
                    head.title, head.consumed = found
            if dotted and re.match(r"^(?:附录|Annex |Appendix )([A-Z])$", fh[0]):
                # an annex in a dotted document heads its A.1, A.2 …
                head.family, head.rank = "dotted", 1
                head.key = (_ANNEX_BASE + ord(fh[0][-1]) - ord("A"),)
            best.append(head)
            taken.update(range(i, i + head.consumed + 1))
    best.extend(_repeated_headings(lines, toc, best))
    if joiner.fmt == "pdf":
        best.extend(_front_matter_headings(lines, toc, best, joiner))
    best.sort(key=lambda h: h.index)
    return best


# "V1 Architecture…", "V2.1 Password Security" (ASVS): letter-prefixed section ids
_PREFIXED_RE = re.compile(r"^([A-Z]{1,2})(\d{1,3}(?:\.\d{1,3}){0,4})\s+(\S.*)$")
# "C.1 Verify…" under "Appendix C": annex-lettered items
_ANNEX_ITEM_RE = re.compile(r"^([A-Z])\.(\d{1,3}(?:\.\d{1,3}){0,4})\s+(\S.*)$")
# body rows "1.1.1 Verify…": a dotted number with at least two levels, then text
_BODY_DOTTED_RE = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){1,5})\s+(\S.*)$")
# trailing table columns of a requirement row: level ticks, CWE / NIST / version numbers
_ROW_COLUMN_RE = re.compile(r"[✓✔√]|\d{1,5}(?:\.\d{1,5}){0,4}|/")


def _md_heading(text: str) -> _Head | None:
    """The numbering of one explicit (Markdown / Word-styled) heading's text, or None."""
    probe = [_Line(text, None)]
    for fn in (_dotted_candidate, _statute_candidate, _cnlist_candidate):
        head = fn(0, probe)
        if head is not None:
            if head.family == "dotted" and head.consumed:
                return None
            if head.rest and head.family != "statute":
                head.title, head.rest = (head.title + " " + head.rest).strip(), ""
            return head
    m = _PREFIXED_RE.match(text)
    if m:
        key = tuple(int(x) for x in m.group(2).split("."))
        return _Head(0, "dotted", len(key), key, m.group(1) + m.group(2), m.group(3).strip())
    return None


def _row_title(rest: str) -> str:
    """A requirement row's text without its trailing level-tick / reference columns.

    Token by token from the right (an unanchored regex ending in ``+$`` would retry the whole
    tail from every space: quadratic on a long row of numbers).
    """
    tokens = rest.split()
    keep = len(tokens)
    while keep > 1 and _ROW_COLUMN_RE.fullmatch(tokens[keep - 1]):
        keep -= 1
    if any(ch in token for token in tokens[keep:] for ch in "✓✔√"):
        return " ".join(tokens[:keep])
    return rest.strip()


def _annex_letter(head: _Head) -> str | None:
    m = re.match(r"^(?:附录|Annex|Appendix)\s*([A-Z])$", head.marker)
    return m.group(1) if m else None


def _markdown_body_heads(lines: Sequence[_Line], toc: set[int], heads: list[_Head]) -> list[_Head]:
    """Numbered clauses in the body under explicit headings.

    Two kinds, each only where the headings give evidence for it, so that ordinary numbered
    lists in a body never become clauses:

    - statute articles (第X条) when the headings are chapters / sections (第X章, 第X节, 一、) or
      carry no numbers; the articles must form a plausible numbering chain of their own;
    - dotted ids that extend the number of the heading they sit under (``1.1.1`` under
      ``V1.1``, ``C.1`` under ``Appendix C``): requirement rows of a table.
    """
    numbered = [h for h in heads if h.family not in ("front", "md")]
    # articles are the clauses unless the headings are dotted or are articles themselves
    statute_ok = not any(h.family == "dotted" or (h.family == "statute" and h.rank == 4) for h in numbered)
    by_index = {h.index: h for h in heads}
    body: list[_Head] = []
    articles: list[_Head] = []
    parent: _Head | None = None  # nearest numbered heading above
    for i, line in enumerate(lines):
        if i in toc:
            continue
        if line.md_depth:
            head = by_index.get(i)
            if head is not None and (head.family == "dotted" or _annex_letter(head)):
                parent = head
            elif head is not None and head.family == "front":
                parent = None
            continue
        text = line.text
        if statute_ok and text.startswith("第"):
            head = _statute_candidate(i, lines)
            if head is not None and head.rank == 4:
                articles.append(head)
            continue
        if parent is None:
            continue
        if parent.family == "dotted":
            m = _BODY_DOTTED_RE.match(text)
            if not m:
                continue
            key = tuple(int(x) for x in m.group(1).split("."))
            if len(key) <= len(parent.key) or key[: len(parent.key)] != parent.key:
                continue
            rest = m.group(2).strip()
            body.append(_Head(i, "dotted", len(key), key, m.group(1), _row_title(rest), rest=rest))
        else:
            m = _ANNEX_ITEM_RE.match(text)
            if not m or m.group(1) != _annex_letter(parent):
                continue
            key = tuple(int(x) for x in m.group(2).split("."))
            rest = m.group(3).strip()
            number = f"{m.group(1)}.{m.group(2)}"
            body.append(_Head(i, "annex", 1 + len(key), key, number, _row_title(rest), rest=rest))
    if len(articles) >= 2:
        body.extend(h for h in _validate_ranked(articles))
    return body
def _chapters_over_dotted(lines: Sequence[_Line], toc: set[int], heads: list[_Head]) -> list[_Head]:
    """"第一章 总则" above "1.1 目的" (guidance documents number chapters in words and their
    clauses in digits): a chapter heading whose value is the first number of the dotted
    headings after it, where no dotted heading of that chapter's own number exists."""
    dotted = [h for h in heads if h.family == "dotted" and h.key and h.key[0] < _ANNEX_BASE]
    singles = {h.key[0] for h in dotted if len(h.key) == 1}
    out = []
    for i, line in enumerate(lines):
        if i in toc:
            continue
        head = _statute_candidate(i, lines)
        if head is None or head.rank != 2 or not head.title or head.key[1]:
            continue
        value = head.key[0]
        after = next((h for h in dotted if h.index > i), None)
        if after is None or value in singles or len(after.key) < 2 or after.key[0] != value:
            continue
        out.append(_Head(i, "dotted", 1, (value,), head.marker, head.title))
    return out


def _front_matter_headings(lines: Sequence[_Line], toc: set[int], heads: list[_Head], joiner: _Joiner) -> list[_Head]:
    """Unnumbered headings of a PDF's front matter ("Authority", "Abstract", "Patent Disclosure
    Notice"): before the first numbered heading, a short capitalised line standing alone between
    the end of one paragraph and a full-width line opening the next."""
    numbered = [h.index for h in heads if h.family == "dotted"]
    if not numbered:
        return []
    taken = {h.index for h in heads}
    out = []
    for i in range(min(numbered)):
        text = lines[i].text
        if i in toc or i in taken or i + 1 >= len(lines) or i + 1 in toc:
            continue
        words = text.split()
        if not 1 <= len(words) <= 6 or _width(text) > 50 or re.search(r"\d", text) or _CJK_RE.search(text):
            continue
        if text.isupper():
            continue  # boxed side notes ("CAUTIONARY NOTE") are set in capitals
        if not _title_ok(text) or not all(w[:1].isupper() for w in words if len(w) > 3 or w is words[0]):
            continue
        prev, nxt = lines[i - 1] if i else None, lines[i + 1]
        if prev is not None and prev.page == lines[i].page and prev.text[-1] not in ".!?":
            continue  # not set apart: the previous paragraph runs on into it
        if nxt.page != lines[i].page or not nxt.text[:1].isupper() or not joiner.is_full(nxt.text):
            continue
        out.append(_Head(i, "front", 0, (), text, text))
    return out


def _repeated_headings(lines: Sequence[_Line], toc: set[int], heads: list[_Head]) -> list[_Head]:
    """Unnumbered sub-headings that recur in every chapter right above a numbered heading
    ("Basic Security Requirements" / "Derived Security Requirements" in NIST SP 800-171)."""
    starts = {h.index for h in heads}
    taken = set(starts)
    for h in heads:
        taken.update(range(h.index, h.index + h.consumed + 1))
    where: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        if i not in toc and i not in taken:
            where.setdefault(line.text, []).append(i)
    out = []
    for text, indexes in where.items():
        if len(indexes) < 3 or _width(text) > 60 or not _title_ok(text) or _any_heading_like(text):
            continue
        words = text.split()
        if len(words) < 2 or not all(w[:1].isupper() for w in words if len(w) > 3):
            continue
        above = [i for i in indexes if i + 1 in starts]
        if len(above) >= 3 and len(above) >= 0.3 * len(indexes):
            # depth: the rank of the numbered headings it groups, so they stay under it
            ranks = {h.index: h.rank for h in heads}
            out.extend(_Head(i, "plain", 99, (), text, text, depth=ranks[i + 1]) for i in above)
    return out


def _table_run_penalty(cands: list[_Head], run_min: int = 3) -> None:
    """Rows of a table whose first column is a number ("1 实时流分辨率 BYTE", "2 …") sit on
    consecutive lines at one level with no body between: such a run gets little trust, so the
    real headings around it win the numbering chain."""
    k = 0
    while k < len(cands):
        j = k
        while (
            j + 1 < len(cands)
            and cands[j + 1].index == cands[j].index + 1 + cands[j].consumed
            and len(cands[j + 1].key) == len(cands[k].key)
            and not cands[j + 1].rest
        ):
            j += 1
        if j - k + 1 >= run_min:
            for c in cands[k : j + 1]:
                c.weight *= 0.3
        k = j + 1


def _merge_outline(chain: list[_Head], outline: dict[int, _Head]) -> list[_Head]:
    """Add the headings the contents list located in the body; a chain heading whose number the
    contents list placed on another line (a table row repeating it) is dropped."""
    placed = {h.marker: i for i, h in outline.items() if h.family == "dotted"}
    out = []
    for h in chain:
        o = outline.get(h.index)
        lost_in_contents = (
            o is not None and o.marker.replace(".", "") == h.marker.replace(".", "")
            and o.marker.count(".") < h.marker.count(".")
        )
        if o is not None and o.family == "dotted" and o.marker != h.marker and not lost_in_contents:
            # the contents list matched this line without its punctuation: an OCR layer that lost
            # the dot ("81 检验分类" for 8.1) takes the contents list's number (but OCR loses dots,
            # it does not add them: a damaged contents entry "51" leaves the body's 5.1 alone)
            h.marker, h.key, h.rank = o.marker, o.key, o.rank
        if o is not None or placed.get(h.marker, h.index) == h.index:
            out.append(h)
    have = {h.index for h in out}
    for i, head in outline.items():
        if i in have:
            continue
        out.append(head)
    out.sort(key=lambda h: h.index)
    return out


def _markdown_headings(lines: Sequence[_Line], toc: set[int]) -> list[_Head]:
    """Explicit Markdown (or Word-styled) headings, plus the numbered clauses in their bodies."""
    heads: list[_Head] = []
    numbered_depths: list[int] = []
    raw: list[tuple[int, _Head | None]] = []
    for i, line in enumerate(lines):
        if not line.md_depth or i in toc:
            continue
        head = _md_heading(line.text)
        if head is not None:
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
                head = _Head(i, "front", 0, (), fh[0], fh[1].lstrip(":：-—– ").strip() or fh[0])
            elif top_depth is None or depth <= top_depth:
                head = _Head(i, "front", 0, (), text, text)
            else:
                head = _Head(i, "md", 99, (), text, text, depth=depth)  # unnumbered sub-heading
        heads.append(head)
    heads.extend(_markdown_body_heads(lines, toc, heads))
    heads.sort(key=lambda h: h.index)
    return heads


# --------------------------------------------------------------------------- title tidying


_SPACED_CJK_RE = re.compile(rf"^[{_CJK_CHARS}](?: [{_CJK_CHARS}])+$")


_CJK_TOKENS_RE = re.compile(rf"^[{_CJK_CHARS}]+(?: [{_CJK_CHARS}]+)+$")


def _tidy_title(title: str) -> str:
    """"总 则" (typographic letter spacing) -> "总则"; "地 理标 志产 品" (an OCR layer's
    irregular spacing: fragments of one or two characters) -> "地理标志产品"."""
    title = title.strip()
    if _SPACED_CJK_RE.match(title):
        return title.replace(" ", "")
    if _CJK_TOKENS_RE.match(title):
        tokens = title.split(" ")
        if sum(len(t) for t in tokens) / len(tokens) <= 2:
            return title.replace(" ", "")
    return title
