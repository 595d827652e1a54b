"""Read-only routes the guidance viewer and the search page use: a document's clauses in order,
and the chapters of every document (for the search page's chapter filter)."""

from __future__ import annotations

import re
from dataclasses import asdict

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from assistant.api.deps import AssistantDep
from assistant.api.schemas import ClauseOut, DocumentOut, ErrorOut
from assistant.records import Clause

router = APIRouter(prefix="/api", tags=["documents"])

_CHAPTER = re.compile(r"^(\d+)(?:\s+(.*))?$")


class DocumentClausesOut(BaseModel):
    document: DocumentOut
    clauses: list[ClauseOut] = Field(description="Every clause of the document, in document order.")


class ChapterOut(BaseModel):
    document: str
    lang: str
    number: str = Field(description="The chapter number, the first number of its clauses (e.g. `4`).")
    title: str
    clauses: int


def chapter_of(clause: Clause) -> str | None:
    """The chapter a clause belongs to: the first number of its clause number ("4" for "4.5")."""
    head = clause.number.split(".", 1)[0]
    return head if head.isdigit() else None


def chapter_title(clause: Clause, chapter: str) -> str:
    if clause.path:
        match = _CHAPTER.match(clause.path[0].strip())
        if match and match.group(1) == chapter:
            return (match.group(2) or "").strip()
    return ""


def find_document(assistant, document_id: str) -> dict | None:
    return next((doc for doc in assistant.documents() if doc["id"] == document_id), None)


@router.get(
    "/documents/{document_id}/clauses",
    response_model=DocumentClausesOut,
    responses={404: {"model": ErrorOut}, 503: {"model": ErrorOut}},
)
async def document_clauses(document_id: str, assistant: AssistantDep) -> dict:
    """A document and all its clauses in document order (what the viewer shows)."""
    document = find_document(assistant, document_id)
    if document is None:
        raise HTTPException(status_code=404, detail=f"no document {document_id!r}")
    return {"document": document, "clauses": [asdict(c) for c in assistant.document_clauses(document_id)]}


@router.get("/chapters", response_model=list[ChapterOut], responses={503: {"model": ErrorOut}})
async def chapters(assistant: AssistantDep) -> list[dict]:
    """The numbered chapters of every document, in document order (for filtering by chapter)."""
    out: list[dict] = []
    for document in assistant.documents():
        seen: dict[str, dict] = {}
        for clause in assistant.document_clauses(document["id"]):
            chapter = chapter_of(clause)
            if chapter is None:
                continue
            entry = seen.get(chapter)
            if entry is None:
                entry = seen[chapter] = {
                    "document": document["id"],
                    "lang": document["lang"],
                    "number": chapter,
                    "title": chapter_title(clause, chapter),
                    "clauses": 0,
                }
                out.append(entry)
            entry["clauses"] += 1
    return out
