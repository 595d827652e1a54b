"""Casually written Chinese questions put into the corpus's own register before retrieval and scope.

The public types questions the way it talks: 啥 for 什么, 要不要 for 是否要, 你们客服一般多少秒能接起来啊,
and through a pinyin input method, which puts a character of the same sound in place of the
intended one (密马 for 密码, 投述 for 投诉). None of those words are in a standard's text, so they
lower the lexical coverage of the question and move its vector away from the clause it asks about,
and the scope decision refused such questions (issue 12). Two repairs, both computed from the
index's own text so that they hold for any Chinese corpus:

- ``normalise``: an explicit list of colloquial words mapped to the written form, and fillers
  dropped (see the lists below for why each is there);
- ``Homophones``: a span of the question the corpus never contains, one character away from a
  corpus word whose character at that place reads the same (pypinyin, tone included), is
  replaced by that word. Guards, each against a wrong repair seen on the fit split: the span
  is a word of jieba's general dictionary: a real word the corpus does not use (病假, 试用) is
  evidence that the question is about something else, not a typo; the span cuts across words
  of the question (用什么 read as 用时么, 之间可以 as 之间隔以): it must start and end where
  jieba's dictionary-only segmentation does, which leaves a typo in single characters
  (录因 -> 录/因); the tone differs (歇会 -> 协会, 这算 -> 折算, 月都 -> 月度 matched without it,
  while the typos seen kept the tone: 录因, 知识酷, 质减, 欲案, 保蜜, 较准, 渠到).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache

from assistant.text import CJK_RUN_RE

# Dialect and spoken question words, mapped whatever the corpus: the written forms are what a
# standard's text and the asking templates (query.py) use.
_SPOKEN = [
    ("为啥", "为什么"), ("干啥", "做什么"), ("啥时候", "什么时候"), ("啥样", "什么样"), ("啥", "什么"),
    ("咋办", "怎么办"), ("咋样", "怎么样"), ("咋整", "怎么办"), ("咋", "怎么"),
    # A-not-A questions: the written form is 是否 / 能否, which the stopword list already drops,
    # where "要不要" leaves 不要 ("must not") for BM25 and the coverage signals.
    ("需不需要", "是否需要"), ("要不要", "是否要"), ("用不用", "是否需要"), ("能不能", "是否能"),
    ("可不可以", "是否可以"), ("让不让", "是否允许"), ("准不准", "是否允许"), ("有没有", "是否有"),
    ("是不是", "是否"), ("会不会", "是否会"), ("该不该", "是否应"), ("算不算", "是否算"),
    ("给不给", "是否给"), ("行不行", "是否可以"),
]
# Everyday names for what a call-center standard names otherwise, mapped only when the corpus
# lacks the everyday word, to the written form the corpus uses most (a standard may say 座席 or
# 坐席, or both; a corpus that says 客服 keeps it). Longest first: 客服中心 is the center, 客服
# alone the agent.
_REGISTER = [
    ("客服中心", ("呼叫中心",)), ("客服部门", ("呼叫中心",)), ("客服部", ("呼叫中心",)),
    ("客服电话", ("服务热线", "热线", "呼叫中心")), ("客服热线", ("服务热线", "热线", "呼叫中心")),
    ("客服人员", ("座席人员", "坐席人员", "座席", "坐席")), ("客服代表", ("座席员", "坐席员", "座席", "坐席")),
    ("客服专员", ("座席员", "坐席员", "座席", "坐席")), ("客服", ("座席", "坐席")),
    ("话务员", ("座席员", "坐席员", "座席", "坐席")), ("接线员", ("座席员", "坐席员", "座席", "坐席")),
    ("接电话", ("接听电话", "接听")),
]
# Words that address the reader or pad the question and name no topic; dropped unless the corpus
# itself uses them (一般 is a word of the guidance: "general"), since a word the corpus never has
# counts against the question's coverage.
_FILLERS = ["请问一下", "请问", "想问一下", "问一下", "我想知道", "想知道", "你们", "咱们", "俺们", "一般来说",
            "一般", "大概", "到底", "究竟", "这边", "那边"]
# Sentence-final particles of speech, dropped before punctuation or the end (吗 stays: it is
# written Chinese, and the question words of the templates expect it).
_PARTICLES = re.compile(r"[啊呀啦嘛哈哦呗喔哇呢吧]+(?=[\s?？!！。.,，;；~～]|$)")


def normalise(text: str, knows: Callable[[str], int] | None = None) -> str:
    """``text`` with spoken Chinese in written form; ``knows`` (how often the corpus has it) gates
    the register words and fillers: without it only the spoken question words and particles change."""
    if not CJK_RUN_RE.search(text):
        return text
    for spoken, written in _SPOKEN:
        if spoken in text:
            text = text.replace(spoken, written)
    if knows is not None:
        for everyday, forms in _REGISTER:
            if everyday in text and not knows(everyday):
                written = max(forms, key=knows)
                if knows(written):
                    text = text.replace(everyday, written)
        for filler in _FILLERS:
            if filler in text and not knows(filler):
                text = text.replace(filler, "")
    return _PARTICLES.sub("", text).strip() or text


@lru_cache(maxsize=8192)
def _readings(ch: str) -> tuple[str, ...]:
    """The character's usual reading, with its tone. Its rarer readings too matched wrongly on
    STARD's questions (还 read fu2 -> 不服 for 不还, 与 read yu4 -> 商誉 for 商与)."""
    from pypinyin import Style, pinyin

    return tuple(pinyin(ch, style=Style.TONE3, heteronym=False, neutral_tone_with_five=True)[0])


def _general_words() -> dict[str, int]:
    from assistant.lexical import _jieba

    return _jieba().dt.FREQ


class Homophones:
    """The corpus's Chinese text, for register checks and homophone typo repair.

    Built once per index (IndexProfile, about 0.1 s for the guidance): every 1-4 character span
    of its Han runs (``knows``), and its words of 2-4 characters keyed by the word with one
    character left out and that character's reading. A question span is then repaired with a
    handful of dictionary lookups (about 0.1 ms per question; docs/benchmarks.md, section v1-zh).
    """

    SPANS = (4, 3, 2)

    def __init__(self, texts: Iterable[str], words: Iterable[str] = ()) -> None:
        """``words``: more of the corpus's Chinese words (the index's stored coverage terms); of
        two characters only those of jieba's dictionary count, since the stored terms include
        every character bigram for BM25 (理要 of 管理要求), and a typo must be repaired to a word."""
        runs = [run for text in texts for run in CJK_RUN_RE.findall(text)]
        self._spans = Counter(run[i : i + n] for run in runs for n in (1, *self.SPANS) for i in range(len(run) - n + 1))
        self._keys: dict[tuple[str, str], str] = {}
        if not runs:
            return
        longest = max(self.SPANS)
        general = _general_words()
        # The corpus's words: its spans that jieba's dictionary has (no segmentation, which cost
        # about a second for the guidance), and the longer words segmentation found beyond it.
        counts = Counter({span: n for span, n in self._spans.items() if len(span) >= 2 and general.get(span, 0) > 0})
        for word in words:
            if 3 <= len(word) <= longest and word in self._spans and CJK_RUN_RE.fullmatch(word):
                counts[word] = self._spans[word]
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
                    self._keys.setdefault((masked, reading), word)

    def __bool__(self) -> bool:
        return bool(self._keys)

    def knows(self, text: str) -> int:
        """How often the corpus contains this text (up to four characters) within one Han run."""
        return self._spans.get(text, 0)

    def _repair(self, span: str) -> str | None:
        if span in self._spans or _general_words().get(span, 0) > 0:
            return None
        for i, ch in enumerate(span):
            masked = span[:i] + "\0" + span[i + 1 :]
            for reading in _readings(ch):
                word = self._keys.get((masked, reading))
                if word is not None and word != span:
                    return word
        return None

    def corrections(self, text: str) -> dict[str, str]:
        """Typo span -> corpus word, longest spans first, not overlapping."""
        found: dict[str, str] = {}
        if not self._keys:
            return found
        from assistant.lexical import _jieba

        for run in CJK_RUN_RE.findall(text):
            ends, at = {0}, 0
            for token in _jieba().lcut(run, HMM=False):
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
