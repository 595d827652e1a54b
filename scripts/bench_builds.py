"""What a rebuild costs the questions served meanwhile: /api/ask and /healthz latency on a real
server (the configured embedder, e5-small by default) while POST /api/reindex rebuilds the
corpus, against the same server idle. Documents are read in the build worker process; the
embedding runs in the server's model thread (assistant/build_worker.py).

    python scripts/bench_builds.py --corpus corpus --index /tmp/bb/index [--port 8811] [--json]

Figures go to docs/reliability.md (section "Builds").
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx

QUESTIONS_ZH = ["客户信息保密有哪些要求", "座席培训的内容", "投诉升级的条件", "录音保存多久", "排班的要求",
                "应急预案包括什么", "质检的频率", "服务水平目标", "工单超时怎么办", "知识库的更新"]
QUESTIONS_EN = ["How long are recordings kept", "What must the training plan cover", "When is a complaint escalated",
                "What is the service level target", "How often is quality monitored", "What does the emergency plan include",
                "Who may access customer data", "How are passwords managed", "What is schedule adherence",
                "How are work orders escalated"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": round(percentile(values, 0.5) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1), "max_ms": round(max(values) * 1000, 1)}


def ask_loop(client: httpx.Client, seconds: float | None, until=None, salt: str = "") -> tuple[list[float], list[float], int]:
    asks, health, errors = [], [], 0
    questions = QUESTIONS_ZH + QUESTIONS_EN
    i = 0
    started = time.monotonic()
    while True:
        if seconds is not None and time.monotonic() - started > seconds:
            break
        if until is not None and until():
            break
        # distinct questions (the answer cache would hide the model's work)
        question = f"{questions[i % len(questions)]} {salt}{i}"
        t = time.perf_counter()
        response = client.post("/api/ask", json={"question": question})
        asks.append(time.perf_counter() - t)
        errors += response.status_code != 200
        t = time.perf_counter()
        errors += client.get("/healthz").status_code != 200
        health.append(time.perf_counter() - t)
        i += 1
    return asks, health, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--port", type=int, default=8811)
    parser.add_argument("--idle-seconds", type=float, default=15.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    key = secrets.token_urlsafe(24)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_CORPUS_DIR=str(args.corpus.resolve()), ASSISTANT_INDEX_DIR=str(args.index.resolve()),
               ASSISTANT_RATE_LIMIT="0", ASSISTANT_OPERATOR_KEY=key)
    if "ASSISTANT_EMBEDDER" in os.environ:
        env["ASSISTANT_EMBEDDER"] = os.environ["ASSISTANT_EMBEDDER"]
    repo = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    server = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(args.port)],
                              env=env, cwd=args.index.resolve().parent, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    auth = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=30) as client:
            deadline = time.monotonic() + 600
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not become ready")
                time.sleep(0.5)
            ask_loop(client, 3.0, salt="warm")  # warm-up
            idle = ask_loop(client, args.idle_seconds, salt="idle")
            job_id = client.post("/api/reindex", headers=auth).json()["job"]["id"]
            built_at = time.monotonic()

            def done() -> bool:
                jobs = client.get("/api/index/status", headers=auth).json()["jobs"]
                return next(j for j in jobs if j["id"] == job_id)["state"] not in ("queued", "running")

            during = ask_loop(client, None, until=done, salt="build")
            build_s = time.monotonic() - built_at
            job = next(j for j in client.get("/api/index/status", headers=auth).json()["jobs"] if j["id"] == job_id)
    finally:
        server.terminate()
        server.wait(30)
    result = {
        "build": {"state": job["state"], "seconds": round(build_s, 1)},
        "idle": {"ask": summary(idle[0]), "healthz": summary(idle[1]), "errors": idle[2]},
        "during_build": {"ask": summary(during[0]), "healthz": summary(during[1]), "errors": during[2]},
    }
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
