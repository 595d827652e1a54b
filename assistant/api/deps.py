"""Dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from assistant.config import Settings
from assistant.service import Assistant


def get_assistant(request: Request) -> Assistant:
    assistant: Assistant = request.app.state.assistant
    if not assistant.ready:
        raise HTTPException(status_code=503, detail="the index is still loading; try again shortly",
                            headers={"Retry-After": "5"})
    return assistant


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


AssistantDep = Annotated[Assistant, Depends(get_assistant)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
