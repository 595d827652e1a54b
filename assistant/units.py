"""A clause's text as an answer reads it: its sentence spans, those spans joined into readable
units (a sentence a PDF broke over lines, a list item with its second sentence and the paragraphs
that explain it), a list's lead-in and items marked as one block, and how much of a list is said
when one of its units is chosen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.text import CN_NUMERALS, cn_numeral_to_int, sentence_spans


@dataclass
class ScoredSentence:
    start: int
    end: int
    score: float


@lru_cache(maxsize=4096)
def clause_spans(text: str) -> tuple[tuple[int, int], ...]:
    """sentence_spans() of a clause's text, cached: the same long clauses are cut answer after answer."""
    return tuple(sentence_spans(text))


# A list item: "a)", "b）", "(1)", "（一）", "1)", "①", "•", "-".
_ITEM = re.compile(r"^\s*(?:(?P<alpha>[a-zA-Z])[)）]|[(（](?P<paren>[\w一二三四五六七八九十]{1,3})[)）]|"
                   r"(?P<digit>\d{1,2})[)）]|(?P<circled>[①-⑳])|(?P<bullet>[•·\-–*])\s)")
_LEAD_IN = re.compile(r"[:：]\s*$")
# A line that starts on its own even after a line without end punctuation: a numbered line, or an
# abbreviation list's "IVR: Interactive Voice Response" (one entry answers; the list is not a sentence).
_NUMBERED_LINE = re.compile(r"^\s*(?:\d|第|附录|Annex|¶|[A-Z][A-Za-z]{1,9}\s*[:：])")
_ENDS_SENTENCE = re.compile(r"[.。!?！？;；:：\"”’)）]\s*$")
_ENDS_CLAUSE = re.compile(r"[;；]\s*$")
ENDS_FULL_SENTENCE = re.compile(r"[.。!?！？;；:：]\W{0,2}$")


@dataclass
class Unit:
    """A readable piece of a clause: one or more sentence spans that belong together."""

    start: int
    end: int
    spans: list[tuple[int, int]]
    item: bool = False
    lead_in: bool = False
    block: int = -1  # the list (lead-in + items) it belongs to, -1 outside lists


def units_of(text: str, spans: list[tuple[int, int]]) -> list[Unit]:
    """Sentence spans joined into readable units, with list lead-ins and items marked.

    A span that does not start a sentence (a line break inside one, in a PDF) joins the one before,
    and so does a span on the same line as a list item (its second sentence); a lead-in ("…以下
    措施：") and the items after it share a block.
    """
    units: list[Unit] = []
    for start, end in spans:
        piece = text[start:end]
        is_item = bool(_ITEM.match(piece))
        if units and not is_item:
            previous = units[-1]
            same_line = "\n" not in text[previous.end:start]
            # A lowercase start continues a sentence broken at a line end; so does text after a
            # line without end punctuation, unless it starts a numbered line of its own.
            broken = not _ENDS_SENTENCE.search(text[previous.start:previous.end]) and not _NUMBERED_LINE.match(piece)
            # A sentence span ending at "；" (Chinese sentence spans end there) is half a sentence:
            # "应急预案应至少每年评审和修订一次；" alone reads as a fragment.
            half = not previous.item and same_line and _ENDS_CLAUSE.search(text[previous.start:previous.end])
            if piece[:1].islower() or (broken and not previous.item) or (previous.item and same_line) or half:
                previous.end = end
                previous.spans.append((start, end))
                continue
        units.append(Unit(start, end, [(start, end)], item=is_item))
    units = _items_with_their_paragraphs(text, units)
    block = -1
    for position, unit in enumerate(units):
        if unit.item:
            if block == -1:
                # Items without a lead-in still form a list of their own.
                block = position
            unit.block = block
        else:
            block = -1
            unit.lead_in = bool(_LEAD_IN.search(text[unit.start:unit.end]))
            if unit.lead_in and position + 1 < len(units) and units[position + 1].item:
                block = position
                unit.block = block
    return units


@lru_cache(maxsize=4096)
def clause_units(text: str, spans: tuple[tuple[int, int], ...]) -> tuple[Unit, ...]:
    """units_of(), cached per clause text and spans: the same clauses are cited question after
    question. The units are shared between answers, so nothing may change them after this."""
    return tuple(units_of(text, list(spans)))


def _marker(piece: str) -> tuple[str, int | None] | None:
    """A list item's marker as (style, ordinal): "b)" -> ("alpha", 2), "（二）" -> ("paren", 2),
    "•" -> ("bullet", None)."""
    match = _ITEM.match(piece)
    if match is None:
        return None
    style = match.lastgroup
    value = match.group(style)
    if style == "alpha":
        return ("upper" if value.isupper() else "alpha", ord(value.lower()) - ord("a") + 1)
    if style == "digit":
        return style, int(value)
    if style == "circled":
        return style, ord(value) - ord("①") + 1
    if style == "paren":
        if value.isdigit():
            return style, int(value)
        if len(value) == 1 and value.isascii() and value.isalpha():
            return "paren-alpha", ord(value.lower()) - ord("a") + 1
        return style, cn_numeral_to_int(value) if all(ch in CN_NUMERALS for ch in value) else None
    return style, None


def _next_item(before: str, after: str) -> bool:
    """Whether the item starting ``after`` is the one that follows the item starting ``before``."""
    a, b = _marker(before), _marker(after)
    if a is None or b is None or a[0] != b[0]:
        return False
    return a[1] is None and b[1] is None or (a[1] is not None and b[1] == a[1] + 1)


def _items_with_their_paragraphs(text: str, units: list[Unit]) -> list[Unit]:
    """Paragraphs between an item and the next one of its list ("a) …" / "例如，…" / "b) …")
    joined to the item they explain: they are part of it, and a list they split in two would
    leave its second half without the lead-in."""
    out: list[Unit] = []
    last_item: int | None = None
    for unit in units:
        if unit.item:
            between = out[last_item + 1 :] if last_item is not None else []
            if (between and not any(_LEAD_IN.search(text[u.start:u.end]) for u in between)
                    and _next_item(text[out[last_item].start:], text[unit.start:])):
                item = out[last_item]
                for paragraph in between:
                    item.spans.extend(paragraph.spans)
                item.end = between[-1].end
                del out[last_item + 1 :]
            out.append(unit)
            last_item = len(out) - 1
        else:
            out.append(unit)
    return out


# A list longer than this many characters is not said whole for one of its items: an item chosen
# comes with the lead-in alone ("UPS backup time" needs item f), not the plan's ten headings). A
# chosen lead-in brings every item, those it was not chosen for by their first sentence ("a) Scope
# and incident classification: …"). The link opens the whole clause.
LIST_CHARS = 700
# What refers back to a list before it. "以上" alone is also "or more" (30分钟以上): only with a noun.
_BACK_REFERENCE = re.compile(
    r"上述|前述|以上(?:措施|情形|情况|步骤|各项|要求|内容)|"
    r"\b(?:these|those|the foregoing|the said)\s+(?:measures|steps|actions|situations|cases|items)\b|"
    r"\bthe above\b|\babove-mentioned\b", re.IGNORECASE)
# A list of more items than this brings its first ones and the chosen ones (a bound for odd
# documents; the shipped guidance's longest list has 10).
LIST_ITEMS = 20


def with_lists(chosen: list[Unit], units: list[Unit], text: str) -> list[tuple[Unit, list[tuple[int, int]]]]:
    """The chosen units with the lists they touch made readable (see LIST_CHARS), in the clause's
    order, each with the spans it is said by."""
    blocks = {u.block for u in chosen if u.block != -1}
    said = {id(u) for u in chosen}
    # A sentence after a list that points back at it ("采取上述措施…仍无法恢复服务水平的…",
    # "If … after these measures …") brings that list, as its lead-in would: said alone, it
    # names measures the reader never sees.
    for unit in chosen:
        if unit.block == -1 and _BACK_REFERENCE.search(text[unit.start:unit.end]):
            before = [u for u in units if u.block != -1 and u.end <= unit.start]
            if before:
                blocks.add(before[-1].block)
                said.update(id(u) for u in units if u.block == before[-1].block and u.lead_in)
    picked = set(said)
    compact: set[int] = set()
    for block in blocks:
        members = [u for u in units if u.block == block]
        picked.update(id(u) for u in members if not u.item)  # the lead-in
        items = [u for u in members if u.item]
        if sum(u.end - u.start for u in members) > LIST_CHARS:
            if not any(u.lead_in and id(u) in said for u in members):
                continue  # the chosen items, under their lead-in
            compact.update(id(u) for u in items if id(u) not in said)
        picked.update(id(u) for u in items[:LIST_ITEMS])
    return [(u, _first_sentence(u.spans, text) if id(u) in compact else u.spans) for u in units if id(u) in picked]


def _first_sentence(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """An item's spans up to the end of its first full sentence (a span ending at "；" is half of one)."""
    for n, (start, end) in enumerate(spans):
        if ENDS_FULL_SENTENCE.search(text[start:end]) and not _ENDS_CLAUSE.search(text[start:end]):
            return spans[: n + 1]
    return spans
