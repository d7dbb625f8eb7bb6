"""Chat sidebar and chat header state: list, search, create, rename, delete, personas, group, tags."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict, TypeVar

import reflex as rx
from reflex.event import EventSpec
from sqlmodel import Session

from azera.db.engine import in_db
from azera.errors import ServiceError
from azera.services import chats as chat_service
from azera.services.personas import list_personas
from azera.state import inputs
from azera.state.chat_rows import chat_id_from_path

CHAT_ROUTE = "/chat"
T = TypeVar("T")


class ChatRow(TypedDict):
    """One chat in the sidebar."""

    id: str
    title: str
    persona: str
    emoji: str
    tags: str


class GroupSection(TypedDict):
    """A group heading with its chats."""

    id: str
    name: str
    chats: list[ChatRow]


class Option(TypedDict):
    """A select option."""

    value: str
    label: str


class SidebarData(TypedDict):
    """Everything the sidebar shows, read in one transaction."""

    sections: list[GroupSection]
    groups: list[Option]
    ai_personas: list[Option]
    user_personas: list[Option]
    tags: list[str]


def _label(persona) -> str:
    return f"{persona.emoji} {persona.name}".strip()


def read_sidebar(session: Session, search: str) -> SidebarData:
    """Collect the sidebar's data (runs in a worker thread)."""
    personas = {persona.id: persona for persona in list_personas(session)}
    groups = chat_service.list_groups(session)
    chats = chat_service.list_chats(session, search=search)
    tags = chat_service.chat_tags(session, [chat.id for chat in chats])
    sections: list[GroupSection] = []
    for group in groups:
        rows = [
            ChatRow(
                id=chat.id,
                title=chat.title,
                persona=personas[chat.ai_persona_id].name if chat.ai_persona_id in personas else "(deleted)",
                emoji=personas[chat.ai_persona_id].emoji if chat.ai_persona_id in personas else "",
                tags=" ".join(f"#{name}" for name in tags[chat.id]),
            )
            for chat in chats
            if chat.group_id == group.id
        ]
        if rows or not search:
            sections.append(GroupSection(id=str(group.id), name=group.name, chats=rows))
    return SidebarData(
        sections=sections,
        groups=[Option(value=str(group.id), label=group.name) for group in groups],
        ai_personas=[Option(value=p.id, label=_label(p)) for p in personas.values() if p.kind == "ai"],
        user_personas=[Option(value=p.id, label=_label(p)) for p in personas.values() if p.kind == "user"],
        tags=[tag.name for tag in chat_service.list_tags(session)],
    )


class ChatState(rx.State):
    """The sidebar and the open chat's settings."""

    sections: list[GroupSection] = []
    groups: list[Option] = []
    ai_personas: list[Option] = []
    user_personas: list[Option] = []
    all_tags: list[str] = []
    search: str = ""
    chat_id: str = ""
    title: str = ""
    title_draft: str = ""
    ai_persona_id: str = ""
    user_persona_id: str = ""
    group_id: str = ""
    tags: list[str] = []
    new_group_name: str = ""
    missing_chat: bool = False

    async def _refresh(self) -> None:
        data = await in_db(lambda session: read_sidebar(session, self.search))
        self.sections = data["sections"]
        self.groups = data["groups"]
        self.ai_personas = data["ai_personas"]
        self.user_personas = data["user_personas"]
        self.all_tags = data["tags"]

    async def _open(self, chat_id: str) -> None:
        def read(session: Session):
            chat = chat_service.get_chat(session, chat_id)
            return chat, chat_service.chat_tags(session, [chat_id])[chat_id]

        try:
            chat, tags = await in_db(read)
        except ServiceError:
            self.chat_id, self.missing_chat = "", bool(chat_id)
            return
        self.missing_chat = False
        self.chat_id = chat.id
        self.title = self.title_draft = chat.title
        self.ai_persona_id = chat.ai_persona_id
        self.user_persona_id = chat.user_persona_id
        self.group_id = str(chat.group_id or "")
        self.tags = tags

    @rx.event
    async def load_page(self):
        """On page load: read the sidebar and open the chat named in the URL."""
        chat_id = chat_id_from_path(self.router.url.path)  # the route owns the open chat
        await self._refresh()
        await self._open(chat_id)

    @rx.event
    async def set_search(self, value: str):
        """Filter chats by title and message text."""
        try:
            self.search = inputs.text(value, limit=200, what="The search")
        except ServiceError as error:
            return rx.toast.error(str(error))
        await self._refresh()
        return None

    async def _mutate(self, work: Callable[[Session], T], *, reopen: bool = True) -> tuple[T | None, EventSpec | None]:
        """Run a change; returns (result, None) or (None, an error toast)."""
        try:
            result = await in_db(work)
        except ServiceError as error:
            return None, rx.toast.error(str(error))
        await self._refresh()
        if reopen and self.chat_id:
            await self._open(self.chat_id)
        return result, None

    @rx.event
    async def new_chat(self):
        """Start a chat with the current (or first) AI persona and open it."""
        ai_ids = [option["value"] for option in self.ai_personas]
        preferred = chat_service.DEFAULT_AI_PERSONA if chat_service.DEFAULT_AI_PERSONA in ai_ids else ""
        ai_persona = self.ai_persona_id or preferred or (ai_ids[0] if ai_ids else "")
        if not ai_persona:
            return rx.toast.error("There is no AI persona to chat with: create one on the Personas page")
        user_persona = self.user_persona_id or chat_service.DEFAULT_USER_PERSONA
        chat_id, error = await self._mutate(
            lambda session: (
                chat_service.create_chat(session, ai_persona_id=ai_persona, user_persona_id=user_persona).id
            ),
            reopen=False,
        )
        return error or rx.redirect(f"{CHAT_ROUTE}/{chat_id}")

    @rx.event
    def set_title_draft(self, value: str):
        """Track the title being typed."""
        try:
            self.title_draft = inputs.text(value, limit=chat_service.MAX_TITLE, what="The title")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return None

    @rx.event
    async def save_title(self):
        """Rename the open chat."""
        if self.chat_id and self.title_draft != self.title:
            chat_id, title = self.chat_id, self.title_draft
            _, error = await self._mutate(lambda session: chat_service.rename_chat(session, chat_id, title))
            if error:
                self.title_draft = self.title
                return error
        return None

    @rx.event
    async def set_ai_persona(self, persona_id: str):
        """Switch the AI persona of the open chat."""
        chat_id = self.chat_id
        try:
            persona_id = inputs.choice(persona_id, [o["value"] for o in self.ai_personas], what="That persona")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return await self._quiet(
            lambda session: chat_service.set_chat_personas(session, chat_id, ai_persona_id=persona_id)
        )

    @rx.event
    async def set_user_persona(self, persona_id: str):
        """Switch the user persona of the open chat."""
        chat_id = self.chat_id
        try:
            persona_id = inputs.choice(persona_id, [o["value"] for o in self.user_personas], what="That persona")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return await self._quiet(
            lambda session: chat_service.set_chat_personas(session, chat_id, user_persona_id=persona_id)
        )

    @rx.event
    async def set_group(self, group_id: str):
        """Move the open chat to another group."""
        chat_id = self.chat_id
        try:
            group = int(inputs.choice(group_id, [o["value"] for o in self.groups], what="That group"))
        except ServiceError as error:
            return rx.toast.error(str(error))
        return await self._quiet(lambda session: chat_service.set_chat_group(session, chat_id, group))

    @rx.event
    async def toggle_tag(self, name: str):
        """Add or remove a tag on the open chat."""
        chat_id = self.chat_id
        try:
            name = inputs.choice(name, self.all_tags, what="That tag")
        except ServiceError as error:
            return rx.toast.error(str(error))
        wanted = [tag for tag in self.tags if tag != name] if name in self.tags else [*self.tags, name]
        return await self._quiet(lambda session: chat_service.set_chat_tags(session, chat_id, wanted))

    async def _quiet(self, work: Callable[[Session], object]) -> EventSpec | None:
        _, error = await self._mutate(work)
        return error

    @rx.event
    def set_new_group_name(self, value: str):
        """Track the group name being typed."""
        try:
            self.new_group_name = inputs.text(value, limit=80, what="The group name")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return None

    @rx.event
    async def create_group(self):
        """Create a group from the typed name."""
        name = self.new_group_name
        _, error = await self._mutate(lambda session: chat_service.create_group(session, name).id)
        if error:
            return error
        self.new_group_name = ""
        return rx.toast.success(f"Group '{name.strip()}' created")

    @rx.event
    async def delete_chat(self):
        """Delete the open chat and go back to the start page."""
        chat_id = self.chat_id
        _, error = await self._mutate(lambda session: chat_service.delete_chat(session, chat_id), reopen=False)
        if error:
            return error
        self.chat_id = ""
        return rx.redirect("/")
