"""``/api/export``, ``/api/import``, character cards and SillyTavern chats over HTTP.

- ``GET /api/export``: everything as one zip archive (see ``azera/services/transfer.py``).
- ``POST /api/import``: such an archive as the body; checked whole first, all or nothing; a report back.
- ``POST /api/personas/cards?filename=``: a character card (.png or .json) as the body → a new persona.
- ``GET /api/personas/{id}/card``: the persona as a V3 PNG card (V2 fields too).
- ``POST /api/chats/import?persona=&filename=``: a SillyTavern ``.jsonl`` chat as the body → a new chat.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from azera.api.chats import ChatOut, _chat_out, fail, read_body
from azera.api.personas import PersonaOut, _folder
from azera.api.personas import _out as persona_out
from azera.db.engine import in_db
from azera.errors import ServiceError
from azera.runtime import runtime
from azera.services import cards, chat_import, transfer
from azera.services.personas import get_persona

MAX_ARCHIVE = 1_000_000_000
PERSONA_ID = Query(default="azera", min_length=1, max_length=64)


class ImportReport(BaseModel):
    """What an archive import did."""

    added: dict[str, int]
    unchanged: dict[str, int]
    conflicts: list[str]
    files: int
    memories_to_index: int


class CardImported(PersonaOut):
    """The persona a card became, and how many lorebook entries became its memories."""

    lore: int


class ChatImported(ChatOut):
    """The chat a SillyTavern file became."""

    messages: int


def _export() -> Path:
    handle, name = tempfile.mkstemp(prefix="azera-export-", suffix=".zip")
    os.close(handle)
    transfer.export_all(Path(name))
    return Path(name)


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    """The archive in 1 MB pieces, then the file is removed.

    Not a FileResponse: a server that sends files by path itself (granian) found the temporary file deleted.
    """
    try:
        with path.open("rb") as handle:
            while block := await asyncio.to_thread(handle.read, 1 << 20):
                yield block
    finally:
        await asyncio.to_thread(path.unlink, True)


def _import(data: bytes) -> tuple[transfer.TransferReport, list[str]]:
    with tempfile.NamedTemporaryFile(prefix="azera-import-", suffix=".zip") as handle:
        handle.write(data)
        handle.flush()
        return transfer.import_all(Path(handle.name))


def add_transfer_routes(api: FastAPI) -> None:
    """Export, import, cards, SillyTavern chats."""

    @api.get("/api/export", response_class=StreamingResponse, responses={200: {"content": {"application/zip": {}}}})
    async def export_everything() -> StreamingResponse:
        """Everything (chats, messages, memories, dreams, journal, personas, mental state, media) as one zip."""
        path = await asyncio.to_thread(_export)
        headers = {"content-disposition": 'attachment; filename="azera-export.zip"'}
        return StreamingResponse(_chunks(path), media_type="application/zip", headers=headers)

    @api.post("/api/import")
    async def import_everything(request: Request) -> ImportReport:
        """An archive from /api/export as the body: merged without duplicates; its memories indexed again."""
        data = await read_body(request, MAX_ARCHIVE, "An archive")
        try:
            report, memories = await asyncio.to_thread(_import, data)
        except ServiceError as error:
            raise fail(error) from error
        if memories:
            runtime().indexer.wake()
        return ImportReport(
            added=report.added,
            unchanged=report.unchanged,
            conflicts=report.conflicts,
            files=report.files,
            memories_to_index=len(memories),
        )

    @api.post("/api/personas/cards", status_code=201)
    async def import_card(request: Request, filename: str = Query(default="card.png", max_length=180)) -> CardImported:
        """A character card (SillyTavern / V1-V3, .png or .json) as the body becomes a new AI persona."""
        data = await read_body(request, cards.MAX_CARD_BYTES, "A card")

        def work(session) -> CardImported:
            persona, lore = cards.import_card(session, _folder(), filename, data)
            return CardImported(**persona_out(persona).model_dump(), lore=lore)

        try:
            made = await in_db(work)
        except ServiceError as error:
            raise fail(error) from error
        if made.lore:
            runtime().indexer.wake()
        return made

    @api.get("/api/personas/{persona_id}/card", responses={200: {"content": {"image/png": {}}}})
    async def export_card(persona_id: str) -> Response:
        """The persona as a V3 PNG character card (V2 fields filled too)."""

        def work(session) -> bytes:
            return cards.export_card(get_persona(session, persona_id), cards.lore_of(session, persona_id))

        try:
            png = await in_db(work)
        except ServiceError as error:
            raise fail(error) from error
        headers = {"content-disposition": f'attachment; filename="{persona_id}.png"'}
        return Response(png, media_type="image/png", headers=headers)

    @api.post("/api/chats/import", status_code=201)
    async def import_chat(
        request: Request, persona: str = PERSONA_ID, filename: str = Query(default="chat.jsonl", max_length=180)
    ) -> ChatImported:
        """A SillyTavern chat (.jsonl) as the body becomes a chat with ``persona`` (swipes as branches)."""
        data = await read_body(request, chat_import.MAX_BYTES, "A chat file")

        def work(session) -> ChatImported:
            chat, count = chat_import.import_sillytavern_chat(session, filename, data, persona_id=persona)
            return ChatImported(**_chat_out(session, chat).model_dump(), messages=count)

        try:
            made = await in_db(work)
        except ServiceError as error:
            raise fail(error) from error
        runtime().indexer.wake()
        return made
