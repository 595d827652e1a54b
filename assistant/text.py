"""Shared text rules: which characters are CJK, a text's language, sentence spans, Chinese numerals.

One home for rules that parsing, ingest, BM25, question analysis, highlights and evaluation must
apply alike: when two copies drift, a document and a question about it get different languages,
or a passage and a highlight disagree on where a sentence ends. This module imports nothing from
the package, so any module may use it.
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------- scripts

# Han ideographs: CJK Unified Ideographs, Extension A, the compatibility block, and the
# supplementary-plane extensions B onwards.
HAN_BASIC = (0x4E00, 0x9FFF)
HAN_COMPATIBILITY = (0xF900, 0xFAFF)
_HAN_RANGES = ((0x3400, 0x4DBF), HAN_BASIC, HAN_COMPATIBILITY, (0x20000, 0x2FA1F))
# Forms some PDF fonts map ideographs to, which NFKC turns back into the usual ideographs: the
# compatibility block, Kangxi radicals, the radicals supplement.
CJK_COMPATIBILITY_FORMS = (HAN_COMPATIBILITY, (0x2F00, 0x2FDF), (0x2E80, 0x2EFF))
# The other CJK scripts: hiragana and katakana, hangul syllables. They count towards a text
# being CJK ("zh"), but tokenising and parsing rules treat only Han as Chinese characters.
_KANA_HANGUL_RANGES = ((0x3040, 0x30FF), (0xAC00, 0xD7AF))
CJK_PUNCTUATION = (0x3000, 0x303F)  # 、。「」《》 and the ideographic space
FULL_WIDTH = (0xFF00, 0xFFEF)  # ，：；（）０-９Ａ-Ｚ and the half-width katakana after them


def _class(ranges) -> str:
    return "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges)


# Regex fragments, for use inside [...]:
CJK_CLASS = _class(_HAN_RANGES)
# Han plus CJK punctuation and full-width forms: characters that take two columns and that a
# line wrap joins without a space.
CJK_WIDE_CLASS = _class((CJK_PUNCTUATION, *_HAN_RANGES, FULL_WIDTH))
CJK_SCRIPT_CLASS = _class((*_HAN_RANGES, *_KANA_HANGUL_RANGES))

CJK_RE = re.compile(f"[{CJK_CLASS}]")
CJK_RUN_RE = re.compile(f"[{CJK_CLASS}]+")
CJK_WIDE_RE = re.compile(f"[{CJK_WIDE_CLASS}]")
_CJK_SCRIPT_RE = re.compile(f"[{CJK_SCRIPT_CLASS}]")


def is_han(ch: str) -> bool:
    """A Han ideograph (a Chinese character)."""
    return CJK_RE.match(ch) is not None


def is_cjk(ch: str) -> bool:
    """A character of a CJK script: Han, kana or hangul."""
    return _CJK_SCRIPT_RE.match(ch) is not None


def in_ranges(ch: str, ranges) -> bool:
    o = ord(ch)
    return any(lo <= o <= hi for lo, hi in ranges)


# --------------------------------------------------------------------------- language

# A text is Chinese when CJK characters make at least a fifth of its letters: a Chinese
# standard quoting English terms and ISO numbers stays "zh", an English one quoting 的 does not.
ZH_SHARE = 0.2


def cjk_share(text: str) -> float:
    """Share of the letters in a text (str.isalpha) that are CJK-script characters; 0 with none."""
    # map() over str methods keeps the per-character loop in C: answers ask this of every
    # sentence they weigh, per question.
    letters = sum(map(str.isalpha, text))
    if not letters:
        return 0.0
    return sum(map(str.isalpha, _CJK_SCRIPT_RE.findall(text))) / letters


def detect_language(text: str) -> str:
    """ "zh" for a text whose letters are at least ZH_SHARE CJK, else "en" (also for no letters)."""
    return "zh" if cjk_share(text) >= ZH_SHARE else "en"


# --------------------------------------------------------------------------- sentences

# A sentence ends at Chinese end punctuation, at . ! ? ; followed by space or end, or at a line
# break. Semicolons end a sentence too: standards pack one requirement per semicolon-separated
# part. A half-width ! ? ; directly before a Han character ends one as well (Chinese text typed
# with half-width marks); a dot there does not ("第5.3条" style numbers and URLs keep whole).
# The lookbehind starts a Latin run only at its first mark, so a long run of marks not followed
# by a space is tried once, not once per mark (quadratic; issue 15).
_CLOSERS = "”’\"'」』）)\\]"
_BOUNDARY = re.compile(
    f"[。！？；]+[{_CLOSERS}]*"
    f"|(?<![.!?;])[.!?;]+[{_CLOSERS}]*(?=\\s|$)"
    f"|(?<![.!?;])[!?;]+[{_CLOSERS}]*(?=[{CJK_CLASS}])"
    "|\\n+"
)
_WORDISH = re.compile(r"\w")
# "e.g." / "i.e." / "No." and decimals such as 99.9 are not boundaries.
_ABBREVIATIONS = re.compile(r"(?:\b(?:e\.g|i\.e|etc|No|Art|para|cf|vs)\.)$", re.IGNORECASE)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) spans of the sentences in text: trimmed of whitespace, ones holding no word
    character (a lone "。") left out. Passages are cut and highlights drawn on these spans."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        # only the last few characters can hold the abbreviation: searching from the sentence
        # start would rescan a growing sentence after every skipped "e.g."
        if match.group().startswith(".") and _ABBREVIATIONS.search(text, max(start, end - 8), end):
            continue
        _append(text, start, end, spans)
        start = end
    _append(text, start, len(text), spans)
    return spans


def _append(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and _WORDISH.search(text, start, end):
        spans.append((start, end))


# --------------------------------------------------------------------------- numerals

CN_NUMERALS = "零〇一二三四五六七八九十百千两"
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def cn_numeral_to_int(s: str) -> int | None:
    """Chinese numerals (一 .. 九千九百九十九) or ASCII digits to int; None for anything else."""
    if s.isdecimal():  # ASCII or full-width digits; not "²", which int() refuses
        return int(s)
    if not s:
        return None
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


def int_to_cn_numeral(value: int) -> str:
    """12 -> 十二, 105 -> 一百零五 (statutes number their articles this way); digits from 1000 on."""
    digits = "零一二三四五六七八九"
    if value < 10:
        return digits[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")
    if value < 1000:
        hundreds, rest = divmod(value, 100)
        if rest == 0:
            tail = ""
        elif rest < 10:
            tail = "零" + digits[rest]
        else:
            tail = ("一" if rest < 20 else "") + int_to_cn_numeral(rest)
        return digits[hundreds] + "百" + tail
    return str(value)
