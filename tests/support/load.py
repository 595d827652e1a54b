"""Concurrent requests to a local server and the statistics over them, shared by
scripts/bench.py, scripts/loadtest.py and the tests that drive a live server."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import numpy as np


def pct(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (linear interpolation); None for no values."""
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def median(values: Sequence[float | None]) -> float | None:
    values = [v for v in values if v is not None]
    return float(statistics.median(values)) if values else None


@dataclass
class Outcome:
    """One request: its HTTP status (None when the connection failed), the client-side latency,
    the transport error, the JSON body of a 200, and the Retry-After of a 429."""

    kind: str
    status: int | None
    latency_ms: float
    error: str | None = None
    body: dict | None = None
    retry_after: str | None = None


async def send_all(base_url: str, requests: Sequence[tuple[str, str]], concurrency: int, *,
                   timeout: float = 60.0, max_seconds: float | None = None) -> tuple[list[Outcome | None], float]:
    """Sends (kind, question) requests -- "ask" is POST /api/ask, "search" GET /api/search?k=5 --
    with `concurrency` in flight, in order; stops starting new ones after max_seconds.
    Returns the outcomes by position (None: never sent) and the wall seconds."""
    outcomes: list[Outcome | None] = [None] * len(requests)
    cursor = 0
    stop_at = time.monotonic() + max_seconds if max_seconds is not None else None
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=httpx.Timeout(timeout, connect=10.0),
                                 trust_env=False) as client:

        async def worker() -> None:
            nonlocal cursor
            while cursor < len(requests) and (stop_at is None or time.monotonic() < stop_at):
                i = cursor
                cursor += 1
                kind, question = requests[i]
                mark = time.perf_counter()
                try:
                    if kind == "ask":
                        response = await client.post("/api/ask", json={"question": question})
                    else:
                        response = await client.get("/api/search", params={"q": question, "k": 5})
                except httpx.TimeoutException as exc:
                    outcomes[i] = Outcome(kind, None, _ms(mark), f"timeout ({type(exc).__name__})")
                    continue
                except httpx.TransportError as exc:  # refused, reset, closed mid-response
                    outcomes[i] = Outcome(kind, None, _ms(mark), f"connection ({type(exc).__name__}: {str(exc)[:60]})")
                    continue
                latency = _ms(mark)
                body = response.json() if response.status_code == 200 else None
                outcomes[i] = Outcome(kind, response.status_code, latency, body=body,
                                      retry_after=response.headers.get("Retry-After"))

        mark = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return outcomes, time.perf_counter() - mark


def run_load(base_url: str, requests: Sequence[tuple[str, str]], concurrency: int, **options):
    """send_all() from synchronous code."""
    return asyncio.run(send_all(base_url, requests, concurrency, **options))


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0
