"""The static front doors: the embeddable widget script and the internal search page. Both carry
no inline script or style, so they run under the strict Content-Security-Policy that
security.py sends with every HTML page. The viewer page lives with the other document routes
(routes/documents.py)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"

# Security headers (CSP, framing, nosniff; the widget's cross-origin ones) are set for every
# response in one place, assistant/api/security.py; the routes here set none.

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def widget_source() -> bytes:
    """citation.js (the span and page-label helpers the search page shares) and widget.js inside
    one function: one <script> tag loads both, and the embedding page gets no second global."""
    shared = (STATIC_DIR / "citation.js").read_text(encoding="utf-8")
    widget = (STATIC_DIR / "widget.js").read_text(encoding="utf-8")
    return f"(function () {{\n{shared}\n{widget}\n}})();\n".encode("utf-8")


@router.api_route("/widget.js", methods=["GET", "HEAD"])
async def widget_js() -> Response:
    """The chat widget; sites embed it with one <script> tag."""
    return Response(
        widget_source(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.api_route("/search", methods=["GET", "HEAD"])
async def search_page() -> FileResponse:
    """The internal search page; its script reads and writes the query string."""
    return FileResponse(STATIC_DIR / "search.html", media_type="text/html; charset=utf-8")


@router.api_route("/", methods=["GET", "HEAD"])
async def root() -> RedirectResponse:
    """The server's bare address (where README's quick start leads) opens the search page rather
    than a JSON 404."""
    return RedirectResponse("/search", status_code=307)
