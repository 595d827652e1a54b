"""Admission of a question to the model: what it costs its client, and who and until when it
waits (the QueryTicket the model queue schedules by). The routes call ``run_question``; the
queue itself (bounds, round-robin, dropping late work) is embedding.QueryBatcher."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from assistant.api.ratelimit import TokenBuckets, client_key, question_cost
from assistant.embedding import CURRENT_TICKET, ModelBusy, QueryTicket, QueryTimedOut, count_tokens

T = TypeVar("T")


def charge(request: Request, buckets: TokenBuckets | None, embedder: object, question: str) -> None:
    """Charge the question's cost beyond the unit the rate limiter already took."""
    if buckets is None:
        return
    # Past the longest question accepted the route answers 400 anyway; never tokenize more.
    extra = question_cost(count_tokens(embedder, question[:4096])) - 1
    buckets.charge(client_key(request.scope), extra)


def ticket(request: Request) -> QueryTicket:
    deadline = getattr(request.state, "question_deadline", None)
    # With rate limiting off (a benchmark, a private deployment) no client is capped either.
    capped = getattr(request.app.state, "rate_limit", None) is not None
    return QueryTicket(client=client_key(request.scope), deadline=deadline, capped=capped)


async def run_question(request: Request, work: Callable[..., T], *args) -> T:
    """Run ``work`` on a worker thread under this request's ticket; a shed or late question
    becomes 429 / 503 with Retry-After."""
    token = CURRENT_TICKET.set(ticket(request))
    try:
        return await run_in_threadpool(work, *args)
    except ModelBusy as exc:
        status = 429 if exc.per_client else 503
        raise HTTPException(status_code=status, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}) from exc
    except QueryTimedOut as exc:
        raise HTTPException(
            status_code=503, detail="the question took too long to reach the model; try again shortly",
            headers={"Retry-After": "5"},
        ) from exc
    finally:
        CURRENT_TICKET.reset(token)
