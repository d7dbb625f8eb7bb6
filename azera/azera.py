"""The Reflex app: pages, API and start-up wiring only."""

from __future__ import annotations

import logging

import reflex as rx

from azera.api.guard import guard
from azera.api.routes import build_api
from azera.components.shell import ACCENT
from azera.config import get_settings
from azera.pages.canvas import canvas_page
from azera.pages.chat import chat_page
from azera.pages.dreams import dreams_page
from azera.pages.journal import journal_page
from azera.pages.memories import memories_page
from azera.pages.models import models_page
from azera.pages.personas import personas_page
from azera.pages.settings import settings_page
from azera.runtime import mind_lifespan
from azera.services.startup import announce_owner, prepare, publish_local_access, recover_after_crash
from azera.state.backups import BackupsState, TransferState
from azera.state.canvas import CanvasState
from azera.state.chats import ChatState
from azera.state.conversation import ConversationState
from azera.state.dreams import DreamsState
from azera.state.inputs import backend_error, refuse_unknown_events
from azera.state.journal import JournalState
from azera.state.memories import MemoriesState
from azera.state.models import ModelsState
from azera.state.personas import PersonaState
from azera.state.preferences import PreferencesState
from azera.state.tokens import TokensState
from azera.state.voice import VoiceState

logging.basicConfig(level=get_settings().log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
prepare()
recover_after_crash()
announce_owner()
publish_local_access()

app = rx.App(
    style={"::selection": {"background": ACCENT}},
    api_transformer=[build_api(), guard],  # the guard wraps everything: pages, websocket, uploads, API
    backend_exception_handler=backend_error,
    head_components=[rx.script(src="/voice.js")],  # the player and the microphone (assets/voice.js)
)
chat_load = [PreferencesState.load, ChatState.load_page, ConversationState.load_page]
app.add_page(chat_page, route="/", title="Azera", on_load=chat_load)
app.add_page(chat_page, route="/chat/[chat_id]", title="Azera · Chat", on_load=chat_load)
app.add_page(
    personas_page, route="/personas", title="Azera · Personas", on_load=[PreferencesState.load, PersonaState.load]
)
app.add_page(
    settings_page,
    route="/settings",
    title="Azera · Settings",
    on_load=[PreferencesState.load, TokensState.load, BackupsState.load, TransferState.load, VoiceState.load],
)
app.add_page(models_page, route="/models", title="Azera · Models", on_load=[PreferencesState.load, ModelsState.load])
app.add_page(
    memories_page, route="/memories", title="Azera · Memories", on_load=[PreferencesState.load, MemoriesState.load]
)
app.add_page(dreams_page, route="/dreams", title="Azera · Dreams", on_load=[PreferencesState.load, DreamsState.load])
app.add_page(
    journal_page, route="/journal", title="Azera · Journal", on_load=[PreferencesState.load, JournalState.load]
)
app.add_page(canvas_page, route="/canvas", title="Azera · Canvas", on_load=[PreferencesState.load, CanvasState.load])
refuse_unknown_events(app)
app.register_lifespan_task(mind_lifespan)
