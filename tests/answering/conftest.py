"""Fixtures shared by the answering tests."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app


@pytest.fixture
def client(fake_assistant):
    """The API over the session's fake-embedder assistant."""
    app = create_app(fake_assistant.settings, assistant=fake_assistant)
    with TestClient(app) as test_client:
        yield test_client
