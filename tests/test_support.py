"""The shared helpers of tests/support that need no process: percentiles and the command line."""

from __future__ import annotations

import sys

import pytest

from tests.support.load import median, pct
from tests.support.servers import REPO, Server


def test_percentiles_interpolate_and_say_none_for_nothing():
    assert pct([], 50) is None
    assert pct([10.0], 99) == 10.0
    assert pct([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert pct(list(range(101)), 95) == pytest.approx(95.0)
    assert median([None, 3.0, 1.0]) == 2.0
    assert median([None]) is None


def test_the_server_command_is_the_cli_on_loopback_unless_replaced(tmp_path):
    server = Server(env={}, global_args=["--embedder", "fake"], serve_args=["--workers", "1"])
    assert server.command[:3] == [sys.executable, "-m", "assistant.cli"]
    assert server.command[3:] == ["--embedder", "fake", "serve", "--host", "127.0.0.1", "--port", str(server.port),
                                  "--workers", "1"]
    assert server.url == f"http://127.0.0.1:{server.port}" and server.cwd == REPO
    other = Server(env={}, command=lambda port: ["uvicorn", "--port", str(port)], log=tmp_path / "log")
    assert other.command == ["uvicorn", "--port", str(other.port)]
    server.stop(), other.stop()  # never started: nothing to stop, no error
