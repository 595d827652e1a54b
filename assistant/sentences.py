"""Sentence boundaries inside clause text, as character spans (used for highlights)."""

from __future__ import annotations

import re

# A sentence ends at Chinese end punctuation, at . ! ? followed by space or end, or at a line break.
# Semicolons end a sentence too: standards pack one requirement per semicolon-separated part.
# The lookbehind starts a Latin run only at its first mark, so a long run of marks not followed
# by a space is tried once, not once per mark (quadratic; issue 15).
_BOUNDARY = re.compile(r"[。！？；]+[”’」』）)]*|(?<![.!?;])[.!?;]+[\"')\]]*(?=\s|$)|\n+")
_SCRIPTISH = re.compile(r"\w", re.UNICODE)
# "e.g." / "i.e." / "No." and decimals such as 99.9 are not boundaries.
_ABBREVIATIONS = re.compile(r"(?:\b(?:e\.g|i\.e|etc|No|Art|para|cf|vs)\.)$", re.IGNORECASE)


def sentence_spans(text: str) -> list[tuple[int, int]]:
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
    if end > start and _SCRIPTISH.search(text, start, end):
        spans.append((start, end))
