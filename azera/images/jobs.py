"""The drawing queue: one generation at a time, in order, in a worker thread; the others wait visibly.

A job carries its request, its state (queued, running, done, failed, cancelled), its progress (step of
total, the latest preview) and, when done, its picture ids. Pages and the API read jobs; nothing here
touches the event loop, so other sessions stay responsive while a picture is drawn. Finished jobs are kept
a while for whoever is watching, then forgotten (the pictures are in SQL and on disk).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import io
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from azera.config import get_settings
from azera.db.engine import session_scope
from azera.errors import ServiceError
from azera.images import store
from azera.images.a1111 import A1111Backend
from azera.images.base import Backend, CancelledError, ImageError, ImageRequest, Step, checked_request
from azera.images.comfyui import ComfyUIBackend
from azera.images.diffusers_backend import DiffusersBackend

log = logging.getLogger(__name__)
KEEP_FINISHED_SECONDS = 600
MAX_WAITING = 20


@functools.cache
def _backends(model: str, idle_minutes: float, comfyui: str, a1111: str) -> tuple[Backend, ...]:
    found: list[Backend] = []
    if model:
        found.append(DiffusersBackend(model, idle_minutes))
    if comfyui:
        found.append(ComfyUIBackend(comfyui))
    if a1111:
        found.append(A1111Backend(a1111))
    return tuple(found)


def backends() -> tuple[Backend, ...]:
    """The backends this configuration names (none: Azera cannot draw, and says how to fix it)."""
    settings = get_settings()
    return _backends(settings.image_model, settings.image_idle_minutes, settings.comfyui_url, settings.a1111_url)


def backend(name: str = "") -> Backend:
    """A backend by name, or the first configured one."""
    configured = backends()
    if not configured:
        raise ImageError(NO_BACKEND)
    for candidate in configured:
        if candidate.name == name or not name:
            return candidate
    names = ", ".join(candidate.name for candidate in configured)
    raise ImageError(f"The image backend {name!r} is not configured (configured: {names})")


NO_BACKEND = (
    "No image backend is configured. Set AZERA_IMAGE_MODEL to a Stable Diffusion model folder or .safetensors "
    "file (with the image extra: bash scripts/setup.sh requirements-images.txt), or point AZERA_COMFYUI_URL or "
    "AZERA_A1111_URL at a running ComfyUI or Automatic1111 server."
)


@dataclasses.dataclass
class Job:
    """One generation and what became of it."""

    request: ImageRequest
    backend: str
    id: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)
    state: str = "queued"  # queued, running, done, failed, cancelled
    step: int = 0
    total: int = 0
    preview: str = ""  # a data: URL of the latest preview
    notice: str = ""  # e.g. the prompt was clipped to what the model reads
    images: list[str] = dataclasses.field(default_factory=list)
    steps_seen: list[int] = dataclasses.field(default_factory=list)  # every step reported, in order
    error: str = ""
    chat_id: str | None = None
    message_id: str | None = None
    label: str = ""  # what a chat shows while it draws (the prompt without the persona's style)
    finished_at: float = 0.0
    cancel: threading.Event = dataclasses.field(default_factory=threading.Event, repr=False)
    done_hooks: list[Callable[[Job], None]] = dataclasses.field(default_factory=list, repr=False)

    @property
    def finished(self) -> bool:
        """Nothing more will happen to it."""
        return self.state in ("done", "failed", "cancelled")


def _data_url(image: Image.Image) -> str:
    small = image.convert("RGB")
    small.thumbnail((256, 256))
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=70)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


class ImageQueue:
    """Jobs in order, drawn one at a time by a worker thread."""

    def __init__(self) -> None:
        self._waiting: queue.Queue[Job] = queue.Queue()
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def submit(self, job: Job) -> Job:
        """Queue a job (at most ``MAX_WAITING`` wait at once)."""
        with self._lock:
            self._forget_old()
            if sum(not j.finished for j in self._jobs.values()) >= MAX_WAITING:
                raise ServiceError(f"{MAX_WAITING} pictures are already waiting: let some finish first")
            self._jobs[job.id] = job
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="azera-images", daemon=True)
                self._worker.start()
        self._waiting.put(job)
        return job

    def get(self, job_id: str) -> Job:
        """A job by id."""
        job = self._jobs.get(job_id)
        if job is None:
            raise ServiceError("There is no such drawing (finished ones are forgotten after ten minutes)")
        return job

    def jobs(self) -> list[Job]:
        """Every job still known, oldest first."""
        return list(self._jobs.values())

    def position(self, job: Job) -> int:
        """How many queued jobs are ahead of this one (0 when it runs or is next)."""
        ahead = [j for j in self._jobs.values() if j.state == "queued"]
        return ahead.index(job) if job in ahead else 0

    def cancel(self, job_id: str) -> Job:
        """Stop a running job at its next step, or drop a queued one."""
        job = self.get(job_id)
        job.cancel.set()
        if job.state == "queued":
            self._finish(job, "cancelled", "")
        return job

    def _forget_old(self) -> None:
        now = time.monotonic()
        for job_id in [j.id for j in self._jobs.values() if j.finished and now - j.finished_at > KEEP_FINISHED_SECONDS]:
            del self._jobs[job_id]

    def _finish(self, job: Job, state: str, error: str) -> None:
        job.state, job.error, job.finished_at = state, error, time.monotonic()
        for hook in job.done_hooks:
            try:
                hook(job)
            except Exception:  # a hook's failure is logged, the queue moves on
                log.exception("image job hook failed")

    def _work(self) -> None:
        while True:
            try:
                job = self._waiting.get(timeout=30)
            except queue.Empty:
                for candidate in backends():
                    if isinstance(candidate, DiffusersBackend):
                        candidate.unload_if_idle()
                continue
            if job.finished:
                continue
            self._run(job)

    def _run(self, job: Job) -> None:
        job.state, job.total = "running", job.request.steps

        def progress(step: Step) -> None:
            job.total = step.total or job.total
            if step.notice:
                job.notice = step.notice
            if step.step > job.step:
                job.step = step.step
                job.steps_seen.append(step.step)
            if step.preview is not None:
                job.preview = _data_url(step.preview)

        try:
            drawer = backend(job.backend)
            images = drawer.generate(job.request, progress, job.cancel)
            model = job.request.model or (drawer.models() or [""])[0]
            with session_scope() as session:
                rows = store.save_images(
                    session, job.request, images, backend=drawer.name, model=model,
                    chat_id=job.chat_id, message_id=job.message_id,
                )  # fmt: skip
                job.images = [row.id for row in rows]
            job.step = job.total
            self._finish(job, "done", "")
        except CancelledError:
            self._finish(job, "cancelled", "")
        except ServiceError as error:
            self._finish(job, "failed", str(error))
        except Exception as error:  # an engine's own bug: one line for the user, the trace in the log
            log.exception("image generation failed")
            self._finish(job, "failed", f"The image backend failed: {type(error).__name__}: {str(error)[:200]}")


def queue_drawing(settings: dict[str, object], **options: str | None) -> Job:
    """Check a client's settings, find the backend, queue the drawing (blocking); options as for prepare_drawing."""
    return image_queue().submit(prepare_drawing(settings, **options))  # type: ignore[arg-type]


def prepare_drawing(
    settings: dict[str, object],
    *,
    backend_name: str = "",
    reference_name: str = "",
    chat_id: str | None = None,
    message_id: str | None = None,
) -> Job:
    """A checked job, not queued yet (its id is known before it runs)."""
    reference = store.load_reference(reference_name) if reference_name else None
    request = checked_request(**settings, reference=reference)  # type: ignore[arg-type]
    drawer = backend(backend_name)
    return Job(request=request, backend=drawer.name, chat_id=chat_id, message_id=message_id)


@functools.cache
def image_queue() -> ImageQueue:
    """The process's one queue."""
    return ImageQueue()


def media_path(relative: str) -> Path:
    """A stored picture's path from its row."""
    return get_settings().data_dir / "media" / relative
