"""Reading one row by its key, or saying plainly that it does not exist."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import Session

from azera.errors import NotFoundError

Row = TypeVar("Row")


def require(session: Session, table: type[Row], key: Any, what: str) -> Row:
    """The row of ``table`` with this primary key; NotFoundError ("Unknown chat 'x'") when there is none."""
    row = session.get(table, key)
    if row is None:
        shown = f"'{key}'" if isinstance(key, str) else str(key)
        raise NotFoundError(f"Unknown {what} {shown}")
    return row
