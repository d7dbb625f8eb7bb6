"""Run record work in a worker thread so the event loop never waits on disk."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session

from azera.db.engine import session_scope

T = TypeVar("T")


def _in_session(work: Callable[[Session], T]) -> T:
    with session_scope() as session:
        return work(session)


async def in_db(work: Callable[[Session], T]) -> T:
    """Run ``work(session)`` in a thread inside one committed transaction."""
    return await asyncio.to_thread(_in_session, work)
