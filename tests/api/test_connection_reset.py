"""Row 6 of docs/reliability.md: clients whose connections are reset (RST, SO_LINGER 0) while
the server is busy, half-way through a request or while their question waits for the model,
must not hurt anyone else: every other request is answered 200, nothing is logged as a
server error, and the server keeps serving afterwards."""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.corpus import working_copy
from tests.support.live_server import assistant_env
from tests.support.servers import free_port

pytestmark = pytest.mark.system

HERE = Path(__file__).parent
CJK = "的一是不了人我在有他这为之大来以个中上们客户服务电话录音质量培训投诉"


@pytest.fixture
def busy_server(built, tmp_path):
    """The real app whose query model costs what e5-small costs here (costly_server.py), rate
    limit off so the load is all served."""
    settings = working_copy(built, tmp_path)
    port = free_port()
    env = assistant_env(settings.corpus_dir, settings.index_dir, rate_limit="0", auto_build="false")
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, str(HERE / "costly_server.py"), str(port)], cwd=tmp_path,
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        yield url, port, process, log_path
    finally:
        process.terminate()
        process.wait(15)


def _reset(sock: socket.socket) -> None:
    """Close with an RST instead of a FIN, as a crashed client or a middlebox does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _ask_request(question: str, *, declared_extra: int = 0) -> bytes:
    body = json.dumps({"question": question}, ensure_ascii=False).encode()
    head = (f"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body) + declared_extra}\r\n\r\n").encode()
    return head + body


def test_reset_connections_while_busy_do_not_disturb_other_clients(busy_server):
    url, port, process, log_path = busy_server
    rng_questions = ["".join(CJK[(i * 7 + j) % len(CJK)] for j in range(300)) + str(i) for i in range(10_000)]
    stop = threading.Event()
    load_statuses: list[int] = []

    def load(worker: int) -> None:  # keeps the model busy: long, distinct questions
        with httpx.Client(base_url=url, timeout=30) as client:
            n = worker
            while not stop.is_set():
                try:
                    load_statuses.append(client.post("/api/ask", json={"question": rng_questions[n]}).status_code)
                except httpx.TransportError:
                    load_statuses.append(-1)
                n += 4

    loaders = [threading.Thread(target=load, args=(i,), daemon=True) for i in range(4)]
    for thread in loaders:
        thread.start()
    time.sleep(1.0)

    other_statuses: list[int] = []

    def other() -> None:  # a well-behaved client on its own keep-alive connection
        with httpx.Client(base_url=url, timeout=30) as client:
            for i in range(15):
                other_statuses.append(client.post("/api/ask", json={"question": f"录音保存多久 {i}"}).status_code)
                other_statuses.append(client.get("/healthz").status_code)

    bystander = threading.Thread(target=other)
    bystander.start()

    kinds = {"waiting for the model": 0, "half a body": 0, "half a head": 0}
    for i in range(30):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if i % 3 == 0:  # a whole question, then gone while it waits in the model queue
            sock.sendall(_ask_request(rng_questions[-1 - i]))
            time.sleep(0.05 + (i % 5) * 0.05)
            kind = "waiting for the model"
        elif i % 3 == 1:  # gone in the middle of the body it announced
            request = _ask_request("录音保存多久", declared_extra=200)
            sock.sendall(request)
            time.sleep(0.02)
            kind = "half a body"
        else:  # gone in the middle of the request head
            sock.sendall(b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
            time.sleep(0.02)
            kind = "half a head"
        _reset(sock)
        kinds[kind] += 1
    bystander.join(120)
    stop.set()
    for thread in loaders:
        thread.join(40)

    assert not bystander.is_alive()
    assert other_statuses == [200] * 30, other_statuses
    assert load_statuses and set(load_statuses) == {200}, sorted(set(load_statuses))
    assert process.poll() is None
    with httpx.Client(base_url=url, timeout=10) as client:  # and it still serves afterwards
        assert client.get("/healthz").status_code == 200
        assert client.post("/api/ask", json={"question": "录音保存多久"}).status_code == 200
    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-3000:]
    assert all(count == 10 for count in kinds.values()), kinds
