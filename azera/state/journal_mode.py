"""Journal mode on the chat page: start, add images, finish (compile into an article) or cancel.

The open chat and its drafts belong to ``ConversationState``; this substate only changes them and asks it
to reload.
"""

from __future__ import annotations

from pathlib import Path

import reflex as rx
from sqlmodel import Session

from azera.db.engine import in_db
from azera.db.models import JournalEntry
from azera.errors import ServiceError
from azera.mind import journal_mode as journal
from azera.runtime import runtime
from azera.state import inputs
from azera.state.conversation import ConversationState


class JournalModeState(rx.State):
    """Whether the drafts are being compiled."""

    compiling: bool = False

    @rx.event
    async def start(self):
        """Enter journal mode: the persona stops replying and messages become drafts."""
        conversation = await self.get_state(ConversationState)
        if conversation.streaming:
            return rx.toast.warning("Wait for the reply to finish first")
        chat_id = conversation.chat_id
        await in_db(lambda session: journal.start_journal(session, chat_id))
        await conversation._reload()
        return rx.toast.info("Journal mode: each message is kept as a draft until you press Done")

    @rx.event
    async def cancel(self):
        """Leave journal mode and discard the drafts."""
        conversation = await self.get_state(ConversationState)
        chat_id = conversation.chat_id
        try:
            count = await in_db(lambda session: journal.cancel_journal(session, chat_id))
        except ServiceError as error:
            return rx.toast.error(str(error))
        await conversation._reload()
        return rx.toast.info(f"Journal mode ended; {count} draft(s) discarded")

    @rx.event(background=True)
    async def finish(self):
        """Compile the drafts into a titled journal article (entry + memory) and leave journal mode."""
        async with self:
            if self.compiling:
                return
            self.compiling = True
            chat_id = (await self.get_state(ConversationState)).chat_id
        try:
            result = await runtime().compile_journal_now(chat_id)
            if result.id:
                title = await in_db(lambda session: session.get(JournalEntry, result.id).title)
                yield rx.toast.success(f"Saved to the journal: {title}")
            else:
                yield rx.toast.info(result.reason)
        except ServiceError as error:
            yield rx.toast.error(str(error))
        finally:
            async with self:
                self.compiling = False
                await (await self.get_state(ConversationState))._reload()

    @rx.event
    async def upload_image(self, files: list[rx.UploadFile]):
        """Keep uploaded images as journal drafts (checked by content: PNG, JPEG, GIF or WebP)."""
        conversation = await self.get_state(ConversationState)
        chat_id = conversation.chat_id
        try:
            files = inputs.uploads(files)
        except ServiceError as error:
            return rx.toast.error(str(error))
        for upload in files:
            data = await upload.read(journal.MAX_IMAGE_BYTES + 1)
            name = Path(upload.name or upload.filename or "image").name

            def add(session: Session, data: bytes = data, name: str = name) -> None:
                journal.add_image_draft(session, chat_id, data, caption=name)

            try:
                await in_db(add)
            except ServiceError as error:
                return rx.toast.error(f"{name}: {error}")
        await conversation._reload()
        return None
