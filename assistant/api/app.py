from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.cors import CORSMiddleware

from assistant import __version__
from assistant.api import security
from assistant.api.protocol import HttpProtocolMiddleware
from assistant.api.routes import admin
from assistant.api.routes import ask, documents, health, pages
from assistant.config import Settings, load_settings
from assistant.service import Assistant

log = logging.getLogger("assistant.api")


def create_app(settings: Settings | None = None, assistant: Assistant | None = None) -> FastAPI:
    """Build the application. The index is loaded (or built) in the background at startup,
    so /healthz answers at once and reports 503 until the index is ready."""
    settings = settings or load_settings()  # SettingsError (one line) for a value that makes no sense
    assistant = assistant or Assistant(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if not assistant.ready:
            threading.Thread(target=_open_index, args=(app,), name="index-loader", daemon=True).start()
        yield

    app = FastAPI(
        title="Guidance assistant",
        version=__version__,
        description="Answers questions with the clauses of the guidance that answer them, citing "
        "clause number, title path, document and page, with the answering sentences highlighted.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.assistant = assistant
    app.state.load_error = None

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'] if p != 'body') or 'body'}: {error['msg']}"
            for error in exc.errors()
        )
        return JSONResponse({"detail": f"invalid request: {problems}"}, status_code=422)

    app.include_router(ask.router)
    app.include_router(documents.router)
    admin.install(app, settings, assistant)  # operator routes + the document manager
    app.include_router(health.router)
    # Security headers, body/URL limits, rate limit, time limit (see security.py); added before
    # CORS so that CORS stays the outermost middleware.
    security.install(app, settings)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    # Browsers on other origins (the sites that embed widget.js) may call the API only when
    # their origin is listed. Outside the limits, so that responses made by other middleware
    # (a 429 from a rate limiter, say) carry the CORS headers too and the widget can read them;
    # Retry-After is exposed for that reason.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        expose_headers=["Retry-After"],
        max_age=600,
    )
    # Outside CORS, so that every response carries the security headers, CORS preflights too.
    app.add_middleware(security.SecurityHeadersMiddleware)
    # HEAD wherever GET is, and no Host echo in redirects.
    app.add_middleware(HttpProtocolMiddleware)
    return app


def _open_index(app: FastAPI) -> None:
    """Load the index; a missing, stale or damaged one is rebuilt by a start-up job (visible in
    /api/index/status) when ASSISTANT_AUTO_BUILD allows. Meanwhile a stale index is served
    unless files it contains were removed (Assistant.load_existing); otherwise the public routes
    answer 503 with the state "building"."""
    assistant: Assistant = app.state.assistant
    settings: Settings = app.state.settings
    try:
        assistant.warm_up()
        plan = assistant.load_existing(serve_stale=settings.auto_build)
        if plan is None:
            log.info("index %s: loaded", assistant.status().get("version"))
            return
        if not settings.auto_build:
            raise plan.error
        if plan.damaged:
            app.state.load_error = str(plan.error)
        job = app.state.document_manager.submit_startup(plan.reason)
        log.info("start-up build (job %s): %s%s", job.id, plan.reason,
                 "; serving the previous version meanwhile" if plan.serving_stale else "")
    except Exception as exc:  # surfaced on /healthz; the process keeps running to say why
        app.state.load_error = str(exc)
        log.error("cannot load the index: %s", exc)
