"""Property-based fuzzing of every operation in /openapi.json with schemathesis: generated valid
and invalid requests (bodies, query strings, path parameters, multipart uploads) against the
ASGI app in process (fake embedder, no network). No response may be a 5xx.

The operator key is sent, so the operator routes are fuzzed past authentication as well
(uploads of generated files, deletes of generated ids, reindexes). Those change the corpus and
the index, so every case of them runs against a fresh app over its own copy; the other
operations share one app that nothing changes. Bounded: at most MAX_EXAMPLES examples per
operation, no shrinking beyond that budget, no deadline."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from assistant.api import create_app
from assistant.embedding import FakeEmbedder
from assistant.service import Assistant
from tests.support.corpus import OPERATOR_KEY as KEY
from tests.support.corpus import working_copy

pytestmark = pytest.mark.system

MAX_EXAMPLES = 30
# Reindex takes no input: each case is the same full rebuild of a fresh copy, so a few suffice.
EXAMPLES = {("POST", "/api/reindex"): 5}
MUTATING = {("POST", "/api/documents"), ("DELETE", "/api/documents/{document_id}"), ("POST", "/api/reindex")}


def fresh_app(built: Path, folder: Path):
    config = working_copy(built, folder)
    assistant = Assistant(config, embedder=FakeEmbedder())
    assistant.open()
    return create_app(config, assistant)


def state_of(app) -> tuple:
    """The corpus files and the live index version of an app."""
    corpus = app.state.settings.corpus_dir
    return sorted(p.name for p in corpus.iterdir() if p.is_file()), app.state.assistant.live.index.version


class Switchboard:
    """The ASGI app schemathesis calls: forwards to whichever app the current case uses."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def read_only_app(built, tmp_path_factory):
    app = fresh_app(built, tmp_path_factory.mktemp("fuzz"))
    yield app
    app.state.document_manager.wait_idle(60)


@pytest.fixture(scope="module")
def switchboard(read_only_app):
    return Switchboard(read_only_app)


@pytest.fixture(scope="module")
def api_schema(switchboard):
    # Imported here, not at the top: collecting this module for a run that deselects it (the fast
    # path) then costs no hypothesis/schemathesis import.
    import schemathesis

    return schemathesis.openapi.from_asgi("/openapi.json", switchboard)


# Every operation of the schema (the last test checks that this list is complete). The schema is
# loaded in a fixture, not at import, so collecting the tests builds no index; schemathesis's own
# pytest plugin is not used (its lazy fixture loader does not run under pytest 9).
OPERATIONS = [
    ("POST", "/api/ask"),
    ("GET", "/api/search"),
    ("GET", "/api/documents"),
    ("GET", "/api/clauses/{clause_id}"),
    ("GET", "/api/documents/{document_id}/clauses"),
    ("GET", "/api/chapters"),
    ("GET", "/healthz"),
    ("POST", "/api/documents"),
    ("DELETE", "/api/documents/{document_id}"),
    ("POST", "/api/reindex"),
    ("GET", "/api/index/status"),
    ("POST", "/api/jobs/{job_id}/cancel"),
]


@pytest.mark.parametrize("method, path", OPERATIONS)
def test_no_operation_answers_with_a_server_error(api_schema, switchboard, read_only_app, built, tmp_path,
                                                   method, path):
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error

    operation = api_schema[path][method]
    mutating = (method, path) in MUTATING
    shared_state = state_of(read_only_app)

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES.get((method, path), MAX_EXAMPLES),
        deadline=None,
        derandomize=True,  # the same examples on every run: a CI failure reproduces locally
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def fuzz(case):
        app = fresh_app(built, Path(tempfile.mkdtemp(dir=tmp_path))) if mutating else read_only_app
        switchboard.app = app
        try:
            case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"}, checks=[not_a_server_error])
        finally:
            switchboard.app = read_only_app
            if mutating:
                app.state.document_manager.wait_idle(60)
        if not mutating:
            assert state_of(read_only_app) == shared_state, "a read-only operation changed the shared app"

    fuzz()


def test_every_operation_is_fuzzed(api_schema):
    listed = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert listed == set(OPERATIONS)


@pytest.mark.parametrize("filters", [{"document": "no-such-document"}, {"document": "ccso-zh", "lang": "en"}])
def test_ask_whose_filters_match_nothing_is_not_a_server_error(read_only_app, filters):
    """The first bug this fuzzing found: filters that leave no clause crashed compose_answer."""
    from fastapi.testclient import TestClient

    with TestClient(read_only_app, raise_server_exceptions=False) as client:
        response = client.post("/api/ask", json={"question": "数据安全", **filters})
    assert response.status_code < 500, response.text
