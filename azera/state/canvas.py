"""The Canvas page: settings, the drawing under way (progress, preview, queue), the gallery.

Every value from the page is checked (:func:`azera.images.base.checked_request`); drawing happens in the
image queue's worker thread, and a background task follows the job into the page four times a second.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TypedDict

import reflex as rx
from sqlmodel import Session

from azera.db.engine import in_db
from azera.errors import ServiceError
from azera.images import jobs, store
from azera.images.base import ASPECTS
from azera.state import inputs
from azera.state.chat_rows import backend_base


class ImageRow(TypedDict):
    """A picture in the gallery."""

    id: str
    url: str
    prompt: str
    negative_prompt: str
    settings: str  # "512×512 · 20 steps · CFG 7 · seed 42 · model"


class QueueRow(TypedDict):
    """A drawing waiting or under way."""

    id: str
    prompt: str
    state: str


def _rows(session: Session) -> list[ImageRow]:
    return [
        ImageRow(
            id=row.id,
            url=backend_base() + store.image_url(row.id),
            prompt=row.prompt,
            negative_prompt=row.negative_prompt,
            settings=f"{row.width}×{row.height} · {row.steps} steps · CFG {row.cfg:g} · seed {row.seed} · "
            + (row.model or row.backend),
        )
        for row in store.list_images(session, limit=120)
    ]


def _backends() -> tuple[list[str], dict[str, list[str]], str]:
    usable, models = [], {}
    for backend in jobs.backends():
        ok, _ = backend.state()
        if ok:
            usable.append(backend.name)
            with contextlib.suppress(ServiceError):
                models[backend.name] = backend.models()
    return usable, models, "" if jobs.backends() else jobs.NO_BACKEND


class CanvasState(rx.State):
    """Image generation on the Canvas page."""

    backends: list[str] = []
    models_by_backend: dict[str, list[str]] = {}
    hint: str = ""
    backend: str = ""
    model: str = ""
    aspect: str = "1:1"
    width: int = 512
    height: int = 512
    steps: int = 20
    cfg: float = 7.0
    batch: int = 1
    strength: float = 0.6
    last_seed: str = ""
    reference: str = ""
    reference_url: str = ""
    job_id: str = ""
    job_state: str = ""
    step: int = 0
    total: int = 0
    steps_seen: str = ""  # "1,2,3,…": every step the page was told about
    preview: str = ""
    message: str = ""
    queue: list[QueueRow] = []
    gallery: list[ImageRow] = []
    opened: str = ""

    @rx.var
    def models(self) -> list[str]:
        """The selected backend's models."""
        return self.models_by_backend.get(self.backend, [])

    @rx.var
    def opened_url(self) -> str:
        """The picture shown large."""
        return f"{backend_base()}{store.image_url(self.opened)}" if self.opened else ""

    @rx.var
    def percent(self) -> int:
        """Progress of the drawing under way."""
        return round(100 * self.step / self.total) if self.total else 0

    @rx.event(background=True)
    async def load(self):
        """Backends, models and the gallery."""
        usable, by_backend, hint = await asyncio.to_thread(_backends)
        gallery = await in_db(_rows)
        async with self:
            self.backends, self.models_by_backend, self.hint, self.gallery = usable, by_backend, hint, gallery
            if self.backend not in usable:
                self.backend = usable[0] if usable else ""
            self._pick_model()

    def _pick_model(self) -> None:
        models = self.models_by_backend.get(self.backend, [])
        if self.model not in models:
            self.model = models[0] if models else ""

    @rx.event
    def set_aspect(self, value: str):
        """An aspect-ratio preset sets width and height."""
        try:
            self.aspect = inputs.choice(value, list(ASPECTS), what="The aspect ratio")
        except ServiceError as error:
            return rx.toast.error(str(error))
        self.width, self.height = ASPECTS[self.aspect]
        return None

    @rx.event
    def set_backend(self, value: str):
        """Which configured backend draws."""
        try:
            self.backend = inputs.choice(value, self.backends, what="The backend")
        except ServiceError as error:
            return rx.toast.error(str(error))
        self._pick_model()
        return None

    @rx.event
    def set_model(self, value: str):
        """Which of the backends' models (checkpoints) draws."""
        try:
            self.model = inputs.choice(value, self.models_by_backend.get(self.backend, []), what="The model")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return None

    @rx.event
    async def upload_reference(self, files: list[rx.UploadFile]):
        """A picture to start from (img2img)."""
        try:
            _, data = await inputs.one_upload(files, limit=store.MAX_REFERENCE_BYTES, what="a picture")
            name = await asyncio.to_thread(store.save_reference, data)
        except ServiceError as error:
            return rx.toast.error(str(error))
        self.reference, self.reference_url = name, f"{backend_base()}/api/images/references/{name}"
        return None

    @rx.event
    def clear_reference(self):
        """Draw from the prompt alone again."""
        self.reference = self.reference_url = ""

    @rx.event(background=True)
    async def generate(self, form: dict):
        """Queue a drawing from the form, then follow it until it is finished."""
        async with self:
            backend, reference, model = self.backend, self.reference, self.model
        try:
            if not isinstance(form, dict):
                raise ServiceError("The form was not understood")
            settings = {
                "prompt": inputs.form_text(form, "prompt", limit=20_000, what="The prompt"),
                "negative_prompt": inputs.form_text(form, "negative_prompt", limit=20_000, what="The negative prompt"),
                "width": inputs.integer(form.get("width"), low=64, high=2048, what="The width"),
                "height": inputs.integer(form.get("height"), low=64, high=2048, what="The height"),
                "steps": inputs.integer(form.get("steps"), low=1, high=150, what="Steps"),
                "cfg": inputs.number(form.get("cfg"), low=0, high=30, what="CFG"),
                "batch": inputs.integer(form.get("batch", 1), low=1, high=4, what="The batch"),
                "strength": inputs.number(form.get("strength", 0.6), low=0.05, high=1, what="The strength"),
                "model": model if backend != "diffusers" else "",  # diffusers draws with AZERA_IMAGE_MODEL
                "seed": inputs.integer(form["seed"], low=0, high=2**32 - 1, what="The seed")
                if str(form.get("seed", "")).strip()
                else None,
            }
            job = await asyncio.to_thread(jobs.queue_drawing, settings, backend_name=backend, reference_name=reference)
        except ServiceError as error:
            yield rx.toast.error(str(error))
            return
        async with self:
            self.job_id, self.job_state, self.step, self.total = job.id, job.state, 0, job.request.steps
            self.steps_seen, self.preview, self.message = "", "", ""
            self.last_seed = str(job.request.seed)
        async for event in self._follow(job):
            yield event

    async def _follow(self, job: jobs.Job):
        queue = jobs.image_queue()
        while True:
            finished = job.finished
            async with self:
                self.job_state, self.step, self.total = job.state, job.step, job.total
                self.steps_seen = ",".join(str(step) for step in job.steps_seen)
                self.preview = job.preview
                self.queue = [
                    QueueRow(id=other.id, prompt=other.request.prompt[:80], state=other.state)
                    for other in queue.jobs()
                    if not other.finished
                ]
                if job.state == "queued":
                    self.message = f"Waiting: {queue.position(job)} drawing(s) ahead"
            if finished:
                break
            await asyncio.sleep(0.25)
        gallery = await in_db(_rows)
        async with self:
            self.gallery, self.queue = gallery, []
            self.message = job.error or job.notice
        if job.state == "done":
            yield rx.toast.success(f"Drawn (seed {job.request.seed})")
        elif job.state == "failed":
            yield rx.toast.error(job.error)

    @rx.event
    def cancel(self):
        """Stop the drawing under way at its next step."""
        if self.job_id:
            try:
                jobs.image_queue().cancel(self.job_id)
            except ServiceError as error:
                return rx.toast.error(str(error))
        return None

    @rx.event
    async def delete_image(self, image_id: str):
        """Delete a picture (the page asked first)."""
        try:
            image_id = inputs.text(image_id, limit=32, what="The picture")
            await in_db(lambda session: store.delete_image(session, image_id))
        except ServiceError as error:
            return rx.toast.error(str(error))
        self.gallery = [row for row in self.gallery if row["id"] != image_id]
        self.opened = "" if self.opened == image_id else self.opened
        return rx.toast.info("Picture deleted")

    @rx.event
    def open_image(self, image_id: str):
        """Show a picture large ('' closes it)."""
        self.opened = image_id if any(row["id"] == image_id for row in self.gallery) else ""

    @rx.event
    async def reuse(self, image_id: str):
        """Put a picture's settings back into the form."""
        try:
            row, _ = await in_db(lambda session: store.get_image(session, inputs.text(image_id, limit=32)))
        except ServiceError as error:
            return rx.toast.error(str(error))
        self.width, self.height, self.steps, self.cfg = row.width, row.height, row.steps, row.cfg
        self.last_seed = str(row.seed if row.seed is not None else "")
        return [
            rx.set_value("canvas-prompt", row.prompt),
            rx.set_value("canvas-negative", row.negative_prompt),
            rx.set_value("canvas-seed", self.last_seed),
            rx.set_value("canvas-width", str(row.width)),
            rx.set_value("canvas-height", str(row.height)),
            rx.set_value("canvas-steps", str(row.steps)),
            rx.set_value("canvas-cfg", str(row.cfg)),
            rx.toast.info("Settings of that picture are in the form"),
        ]
