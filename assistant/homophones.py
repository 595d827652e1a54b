"""Homophone typos of Chinese questions repaired against the corpus's own words.

The public types Chinese through a pinyin input method, which puts a character of the same
sound in place of the intended one (密马 for 密码, 录因 for 录音, 知识酷 for 知识库). Such a word is
in no clause, so it lowers the lexical coverage of the question and moves its vector away from
the clause it asks about, and the scope decision refused such questions (issue 12).
``Homophones`` is built from the index's own text, so it holds for any Chinese corpus: a span of
the question the corpus never contains, one character away from a corpus word whose character at
that place reads the same (pypinyin, tone included), is replaced by that word. Guards, each
against a wrong repair seen on the fit split or on STARD's questions:

- the span is a word of jieba's general dictionary: a real word the corpus does not use (病假,
  试用) is evidence that the question is about something else, not a typo;
- the span cuts across words of the question (用什么 read as 用时么, 之间可以 as 之间隔以): it
  must start and end where jieba's dictionary-only segmentation does, which leaves a typo in
  single characters (录因 -> 录/因);
- the tone differs (歇会 -> 协会, 这算 -> 折算, 月都 -> 月度 matched without it, while the typos
  seen kept the tone: 录因, 知识酷, 质减, 欲案, 保蜜, 较准, 渠到);
- the character replaced is a function character (below).

Mapping colloquial words to the written register as well (啥 -> 什么, 要不要 -> 是否要, 客服 ->
座席, fillers such as 你们 dropped) was tried and measured worse on the fit split's grouped
cross-validation (docs/benchmarks.md, section v1-zh): the near misses are written as casually
as the answerable questions, and the written form made both look covered.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from assistant.text import CJK_RUN_RE


@lru_cache(maxsize=8192)
def _readings(ch: str) -> tuple[str, ...]:
    """The character's usual reading, with its tone. Its rarer readings too matched wrongly on
    STARD's questions (还 read fu2 -> 不服 for 不还, 与 read yu4 -> 商誉 for 商与)."""
    from pypinyin import Style, pinyin

    return tuple(pinyin(ch, style=Style.TONE3, heteronym=False, neutral_tone_with_five=True)[0])


# The readings stored with an index cover the common CJK blocks (Extension A and the Unified
# Ideographs); a question's character outside them is read by pypinyin itself.
_STORED_CHARS = (0x3400, 0x9FFF)
# The tables stored with an index (see Homophones.stored_form); bump when _build changes, and
# tables of another version, or made with other pypinyin / jieba releases, are built again.
HOMOPHONES_FILE = "homophones.json"
TABLES_VERSION = "1"


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("pypinyin", "jieba"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = ""
    return found


@lru_cache(maxsize=1)
def _common_readings() -> dict[str, str]:
    """Reading -> the characters of the common CJK blocks that pypinyin reads so (by _readings):
    the same for every index, so made once per process."""
    from pypinyin.constants import PINYIN_DICT

    readings: dict[str, list[str]] = {}
    for code in sorted(PINYIN_DICT):
        if _STORED_CHARS[0] <= code <= _STORED_CHARS[1]:
            found = _readings.__wrapped__(chr(code))  # not through the question cache
            if len(found) == 1:
                readings.setdefault(found[0], []).append(chr(code))
    return {reading: "".join(chars) for reading, chars in readings.items()}


def _function_characters() -> frozenset[str]:
    from assistant.lexical import CHINESE_STOPWORDS

    return frozenset(w for w in CHINESE_STOPWORDS if len(w) == 1)


# A function character (是, 在, 与) as typed is far more often meant than a slip: read as a typo it
# made 人是 into 人士 on the fit split and 商与 into 商誉 on STARD.
_FUNCTION = _function_characters()


def _general_words() -> dict[str, int]:
    from assistant.lexical import jieba_segmenter

    return jieba_segmenter().dt.FREQ


class Homophones:
    """The corpus's Chinese text, for homophone typo repair.

    Made per index (IndexProfile), its tables on the first Chinese question: every 1-4 character
    span of its Han runs, and its words of 2-4 characters keyed by the word with one character
    left out and that character's reading. A question span is then repaired with a handful of
    dictionary lookups (the cost of both: docs/benchmarks.md, section v1-zh).

    The index build stores the tables (``stored_form``, HOMOPHONES_FILE) with the readings of the
    common characters, and the first Chinese question reads them from ``stored`` instead of
    importing pypinyin and building them (docs/benchmarks.md, section w3-speed); an index without
    the file, or with one of other code or libraries, has them built as before.
    """

    SPANS = (4, 3, 2)

    def __init__(self, texts: Iterable[str], words: Iterable[str] = (), stored: Path | None = None) -> None:
        """``words``: more of the corpus's Chinese words (the index's stored coverage terms); of
        two characters only those of jieba's dictionary count, since the stored terms include
        every character bigram for BM25 (理要 of 管理要求), and a typo must be repaired to a word.

        The tables are made on the first Chinese question, not here: they need jieba's
        dictionary and pypinyin loaded, which made opening an index several times slower
        (docs/benchmarks.md, section v1-zh), and an English question never needs them. So are the
        texts' Han runs: only whether there are any is looked at here."""
        self._texts = list(texts)
        self._chinese = any(CJK_RUN_RE.search(text) for text in self._texts)
        self._words = list(words) if self._chinese else []
        self._stored = stored
        self._lock = threading.Lock()
        self._ready = not self._chinese
        self._spans: Counter[str] | frozenset[str] = Counter()
        self._keys: dict[tuple[str, str], str] = {}
        self._reading: dict[str, str] = {}  # character -> its usual reading, from stored tables

    def _build(self) -> None:
        runs = [run for text in self._texts for run in CJK_RUN_RE.findall(text)]
        spans = Counter(run[i : i + n] for run in runs for n in (1, *self.SPANS) for i in range(len(run) - n + 1))
        keys: dict[tuple[str, str], str] = {}
        longest = max(self.SPANS)
        general = _general_words()
        # The corpus's words: its spans that jieba's dictionary has (segmenting the corpus again
        # was ten times slower; docs/benchmarks.md, section v1-zh), and the longer words the
        # build's segmentation found beyond the dictionary.
        counts = Counter({span: n for span, n in spans.items() if len(span) >= 2 and general.get(span, 0) > 0})
        for word in self._words:
            if 3 <= len(word) <= longest and word in spans and CJK_RUN_RE.fullmatch(word):
                counts[word] = spans[word]
        # Commonest first, so that a key two corpus words share keeps the commoner one. Each
        # character under its usual reading, as the question's, and under its reading in this
        # word (校 of 校准 is jiao4, not xiao4); with every reading a character has, rare ones
        # matched wrongly on STARD (有何 -> 有害 by 害's hé, 借新 -> 借款).
        from pypinyin import Style, lazy_pinyin
        from pypinyin.constants import PINYIN_DICT

        for word, _ in counts.most_common():
            in_word = None
            if any("," in PINYIN_DICT.get(ord(ch), "") for ch in word):  # a character of several readings
                in_word = lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True)
                in_word = in_word if len(in_word) == len(word) else None
            for i, ch in enumerate(word):
                masked = word[:i] + "\0" + word[i + 1 :]
                for reading in {*_readings(ch), *([in_word[i]] if in_word else [])}:
                    keys.setdefault((masked, reading), word)
        self._spans, self._keys = spans, keys

    def _tables(self) -> None:
        if not self._ready:
            with self._lock:
                if not self._ready:
                    if self._stored is None or not self._read(self._stored):
                        self._build()
                    self._ready = True

    def _read(self, path: Path) -> bool:
        """The tables stored with the index; False when absent or made by other code or libraries."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if (not isinstance(data, dict) or data.get("version") != TABLES_VERSION
                or data.get("libraries") != _library_versions()):
            return False
        self._spans = frozenset(data["spans"])
        self._keys = {(masked, reading): word for masked, reading, word in data["keys"]}
        self._reading = {ch: reading for reading, chars in data["readings"].items() for ch in chars}
        return True

    def stored_form(self) -> dict:
        """The tables as the index build stores them (JSON): the spans a question span is looked
        up among (2-4 characters), the keys, and the usual reading of every character of the
        common CJK blocks that pypinyin reads, grouped by reading."""
        self._tables()
        return {
            "version": TABLES_VERSION,
            "libraries": _library_versions(),
            "spans": sorted(span for span in self._spans if len(span) in self.SPANS),
            "keys": [[masked, reading, word] for (masked, reading), word in self._keys.items()],
            "readings": _common_readings(),
        }

    def _readings_of(self, ch: str) -> tuple[str, ...]:
        reading = self._reading.get(ch)
        return (reading,) if reading is not None else _readings(ch)

    def _repair(self, span: str) -> str | None:
        if span in self._spans or _general_words().get(span, 0) > 0:
            return None
        for i, ch in enumerate(span):
            if ch in _FUNCTION:
                continue
            masked = span[:i] + "\0" + span[i + 1 :]
            for reading in self._readings_of(ch):
                word = self._keys.get((masked, reading))
                if word is not None and word != span:
                    return word
        return None

    def corrections(self, text: str) -> dict[str, str]:
        """Typo span -> corpus word, longest spans first, not overlapping."""
        found: dict[str, str] = {}
        if not self._chinese or not CJK_RUN_RE.search(text):
            return found
        self._tables()
        from assistant.lexical import jieba_segmenter

        for run in CJK_RUN_RE.findall(text):
            ends, at = {0}, 0
            for token in jieba_segmenter().lcut(run, HMM=False):
                at += len(token)
                ends.add(at)
            i = 0
            while i < len(run) - 1:
                for n in self.SPANS:
                    span = run[i : i + n]
                    if (len(span) == n and i in ends and i + n in ends
                            and (word := self._repair(span)) is not None):
                        found[span] = word
                        i += n
                        break
                else:
                    i += 1
        return found

    @staticmethod
    def apply(text: str, corrections: dict[str, str]) -> str:
        for span, word in corrections.items():
            text = text.replace(span, word)
        return text
