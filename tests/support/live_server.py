"""A real `assistant serve` in a subprocess on a free 127.0.0.1 port, for the tests that need
real sockets, real signals and a second process (fake embedder, so it starts in seconds)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tests.support.servers import REPO, Server, assistant_cmd

__all__ = ["Server", "assistant_cmd", "assistant_env", "start_server"]


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


def start_server(workdir: Path, corpus: Path, index: Path, **settings: str) -> Server:
    """Start `assistant serve` (cwd = workdir, so no developer .env applies); the log is kept
    in workdir for the failure message."""
    return Server(env=assistant_env(corpus, index, **settings), cwd=workdir,
                  log=Path(tempfile.mkstemp(prefix="server-", suffix=".log", dir=workdir)[1])).start()
