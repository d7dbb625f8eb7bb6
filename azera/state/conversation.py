"""The open chat's messages: send, stream, stop, edit (new branch), regenerate, switch branches."""

from __future__ import annotations

import asyncio

import reflex as rx
from sqlmodel import Session

from azera.conversation.replies import RUNNING, Mode, ReplyEvent, generate_reply
from azera.db.engine import in_db
from azera.errors import ServiceError
from azera.llm.base import BackendError
from azera.llm.registry import default_model
from azera.mind import journal_mode as journal
from azera.runtime import runtime
from azera.services import chats as chat_service
from azera.services import messages as message_service
from azera.services.personas import get_persona
from azera.services.preferences import load_preferences
from azera.state import inputs
from azera.state.chat_rows import DraftRow, MessageRow, chat_id_from_path, read_drafts, read_messages, recall_rows
from azera.state.voice import VoiceState

UI_UPDATE_SECONDS = 0.05  # batch tokens into ~20 UI updates a second; every token still arrives
_stops: dict[str, asyncio.Event] = {}


class ConversationState(rx.State):
    """Messages of the open chat and the reply being streamed."""

    chat_id: str = ""
    messages: list[MessageRow] = []
    streaming: bool = False
    reply_id: str = ""
    editing_id: str = ""
    models: list[str] = []
    model_override: str = ""
    persona_model: str = ""
    temperature: float = 0.7
    temperature_overridden: bool = False
    persona_id: str = ""
    mood: str = ""
    energy: int = 0
    focus: int = 0
    journal_mode: bool = False
    drafts: list[DraftRow] = []

    @rx.var
    def model_label(self) -> str:
        """The model replies will use."""
        return self.model_override or self.persona_model or "default"

    async def _reload(self) -> None:
        chat_id = self.chat_id

        def read(session: Session):
            chat = chat_service.get_chat(session, chat_id)
            persona = get_persona(session, chat.ai_persona_id)
            model = persona.model or default_model()  # looks for the installed model file: in the worker
            return read_messages(session, chat_id), chat, persona, read_drafts(session, chat_id), model

        rows, chat, persona, drafts, persona_model = await in_db(read)
        self.journal_mode, self.drafts = chat.journal_mode, drafts
        self.persona_id = persona.id
        await asyncio.to_thread(runtime().mind.get, persona.id)  # the first read comes from SQL
        self._show_mind()
        self.messages = rows
        self.model_override = chat.model_override
        self.persona_model = persona_model
        self.temperature_overridden = chat.temperature_override is not None
        self.temperature = chat.temperature_override if self.temperature_overridden else persona.temperature

    def _show_mind(self) -> None:
        state = runtime().mind.get(self.persona_id)  # in memory after the first read
        self.mood, self.energy, self.focus = state.mood, round(state.energy * 100), round(state.focus * 100)

    @rx.event
    async def refresh_mind(self):
        """Follow the tick loop's drift (polled by the page every few seconds)."""
        if self.persona_id:
            await asyncio.to_thread(runtime().mind.get, self.persona_id)
            self._show_mind()

    @rx.event
    async def load_page(self):
        """Open the chat named in the URL and list the models to pick from."""
        self.chat_id = chat_id_from_path(self.router.url.path)
        self.editing_id = ""
        self.messages = []
        if not self.chat_id:
            return
        try:
            await self._reload()
            self.models = [model.name for model in await runtime().backend.list_models()]
        except ServiceError:
            self.chat_id = ""
        except BackendError as error:
            self.models = []
            yield rx.toast.warning(f"Models could not be listed: {error}")

    def _shown_message(self, message_id, *, role: str = "") -> str:
        """A message of the open chat's active branch (or one of its alternatives) this page was shown."""
        shown = {row["id"] for row in self.messages if not role or row["role"] == role}
        if not role:
            shown |= {row[key] for row in self.messages for key in ("previous_id", "next_id") if row[key]}
        return inputs.choice(message_id, shown, what="That message")

    @rx.event(background=True)
    async def send(self, form_data: dict):
        """Send the composer's text and stream the reply."""
        try:
            text = inputs.form_text(form_data, "message", limit=message_service.MAX_MESSAGE_CHARS)
        except ServiceError as error:
            yield rx.toast.error(str(error))
            return
        async with self:
            journaling, chat_id = self.journal_mode, self.chat_id
        if journaling:
            try:
                await in_db(lambda session: journal.add_draft(session, chat_id, text))
            except ServiceError as error:
                yield rx.toast.error(str(error))
                return
            yield rx.set_value("composer", "")
            async with self:
                await self._reload()
            return
        async for event in self._run("send", text=text, clear_composer=True):
            yield event

    @rx.event(background=True)
    async def save_edit(self, form_data: dict):
        """Send an edited user message as a new branch."""
        async with self:
            target = self.editing_id
            self.editing_id = ""
        try:
            text = inputs.form_text(form_data, "message", limit=message_service.MAX_MESSAGE_CHARS)
        except ServiceError as error:
            yield rx.toast.error(str(error))
            return
        async for event in self._run("edit", text=text, target_id=target):
            yield event

    @rx.event(background=True)
    async def regenerate(self, message_id: str):
        """Write a new reply beside an existing one."""
        async for event in self._on_shown_reply("regenerate", message_id):
            yield event

    @rx.event(background=True)
    async def continue_reply(self, message_id: str):
        """Let a reply that was cut short (a crash, Stop, the loop guard, a failure) carry on where it ended."""
        async for event in self._on_shown_reply("continue", message_id):
            yield event

    async def _on_shown_reply(self, mode: Mode, message_id):
        try:
            async with self:
                target = self._shown_message(message_id, role="assistant")
        except ServiceError as error:
            yield rx.toast.error(str(error))
            return
        async for event in self._run(mode, target_id=target):
            yield event

    async def _run(self, mode: Mode, *, text: str = "", target_id: str = "", clear_composer: bool = False):
        async with self:
            busy, chat_id = self.streaming or self.chat_id in RUNNING, self.chat_id  # (RUNNING: API replies too)
            if not busy and chat_id:
                self.streaming = True
        if busy:
            yield rx.toast.warning("A reply is still being written: wait for it or stop it first")
            return
        if not chat_id:
            return
        stop = asyncio.Event()
        last_push, reply_id = 0.0, ""
        try:
            async for reply in generate_reply(chat_id, mode=mode, text=text, target_id=target_id, stop=stop):
                if reply.kind == "started":
                    reply_id = reply.reply_id
                    _stops[reply_id] = stop
                    async with self:
                        self.reply_id = reply.reply_id
                        await self._reload()
                    if clear_composer:
                        yield rx.set_value("composer", "")
                elif reply.kind == "token" and asyncio.get_running_loop().time() - last_push >= UI_UPDATE_SECONDS:
                    last_push = asyncio.get_running_loop().time()
                    async with self:
                        self._show_partial(reply)
                elif reply.kind == "done":
                    async with self:
                        await self._show_final(reply)
                        self.streaming, self.reply_id = False, ""
                    if reply.error:
                        yield rx.toast.error(f"The reply failed: {reply.error}")
                    elif reply.content.strip() and (await in_db(load_preferences)).auto_speak:
                        yield VoiceState.speak(reply.reply_id)
                elif reply.kind == "mood":
                    async with self:
                        self._show_mind()  # record_exchange already updated the in-memory state
        except ServiceError as error:
            yield rx.toast.error(str(error))
        finally:
            _stops.pop(reply_id, None)
            async with self:
                self.streaming = False
                self.reply_id = ""

    async def _show_final(self, reply: ReplyEvent) -> None:
        """The finished reply, from the done event (no reload of the chat)."""
        if not self.messages or self.messages[-1]["id"] != reply.reply_id:
            await self._reload()  # the page moved on meanwhile
            return
        last = dict(self.messages[-1])
        last.update(content=reply.content, thinking=reply.thinking, status=reply.status)
        last["recalled"] = recall_rows(reply.recalled)
        self.messages = [*self.messages[:-1], MessageRow(**last)]  # type: ignore[typeddict-item]

    def _show_partial(self, reply: ReplyEvent) -> None:
        if self.messages and self.messages[-1]["id"] == reply.reply_id:
            last = dict(self.messages[-1])
            last["content"], last["thinking"] = reply.content, reply.thinking
            self.messages = [*self.messages[:-1], MessageRow(**last)]  # type: ignore[typeddict-item]

    @rx.event
    def stop(self):
        """Stop the reply being streamed (what was written so far is kept)."""
        if self.reply_id in _stops:
            _stops[self.reply_id].set()

    @rx.event
    def start_edit(self, message_id: str):
        """Open the inline editor on one of the user's messages."""
        try:
            self.editing_id = self._shown_message(message_id, role="user")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return None

    @rx.event
    def cancel_edit(self):
        """Close the inline editor."""
        self.editing_id = ""

    @rx.event
    async def switch_branch(self, message_id: str):
        """Show the branch through ``message_id``."""
        if self.streaming:
            return None
        try:
            message_id = self._shown_message(message_id)
            await in_db(lambda session: message_service.switch_branch(session, message_id))
        except ServiceError as error:
            return rx.toast.error(str(error))
        await self._reload()
        return None

    async def _save_model(self, model: str, temperature: float | None):
        chat_id = self.chat_id
        try:
            await in_db(
                lambda session: chat_service.set_chat_model(session, chat_id, model=model, temperature=temperature)
            )
        except ServiceError as error:
            return rx.toast.error(str(error))
        await self._reload()
        return None

    @rx.event
    async def set_model(self, model: str):
        """Use another model for this chat ('persona default' clears the override)."""
        try:
            model = inputs.choice(model, ["persona default", *self.models], what="That model")
        except ServiceError as error:
            return rx.toast.error(str(error))
        override = "" if model == "persona default" else model
        return await self._save_model(override, self.temperature if self.temperature_overridden else None)

    @rx.event
    async def set_temperature(self, value: list[float]):
        """Override the persona's temperature for this chat."""
        try:
            if not isinstance(value, list) or len(value) != 1:
                raise inputs.BadInputError("The temperature must be one number")
            temperature = inputs.number(value[0], low=0, high=2, what="The temperature")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return await self._save_model(self.model_override, round(temperature, 2))
