"""A local `assistant serve` process, shared by the system tests and by scripts/bench.py and
scripts/loadtest.py: started on a free loopback port in its own process group, polled until
/healthz answers, read from /proc (memory, CPU), stopped with its whole group.

Scripts import it as `tests.support.servers` after putting the repository on sys.path.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from tests.support.paths import REPO


class ServerError(AssertionError):
    """The server exited, reported that it cannot load its index, or was not ready in time."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assistant_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "assistant.cli", *args]


# ------------------------------------------------------------------------------ /proc
def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM, ... (KiB) and Threads from /proc/PID/status; empty when the process is gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
            for line in handle:
                key, _, rest = line.partition(":")
                if key.startswith(("Vm", "Rss")) or key == "Threads":
                    parts = rest.split()
                    if parts and parts[0].isdigit():
                        out[key] = int(parts[0])
    except OSError:
        pass
    return out


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # fields after the name: state ppid pgrp ...
                pids.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return pids


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds used so far by these processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / ticks


# ------------------------------------------------------------------------------ server
_LIVE: list["Server"] = []


class Server:
    """`python -m assistant.cli [global_args] serve --host 127.0.0.1 --port P [serve_args]`.

    The environment is used as given (callers decide which ASSISTANT_* settings apply); the log
    goes to `log` when given (kept, for a failing test to show) or to a temporary file removed
    at stop. `command(port)` replaces the whole command line (another launcher of the same app,
    such as `uvicorn --factory assistant.api.app:create_app --port PORT`).
    """

    def __init__(self, *, env: dict[str, str], cwd: Path = REPO, global_args: Sequence[str] = (),
                 serve_args: Sequence[str] = (), log: Path | None = None,
                 command: Callable[[int], list[str]] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = command(self.port) if command else assistant_cmd(
            *global_args, "serve", "--host", "127.0.0.1", "--port", str(self.port), *serve_args)
        self.env = env
        self.cwd = cwd
        self._keep_log = log is not None
        self.log = log or Path(tempfile.mkstemp(prefix="assistant-server-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.ready_s: float | None = None

    def start(self) -> "Server":
        self.started_at = time.perf_counter()
        with open(self.log, "wb") as handle:
            self.process = subprocess.Popen(
                self.command, cwd=self.cwd, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        _LIVE.append(self)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def pids(self) -> list[int]:
        """The server and any workers it started (its process group)."""
        return group_pids(self.pid) or [self.pid]

    def output(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 25) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_ready(self, timeout: float = 60.0, want_status: int = 200, interval: float = 0.05,
                   fail_on_error: bool = False) -> httpx.Response:
        """Polls /healthz until it answers want_status (a 503 only counts when it names an error);
        the seconds since start are kept in ready_s. fail_on_error: give up as soon as /healthz
        says the index cannot load (for callers that never expect a rebuild to fix it)."""
        deadline = time.perf_counter() + timeout
        last = "no answer yet"
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while time.perf_counter() < deadline:
                if self.process.poll() is not None:
                    raise ServerError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
                try:
                    response = client.get(self.url + "/healthz")
                    body = response.json() if response.headers.get("content-type", "").startswith(
                        "application/json") else {}
                    if response.status_code == want_status and (want_status != 503 or "error" in body):
                        self.ready_s = time.perf_counter() - self.started_at
                        return response
                    if fail_on_error and body.get("error"):
                        raise ServerError(f"server cannot load the index: {body['error']}")
                    last = f"healthz {response.status_code}: {response.text[:200]}"
                except httpx.TransportError as exc:
                    last = type(exc).__name__
                time.sleep(interval)
        raise ServerError(f"server not ready after {timeout:.0f} s ({last}):\n{self.log_tail()}")

    def memory_kib(self) -> dict:
        """VmRSS / VmHWM of the main process, and summed over its process group."""
        main = proc_status(self.pid)
        group = [proc_status(pid) for pid in self.pids()]
        return {
            "rss_kib": main.get("VmRSS"),
            "hwm_kib": main.get("VmHWM"),
            "group_processes": len(group),
            "group_rss_kib": sum(g.get("VmRSS", 0) for g in group),
            "group_hwm_kib": sum(g.get("VmHWM", 0) for g in group),
        }

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pids())

    def kill(self) -> None:
        """SIGKILL to the server alone (what a crash looks like to its workers)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM to the whole group, SIGKILL if it lingers; no worker outlives the server."""
        if self.process is None:
            return
        if self.process.poll() is None:
            for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # a worker of a leader already gone
        except (ProcessLookupError, PermissionError):
            pass
        if not self._keep_log:
            try:
                self.log.unlink()
            except OSError:
                pass
        if self in _LIVE:
            _LIVE.remove(self)

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def stop_all_servers() -> None:
    for server in list(_LIVE):
        server.stop()
