"""HTTP details every route shares: HEAD answered wherever GET is, and redirects that never
echo the client's Host header.

- HEAD: load balancers and uptime checks probe with HEAD. FastAPI routes declare GET only, so
  HEAD was 405; here a HEAD runs as the GET it stands for and the body is dropped (headers,
  including Content-Length, are the GET's, as RFC 9110 asks).
- Redirects: Starlette's trailing-slash redirect builds an absolute Location from the request's
  Host header, so a forged Host came back in Location. A Location pointing at the request's own
  host is sent as a path (browsers resolve it against the URL they asked for).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HttpProtocolMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        host = _header(scope, b"host")

        async def send_adjusted(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                headers = MutableHeaders(scope=message)
                location = headers.get("location")
                if location:
                    headers["location"] = _relative(location, host)
            elif message["type"] == "http.response.body" and head:
                if message.get("more_body", False):
                    return  # a HEAD sends no body: swallow the GET's chunks
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(scope, receive, send_adjusted)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _relative(location: str, host: str) -> str:
    parts = urlsplit(location)
    if not parts.netloc or parts.netloc.lower() != host.lower():
        return location  # already relative, or deliberately elsewhere
    path = parts.path or "/"
    if path.startswith("//"):
        path = "/" + path.lstrip("/")  # never a scheme-relative URL to another host
    return path + (f"?{parts.query}" if parts.query else "")
