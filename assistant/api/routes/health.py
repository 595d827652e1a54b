from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from assistant.api.deps import index_state

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 with the index version once the index is loaded; 503 while loading or after a failure."""
    status = request.app.state.assistant.status()
    status["state"] = index_state(request.app)
    if request.app.state.load_error:
        status["error"] = request.app.state.load_error
    return JSONResponse(status, status_code=200 if status.get("ready") else 503)
