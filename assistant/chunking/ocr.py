"""Clause numbers an OCR text layer damaged, repaired from the numbering around them.

An OCR layer loses the dots of a number (``81 标志``, ``5.32 施肥…``), reads them as spaces or
commas (``5 4 采摘``, ``3 1``, ``A,2 …``). A damaged prefix has several readings; the one that
is the next number of the document's own sequence (a child, the next sibling at some level, the
next chapter or its first sub-clause) is taken, and only that: a reading nobody expects (``1 200
mm`` wrapped to a line start) is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..text import cn_numeral_to_int
from .text import _CJK_CHARS, _CN_NUM

_ANNEX_BASE = 1000

# a line-start number with a separator or glued digits an OCR layer may have damaged
# (the annex letter may be glued to its digit: "A2 保护范围图"; a full-width dot may survive: "5 3．2")
_DAMAGED_RE = re.compile(r"^(?:([A-Z])[\s.,，．]*)?(\d{1,2}(?:[\s.,，．]+\d{1,2}){0,3})(?=\s*(?:$|[" + _CJK_CHARS + r"]))")
_CLEAN_RE = re.compile(r"^(?:([A-Z])\.)?(\d{1,2}(?:\.\d{1,2})*)(?=\s|[" + _CJK_CHARS + r"]|$)")
_CHAPTER_RE = re.compile(rf"^第\s*([{_CN_NUM}\d]{{1,4}})\s*章")  # "第一章 总则" above "1.1 目的"
_ANNEX_RE = re.compile(r"^附\s*录\s*([A-Z])(?:\s|[（(]|$)")
_TITLE_START_RE = re.compile(rf"^\s*[{_CJK_CHARS}]")


# how OCR layers read the front-matter words (前言 as 艹刖: the grass radical split off)
_FRONT_OCR_ZH = {"艹刖": "前言", "刖言": "前言", "前盲": "前言", "引盲": "引言", "弓言": "引言"}
_FRONT_OCR_RE = re.compile(r"^\s*(" + "|".join(r"\s*".join(k) for k in _FRONT_OCR_ZH) + r")\s*(?=$|[.…·])")


def _readings(groups: list[str]) -> set[tuple[int, ...]]:
    """Every way to read the digit groups as a dotted number: each group as printed or, when it
    has two digits, split in two (the OCR layer lost the dot between them)."""
    out: set[tuple[int, ...]] = {()}
    for g in groups:
        options = [(int(g),)]
        if len(g) == 2 and g[1] != "0":
            options.append((int(g[0]), int(g[1])))
        out = {r + o for r in out for o in options}
    return {r for r in out if r and all(x > 0 for x in r) and len(r) <= 4}


def _expected(last: tuple[int, ...] | None) -> set[tuple[int, ...]]:
    """The numbers that may come next after `last`: its first child, the next sibling at each
    level, the next chapter's first sub-clause."""
    if last is None:
        return set()
    exp = {last + (1,), (last[0] + 1, 1)}
    exp.update(last[:k] + (last[k] + 1,) for k in range(len(last)))
    return exp


_CHAPTER_TITLE_RE = re.compile(rf"^\s*[{_CJK_CHARS}][{_CJK_CHARS}、，和与及 ]{{0,24}}$")


# what follows a count in running text ("21 个工作日内" wrapped to a line start), never a title
_COUNTED_RE = re.compile(
    r"^\s*(?:[个天次倍岁元万亿的之和与或至]|小时|分钟|工作日|[日年月周](?:内|以|起|后|前|之|为|[，。]))"
)
# an OCR layer reads the ideographic full stop as a Latin "o" ("…处理办法o")
_FULL_STOP_RE = re.compile(rf"(?<=[{_CJK_CHARS}])o(?=[{_CJK_CHARS}]|$)")
_LEADER_TAIL_RE = re.compile(r"\s*[.…·]{2,}")  # a contents entry's leaders (then its page)


def _chapter_like(tail: str) -> bool:
    """A chapter's title on its own line ("6 试验方法"), not a table row's cell ("6" alone,
    "6 粗纤维/% ≤16.5"): a chapter number advances the sequence only with such a title."""
    return bool(_CHAPTER_TITLE_RE.match(_LEADER_TAIL_RE.split(tail)[0]))


def _annex_key(letter: str) -> int:
    return _ANNEX_BASE + ord(letter) - ord("A")


def repair_ocr_numbers(texts: Sequence[str]) -> list[str]:
    """The texts with damaged line-start clause numbers rewritten (``52 茶树品种`` -> ``5.2 茶树品种``)
    and full stops read as ``o`` restored."""
    last: tuple[int, ...] | None = None  # the last clause number of the sequence (annex letters 1000+)
    texts = [_FULL_STOP_RE.sub("。", t) if "o" in t else t for t in texts]
    out = list(texts)
    for i, text in enumerate(texts):
        f = _FRONT_OCR_RE.match(text)
        if f:  # the heading alone, or its contents entry with leaders
            out[i] = _FRONT_OCR_ZH[re.sub(r"\s+", "", f.group(1))] + text[f.end() :]
            continue
        m = _ANNEX_RE.match(text)
        if m:
            last = (_annex_key(m.group(1)),)
            continue
        m = _CHAPTER_RE.match(text)
        if m:
            value = int(m.group(1)) if m.group(1).isdigit() else cn_numeral_to_int(m.group(1))
            if value:
                last = (value,)
            continue

        def titled(end: int) -> bool:  # a title (CJK) follows, on the line or on the next one
            tail = text[end:]
            if tail.strip():
                return bool(_TITLE_START_RE.match(tail))
            return i + 1 < len(texts) and bool(_TITLE_START_RE.match(texts[i + 1]))

        expected = _expected(last)
        clean = _CLEAN_RE.match(text)
        key = None
        if clean:
            key = tuple(int(x) for x in clean.group(2).split("."))
            if clean.group(1):
                key = (_annex_key(clean.group(1)),) + key
            if key in expected and (len(key) > 1 or _chapter_like(text[clean.end() :])):
                last = key
                continue
        d = _DAMAGED_RE.match(text)
        if d and last is not None and titled(d.end()) and not _COUNTED_RE.match(text[d.end() :]):
            letter = d.group(1)
            groups = re.split(r"[\s.,，．]+", d.group(2))
            readings = _readings(groups)
            if letter:
                readings = {(_annex_key(letter),) + r for r in readings}
            hits = {r for r in readings & expected if len(r) - bool(letter) > 1 or _chapter_like(text[d.end() :])}
            if len(hits) == 1:
                last = hits.pop()
                number = ".".join(str(x) for x in (last[1:] if letter else last))
                out[i] = ((letter + ".") if letter else "") + number + " " + text[d.end() :].lstrip()
                out[i] = out[i].rstrip()
                continue
        if clean and key is not None and titled(clean.end()):
            # a clean number out of sequence: trust a dotted one (the sequence resumes there), a
            # single one only as the first chapter after the contents list or an annex
            if len(key) > 1 or last is None or last[0] >= _ANNEX_BASE and key == (1,):
                last = key
    return out
