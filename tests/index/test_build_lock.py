"""One build at a time on an index folder, whoever builds: `assistant ingest` next to a server
that is reindexing (and the reverse) waits for the lock instead of deleting the other build's
scratch folder, both finish, and the served index is never damaged.

To make the overlap certain rather than a matter of timing, the first builder is frozen with
SIGSTOP once its scratch folder exists (it holds the lock and is mid-build), the second is
started, and the first is resumed with SIGCONT once the second is seen waiting.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from assistant.index import build_lock, holds_build_lock, load_index
from tests.support.corpus import OPERATOR_KEY, build_fake_index, working_copy
from tests.support.live_server import assistant_cmd, assistant_env, start_server

AUTH = {"Authorization": f"Bearer {OPERATOR_KEY}"}


def _write_corpus(folder: Path, documents: int = 2, chapters: int = 20, clauses: int = 10) -> None:
    folder.mkdir(parents=True)
    for doc in range(documents):
        lines = [f"# Lock handbook {doc}\n"]
        for ch in range(1, chapters + 1):
            lines.append(f"## {ch} Chapter {ch}\n")
            for cl in range(1, clauses + 1):
                lines.append(f"### {ch}.{cl} Rule {ch}.{cl}\n\nQueue rule {ch}.{cl} of handbook {doc} applies "
                             f"to shift {cl}. Supervisors check item {doc}-{ch}-{cl} daily.\n")
        (folder / f"lock-{doc}.md").write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture(scope="module")
def built_big(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lockbig")
    _write_corpus(root / "corpus")
    return build_fake_index(root)


def _current(index_dir: Path) -> str:
    return (index_dir / "CURRENT").read_text().strip()


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _scratch(index_dir: Path) -> list[Path]:
    return list(index_dir.glob(".build-*"))


def _job(server, job_id: str) -> dict:
    jobs = httpx.get(server.url + "/api/index/status", headers=AUTH, timeout=10).json()["jobs"]
    return next(j for j in jobs if j["id"] == job_id)


@pytest.mark.system
def test_ingest_waits_for_a_server_reindex(built_big, tmp_path):
    work = working_copy(built_big, tmp_path)
    old = _current(work.index_dir)
    server = start_server(tmp_path, work.corpus_dir, work.index_dir, operator_key=OPERATOR_KEY, rate_limit="0")
    ingest = None
    try:
        assert server.wait_ready().json()["version"] == old
        job_id = httpx.post(server.url + "/api/reindex", headers=AUTH, timeout=10).json()["job"]["id"]
        _wait_for(lambda: _scratch(work.index_dir), 60, "the server's scratch folder")
        os.kill(server.process.pid, signal.SIGSTOP)  # mid-build, holding the lock
        try:
            ingest = subprocess.Popen(
                assistant_cmd("ingest", "--quiet"), cwd=tmp_path,
                env=assistant_env(work.corpus_dir, work.index_dir),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            err: list[str] = []
            reader = threading.Thread(target=lambda: err.append(ingest.stderr.readline()), daemon=True)
            reader.start()
            reader.join(60)
            assert err and "another build is running" in err[0] and "waiting" in err[0], err
            assert ingest.poll() is None  # it waits
            assert len(_scratch(work.index_dir)) == 1  # the server's build is untouched
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        out, rest = ingest.communicate(timeout=120)
        assert ingest.returncode == 0, rest
        _wait_for(lambda: _job(server, job_id)["state"] in ("succeeded", "failed"), 60, "the server's job")
        job = _job(server, job_id)
        assert job["state"] == "succeeded", job
        # the ingest ran after the server's build: its version is the one CURRENT names
        final = _current(work.index_dir)
        assert final not in (old, job["version_after"]) and final in out
        assert load_index(work.index_dir).version == final
        _wait_for(lambda: httpx.get(server.url + "/healthz", timeout=10).json().get("version") == final, 20,
                  "the server to follow the ingest's version")
        answer = httpx.post(server.url + "/api/ask", json={"question": "rule 3.4 of handbook 1"}, timeout=10)
        assert answer.status_code == 200 and answer.json()["index_version"] == final
    finally:
        if ingest is not None and ingest.poll() is None:
            ingest.kill()
        server.stop()
    assert _scratch(work.index_dir) == []


@pytest.mark.system
def test_a_server_reindex_waits_for_ingest(built_big, tmp_path):
    work = working_copy(built_big, tmp_path)
    old = _current(work.index_dir)
    server = start_server(tmp_path, work.corpus_dir, work.index_dir, operator_key=OPERATOR_KEY, rate_limit="0")
    ingest = None
    try:
        assert server.wait_ready().json()["version"] == old
        ingest = subprocess.Popen(
            assistant_cmd("ingest", "--quiet"), cwd=tmp_path, env=assistant_env(work.corpus_dir, work.index_dir),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        _wait_for(lambda: _scratch(work.index_dir) or ingest.poll() is not None, 60, "the ingest's scratch folder")
        os.kill(ingest.pid, signal.SIGSTOP)
        try:
            assert ingest.poll() is None, "ingest finished before it could be paused"
            job_id = httpx.post(server.url + "/api/reindex", headers=AUTH, timeout=10).json()["job"]["id"]
            _wait_for(lambda: _job(server, job_id)["state"] != "queued", 20, "the job to start")
            time.sleep(1.0)
            job = _job(server, job_id)
            assert job["state"] == "running" and "waiting for the build lock" in (job["note"] or ""), job
            assert len(_scratch(work.index_dir)) == 1  # the ingest's build is untouched
            assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200  # still serving
        finally:
            os.kill(ingest.pid, signal.SIGCONT)
        out, err = ingest.communicate(timeout=120)
        assert ingest.returncode == 0, err
        _wait_for(lambda: _job(server, job_id)["state"] in ("succeeded", "failed"), 60, "the server's job")
        job = _job(server, job_id)
        assert job["state"] == "succeeded", job
        assert _current(work.index_dir) == job["version_after"] != old
        assert load_index(work.index_dir).version == job["version_after"]
    finally:
        if ingest is not None and ingest.poll() is None:
            ingest.kill()
        server.stop()
    assert _scratch(work.index_dir) == []


def test_a_job_waiting_for_the_build_lock_says_so_and_can_be_cancelled(operator_settings):
    from fastapi.testclient import TestClient

    from assistant.api import create_app
    from assistant.embedding import FakeEmbedder
    from assistant.service import Assistant

    assistant = Assistant(operator_settings, embedder=FakeEmbedder())
    assistant.open()
    with TestClient(create_app(operator_settings, assistant)) as client:
        before = client.get("/healthz").json()["version"]
        with build_lock(operator_settings.index_dir):  # another builder (this thread) holds it
            job_id = client.post("/api/reindex", headers=AUTH).json()["job"]["id"]

            def job() -> dict:
                return next(j for j in client.get("/api/index/status", headers=AUTH).json()["jobs"] if j["id"] == job_id)

            _wait_for(lambda: "waiting for the build lock" in (job()["note"] or ""), 10, "the job to wait")
            assert job()["state"] == "running" and "another build is running" in job()["note"]
            assert client.post(f"/api/jobs/{job_id}/cancel", headers=AUTH).status_code == 200
            _wait_for(lambda: job()["state"] == "cancelled", 5, "the job to be cancelled")
        assert client.get("/healthz").json()["version"] == before
        assert client.app.state.document_manager.wait_idle(10)


def test_build_lock_is_reentrant_per_thread_and_exclusive_across_threads(tmp_path):
    order: list[str] = []
    with build_lock(tmp_path):
        assert holds_build_lock(tmp_path)
        with build_lock(tmp_path):  # the same thread may take it again (a job, then its build)
            assert holds_build_lock(tmp_path)
        messages: list[str] = []

        def other() -> None:
            with build_lock(tmp_path, on_wait=messages.append):
                order.append("other")

        thread = threading.Thread(target=other)
        thread.start()
        deadline = time.monotonic() + 10  # until the other thread reports that it waits
        while not messages and time.monotonic() < deadline:
            time.sleep(0.005)
        order.append("first")
        assert thread.is_alive() and messages and "waiting" in messages[0]
    thread.join(10)
    assert order == ["first", "other"]
    assert not holds_build_lock(tmp_path)


def test_open_that_waited_for_another_builder_loads_its_index_instead_of_building_it_again(tmp_path):
    from assistant.config import Settings
    from assistant.embedding import FakeEmbedder
    from assistant.service import Assistant

    _write_corpus(tmp_path / "corpus", documents=1, chapters=3, clauses=3)
    settings = Settings(_env_file=None, corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", embedder="fake")
    waiting: list[str] = []
    holding = threading.Event()

    def other_builder() -> None:  # a server's job, say: holds the lock, then builds this corpus
        with build_lock(settings.index_dir):
            holding.set()
            _wait_for(lambda: waiting, 10, "open() to wait for the lock")
            Assistant(settings, embedder=FakeEmbedder()).rebuild()

    thread = threading.Thread(target=other_builder)
    thread.start()
    holding.wait(10)
    outcome = Assistant(settings, embedder=FakeEmbedder()).open(build_if_needed=True, on_wait=waiting.append)
    thread.join(10)
    assert "another build is running" in waiting[0]
    assert outcome == "loaded (built meanwhile by another builder)"
    assert len(list(settings.index_dir.glob("v-*"))) == 1  # one build, not two of the same corpus
