"""Security headers and CSP, rate limiting, body/URL limits, time limits, path traversal."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import shutil
import socket
import sys
import time
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.api.ratelimit import Rate, RateLimitSettingError, TokenBuckets, parse_rate
from assistant.api.security import JSON_BODY_LIMIT, MAX_QUERY_STRING
from assistant.config import MAX_QUESTION_CHARS, Settings
from assistant.embedding import FakeEmbedder
from assistant.service import Assistant
from tests.support.corpus import GUIDANCE, OPERATOR_KEY, working_copy
from tests.support.live_server import start_server
from tests.support.paths import REPO

KEY = OPERATOR_KEY
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def shared(built, tmp_path_factory) -> tuple[Settings, Assistant]:
    """One index for the module: these tests read it and never change it."""
    settings = working_copy(built, tmp_path_factory.mktemp("security"))
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assistant.open()
    return settings, assistant


@pytest.fixture
def fake_settings(shared) -> Settings:
    return shared[0]


@pytest.fixture
def fake_assistant(shared, monkeypatch) -> Assistant:
    return shared[1]


@pytest.fixture
def app(fake_settings, fake_assistant):
    return create_app(fake_settings, fake_assistant)


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


def csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


# -- headers and CSP ---------------------------------------------------------------------------------

HTML_PAGES = ["/search", "/documents/ccso-zh", "/documents/ccso-en", "/documents/no-such-document"]


@pytest.mark.parametrize("path", HTML_PAGES)
def test_html_pages_carry_a_strict_csp_and_frame_protection(client, path):
    response = client.get(path)
    assert response.headers["content-type"].startswith("text/html")
    policy = csp(response)
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert policy["base-uri"] == "'none'" and policy["form-action"] == "'self'"
    assert policy["default-src"] in ("'self'", "'none'")
    assert policy["frame-ancestors"] in ("'none'", "'self'")
    expected_xfo = "DENY" if policy["frame-ancestors"] == "'none'" else "SAMEORIGIN"
    assert response.headers["X-Frame-Options"] == expected_xfo
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin", "no-referrer")


class _Inline(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block, and off-site resources."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.resources: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            if not attrs.get("src"):
                self._in_script = True
                self.problems.append("inline <script>")
            else:
                self.resources.append(attrs["src"])
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "link" and attrs.get("href"):
            self.resources.append(attrs["href"])
        if tag in ("img", "iframe", "object", "embed") and attrs.get("src"):
            self.resources.append(attrs["src"])
        for name, value in attrs.items():
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name.startswith("on"):
                self.problems.append(f"{name} handler on <{tag}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL on <{tag}>")


@pytest.mark.parametrize("path", HTML_PAGES)
def test_pages_need_nothing_the_csp_forbids(client, path):
    """The HTML pages must work under the policy they are sent with: no inline script or
    style, no event-handler attributes, and only same-origin (or data:) resources."""
    parser = _Inline()
    parser.feed(client.get(path).text)
    assert parser.problems == []
    for url in parser.resources:
        assert not re.match(r"^(https?:)?//", url), f"off-site resource {url}"
        assert url.startswith("data:") or client.get(urljoin(path, url)).status_code == 200


def test_search_page_script_and_style_are_served_as_such(client):
    script = client.get("/static/search.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    style = client.get("/static/pages.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert script.headers["X-Content-Type-Options"] == "nosniff"


def test_widget_script_is_embeddable_cross_origin(client):
    response = client.get("/widget.js", headers={"Origin": "https://members.example.org"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Frame-Options" not in response.headers


def test_json_answers_are_not_renderable(client):
    for response in (
        client.post("/api/ask", json={"question": "<script>alert(1)</script> 数据安全"}),
        client.get("/api/search", params={"q": "<img src=x onerror=alert(1)>"}),
        client.get("/healthz"),
        client.get("/api/clauses/nope"),
    ):
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert csp(response) == {"default-src": "'none'", "frame-ancestors": "'none'"}


def test_docs_page_gets_an_honest_relaxed_policy(client):
    """/docs is FastAPI's Swagger UI: it loads its assets from the jsDelivr CDN (unreachable
    here) and starts with one inline script, allowed by its hash rather than 'unsafe-inline'."""
    response = client.get("/docs")
    policy = csp(response)
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.S)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy["script-src"].split()
    assert "'unsafe-inline'" not in policy["script-src"] and "https://cdn.jsdelivr.net" in policy["script-src"]
    assert policy["frame-ancestors"] == "'none'" and response.headers["X-Frame-Options"] == "DENY"
    assert client.get("/openapi.json").status_code == 200


def _readme_headers() -> dict[str, dict[str, str]]:
    """The README's headers table: row label -> {header: value}."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text.split("<!-- headers-table -->")[1].split("<!-- /headers-table -->")[0]
    rows = {}
    for line in table.strip().splitlines()[2:]:
        label, stated = line.strip("|").split("|", 1)
        rows[label.strip()] = dict(re.findall(r"`([A-Za-z-]+): ([^`]+)`", stated))
    return rows


def test_the_headers_the_readme_states_are_the_ones_sent(fake_settings, fake_assistant, client, tmp_path):
    """Real responses of every kind carry exactly what the README says: pages, JSON answers and
    errors from routes and from middleware, the widget, static files, the redirect."""
    rows = _readme_headers()
    every, = (v for k, v in rows.items() if k.startswith("every response"))
    html, = (v for k, v in rows.items() if k.startswith("HTML pages"))
    as_json, = (v for k, v in rows.items() if k.startswith("JSON"))
    widget, = (v for k, v in rows.items() if k.startswith("`/widget.js`"))
    docs, = (v for k, v in rows.items() if k.startswith("`/docs`"))
    assert every and html and as_json and widget and docs

    limited = Settings(**{**fake_settings.model_dump(), "rate_limit": "1/minute"})
    with TestClient(create_app(limited, fake_assistant)) as strict:
        strict.post("/api/ask", json={"question": "数据安全"})
        too_many = strict.post("/api/ask", json={"question": "数据安全"})
    no_index = fake_settings.model_copy(update={"auto_build": False, "index_dir": tmp_path / "none"})
    loading = Assistant(no_index, embedder=FakeEmbedder())  # nothing to load: not ready
    with TestClient(create_app(no_index, loading)) as cold:
        not_ready = {"page": cold.get("/documents/ccso-zh"), "json": cold.post("/api/ask", json={"question": "x"})}
    kinds = {
        "html": [client.get(p) for p in HTML_PAGES] + [client.head("/search"), not_ready["page"]],
        "json": [
            client.post("/api/ask", json={"question": "数据安全"}), client.get("/api/search", params={"q": "录音"}),
            client.get("/healthz"), client.get("/api/documents"), client.get("/api/clauses/nope"),
            client.post("/api/ask", json={"nope": 1}), client.post("/api/ask", content=b"x" * (JSON_BODY_LIMIT + 1)),
            client.get("/api/search?q=" + "q" * (MAX_QUERY_STRING + 1)), too_many, not_ready["json"],
        ],
        "widget": [client.get("/widget.js"), client.head("/widget.js")],
        "static": [client.get("/static/search.js"), client.get("/static/pages.css"),
                   client.options("/api/ask", headers={"Origin": "https://members.example.org",
                                                       "Access-Control-Request-Method": "POST"})],
    }
    statuses = {r.status_code for r in kinds["json"]}
    assert {200, 404, 413, 414, 422, 429, 503} <= statuses, statuses
    for kind, responses in kinds.items():
        for response in responses:
            expected = dict(every)
            expected.update({"html": html, "json": as_json, "widget": widget}.get(kind, {}))
            for name, value in expected.items():
                assert response.headers.get(name) == value, (kind, response.request.url, name)
            if kind != "html":
                assert "X-Frame-Options" not in response.headers, (kind, response.request.url)
            if kind in ("widget", "static"):
                assert "Content-Security-Policy" not in response.headers, (kind, response.request.url)
    page = client.get("/docs")
    assert page.headers["X-Frame-Options"] == docs["X-Frame-Options"]
    assert "https://cdn.jsdelivr.net" in page.headers["Content-Security-Policy"]


# -- rate limiting -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "value, expected",
    [
        ("60/minute", Rate(60, 60.0)),
        ("5/second", Rate(5, 1.0)),
        ("1000/hour", Rate(1000, 3600.0)),
        (" 10 / Minute ", Rate(10, 60.0)),
        ("2/s", Rate(2, 1.0)),
        ("0", None),
        ("0/minute", None),
        ("", None),
    ],
)
def test_parse_rate(value, expected):
    assert parse_rate(value) == expected


def test_settings_give_the_rates_and_refuse_a_bad_one_in_one_line():
    from assistant.config import Settings, SettingsError, load_settings

    settings = Settings(_env_file=None, rate_limit="10/second")
    assert (settings.ask_rate, settings.search_rate) == (Rate(10, 1.0), Rate(50, 1.0))
    settings = Settings(_env_file=None, rate_limit="0", search_rate_limit="2/minute")
    assert (settings.ask_rate, settings.search_rate) == (None, Rate(2, 60.0))
    assert Settings(_env_file=None, rate_limit="0").search_rate is None
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None, search_rate_limit="lots")
    assert str(error.value).startswith("ASSISTANT_SEARCH_RATE_LIMIT='lots': not a rate")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("value", ["abc", "60", "60/fortnight", "-1/minute", "1.5/minute", "/minute", "60 per minute"])
def test_bad_rate_limit_setting_stops_startup_with_the_reason(fake_settings, fake_assistant, value):
    with pytest.raises(RateLimitSettingError, match="ASSISTANT_RATE_LIMIT.*N/second, N/minute or N/hour"):
        create_app(fake_settings.model_copy(update={"rate_limit": value}), fake_assistant)


def test_token_bucket_refills_at_the_rate():
    now = [1000.0]
    buckets = TokenBuckets(Rate(3, 60.0), clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(20.0)
    assert buckets.take("b") == 0.0  # per client
    now[0] += 20.0
    assert buckets.take("a") == 0.0
    assert buckets.take("a") == pytest.approx(20.0)
    now[0] += 3600
    assert [buckets.take("a") for _ in range(4)][:3] == [0.0, 0.0, 0.0]  # never more than the burst


def test_token_bucket_memory_is_bounded():
    buckets = TokenBuckets(Rate(1, 60.0), max_clients=100)
    for i in range(1000):
        buckets.take(f"10.0.{i // 256}.{i % 256}")
    assert len(buckets) == 100


def test_rate_limit_gives_429_with_retry_after(fake_settings, fake_assistant):
    settings = fake_settings.model_copy(update={"rate_limit": "3/minute"})
    with TestClient(create_app(settings, fake_assistant), client=("203.0.113.7", 40000)) as client:
        codes = [client.post("/api/ask", json={"question": "数据安全"}).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        # X-Forwarded-For is not believed: the TCP peer is the client
        refused = client.post("/api/ask", json={"question": "数据安全"}, headers={"X-Forwarded-For": "198.51.100.1"})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 20
        assert "3/minute" in refused.json()["detail"]
        assert refused.headers["X-Content-Type-Options"] == "nosniff"
        # The search page queries as you type: its own bucket, five times the questions' one.
        searches = [client.get("/api/search", params={"q": f"数据{i}"}).status_code for i in range(16)]
        assert searches == [200] * 15 + [429]
        assert "15/minute" in client.get("/api/search", params={"q": "x"}).json()["detail"]
        # other routes are not limited
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/documents").status_code == 200
        assert client.get("/api/clauses/ccso-zh:4.5").status_code == 200
    with TestClient(create_app(settings, fake_assistant), client=("203.0.113.8", 40000)) as other:
        assert other.post("/api/ask", json={"question": "数据安全"}).status_code == 200


def test_rate_limited_answer_is_readable_by_an_allowed_origin(fake_settings, fake_assistant):
    origin = "https://members.example.org"
    settings = fake_settings.model_copy(update={"rate_limit": "1/hour", "allowed_origins": [origin]})
    with TestClient(create_app(settings, fake_assistant)) as client:
        client.post("/api/ask", json={"question": "数据安全"}, headers={"Origin": origin})
        refused = client.post("/api/ask", json={"question": "数据安全"}, headers={"Origin": origin})
        assert refused.status_code == 429
        assert refused.headers["Access-Control-Allow-Origin"] == origin
        assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]
        preflight = client.options("/api/ask", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
        assert preflight.status_code == 200


def test_rate_limit_off_with_zero(client):
    assert all(client.post("/api/ask", json={"question": "第4.5条"}).status_code == 200 for _ in range(80))
    assert all(client.get("/api/search", params={"q": "数据"}).status_code == 200 for _ in range(80))


def test_search_limit_can_be_set_on_its_own(fake_settings, fake_assistant):
    settings = fake_settings.model_copy(update={"rate_limit": "0", "search_rate_limit": "2/minute"})
    with TestClient(create_app(settings, fake_assistant)) as client:
        assert [client.get("/api/search", params={"q": "数据"}).status_code for _ in range(3)] == [200, 200, 429]
        assert all(client.post("/api/ask", json={"question": "数据安全"}).status_code == 200 for _ in range(5))
    with pytest.raises(RateLimitSettingError, match="ASSISTANT_SEARCH_RATE_LIMIT='lots'"):
        create_app(fake_settings.model_copy(update={"search_rate_limit": "lots"}), fake_assistant)


# -- body and URL limits -----------------------------------------------------------------------------

def test_oversized_json_body_is_413(client):
    response = client.post("/api/ask", json={"question": "x" * 1_000_000})
    assert response.status_code == 413
    assert f"limit is {JSON_BODY_LIMIT} bytes" in response.json()["detail"]


def test_oversized_body_without_content_length_is_413_on_the_stream(client):
    def chunks():
        for _ in range(200):
            yield b"x" * 1024

    response = client.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413 and "too large" in response.json()["detail"]


def _asgi(app, method: str, raw_path: bytes, body_chunks=(), headers=()) -> tuple[int, dict, bytes]:
    """Call the ASGI app as uvicorn would: ``path`` is the percent-decoded ``raw_path``."""
    path_bytes, _, query = raw_path.partition(b"?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": unquote(path_bytes.decode("latin-1")), "raw_path": path_bytes,
        "query_string": query, "root_path": "", "headers": [(k.lower(), v) for k, v in headers],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }
    messages = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in body_chunks]
    messages.append({"type": "http.request", "body": b"", "more_body": False})
    sent: list[dict] = []

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # the client stays connected until the response is sent

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


def test_a_false_content_length_does_not_get_past_the_limit(app, client):
    status, _, body = _asgi(
        app, "POST", b"/api/ask", body_chunks=[b'{"question": "', b"x" * 70_000, b'"}'],
        headers=[(b"content-type", b"application/json"), (b"content-length", b"20")],
    )
    assert status == 413 and b"too large" in body


def test_overlong_query_string_is_414(client):
    response = client.get("/api/search", params={"q": "数" * 5000})
    assert response.status_code == 414 and str(MAX_QUERY_STRING) in response.json()["detail"]


# -- time limit --------------------------------------------------------------------------------------

def test_slow_question_gets_503_at_the_time_limit(fake_settings, fake_assistant):
    import threading

    original = fake_assistant.ask
    # The question is held until the 503 is in, not slept on for a fixed time: it cannot be
    # answered before the limit, and the test waits only for its thread to end.
    release, finished = threading.Event(), threading.Event()

    def slow_ask(*args, **kwargs):
        try:
            assert release.wait(20)
            return original(*args, **kwargs)
        finally:
            finished.set()

    settings = fake_settings.model_copy(update={"request_timeout": 0.3})
    try:
        fake_assistant.ask = slow_ask
        with TestClient(create_app(settings, fake_assistant)) as client:
            started = time.monotonic()
            response = client.post("/api/ask", json={"question": "数据安全"})
            took = time.monotonic() - started
            fake_assistant.ask = original
            release.set()
            assert client.post("/api/ask", json={"question": "数据安全"}).status_code == 200
    finally:
        fake_assistant.ask = original
        release.set()
    assert response.status_code == 503 and "longer than 0.3 s" in response.json()["detail"]
    assert response.headers["Retry-After"] == "5" and took < 1.2
    assert finished.wait(10)  # the abandoned thread finishes on its own


def test_a_question_that_times_out_waiting_for_the_model_is_dropped_not_run_after_its_503(built, tmp_path):
    import threading

    class Gate(FakeEmbedder):
        def __init__(self):
            super().__init__()
            self.ran: list[str] = []
            self.busy, self.release = threading.Event(), threading.Event()

        def embed_queries(self, texts):
            self.ran += list(texts)
            self.busy.set()
            assert self.release.wait(20)
            return super().embed_queries(texts)

    settings = working_copy(built, tmp_path).model_copy(update={"request_timeout": 0.4})
    gate = Gate()
    assistant = Assistant(settings, embedder=gate)
    assistant.open()
    occupier = threading.Thread(target=assistant._query_vector, args=("occupies the model",), daemon=True)
    with TestClient(create_app(settings, assistant)) as client:
        occupier.start()
        assert gate.busy.wait(10)
        started = time.monotonic()
        response = client.post("/api/ask", json={"question": "录音保存多久"})
        took = time.monotonic() - started
        gate.release.set()
        occupier.join(10)
        time.sleep(0.3)  # the model thread is free: a question still queued would run now
        assert client.post("/api/ask", json={"question": "数据安全"}).status_code == 200
    assert response.status_code == 503 and response.headers["Retry-After"] == "5" and took < 2
    assert "录音保存多久" not in gate.ran and assistant._batcher.dropped == 1


def test_a_shed_question_is_429_or_503_with_retry_after_at_once(built, tmp_path):
    settings = working_copy(built, tmp_path).model_copy(update={"rate_limit": "600/minute"})
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assistant.open()
    with TestClient(create_app(settings, assistant)) as client:
        assistant._batcher.max_per_client = 0  # this client already has its share waiting
        per_client = client.post("/api/ask", json={"question": "录音保存多久"})
        assistant._batcher.max_per_client, assistant._batcher.max_pending = 8, 0  # the queue is full
        full = client.get("/api/search", params={"q": "数据安全"})
        assistant._batcher.max_pending = 256
        fine = client.post("/api/ask", json={"question": "录音保存多久"})
    assert per_client.status_code == 429 and per_client.headers["Retry-After"] == "1"
    assert "too many questions at once" in per_client.json()["detail"]
    assert full.status_code == 503 and full.headers["Retry-After"] == "2" and "busy" in full.json()["detail"]
    assert fine.status_code == 200


def test_a_question_costs_its_tokens_against_the_clients_budget(built, tmp_path):
    settings = working_copy(built, tmp_path).model_copy(update={"rate_limit": "8/minute"})
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assistant.open()
    longest = "录" * settings.max_question_chars  # about 500 tokens: 4 units
    with TestClient(create_app(settings, assistant)) as client:
        statuses = [client.post("/api/ask", json={"question": longest[:-1] + str(i)}).status_code for i in range(3)]
    assert statuses == [200, 200, 429]  # 8 units: two of the longest questions, not eight
    with TestClient(create_app(settings, assistant)) as client:
        short = [client.post("/api/ask", json={"question": f"录音 {i}"}).status_code for i in range(9)]
    assert short == [200] * 8 + [429]  # a real question costs one unit


# -- path traversal ----------------------------------------------------------------------------------

TRAVERSALS = [
    "../pyproject.toml", "..%2fpyproject.toml", "%2e%2e/pyproject.toml", "%2e%2e%2fpyproject.toml",
    "..%5cpyproject.toml", "....//pyproject.toml", "..%252fpyproject.toml", "%2e%2e%2f%2e%2e%2fpyproject.toml",
    "../../../../../../etc/passwd", "%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/etc/passwd", "%2fetc%2fpasswd",
    "..%00/pyproject.toml", "pyproject.toml%00.js", "%00", "..", "%2e%2e",
    "../api/app.py", "..%2fapi%2fapp.py", "../../assistant/config.py",
]
SECRETS = [b"[build-system]", b"root:x:0:0", b"def create_app", b"class Settings"]


def _leaks(body: bytes) -> bool:
    return any(secret in body for secret in SECRETS)


@pytest.mark.parametrize("prefix", ["/static/", "/widget.js/", "/documents/", "/api/clauses/", "/api/documents/",
                                    "/search/", "/"])
def test_no_route_reads_outside_its_folder(app, client, prefix):
    for attack in TRAVERSALS:
        for method in ("GET", "HEAD"):
            status, headers, body = _asgi(app, method, (prefix + attack).encode())
            assert not _leaks(body), (method, prefix + attack)
            assert status in (400, 404, 405, 307), (method, prefix + attack, status)
    # and the legitimate files are still served
    assert client.get("/static/search.js").status_code == 200 and client.get("/widget.js").status_code == 200


def test_delete_never_touches_a_file_outside_the_corpus(app, client, fake_settings, tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text("## 1 Outside\n\nNot part of the corpus.\n")
    index_file = next(fake_settings.index_dir.glob("v-*/manifest.json"))
    corpus_before = sorted(p.name for p in fake_settings.corpus_dir.iterdir())
    attacks = TRAVERSALS + [
        "..%2foutside", "..%2Foutside.md", "%2e%2e%2foutside", str(outside), str(outside).replace("/", "%2f"),
        "..%2findex%2fCURRENT", "..%2f..%2f" + "x" * 150, "ccso-en%00", "ccso-en.md", "CCSO-EN", "%20ccso-en",
    ]
    headers = [(b"authorization", f"Bearer {KEY}".encode())]
    for attack in attacks:
        status, _, body = _asgi(app, "DELETE", b"/api/documents/" + attack.encode(), headers=headers)
        assert status in (404, 405, 422), (attack, status, body)
    assert outside.exists() and index_file.exists()
    assert sorted(p.name for p in fake_settings.corpus_dir.iterdir()) == corpus_before
    assert app.state.document_manager.jobs() == []


def _raw_http(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before reading it all
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A real server (uvicorn + h11), for what only the wire shows."""
    root = tmp_path_factory.mktemp("live")
    shutil.copytree(GUIDANCE, root / "corpus")
    server = start_server(root, root / "corpus", root / "index", operator_key=KEY, rate_limit="0",
                          max_upload_bytes="1000000")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.mark.system
def test_traversal_over_real_sockets(live):
    """Raw request lines, exactly as sent (an HTTP client library would normalise them)."""
    for prefix in ("/static/", "/widget.js/", "/documents/", "/api/clauses/"):
        for attack in TRAVERSALS:
            reply = _raw_http(live.port, f"GET {prefix}{attack} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else None
            assert not _leaks(reply), (prefix + attack, reply[:300])
            assert status in (400, 404, 405, 307), (prefix + attack, reply[:200])
    reply = _raw_http(live.port, b"DELETE /api/documents/..%2f..%2fcorpus%2fccso-en.md HTTP/1.1\r\nHost: x\r\n"
                                 b"Authorization: Bearer " + KEY.encode() + b"\r\nConnection: close\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 404")
    assert httpx.get(live.url + "/api/documents").json()[0]["id"]


@pytest.mark.system
def test_upload_over_the_limit_is_413_on_a_real_socket(live):
    """Without a Content-Length (chunked), the limit is enforced on the stream; with one, the
    upload is refused before the body is read. Either way the client reads a 413."""
    def chunks():
        yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n\r\n"
        for _ in range(40):
            yield b"1 Clause\n\n" + b"word " * 10_000

    with httpx.Client(base_url=live.url, headers=AUTH, timeout=30) as client:
        before = client.get("/api/index/status").json()
        response = client.post("/api/documents", content=chunks(),
                               headers={"Content-Type": "multipart/form-data; boundary=b"})
        assert response.status_code == 413 and "at most 1000000 bytes" in response.json()["detail"]
        big = client.post("/api/documents", files={"file": ("big.txt", b"1 Clause\n\n" + b"word " * 300_000)})
        assert big.status_code == 413
        # a file just over the upload limit inside a body under the body limit: the copy stops it
        edge = client.post("/api/documents", files={"file": ("edge.txt", b"1 Clause\n\n" + b"w" * 1_000_000)})
        assert edge.status_code == 413 and "ASSISTANT_MAX_UPLOAD_BYTES" in edge.json()["detail"]
        after = client.get("/api/index/status").json()
        assert after["version"] == before["version"] and after["corpus"] == before["corpus"]
        assert [j for j in after["jobs"] if j["action"] != "startup"] == []  # the first start builds as a job
        # the server is fine afterwards
        assert client.post("/api/ask", json={"question": "第4.5条"}).status_code == 200


@pytest.mark.system
def test_question_limits_on_a_real_socket(live):
    with httpx.Client(base_url=live.url, timeout=30) as client:
        huge = client.post("/api/ask", content=json.dumps({"question": "问" * 1_000_000}),
                           headers={"Content-Type": "application/json"})
        assert huge.status_code == 413
        medium_url = client.get("/api/search", params={"q": "数" * MAX_QUESTION_CHARS})  # 4.5 KB encoded
        assert medium_url.status_code == 200
        long_url = client.get("/api/search", params={"q": "q" * 20000})
        assert long_url.status_code in (400, 414)  # h11 refuses a request head over 16 KB first
        long_question = client.post("/api/ask", json={"question": "问" * (MAX_QUESTION_CHARS + 1)})
        assert long_question.status_code == 400 and "too long" in long_question.json()["detail"]
        assert client.get("/healthz").status_code == 200
    # a 1 MB URL: h11 refuses a request head over 16 KB before the app sees it
    reply = _raw_http(live.port, b"GET /api/search?q=" + b"q" * 1_000_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400") or reply == b""
    assert httpx.get(live.url + "/healthz").status_code == 200


# -- scripts/loadtest.py -----------------------------------------------------------------------------

def _loadtest():
    import importlib.util

    spec = importlib.util.spec_from_file_location("loadtest", REPO / "scripts" / "loadtest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("url", ["http://10.1.2.3:8000", "http://[2001:db8::1]:8000", "http://192.168.0.10",
                                 "ftp://127.0.0.1/", "http://0.0.0.0:8000"])
def test_loadtest_refuses_anything_but_loopback(url):
    with pytest.raises(SystemExit, match="loadtest: "):
        _loadtest().loopback_only(url)


@pytest.mark.system
def test_loadtest_bounded_run_against_a_real_server(live, capsys):
    loadtest = _loadtest()
    assert loadtest.loopback_only(live.url + "/") == live.url
    pool = loadtest.question_pool(300, seed=1)
    assert len(set(pool)) == 300
    assert sum(any("\u4e00" <= ch <= "\u9fff" for ch in q) for q in pool) > 100  # Chinese and English
    code = loadtest.main(["--url", live.url, "--requests", "120", "--concurrency", "8", "--path", "mixed",
                          "--pid", str(live.process.pid), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["sent"] == 120 and report["statuses"] == {"200": 120} and report["server_errors_5xx"] == 0
    assert report["dropped_or_failed_connections"] == 0
    assert report["latency_ms"]["p50"] <= report["latency_ms"]["p99"] <= report["latency_ms"]["max"]
    assert report["server_memory"]["after"]["rss_mib"] > 0
    with pytest.raises(SystemExit):
        loadtest.main(["--url", live.url, "--requests", "1000000"])


# -- small hardening items (issue 15) ---------------------------------------------------------------

def test_public_health_shows_no_file_names_or_paths_and_the_operator_status_keeps_them(
    fake_settings, fake_assistant, tmp_path
):
    corpus = tmp_path / "corpus"
    shutil.copytree(fake_settings.corpus_dir, corpus)
    (corpus / "board-minutes-confidential.pdf").write_bytes(b"%PDF-1.4 garbage")
    settings = fake_settings.model_copy(update={"corpus_dir": corpus, "index_dir": tmp_path / "index"})
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assistant.open()
    assert any("board-minutes" in error for error in assistant.status()["load_errors"])
    with TestClient(create_app(settings, assistant)) as client:
        health = client.get("/healthz")
        operator = client.get("/api/index/status", headers=AUTH).json()
    assert health.status_code == 200 and health.json()["documents_skipped"] == 1
    assert "board-minutes" not in health.text and str(tmp_path) not in health.text
    assert any("board-minutes" in error for error in operator["load_errors"])

    broken = settings.model_copy(update={"index_dir": tmp_path / "absent", "auto_build": False})
    with TestClient(create_app(broken, Assistant(broken, embedder=FakeEmbedder()))) as client:
        deadline = time.monotonic() + 10
        while "error" not in (health := client.get("/healthz")).json() and time.monotonic() < deadline:
            time.sleep(0.02)
        operator = client.get("/api/index/status", headers=AUTH).json()
    assert health.status_code == 503 and "error" in health.json()
    assert str(tmp_path) not in health.text and "absent" not in health.text
    assert "absent" in operator["error"]


GET_ROUTES = ["/healthz", "/api/documents", "/api/clauses/ccso-zh:4.5", "/api/search?q=%E5%BD%95%E9%9F%B3",
              "/search", "/documents/ccso-zh", "/widget.js", "/static/pages.css", "/openapi.json"]


@pytest.mark.parametrize("path", GET_ROUTES)
def test_head_is_answered_wherever_get_is(client, path):
    get, head = client.get(path), client.head(path)
    assert get.status_code == 200 and head.status_code == 200, (head.status_code, head.text)
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    if "content-length" in get.headers and path != "/api/search?q=%E5%BD%95%E9%9F%B3":  # took_ms varies
        assert head.headers["content-length"] == get.headers["content-length"]


def test_a_redirect_never_echoes_the_host_header(client):
    response = client.get("/api/documents/", headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 307
    assert "evil.example" not in response.headers["location"]
    assert response.headers["location"] == "/api/documents"
    viewer = client.get("/documents/", headers={"Host": "evil.example"}, follow_redirects=False)
    assert viewer.status_code == 307 and "evil.example" not in viewer.headers["location"]


@pytest.mark.system
def test_a_rotating_forwarded_for_from_loopback_does_not_escape_the_rate_limit(built, tmp_path):
    settings = working_copy(built, tmp_path)
    server = start_server(tmp_path, settings.corpus_dir, settings.index_dir, rate_limit="3/minute")
    try:
        server.wait_ready()
        statuses = [
            httpx.post(server.url + "/api/ask", json={"question": "录音"}, timeout=30,
                       headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
            for i in range(5)
        ]
    finally:
        server.stop()
    assert statuses[:3] == [200] * 3 and statuses[3:] == [429, 429]


def test_forwarded_for_is_believed_from_the_proxies_named(built, tmp_path, monkeypatch):
    import assistant.cli as cli_module

    seen = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **options: seen.update(options))
    monkeypatch.setattr(cli_module, "_check_port_free", lambda host, port: None)  # nothing listens here
    settings = working_copy(built, tmp_path)
    base = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir), "--embedder", "fake"]
    assert cli_module.main([*base, "serve"]) == 0
    assert seen["proxy_headers"] is False
    assert cli_module.main([*base, "serve", "--forwarded-allow-ips", "10.0.0.5"]) == 0
    assert seen["proxy_headers"] is True and seen["forwarded_allow_ips"] == "10.0.0.5"
