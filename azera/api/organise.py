"""``/api/groups`` and ``/api/tags``: the sidebar's groups and the chats' tags (list, create, rename, delete).

Deleting a group moves its chats to "General" (which cannot be deleted or renamed); deleting a tag takes it
off its chats.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Path, Response
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, select

from azera.api.chats import fail
from azera.db.engine import in_db
from azera.db.models import Chat, ChatTag
from azera.errors import ServiceError
from azera.services import chats

GROUP_ID = Path(ge=1, le=2**31 - 1)
TAG_ID = Path(ge=1, le=2**31 - 1)  # (one Path object per name: FastAPI keeps the name it was first used with)
NOT_FOUND = {404: {"description": "no such group or tag"}}


class Name(BaseModel):
    """Body of a create or rename."""

    name: str = Field(min_length=1, max_length=80)


class GroupOut(BaseModel):
    """A chat group and how many chats it holds."""

    id: int
    name: str
    chats: int


class TagOut(BaseModel):
    """A tag and how many chats carry it."""

    id: int
    name: str
    chats: int


def _counts(session: Session, column) -> dict[int, int]:
    return dict(session.exec(select(column, func.count()).group_by(column)).all())  # type: ignore[arg-type]


def _groups(session: Session) -> list[GroupOut]:
    counts = _counts(session, Chat.group_id)
    return [GroupOut(id=g.id, name=g.name, chats=counts.get(g.id, 0)) for g in chats.list_groups(session)]  # type: ignore[arg-type]


def _tags(session: Session) -> list[TagOut]:
    counts = _counts(session, ChatTag.tag_id)
    return [TagOut(id=t.id, name=t.name, chats=counts.get(t.id, 0)) for t in chats.list_tags(session)]  # type: ignore[arg-type]


async def _run(work: Callable[[Session], object]):
    try:
        return await in_db(work)
    except ServiceError as error:
        raise fail(error) from error


def _then(listing: Callable[[Session], list], change: Callable[[Session], object]) -> Callable[[Session], object]:
    """Make the change, then answer with the changed row as the listing shows it (with its count)."""

    def work(session: Session):
        row_id = change(session).id  # type: ignore[attr-defined]
        return {row.id: row for row in listing(session)}[row_id]

    return work


def add_organise_routes(api: FastAPI) -> None:
    """Groups and tags."""

    @api.get("/api/groups")
    async def list_groups() -> list[GroupOut]:
        """Groups, "General" first, with their chat counts."""
        return await in_db(_groups)

    @api.post("/api/groups", status_code=201, responses={400: {"description": "empty or taken name"}})
    async def create_group(body: Name) -> GroupOut:
        """A new group (names are unique, whatever their case)."""
        return await _run(_then(_groups, lambda session: chats.create_group(session, body.name)))

    @api.patch("/api/groups/{group_id}", responses=NOT_FOUND)
    async def rename_group(body: Name, group_id: int = GROUP_ID) -> GroupOut:
        """Rename a group."""
        return await _run(_then(_groups, lambda session: chats.rename_group(session, group_id, body.name)))

    @api.delete("/api/groups/{group_id}", status_code=204, responses=NOT_FOUND)
    async def delete_group(group_id: int = GROUP_ID) -> Response:
        """Delete a group; its chats move to "General"."""
        await _run(lambda session: chats.delete_group(session, group_id))
        return Response(status_code=204)

    @api.get("/api/tags")
    async def list_tags() -> list[TagOut]:
        """Tags by name, with how many chats carry each."""
        return await in_db(_tags)

    @api.post("/api/tags", status_code=201, responses={400: {"description": "empty, too long or taken"}})
    async def create_tag(body: Name) -> TagOut:
        """A new tag (kept lower-case)."""
        return await _run(_then(_tags, lambda session: chats.create_tag(session, body.name)))

    @api.patch("/api/tags/{tag_id}", responses=NOT_FOUND)
    async def rename_tag(body: Name, tag_id: int = TAG_ID) -> TagOut:
        """Rename a tag; its chats keep it."""
        return await _run(_then(_tags, lambda session: chats.rename_tag(session, tag_id, body.name)))

    @api.delete("/api/tags/{tag_id}", status_code=204, responses=NOT_FOUND)
    async def delete_tag(tag_id: int = TAG_ID) -> Response:
        """Delete a tag; its chats lose it."""
        await _run(lambda session: chats.delete_tag(session, tag_id))
        return Response(status_code=204)
