import time

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.service import Assistant


@pytest.fixture
def client(fake_settings, fake_assistant):
    with TestClient(create_app(fake_settings, fake_assistant)) as client:
        yield client


def test_ask_returns_the_answer_json(client, fake_assistant):
    response = client.post("/api/ask", json={"question": "第4.5条"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"question", "answer", "abstained", "reason", "citations", "took_ms", "index_version",
                         "timings_ms", "suggestions", "contact", "message", "confidence", "uncertain"}
    assert body["confidence"] == 1.0 and body["uncertain"] is False  # a named clause is in scope
    citation = body["citations"][0]
    assert set(citation) == {"id", "document", "clause", "title", "path", "page_start", "page_end", "lang",
                             "text", "highlights", "score", "kind", "link", "also_in", "children", "page_label",
                             "truncated"}
    assert citation["id"] == "ccso-zh:4.5"
    direct = fake_assistant.ask("第4.5条").to_dict()
    for timing in ("took_ms", "timings_ms"):
        direct.pop(timing), body.pop(timing)
    assert body == {**direct, "citations": [{**c, "highlights": [list(h) for h in c["highlights"]]}
                                            for c in direct["citations"]]}


def test_ask_filters(client):
    body = client.post("/api/ask", json={"question": "数据安全", "lang": "en", "k": 2}).json()
    assert all(c["lang"] == "en" for c in body["citations"]) and len(body["citations"]) <= 2


@pytest.mark.parametrize(
    "payload, status, message",
    [
        ({"question": ""}, 400, "empty"),
        ({"question": "   \n"}, 400, "empty"),
        ({"question": "x" * 5000}, 400, "too long"),
        ({}, 422, "question"),
        ({"question": 42}, 422, "question"),
        ({"question": "ok", "k": 0}, 422, "k"),
        ({"question": "ok", "lang": "fr"}, 422, "lang"),
    ],
)
def test_bad_questions_get_a_clear_4xx(client, payload, status, message):
    response = client.post("/api/ask", json=payload)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_a_document_filter_naming_no_document_is_a_404_not_a_refusal(client):
    # A mistyped id (the widget's data-document) used to come back as "the guidance does not
    # cover this", sending the user away from clauses that were there.
    said = "no document 'ccso-zhh'; the indexed documents are ccso-en, ccso-zh, meeting-report-2022"
    response = client.post("/api/ask", json={"question": "数据安全", "document": "ccso-zhh"})
    assert response.status_code == 404 and response.json()["detail"] == said
    response = client.get("/api/search", params={"q": "数据安全", "document": "ccso-zhh"})
    assert response.status_code == 404 and response.json()["detail"] == said
    response = client.post("/api/ask", json={"question": "数据安全", "document": "ccso-zh"})
    assert response.status_code == 200 and response.json()["citations"][0]["document"] == "ccso-zh"


def test_the_bare_address_opens_the_search_page(client):
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/search"
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


def test_malformed_json_is_a_4xx(client):
    response = client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "invalid request" in response.json()["detail"]


def test_search_clauses_documents_health(client):
    search = client.get("/api/search", params={"q": "数据安全", "k": 3}).json()
    assert len(search["hits"]) == 3 and {"score", "number", "path"} <= set(search["hits"][0])
    assert client.get("/api/clauses/ccso-zh:4.5").json()["number"] == "4.5"
    assert client.get("/api/clauses/ccso-zh:99.9").status_code == 404
    # a bare number, the natural first try, is answered with the ids that carry it
    response = client.get("/api/clauses/4.5")
    assert response.status_code == 404
    assert response.json()["detail"] == "no clause '4.5'; clause ids name their document: ccso-en:4.5, ccso-zh:4.5"
    assert "<document id>:<clause number>" in client.get("/api/clauses/99.9").json()["detail"]
    assert {d["id"] for d in client.get("/api/documents").json()} >= {"ccso-zh", "ccso-en"}
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["ready"] is True
    assert client.get("/docs").status_code == 200
    assert "/api/ask" in client.get("/openapi.json").json()["paths"]


def test_service_builds_its_index_in_the_background_and_reports_503_until_ready(fake_settings):
    app = create_app(fake_settings, Assistant(fake_settings))
    with TestClient(app) as client:
        deadline = time.time() + 30
        while client.get("/healthz").status_code != 200 and time.time() < deadline:
            status = client.post("/api/ask", json={"question": "数据安全"}).status_code
            assert status in (200, 503)
            time.sleep(0.05)
        assert client.post("/api/ask", json={"question": "数据安全"}).status_code == 200
