"""Pictures over HTTP: generate (progress as Server-Sent Events), gallery, models, reference uploads.

- ``POST /api/images/generate``: the settings as JSON → events ``queued`` (place in the queue),
  ``progress`` (step, total, a preview where the backend gives one), then ``done`` (the pictures) or
  ``failed``. A client that goes away does not stop the drawing; the picture lands in the gallery.
- ``GET /api/images``, ``GET/DELETE /api/images/{id}``: the gallery and each PNG (with its parameters).
- ``GET /api/images/models``: each configured backend, its state and its models.
- ``POST /api/images/upload-reference``: an image as the body → a name for img2img;
  ``GET /api/images/references/{name}``.
- ``POST /api/images/jobs/{id}/cancel``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime

from fastapi import FastAPI, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse

from azera.api.chats import fail, read_body
from azera.db.engine import in_db
from azera.errors import ServiceError
from azera.images import jobs, store
from azera.images.base import MAX_BATCH, MAX_PROMPT_CHARS, MAX_SIDE, MAX_STEPS, MIN_SIDE

PNG = {200: {"content": {"image/png": {}}}}
IMAGE_ID = Path(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")
REFERENCE = Path(min_length=40, max_length=40, pattern=store.REFERENCE_NAME.pattern)


class GenerateRequest(BaseModel):
    """What to draw. Width and height are multiples of 8; no seed = a random one (shown in the result)."""

    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    negative_prompt: str = Field(default="", max_length=MAX_PROMPT_CHARS)
    width: int = Field(default=512, ge=MIN_SIDE, le=MAX_SIDE, multiple_of=8)
    height: int = Field(default=512, ge=MIN_SIDE, le=MAX_SIDE, multiple_of=8)
    steps: int = Field(default=20, ge=1, le=MAX_STEPS)
    cfg: float = Field(default=7.0, ge=0, le=30)
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    batch: int = Field(default=1, ge=1, le=MAX_BATCH)
    backend: str = Field(default="", max_length=32)
    model: str = Field(default="", max_length=300)
    reference: str = Field(default="", max_length=40, description="an uploaded reference's name: img2img")
    strength: float = Field(default=0.6, ge=0.05, le=1.0)


class ImageOut(BaseModel):
    """A picture in the gallery."""

    id: str
    url: str
    prompt: str
    negative_prompt: str
    width: int
    height: int
    steps: int
    cfg: float
    seed: int | None
    model: str
    backend: str
    strength: float | None
    chat_id: str | None
    created_at: datetime


class BackendOut(BaseModel):
    """A configured image backend."""

    name: str
    label: str
    usable: bool
    detail: str
    models: list[str]


class ImageBackends(BaseModel):
    """The configured backends; ``hint`` says how to configure one when there is none."""

    backends: list[BackendOut]
    hint: str


class ReferenceOut(BaseModel):
    """An uploaded reference image."""

    name: str
    url: str
    width: int
    height: int


def image_out(row) -> ImageOut:
    """A row as the API shows it."""
    fields = row.model_dump(include=set(ImageOut.model_fields) - {"url"})
    return ImageOut(**fields, url=store.image_url(row.id))


def _backends() -> ImageBackends:
    found = []
    for backend in jobs.backends():
        usable, detail = backend.state()
        try:
            models = backend.models() if usable else []
        except ServiceError:
            models = []
        found.append(BackendOut(name=backend.name, label=backend.label, usable=usable, detail=detail, models=models))
    return ImageBackends(backends=found, hint="" if found else jobs.NO_BACKEND)


def new_job(body: GenerateRequest, *, chat_id: str | None = None, message_id: str | None = None) -> jobs.Job:
    """Check a request, find its backend, queue it (blocking: opens the reference)."""
    settings = body.model_dump(exclude={"backend", "reference"})
    return jobs.queue_drawing(
        settings, backend_name=body.backend, reference_name=body.reference, chat_id=chat_id, message_id=message_id
    )


async def job_events(job: jobs.Job) -> AsyncIterator[dict]:
    """A job's life as Server-Sent Events, until it is finished."""
    queue = jobs.image_queue()
    yield {"event": "queued", "data": json.dumps({"job": job.id, "position": queue.position(job)})}
    sent, preview = 0, ""
    while True:
        finished = job.finished  # read first: the steps it reported before finishing are all sent below
        while sent < len(job.steps_seen):  # the worker appends meanwhile: take them one by one
            step, sent = job.steps_seen[sent], sent + 1
            shown = job.preview if job.preview != preview else ""
            preview = job.preview
            payload = {"job": job.id, "step": step, "total": job.total, "preview": shown}
            yield {"event": "progress", "data": json.dumps(payload)}
        if finished:
            break
        await asyncio.sleep(0.1)
    if job.state == "done":
        rows = await in_db(lambda session: [store.get_image(session, image_id)[0] for image_id in job.images])
        made = [image_out(row).model_dump(mode="json") for row in rows]
        yield {"event": "done", "data": json.dumps({"job": job.id, "images": made, "notice": job.notice})}
    else:
        yield {"event": job.state, "data": json.dumps({"job": job.id, "error": job.error or job.state})}


def add_image_routes(api: FastAPI) -> None:
    """Generation, gallery, backends, references."""

    @api.post("/api/images/generate", response_class=EventSourceResponse)
    async def generate(body: GenerateRequest) -> EventSourceResponse:
        """Queue a picture; its progress and result stream back as Server-Sent Events."""
        try:
            job = await asyncio.to_thread(new_job, body)
        except ServiceError as error:
            raise fail(error) from error
        return EventSourceResponse(job_events(job))

    @api.post("/api/images/jobs/{job_id}/cancel", status_code=202)
    async def cancel(job_id: str = Path(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")) -> dict:
        """Stop a drawing at its next step (or take it out of the queue)."""
        try:
            job = jobs.image_queue().cancel(job_id)
        except ServiceError as error:
            raise HTTPException(status_code=404, detail=str(error)) from error
        return {"job": job.id, "state": job.state}

    @api.get("/api/images")
    async def gallery(offset: int = 0, limit: int = 100) -> list[ImageOut]:
        """Every picture, newest first."""
        limit, offset = max(1, min(limit, 500)), max(0, min(offset, 10**9))
        rows = await in_db(lambda session: store.list_images(session, limit=limit, offset=offset))
        return [image_out(row) for row in rows]

    @api.get("/api/images/models")
    async def models() -> ImageBackends:
        """The configured backends with their state and models."""
        return await asyncio.to_thread(_backends)

    @api.post("/api/images/upload-reference", status_code=201)
    async def upload_reference(request: Request) -> ReferenceOut:
        """An image (PNG, JPEG, WebP …; ≤ 20 MB, ≤ 40 megapixels) as the body, kept for img2img."""
        data = await read_body(request, store.MAX_REFERENCE_BYTES, "A reference image")
        try:
            name = await asyncio.to_thread(store.save_reference, data)
            image = await asyncio.to_thread(store.load_reference, name)
        except ServiceError as error:
            raise fail(error) from error
        return ReferenceOut(name=name, url=f"/api/images/references/{name}", width=image.width, height=image.height)

    @api.get("/api/images/references/{name}", responses=PNG)
    async def reference(name: str = REFERENCE) -> Response:
        """An uploaded reference image."""
        try:
            path = store.reference_path(name)
        except ServiceError as error:
            raise fail(error) from error
        return Response(await asyncio.to_thread(path.read_bytes), media_type="image/png")

    @api.get("/api/images/{image_id}", responses=PNG)
    async def picture(image_id: str = IMAGE_ID) -> Response:
        """A picture as PNG, with its ``parameters`` text chunk (Automatic1111's format)."""
        try:
            _, path = await in_db(lambda session: store.get_image(session, image_id))
        except ServiceError as error:
            raise fail(error) from error
        headers = {"content-disposition": f'inline; filename="azera-{image_id}.png"'}
        return Response(await asyncio.to_thread(path.read_bytes), media_type="image/png", headers=headers)

    @api.delete("/api/images/{image_id}", status_code=204)
    async def delete(image_id: str = IMAGE_ID) -> Response:
        """Delete a picture and its file."""
        try:
            await in_db(lambda session: store.delete_image(session, image_id))
        except ServiceError as error:
            raise fail(error) from error
        return Response(status_code=204)
