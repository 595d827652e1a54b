from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from assistant.api.deps import index_state

router = APIRouter(tags=["health"])

# What the public may see. File names (of the corpus, of unreadable documents) and paths stay in
# the operator status, GET /api/index/status.
PUBLIC_FIELDS = ("ready", "version", "built_at", "embedder", "counts")


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 with the index version once the index is loaded; 503 while loading or after a failure."""
    status = request.app.state.assistant.status()
    public = {name: status[name] for name in PUBLIC_FIELDS if name in status}
    if status.get("load_errors"):
        public["documents_skipped"] = len(status["load_errors"])
    public["state"] = index_state(request.app)
    if request.app.state.load_error:
        public["error"] = "the index cannot be loaded; operators: GET /api/index/status says why"
    return JSONResponse(public, status_code=200 if status.get("ready") else 503)
