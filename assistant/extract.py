"""The extractive answer: the best sentences of the cited clauses, said per clause in the
clause's own order, a list with its lead-in, each group marked with its citation's number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from assistant.kinds import DEFAULT_KIND
from assistant.records import Citation
from assistant.retrieval import question_lang
from assistant.units import ENDS_FULL_SENTENCE, ScoredSentence, Unit, clause_spans, clause_units, with_lists


class Budget(Protocol):
    """What the extractive answer reads of answering.AnswerConfig (answering imports this module)."""

    answer_sentences: int
    highlight_margin: float


# Questions asking for a number: a time limit, a duration, a count, a share.
_ASKS_NUMBER = re.compile(
    r"how (?:long|many|much|often|soon|quickly)|within|deadline|time limit|minimum|maximum|at least|at most|"
    r"how frequent|what percentage|retention|retain|多久|多长|多少|几[个天次年月小分]|时限|期限|多快|频次|频率|比例|"
    r"不少于|不超过|至少|最长|最多|何时|什么时候|天内|小时内",
    re.IGNORECASE,
)
# Questions asking for what something contains, its steps, measures or cases: a list answers them.
_ASKS_LIST = re.compile(
    r"\b(?:contains?|includes?|consists? of|comprises?|covers?|list|steps|measures|items|elements|indicators|"
    r"situations|circumstances|cases|levels|what (?:kinds?|types?|information))\b|"
    r"哪些|哪几|包括什么|包含什么|包括哪|包含哪|什么内容|几种|步骤|措施|情形|什么情况",
    re.IGNORECASE,
)
# A list's lead-in ranks as its best line (lead-in or item) plus this when the question asks for a list.
LIST_BONUS = 0.08
_HAS_NUMBER = re.compile(r"\d|[一二三四五六七八九十两百]+\s*(?:个|天|日|小时|分钟|年|月|次|周|学时|%)")
# A clause reference ("in the drills specified in 6.4.2", "按11.7.4的规定") is no figure the question
# asks for: "how often is the IVR menu reviewed" must not prefer the emergency plan's sentence for it.
_CROSS_REFERENCE = re.compile(
    r"(?<![\d.])\d+(?:\.\d+)+"
    r"(?!\s*(?:%|％|[个秒分小天日周月年次倍]|hours?|minutes?|seconds?|days?|weeks?|months?|years?|times|percent))",
    re.IGNORECASE,
)
NUMBER_BONUS = 0.05


def _has_number(text: str) -> bool:
    return bool(_HAS_NUMBER.search(_CROSS_REFERENCE.sub("", text)))


BACKGROUND_LABEL = {"zh": "背景资料（非指导要求）：", "en": "Background (not the guidance): "}


def extractive_answer(
    question: str,
    citations: list[Citation],
    scored: list[list[ScoredSentence]],
    config: Budget,
    bare_lookup: bool,
    must_say: list[tuple[int, tuple[int, int]]] | None = None,
) -> str:
    """The best sentences of the cited clauses, grouped per clause, each group marked [n].
    ``must_say`` (citation position, sentence span) are said whatever the others score: each
    part's best sentence of a question asking two things; a first citation with one of them
    says it instead of its own best.

    Sentences come from citations in the question's language when there are any, so an English
    question is not answered with the Chinese edition's wording of the same clause. A chosen list
    item brings its lead-in and a chosen lead-in its items; the clause's order is kept; a sentence
    already said is not said again. The chosen spans become the citation's highlights.
    """
    if not citations:
        return ""
    wanted = question_lang(question)
    if bare_lookup:
        # A clause asked for by its number alone: its first lines, as they stand.
        first = citations[0]
        units = {0: clause_units(first.text, clause_spans(first.text))}
        chosen = {0: list(units[0][: config.answer_sentences])}
    else:
        numbers = _speakers(citations, wanted)
        candidates = _candidates(question, citations, scored, numbers)
        units = candidates.units
        chosen = _choose(candidates, numbers, config, must_say) if candidates.pool else {}
        if not chosen:
            chosen = {numbers[0]: list(units[numbers[0]][:1])}
    return _say(chosen, units, citations, wanted, bare_lookup)


def _speakers(citations: list[Citation], wanted: str) -> list[int]:
    """The positions of the citations whose sentences may be said: those in the question's
    language (all when none is), and a section only when none of its children is cited."""
    numbers = [n for n, c in enumerate(citations) if c.lang == wanted] or list(range(len(citations)))
    cited = [c.clause for c in citations]
    # A section's lines repeat its children's lead sentences: when a child is cited, it speaks.
    # First, it answers a topic question: its lines are the answer.
    return [n for n in numbers if n == 0 or not citations[n].children
            or not any(x.startswith(citations[n].clause + ".") for x in cited)] or numbers


@dataclass
class _Candidates:
    """The units that may be said, best first, as (score, citation position, unit)."""

    pool: list[tuple[float, int, Unit]]
    # The first clause's list lead-ins, each scored as its list's best line.
    lists_of_lead: list[tuple[float, Unit]]
    boosted: set[int]  # lead-ins given LIST_BONUS: it puts them first, it is no bar for the rest
    units: dict[int, tuple[Unit, ...]]  # per citation position, its readable units

    def plain(self, score: float, unit: Unit) -> float:
        """The unit's score without the LIST_BONUS that only puts it first."""
        return score - (LIST_BONUS if id(unit) in self.boosted else 0.0)


def _candidates(question: str, citations: list[Citation], scored: list[list[ScoredSentence]],
                numbers: list[int]) -> _Candidates:
    """Each speaking citation's units, scored by their best sentence (a figure the question asks
    for and a list the question asks for add their bonus); those highlighted, or bearing what the
    question asks for, are candidates."""
    asks_number = bool(_ASKS_NUMBER.search(question))
    asks_list = bool(_ASKS_LIST.search(question))
    out = _Candidates([], [], set(), {})
    for rank, number in enumerate(numbers):
        citation = citations[number]
        units = clause_units(citation.text, tuple((s.start, s.end) for s in scored[number]))
        out.units[number] = units
        score_of = {(s.start, s.end): s.score for s in scored[number]}
        highlighted = set(citation.highlights)
        for unit in units:
            score = max(score_of.get(span, -1.0) for span in unit.spans)
            if asks_number and _has_number(citation.text[unit.start:unit.end]):
                score += NUMBER_BONUS
            heads_list = rank == 0 and unit.lead_in and unit.block != -1
            if heads_list:
                # The first clause's list answers as a whole: its lead-in ranks as its best line,
                # and first when the question asks what something contains, its steps or cases.
                score = max(score, max(score_of.get(span, -1.0) for u in units if u.block == unit.block
                                       for span in u.spans))
                out.lists_of_lead.append((score, unit))
                if asks_list:
                    score += LIST_BONUS
                    out.boosted.add(id(unit))
            if (any(span in highlighted for span in unit.spans) or (asks_number and score > -1)
                    or (heads_list and asks_list)):
                # Earlier citations are better matches; prefer their sentences on ties.
                out.pool.append((score - 0.01 * rank, number, unit))
    out.pool.sort(key=lambda item: item[0], reverse=True)
    return out


def _choose(candidates: _Candidates, numbers: list[int], config: Budget,
            must_say: list[tuple[int, tuple[int, int]]] | None) -> dict[int, list[Unit]]:
    """The units said, per citation position: the sentences that must be said, the first
    citation's best (with its lists about as good), then the best of the rest up to
    ``answer_sentences``, each about as good as the best of all."""
    chosen: dict[int, list[Unit]] = {}
    pool = candidates.pool
    top = max(candidates.plain(score, unit) for score, _, unit in pool)
    for number, span in must_say or []:
        unit = next((u for u in candidates.units.get(number, ()) if span in u.spans), None)
        if unit is not None and all(unit is not u for u in chosen.get(number, [])):
            chosen.setdefault(number, []).append(unit)
    # The first citation is the best answer: its best sentence speaks whatever the others score.
    lead = next((item for item in pool if item[1] == numbers[0]), None)
    if lead is not None and numbers[0] not in chosen:
        chosen[lead[1]] = [lead[2]]
        # A list of the first clause about as good as its best sentence comes with it, before
        # other clauses' sentences: "in the following situations:" is what "when" asks.
        best = candidates.plain(lead[0], lead[2])
        for score, unit in candidates.lists_of_lead:
            if unit is not lead[2] and score >= best - config.highlight_margin:
                chosen[lead[1]].append(unit)
    said_first = {id(unit) for units in chosen.values() for unit in units}
    pool = [item for item in pool if id(item[2]) not in said_first]
    # Only sentences about as good as the best one: a weaker clause's sentence reads as noise.
    room = config.answer_sentences - sum(len(units) for units in chosen.values())
    # A list asked for and given is the answer: other clauses' sentences beside it are noise.
    if lead is not None and id(lead[2]) in candidates.boosted:
        pool = [item for item in pool if item[1] == lead[1]]
    for score, number, unit in pool[: max(0, room)]:
        if score >= top - config.highlight_margin:
            chosen.setdefault(number, []).append(unit)
    return chosen


def _say(chosen: dict[int, list[Unit]], units: dict[int, tuple[Unit, ...]], citations: list[Citation],
         wanted: str, bare_lookup: bool) -> str:
    """The chosen units said per citation, in the citations' order, each group marked [n]; a
    sentence already said is not said again, and (unless the clause was only looked up) what a
    citation says becomes its highlights."""
    groups: list[str] = []
    said: set[str] = set()
    for number in sorted(chosen):
        citation = citations[number]
        picked = with_lists(chosen[number], units[number], citation.text)
        pieces, shown = _pieces(picked, citation.text, said)
        if not pieces:
            continue
        if not bare_lookup:
            citation.highlights = sorted(set(shown))
        # Spaced as the clause's own language: with `lang` set to the other edition, a Chinese
        # question is answered in English sentences ("…complained of. Ordinary complaints…").
        spoken = citation.lang if citation.lang in ("zh", "en") else wanted
        marker = f"[{number + 1}]" if spoken == "zh" else f" [{number + 1}]"
        joiner = "" if spoken == "zh" else " "
        list_joiner = "\n" if citation.children or any(u.item for u, _ in picked) else joiner
        text = pieces[0]
        for before, piece in zip(pieces, pieces[1:]):
            # A line that ends no sentence (an abbreviation list's "KPI：关键绩效指标（…）", a
            # heading) is a line of its own: run together, two such lines read as one.
            text += (list_joiner if ENDS_FULL_SENTENCE.search(before) else "\n") + piece
        # Background is never read as the guidance's word, in the answer text either.
        label = BACKGROUND_LABEL[wanted] if citation.kind != DEFAULT_KIND else ""
        groups.append(label + text + marker)
    return "\n".join(groups)


def _pieces(picked: list[tuple[Unit, list[tuple[int, int]]]], text: str,
            said: set[str]) -> tuple[list[str], list[tuple[int, int]]]:
    """The text of each picked unit not said before (``said`` gains them), and the spans said."""
    pieces = []
    shown: list[tuple[int, int]] = []
    listed = {u.block for u, _ in picked if u.item}
    for unit, spans in picked:
        piece = text[spans[0][0]:spans[-1][1]].strip()
        key = re.sub(r"\W+", "", piece.lower())
        # A lead-in whose items are said is said with them, even where a section's line
        # quoted it already ("Real-time monitoring indicators: … the following indicators…").
        heads_items = unit.lead_in and unit.block in listed
        if not key or (_already_said(key, said) and not heads_items):
            continue
        said.add(key)
        pieces.append(piece)
        shown.extend(spans)
    return pieces, shown


# A sentence this long found inside one already said (a section's line "考核周期与方式：<its
# child's lead sentence>") is the same sentence said again.
_REPEAT_CHARS = 12


def _already_said(key: str, said: set[str]) -> bool:
    if key in said:
        return True
    return len(key) >= _REPEAT_CHARS and any(key in other for other in said)
