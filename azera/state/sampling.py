"""The open chat's advanced sampling settings: what it inherits, its own overrides, save and reset."""

from __future__ import annotations

from typing import Any, TypedDict

import reflex as rx
from sqlmodel import Session

from azera.db.engine import in_db
from azera.errors import ServiceError
from azera.llm.sampling import bounds
from azera.services import sampling as sampling_service
from azera.services.chats import get_chat
from azera.state import inputs
from azera.state.chat_rows import chat_id_from_path
from azera.state.conversation import ConversationState

FIELDS = ("top_p", "top_k", "min_p", "repeat_penalty", "max_tokens")
LABELS = {
    "top_p": "Top p",
    "top_k": "Top k",
    "min_p": "Min p",
    "repeat_penalty": "Repeat penalty",
    "max_tokens": "Max reply tokens",
}


class SamplingRow(TypedDict):
    """One setting as the advanced section shows it."""

    key: str
    label: str
    value: str
    inherited: str
    overridden: bool


def _shown(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class ChatSamplingState(rx.State):
    """Advanced section of the chat's model controls."""

    rows: list[SamplingRow] = []
    model: str = ""

    async def _read(self) -> None:
        chat_id = chat_id_from_path(self.router.url.path)

        def read(session: Session):
            return sampling_service.chat_sampling(session, get_chat(session, chat_id))

        model, inherited, used = await in_db(read)
        self.model = model
        self.rows = [
            SamplingRow(
                key=key,
                label=LABELS[key],
                value=_shown(getattr(used, key)),
                inherited=_shown(getattr(inherited, key)),
                overridden=getattr(used, key) != getattr(inherited, key),
            )
            for key in FIELDS
        ]

    @rx.event
    async def load(self):
        """Read the open chat's settings (when the advanced section opens)."""
        try:
            await self._read()
        except ServiceError as error:
            self.rows = []
            return rx.toast.error(str(error))
        return None

    @rx.event
    async def save(self, form_data: dict):
        """Keep the values that differ from what the chat inherits."""
        try:
            if not isinstance(form_data, dict):
                raise inputs.BadInputError("The form must be a mapping")
            values: dict[str, Any] = {}
            for key in FIELDS:
                raw = form_data.get(key, "")
                if raw in ("", None):
                    continue
                low, high = bounds(key)
                number = inputs.number(raw, low=low, high=high, what=LABELS[key])
                values[key] = int(number) if key in ("top_k", "max_tokens") else number
            chat_id = chat_id_from_path(self.router.url.path)
            await in_db(lambda session: sampling_service.set_chat_sampling(session, chat_id, values))
            await self._read()
        except ServiceError as error:
            return rx.toast.error(str(error))
        return rx.toast.success("Sampling saved for this chat")

    @rx.event
    async def clear(self):
        """Back to the persona's and model family's settings."""
        try:
            chat_id = chat_id_from_path(self.router.url.path)
            await in_db(lambda session: sampling_service.set_chat_sampling(session, chat_id, {}))
            await self._read()
        except ServiceError as error:
            return rx.toast.error(str(error))
        return ConversationState.load_page  # the temperature slider shows the persona's again
