"""Dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request

from assistant.config import Settings
from assistant.service import Assistant


# What the public is told while there is no index to answer from (index_state says which).
NOT_READY = {
    "loading": ("the index is still loading; try again shortly", "5"),
    "building": ("the index is being built; try again in a minute", "15"),
    "unavailable": ("the guidance index is unavailable; the operators have been told", "300"),
}


# Async although nothing here awaits: FastAPI runs a sync dependency on a worker thread, a
# thread hop per request for two attribute reads (docs/benchmarks.md, "s4-bounded").
async def get_assistant(request: Request) -> Assistant:
    assistant: Assistant = request.app.state.assistant
    if not assistant.ready:
        detail, retry = NOT_READY.get(index_state(request.app), NOT_READY["loading"])
        raise HTTPException(status_code=503, detail=detail, headers={"Retry-After": retry})
    return assistant


def index_state(app: FastAPI) -> str:
    """loading | building | ready | unavailable, as the public routes report it."""
    if app.state.assistant.ready:
        return "ready"
    manager = getattr(app.state, "document_manager", None)
    if manager is not None and manager.building_at_start():
        return "building"
    if app.state.load_error:
        return "unavailable"
    return "loading"


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


AssistantDep = Annotated[Assistant, Depends(get_assistant)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
