"""Operator routes: upload and delete documents, reindex, see the index and its jobs.

They need ``Authorization: Bearer <ASSISTANT_OPERATOR_KEY>``, compared in constant time. With no
key configured they answer 404, as if they did not exist. A client that keeps sending wrong keys
gets 429 after AUTH_FAILURES_PER_MINUTE tries a minute.
"""

from __future__ import annotations

import hmac
import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.api.deps import index_state
from assistant.api.ratelimit import Rate, TokenBuckets
from assistant.api.schemas import DocumentOut, ErrorOut
from assistant.config import Settings
from assistant.follower import IndexFollower
from assistant.jobs import DocumentManager
from assistant import refusals
from assistant.refusals import ManagementError
from assistant.service import Assistant

AUTH_FAILURES_PER_MINUTE = 10
_bearer = HTTPBearer(auto_error=False, description="ASSISTANT_OPERATOR_KEY", scheme_name="operator key")
_failures_lock = threading.Lock()


def install(app: FastAPI, settings: Settings, assistant: Assistant) -> None:
    """Add the operator routes and the app's DocumentManager (which also removes uploads that a
    previous process staged but never queued)."""

    def swapped(version: str) -> None:
        app.state.load_error = None  # a start-up failure (a damaged index, say) is now repaired

    def failed(job) -> None:
        if not assistant.ready:  # nothing served: the public is told "unavailable", operators why
            app.state.load_error = f"{job.action} build failed: {job.error}"

    app.state.document_manager = DocumentManager(assistant, settings, on_swap=swapped, on_fail=failed)
    app.state.index_follower = IndexFollower(assistant, settings.index_dir, interval_s=settings.follow_interval)
    app.include_router(router)
    app.add_middleware(FollowIndexMiddleware, follower=app.state.index_follower)


class FollowIndexMiddleware:
    """Lets each request check (at most once per ASSISTANT_FOLLOW_INTERVAL) whether another
    process switched the index, e.g. the worker that ran an upload job when `assistant serve --workers N` runs."""

    def __init__(self, app: ASGIApp, follower: IndexFollower) -> None:
        self.app = app
        self.follower = follower

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.follower.poke()
        await self.app(scope, receive, send)


def get_manager(request: Request) -> DocumentManager:
    return request.app.state.document_manager


def _failures(request: Request) -> TokenBuckets:
    state = request.app.state
    with _failures_lock:
        buckets = getattr(state, "operator_auth_failures", None)
        if buckets is None:
            buckets = state.operator_auth_failures = TokenBuckets(Rate(AUTH_FAILURES_PER_MINUTE, 60.0))
        return buckets


def require_operator(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    key = request.app.state.settings.operator_key
    if not key:
        raise HTTPException(status_code=404, detail="Not Found")
    supplied = credentials.credentials if credentials is not None else ""
    if hmac.compare_digest(supplied.encode("utf-8"), key.encode("utf-8")):
        return
    client = request.client.host if request.client else "unknown"
    wait = _failures(request).take(client)
    if wait > 0:
        raise HTTPException(
            status_code=429,
            detail="too many wrong operator keys from this address; wait before trying again",
            headers={"Retry-After": str(max(1, int(wait + 0.999)))},
        )
    raise HTTPException(
        status_code=401,
        detail="operator key required: send Authorization: Bearer <ASSISTANT_OPERATOR_KEY>"
        if credentials is None
        else "wrong operator key",
        headers={"WWW-Authenticate": 'Bearer realm="operator"'
                 + ("" if credentials is None else ', error="invalid_token"')},
    )


Operator = Depends(require_operator)
ManagerDep = Annotated[DocumentManager, Depends(get_manager)]

router = APIRouter(
    prefix="/api",
    tags=["operators"],
    dependencies=[Operator],
    responses={
        401: {"model": ErrorOut, "description": "Missing or wrong operator key"},
        404: {"model": ErrorOut, "description": "Unknown, or operator routes off (no ASSISTANT_OPERATOR_KEY)"},
        429: {"model": ErrorOut, "description": "Too many wrong keys"},
    },
)


class JobOut(BaseModel):
    id: str
    action: Literal["upload", "delete", "reindex", "startup"]
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    document: str | None
    file: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    version_before: str | None = Field(description="Index version served when the job started.")
    version_after: str | None = Field(description="Index version served when it ended (unchanged on failure).")
    error: str | None
    skipped: list[str] = Field(description="Other corpus files the build could not read.")
    note: str | None = Field(None, description="What a running job waits for (another process's build); why "
                             "a start-up build runs.")


class UploadedDocumentOut(DocumentOut):
    source: str = Field(description="The file name it is stored under in the corpus folder.")
    passages: int


class UploadAccepted(BaseModel):
    job: JobOut
    document: UploadedDocumentOut


class JobAccepted(BaseModel):
    job: JobOut


class QuarantinedOut(BaseModel):
    file: str
    sha256: str
    reason: str
    at: str


class IndexStatusOut(BaseModel):
    ready: bool
    version: str | None = None
    built_at: str | None = None
    embedder: str | None = None
    counts: dict[str, int] | None = None
    load_errors: list[str] = Field(default_factory=list, description="Corpus files the live index could not read.")
    error: str | None = Field(None, description="Why the index could not be loaded at startup.")
    corpus: list[str] = Field(description="Files in the corpus folder.")
    state: Literal["loading", "building", "ready", "unavailable"] = Field(
        description="What the public sees: loading at start, building (a start-up build with nothing to "
        "serve meanwhile), ready, or unavailable (no usable index and none being built).")
    busy: bool = Field(description="A job is queued or running.")
    jobs: list[JobOut] = Field(description="Recent jobs, newest first.")
    quarantine: list[QuarantinedOut] = Field(
        description="Corpus files that stalled or crashed a build: skipped until the file is replaced.")


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary",
                                            "description": "PDF, DOCX, Markdown, text or HTML"}},
                }
            }
        },
    }
}


# The one place where a refusal becomes an HTTP status.
STATUS_FOR = {
    refusals.InvalidRequest: 422,
    refusals.UnsupportedFileType: 415,
    refusals.UploadTooLarge: 413,
    refusals.UnreadableDocument: 422,
    refusals.StorageFailed: 507,
    refusals.Conflict: 409,
    refusals.NotFound: 404,
}


def status_for(exc: ManagementError) -> int:
    return next((status for kind, status in STATUS_FOR.items() if isinstance(exc, kind)), 400)


def _fail(exc: ManagementError) -> HTTPException:
    return HTTPException(status_code=status_for(exc), detail=exc.message)


@router.post(
    "/documents",
    status_code=202,
    response_model=UploadAccepted,
    openapi_extra=_UPLOAD_BODY,
    responses={
        400: {"model": ErrorOut, "description": "Malformed multipart body"},
        409: {"model": ErrorOut, "description": "A document with this id exists (use ?replace=true)"},
        413: {"model": ErrorOut, "description": "Over ASSISTANT_MAX_UPLOAD_BYTES"},
        415: {"model": ErrorOut, "description": "Not multipart, or an unsupported file type"},
        422: {"model": ErrorOut, "description": "The file cannot be read (the reason says why)"},
        507: {"model": ErrorOut, "description": "The corpus folder cannot be written"},
    },
)
async def upload_document(
    request: Request,
    manager: ManagerDep,
    replace: Annotated[bool, Query(description="Replace the document with the same id.")] = False,
) -> JSONResponse:
    """Add a document (multipart field `file`). It is checked at once (a file that cannot be read
    gets 422 with the reason); then a background job adds it to the corpus and rebuilds the index.
    The current index keeps answering until the new one is built and verified. Poll
    `GET /api/index/status` for the job."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise HTTPException(status_code=415, detail="send the document as multipart/form-data, field 'file'")
    form = await request.form(max_files=1, max_fields=5)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(status_code=422, detail="send the document as multipart/form-data, field 'file'")
        try:
            staged = await run_in_threadpool(manager.stage_upload, upload.file, upload.filename)
            job = await run_in_threadpool(manager.submit_upload, staged, replace=replace)
        except ManagementError as exc:
            raise _fail(exc) from exc
    finally:
        await form.close()
    return JSONResponse(
        {"job": job.to_dict(), "document": staged.document},
        status_code=202,
        headers={"Location": "/api/index/status", "Cache-Control": "no-store"},
    )


@router.delete(
    "/documents/{document_id}",
    status_code=202,
    response_model=JobAccepted,
    responses={409: {"model": ErrorOut, "description": "The last document, or a job already changes it"}},
)
async def delete_document(
    document_id: Annotated[str, Path(max_length=200, description="A document id, e.g. `ccso-en`.")],
    manager: ManagerDep,
) -> JSONResponse:
    """Remove a document: a background job takes its file out of the corpus and rebuilds the
    index; on failure the file is put back. The last document cannot be deleted."""
    try:
        job = await run_in_threadpool(manager.submit_delete, document_id)
    except ManagementError as exc:
        raise _fail(exc) from exc
    return JSONResponse({"job": job.to_dict()}, status_code=202,
                        headers={"Location": "/api/index/status", "Cache-Control": "no-store"})


@router.post("/reindex", status_code=202, response_model=JobAccepted)
async def reindex(manager: ManagerDep) -> JSONResponse:
    """Rebuild the index from the corpus folder in the background (after files were changed by
    hand, say). Requests are queued and run one at a time; a request made while another reindex
    is still waiting gets that job."""
    job = manager.submit_reindex()
    return JSONResponse({"job": job.to_dict()}, status_code=202,
                        headers={"Location": "/api/index/status", "Cache-Control": "no-store"})


@router.get("/index/status", response_model=IndexStatusOut)
async def index_status(request: Request, manager: ManagerDep) -> JSONResponse:
    """The live index (version, counts, files it could not read) and recent jobs."""
    status = {"load_errors": [], **request.app.state.assistant.status()}
    status["error"] = request.app.state.load_error
    status["corpus"] = [path.name for path in manager.corpus_files()]
    status["state"] = index_state(request.app)
    status["busy"] = manager.busy()
    status["jobs"] = manager.jobs()
    status["quarantine"] = manager.quarantined()
    return JSONResponse(status, headers={"Cache-Control": "no-store"})


@router.post(
    "/jobs/{job_id}/cancel",
    response_model=JobAccepted,
    responses={404: {"model": ErrorOut, "description": "No such job"},
               409: {"model": ErrorOut, "description": "The job has already finished"}},
)
async def cancel_job(
    job_id: Annotated[str, Path(max_length=40, description="A job id from the status.")], manager: ManagerDep
) -> JSONResponse:
    """Cancel a queued job (it never runs) or a running one: its build stops at the next
    document or batch of texts, its corpus change is undone and the live index stays as it was.
    The job then reads `cancelled` in the status."""
    try:
        job = manager.cancel(job_id)
    except ManagementError as exc:
        raise _fail(exc) from exc
    return JSONResponse({"job": job.to_dict()}, headers={"Cache-Control": "no-store"})
