from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, HTTPException

from assistant.api.deps import AssistantDep
from assistant.api.schemas import ClauseOut, DocumentOut, ErrorOut

router = APIRouter(prefix="/api", tags=["documents"])


@router.get("/documents", response_model=list[DocumentOut])
async def list_documents(assistant: AssistantDep) -> list[dict]:
    """The indexed documents."""
    return assistant.documents()


@router.get("/clauses/{clause_id}", response_model=ClauseOut, responses={404: {"model": ErrorOut}})
async def get_clause(clause_id: str, assistant: AssistantDep) -> dict:
    """One clause by id, e.g. `ccso-zh:4.5`."""
    clause = assistant.clause(clause_id)
    if clause is None:
        raise HTTPException(status_code=404, detail=f"no clause {clause_id!r}")
    return asdict(clause)
