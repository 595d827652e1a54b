"""A question analysed once per ask: language, clause numbers, the asking template, topic terms.

The service analyses a question once and passes the analysis down to retrieval, the scope
decision and the answer, instead of each stage working the language out again.

Asking templates ("What does the guidance say about X?", "指导要求对X有什么规定？") carry no topic
of their own but move the question's vector away from the clauses about X (measurably, with
e5-small: docs/benchmarks.md, section s8-misc) and add words like "requirements" or 规定 that half the clauses contain. The
analysis strips a recognised template so that retrieval and the scope decision see the topic X,
the same as a bare "X".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.abbreviations import Abbreviations
from assistant.homophones import Homophones
from assistant.lexical import CHINESE_STOPWORDS, ENGLISH_STOPWORDS, tokenize
from assistant.text import CJK_CLASS, CN_NUMERALS, is_han
from assistant.text import CJK_RUN_RE, detect_language


_LATIN_WORD = re.compile(r"[A-Za-z]+")


def question_lang(question: str) -> str:
    """The language a question is asked in: "zh" or "en" (retrieval and answering import it).

    A question in one script is in that script's language (text.detect_language). A question
    mixing both is asked in the language of its function words: "What does 占用率 mean?" is an
    English question quoting a Chinese term, "occupancy 控制在多少比较合适？" and "agent 的 job
    description 多久要 review 一次？" are Chinese ones quoting English words, however the letters
    count (a Chinese character weighs as much as a Latin letter in detect_language, so three
    characters of a quoted term made the first question Chinese). Where the function words do not
    decide (none, or as many of each), the letter share does.
    """
    chinese_runs = CJK_RUN_RE.findall(question)
    latin_words = _LATIN_WORD.findall(question)
    if not chinese_runs or not latin_words:
        return detect_language(question)
    from assistant.lexical import jieba_segmenter

    english = sum(w.lower() in ENGLISH_STOPWORDS for w in latin_words)
    chinese = sum(w in CHINESE_STOPWORDS for run in chinese_runs for w in jieba_segmenter().lcut(run))
    if english != chinese:
        return "en" if english > chinese else "zh"
    return detect_language(question)


_ARABIC_NUMBER = r"\d+(?:\.\d+)*"
_NUMBER_PATTERNS = [
    # 第4.5条, 第 4 章, 第十二条
    re.compile(rf"第\s*({_ARABIC_NUMBER}|[{CN_NUMERALS}]+)\s*[条章节款]"),
    # clause 4.5, section 5, article 12, rule 3.6
    re.compile(rf"\b(?:clause|section|article|chapter|rule|paragraph|art\.?|§)\s*({_ARABIC_NUMBER})\b", re.I),
    # a bare dotted number anywhere: 4.5, 5.3.1
    # (`(?!\.*\d)` says what `(?![\d.]*\d)` said, without rescanning a run of dots per candidate)
    re.compile(r"(?<![\d.])(\d+(?:\.\d+)+)(?!\.*\d)"),
    # the whole question is a number: "4", "4."
    # (no two `\s*` side by side: that backtracks quadratically on a long run of spaces;
    # tests/test_adversarial.py feeds it one)
    re.compile(r"^\s*(\d+)(?:\s*\.)?\s*$"),
    # 附录A, Annex A, Appendix B
    re.compile(r"(附\s*录\s*[A-Z])(?![A-Za-z])"),
    re.compile(r"\b((?:Annex|Appendix)\s+[A-Z])\b"),
]


def clause_numbers_in(question: str) -> list[str]:
    """Clause numbers a question names explicitly, in order of appearance."""
    found: list[tuple[int, str]] = []
    for pattern in _NUMBER_PATTERNS:
        for match in pattern.finditer(question):
            found.append((match.start(1), match.group(1)))
    seen: list[str] = []
    for _, number in sorted(found):
        if number not in seen:
            seen.append(number)
    return seen


# Words that only ask for a clause ("what does clause 4.5 say"), carrying no topic of their own.
_LOOKUP_TEXT = (
    "clause section article chapter rule paragraph annex appendix say says said mean means state states show "
    "open "
    "规定 内容 说 讲 写 条款 条文 要求 什么 具体 第 章 条 节 款 附录 打开 查看"
)


@lru_cache(maxsize=1)
def _lookup_words() -> frozenset[str]:
    return frozenset(tokenize(_LOOKUP_TEXT))


def topic_terms(question: str) -> set[str]:
    """The question's index terms besides clause numbers and words that only ask for a clause."""
    for number in clause_numbers_in(question):
        question = question.replace(number, " ")
    return set(tokenize(question)) - _lookup_words()


# Questions about whom or what the document itself applies to ask for its scope clause, which
# every standard has ("1 Scope" / "1 范围"): "Who does this guidance apply to?", "Does it apply
# to outsourced call centres?". The topic becomes "scope" and what the question names; the words
# of the question ("apply", "guidance") match the many clauses that say "the following terms
# apply" or "this document" (docs/benchmarks.md, section u3-rank).
_ZH_SELF = r"(?:本|这个|这份|该)?(?:指导要求|指导意见|指南|标准|规范|文件)"
_SELF = rf"(?:it|this|(?:this|the)\s+(?:guidance|guidelines?|standard|document|specification))"
_SCOPE_TEMPLATES: list[tuple[str, str]] = [
    ("scope-of", rf"what\s+(?:is|are)\s+(?:the\s+)?(?:scope|coverage|applicability)(?:\s+of\s+{_SELF})?(?P<x>)"),
    ("applies-to-whom", rf"(?:who|what|which\s+\w+(?:\s+\w+)?)\s+(?:does|do|is|are)\s+{_SELF}\s+"
     r"(?:apply|applies|applicable|relevant|meant|intended)\s+(?:to|for)(?P<x>)"),
    ("does-it-apply", rf"(?:does|do|is|will)\s+{_SELF}\s+(?:also\s+)?(?:apply|applicable|relevant|cover)"
     r"\s+(?:to|for)?\s*(?P<x>.+)"),
    ("what-does-it-cover", rf"what\s+(?:does|do)\s+{_SELF}\s+(?:cover|address|deal\s+with)(?P<x>)"),
    # 本指导要求的适用范围是什么 / 适用范围 ("这个指导要求适用于哪些呼叫中心" is left whole: as
    # "范围：呼叫中心" it cited 3.1.1, the definition of a call center, on the fit split)
    ("zh-scope", rf"{_ZH_SELF}?(?:的)?(?:适用范围|范围)(?:是什么|是啥|有哪些|包括哪些|包括什么|怎么规定)?(?:呢|吗)?(?P<x>)"),
]
# Each pattern matches a whole question and names its topic group "x". Checked in order; the
# first that leaves a non-empty topic wins. English is matched case-insensitively.
_SUBJECT = r"(?:the\s+)?(?:guidance|guidelines?|standard|document|rules?|specification|requirements?)"
_EN_TEMPLATES: list[tuple[str, str]] = [
    ("what-does-say", rf"(?:what|how)\s+(?:does|do|did)\s+{_SUBJECT}\s+(?:say|state|require|specify|cover|mention)"
     r"\s+(?:about|on|regarding|concerning|for|of|in\s+terms\s+of)\s+(?P<x>.+)"),
    ("what-does-require", rf"what\s+(?:does|do)\s+{_SUBJECT}\s+(?:require|expect|specify)\s+(?P<x>.+)"),
    ("what-are-requirements", r"what\s+(?:are|is)\s+(?:the\s+)?(?:requirements?|rules?|provisions?|guidelines?|"
     r"guidance|standards?|expectations?)\s+(?:for|on|about|of|regarding|concerning|around|in)\s+(?P<x>.+)"),
    ("what-is-required", r"what\s+is\s+(?:required|expected|needed)\s+(?:for|of|on|about|regarding|when)\s+(?P<x>.+)"),
    ("is-it-required", r"(?:is\s+it|are\s+we|are\s+agents|are\s+staff|is\s+there\s+a\s+requirement|is\s+one)\s+"
     r"(?:required|obliged|obligated|necessary|mandatory|supposed|expected)\s+(?:to|for|that)\s+(?P<x>.+)"),
    ("is-there-requirement", r"(?:is|are)\s+there\s+(?:any\s+)?(?:requirements?|rules?|provisions?|guidance)\s+"
     r"(?:for|on|about|regarding|concerning|around)\s+(?P<x>.+)"),
    # "Is data security covered?": the topic, not the scope clause (data security is 11.7).
    ("is-covered", rf"(?:is|are)\s+(?P<x>.+?)\s+(?:covered|included|addressed|dealt\s+with)"
     rf"(?:\s+(?:by|in)\s+{_SELF})?"),
    ("tell-me-about", r"(?:tell\s+me|what\s+do\s+you\s+know)\s+about\s+(?P<x>.+)"),
    ("guidance-on", rf"{_SUBJECT}\s+(?:on|about|for|regarding)\s+(?P<x>.+)"),
    ("what-does-mean", r"what\s+(?:does|do)\s+(?:the\s+(?:word|term|abbreviation)\s+)?(?P<x>.+?)\s+(?:mean|stand\s+for)"),
    ("what-is-meant", r"what\s+is\s+meant\s+by\s+(?P<x>.+)"),
]
_ZH_SUBJECT = r"(?:本|这份|该)?(?:指导要求|指导意见|指导|指南|标准|规范|文件|要求)?(?:中|里|里面)?"
_ZH_ASK = r"(?:有|作了|做了|作出了|给出了)?(?:什么|哪些|何种|怎样的|怎么样的|啥)(?:样的)?(?:具体)?(?:规定|要求|说法|内容|条款)"
_ZH_TEMPLATES: list[tuple[str, str]] = [
    ("zh-dui-x-you-shenme-guiding", rf"{_ZH_SUBJECT}(?:对于|对|关于)(?P<x>.+?)(?:方面)?(?:的)?{_ZH_ASK}(?:吗|呢)?"),
    ("zh-guanyu-x-de-guiding", rf"{_ZH_SUBJECT}(?:关于|有关)(?P<x>.+?)的(?:规定|要求|条款|内容)(?:是什么|有哪些)?"),
    ("zh-x-you-shenme-yaoqiu", rf"(?P<x>.+?)(?:方面)?(?:的)?{_ZH_ASK}(?:吗|呢)?"),
    ("zh-x-shi-zenme-guiding", r"(?P<x>.+?)(?:是)?(?:怎么|如何|怎样)(?:规定|要求)的?(?:吗|呢)?"),
]
_COMPILED = [(name, re.compile(rf"^\s*{pattern}\s*$", re.I | re.S)) for name, pattern in _EN_TEMPLATES + _ZH_TEMPLATES]
_SCOPE_COMPILED = [(name, re.compile(rf"^\s*{pattern}\s*$", re.I | re.S)) for name, pattern in _SCOPE_TEMPLATES]
_TRAILING = re.compile(r"[\s?？.。!！,，;；:：]+$")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class QueryAnalysis:
    text: str  # the question as asked (cleaned)
    lang: str  # "zh" or "en"
    clause_numbers: tuple[str, ...]  # numbers the question names, in order
    template: str | None  # the asking template recognised, or None
    topic: str  # what is left after stripping the template (the whole question when none)
    search_text: str  # the topic with misspelt words corrected: what retrieval embeds and matches
    terms: frozenset[str]  # index terms of the topic, without clause numbers and lookup words
    corrections: dict[str, str] = field(default_factory=dict)  # misspelt word -> corpus word
    # abbreviation as asked -> the expansion the corpus defines for it, added to search_text
    expansions: dict[str, str] = field(default_factory=dict)
    # ids of the definitions lists those expansions come from ("3.2 Abbreviations"): they match
    # the question through the abbreviation alone, and are cited after a clause about the concept
    defined_in: frozenset[str] = frozenset()


def strip_template(question: str) -> tuple[str | None, str]:
    """(template name, topic) for a question; (None, the question) when no template matches."""
    # One space per run: the templates' "\s+ … .+? \s+" backtrack cubically over a long run of
    # spaces (issue 15, bounded work); the service collapses them too (clean_question).
    body = _TRAILING.sub("", _SPACES.sub(" ", question))
    for name, pattern in _SCOPE_COMPILED:
        match = pattern.match(body)
        if match:
            rest = _TRAILING.sub("", re.sub(r"\b(?:too|as\s+well|also)\b", "", match.group("x"), flags=re.I)).strip()
            scope = "范围" if name.startswith("zh-") else "scope"
            return name, f"{scope}: {rest}" if tokenize(rest) else scope
    for name, pattern in _COMPILED:
        match = pattern.match(body)
        if match:
            topic = _TRAILING.sub("", match.group("x")).strip()
            # A topic of stopwords only ("What are the requirements for it?") is no topic.
            if topic and tokenize(topic):
                return name, topic
    return None, question


def analyse(question: str, vocabulary: Vocabulary | None = None,
            abbreviations: Abbreviations | None = None, homophones: Homophones | None = None) -> QueryAnalysis:
    lang = question_lang(question)
    numbers = tuple(clause_numbers_in(question))
    template, topic = strip_template(question)
    if numbers and template is not None and not any(n in topic for n in numbers):
        # "What does clause 4.5 say about X": keep the number with the topic for the lookup.
        topic = question
        template = None
    corrections = vocabulary.corrections(topic) if vocabulary is not None else {}
    search_text = _apply(topic, corrections)
    if homophones is not None:  # Chinese homophone typos (homophones.py); ``text`` keeps the question as asked
        typos = homophones.corrections(search_text)
        search_text = Homophones.apply(search_text, typos)
        corrections = {**corrections, **typos}
    expansions: dict[str, str] = {}
    defined_in: frozenset[str] = frozenset()
    if abbreviations is not None:
        # Before the expansion: the abbreviations it replaces and those already spelt out alike.
        defined_in = abbreviations.lists_of(abbreviations.named(search_text))
        search_text, expansions = abbreviations.expand(search_text, lang)
    return QueryAnalysis(
        text=question,
        lang=lang,
        clause_numbers=numbers,
        template=template,
        topic=topic,
        search_text=search_text,
        terms=frozenset(topic_terms(search_text)),
        corrections=corrections,
        expansions=expansions,
        defined_in=defined_in,
    )


def _apply(text: str, corrections: dict[str, str]) -> str:
    if not corrections:
        return text
    return _WORD.sub(lambda m: corrections.get(m.group(0).lower(), m.group(0)), text)


class EnglishWords:
    """Whether a word is in pyspellchecker's English word list, case-insensitively (as its own
    WordFrequency answers ``in``), without its frequencies."""

    __slots__ = ("_words",)

    def __init__(self, words: frozenset[str]) -> None:
        self._words = words

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word.lower() in self._words

    def __len__(self) -> int:
        return len(self._words)


# One '"word": count' entry per line, as pyspellchecker ships en.json.gz.
_WORD_LIST_KEY = re.compile(r'(?m)^"([^"\\\n]*)": ')


@lru_cache(maxsize=1)
def english_words() -> EnglishWords:
    """pyspellchecker's English words, for membership tests (loaded once, on first use).

    Read from the package's own en.json.gz rather than through SpellChecker(): that lower-cases
    the whole text, parses every count and collects every letter used, most of the English cold
    start's extra CPU, for a set test (docs/benchmarks.md, section h2-cold). The keys are taken by
    a regular expression when the file has the one-entry-a-line layout it ships with (faster than
    json.loads); anything else (an escape, another layout) goes through json.
    """
    import gzip
    import json
    import pkgutil

    text = gzip.decompress(pkgutil.get_data("spellchecker", "resources/en.json.gz")).decode("utf-8")
    if not text.islower():  # a scan, where lower() copies the whole text: the shipped list is lower-case
        text = text.lower()
    words = _WORD_LIST_KEY.findall(text)
    if "\\" in text or len(words) != text.count("\n") - 1:
        words = json.loads(text)
    return EnglishWords(frozenset(words))


@lru_cache(maxsize=1)
def english_word_frequency():
    """pyspellchecker's English word counts (its WordFrequency: ``dictionary``, ``total_words``).

    Slow to load (a SpellChecker); only the near-miss signals that the shipped parameters leave
    off use it, on first use."""
    from spellchecker import SpellChecker

    return SpellChecker(distance=1).word_frequency


def _stem(word: str) -> str:
    from assistant.lexical import english_stemmer

    return english_stemmer().stemWord(word)


_WORD = re.compile(r"[A-Za-z][a-z]+(?:'[a-z]+)?")


class Vocabulary:
    """The corpus's English words, for correcting misspelt question words ("pasword").

    A question word is looked up only when neither the corpus nor an English dictionary
    (pyspellchecker's word list) knows it: a real word the guidance does not use ("married",
    "ahead") is evidence that the question is about something else, not a typo of "carried" or
    "head". The closest corpus word by normalised Indel similarity (rapidfuzz) replaces it when
    the two are close enough. Words of four letters or fewer are left alone: too many real words
    lie one edit apart.
    """

    def __init__(self, texts, min_ratio: float = 85.0, min_length: int = 5) -> None:
        counts: dict[str, int] = {}
        for text in texts:
            for match in _WORD.finditer(text):
                word = match.group(0).lower()
                counts[word] = counts.get(word, 0) + 1
        self.counts = counts
        from assistant.lexical import english_stemmer

        # An inflection the corpus knows by its stem ("calls" where it has "call") is no typo.
        self._stems = frozenset(english_stemmer().stemWords(list(counts)))
        # Most frequent first: on equal similarity rapidfuzz keeps the first, the commoner word.
        self._words = sorted((w for w in counts if len(w) >= min_length - 1), key=lambda w: -counts[w])
        self.min_ratio = min_ratio
        self.min_length = min_length

    def __contains__(self, word: str) -> bool:
        return word.lower() in self.counts

    def corrections(self, text: str) -> dict[str, str]:
        if not self._words:
            return {}
        from rapidfuzz import fuzz, process

        found: dict[str, str] = {}
        for match in _WORD.finditer(text):
            word = match.group(0).lower()
            if len(word) < self.min_length or word in self.counts or word in ENGLISH_STOPWORDS or word in found:
                continue
            if _stem(word) in self._stems or word in english_words():
                continue
            best = process.extractOne(word, self._words, scorer=fuzz.ratio, score_cutoff=self.min_ratio)
            if best is not None and best[0] != word:
                found[word] = best[0]
        return found


@lru_cache(maxsize=4096)
def content_terms(text: str) -> tuple[str, ...]:
    """Words that carry the question's topic, for coverage: stems and jieba words, no bigrams.

    tokenize() adds every Chinese character bigram for BM25; most bigrams of a question cross
    word boundaries ("税怎") and would count as words the corpus does not know.
    """
    out: list[str] = []
    for piece in re.split(f"([{CJK_CLASS}]+)", text):
        if not piece:
            continue
        if is_han(piece[0]):
            from assistant.lexical import jieba_segmenter

            out.extend(w for w in jieba_segmenter().lcut(piece) if w not in CHINESE_STOPWORDS and w not in _ZH_FILLER)
        else:
            out.extend(t for t in tokenize(piece) if t not in _EN_FILLER)
    return tuple(dict.fromkeys(out))


# Asking words that survive the stopword lists but say nothing about the topic. The second line:
# spoken question words, A-not-A questions as jieba cuts them whole, words addressing the reader
# and particles of casual Chinese (啥, 要不要, 你们, 啊): a standard never uses them, so each
# counted as a topic word the corpus lacks. They leave the coverage signals only; retrieval and
# the embedding keep them (mapping them to written forms there measured worse: docs/benchmarks.md,
# section v1-zh).
_ZH_FILLER = frozenset("""规定 要求 有关 关于 哪 多少 多久 吗 呢 吧 啊 呀 请问 一下 请 问 怎样 怎么办 么
    啥 咋 咋办 咋样 为啥 你们 咱们 俺们 一般 到底 究竟 大概 这边 啦 嘛 哈 哦 呗 喔 要不要 能不能 是不是
    有没有 可不可以 会不会 需不需要 用不用 算不算 该不该 行不行""".split())
_EN_FILLER = frozenset(tokenize("guidance guideline say says said tell please require required requirement requirements rule rules"))
