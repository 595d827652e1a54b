"""Operator document management: auth, uploads, deletes, background reindex, atomic swap,
serialised jobs, rollback when a build fails, and upload-then-ask over a real server while
other clients keep asking."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.config import Settings
from assistant.embedding import FakeEmbedder
from assistant.index import load_index
from assistant.api.routes.admin import status_for
from assistant.documents import document_id_for
from assistant.filenames import sanitise_filename
from assistant.refusals import ManagementError
from assistant.service import Assistant
from tests.support.api import wait_job as wait_for_job
from tests.support.corpus import OPERATOR_KEY
from tests.support.live_server import start_server

KEY = OPERATOR_KEY
AUTH = {"Authorization": f"Bearer {KEY}"}

WILDLIFE = (
    "# Wildlife annex\n\n"
    "## 1 Quokka handling\n\n"
    "Staff who handle a quokka must wear soft gloves and keep the quokka away from loud telephones.\n\n"
    "## 2 Wombat burrows\n\n"
    "Wombat burrows next to the call centre car park must be fenced off.\n"
)
QUOKKA_QUESTION = "How must staff handle a quokka?"


@pytest.fixture
def operator_assistant(operator_settings: Settings) -> Assistant:
    assistant = Assistant(operator_settings, embedder=FakeEmbedder())
    assert assistant.open() == "loaded"
    return assistant


def corpus_files(settings: Settings) -> list[str]:
    # documents.toml is the corpus's kinds sidecar (assistant/kinds.py), not a document.
    return sorted(p.name for p in settings.corpus_dir.iterdir() if p.is_file() and p.name != "documents.toml")


def staging_leftovers(settings: Settings) -> list[Path]:
    staging = settings.corpus_dir / ".staging"
    return list(staging.rglob("*")) if staging.exists() else []


@pytest.fixture
def client(operator_settings, operator_assistant):
    with TestClient(create_app(operator_settings, operator_assistant)) as client:
        yield client


def wait_job(client, job_id: str, timeout: float = 30.0) -> dict:
    """The finished job (tests.support.api.wait_job); none of these tests cancels one."""
    return wait_for_job(client, job_id, AUTH, timeout, states=("succeeded", "failed"))


def upload(client, name: str, data: bytes, **params):
    return client.post("/api/documents", headers=AUTH, params=params, files={"file": (name, data)})


def version(client) -> str:
    return client.get("/healthz").json()["version"]


# -- auth ------------------------------------------------------------------------------------------

OPERATOR_ROUTES = [
    ("GET", "/api/index/status"),
    ("POST", "/api/reindex"),
    ("POST", "/api/documents"),
    ("DELETE", "/api/documents/ccso-en"),
]


@pytest.mark.parametrize("method, path", OPERATOR_ROUTES)
def test_operator_routes_are_off_without_a_key(operator_settings, operator_assistant, method, path):
    settings = operator_settings.model_copy(update={"operator_key": None})
    with TestClient(create_app(settings, operator_assistant)) as client:
        response = client.request(method, path, headers={"Authorization": "Bearer anything"})
        assert response.status_code == 404
        response = client.request(method, path)
        assert response.status_code == 404
    assert (settings.corpus_dir / "ccso-en.md").exists()


@pytest.mark.parametrize("method, path", OPERATOR_ROUTES)
@pytest.mark.parametrize(
    "header, error",
    [
        (None, False),
        ("Bearer wrong-key", True),
        (f"Bearer {KEY}x", True),
        (f"Bearer {KEY[:-1]}", True),
        (f"Basic {KEY}", False),  # another scheme counts as no bearer credentials
        (KEY, False),
        ("Bearer ", False),
    ],
)
def test_wrong_or_missing_key_is_401_with_www_authenticate(client, operator_settings, method, path, header, error):
    before = version(client)
    headers = {"Authorization": header} if header is not None else {}
    response = client.request(method, path, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert ('error="invalid_token"' in response.headers["WWW-Authenticate"]) is error
    assert "operator key" in response.json()["detail"]
    assert client.app.state.document_manager.jobs() == []
    assert version(client) == before
    assert (operator_settings.corpus_dir / "ccso-en.md").exists()


def test_guessing_the_key_is_throttled(client):
    statuses = [client.get("/api/index/status", headers={"Authorization": f"Bearer guess-{i}"}).status_code
                for i in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    refused = client.get("/api/index/status", headers={"Authorization": "Bearer guess"})
    assert int(refused.headers["Retry-After"]) >= 1
    # the right key still works: throttling only counts failures
    assert client.get("/api/index/status", headers=AUTH).status_code == 200


def test_unauthenticated_upload_is_refused_before_the_body_is_read(client):
    big = b"x" * 5_000_000
    response = client.post("/api/documents", files={"file": ("big.md", big)})
    assert response.status_code == 401


# -- status ----------------------------------------------------------------------------------------

def test_index_status(client, operator_assistant):
    body = client.get("/api/index/status", headers=AUTH).json()
    assert body["ready"] is True and body["version"] == operator_assistant.status()["version"]
    assert body["counts"]["documents"] == 3 and body["error"] is None and body["busy"] is False
    assert body["corpus"] == ["ccso-en.md", "ccso-zh.md", "meeting-report-2022.txt"]
    assert body["jobs"] == []
    assert client.get("/api/index/status", headers=AUTH).headers["Cache-Control"] == "no-store"


# -- uploads ---------------------------------------------------------------------------------------

def test_upload_indexes_the_document_in_the_background_and_swaps(client, operator_settings):
    before = version(client)
    response = upload(client, "wildlife-annex.md", WILDLIFE.encode())
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["document"]["id"] == "wildlife-annex" and body["document"]["clauses"] == 2
    assert body["document"]["source"] == "wildlife-annex.md"
    assert response.headers["Location"] == "/api/index/status"
    job = wait_job(client, body["job"]["id"])
    assert job["state"] == "succeeded", job
    assert job["version_before"] == before and job["version_after"] == version(client) != before
    assert (operator_settings.corpus_dir / "wildlife-annex.md").read_text() == WILDLIFE
    assert "wildlife-annex" in {d["id"] for d in client.get("/api/documents").json()}
    answer = client.post("/api/ask", json={"question": QUOKKA_QUESTION}).json()
    assert answer["citations"][0]["document"] == "wildlife-annex"
    assert answer["index_version"] == job["version_after"]
    assert staging_leftovers(operator_settings) == []  # nothing left behind


def test_upload_file_name_is_sanitised(client, operator_settings, tmp_path):
    response = upload(client, "../../outside/My Annex (v2).md", WILDLIFE.encode())
    assert response.status_code == 202
    assert response.json()["document"]["source"] == "My-Annex-v2.md"
    wait_job(client, response.json()["job"]["id"])
    assert (operator_settings.corpus_dir / "My-Annex-v2.md").exists()
    assert not (tmp_path / "outside").exists() and not (operator_settings.corpus_dir.parent / "outside").exists()


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("guide.md", "guide.md"),
        ("Guide.PDF", "Guide.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\me\\Desktop\\annex.docx", "annex.docx"),
        ("/absolute/path/annex.html", "annex.html"),
        ("指导要求.md", None),  # nothing ASCII left: doc-<hash>.md, the id ingest gives it
        ("..hidden.md", "hidden.md"),
        ("a b\x00c.txt", "a-bc.txt"),
        ("x" * 300 + ".md", "x" * 97 + ".md"),
        ("we..ird...name.md", "we.ird.name.md"),
    ],
)
def test_sanitise_filename(raw, expected):
    name = sanitise_filename(raw)
    if expected is None:
        assert name.startswith("doc-") and name.endswith(".md") and sanitise_filename(raw) == name
        assert document_id_for(name) == document_id_for(raw)  # one id, uploaded or ingested
    else:
        assert name == expected
    assert "/" not in name and "\\" not in name and not name.startswith(".")


@pytest.mark.parametrize(
    "raw, status",
    [("", 422), ("..", 422), ("noext", 415), ("tool.exe", 415), ("archive.tar.gz", 415), ("README.md", 422),
     ("readme-first.txt", 422)],
)
def test_sanitise_filename_refuses(raw, status):
    with pytest.raises(ManagementError) as caught:
        sanitise_filename(raw)
    assert status_for(caught.value) == status


def test_duplicate_upload_is_409_unless_replace(client, operator_settings):
    first = upload(client, "wildlife-annex.md", WILDLIFE.encode())
    wait_job(client, first.json()["job"]["id"])
    v1 = version(client)

    again = upload(client, "wildlife-annex.md", b"# Other\n\n## 1 Other\n\nSomething else entirely.\n")
    assert again.status_code == 409 and "replace=true" in again.json()["detail"]
    same_id = upload(client, "Wildlife-Annex.txt", b"1 Other\n\nSomething else.\n")  # same document id
    assert same_id.status_code == 409 and "wildlife-annex" in same_id.json()["detail"]
    assert version(client) == v1

    replacement = WILDLIFE.replace("soft gloves", "thick leather gauntlets")
    replaced = upload(client, "wildlife-annex.txt", replacement.encode(), replace="true")
    assert replaced.status_code == 202
    job = wait_job(client, replaced.json()["job"]["id"])
    assert job["state"] == "succeeded"
    files = corpus_files(operator_settings)
    assert "wildlife-annex.txt" in files and "wildlife-annex.md" not in files
    answer = client.post("/api/ask", json={"question": "quokka gauntlets"}).json()
    assert "gauntlets" in answer["citations"][0]["text"]


def test_upload_refuses_what_is_not_a_single_file(client):
    assert client.post("/api/documents", headers=AUTH, json={"file": "x"}).status_code == 415
    no_file = client.post("/api/documents", headers=AUTH, data={"name": "x"}, files={"other": ("a.md", b"# A")})
    assert no_file.status_code == 422 and "field 'file'" in no_file.json()["detail"]
    two = client.post("/api/documents", headers=AUTH,
                      files=[("file", ("a.md", b"## 1 A\n\nText a.\n")), ("file", ("b.md", b"## 1 B\n\nText b.\n"))])
    assert two.status_code == 400
    broken = client.post("/api/documents", headers={**AUTH, "Content-Type": "multipart/form-data"}, content=b"--x\r\n")
    assert broken.status_code == 400
    assert client.app.state.document_manager.jobs() == []


# -- deletes ---------------------------------------------------------------------------------------

def test_delete_document(client, operator_settings):
    before = version(client)
    response = client.delete("/api/documents/meeting-report-2022", headers=AUTH)
    assert response.status_code == 202
    job = wait_job(client, response.json()["job"]["id"])
    assert job["state"] == "succeeded" and job["file"] == "meeting-report-2022.txt"
    assert version(client) != before
    assert "meeting-report-2022" not in {d["id"] for d in client.get("/api/documents").json()}
    assert not (operator_settings.corpus_dir / "meeting-report-2022.txt").exists()
    assert client.delete("/api/documents/meeting-report-2022", headers=AUTH).status_code == 404
    assert client.delete("/api/documents/no-such-doc", headers=AUTH).status_code == 404


def test_deleting_by_file_name_names_the_id_instead(client):
    # The corpus file is meeting-report-2022.txt; its name, or the id's capitals, is the usual slip.
    for given in ("meeting-report-2022.txt", "Meeting-Report-2022"):
        response = client.delete(f"/api/documents/{given}", headers=AUTH)
        assert response.status_code == 404
        assert response.json()["detail"] == f"no document '{given}' in the corpus; its id is 'meeting-report-2022'"
    assert client.delete("/api/documents/no-such-doc", headers=AUTH).json()["detail"] == \
        "no document 'no-such-doc' in the corpus"


def test_the_last_document_cannot_be_deleted(client, operator_settings):
    for doc in ("meeting-report-2022", "ccso-en"):
        wait_job(client, client.delete(f"/api/documents/{doc}", headers=AUTH).json()["job"]["id"])
    last = client.delete("/api/documents/ccso-zh", headers=AUTH)
    assert last.status_code == 409 and "last document" in last.json()["detail"]
    assert (operator_settings.corpus_dir / "ccso-zh.md").exists()
    assert [d["id"] for d in client.get("/api/documents").json()] == ["ccso-zh"]


def test_two_deletes_cannot_empty_the_corpus_while_queued(client, operator_settings, operator_assistant):
    gate = threading.Event()
    original = operator_assistant.rebuild

    def held_rebuild(*args, **kwargs):
        gate.wait(10)
        return original(*args, **kwargs)

    operator_assistant.rebuild = held_rebuild
    first = client.delete("/api/documents/meeting-report-2022", headers=AUTH)
    second = client.delete("/api/documents/ccso-en", headers=AUTH)
    third = client.delete("/api/documents/ccso-zh", headers=AUTH)
    same = client.delete("/api/documents/ccso-en", headers=AUTH)
    gate.set()
    assert (first.status_code, second.status_code) == (202, 202)
    assert third.status_code == 409 and "last document" in third.json()["detail"]
    assert same.status_code == 409 and "queued job" in same.json()["detail"]
    assert wait_job(client, second.json()["job"]["id"])["state"] == "succeeded"
    assert corpus_files(operator_settings) == ["ccso-zh.md"]


# -- reindex, serialisation, atomic swap, rollback ---------------------------------------------------

def test_reindex_runs_in_the_background_and_keeps_serving(client, operator_assistant):
    before = version(client)
    started, release = threading.Event(), threading.Event()
    original = operator_assistant.rebuild

    def slow_rebuild(*args, **kwargs):
        started.set()
        release.wait(10)
        return original(*args, **kwargs)

    operator_assistant.rebuild = slow_rebuild
    response = client.post("/api/reindex", headers=AUTH)
    assert response.status_code == 202
    assert started.wait(10)
    # the build is under way: the old index keeps answering
    status = client.get("/api/index/status", headers=AUTH).json()
    assert status["busy"] is True and status["jobs"][0]["state"] == "running"
    for _ in range(5):
        answer = client.post("/api/ask", json={"question": "第4.5条"})
        assert answer.status_code == 200 and answer.json()["index_version"] == before
    release.set()
    job = wait_job(client, response.json()["job"]["id"])
    assert job["state"] == "succeeded" and job["version_after"] == version(client) != before
    assert client.post("/api/ask", json={"question": "第4.5条"}).json()["index_version"] == job["version_after"]


def test_jobs_run_one_at_a_time_in_order(client, operator_assistant):
    spans: list[tuple[float, float]] = []
    active = []
    original = operator_assistant.rebuild

    def recorded_rebuild(*args, **kwargs):
        active.append(1)
        assert len(active) == 1, "two builds at once"
        start = time.monotonic()
        try:
            time.sleep(0.05)
            return original(*args, **kwargs)
        finally:
            spans.append((start, time.monotonic()))
            active.pop()

    operator_assistant.rebuild = recorded_rebuild
    responses: list[httpx.Response] = []
    lock = threading.Lock()

    def fire(request):
        response = request()
        with lock:
            responses.append(response)

    requests = [lambda: client.post("/api/reindex", headers=AUTH) for _ in range(6)]
    requests.append(lambda: upload(client, "wildlife-annex.md", WILDLIFE.encode()))
    requests.append(lambda: client.delete("/api/documents/meeting-report-2022", headers=AUTH))
    threads = [threading.Thread(target=fire, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in responses) == [202] * 8
    job_ids = {r.json()["job"]["id"] for r in responses}
    jobs = [wait_job(client, job_id) for job_id in job_ids]
    assert all(job["state"] == "succeeded" for job in jobs), jobs
    # a reindex still waiting covers the next reindex request: fewer builds than requests
    assert len(spans) == len(job_ids) <= 8
    for (_, end), (start, _) in zip(sorted(spans), sorted(spans)[1:]):
        assert start >= end, "builds overlapped"
    documents = {d["id"] for d in client.get("/api/documents").json()}
    assert "wildlife-annex" in documents and "meeting-report-2022" not in documents


def test_failed_build_rolls_the_corpus_back_and_keeps_serving(client, operator_settings):
    """The new index cannot be switched to: `.CURRENT.tmp` (where the new CURRENT pointer is
    written before it replaces the old one) is a directory, so opening it for writing fails
    with IsADirectoryError, a real filesystem error that also happens as root."""
    before = version(client)
    documents_before = client.get("/api/documents").json()
    corpus_before = corpus_files(operator_settings)
    obstacle = operator_settings.index_dir / ".CURRENT.tmp"
    obstacle.mkdir()

    added = upload(client, "wildlife-annex.md", WILDLIFE.encode())
    job = wait_job(client, added.json()["job"]["id"])
    assert job["state"] == "failed" and "IsADirectoryError" in job["error"]
    assert job["version_before"] == job["version_after"] == before
    removed = client.delete("/api/documents/ccso-en", headers=AUTH)
    job = wait_job(client, removed.json()["job"]["id"])
    assert job["state"] == "failed"

    assert version(client) == before
    assert client.get("/api/documents").json() == documents_before
    assert corpus_files(operator_settings) == corpus_before and staging_leftovers(operator_settings) == []
    assert (operator_settings.corpus_dir / "ccso-en.md").exists()
    assert load_index(operator_settings.index_dir).version == before  # and after a restart
    assert client.post("/api/ask", json={"question": "第4.5条"}).json()["citations"][0]["id"] == "ccso-zh:4.5"
    status = client.get("/api/index/status", headers=AUTH).json()
    assert [j["state"] for j in status["jobs"]] == ["failed", "failed"] and status["busy"] is False

    obstacle.rmdir()
    job = wait_job(client, upload(client, "wildlife-annex.md", WILDLIFE.encode()).json()["job"]["id"])
    assert job["state"] == "succeeded" and version(client) != before


def test_staged_uploads_of_a_dead_process_are_cleaned_at_start(operator_settings, operator_assistant):
    staging = operator_settings.corpus_dir / ".staging"
    (staging / "upload-deadbeef").mkdir(parents=True)
    (staging / "upload-deadbeef" / "half.md").write_text("# half")
    kept = staging / "upload-cafe" / "replaced"
    kept.mkdir(parents=True)
    (kept / "ccso-en.md").write_text("set aside by an interrupted job")
    with TestClient(create_app(operator_settings, operator_assistant)) as client:
        assert client.get("/api/index/status", headers=AUTH).status_code == 200
    assert not (staging / "upload-deadbeef").exists()
    assert (kept / "ccso-en.md").exists()


# -- end to end over a real server ------------------------------------------------------------------

@pytest.mark.system
def test_upload_then_ask_over_http_while_other_clients_keep_asking(tmp_path, corpus_dir):
    """A real `assistant serve` (uvicorn, fake embedder): one thread keeps asking while an
    operator uploads a document; the new document is then cited, and the asking thread saw only
    200s, with the index version switching once from the old to the new."""
    server = start_server(tmp_path, corpus_dir, tmp_path / "index", operator_key=KEY, rate_limit="0")
    try:
        old = server.wait_ready().json()["version"]
        stop = threading.Event()
        seen: list[tuple[int, str | None]] = []
        errors: list[str] = []

        def keep_asking() -> None:
            questions = ["第4.5条", "What does the guidance say about data security?", "数据安全", "clause 5.1"]
            with httpx.Client(base_url=server.url, timeout=10) as asker:
                i = 0
                while not stop.is_set():
                    try:
                        response = asker.post("/api/ask", json={"question": questions[i % len(questions)]})
                        seen.append((response.status_code, response.json().get("index_version")))
                    except (httpx.HTTPError, ValueError) as exc:
                        errors.append(repr(exc))
                    i += 1

        asker = threading.Thread(target=keep_asking)
        asker.start()
        try:
            with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as operator:
                before = operator.post("/api/ask", json={"question": QUOKKA_QUESTION}).json()
                assert all(c["document"] != "wildlife-annex" for c in before["citations"])
                time.sleep(0.3)
                response = operator.post("/api/documents", files={"file": ("wildlife-annex.md", WILDLIFE.encode())})
                assert response.status_code == 202, response.text
                job_id = response.json()["job"]["id"]
                deadline = time.monotonic() + 60
                while True:
                    status = operator.get("/api/index/status").json()
                    job = next(j for j in status["jobs"] if j["id"] == job_id)
                    if job["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
                        break
                    time.sleep(0.1)
                assert job["state"] == "succeeded", job
                time.sleep(0.3)
                answer = operator.post("/api/ask", json={"question": QUOKKA_QUESTION}).json()
        finally:
            stop.set()
            asker.join(15)
        assert answer["index_version"] == job["version_after"] != old
        top = answer["citations"][0]
        assert top["document"] == "wildlife-annex" and top["clause"] == "1" and "quokka" in top["text"]
        assert errors == []
        assert len(seen) > 20
        assert [code for code, _ in seen if code != 200] == []
        versions = [v for _, v in seen]
        switch = versions.index(job["version_after"])
        assert set(versions[:switch]) == {old} and set(versions[switch:]) == {job["version_after"]}
    finally:
        server.stop()


# -- several processes on the same folders (assistant serve --workers N) -----------------------------

def test_jobs_of_two_servers_on_the_same_folders_do_not_overlap(operator_settings):
    """Two apps stand for two worker processes: each has its own job queue, and the file lock on
    <index>/.build.lock (flock: separate opens conflict even within one process) keeps their
    builds from overlapping and from removing each other's scratch folders."""
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()
    apps = []
    for _ in range(2):
        assistant = Assistant(operator_settings, embedder=FakeEmbedder())
        assistant.open()
        original = assistant.rebuild

        def recorded(*args, _original=original, **kwargs):
            start = time.monotonic()
            try:
                time.sleep(0.05)
                return _original(*args, **kwargs)
            finally:
                with lock:
                    spans.append((start, time.monotonic()))

        assistant.rebuild = recorded
        apps.append(create_app(operator_settings, assistant))
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        jobs = []
        for client in (first, second, first, second):
            jobs.append((client, client.post("/api/reindex", headers=AUTH).json()["job"]["id"]))
        upload_job = upload(second, "wildlife-annex.md", WILDLIFE.encode()).json()["job"]["id"]
        jobs.append((second, upload_job))
        results = [wait_job(client, job_id) for client, job_id in jobs]
    assert all(job["state"] == "succeeded" for job in results), results
    ordered = sorted(spans)
    assert len(ordered) >= 3
    for (_, end), (start, _) in zip(ordered, ordered[1:]):
        assert start >= end, "builds of two processes overlapped"
    assert (operator_settings.index_dir / ".build.lock").exists()


def test_a_server_follows_an_index_switched_by_another_process(operator_settings, capsys):
    """Worker B serves the version that worker A's upload job (or `assistant ingest`) switched
    CURRENT to, within about ASSISTANT_FOLLOW_INTERVAL, without a restart. The interval is set
    short so that the test does not spend the default second twice waiting for the next check."""
    operator_settings = operator_settings.model_copy(update={"follow_interval": 0.05})
    a = Assistant(operator_settings, embedder=FakeEmbedder())
    b = Assistant(operator_settings, embedder=FakeEmbedder())
    a.open(), b.open()
    with TestClient(create_app(operator_settings, a)) as worker_a, TestClient(create_app(operator_settings, b)) as worker_b:
        old = version(worker_b)
        job = wait_job(worker_a, upload(worker_a, "wildlife-annex.md", WILDLIFE.encode()).json()["job"]["id"])
        assert job["state"] == "succeeded" and version(worker_a) == job["version_after"] != old

        def b_version_after(deadline_s: float) -> str:
            deadline = time.monotonic() + deadline_s
            while (current := version(worker_b)) == old and time.monotonic() < deadline:
                time.sleep(0.02)
            return current

        assert b_version_after(10) == job["version_after"]
        assert "wildlife-annex" in {d["id"] for d in worker_b.get("/api/documents").json()}

        # the same for a CLI ingest next to the running servers
        from assistant import cli

        extra = operator_settings.corpus_dir.parent / "parking.md"
        extra.write_text("# Parking\n\n## 1 Visitor parking\n\nVisitors park in bay C.\n", encoding="utf-8")
        assert cli.main(["--corpus", str(operator_settings.corpus_dir), "--index", str(operator_settings.index_dir),
                         "--embedder", "fake", "ingest", "--quiet", str(extra)]) == 0
        capsys.readouterr()
        old = job["version_after"]
        new = b_version_after(10)
        assert new != old and new == (operator_settings.index_dir / "CURRENT").read_text().strip()
        assert "parking" in {d["id"] for d in worker_b.get("/api/documents").json()}


def test_the_follower_reads_current_at_most_once_per_interval(operator_settings, operator_assistant, monkeypatch):
    """Every request pokes the follower; ASSISTANT_FOLLOW_INTERVAL bounds how often that reads
    CURRENT, and the app's follower is made with the setting."""
    from assistant.follower import IndexFollower

    settings = operator_settings.model_copy(update={"follow_interval": 3600.0})
    app = create_app(settings, operator_assistant)
    assert app.state.index_follower.interval_s == 3600.0
    reads = []
    original = Path.read_text

    current = settings.index_dir / "CURRENT"

    def counted(self, *args, **kwargs):
        if self == current:  # only this index's: threads left by earlier tests read their own
            reads.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", counted)
    follower = IndexFollower(operator_assistant, settings.index_dir, interval_s=settings.follow_interval)
    for _ in range(5):
        follower.poke()
    assert len(reads) == 1
    follower._next_check = 0.0  # the interval has passed
    follower.poke()
    assert len(reads) == 2


def test_waiting_for_a_job_returns_when_it_finishes_and_not_before(client, operator_assistant):
    """DocumentManager.wait_for / wait_idle (what the tests wait with) time out while a build is
    held, and return the finished job once it is let go."""
    manager = client.app.state.document_manager
    started, release = threading.Event(), threading.Event()
    original = operator_assistant.rebuild

    def held_rebuild(*args, **kwargs):
        started.set()
        assert release.wait(10)
        return original(*args, **kwargs)

    operator_assistant.rebuild = held_rebuild
    job_id = client.post("/api/reindex", headers=AUTH).json()["job"]["id"]
    assert started.wait(10)
    assert manager.wait_for(job_id, 0.05) is None and manager.wait_idle(0.05) is False
    release.set()
    job = manager.wait_for(job_id, 10)
    assert job is not None and job["id"] == job_id and job["state"] == "succeeded"
    assert manager.wait_idle(0) is True
    assert manager.wait_for("no-such-job", 0) is None
