"""``/api/personas``: list, read, create, update and delete personas; the template; versions and restore.

A persona is a markdown document with front matter (the same file as in the personas folder); the API takes
and gives that text, plus its parsed fields. Same rules as the Personas page: built-in personas are only
deleted with ``?confirm=true``, every save keeps a version, and any version can be restored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Path, Query, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from azera.api.chats import fail
from azera.config import SEED_PERSONAS_DIR, get_settings
from azera.db.engine import in_db
from azera.db.models import Persona
from azera.errors import ServiceError
from azera.services import personas as persona_service
from azera.services.persona_files import MAX_BODY_CHARS, render_persona

TEMPLATE_FILE = SEED_PERSONAS_DIR / "_template.md"
PERSONA_ID = Path(min_length=1, max_length=64)
NOT_FOUND = {404: {"description": "no such persona or version"}}


class PersonaOut(BaseModel):
    """A persona: its fields and its whole document."""

    id: str
    name: str
    kind: str = Field(description='"ai" (talks to you) or "user" (who you are)')
    emoji: str
    color: str
    model: str
    temperature: float | None
    sampling: dict[str, Any]
    voice: str
    memory: bool
    seeded: bool = Field(description="a built-in persona")
    document: str = Field(description="the markdown file: front matter and body")
    updated_at: datetime


class PersonaText(BaseModel):
    """Body of a create or update: the markdown document (front matter and body)."""

    document: str = Field(min_length=1, max_length=MAX_BODY_CHARS + 5_000)


class VersionOut(BaseModel):
    """A saved version of a persona."""

    number: int
    note: str
    created_at: datetime
    document: str


def _out(persona: Persona) -> PersonaOut:
    document = persona_service.document_of(persona)
    return PersonaOut(
        **document.model_dump(include={"id", "name", "kind", "emoji", "color", "model", "temperature", "voice"}),
        sampling=dict(document.sampling),
        memory=document.memory,
        seeded=persona.seeded,
        document=render_persona(document),
        updated_at=persona.updated_at,
    )


def _folder():
    return get_settings().resolved_personas_dir


async def _run(work: Callable[[Session], Any]) -> Any:
    try:
        return await in_db(work)
    except ServiceError as error:  # a bad document is a ServiceError too (PersonaFileError): 400 with why
        raise fail(error) from error


def add_persona_routes(api: FastAPI) -> None:
    """Personas and their versions."""

    @api.get("/api/personas")
    async def list_personas(kind: str = Query(default="", pattern="^(|ai|user)$")) -> list[PersonaOut]:
        """Personas, AI first, then by name (``kind`` = ai or user for one kind)."""
        return await in_db(lambda session: [_out(p) for p in persona_service.list_personas(session, kind=kind or None)])

    @api.get("/api/personas/template", response_class=PlainTextResponse)
    async def persona_template() -> str:
        """The template a new persona starts from (markdown, with every front-matter field explained)."""
        return await asyncio.to_thread(TEMPLATE_FILE.read_text, encoding="utf-8")

    @api.get("/api/personas/{persona_id}", responses=NOT_FOUND)
    async def get_persona(persona_id: str = PERSONA_ID) -> PersonaOut:
        """One persona."""
        return await _run(lambda session: _out(persona_service.get_persona(session, persona_id)))

    @api.post("/api/personas", status_code=201, responses={400: {"description": "a bad document or a taken id"}})
    async def create_persona(body: PersonaText) -> PersonaOut:
        """Create a persona from a markdown document (its file is written to the personas folder)."""
        return await _run(lambda session: _out(persona_service.create_persona(session, _folder(), body.document)))

    @api.put("/api/personas/{persona_id}", responses=NOT_FOUND)
    async def update_persona(body: PersonaText, persona_id: str = PERSONA_ID) -> PersonaOut:
        """Replace a persona's document (its id stays); the previous content is kept as a version."""
        return await _run(
            lambda session: _out(persona_service.save_persona(session, _folder(), persona_id, body.document))
        )

    @api.delete("/api/personas/{persona_id}", status_code=204, responses=NOT_FOUND)
    async def delete_persona(persona_id: str = PERSONA_ID, confirm: bool = Query(default=False)) -> Response:
        """Delete a persona (its file goes to the trash folder; its versions stay). Built-ins need ``confirm``."""
        await _run(lambda session: persona_service.delete_persona(session, _folder(), persona_id, confirm=confirm))
        return Response(status_code=204)

    @api.get("/api/personas/{persona_id}/versions", responses=NOT_FOUND)
    async def list_versions(persona_id: str = PERSONA_ID) -> list[VersionOut]:
        """Every saved version, newest first."""

        def read(session: Session) -> list[VersionOut]:
            persona_service.get_persona(session, persona_id)
            return [
                VersionOut(number=v.number, note=v.note, created_at=v.created_at, document=v.document)
                for v in persona_service.list_versions(session, persona_id)
            ]

        return await _run(read)

    @api.post("/api/personas/{persona_id}/versions/{number}/restore", responses=NOT_FOUND)
    async def restore_version(persona_id: str = PERSONA_ID, number: int = Path(ge=1, le=2**31 - 1)) -> PersonaOut:
        """Make an old version current again (the restore is itself saved as a new version)."""
        return await _run(lambda session: _out(persona_service.restore_version(session, _folder(), persona_id, number)))
