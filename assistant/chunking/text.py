"""Parser text helpers: display width, joining wrapped lines, line cleaning, clause numbers at a line start (CJK classes and Chinese numerals come from assistant/text.py)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ..text import CJK_CLASS as _CJK_CHARS
from ..text import CJK_RE as _CJK_RE
from ..text import CJK_WIDE_RE as _CJK_ANY_RE
from ..text import CN_NUMERALS as _CN_NUM

# --------------------------------------------------------------------------- character classes

_TERMINAL = "。！？；：.!?;:"
_HARD_END = "。！？.!?"
_SENTENCE_PUNCT = "。；！？"

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
    if a[-1].isdigit() and (b[0].isdigit() or b[0] in ".%") and _CJK_RE.search(a[-12:]):
        return a + b  # Chinese text wraps anywhere, inside a number too ("不少于 12" / "8 GB")
    if a.endswith("-") and len(a) > 1 and a[-2].isalpha() and b[0].islower():
        return a + b  # hyphenated wrap: keep the hyphen, drop the break
    return a + " " + b


_WS_RE = re.compile(r"[\s\u3000\u00a0]+")


def _clean_line(text: str) -> str:
    return _WS_RE.sub(" ", text).strip()


# full-width digits, letters and dots at a line start ("４．２", "Ａ．１")
_WIDE_PREFIX_RE = re.compile(r"^[\s0-9０-９A-ZＡ-Ｚ．。\uff0e]+")
# a number printed with spaces after its dots ("3. 1", "5. 3. 1", "A. 1. 1"), as CNKI exports do
_SPACED_NUMBER_RE = re.compile(r"^((?:[A-Z]|\d{1,3})(?:\s*\.\s*\d{1,3})+)(?=\s|[" + _CJK_CHARS + r"]|$)")


_COMMA_NUMBER_RE = re.compile(r"^(\d{1,2}[,，]\d{1,2}(?:\.\d{1,2})*)\s*(?=[" + _CJK_CHARS + r"])")


def _normalise_number(text: str) -> str:
    """The clause number at a line start in its plain form: "５．３．１" / "5. 3. 1" -> "5.3.1"."""
    m = _WIDE_PREFIX_RE.match(text)
    # full-width digits, or ASCII digits with full-width dots ("5．3．2", as CNKI exports mix them)
    if m and (re.search(r"[０-９Ａ-Ｚ]", m.group(0)) or re.match(r"^\s*[0-9A-Z]{1,3}．\d", m.group(0))):
        wide = unicodedata.normalize("NFKC", m.group(0)).replace("。", ".")
        text = wide + text[m.end() :]
    m = _SPACED_NUMBER_RE.match(text)
    if m and " " in m.group(1):
        text = re.sub(r"\s+", "", m.group(1)) + text[m.end() :]
    m = _COMMA_NUMBER_RE.match(text)
    if m:  # an OCR layer read the dot as a comma: "7,5 判定规则"
        text = m.group(1).replace(",", ".").replace("，", ".") + text[m.end(1) :]
    return text
