"""Request and response bodies of the HTTP API (they make the OpenAPI document)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class AskRequest(BaseModel):
    question: str = Field(..., description="The question, in Chinese or English.", examples=["第4.5条"])
    k: int | None = Field(None, ge=1, le=20, description="How many clauses to cite at most.")
    document: str | None = Field(None, max_length=200, description="Only cite clauses of this document id.")
    lang: Literal["zh", "en"] | None = Field(
        None,
        description="Cite clauses in this language: clauses are ranked across every edition, then each is "
        "cited in this language's edition.",
    )
    include_background: bool = Field(
        False,
        description="Cite background documents (reports, news) alongside the guidance; otherwise they are "
        "cited only when no guidance clause answers.",
    )


class EditionOut(BaseModel):
    id: str
    lang: str
    link: str


class ChildOut(BaseModel):
    id: str
    clause: str
    title: str
    link: str


class SuggestionOut(BaseModel):
    id: str
    document: str
    clause: str
    title: str
    lang: str
    link: str


class CitationOut(BaseModel):
    id: str
    document: str
    clause: str
    title: str
    path: list[str]
    page_start: int | None
    page_end: int | None
    lang: str
    text: str
    highlights: list[tuple[int, int]] = Field(description="[start, end) character spans inside text.")
    score: float
    kind: Literal["guidance", "background"] = Field(description="The kind of the clause's document.")
    link: str = Field(description="The viewer URL of the clause; ?hl= carries the highlighted spans.")
    also_in: list[EditionOut] = Field(description="The same clause number in the other edition(s).")
    children: list[ChildOut] = Field(description="A section's direct children; [] for other clauses.")
    page_label: str | None = Field(description="Printed page label range, e.g. \"6\", \"6–7\", \"iii\".")
    truncated: bool = Field(description="text was cut at a bound; the link opens the whole clause.")


class AnswerOut(BaseModel):
    question: str
    answer: str = Field(description="Extractive answer; [n] marks point at citations[n-1].")
    abstained: bool
    reason: str | None
    citations: list[CitationOut]
    took_ms: float
    index_version: str
    suggestions: list[SuggestionOut] = Field(
        description="Only when abstained: the closest clauses, as places to look (not answers)."
    )
    contact: str | None = Field(description="The configured contact line, on refusals only.")
    message: str | None = Field(
        None, description="Only when abstained: `reason` in the question's language (Chinese or English), "
        "without the contact line, to show to the person who asked."
    )
    timings_ms: dict[str, float] = Field(default_factory=dict, description="Milliseconds per stage of this call.")
    confidence: float = Field(
        description="Fitted probability in [0, 1] that the guidance covers the question (1 for a named clause)."
    )
    uncertain: bool = Field(description="Answered, but close to the abstention threshold: may not be covered.")


class ClauseOut(BaseModel):
    id: str
    document: str
    number: str
    title: str
    path: list[str]
    text: str
    page_start: int | None
    page_end: int | None
    lang: str
    children: list[str] = Field([], description="A synthesised section's direct children (clause ids).")


class SearchHitOut(ClauseOut):
    score: float
    dense: float
    lexical: float
    matched_by: str
    rerank: float | None = None  # only when a reranker re-ordered the hit
    highlights: list[tuple[int, int]] = Field(description="[start, end) spans in text, as /api/ask marks them.")
    weak: bool = Field(description="Below the relevance floor: shown, but not a match an answer would cite.")
    relevance: Literal["high", "medium", "low"]
    truncated: bool = Field(description="text was cut at a bound; the link opens the whole clause.")
    kind: Literal["guidance", "background"]
    link: str
    page_label: str | None
    also_in: list[EditionOut]
    child_links: list[ChildOut] = Field([], description="A section's direct children, as links.")


class MissingClauseOut(BaseModel):
    number: str = Field(description="The asked number as the clause numbers are written (\"20\" for 二十).")
    unit: Literal["clause", "chapter", "section", "article", "paragraph", "rule"] = Field(
        description="How the query named it: \"第二十章\" and \"Chapter 20\" ask for a chapter.")
    document: str | None = Field(description="The guidance document it is not in.")
    reason: str = Field(description="As /api/ask's refusal says it: \"no clause 99.9 in ccso-en; nearest: …\".")
    message: str = Field(description="`reason` in the query's language.")
    nearest: list[SuggestionOut] = Field(description="The clauses whose numbers look most like it.")


class SearchOut(BaseModel):
    query: str
    hits: list[SearchHitOut]
    missing: MissingClauseOut | None = Field(
        None, description="Only for a query that just names a clause the guidance lacks (\"clause 99.9\"): "
        "the hits below are weak matches, not that clause.")
    took_ms: float


class DocumentOut(BaseModel):
    id: str
    title: str
    source: str
    format: str
    lang: str
    pages: int | None
    clauses: int
    kind: Literal["guidance", "background"] = Field(description="guidance (default) or background (corpus/documents.toml).")


class ErrorOut(BaseModel):
    detail: str
