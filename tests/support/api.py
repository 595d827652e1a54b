"""Asking the HTTP API in tests: one place for the request and its status check, and for
waiting on an operator job."""

from __future__ import annotations

import time

FINISHED_JOB_STATES = ("succeeded", "failed", "cancelled")


def ask(client, question: str, **extra) -> dict:
    """POST /api/ask through a TestClient and return the answer JSON (200 required)."""
    response = client.post("/api/ask", json={"question": question, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def wait_job(client, job_id: str, headers: dict, timeout: float = 60.0,
             states: tuple[str, ...] = FINISHED_JOB_STATES) -> dict:
    """The job as GET /api/index/status reports it once it has finished, in one of ``states``.

    In process (a TestClient), the app's job queue says when the job has finished
    (DocumentManager.wait_for), so nothing polls the route beside the build; a real server in
    another process (an httpx client) is polled."""
    from fastapi.testclient import TestClient

    def status() -> dict:
        return next(j for j in client.get("/api/index/status", headers=headers).json()["jobs"] if j["id"] == job_id)

    if isinstance(client, TestClient):
        finished = client.app.state.document_manager.wait_for(job_id, timeout)
        job = status()
        assert finished is not None, f"job {job_id} still {job['state']} after {timeout} s"
        assert job["state"] in states, job
        return job
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = status()
        if job["state"] in FINISHED_JOB_STATES:
            assert job["state"] in states, job
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} still {job['state']} after {timeout} s")
