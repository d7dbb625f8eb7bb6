"""``/api/settings``, ``/api/models`` and ``/api/logs``: preferences, chat models and the app's recent log.

Models: list what the backend has (and, on llama.cpp, the packaged models it can install), pull one with
progress as Server-Sent Events (``progress`` events, then ``done`` or ``error``), delete one, choose the
default. Logs come from a bounded ring in memory (the newest 2,000 lines); no file is read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Literal

from fastapi import FastAPI, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from azera.api.chats import fail
from azera.db.engine import in_db
from azera.errors import ServiceError
from azera.llm import catalogue
from azera.llm.base import BackendError, ModelInfo
from azera.llm.registry import default_model
from azera.logs import ring
from azera.runtime import runtime
from azera.services.preferences import Preferences, load_preferences, update_preferences

MODEL_NAME = Path(min_length=1, max_length=200)
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class PreferencesChange(BaseModel):
    """Body of PATCH /api/settings: only the fields sent change."""

    model_config = {"extra": "forbid"}

    show_thinking: bool | None = None
    send_on_enter: bool | None = None
    theme: Literal["dark", "light"] | None = None
    font: Literal["Inter", "System", "Serif", "Mono"] | None = None
    code_font: Literal["JetBrains Mono", "Fira Code", "System Mono"] | None = None
    font_size: int | None = Field(default=None, ge=11, le=24)
    default_model: str | None = Field(default=None, max_length=200)


class ModelOut(BaseModel):
    """A chat model: installed, or packaged and installable (llama.cpp)."""

    name: str
    backend: str
    installed: bool
    default: bool
    size_bytes: int
    family: str


class DefaultModel(BaseModel):
    """Body of PUT /api/models/default."""

    name: str = Field(min_length=1, max_length=200)


class PullRequest(BaseModel):
    """Body of POST /api/models/pull."""

    name: str = Field(min_length=1, max_length=200)


class LogLineOut(BaseModel):
    """One line of the app's log."""

    time: datetime
    level: str
    logger: str
    message: str


async def _installed() -> list[ModelInfo]:
    backend = runtime().backend
    try:
        return await backend.list_models()
    except BackendError as error:
        detail = f"The {backend.name} backend is not answering: {error}"
        raise HTTPException(status_code=503, detail=detail) from error


async def _installed_names() -> list[str]:
    return [m.name for m in await _installed()]


async def _pull_events(name: str) -> AsyncIterator[dict]:
    try:
        async for progress in runtime().backend.pull_model(name):
            data = {"status": progress.status, "completed": progress.completed, "total": progress.total}
            yield {"event": "progress", "data": json.dumps(data)}
        yield {"event": "done", "data": json.dumps({"name": name})}
    except BackendError as error:
        yield {"event": "error", "data": json.dumps({"message": f"Pulling {name} failed: {error}"})}


def _add_settings_routes(api: FastAPI) -> None:
    @api.get("/api/settings")
    async def get_settings_() -> Preferences:
        """The UI and editor preferences the Settings page edits."""
        return await in_db(load_preferences)

    @api.patch("/api/settings")
    async def update_settings(change: PreferencesChange) -> Preferences:
        """Change some preferences (only the fields sent)."""
        changes = change.model_dump(exclude_unset=True, exclude_none=True)
        try:
            return await in_db(lambda session: update_preferences(session, **changes))
        except ServiceError as error:
            raise fail(error) from error

    @api.get("/api/logs")
    async def recent_logs(
        level: str = Query(default="info", pattern="^(debug|info|warning|error)$"),
        limit: int = Query(default=200, ge=1, le=2000),
    ) -> list[LogLineOut]:
        """The app's newest log lines at ``level`` or above, oldest first (from memory, at most 2,000 kept)."""
        return [
            LogLineOut(
                time=datetime.fromtimestamp(line.time, UTC), level=line.level, logger=line.logger, message=line.message
            )
            for line in ring().recent(LEVELS[level], limit)
        ]


def _add_model_routes(api: FastAPI) -> None:
    @api.get("/api/models", responses={503: {"description": "the chat backend does not answer"}})
    async def list_models() -> list[ModelOut]:
        """Installed chat models, then (llama.cpp) the packaged ones that can be installed."""
        backend = runtime().backend
        chosen = await in_db(lambda session: load_preferences(session).default_model or default_model())
        installed = await _installed()
        shown = [
            ModelOut(
                name=m.name,
                backend=backend.name,
                installed=True,
                default=m.name == chosen,
                size_bytes=m.size_bytes,
                family=m.family,
            )
            for m in installed
        ]
        names = {m.name for m in installed}
        if backend.name == "llama.cpp":
            shown += [
                ModelOut(
                    name=m.name,
                    backend=backend.name,
                    installed=False,
                    default=False,
                    size_bytes=m.size_bytes,
                    family=m.licence,
                )
                for m in catalogue.CATALOGUE.values()
                if m.name not in names
            ]
        return shown

    @api.post(
        "/api/models/pull",
        response_class=EventSourceResponse,
        responses={200: {"content": {"text/event-stream": {}}, "description": "progress, then done or error"}},
    )
    async def pull_model(body: PullRequest) -> EventSourceResponse:
        """Download a model (Ollama) or install a packaged one (llama.cpp), with progress as Server-Sent Events."""
        return EventSourceResponse(_pull_events(body.name.strip()), ping=15)

    @api.delete("/api/models/{name}", status_code=204, responses={404: {"description": "not installed"}})
    async def delete_model(name: str = MODEL_NAME) -> Response:
        """Delete an installed model."""
        if name not in await _installed_names():
            raise HTTPException(status_code=404, detail=f"No installed model '{name}'")
        try:
            await runtime().backend.delete_model(name)
        except BackendError as error:
            raise HTTPException(status_code=400, detail=str(error)) from error
        return Response(status_code=204)

    @api.put("/api/models/default", responses={404: {"description": "not installed"}})
    async def set_default_model(body: DefaultModel) -> Preferences:
        """Use this model when neither the chat nor the persona names one."""
        if body.name not in await _installed_names():
            raise HTTPException(status_code=404, detail=f"No installed model '{body.name}'")
        return await in_db(lambda session: update_preferences(session, default_model=body.name))


def add_settings_routes(api: FastAPI) -> None:
    """Settings, logs and models."""
    ring()  # start keeping log lines now
    _add_settings_routes(api)
    _add_model_routes(api)
