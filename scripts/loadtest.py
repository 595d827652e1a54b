"""A bounded burst of questions at a local server: does it keep answering, how fast, at what
memory cost?

    assistant serve --port 8000 &                      # e.g. with ASSISTANT_RATE_LIMIT=0
    .venv/bin/python scripts/loadtest.py --url http://127.0.0.1:8000 \\
        --requests 5000 --concurrency 32 --pid $(pgrep -f "assistant serve" | head -1)

Sends --requests POST /api/ask (or GET /api/search, or a mix) with --concurrency requests in
flight, questions drawn from a mixed Chinese/English pool (--distinct of them; a small pool
exercises the answer cache, a large one the model). Reports status counts, latency percentiles,
throughput, transport errors (refused, reset or dropped connections, timeouts), the index
version before and after, and the server's memory (VmRSS/VmHWM from /proc/PID/status) before and
after when --pid is given.

Safety: it only talks to loopback addresses (127.0.0.0/8, ::1; a name must resolve to loopback
only), at most 100,000 requests and 256 connections, and stops sending after --max-seconds.
Exits 1 when a response was 5xx or a connection failed, 0 otherwise (429s are not failures:
they are the rate limiter working).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import socket
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.load import pct, run_load  # noqa: E402
from tests.support.servers import proc_status  # noqa: E402

MAX_REQUESTS = 100_000
MAX_CONCURRENCY = 256

TOPICS_ZH = ["数据安全", "客户隐私保护", "员工培训", "绩效考核", "投诉处理", "服务水平", "排班管理", "质量监控",
             "知识库管理", "外包管理", "应急预案", "录音管理", "客户满意度", "高层领导支持", "战略计划"]
TOPICS_EN = ["data security", "customer privacy", "staff training", "performance appraisal", "complaint handling",
             "service level", "workforce scheduling", "quality monitoring", "knowledge base", "outsourcing",
             "emergency plans", "call recording", "customer satisfaction", "executive sponsorship", "strategic plan"]
TEMPLATES_ZH = ["{t}有什么要求？", "关于{t}，指导要求怎么规定的？", "呼叫中心应如何做好{t}", "{t}的评估方法是什么",
                "第{n}条怎么规定的？", "第{n}条", "{t}和第{n}条有什么关系"]
TEMPLATES_EN = ["What does the guidance say about {t}?", "How should a call center handle {t}?",
                "Requirements for {t}", "what does {n} say", "clause {n}", "Is there a rule on {t} in clause {n}?",
                "{t} obligations for call centers"]
CLAUSES = ["4.1", "4.2", "4.3", "4.3.1", "4.5", "5.1", "5.2", "5.3", "5.3.1", "6.1", "6.4", "7.2", "8.1", "9.3",
           "10.2", "11.1", "12.1"]
OFF_TOPIC = ["How do I bake sourdough bread?", "明天北京天气怎么样？", "Who won the 1998 World Cup?",
             "塑料瓶可以回收吗？", "What is the surrender fee of an insurance policy?"]


def question_pool(distinct: int, seed: int) -> list[str]:
    """``distinct`` different questions, about half Chinese and half English, some off-topic."""
    rng = random.Random(seed)
    pool: list[str] = []
    seen: set[str] = set()
    attempts = 0
    while len(pool) < distinct and attempts < distinct * 50:
        attempts += 1
        roll = rng.random()
        if roll < 0.05:
            text = rng.choice(OFF_TOPIC)
        elif roll < 0.52:
            text = rng.choice(TEMPLATES_ZH).format(t=rng.choice(TOPICS_ZH), n=rng.choice(CLAUSES))
        else:
            text = rng.choice(TEMPLATES_EN).format(t=rng.choice(TOPICS_EN), n=rng.choice(CLAUSES))
        if text in seen:  # vary repeats so that the pool reaches its size
            text = f"{text} ({len(pool)})"
        seen.add(text)
        pool.append(text)
    return pool


def loopback_only(url: str) -> str:
    """The URL if every address its host resolves to is a loopback address; else SystemExit."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SystemExit(f"loadtest: not an http(s) URL: {url}")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise SystemExit(f"loadtest: cannot resolve {parts.hostname}: {exc}") from exc
    addresses = {info[4][0] for info in infos}
    outside = sorted(a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_loopback)
    if outside or not addresses:
        raise SystemExit(f"loadtest: refusing {parts.hostname} ({', '.join(sorted(addresses))}): "
                         "this tool only sends load to the local machine (loopback addresses)")
    return url.rstrip("/")


def memory(pid: int | None) -> dict | None:
    if pid is None:
        return None
    values = proc_status(pid)
    if "VmRSS" not in values:
        return {"error": f"no process {pid} (or no access to /proc/{pid}/status)"}
    return {"rss_mib": round(values["VmRSS"] / 1024, 1), "peak_rss_mib": round(values["VmHWM"] / 1024, 1),
            "threads": values.get("Threads")}


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    ok_latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    abstained: int = 0
    versions: Counter = field(default_factory=Counter)
    retry_after: Counter = field(default_factory=Counter)
    sent: int = 0


def percentile(values: list[float], p: float) -> float | None:
    value = pct(values, p)
    return None if value is None else round(value, 1)


def run(args: argparse.Namespace, base: str, pool: list[str]) -> tuple[Results, float]:
    rng = random.Random(args.seed + 1)
    order = [rng.randrange(len(pool)) for _ in range(args.requests)]
    kinds = ["ask", "search"] if args.path == "mixed" else [args.path]
    requests = [(kinds[i % len(kinds)], pool[n]) for i, n in enumerate(order)]
    outcomes, seconds = run_load(base, requests, args.concurrency, timeout=args.timeout, max_seconds=args.max_seconds)
    results = Results()
    for outcome in outcomes:
        if outcome is None:  # not sent: --max-seconds ran out
            continue
        results.sent += 1
        if outcome.status is None:
            results.errors[outcome.error] += 1
            continue
        results.latencies_ms.append(outcome.latency_ms)
        results.statuses[outcome.status] += 1
        if outcome.status == 200:
            results.ok_latencies_ms.append(outcome.latency_ms)
            if outcome.kind == "ask":
                results.abstained += bool(outcome.body.get("abstained"))
                results.versions[outcome.body.get("index_version")] += 1
        elif outcome.status == 429:
            results.retry_after[outcome.retry_after] += 1
    return results, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server (loopback only)")
    parser.add_argument("--requests", type=int, default=5000, help=f"how many requests (at most {MAX_REQUESTS})")
    parser.add_argument("--concurrency", type=int, default=32, help=f"requests in flight (at most {MAX_CONCURRENCY})")
    parser.add_argument("--path", choices=["ask", "search", "mixed"], default="ask")
    parser.add_argument("--distinct", type=int, default=5000, help="different questions in the pool")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=60.0, help="per-request timeout, seconds")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="stop sending after this long")
    parser.add_argument("--pid", type=int, help="server process id, for its memory before and after")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= MAX_REQUESTS or not 1 <= args.concurrency <= MAX_CONCURRENCY:
        parser.error(f"--requests must be 1..{MAX_REQUESTS} and --concurrency 1..{MAX_CONCURRENCY}")
    base = loopback_only(args.url)

    try:
        health_before = httpx.get(base + "/healthz", timeout=10).json()
    except httpx.HTTPError as exc:
        raise SystemExit(f"loadtest: no server at {base}: {exc}") from exc
    if not health_before.get("ready"):
        raise SystemExit(f"loadtest: the server is not ready: {health_before}")
    pool = question_pool(max(1, args.distinct), args.seed)
    memory_before = memory(args.pid)
    results, seconds = run(args, base, pool)
    memory_after = memory(args.pid)
    health_after = httpx.get(base + "/healthz", timeout=10).json()

    server_errors = sum(n for code, n in results.statuses.items() if code >= 500)
    report = {
        "url": base, "path": args.path, "requests": args.requests, "sent": results.sent,
        "concurrency": args.concurrency, "distinct_questions": len(pool),
        "seconds": round(seconds, 1), "throughput_rps": round(results.sent / seconds, 1) if seconds else None,
        "statuses": {str(k): v for k, v in sorted(results.statuses.items())},
        "server_errors_5xx": server_errors,
        "transport_errors": dict(results.errors), "dropped_or_failed_connections": sum(results.errors.values()),
        "latency_ms": {"p50": percentile(results.latencies_ms, 50), "p90": percentile(results.latencies_ms, 90),
                       "p99": percentile(results.latencies_ms, 99),
                       "max": round(max(results.latencies_ms), 1) if results.latencies_ms else None,
                       "mean": round(statistics.fmean(results.latencies_ms), 1) if results.latencies_ms else None},
        "latency_200_ms": {"p50": percentile(results.ok_latencies_ms, 50),
                           "p99": percentile(results.ok_latencies_ms, 99)},
        "abstained": results.abstained,
        "retry_after_seen": {str(k): v for k, v in results.retry_after.items()},
        "index_version": {"before": health_before.get("version"), "after": health_after.get("version"),
                          "answers": {str(k): v for k, v in results.versions.items()}},
        "server_memory": {"before": memory_before, "after": memory_after} if args.pid else None,
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        lat = report["latency_ms"]
        print(f"{results.sent} requests to {base} ({args.path}) at concurrency {args.concurrency}, "
              f"{len(pool)} distinct questions, in {report['seconds']} s = {report['throughput_rps']} req/s")
        print(f"status: {report['statuses']}   5xx: {server_errors}   "
              f"connection errors: {report['dropped_or_failed_connections']} {report['transport_errors'] or ''}")
        print(f"latency ms: p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}  max {lat['max']}  mean {lat['mean']}")
        if results.retry_after:
            print(f"429 Retry-After values: {report['retry_after_seen']}")
        print(f"abstained: {results.abstained}   index version before {health_before.get('version')} "
              f"after {health_after.get('version')}")
        if args.pid:
            print(f"server memory: before {memory_before}  after {memory_after}")
    return 1 if server_errors or results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
