"""Protections every request passes through: security headers, body and URL size limits, and a
time limit on the question routes. ``install(app, settings)`` adds the limits (with the rate
limiter from ratelimit.py); create_app adds CORS and then SecurityHeadersMiddleware outside
them. Outermost first::

    HttpProtocol (protocol.py) -> SecurityHeaders -> CORS -> RateLimit (ask) -> RateLimit (search)
        -> BodyLimit -> Timeout -> routes

so that a 413, 429 or 503 made here still carries the security headers and the CORS headers.
All are plain ASGI middleware: nothing is buffered except the small /docs page.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
import time

from fastapi import FastAPI, HTTPException
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.api.ratelimit import (
    ASK_PATHS,
    LIMITED_PATHS,
    SEARCH_PATHS,
    RateLimitMiddleware,
    TokenBuckets,
)
from assistant.config import Settings

log = logging.getLogger("assistant.api")

# -- limits --------------------------------------------------------------------------------------
JSON_BODY_LIMIT = 64 * 1024  # every route but the upload: a question is at most a few KB
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around an uploaded file
# GET /api/search?q=...: uvicorn's HTTP parser refuses a request head over 16 KB anyway; a
# question at the character limit in Chinese (9 bytes a character once percent-encoded)
# belongs in POST /api/ask.
MAX_QUERY_STRING = 16 * 1024
REQUEST_TIMEOUT_S = 10.0  # /api/ask and /api/search; install() sets app.state.request_timeout_s
UPLOAD_PATH = "/api/documents"

# -- headers -------------------------------------------------------------------------------------
# The one place the security headers are decided; routes set none of them. The README's
# "Headers" table states the same values and tests/api/test_security.py reads them off real
# responses of every kind.
#
# The HTML pages (search page, viewer) load only their own script and stylesheet files; no
# inline script or style, no framing by other sites, nothing else at all.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# JSON answers are data, never a document to render.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# FastAPI's /docs page loads Swagger UI from the jsDelivr CDN and starts it with one inline
# script; that script is allowed by its hash (computed from the page as served), the CDN by
# name, and Swagger UI's inline styles with 'unsafe-inline' for styles only. ReDoc also uses
# Google Fonts. Where the CDN cannot be reached (no internet) these pages stay blank; the
# OpenAPI document itself is /openapi.json.
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' https://cdn.jsdelivr.net {hashes}; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)
# Every response.
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# HTML pages (and /docs, with its own CSP).
HTML_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# JSON, whatever route or middleware made it.
JSON_HEADERS = {"Content-Security-Policy": API_CSP}
# /widget.js: a public script that other sites embed, readable cross-origin (e.g. with
# <script crossorigin integrity=...>) and loadable by sites that isolate themselves
# (Cross-Origin-Embedder-Policy). It carries no CSP; the embedding page's applies.
WIDGET_PATH = "/widget.js"
WIDGET_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Cross-Origin-Resource-Policy": "cross-origin",
}


def docs_csp(html: bytes) -> str:
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return _DOCS_CSP.format(hashes=hashes).replace("  ", " ")


def headers_for(path: str, content_type: str) -> dict[str, str]:
    """The security headers a response of this path and content type gets."""
    headers = dict(COMMON_HEADERS)
    content_type = content_type.lower()
    if content_type.startswith("text/html"):
        headers.update(HTML_HEADERS)
    elif content_type.startswith("application/json"):
        headers.update(JSON_HEADERS)
    if path == WIDGET_PATH:
        headers.update(WIDGET_HEADERS)
    return headers


class SecurityHeadersMiddleware:
    """Sets the headers above on every response (overriding any a route might set, so that
    there is one source of truth)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path in DOCS_PATHS:
            await self._docs(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in headers_for(path, headers.get("content-type", "")).items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            headers = MutableHeaders(scope=start)
            content_type = headers.get("content-type", "")
            for name, value in headers_for(scope["path"], content_type).items():
                headers[name] = value
            if content_type.lower().startswith("text/html"):
                headers["Content-Security-Policy"] = docs_csp(body)
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffer)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a request body passes its limit. An HTTPException, so that
    FastAPI's body parsing lets it through and it becomes a 413 JSON answer."""

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=413, detail=detail)


async def _send_json(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """413 for a body over its limit, counted on the stream as it arrives (a client may send no
    Content-Length, or a false one); a declared Content-Length over the limit is refused before
    anything is read. The upload route's limit is ASSISTANT_MAX_UPLOAD_BYTES plus room for the
    multipart framing; every other route gets JSON_BODY_LIMIT. Also 414 for an over-long URL
    query string."""

    def __init__(self, app: ASGIApp, max_upload_bytes: int, default_limit: int = JSON_BODY_LIMIT,
                 max_query_string: int = MAX_QUERY_STRING) -> None:
        self.app = app
        self.max_upload_bytes = max_upload_bytes
        self.default_limit = default_limit
        self.max_query_string = max_query_string

    def limit_for(self, scope: Scope) -> tuple[int, str]:
        """The byte limit for this request and the message that explains it."""
        if scope["method"] == "POST" and scope["path"].rstrip("/") == UPLOAD_PATH:
            return self.max_upload_bytes + MULTIPART_OVERHEAD, (
                f"upload too large: a document may be at most {self.max_upload_bytes} bytes "
                "(ASSISTANT_MAX_UPLOAD_BYTES)"
            )
        return self.default_limit, f"request body too large: the limit is {self.default_limit} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.max_query_string:
            await _send_json(send, 414, f"URL query too long: the limit is {self.max_query_string} bytes")
            return
        limit, message = self.limit_for(scope)
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
        if declared is not None and declared > limit:
            await _send_json(send, 413, f"{message}; this request declares {declared} bytes", {"connection": "close"})
            return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            incoming = await receive()
            if incoming["type"] == "http.request":
                received += len(incoming.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(message)
            return incoming

        async def watch_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watch_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await _send_json(send, 413, exc.detail, {"connection": "close"})


class TimeoutMiddleware:
    """503 with Retry-After when a question takes longer than the time limit.

    The work runs in a worker thread, which cannot be stopped; the deadline is put in the
    request's state (``question_deadline``, time.monotonic()) so that the route hands it to the
    model queue, which drops a question still waiting at its deadline instead of running it
    after the 503. The client gets its answer at the limit instead of waiting."""

    def __init__(self, app: ASGIApp, paths: frozenset[str] = LIMITED_PATHS) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        app_state = getattr(scope.get("app"), "state", None)
        timeout = getattr(app_state, "request_timeout_s", REQUEST_TIMEOUT_S)
        scope.setdefault("state", {})["question_deadline"] = time.monotonic() + timeout
        started = False
        abandoned = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if abandoned:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        try:
            done, _ = await asyncio.wait({task}, timeout=timeout)
        except asyncio.CancelledError:  # the client went away
            task.cancel()
            task.add_done_callback(_consume)
            raise
        if task in done or started:
            await task  # finished (or already answering): its result or exception stands
            return
        abandoned = True
        task.cancel()
        task.add_done_callback(_consume)
        log.warning("%s %s took longer than %.1f s; answered 503", scope["method"], scope["path"], timeout)
        await _send_json(
            send, 503, f"the question took longer than {timeout:g} s to answer; try again shortly",
            {"retry-after": "5"},
        )


def _consume(task: asyncio.Future) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("abandoned request failed later: %r", task.exception())


def install(app: FastAPI, settings: Settings) -> None:
    """Add the protections to ``app``. Raises RateLimitSettingError (from Settings) for a bad
    ASSISTANT_RATE_LIMIT or ASSISTANT_SEARCH_RATE_LIMIT, so a misconfigured service stops at
    startup with the reason."""
    rate = settings.ask_rate
    search_rate = settings.search_rate
    app.state.request_timeout_s = settings.request_timeout
    app.state.rate_limit = rate
    app.state.search_rate_limit = search_rate
    # The routes charge a question's cost beyond its first unit to the same buckets.
    app.state.ask_buckets = TokenBuckets(rate) if rate is not None else None
    app.state.search_buckets = TokenBuckets(search_rate) if search_rate is not None else None
    # add_middleware puts each new one outside the previous ones.
    app.add_middleware(TimeoutMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_upload_bytes=settings.max_upload_bytes)
    app.add_middleware(RateLimitMiddleware, rate=search_rate, paths=SEARCH_PATHS, buckets=app.state.search_buckets)
    app.add_middleware(RateLimitMiddleware, rate=rate, paths=ASK_PATHS, buckets=app.state.ask_buckets)
