"""Plain substring search in SQL, with the user's text taken literally."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func

ESCAPE = "\\"


def contains(column: Any, needle: str) -> Any:
    """``column`` holds ``needle`` (case-insensitive); ``%`` and ``_`` in it match themselves, not anything."""
    literal = needle.lower().replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return func.lower(column).like(f"%{literal}%", escape=ESCAPE)
