"""User preferences, kept on the server (and mirrored to the browser's LocalStorage)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session

from azera.db.models import SettingRow, utcnow
from azera.errors import ServiceError

PREFERENCES_KEY = "preferences"


class Preferences(BaseModel):
    """What the Settings page edits."""

    show_thinking: bool = True
    send_on_enter: bool = True
    theme: Literal["dark", "light"] = "dark"
    font: Literal["Inter", "System", "Serif", "Mono"] = "Inter"
    code_font: Literal["JetBrains Mono", "Fira Code", "System Mono"] = "JetBrains Mono"
    font_size: int = Field(default=15, ge=11, le=24)
    default_model: str = Field(default="", max_length=200)
    auto_speak: bool = False  # read each new reply aloud when it is finished


def load_preferences(session: Session) -> Preferences:
    """The saved preferences, or defaults (unknown or broken values fall back to defaults)."""
    row = session.get(SettingRow, PREFERENCES_KEY)
    if row is None or not isinstance(row.value, dict):
        return Preferences()
    try:
        return Preferences.model_validate(row.value)
    except ValidationError:
        known = Preferences.model_fields
        cleaned = {}
        for key, value in row.value.items():
            if key in known:
                try:
                    Preferences.model_validate({key: value})
                    cleaned[key] = value
                except ValidationError:
                    continue
        return Preferences.model_validate(cleaned)


def update_preferences(session: Session, **changes: object) -> Preferences:
    """Change some preferences and save them."""
    current = load_preferences(session).model_dump()
    unknown = set(changes) - set(current)
    if unknown:
        raise ServiceError(f"Unknown preference(s): {', '.join(sorted(unknown))}")
    try:
        updated = Preferences.model_validate({**current, **changes})
    except ValidationError as error:
        first = error.errors()[0]
        raise ServiceError(f"Preference '{first['loc'][0]}': {first['msg']}") from error
    row = session.get(SettingRow, PREFERENCES_KEY) or SettingRow(key=PREFERENCES_KEY)
    row.value = updated.model_dump()
    row.updated_at = utcnow()
    session.add(row)
    return updated
