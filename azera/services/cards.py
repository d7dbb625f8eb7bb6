"""Character cards (SillyTavern, Character Card V1/V2/V3): import into a persona, export a persona as a card.

A card is JSON, on its own (``.json``) or base64 in a PNG's text chunk: ``chara`` (V1/V2) or ``ccv3`` (V3, read
first when both are there). The card's fields become sections of the persona's markdown body (Description,
Personality, Scenario, First message, Alternate greetings, Example dialogue, System prompt, Creator notes,
Tags), so the persona reads and edits like any other and exports back to the same card. A lorebook
(``character_book``) becomes the persona's knowledge-base memories, one per entry, its keys in front. The
PNG becomes the persona's avatar (``<data>/media/avatars/<id>.png``). Export writes a V3 PNG card with the
V2 fields filled too (``chara`` and ``ccv3`` chunks), on the avatar or on a plain square in the persona's
colour. PNG chunks are read and written with Pillow.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import io
import json
import re
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin, UnidentifiedImageError
from sqlmodel import Session

from azera.config import get_settings
from azera.db.models import Persona
from azera.errors import ServiceError
from azera.services.persona_files import MAX_BODY_CHARS, PersonaDocument, render_persona, slugify

MAX_CARD_BYTES = 20_000_000
MAX_FIELD_CHARS = 50_000
MAX_ENTRIES = 2_000
SECTIONS = (  # (card field, section title), in the order they are written
    ("description", "Description"),
    ("personality", "Personality"),
    ("scenario", "Scenario"),
    ("first_mes", "First message"),
    ("alternate_greetings", "Alternate greetings"),
    ("mes_example", "Example dialogue"),
    ("system_prompt", "System prompt"),
    ("post_history_instructions", "Post-history instructions"),
    ("creator_notes", "Creator notes"),
    ("tags", "Tags"),
)
LIST_FIELDS = {"alternate_greetings", "tags"}
LORE_PREFIX = "lorebook: "  # a lorebook entry's memory: its source is the book's name after this


@dataclasses.dataclass
class Card:
    """A card's fields, whatever version it came in."""

    name: str
    fields: dict[str, Any]
    book: list[dict[str, Any]]
    book_name: str
    spec: str
    image: bytes = b""


def _decode(text: str, name: str, chunk: str) -> dict:
    try:
        data = json.loads(base64.b64decode(text, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise ServiceError(f"{name}: the '{chunk}' chunk is not base64 JSON ({error})") from error
    if not isinstance(data, dict):
        raise ServiceError(f"{name}: the '{chunk}' chunk holds no card")
    return data


def read_card(name: str, data: bytes) -> Card:
    """The card in a PNG or a JSON file; raises ServiceError naming the file and what is wrong."""
    if len(data) > MAX_CARD_BYTES:
        raise ServiceError(f"{name} is larger than {MAX_CARD_BYTES // 1_000_000} MB")
    image = b""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        try:
            png = Image.open(io.BytesIO(data))
            png.load()
        except (UnidentifiedImageError, OSError, SyntaxError) as error:
            raise ServiceError(f"{name}: the PNG cannot be read ({error})") from error
        chunks = getattr(png, "text", {}) or {}
        chunk = "ccv3" if "ccv3" in chunks else "chara" if "chara" in chunks else ""
        if not chunk:
            raise ServiceError(f"{name}: a PNG with no character card in it (no 'chara' or 'ccv3' text chunk)")
        raw, image = _decode(chunks[chunk], name, chunk), data
    else:
        try:
            raw = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise ServiceError(f"{name} is neither a PNG card nor card JSON ({error})") from error
        if not isinstance(raw, dict):
            raise ServiceError(f"{name}: the JSON holds no card")
    card = _card(raw, name)
    card.image = image
    return card


def _card(raw: dict, name: str) -> Card:
    spec = str(raw.get("spec", ""))
    if spec in ("chara_card_v2", "chara_card_v3"):
        fields = raw.get("data")
        if not isinstance(fields, dict):
            raise ServiceError(f"{name}: a {spec} card without its 'data'")
    elif spec:
        raise ServiceError(f"{name}: unknown card spec '{spec[:40]}' (Azera reads chara_card_v2 and chara_card_v3)")
    else:  # V1: the fields at the top
        fields, spec = raw, "chara_card_v1"
    card_name = str(fields.get("name") or "").strip()
    if not card_name:
        raise ServiceError(f"{name}: the card has no name")
    kept: dict[str, Any] = {}
    for field, _ in SECTIONS:
        value = fields.get(field)
        if field in LIST_FIELDS:
            items = [str(item) for item in value] if isinstance(value, list) else []
            if sum(len(item) for item in items) > MAX_FIELD_CHARS:
                raise ServiceError(f"{name}: '{field}' is longer than {MAX_FIELD_CHARS:,} characters")
            kept[field] = items
        else:
            text = "" if value is None else str(value)
            if len(text) > MAX_FIELD_CHARS:
                raise ServiceError(f"{name}: '{field}' is {len(text):,} characters; at most {MAX_FIELD_CHARS:,}")
            kept[field] = text
    book = fields.get("character_book") or {}
    entries = book.get("entries", []) if isinstance(book, dict) else []
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
        raise ServiceError(f"{name}: the lorebook's entries are not a list of at most {MAX_ENTRIES:,}")
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or len(str(entry.get("content", ""))) > MAX_FIELD_CHARS:
            raise ServiceError(f"{name}: lorebook entry {number} is not an entry of up to {MAX_FIELD_CHARS:,} chars")
    book_name = str(book.get("name") or f"{card_name} lorebook") if isinstance(book, dict) else ""
    return Card(card_name[:80], kept, entries, book_name[:150], spec)


def card_body(card: Card) -> str:
    """The persona body the card's fields become."""
    parts = [f"# {card.name}"]
    for field, title in SECTIONS:
        value = card.fields.get(field)
        if not value:
            continue
        if field == "alternate_greetings":
            text = "\n\n".join(f"### Greeting {n}\n{greeting}" for n, greeting in enumerate(value, start=1))
        elif field == "tags":
            text = ", ".join(value)
        else:
            text = value.strip()
        parts.append(f"## {title}\n{text}")
    return "\n\n".join(parts) + "\n"


def body_fields(body: str) -> dict[str, Any]:
    """The card fields a persona body holds (its sections by title; the inverse of ``card_body``)."""
    titles = {title: field for field, title in SECTIONS}
    fields: dict[str, Any] = {}
    for block in re.split(r"^## ", body, flags=re.MULTILINE)[1:]:
        title, _, text = block.partition("\n")
        field = titles.get(title.strip())
        if field is None:
            continue
        text = text.strip()
        if field == "alternate_greetings":
            fields[field] = [part.partition("\n")[2].strip() for part in re.split(r"^### ", text, flags=re.M)[1:]]
        elif field == "tags":
            fields[field] = [tag.strip() for tag in text.split(",") if tag.strip()]
        else:
            fields[field] = text
    if "description" not in fields:  # a persona written for Azera: its whole body describes it
        fields["description"] = body.strip()
    return fields


def avatar_path(persona_id: str) -> Path:
    """Where a persona's avatar image lives."""
    return get_settings().data_dir / "media" / "avatars" / f"{persona_id}.png"


def import_card(session: Session, folder: Path, name: str, data: bytes, *, persona_id: str = "") -> tuple[Persona, int]:
    """Create an AI persona from a card (in the caller's transaction: all or nothing).

    Returns the persona and how many lorebook entries became its memories (waiting to be indexed).
    """
    from azera.memory.service import MemoryService
    from azera.services.personas import create_persona

    card = read_card(name, data)
    persona_id = persona_id or slugify(card.name)
    body = card_body(card)
    if len(body) > MAX_BODY_CHARS:
        raise ServiceError(f"{name}: the card's text is {len(body):,} characters; a persona holds {MAX_BODY_CHARS:,}")
    document = PersonaDocument(id=persona_id, name=card.name, kind="ai", emoji="🃏", body=body)
    persona = create_persona(session, folder, render_persona(document))
    count = 0
    for entry in card.book:
        if entry.get("enabled", True) is False or not str(entry.get("content", "")).strip():
            continue
        keys = ", ".join(str(key) for key in entry.get("keys", []) if str(key).strip())
        text = f"{keys}: {entry['content']}" if keys else str(entry["content"])
        source = LORE_PREFIX + card.book_name
        MemoryService.record(session, text=text, persona_id=persona.id, kind="document", source=source)
        count += 1
    if card.image:
        target = avatar_path(persona.id)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(card.image)
    return persona, count


def _colour(colour: str) -> str:
    from PIL import ImageColor

    try:
        ImageColor.getrgb(colour)
        return colour
    except ValueError:
        return "#8b5cf6"


def export_card(persona: Persona, lore: list[tuple[str, str]]) -> bytes:
    """A V3 PNG card of the persona (V2 fields filled too); ``lore``: (source, text) of its document memories."""
    fields = {field: ([] if field in LIST_FIELDS else "") for field, _ in SECTIONS}
    fields.update(body_fields(persona.body))
    data = {"name": persona.name, **fields, "creator": "Azera", "character_version": "", "extensions": {}}
    if lore:
        entries = []
        for number, (_, text) in enumerate(lore):
            keys, _, content = text.partition(": ") if ": " in text[:200] else ("", "", text)
            entries.append(
                {
                    "keys": [key.strip() for key in keys.split(",") if key.strip()],
                    "content": content,
                    "enabled": True,
                    "insertion_order": number,
                    "id": number,
                    "extensions": {},
                }
            )
        data["character_book"] = {"name": lore[0][0], "entries": entries, "extensions": {}}
    v2 = {"spec": "chara_card_v2", "spec_version": "2.0", "data": data}
    v3 = {"spec": "chara_card_v3", "spec_version": "3.0", "data": {**data, "group_only_greetings": []}}
    avatar = avatar_path(persona.id)
    image = Image.open(avatar) if avatar.is_file() else Image.new("RGB", (400, 600), _colour(persona.color))
    info = PngImagePlugin.PngInfo()
    info.add_text("chara", base64.b64encode(json.dumps(v2, ensure_ascii=False).encode()).decode())
    info.add_text("ccv3", base64.b64encode(json.dumps(v3, ensure_ascii=False).encode()).decode())
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def lore_of(session: Session, persona_id: str) -> list[tuple[str, str]]:
    """The persona's lorebook memories (document memories from a card), as (book name, text)."""
    from sqlmodel import col, select

    from azera.db.models import Memory

    query = select(Memory.source, Memory.text).where(
        Memory.persona_id == persona_id, Memory.kind == "document", col(Memory.source).startswith(LORE_PREFIX)
    )
    rows = session.exec(query.order_by(col(Memory.created_at)))
    return [(source.removeprefix(LORE_PREFIX), text) for source, text in rows]
