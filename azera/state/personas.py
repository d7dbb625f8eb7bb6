"""Personas page state: list, view, create from template, edit with live preview, versions."""

from __future__ import annotations

import asyncio
from typing import TypedDict

import reflex as rx
from sqlmodel import Session

from azera.config import SEED_PERSONAS_DIR, get_settings
from azera.db.engine import in_db
from azera.errors import ServiceError
from azera.runtime import runtime
from azera.services import cards
from azera.services import personas as persona_service
from azera.services.persona_files import MAX_BODY_CHARS, PersonaFileError, parse_persona, render_persona
from azera.services.startup import last_sync_problems
from azera.state import inputs

TEMPLATE_FILE = SEED_PERSONAS_DIR / "_template.md"


class PersonaRow(TypedDict):
    """A persona in the list."""

    id: str
    name: str
    emoji: str
    color: str
    kind: str
    seeded: bool
    avatar: str  # the URL of its avatar image ("" when it has none)


class VersionRow(TypedDict):
    """One saved version."""

    number: int
    note: str
    created: str


def _folder():
    return get_settings().resolved_personas_dir


def _avatar(persona_id: str) -> str:
    path = cards.avatar_path(persona_id)
    return f"/api/media/avatars/{persona_id}.png?v={int(path.stat().st_mtime)}" if path.is_file() else ""


def _rows(session: Session) -> list[PersonaRow]:
    return [
        PersonaRow(
            id=p.id,
            name=p.name,
            emoji=p.emoji,
            color=p.color or "#8b5cf6",
            kind=p.kind,
            seeded=p.seeded,
            avatar=_avatar(p.id),
        )
        for p in persona_service.list_personas(session)
    ]


class PersonaState(rx.State):
    """Which persona is shown and what is being edited."""

    personas: list[PersonaRow] = []
    selected_id: str = ""
    selected_name: str = ""
    selected_seeded: bool = False
    profile: str = ""
    document: str = ""
    draft: str = ""
    creating: bool = False
    editing: bool = False
    versions: list[VersionRow] = []
    problems: list[str] = []

    @rx.var
    def preview(self) -> str:
        """The draft's body rendered live, or the reason it cannot be saved."""
        try:
            parsed = parse_persona(self.draft, source="draft")
        except PersonaFileError as error:
            return f"> ⚠️ {error}"
        return f"# {parsed.emoji} {parsed.name}\n\n{parsed.body}"

    @rx.var
    def draft_error(self) -> str:
        """Why the draft cannot be saved ('' when it can)."""
        try:
            parse_persona(self.draft, source="draft")
        except PersonaFileError as error:
            return str(error)
        return ""

    async def _reload(self) -> None:
        self.personas = await in_db(_rows)
        self.problems = last_sync_problems()
        ids = [row["id"] for row in self.personas]
        if self.selected_id not in ids:
            self.selected_id = ids[0] if ids else ""
        await self._show(self.selected_id)

    async def _show(self, persona_id: str) -> None:
        if not persona_id:
            self.profile = self.document = self.selected_name = ""
            self.versions = []
            return

        def read(session: Session):
            persona = persona_service.get_persona(session, persona_id)
            versions = persona_service.list_versions(session, persona_id)
            return persona, versions

        persona, versions = await in_db(read)
        self.selected_id = persona.id
        self.selected_name = persona.name
        self.selected_seeded = persona.seeded
        self.profile = persona.body
        self.document = render_persona(persona_service.document_of(persona))
        self.versions = [
            VersionRow(number=v.number, note=v.note, created=f"{v.created_at:%Y-%m-%d %H:%M} UTC") for v in versions
        ]

    @rx.event
    async def load(self):
        """Page load: list personas and show the first (or the selected) one."""
        self.editing = self.creating = False
        await self._reload()

    @rx.event
    async def select(self, persona_id: str):
        """Show a persona's profile."""
        self.editing = self.creating = False
        try:
            await self._show(inputs.choice(persona_id, [row["id"] for row in self.personas], what="That persona"))
        except ServiceError as error:
            return rx.toast.error(str(error))
        return None

    @rx.event
    def start_edit(self):
        """Open the editor on the selected persona."""
        self.draft = self.document
        self.editing, self.creating = True, False

    @rx.event
    async def start_create(self):
        """Open the editor on the template for a new persona."""
        self.draft = await asyncio.to_thread(TEMPLATE_FILE.read_text, encoding="utf-8")
        self.editing, self.creating = True, True

    @rx.event
    def set_draft(self, value: str):
        """Track the editor's text (the preview follows)."""
        try:
            self.draft = inputs.text(value, limit=MAX_BODY_CHARS + 5_000, what="The persona file")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return None

    @rx.event
    def cancel_edit(self):
        """Leave the editor without saving."""
        self.editing = self.creating = False

    @rx.event
    async def save(self):
        """Save the draft: create a persona or update the selected one (a version is kept)."""
        draft, folder, persona_id = self.draft, _folder(), self.selected_id
        try:
            if self.creating:
                persona = await in_db(lambda session: persona_service.create_persona(session, folder, draft))
            else:
                persona = await in_db(lambda session: persona_service.save_persona(session, folder, persona_id, draft))
        except ServiceError as error:
            return rx.toast.error(str(error))
        self.selected_id = persona.id
        self.editing = self.creating = False
        await self._reload()
        return rx.toast.success(f"Saved {persona.name}")

    @rx.event
    async def delete_selected(self):
        """Delete the selected persona (built-in ones are confirmed in the dialog first)."""
        folder, persona_id, name = _folder(), self.selected_id, self.selected_name
        try:
            await in_db(lambda session: persona_service.delete_persona(session, folder, persona_id, confirm=True))
        except ServiceError as error:
            return rx.toast.error(str(error))
        self.selected_id = ""
        await self._reload()
        return rx.toast.success(f"Deleted {name}; its file is kept in the personas trash folder")

    @rx.event
    async def restore(self, number: int):
        """Make an older version current."""
        folder, persona_id = _folder(), self.selected_id
        try:
            number = int(inputs.choice(str(number), [str(v["number"]) for v in self.versions], what="That version"))
            await in_db(lambda session: persona_service.restore_version(session, folder, persona_id, number))
        except ServiceError as error:
            return rx.toast.error(str(error))
        await self._reload()
        return rx.toast.success(f"Restored version {number}")

    @rx.event
    async def import_card(self, files: list[rx.UploadFile]):
        """A character card (SillyTavern, V1-V3: .png or .json) becomes a new persona; its lorebook, memories."""
        try:
            [upload] = inputs.uploads(files)[:1] or [None]
            if upload is None:
                raise ServiceError("Choose a card first (.png or .json)")
            name = upload.name or upload.filename or "card"
            data = await upload.read(cards.MAX_CARD_BYTES + 1)
            persona_id, lore = await in_db(lambda session: _imported(cards.import_card(session, _folder(), name, data)))
        except ServiceError as error:
            return rx.toast.error(str(error))
        if lore:
            runtime().indexer.wake()
        await self._reload()
        await self._show(persona_id)
        return rx.toast.success(
            f"Imported from the card{f', with {lore} lorebook entries as memories' if lore else ''}"
        )

    @rx.event
    async def export_card(self):
        """Download the shown persona as a V3 PNG character card (V2 fields too)."""
        persona_id = self.selected_id
        try:
            card = await in_db(
                lambda session: cards.export_card(
                    persona_service.get_persona(session, persona_id), cards.lore_of(session, persona_id)
                )
            )
        except ServiceError as error:
            return rx.toast.error(str(error))
        return rx.download(data=card, filename=f"{persona_id}.png")


def _imported(result) -> tuple[str, int]:
    persona, lore = result
    return persona.id, lore
