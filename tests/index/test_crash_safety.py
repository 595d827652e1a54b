"""Crash safety: a build killed with SIGKILL half-way, a build whose writes fail, a server killed
during a reindex, and a damaged index on disk. In every case the previous index stays the one
that loads (and is served after a restart), or the damage is reported clearly at start.

The builds here are real `assistant ingest` / `assistant serve` processes (fake embedder) over a
generated corpus large enough (900 clauses, 3,600 texts to embed) that a build takes a second
or more, so the kill lands in the middle of it.
"""

from __future__ import annotations

import errno
import os
import re
import resource
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant import cli
from assistant import index as index_module
from assistant.api import create_app
from assistant.config import Settings
from assistant.embedding import FakeEmbedder
from assistant.index import CURRENT_POINTER, IndexCorrupt, load_index
from assistant.service import Assistant
from tests.support.corpus import OPERATOR_KEY, build_fake_index, working_copy
from tests.support.live_server import assistant_cmd, assistant_env, start_server

pytestmark = pytest.mark.system

KEY = OPERATOR_KEY
WORDS = ("staff customer service quality record training shift queue callback complaint escalation "
         "privacy report audit schedule").split()


def write_big_corpus(folder: Path, documents: int = 3, chapters: int = 30, clauses: int = 10) -> None:
    folder.mkdir(parents=True)
    for doc in range(documents):
        lines = [f"# Generated handbook {doc}\n"]
        for ch in range(1, chapters + 1):
            lines.append(f"## {ch} Chapter {ch} of handbook {doc}\n")
            for cl in range(1, clauses + 1):
                text = " ".join(WORDS[(ch * cl + i) % len(WORDS)] for i in range(12))
                lines.append(
                    f"### {ch}.{cl} Rule {ch}.{cl}\n\nThe {text} must be kept for clause {ch}.{cl} in handbook "
                    f"{doc}. Teams review the {text} weekly. Managers sign off item {doc}-{ch}-{cl}.\n"
                )
        (folder / f"handbook-{doc}.md").write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """The generated corpus and its index (version V), built once."""
    root = tmp_path_factory.mktemp("big")
    write_big_corpus(root / "corpus")
    return build_fake_index(root)


@pytest.fixture
def work(big: Path, tmp_path: Path) -> Settings:
    return working_copy(big, tmp_path)


def current(settings: Settings) -> str:
    return (settings.index_dir / CURRENT_POINTER).read_text().strip()


def scratch_dirs(settings: Settings) -> list[Path]:
    return sorted(settings.index_dir.glob(".build-*"))


def assert_old_index_serves(settings: Settings, version: str, tmp_path: Path, server: bool = True) -> None:
    """After a restart: the index loads with every checksum verified, it is the old version, and
    a fresh server (no rebuild allowed) serves it."""
    assert current(settings) == version
    assert load_index(settings.index_dir).version == version
    assistant = Assistant(settings.model_copy(update={"auto_build": False}), embedder=FakeEmbedder())
    assert assistant.open(build_if_needed=False) == "loaded"
    assert assistant.ask("clause 12.3 in handbook 1").index_version == version
    if not server:
        return
    server = start_server(tmp_path, settings.corpus_dir, settings.index_dir, auto_build="false", rate_limit="0")
    try:
        assert server.wait_ready().json()["version"] == version
        answer = httpx.post(server.url + "/api/ask", json={"question": "clause 12.3 in handbook 1"}, timeout=10)
        assert answer.status_code == 200 and answer.json()["index_version"] == version
    finally:
        server.stop()


# -- SIGKILL -----------------------------------------------------------------------------------------

def test_sigkill_half_way_through_ingest_leaves_the_previous_index(work, tmp_path):
    """`assistant ingest` (progress bars on stderr) is killed with SIGKILL once it reports that it
    is embedding sentences: the passages are embedded, the scratch folder exists, nothing of the
    new version is switched to. The previous version is what loads afterwards, and the next build
    clears the scratch folder away."""
    old = current(work)
    process = subprocess.Popen(
        assistant_cmd("ingest"), cwd=tmp_path, env=assistant_env(work.corpus_dir, work.index_dir),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    seen = bytearray()
    killed_at = threading.Event()

    def watch() -> None:
        while chunk := process.stderr.read1(4096):
            seen.extend(chunk)
            if b"embedding sentences" in seen and not killed_at.is_set():
                process.send_signal(signal.SIGKILL)
                killed_at.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert process.wait(timeout=120) == -signal.SIGKILL, seen.decode(errors="replace")
    finally:
        if process.poll() is None:
            process.kill()
        watcher.join(10)
    assert killed_at.is_set() and b"embedding passages" in seen
    leftovers = scratch_dirs(work)
    assert len(leftovers) == 1 and not (leftovers[0] / "manifest.json").exists()  # killed mid-build
    assert sorted(p.name for p in work.index_dir.glob("v-*")) == [old]

    assert_old_index_serves(work, old, tmp_path)

    # the next build removes the half-built folder and switches to a new version
    assert cli.main(["--corpus", str(work.corpus_dir), "--index", str(work.index_dir), "--embedder", "fake",
                     "ingest", "--quiet"]) == 0
    assert scratch_dirs(work) == [] and current(work) != old


@pytest.mark.parametrize("moment", ["scratch folder created", "first file written"])
def test_sigkill_at_other_moments_never_leaves_a_broken_index(work, tmp_path, moment):
    """Killed as soon as the scratch folder appears, or as soon as the first index file is being
    written into it. Whatever the exact moment, CURRENT names a complete version that loads."""
    old = current(work)
    process = subprocess.Popen(
        assistant_cmd("ingest", "--quiet"), cwd=tmp_path, env=assistant_env(work.corpus_dir, work.index_dir),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            scratch = scratch_dirs(work)
            if scratch and (moment == "scratch folder created" or any(scratch[0].iterdir())):
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.001)
        returncode = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert load_index(work.index_dir).version == current(work)
    if returncode == -signal.SIGKILL:
        assert current(work) == old
        assert_old_index_serves(work, old, tmp_path, server=False)
    else:  # the build won the race and finished: then it is complete
        assert returncode == 0 and current(work) != old


def test_server_killed_during_an_http_reindex_restarts_on_the_previous_index(work, tmp_path):
    old = current(work)
    server = start_server(tmp_path, work.corpus_dir, work.index_dir, operator_key=KEY, rate_limit="0")
    try:
        assert server.wait_ready().json()["version"] == old
        response = httpx.post(server.url + "/api/reindex", headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
        assert response.status_code == 202
        deadline = time.monotonic() + 60
        while not scratch_dirs(work) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert scratch_dirs(work), "the reindex never started"
        # the server answers from the old index while it builds
        assert httpx.get(server.url + "/healthz", timeout=10).json()["version"] == old
        server.kill()
    finally:
        server.stop()
    assert server.process.returncode == -signal.SIGKILL
    assert_old_index_serves(work, old, tmp_path)


# -- writes that fail ---------------------------------------------------------------------------------

def _small_file_limit() -> None:
    # A file-size limit of 64 KB: the first larger index file fails to write with EFBIG ("File
    # too large"). Unlike chmod (ignored by root, which CI runs as), this stops root's writes too.
    # SIGXFSZ is ignored so the write returns the error instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_ingest_whose_index_writes_fail_keeps_the_previous_index(work, tmp_path):
    """The index folder stops accepting data half-way through writing the new version (a full
    or read-only disk looks the same to the writer: write() fails). `assistant ingest` says so
    and exits non-zero; the scratch folder is removed and the previous version stays live."""
    old = current(work)
    result = subprocess.run(
        assistant_cmd("ingest", "--quiet"), cwd=tmp_path, env=assistant_env(work.corpus_dir, work.index_dir),
        capture_output=True, text=True, timeout=120, preexec_fn=_small_file_limit,
    )
    assert result.returncode == 2, result.stderr
    assert re.search(r"error: cannot write the new index \(.*File too large.*\); the previous index is unchanged",
                     result.stderr), result.stderr
    assert scratch_dirs(work) == []
    assert sorted(p.name for p in work.index_dir.glob("v-*")) == [old]
    assert_old_index_serves(work, old, tmp_path, server=False)


@pytest.mark.parametrize("failing_step", ["version folder", "CURRENT pointer"])
def test_read_only_index_folder_during_a_rebuild(work, monkeypatch, failing_step):
    """The index folder turns read-only just before the new version is switched to: the rename
    of the finished scratch folder, or the replacement of CURRENT, fails with EROFS. (chmod
    cannot simulate this as root, so os.replace is made to fail the way a read-only mount
    fails.) The live index and the one on disk stay the previous version."""
    assistant = Assistant(work, embedder=FakeEmbedder())
    assert assistant.open() == "loaded"
    old = assistant.status()["version"]
    real_replace = os.replace

    def read_only_replace(src, dst, *args, **kwargs):
        target = Path(dst).name
        if (failing_step == "version folder" and target.startswith("v-")) or (
            failing_step == "CURRENT pointer" and target == CURRENT_POINTER
        ):
            raise OSError(errno.EROFS, "Read-only file system", str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(index_module.os, "replace", read_only_replace)
    with pytest.raises(OSError, match="Read-only file system"):
        assistant.rebuild()
    monkeypatch.undo()
    assert assistant.status()["version"] == old
    assert assistant.ask("clause 3.4 in handbook 2").index_version == old
    assert current(work) == old and load_index(work.index_dir).version == old
    assert scratch_dirs(work) == []
    assert assistant.rebuild().version != old  # and it recovers once the folder is writable


# -- damage on disk -----------------------------------------------------------------------------------

def _damage(settings: Settings, what: str) -> str:
    """Damage the live version; returns a phrase the error message must contain."""
    root = settings.index_dir / current(settings)
    if what == "vectors.faiss":
        data = bytearray((root / "vectors.faiss").read_bytes())
        data[len(data) // 2] ^= 0xFF  # one flipped bit pattern in the middle
        (root / "vectors.faiss").write_bytes(bytes(data))
        return "vectors.faiss is missing or damaged (checksum mismatch)"
    if what == "clauses.json truncated":
        path = root / "clauses.json"
        path.write_bytes(path.read_bytes()[:1000])
        return "clauses.json is missing or damaged"
    if what == "bm25 file deleted":
        victim = next(p for p in sorted((root / "bm25").iterdir()) if p.is_file())
        victim.unlink()
        return f"{victim.name} is missing or damaged"
    if what == "manifest.json garbage":
        (root / "manifest.json").write_bytes(b"\x00\x01 not json")
        return "unreadable manifest"
    if what == "CURRENT names a missing version":
        (settings.index_dir / CURRENT_POINTER).write_text("v-20000101-000000-000000000-deadbeef\n")
        return "which is not an index version"
    if what == "CURRENT points outside":
        (settings.index_dir / CURRENT_POINTER).write_text("../../etc\n")
        return "which is not an index version"
    raise AssertionError(what)


DAMAGE = ["vectors.faiss", "clauses.json truncated", "bm25 file deleted", "manifest.json garbage",
          "CURRENT names a missing version", "CURRENT points outside"]


@pytest.mark.parametrize("what", DAMAGE)
def test_damaged_index_is_reported_at_start(work, what, capsys, monkeypatch):
    """With ASSISTANT_AUTO_BUILD off, a damaged index is reported, never served, and the public
    is told "unavailable" (not "loading", which would have clients retry every 5 s forever)."""
    expected = _damage(work, what)
    with pytest.raises(IndexCorrupt, match=re.escape(expected)):
        load_index(work.index_dir)

    # the server starts, stays up and says what is wrong (it does not serve a damaged index)
    manual = work.model_copy(update={"auto_build": False})
    with TestClient(create_app(manual, Assistant(manual, embedder=FakeEmbedder()))) as client:
        deadline = time.monotonic() + 30
        while "error" not in (health := client.get("/healthz")).json() and time.monotonic() < deadline:
            time.sleep(0.05)
        # the public health says unavailable without paths; the operator status says what and where
        assert health.status_code == 503 and "error" in health.json() and str(work.index_dir) not in health.text
        assert health.json()["state"] == "unavailable"
        asked = client.post("/api/ask", json={"question": "第4.5条"})
        assert asked.status_code == 503 and "unavailable" in asked.json()["detail"]
        assert "loading" not in asked.json()["detail"] and int(asked.headers["Retry-After"]) > 5
        status = client.get("/api/index/status", headers={"Authorization": f"Bearer {KEY}"}).json()
        assert status["ready"] is False and expected in status["error"] and status["state"] == "unavailable"

    # the CLI says the same and exits non-zero
    monkeypatch.setenv("ASSISTANT_AUTO_BUILD", "false")
    base = ["--corpus", str(work.corpus_dir), "--index", str(work.index_dir), "--embedder", "fake"]
    assert cli.main([*base, "ask", "clause 1.1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err

    # and `assistant ingest` repairs it
    monkeypatch.delenv("ASSISTANT_AUTO_BUILD")
    assert cli.main([*base, "ingest", "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main([*base, "ask", "clause 1.1 in handbook 0", "--json"]) == 0


@pytest.mark.parametrize("what", ["vectors.faiss", "manifest.json garbage", "CURRENT is a directory"])
def test_damaged_index_is_rebuilt_at_start_by_a_job_when_auto_build_is_on(work, what):
    if what == "CURRENT is a directory":
        pointer = work.index_dir / CURRENT_POINTER
        pointer.unlink()
        pointer.mkdir()
        expected = "is not a readable pointer file"
    else:
        expected = _damage(work, what)
    auth = {"Authorization": f"Bearer {KEY}"}
    with TestClient(create_app(work, Assistant(work, embedder=FakeEmbedder()))) as client:
        deadline = time.monotonic() + 30
        while not (jobs := client.get("/api/index/status", headers=auth).json()["jobs"]) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert jobs and jobs[0]["action"] == "startup" and expected in jobs[0]["note"]
        assert client.app.state.document_manager.wait_idle(60)
        status = client.get("/api/index/status", headers=auth).json()
        assert status["jobs"][0]["state"] == "succeeded", status["jobs"]
        assert status["ready"] is True and status["error"] is None and status["state"] == "ready"
        assert client.post("/api/ask", json={"question": "clause 2.2 in handbook 0"}).status_code == 200
    assert load_index(work.index_dir).version == status["version"]


def test_current_that_is_a_directory_is_a_clean_cli_error(work, capsys, monkeypatch):
    pointer = work.index_dir / CURRENT_POINTER
    pointer.unlink()
    pointer.mkdir()
    monkeypatch.setenv("ASSISTANT_AUTO_BUILD", "false")
    base = ["--corpus", str(work.corpus_dir), "--index", str(work.index_dir), "--embedder", "fake"]
    assert cli.main([*base, "ask", "clause 1.1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "CURRENT is not a readable pointer file" in err and "Traceback" not in err
    monkeypatch.delenv("ASSISTANT_AUTO_BUILD")
    assert cli.main([*base, "ingest", "--quiet"]) == 0  # the build puts the directory aside
    assert (work.index_dir / CURRENT_POINTER).is_file()
    assert list(work.index_dir.glob(".CURRENT.damaged-*"))


def test_damaged_index_is_repaired_by_an_http_reindex(work):
    _damage(work, "vectors.faiss")
    auth = {"Authorization": f"Bearer {KEY}"}
    manual = work.model_copy(update={"auto_build": False})
    with TestClient(create_app(manual, Assistant(manual, embedder=FakeEmbedder()))) as client:
        deadline = time.monotonic() + 30
        while "error" not in client.get("/healthz").json() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/healthz").status_code == 503
        job = client.post("/api/reindex", headers=auth).json()["job"]
        assert client.app.state.document_manager.wait_idle(60)
        status = client.get("/api/index/status", headers=auth).json()
        assert status["jobs"][0]["id"] == job["id"] and status["jobs"][0]["state"] == "succeeded"
        assert status["ready"] is True and status["error"] is None
        health = client.get("/healthz")
        assert health.status_code == 200 and "error" not in health.json()
        assert client.post("/api/ask", json={"question": "clause 2.2 in handbook 0"}).status_code == 200
    assert load_index(work.index_dir).version == status["version"]
