"""Per-client rate limiting for the question routes: /api/ask and, with its own higher limit
(the search page queries as staff type), /api/search.

A token bucket per client address and route group, in process: each client may send ``limit``
requests in a burst and then one more every ``period / limit`` seconds. A refused request gets
429 with ``Retry-After`` (whole seconds until the next token) and a JSON ``detail``.

A question costs what its tokens cost the model: the request takes one token as it arrives
(before its body is read), and once the question is known the route charges the rest,
``question_cost(tokens) - 1``, as debt that later requests wait out. Every real question
measured costs 1 (docs/reliability.md#fair-questions); the longest question accepted costs 4,
so a client's allowance of those is a quarter as many.

The client is ``scope["client"]`` (what Starlette calls ``request.client.host``): the TCP peer.
``X-Forwarded-For`` is not read here. ``assistant serve`` lets uvicorn replace the peer with the
forwarded address only for connections from the addresses given in ``--forwarded-allow-ips``
(default: none), the way to run behind a reverse proxy; otherwise a client could pick its own
key, and rotate it, with a header.

The state lives in one process: with several uvicorn workers each has its own buckets (the
effective limit is multiplied by the number of workers).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict

from starlette.types import ASGIApp, Receive, Scope, Send

# The rate grammar lives with the settings, so a bad value stops every command at start.
from assistant.config import Rate, RateLimitSettingError, parse_rate  # noqa: F401 (re-exported)

ASK_PATHS = frozenset({"/api/ask"})
TOKENS_PER_UNIT = 128  # model tokens one unit of the rate limit pays for
SEARCH_PATHS = frozenset({"/api/search"})
LIMITED_PATHS = ASK_PATHS | SEARCH_PATHS

class TokenBuckets:
    """One bucket per key; thread-safe; remembers at most ``max_clients`` keys (the least
    recently seen are forgotten first, which only ever lets a forgotten client start afresh)."""

    def __init__(self, rate: Rate, max_clients: int = 100_000, clock=time.monotonic) -> None:
        self.rate = rate
        self.capacity = float(rate.limit)
        self.refill_per_s = rate.limit / rate.period
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token. Returns 0.0 when allowed, else the seconds until a token is free."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.refill_per_s)
            if tokens >= 1.0:
                tokens -= 1.0
                wait = 0.0
            else:
                wait = (1.0 - tokens) / self.refill_per_s
            self._buckets[key] = (tokens, now)  # most recent last
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            return wait

    def charge(self, key: str, amount: float) -> None:
        """Take ``amount`` more tokens, going into debt if need be (at most one full bucket),
        which the client's next requests wait out."""
        if amount <= 0:
            return
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.refill_per_s)
            self._buckets[key] = (max(-self.capacity, tokens - amount), now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)


def question_cost(tokens: int) -> int:
    """Units of the rate limit a question of this many model tokens costs (at least 1)."""
    return max(1, math.ceil(tokens / TOKENS_PER_UNIT))


def client_key(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class RateLimitMiddleware:
    """ASGI middleware: 429 for clients over the limit on the question routes; OPTIONS (CORS
    preflight) and every other route pass untouched."""

    def __init__(self, app: ASGIApp, rate: Rate | None, paths: frozenset[str] = LIMITED_PATHS,
                 buckets: TokenBuckets | None = None) -> None:
        self.app = app
        self.rate = rate
        self.paths = paths
        self.buckets = buckets if buckets is not None else (TokenBuckets(rate) if rate is not None else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.buckets is None
            or scope["type"] != "http"
            or scope["method"] == "OPTIONS"
            or scope["path"] not in self.paths
        ):
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(client_key(scope))
        if wait <= 0.0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        body = json.dumps(
            {"detail": f"too many requests: the limit is {self.rate} per client; retry in {retry_after} s"}
        ).encode()
        await send({
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
                (b"cache-control", b"no-store"),
            ],
        })
        await send({"type": "http.response.body", "body": body})
