"""Passage splitting: long clauses cut at sentence boundaries into Passages that cite the clause."""

from __future__ import annotations

from ..records import Clause, Passage
from ..text import sentence_spans

# --------------------------------------------------------------------------- passages


def _hard_cut(text: str, s: int, e: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence into pieces <= max_chars, preferring commas and spaces."""
    pieces = []
    while e - s > max_chars:
        cut = s + max_chars
        window = text[s + max_chars // 2 : cut]
        best = max(window.rfind(ch) for ch in "，,、 ")
        if best >= 0:
            cut = s + max_chars // 2 + best + 1
        piece_end = cut
        while piece_end > s and text[piece_end - 1].isspace():
            piece_end -= 1
        pieces.append((s, piece_end))
        s = cut
        while s < e and text[s].isspace():
            s += 1
    if e > s:
        pieces.append((s, e))
    return pieces


def split_passages(clause: Clause, max_chars: int = 600, overlap_sentences: int = 0) -> list[Passage]:
    """One Passage for a short clause; sentence-aligned pieces of <= max_chars for a long one."""
    text = clause.text
    if len(text) <= max_chars:
        return [Passage(id=clause.id, clause_id=clause.id, text=text, start=0)]
    units: list[tuple[int, int]] = []
    for s, e in sentence_spans(text):
        if e - s > max_chars:
            units.extend(_hard_cut(text, s, e, max_chars))
        else:
            units.append((s, e))
    pieces: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        start = units[i][0]
        j = i
        while j + 1 < len(units) and units[j + 1][1] - start <= max_chars:
            j += 1
        pieces.append((start, units[j][1]))
        nxt = j + 1
        if overlap_sentences > 0 and nxt < len(units):
            back = max(i + 1, nxt - overlap_sentences)
            # only overlap if the overlapped sentences plus the next one still fit
            while back < nxt and units[nxt][1] - units[back][0] > max_chars:
                back += 1
            nxt = back
        i = nxt
    return [
        Passage(id=f"{clause.id}#{n}", clause_id=clause.id, text=text[s:e], start=s)
        for n, (s, e) in enumerate(pieces, start=1)
    ]
