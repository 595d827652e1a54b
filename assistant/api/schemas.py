"""Request and response bodies of the HTTP API (they make the OpenAPI document)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class AskRequest(BaseModel):
    question: str = Field(..., description="The question, in Chinese or English.", examples=["第4.5条"])
    k: int | None = Field(None, ge=1, le=20, description="How many clauses to cite at most.")
    document: str | None = Field(None, max_length=200, description="Only cite clauses of this document id.")
    lang: Literal["zh", "en"] | None = Field(None, description="Only cite clauses in this language.")


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


class AnswerOut(BaseModel):
    question: str
    answer: str = Field(description="Extractive answer; [n] marks point at citations[n-1].")
    abstained: bool
    reason: str | None
    citations: list[CitationOut]
    took_ms: float
    index_version: str
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


class SearchHitOut(ClauseOut):
    score: float
    dense: float
    lexical: float
    matched_by: str
    rerank: float | None = None  # only when a reranker re-ordered the hit


class SearchOut(BaseModel):
    query: str
    hits: list[SearchHitOut]
    took_ms: float


class DocumentOut(BaseModel):
    id: str
    title: str
    source: str
    format: str
    lang: str
    pages: int | None
    clauses: int


class ErrorOut(BaseModel):
    detail: str
