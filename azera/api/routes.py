"""REST API under /api (health, mental state, dreams, journal, memories, chats) and the OpenAI protocol under /v1.

Bad input is a 4xx with a reason in ``detail``; blocking work runs in worker threads.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from azera.api.chats import add_chat_routes, read_body
from azera.api.images import add_image_routes
from azera.api.login import add_login_routes
from azera.api.memories import add_memory_routes
from azera.api.organise import add_organise_routes
from azera.api.personas import add_persona_routes
from azera.api.schemas import (
    AllMentalStates,
    DreamOut,
    EntryOut,
    Health,
    ImportOut,
    MentalStateOut,
    MoodChange,
    ReflectRequest,
)
from azera.api.settings import add_settings_routes
from azera.api.transfer import add_transfer_routes
from azera.api.v1 import OpenAIError, add_v1_routes, error_body
from azera.api.voice import add_voice_routes
from azera.db.engine import in_db
from azera.db.models import Dream, JournalEntry
from azera.doctor import database_answers
from azera.errors import NotFoundError, ServiceError
from azera.mind import journal_mode as journal
from azera.mind.archive import MAX_ARCHIVE_BYTES, Kind, import_archive_async
from azera.mind.browse import find_dreams, find_entries
from azera.runtime import runtime
from azera.services.personas import get_persona, list_personas


def _fail(error: ServiceError) -> HTTPException:
    return HTTPException(status_code=404 if isinstance(error, NotFoundError) else 400, detail=str(error))


def _dream(dream: Dream) -> DreamOut:
    return DreamOut.model_validate(dream.model_dump())


def _entry(entry: JournalEntry) -> EntryOut:
    return EntryOut.model_validate(entry.model_dump())


def _status(persona_id: str) -> MentalStateOut:
    state = runtime().mind.get(persona_id)
    return MentalStateOut(
        **dataclasses.asdict(state),
        dreaming=persona_id in runtime().dreamer.busy,
        reflecting=persona_id in runtime().reflector.busy,
    )


def _ai_persona(session: Session, persona_id: str) -> str:
    persona = get_persona(session, persona_id)
    if persona.kind != "ai":
        raise NotFoundError(f"'{persona_id}' is not an AI persona")
    return persona.id


async def _check_persona(persona_id: str) -> str:
    try:
        return await in_db(lambda session: _ai_persona(session, persona_id))
    except ServiceError as error:
        raise _fail(error) from error


async def _read_archive(request: Request) -> bytes:
    return await read_body(request, MAX_ARCHIVE_BYTES, "An archive")


def _add_mind_routes(api: FastAPI) -> None:
    @api.get("/api/status")
    async def status(persona: str = Query(default="", max_length=64)) -> MentalStateOut | AllMentalStates:
        """The mental state of one AI persona, or of all of them."""
        if persona:
            await _check_persona(persona)
            return await asyncio.to_thread(_status, persona)
        ids = await in_db(lambda session: [p.id for p in list_personas(session, kind="ai")])
        return AllMentalStates(personas=await asyncio.to_thread(lambda: [_status(persona_id) for persona_id in ids]))

    @api.post("/api/status/mood")
    async def set_mood(change: MoodChange) -> MentalStateOut:
        """Put a persona in one of the eight moods."""
        persona_id = await _check_persona(change.persona)
        try:
            await asyncio.to_thread(runtime().mind.set_mood, persona_id, change.mood.strip().lower())
        except ServiceError as error:
            raise _fail(error) from error
        return await asyncio.to_thread(_status, persona_id)


def _add_archive_routes(api: FastAPI, kind: Kind, prefix: str) -> None:
    finder = find_dreams if kind == "dream" else find_entries
    shape = _dream if kind == "dream" else _entry

    async def listing(query: str, persona: str, limit: int) -> list[DreamOut] | list[EntryOut]:
        if persona:
            await _check_persona(persona)
        rows = await in_db(lambda session: finder(session, query=query, persona_id=persona, limit=limit))
        return [shape(row) for row in rows]  # type: ignore[arg-type]

    @api.get(prefix, name=f"list_{kind}")
    async def list_all(
        persona: str = Query(default="", max_length=64), limit: int = Query(default=50, ge=1, le=500)
    ) -> list[DreamOut] | list[EntryOut]:
        """Newest first, optionally one persona's."""
        return await listing("", persona, limit)

    @api.get(f"{prefix}/search", name=f"search_{kind}")
    async def search(
        q: str = Query(default="", max_length=200),
        persona: str = Query(default="", max_length=64),
        limit: int = Query(default=50, ge=1, le=500),
    ) -> list[DreamOut] | list[EntryOut]:
        """Those containing every word of ``q``."""
        if not q.strip():
            raise HTTPException(status_code=400, detail="Give something to search for: ?q=words")
        return await listing(q, persona, limit)

    @api.post(f"{prefix}/import", name=f"import_{kind}", status_code=201)
    async def import_(
        request: Request,
        persona: str = Query(default="azera", max_length=64),
        filename: str = Query(default="", max_length=200),
    ) -> ImportOut:
        """Import a JSON or markdown archive (the raw file as the body); already-present items are skipped."""
        data = await _read_archive(request)
        if not filename and "markdown" in request.headers.get("content-type", ""):
            filename = "archive.md"
        try:
            report = await import_archive_async(
                kind, data, filename=filename, persona_id=persona, memory=runtime().memory
            )
        except ServiceError as error:
            raise _fail(error) from error
        return ImportOut(imported=report.imported, duplicates=report.duplicates, ids=report.ids)


def _add_trigger_route(api: FastAPI, kind: Kind) -> None:
    """``POST /api/dreams/trigger`` or ``/api/journal/trigger``: write now (waits for the model)."""
    stage, write = ("dreamer", "dream_now") if kind == "dream" else ("reflector", "reflect_now")
    table, shape = (Dream, _dream) if kind == "dream" else (JournalEntry, _entry)

    path = f"/api/{'dreams' if kind == 'dream' else 'journal'}/trigger"
    model = DreamOut if kind == "dream" else EntryOut

    refusals = {409: {"description": "one is being written"}, 422: {"description": "nothing to write about"}}

    @api.post(path, status_code=201, name=f"trigger_{kind}", response_model=model, responses=refusals)
    async def trigger(request: ReflectRequest) -> DreamOut | EntryOut:
        """Dream or write a reflection now (a few seconds on the embedded model); 409 while one is being written."""
        persona_id = await _check_persona(request.persona)
        result = await getattr(runtime(), stage).run_now(persona_id, getattr(runtime(), write))
        if not result.id:
            code = {"busy": 409, "nothing": 422, "off": 422}.get(result.outcome, 503)
            raise HTTPException(status_code=code, detail=result.reason)
        row = await in_db(lambda session: session.get(table, result.id))
        return shape(row)  # type: ignore[arg-type]


def _add_journal_routes(api: FastAPI) -> None:
    _add_trigger_route(api, "dream")
    _add_trigger_route(api, "journal")

    @api.get("/api/media/{path:path}")
    async def media(path: str) -> FileResponse:
        """An image kept by journal mode (only files inside the data folder's media/)."""
        if "\x00" in path:
            raise HTTPException(status_code=404, detail="No such media file")
        root = journal.media_dir().resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            raise HTTPException(status_code=404, detail="No such media file")
        return FileResponse(Path(target))


def _answer(request: Request, status: int, detail: object, headers: dict[str, str] | None = None) -> JSONResponse:
    """``{"detail": …}`` under /api; OpenAI's ``{"error": {…}}`` under /v1 (its clients read that shape)."""
    if not request.url.path.startswith("/v1/"):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    if isinstance(detail, list):  # validation problems: "where: why" each
        detail = "; ".join(f"{'.'.join(str(part) for part in p['loc'])}: {p['msg']}" for p in detail)
    kind = "authentication_error" if status == 401 else "server_error" if status >= 500 else "invalid_request_error"
    return JSONResponse(error_body(str(detail), kind), status_code=status, headers=headers)


def _bad_request(status: int, detail: str):
    async def handler(request: Request, _error: Exception) -> JSONResponse:
        return _answer(request, status, detail)

    return handler


async def _invalid(request: Request, error: Exception) -> JSONResponse:
    """422 with where and why, never the input itself (it may be huge or not even encodable)."""
    problems = error.errors() if isinstance(error, RequestValidationError) else []
    detail = [
        {"loc": list(p.get("loc", ())), "msg": str(p.get("msg", "")), "type": p.get("type", "")} for p in problems
    ]
    return _answer(request, 422, detail[:20])


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if isinstance(error, OpenAIError):
        body = error_body(str(error.detail), error.kind, error.code)
        return JSONResponse(body, status_code=error.status_code, headers=error.headers)
    return _answer(request, error.status_code, error.detail, error.headers)


def _add_error_handlers(api: FastAPI) -> None:
    """Malformed input is the client's fault: a 4xx with a reason, never a 500."""
    api.add_exception_handler(StarletteHTTPException, _http_error)
    api.add_exception_handler(RequestValidationError, _invalid)
    api.add_exception_handler(RecursionError, _bad_request(400, "The JSON is nested too deeply"))
    unicode = _bad_request(400, "The text holds a character that is not valid Unicode (a lone surrogate)")
    api.add_exception_handler(UnicodeEncodeError, unicode)
    api.add_exception_handler(UnicodeDecodeError, unicode)
    api.add_exception_handler(OverflowError, _bad_request(400, "A number or date is out of range"))


def build_api() -> FastAPI:
    """The FastAPI app mounted under the Reflex backend (docs served offline, from this app)."""
    api = FastAPIOffline(
        title="Azera API",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        static_url="/api/docs-static",
    )
    _add_error_handlers(api)

    @api.get("/health")
    async def health() -> Health:
        """Liveness for container health checks: "ok" or "degraded", nothing private."""
        return Health(status="ok" if await asyncio.to_thread(database_answers) else "degraded")

    _add_mind_routes(api)
    _add_archive_routes(api, "dream", "/api/dreams")
    _add_archive_routes(api, "journal", "/api/journal")
    _add_journal_routes(api)
    add_login_routes(api)
    add_memory_routes(api)
    add_chat_routes(api)
    add_organise_routes(api)
    add_persona_routes(api)
    add_settings_routes(api)
    add_transfer_routes(api)
    add_voice_routes(api)
    add_image_routes(api)
    add_v1_routes(api)
    _add_unknown_route(api)  # last: anything else under /api or /v1 is a JSON 404/405, never a page
    _document_refusals(api)
    return api


REFUSALS = {
    400: "bad input (the reason is in `detail`, or in `error.message` under /v1)",
    401: "no API token or owner session, or a revoked one",
    404: "something named in the path, the query or the body does not exist",
    413: "the body is too large",
    415: "a browser session sent something other than JSON",
    422: "a parameter or field of the wrong type or out of range",
    503: "a layer it needs (the model, memory) is not available right now: the reason is in `detail`",
}


def _document_refusals(api: FastAPI) -> None:
    """Every route documents the refusals it can answer (``/api/docs`` and clients know them).

    Those are the ones the guard and the error handlers can give any route.
    """
    for route in api.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for status, description in REFUSALS.items():
            route.responses.setdefault(status, {"description": description})


def _add_unknown_route(api: FastAPI) -> None:
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    @api.api_route("/api/{rest:path}", methods=methods, include_in_schema=False)
    @api.api_route("/v1/{rest:path}", methods=methods, include_in_schema=False)
    async def unknown(request: Request) -> JSONResponse:
        allowed = sorted(
            {
                method
                for route in api.routes
                if isinstance(route, APIRoute) and route.path_regex.match(request.url.path) and route.name != "unknown"
                for method in route.methods
            }
        )
        if allowed:
            detail = f"{request.method} is not allowed here (use {', '.join(allowed)})"
            return _answer(request, 405, detail, {"allow": ", ".join(allowed)})
        return _answer(request, 404, f"No API route {request.url.path}")
