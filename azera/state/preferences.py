"""Preferences state: kept on the server, mirrored to LocalStorage ``azera_preferences``."""

from __future__ import annotations

import json

import reflex as rx

from azera.db.engine import in_db
from azera.errors import ServiceError
from azera.services.preferences import Preferences, load_preferences, update_preferences
from azera.state import inputs

FONT_STACKS = {
    "Inter": "Inter, 'Segoe UI', system-ui, sans-serif",
    "System": "system-ui, -apple-system, 'Segoe UI', sans-serif",
    "Serif": "Georgia, 'Times New Roman', serif",
    "Mono": "'JetBrains Mono', 'Fira Code', monospace",
}


class PreferencesState(rx.State):
    """The user's display and input preferences."""

    show_thinking: bool = True
    send_on_enter: bool = True
    theme: str = "dark"
    font: str = "Inter"
    code_font: str = "JetBrains Mono"
    font_size: int = 15
    default_model: str = ""
    auto_speak: bool = False
    mirror: str = rx.LocalStorage("", name="azera_preferences", sync=True)
    loaded: bool = False

    def _adopt(self, preferences: Preferences) -> None:
        for key, value in preferences.model_dump().items():
            setattr(self, key, value)
        self.mirror = json.dumps(preferences.model_dump(), sort_keys=True)
        self.loaded = True

    @rx.var
    def font_family(self) -> str:
        """CSS font stack for the chosen font."""
        return FONT_STACKS.get(self.font, FONT_STACKS["Inter"])

    @rx.var
    def font_size_px(self) -> str:
        """Base font size as CSS."""
        return f"{self.font_size}px"

    @rx.event
    async def load(self):
        """Read the saved preferences from the server."""
        preferences = await in_db(load_preferences)
        self._adopt(preferences)

    async def _change(self, **changes: object):
        try:
            for name, value in changes.items():
                if isinstance(value, str):
                    inputs.text(value, limit=200, what=f"The {name.replace('_', ' ')}")
            preferences = await in_db(lambda session: update_preferences(session, **changes))
        except ServiceError as error:
            return rx.toast.error(str(error))
        self._adopt(preferences)
        return None

    @rx.event
    async def set_show_thinking(self, value: bool):
        """Show or hide thinking blocks."""
        if not isinstance(value, bool):
            return rx.toast.error("Show thinking is on or off")
        return await self._change(show_thinking=value)

    @rx.event
    async def set_send_on_enter(self, value: bool):
        """Enter sends (true) or Ctrl+Enter sends (false)."""
        if not isinstance(value, bool):
            return rx.toast.error("Send on Enter is on or off")
        return await self._change(send_on_enter=value)

    @rx.event
    async def set_auto_speak(self, value: bool):
        """Read each new reply aloud when it is finished."""
        if not isinstance(value, bool):
            return rx.toast.error("Auto-speak is on or off")
        return await self._change(auto_speak=value)

    @rx.event
    async def set_theme(self, value: str):
        """Dark or light."""
        return await self._change(theme=value)

    @rx.event
    async def set_font(self, value: str):
        """Interface font."""
        return await self._change(font=value)

    @rx.event
    async def set_code_font(self, value: str):
        """Font for code blocks."""
        return await self._change(code_font=value)

    @rx.event
    async def set_font_size(self, value: str):
        """Base font size in pixels."""
        try:
            size = inputs.integer(value, low=11, high=24, what="The font size")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return await self._change(font_size=size)
