"""Identity and state of the served index: the start-up build is a job, visible in the status,
and what is served meanwhile is what the docs say; files removed from the corpus stop being
served; DELETE works for a document that is served although its file is already gone."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.embedding import FakeEmbedder
from assistant.service import Assistant
from tests.support.corpus import OPERATOR_KEY

AUTH = {"Authorization": f"Bearer {OPERATOR_KEY}"}
EXTRA = "# Parking\n\n## 1 Visitor parking\n\nVisitors park in bay C next to the quokka enclosure.\n"


def _first_jobs(client, timeout: float = 30.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while not (jobs := client.get("/api/index/status", headers=AUTH).json()["jobs"]):
        assert time.monotonic() < deadline, "no start-up job"
        time.sleep(0.01)
    return jobs


def _documents(client) -> set[str]:
    return {d["id"] for d in client.get("/api/documents").json()}


def test_the_start_up_rebuild_is_a_job_and_the_old_index_serves_meanwhile(operator_settings):
    (operator_settings.corpus_dir / "parking.md").write_text(EXTRA, encoding="utf-8")  # corpus changed
    assistant = Assistant(operator_settings, embedder=FakeEmbedder())
    with TestClient(create_app(operator_settings, assistant)) as client:
        (job,) = _first_jobs(client)
        assert job["action"] == "startup" and "the corpus has changed" in job["note"]
        assert client.app.state.document_manager.wait_idle(60)
        status = client.get("/api/index/status", headers=AUTH).json()
        assert status["jobs"][0]["state"] == "succeeded" and status["state"] == "ready"
        assert status["jobs"][0]["version_before"] not in (None, status["version"])  # the old one served meanwhile
        assert "parking" in _documents(client)


def test_a_stale_index_holding_a_removed_file_is_not_served_during_the_start_up_build(operator_settings):
    (operator_settings.corpus_dir / "meeting-report-2022.txt").unlink()
    assistant = Assistant(operator_settings, embedder=FakeEmbedder())
    seen_during: list[int] = []
    original = assistant.rebuild

    def observed_rebuild(*args, **kwargs):
        # while the start-up build runs, the public gets 503 "being built", not the removed file
        seen_during.append(client.get("/api/documents").status_code)
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["state"] == "building"
        asked = client.post("/api/ask", json={"question": "meeting report 2022"})
        assert asked.status_code == 503 and "being built" in asked.json()["detail"]
        return original(*args, **kwargs)

    assistant.rebuild = observed_rebuild
    with TestClient(create_app(operator_settings, assistant)) as client:
        (job,) = _first_jobs(client)
        assert job["action"] == "startup" and "meeting-report-2022.txt" in job["note"]
        assert client.app.state.document_manager.wait_idle(60)
        assert seen_during == [503]
        assert client.get("/api/index/status", headers=AUTH).json()["jobs"][0]["state"] == "succeeded"
        assert "meeting-report-2022" not in _documents(client)


def test_removed_files_stop_being_served_after_a_reindex(operator_settings):
    assistant = Assistant(operator_settings, embedder=FakeEmbedder())
    assistant.open()
    with TestClient(create_app(operator_settings, assistant)) as client:
        assert "meeting-report-2022" in _documents(client)
        clause_id = assistant.document_clauses("meeting-report-2022")[0].id
        assert client.get(f"/api/clauses/{clause_id}").status_code == 200
        (operator_settings.corpus_dir / "meeting-report-2022.txt").unlink()  # by hand
        job = client.post("/api/reindex", headers=AUTH).json()["job"]
        assert client.app.state.document_manager.wait_idle(60)
        assert client.get("/api/index/status", headers=AUTH).json()["jobs"][0]["id"] == job["id"]
        assert "meeting-report-2022" not in _documents(client)
        assert client.get(f"/api/clauses/{clause_id}").status_code == 404


def test_delete_of_a_served_document_whose_file_is_already_gone(operator_settings):
    assistant = Assistant(operator_settings, embedder=FakeEmbedder())
    assistant.open()
    with TestClient(create_app(operator_settings, assistant)) as client:
        (operator_settings.corpus_dir / "meeting-report-2022.txt").unlink()  # by hand, no reindex yet
        assert "meeting-report-2022" in _documents(client)  # still served
        response = client.delete("/api/documents/meeting-report-2022", headers=AUTH)
        assert response.status_code == 202, response.text
        assert client.app.state.document_manager.wait_idle(60)
        job = client.get("/api/index/status", headers=AUTH).json()["jobs"][0]
        assert job["state"] == "succeeded" and job["file"] is None
        assert "meeting-report-2022" not in _documents(client)
        # an id neither in the corpus nor served is still 404
        assert client.delete("/api/documents/meeting-report-2022", headers=AUTH).status_code == 404
