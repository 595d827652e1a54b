"""Asking the HTTP API in tests: one place for the request and its status check."""

from __future__ import annotations


def ask(client, question: str, **extra) -> dict:
    """POST /api/ask through a TestClient and return the answer JSON (200 required)."""
    response = client.post("/api/ask", json={"question": question, **extra})
    assert response.status_code == 200, response.text
    return response.json()
