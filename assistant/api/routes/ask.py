from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from assistant.api import admission
from assistant.api.deps import AssistantDep
from assistant.api.records_json import RecordJSONResponse
from assistant.api.schemas import AnswerOut, AskRequest, ErrorOut, SearchOut
from assistant.service import QuestionError

router = APIRouter(prefix="/api", tags=["questions"])

_ERRORS = {400: {"model": ErrorOut}, 404: {"model": ErrorOut, "description": "No such document"},
           422: {"description": "Malformed request"}, 429: {"model": ErrorOut}, 503: {"model": ErrorOut}}


@router.post("/ask", response_model=AnswerOut, responses=_ERRORS)
async def ask(body: AskRequest, assistant: AssistantDep, request: Request) -> JSONResponse:
    """Answer a question with the clauses of the guidance that answer it, or abstain."""
    admission.charge(request, request.app.state.ask_buckets, assistant.embedder, body.question)
    if (problem := assistant.unknown_document(body.document)) is not None:
        raise HTTPException(status_code=404, detail=problem)
    try:
        # The model call blocks; run it off the event loop so other requests keep moving.
        answer = await admission.run_question(
            request, assistant.ask, body.question, body.k, body.document, body.lang, body.include_background
        )
    except QuestionError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    # The Answer is built by our own code: serialise it directly instead of validating it again.
    return RecordJSONResponse(answer)


@router.get("/search", response_model=SearchOut, responses=_ERRORS)
async def search(
    assistant: AssistantDep,
    request: Request,
    q: Annotated[str, Query(description="Search words or a question.")],
    k: Annotated[int, Query(ge=1, le=50)] = 10,
    document: Annotated[str | None, Query(max_length=200)] = None,
    lang: Annotated[Literal["zh", "en"] | None, Query()] = None,
) -> dict:
    """Clauses ranked by relevance, with their scores and highlights; no abstention, but hits
    below the relevance floor are marked `weak`, and a query that only names a clause the
    guidance lacks carries `missing` (what /api/ask refuses it with)."""
    started = time.perf_counter()
    admission.charge(request, request.app.state.search_buckets, assistant.embedder, q)
    if (problem := assistant.unknown_document(document)) is not None:
        raise HTTPException(status_code=404, detail=problem)
    try:
        results = await admission.run_question(request, assistant.search_results, q, k, document, lang)
    except QuestionError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return {"query": q, "hits": results.hits, "missing": results.missing,
            "took_ms": round((time.perf_counter() - started) * 1000, 2)}
