"""``/api/groups`` and ``/api/tags``: the sidebar's groups and the chats' tags (list, create, rename, delete).

Deleting a group moves its chats to "General" (which cannot be deleted or renamed); deleting a tag takes it
off its chats.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Path, Response
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, select

from azera.api.chats import fail
from azera.db.engine import in_db
from azera.db.models import Chat, ChatTag
from azera.errors import ServiceError
from azera.services import chats

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


@dataclasses.dataclass(frozen=True)
class _Kind:
    """One of the two label resources: its listing and its service calls."""

    plural: str
    out: type[BaseModel]
    listing: Callable[[Session], list]
    create: Callable[[Session, str], Any]
    rename: Callable[[Session, int, str], Any]
    delete: Callable[[Session, int], None]
    notes: tuple[str, str, str, str]  # what list, create, rename and delete say in /api/docs


GROUPS = _Kind(
    "groups",
    GroupOut,
    _groups,
    chats.create_group,
    chats.rename_group,
    chats.delete_group,
    (
        'Groups, "General" first, with their chat counts.',
        "A new group (names are unique, whatever their case).",
        'Rename a group ("General" keeps its name).',
        'Delete a group; its chats move to "General".',
    ),
)
TAGS = _Kind(
    "tags",
    TagOut,
    _tags,
    chats.create_tag,
    chats.rename_tag,
    chats.delete_tag,
    (
        "Tags by name, with how many chats carry each.",
        "A new tag (kept lower-case).",
        "Rename a tag; its chats keep it.",
        "Delete a tag; its chats lose it.",
    ),
)


def _add_label_routes(api: FastAPI, kind: _Kind) -> None:
    async def listing() -> list:
        return await in_db(kind.listing)

    async def create(body: Name):
        return await _run(_then(kind.listing, lambda session: kind.create(session, body.name)))

    async def rename(body: Name, item_id: int = Path(ge=1, le=2**31 - 1)):
        return await _run(_then(kind.listing, lambda session: kind.rename(session, item_id, body.name)))

    async def delete(item_id: int = Path(ge=1, le=2**31 - 1)) -> Response:
        await _run(lambda session: kind.delete(session, item_id))
        return Response(status_code=204)

    base, one, name = f"/api/{kind.plural}", f"/api/{kind.plural}/{{item_id}}", kind.plural.rstrip("s")
    refused = {400: {"description": "empty, too long or taken name"}}
    api.add_api_route(
        base,
        listing,
        methods=["GET"],
        name=f"list_{kind.plural}",
        description=kind.notes[0],
        response_model=list[kind.out],
    )  # type: ignore[name-defined]
    api.add_api_route(
        base,
        create,
        methods=["POST"],
        name=f"create_{name}",
        description=kind.notes[1],
        status_code=201,
        response_model=kind.out,
        responses=refused,
    )
    api.add_api_route(
        one,
        rename,
        methods=["PATCH"],
        name=f"rename_{name}",
        description=kind.notes[2],
        response_model=kind.out,
        responses={**NOT_FOUND, **refused},
    )
    api.add_api_route(
        one,
        delete,
        methods=["DELETE"],
        name=f"delete_{name}",
        description=kind.notes[3],
        status_code=204,
        responses=NOT_FOUND,
    )


def add_organise_routes(api: FastAPI) -> None:
    """Groups and tags."""
    _add_label_routes(api, GROUPS)
    _add_label_routes(api, TAGS)
