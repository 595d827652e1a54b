"""Documents are read in a build worker process with per-document caps and a time limit: a file
over a cap is refused naming the cap; one that stalls or crashes the worker is stopped,
quarantined and skipped until replaced; the upload check runs there too; operators can cancel
jobs; and the server keeps answering while a pathological file is being read."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.documents import DocumentError
from assistant.embedding import FakeEmbedder
from assistant.index import load_index
from assistant.ingest import DocumentCaps, prepare_document
from assistant.quarantine import Quarantine
from assistant.service import Assistant
from tests.support.api import wait_job as wait_for_job
from tests.support.corpus import OPERATOR_KEY
from tests.support.hostile_files import docx_of_paragraphs, pdf_sharing_one_content_stream
from tests.support.live_server import start_server

AUTH = {"Authorization": f"Bearer {OPERATOR_KEY}"}
SMALL = "# Wildlife annex\n\n## 1 Quokka handling\n\nStaff who handle a quokka must wear soft gloves.\n"


def slow_markdown(clauses: int = 8000) -> str:
    """A plain, valid handbook that simply takes a few seconds to split (many clauses)."""
    lines = ["# Slow handbook\n"]
    for i in range(clauses):
        lines.append(f"## {i + 1} Rule {i + 1}\n\nStaff keep record {i} of the queue. Managers sign item {i} weekly.\n")
    return "\n".join(lines)


def stalling_markdown() -> str:
    """1 KB that took the loader of the first audit tens of seconds (a run of blank lines met
    a backtracking table-separator pattern) while holding the GIL."""
    return "# Stall\n\n## 1 Rule\n\nText here.\n" + "\n" * 1000 + "end\n"


def worker_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"assistant.build_worker" in cmdline and ppid == os.getpid():
            pids.append(int(entry.name))
    return pids


def settings_with(operator_settings, **caps):
    return operator_settings.model_copy(update=caps)


def wait_job(client, job_id: str, timeout: float = 60.0) -> dict:
    return wait_for_job(client, job_id, AUTH, timeout)


# -- caps ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "caps, setting",
    [
        (DocumentCaps(text_chars=50), "ASSISTANT_MAX_DOCUMENT_CHARS"),
        (DocumentCaps(paragraphs=3), "ASSISTANT_MAX_DOCUMENT_PARAGRAPHS"),
        (DocumentCaps(clauses=2), "ASSISTANT_MAX_DOCUMENT_CLAUSES"),
        (DocumentCaps(sentences=2), "ASSISTANT_MAX_DOCUMENT_SENTENCES"),
    ],
)
def test_a_document_over_a_cap_is_refused_naming_the_cap(tmp_path, caps, setting):
    path = tmp_path / "rules.md"
    path.write_text(slow_markdown(5), encoding="utf-8")
    assert len(prepare_document(path, 1000).clauses) == 5  # fine without caps
    with pytest.raises(DocumentError) as caught:
        prepare_document(path, 1000, caps=caps)
    assert setting in caught.value.reason and "over the cap" in caught.value.reason
    assert "not indexed" in caught.value.reason


@pytest.mark.system
def test_an_upload_over_a_cap_is_422_and_a_corpus_file_over_it_is_not_indexed(operator_settings):
    settings = settings_with(operator_settings, max_document_clauses=100)  # the fixture's have at most 49
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assistant.open()
    with TestClient(create_app(settings, assistant)) as client:
        refused = client.post("/api/documents", headers=AUTH, files={"file": ("big.md", slow_markdown(101).encode())})
        assert refused.status_code == 422
        assert "ASSISTANT_MAX_DOCUMENT_CLAUSES" in refused.json()["detail"] and "101 > 100" in refused.json()["detail"]
        assert not (settings.corpus_dir / "big.md").exists()
    (settings.corpus_dir / "big.md").write_text(slow_markdown(101), encoding="utf-8")  # placed by hand
    index = assistant.rebuild()
    assert "big" not in {d["id"] for d in index.documents}
    assert any("ASSISTANT_MAX_DOCUMENT_CLAUSES" in str(e) for e in assistant.last_build_errors)
    assert any("ASSISTANT_MAX_DOCUMENT_CLAUSES" in e for e in index.manifest.load_errors)


# -- time limit, crash, quarantine -----------------------------------------------------------------

@pytest.mark.system
def test_a_document_that_runs_past_the_time_limit_is_quarantined_until_replaced(operator_settings):
    # The fixture's own files take up to 0.3 s each on a loaded machine; slow.md, many seconds.
    settings = settings_with(operator_settings, max_document_seconds=2.0, max_document_clauses=None)
    slow = settings.corpus_dir / "slow.md"
    slow.write_text(slow_markdown(40_000), encoding="utf-8")
    assistant = Assistant(settings, embedder=FakeEmbedder())
    index = assistant.rebuild()
    assert "slow" not in {d["id"] for d in index.documents} and {"ccso-zh", "ccso-en"} <= {d["id"] for d in index.documents}
    (error,) = [e for e in assistant.last_build_errors if Path(e.path).name == "slow.md"]
    assert "ASSISTANT_MAX_DOCUMENT_SECONDS" in error.reason and "quarantined" in error.reason
    assert "slow.md" in Quarantine(settings.index_dir).entries()

    # the next start does not rebuild (the index matches the corpus) and names it in the status
    restarted = Assistant(settings, embedder=FakeEmbedder())
    with TestClient(create_app(settings, restarted)) as client:
        deadline = time.monotonic() + 30
        while not client.get("/healthz").json().get("ready") and time.monotonic() < deadline:
            time.sleep(0.02)
        status = client.get("/api/index/status", headers=AUTH).json()
        assert status["version"] == index.version and status["jobs"] == []
        assert [q["file"] for q in status["quarantine"]] == ["slow.md"]
        assert "ASSISTANT_MAX_DOCUMENT_SECONDS" in status["quarantine"][0]["reason"]
        assert any("slow.md" in e for e in status["load_errors"])

        # a reindex skips it at once, without giving it to the worker again
        job = wait_job(client, client.post("/api/reindex", headers=AUTH).json()["job"]["id"])
        assert job["state"] == "succeeded"
        assert any("slow.md: quarantined:" in s and "replace the file" in s for s in job["skipped"])

        # replaced (new content), it is tried again and indexed
        slow.write_text(SMALL, encoding="utf-8")
        job = wait_job(client, client.post("/api/reindex", headers=AUTH).json()["job"]["id"])
        assert job["state"] == "succeeded" and not any("slow.md" in s for s in job["skipped"])
        assert "slow" in {d["id"] for d in client.get("/api/documents").json()}
        assert client.get("/api/index/status", headers=AUTH).json()["quarantine"] == []


@pytest.mark.system
def test_a_document_that_kills_the_worker_is_quarantined_and_the_rest_is_indexed(operator_settings):
    """The worker dies while reading a document (SIGKILL, as the OOM killer would send): the
    build goes on with a fresh worker, the document is named, quarantined and not indexed."""
    settings = settings_with(operator_settings, max_document_seconds=120)
    (settings.corpus_dir / "aaa-slow.md").write_text(slow_markdown(), encoding="utf-8")
    killed = threading.Event()

    def kill_worker() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not killed.is_set():
            for pid in worker_pids():
                time.sleep(0.3)  # inside the first (slow) document
                os.kill(pid, signal.SIGKILL)
                killed.set()
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_worker)
    killer.start()
    assistant = Assistant(settings, embedder=FakeEmbedder())
    try:
        index = assistant.rebuild()
    finally:
        killer.join(30)
    assert killed.is_set()
    (error,) = [e for e in assistant.last_build_errors if Path(e.path).name == "aaa-slow.md"]
    assert "crashed" in error.reason and "quarantined" in error.reason
    assert {"ccso-zh", "ccso-en"} <= {d["id"] for d in index.documents}
    assert "aaa-slow" not in {d["id"] for d in index.documents}
    assert load_index(settings.index_dir).version == index.version


@pytest.mark.system
def test_the_upload_check_runs_in_the_worker_with_a_time_limit(operator_settings):
    settings = settings_with(operator_settings, max_document_seconds=0.2)
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assistant.open()
    with TestClient(create_app(settings, assistant)) as client:
        started = time.monotonic()
        refused = client.post("/api/documents", headers=AUTH, files={"file": ("slow.md", slow_markdown().encode())})
        assert time.monotonic() - started < 10
        assert refused.status_code == 422 and "ASSISTANT_MAX_DOCUMENT_SECONDS" in refused.json()["detail"]
        assert not (settings.corpus_dir / "slow.md").exists()
        assert list((settings.corpus_dir / ".staging").glob("upload-*")) == []


# -- the audit's own files (rows 11, 13, 15 of docs/reliability.md) ---------------------------------

@pytest.mark.system
@pytest.mark.parametrize("name, make, caps, expected, quarantined", [
    # 96 KB with 600,000 empty-looking paragraphs: python-docx took 70 s and 400 MB; counted on
    # the streamed XML, it is refused before it is parsed
    ("tiny-paragraphs.docx", lambda: docx_of_paragraphs(600_000), {},
     "over the cap on paragraphs: 600,000 > 100,000 (ASSISTANT_MAX_DOCUMENT_PARAGRAPHS)", False),
    # a couple of hundred KB that expand to 200 MB of XML: the worker's address space runs out
    ("large.docx", lambda: docx_of_paragraphs(2_000, "a" * 100_000), {"max_worker_memory_mb": 256},
     "ran out of memory while reading it (more than 256 MiB, ASSISTANT_MAX_WORKER_MEMORY_MB)", True),
    # the same file with room to grow: minutes of work, stopped at the time limit
    ("large-slow.docx", lambda: docx_of_paragraphs(2_000, "a" * 100_000), {"max_document_seconds": 3.0},
     "reading it took longer than 3 s (ASSISTANT_MAX_DOCUMENT_SECONDS)", True),
    # 100 pages sharing one content stream: seconds per page, every page extracted in full
    ("shared-stream.pdf", lambda: pdf_sharing_one_content_stream(100, 5_000), {"max_document_seconds": 3.0},
     "reading it took longer than 3 s (ASSISTANT_MAX_DOCUMENT_SECONDS)", True),
])
def test_the_audits_costly_files_are_stopped_at_their_cap_and_the_rest_is_served(
        operator_settings, name, make, caps, expected, quarantined):
    settings = settings_with(operator_settings, **caps)
    (settings.corpus_dir / name).write_bytes(make())
    assistant = Assistant(settings, embedder=FakeEmbedder())
    started = time.monotonic()
    index = assistant.rebuild()
    assert time.monotonic() - started < 60
    (error,) = [e for e in assistant.last_build_errors if Path(e.path).name == name]
    assert expected in error.reason and "not indexed" in error.reason, error.reason
    assert Path(name).stem not in {d["id"] for d in index.documents}
    assert {"ccso-zh", "ccso-en"} <= {d["id"] for d in index.documents}
    assert load_index(settings.index_dir).version == index.version
    assert (name in Quarantine(settings.index_dir).entries()) is quarantined
    assert assistant.ask("录音保存多久").citations  # the rest is served


def test_a_docx_paragraph_count_is_read_off_the_xml_without_parsing_it(tmp_path):
    path = tmp_path / "many.docx"
    path.write_bytes(docx_of_paragraphs(12_345))
    with pytest.raises(DocumentError, match="12,345 > 1,000 .ASSISTANT_MAX_DOCUMENT_PARAGRAPHS"):
        prepare_document(path, 1000, caps=DocumentCaps(paragraphs=1_000))
    assert len(prepare_document(path, 1000, caps=DocumentCaps(paragraphs=12_345)).clauses) >= 1


# -- a killed build ----------------------------------------------------------------------------------

@pytest.mark.system
def test_a_server_killed_while_reading_a_file_quarantines_it_at_the_next_start(tmp_path, corpus_dir):
    """SIGKILL of the server while its worker reads a document: the leftover marker names it,
    and the next start quarantines it (named in the status, skipped) instead of reading it, and
    dying on it, again; the rest is indexed. A replaced file is tried again."""
    index_dir = tmp_path / "index"
    settings = dict(operator_key=OPERATOR_KEY, rate_limit="0", max_document_seconds="600")
    server = start_server(tmp_path, corpus_dir, index_dir, **settings)
    try:
        server.wait_ready()
        (corpus_dir / "slow.md").write_text(slow_markdown(20_000), encoding="utf-8")
        with httpx.Client(base_url=server.url, timeout=10) as client:
            assert client.post("/api/reindex", headers=AUTH).status_code == 202
            marker = index_dir / "building.json"
            _wait(lambda: marker.exists() and "slow.md" in marker.read_text(encoding="utf-8"), 60, "slow.md's turn")
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
    finally:
        server.stop()
    assert marker.exists()  # what the killed server was reading

    restarted = start_server(tmp_path, corpus_dir, index_dir, **settings)
    try:
        restarted.wait_ready()
        with httpx.Client(base_url=restarted.url, timeout=10) as client:
            def start_up_done() -> bool:
                jobs = client.get("/api/index/status", headers=AUTH).json()["jobs"]
                return bool(jobs) and all(j["state"] in ("succeeded", "failed", "cancelled") for j in jobs)

            _wait(start_up_done, 120, "the start-up build")
            status = client.get("/api/index/status", headers=AUTH).json()
            assert [j["state"] for j in status["jobs"]] == ["succeeded"], status["jobs"]
            assert [q["file"] for q in status["quarantine"]] == ["slow.md"]
            assert "killed while reading it" in status["quarantine"][0]["reason"]
            assert any("slow.md: quarantined:" in e for e in status["load_errors"])
            documents = {d["id"] for d in client.get("/api/documents").json()}
            assert "slow" not in documents and {"ccso-zh", "ccso-en"} <= documents
            assert not marker.exists()

            (corpus_dir / "slow.md").write_text(SMALL, encoding="utf-8")  # replaced: tried again
            job = wait_job(client, client.post("/api/reindex", headers=AUTH).json()["job"]["id"])
            assert job["state"] == "succeeded" and "slow" in {d["id"] for d in client.get("/api/documents").json()}
            assert client.get("/api/index/status", headers=AUTH).json()["quarantine"] == []
    finally:
        restarted.stop()


def test_a_leftover_marker_quarantines_only_the_content_it_names(tmp_path):
    quarantine = Quarantine(tmp_path / "index")
    path = tmp_path / "rules.md"
    path.write_text(SMALL, encoding="utf-8")
    with quarantine.reading(path):
        assert quarantine.marker.exists()
    assert not quarantine.marker.exists() and quarantine.recover_interrupted() is None  # finished normally

    with pytest.raises(RuntimeError):
        with quarantine.reading(path):
            raise RuntimeError("the parent failed, the document did nothing wrong")
    assert not quarantine.marker.exists()

    leftover = quarantine.marker.with_name("copy")
    with quarantine.reading(path):
        leftover.write_bytes(quarantine.marker.read_bytes())
    os.replace(leftover, quarantine.marker)  # as a SIGKILL would leave it
    path.write_text(SMALL + "\nA new rule.\n", encoding="utf-8")  # replaced after the kill
    assert quarantine.recover_interrupted() is None and quarantine.entries() == {}
    assert not quarantine.marker.exists()

    with quarantine.reading(path):
        leftover.write_bytes(quarantine.marker.read_bytes())
    os.replace(leftover, quarantine.marker)
    assert quarantine.recover_interrupted() == "rules.md"
    assert "killed while reading it" in quarantine.entries()["rules.md"]["reason"]
    quarantine.marker.write_text("{torn", encoding="utf-8")  # a torn marker names nothing
    assert quarantine.recover_interrupted() is None and not quarantine.marker.exists()


# -- cancel ----------------------------------------------------------------------------------------

@pytest.mark.system
def test_operators_cancel_a_queued_and_a_running_job(operator_settings):
    settings = settings_with(operator_settings, max_document_seconds=120)
    (settings.corpus_dir / "slow.md").write_text(slow_markdown(), encoding="utf-8")
    assistant = Assistant(settings, embedder=FakeEmbedder())
    with TestClient(create_app(settings, assistant)) as client:
        # the start-up build (the corpus changed) reads slow.md for a few seconds
        deadline = time.monotonic() + 30
        while not (jobs := client.get("/api/index/status", headers=AUTH).json()["jobs"]) and time.monotonic() < deadline:
            time.sleep(0.02)
        running = jobs[0]
        assert running["action"] == "startup"
        before = client.get("/healthz").json()["version"]  # the previous version, served meanwhile
        queued = client.post("/api/documents", headers=AUTH, files={"file": ("wildlife-annex.md", SMALL.encode())})
        assert queued.status_code == 202
        queued_id = queued.json()["job"]["id"]
        _wait(lambda: worker_pids(), 20, "the worker")

        cancelled = client.post(f"/api/jobs/{queued_id}/cancel", headers=AUTH)
        assert cancelled.status_code == 200 and cancelled.json()["job"]["state"] == "cancelled"
        assert client.post(f"/api/jobs/{running['id']}/cancel", headers=AUTH).status_code == 200
        job = wait_job(client, running["id"], timeout=5)  # stopped, not run to the end
        assert job["state"] == "cancelled" and job["error"] == "cancelled by an operator"
        assert wait_job(client, queued_id)["state"] == "cancelled"

        assert client.get("/healthz").json()["version"] == before  # nothing switched
        assert load_index(settings.index_dir).version == before
        assert not (settings.corpus_dir / "wildlife-annex.md").exists()  # the upload never ran
        assert list((settings.corpus_dir / ".staging").glob("upload-*")) == []
        assert list(settings.index_dir.glob(".build-*")) == []
        # a cancelled document is not quarantined: it did nothing wrong
        assert client.get("/api/index/status", headers=AUTH).json()["quarantine"] == []

        finished = client.post(f"/api/jobs/{running['id']}/cancel", headers=AUTH)
        assert finished.status_code == 409 and "already cancelled" in finished.json()["detail"]
        assert client.post("/api/jobs/nosuchjob/cancel", headers=AUTH).status_code == 404


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


# -- the server keeps answering --------------------------------------------------------------------

@pytest.mark.system
def test_healthz_and_ask_answer_while_a_stalling_document_is_read(tmp_path, corpus_dir):
    """A real server reindexes a corpus holding a file that stalled the loader for tens of
    seconds (holding the GIL) in the first audit: /healthz and /api/ask keep answering within a
    second throughout, and the job ends."""
    server = start_server(tmp_path, corpus_dir, tmp_path / "index", operator_key=OPERATOR_KEY, rate_limit="0",
                          max_document_seconds="3")
    try:
        server.wait_ready()
        (corpus_dir / "stall.md").write_text(stalling_markdown(), encoding="utf-8")
        with httpx.Client(base_url=server.url, timeout=5) as client:
            job_id = client.post("/api/reindex", headers=AUTH).json()["job"]["id"]
            slowest = 0.0
            deadline = time.monotonic() + 60
            while True:
                for method, path, body in (("GET", "/healthz", None), ("POST", "/api/ask", {"question": "第4.5条"})):
                    started = time.monotonic()
                    response = client.request(method, path, json=body)
                    slowest = max(slowest, time.monotonic() - started)
                    assert response.status_code == 200, response.text
                job = next(j for j in client.get("/api/index/status", headers=AUTH).json()["jobs"] if j["id"] == job_id)
                if job["state"] not in ("queued", "running") or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        assert job["state"] == "succeeded", job
        assert slowest < 1.0, f"a request took {slowest:.2f} s during the build"
    finally:
        server.stop()
