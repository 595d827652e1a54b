"""A real `assistant serve` in a subprocess on a free 127.0.0.1 port, for the tests that need
real sockets, real signals and a second process (fake embedder, so it starts in seconds)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assistant_env(corpus: Path, index: Path, **settings: str) -> dict[str, str]:
    """The environment for an `assistant` subprocess: no ASSISTANT_* from outside, the fake
    embedder, the given folders, and the repository on the import path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_CORPUS_DIR=str(corpus),
        ASSISTANT_INDEX_DIR=str(index),
        ASSISTANT_EMBEDDER="fake",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    env.update({f"ASSISTANT_{k.upper()}": v for k, v in settings.items()})
    return env


def assistant_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "assistant.cli", *args]


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0, want_status: int = 200) -> httpx.Response:
        deadline = time.monotonic() + timeout
        last: httpx.Response | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.output()}")
            try:
                last = httpx.get(self.url + "/healthz", timeout=2)
                if last.status_code == want_status and (want_status != 503 or "error" in last.json()):
                    return last
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not ready in {timeout} s (last {last and last.text}):\n{self.output()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def start_server(workdir: Path, corpus: Path, index: Path, **settings: str) -> Server:
    """Start `assistant serve` (cwd = workdir, so no developer .env applies)."""
    port = free_port()
    log = workdir / f"server-{port}.log"
    handle = open(log, "wb")
    process = subprocess.Popen(
        assistant_cmd("serve", "--port", str(port)),
        cwd=workdir,
        env=assistant_env(corpus, index, **settings),
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    handle.close()
    return Server(process, port, log)
