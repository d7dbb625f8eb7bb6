"""Character cards: V2 and V3 PNG cards made here from the published spec fields, imported with every field;
a persona exported as a card re-imports to the same persona; bad cards are refused with the file and why."""

import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from azera.cli import main
from azera.config import get_settings
from azera.db.engine import session_scope
from azera.errors import ServiceError
from azera.memory.documents import find_memories
from azera.services import cards
from azera.services.personas import delete_persona, get_persona, list_personas

FIELDS = {
    "name": "Captain Mira",
    "description": "A retired lighthouse keeper who now sails the northern fjords.",
    "personality": "Calm, dry humour, fiercely loyal.",
    "scenario": "{{user}} meets Mira on the pier at dawn.",
    "first_mes": "*Mira looks up from her ropes.* Early for a sailor, aren't you?",
    "mes_example": "<START>\n{{user}}: Is the sea calm?\n{{char}}: Calm as a sleeping cat.",
    "creator_notes": "Best with slow, atmospheric chats.",
    "system_prompt": "Write as Mira, in the present tense.",
    "post_history_instructions": "Keep replies under 120 words.",
    "alternate_greetings": ["The fog is thick today.", "You brought the charts?"],
    "tags": ["sailing", "fantasy"],
    "creator": "tests",
    "character_version": "1.0",
    "extensions": {},
    "character_book": {
        "name": "Northern fjords",
        "extensions": {},
        "entries": [
            {
                "keys": ["Seagull", "boat"],
                "content": "The Seagull is Mira's boat, a blue sloop.",
                "extensions": {},
                "enabled": True,
                "insertion_order": 0,
            },
            {
                "keys": ["Kestrel Light"],
                "content": "Kestrel Light is the lighthouse Mira kept for thirty years.",
                "extensions": {},
                "enabled": True,
                "insertion_order": 1,
            },
            {
                "keys": ["hidden"],
                "content": "A disabled entry.",
                "extensions": {},
                "enabled": False,
                "insertion_order": 2,
            },
        ],
    },
}


def _png(chunks: dict[str, dict]) -> bytes:
    info = PngImagePlugin.PngInfo()
    for keyword, card in chunks.items():
        info.add_text(keyword, base64.b64encode(json.dumps(card).encode()).decode())
    out = io.BytesIO()
    Image.new("RGB", (64, 96), "#204060").save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def _v2() -> dict:
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": FIELDS}


def _v3() -> dict:
    data = {**FIELDS, "name": "Captain Mira III", "group_only_greetings": [], "nickname": "Mira", "assets": []}
    return {"spec": "chara_card_v3", "spec_version": "3.0", "data": data}


def _import(data: bytes, name: str = "mira.png", persona_id: str = "") -> tuple:
    with session_scope() as session:
        persona, lore = cards.import_card(
            session, get_settings().resolved_personas_dir, name, data, persona_id=persona_id
        )
        return persona.id, lore


def _fields_of(persona_id: str) -> dict:
    with session_scope() as session:
        return cards.body_fields(get_persona(session, persona_id).body)


@pytest.mark.parametrize(("card", "name"), [(_v2(), "Captain Mira"), (_v3(), "Captain Mira III")])
def test_a_png_card_imports_with_every_field_and_its_lorebook(prepared, card: dict, name: str) -> None:
    keyword = "ccv3" if card["spec"] == "chara_card_v3" else "chara"
    persona_id, lore = _import(_png({keyword: card}))
    with session_scope() as session:
        persona = get_persona(session, persona_id)
        assert (persona.name, persona.kind) == (name, "ai")
    fields = _fields_of(persona_id)
    for field in ("description", "personality", "scenario", "first_mes", "mes_example", "system_prompt"):
        assert fields[field] == FIELDS[field], field
    assert fields["creator_notes"] == FIELDS["creator_notes"]
    assert fields["post_history_instructions"] == FIELDS["post_history_instructions"]
    assert fields["alternate_greetings"] == FIELDS["alternate_greetings"] and fields["tags"] == FIELDS["tags"]
    assert lore == 2  # the disabled entry is left out
    with session_scope() as session:
        texts = {m.text for m in find_memories(session, persona_id=persona_id, kind="document")}
    assert "Seagull, boat: The Seagull is Mira's boat, a blue sloop." in texts
    assert cards.avatar_path(persona_id).read_bytes().startswith(b"\x89PNG")


def test_v3_is_read_before_v2_and_plain_json_cards_work(prepared) -> None:
    both = _png({"chara": _v2(), "ccv3": _v3()})
    persona_id, _ = _import(both)
    with session_scope() as session:
        assert get_persona(session, persona_id).name == "Captain Mira III"
    v1 = {k: FIELDS[k] for k in ("description", "personality", "scenario", "first_mes", "mes_example")}
    other, lore = _import(json.dumps({**v1, "name": "Old Mira"}).encode(), "old.json")
    assert lore == 0 and _fields_of(other)["scenario"] == FIELDS["scenario"]


def test_an_exported_card_re_imports_to_the_same_persona(prepared, tmp_path: Path) -> None:
    persona_id, _ = _import(_png({"chara": _v2()}))
    with session_scope() as session:
        persona = get_persona(session, persona_id)
        card = cards.export_card(persona, cards.lore_of(session, persona_id))
    png = Image.open(io.BytesIO(card))
    assert {"chara", "ccv3"} <= set(png.text)
    v3 = json.loads(base64.b64decode(png.text["ccv3"]))
    assert v3["spec"] == "chara_card_v3" and v3["data"]["first_mes"] == FIELDS["first_mes"]
    assert [e["keys"] for e in v3["data"]["character_book"]["entries"]] == [["Seagull", "boat"], ["Kestrel Light"]]
    with session_scope() as session:
        body, name = persona.body, persona.name
        delete_persona(session, get_settings().resolved_personas_dir, persona_id)
    again, lore = _import(card, "exported.png")
    with session_scope() as session:
        restored = get_persona(session, again)
        assert (again, restored.name, restored.body) == (persona_id, name, body) and lore == 2
    assert main(["personas", "export-card", "azera", "--out", str(tmp_path / "azera.png")]) == 0
    azera = json.loads(base64.b64decode(Image.open(tmp_path / "azera.png").text["chara"]))
    assert azera["data"]["name"] == "Azera" and "Azera" in azera["data"]["description"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_png({}), r"no character card in it"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, r"PNG cannot be read"),
        (json.dumps({"spec": "chara_card_v9", "data": {}}).encode(), r"unknown card spec 'chara_card_v9'"),
        (json.dumps({"spec": "chara_card_v2", "data": {"name": ""}}).encode(), r"has no name"),
        (json.dumps({**FIELDS, "description": "x" * 5_000_000}).encode(), r"'description' is 5,000,000 characters"),
        (b"{not json", r"neither a PNG card nor card JSON"),
    ],
)
def test_bad_cards_say_which_file_and_why_and_import_nothing(prepared, data: bytes, message: str) -> None:
    with pytest.raises(ServiceError, match=message):
        _import(data, "bad-card.png")
    with session_scope() as session:
        assert {p.id for p in list_personas(session)} == {"azera", "areza", "protag"}


def test_a_broken_base64_chunk_is_named(prepared) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("chara", "!!! not base64 !!!")
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG", pnginfo=info)
    with pytest.raises(ServiceError, match=r"bad-card\.png: the 'chara' chunk is not base64 JSON"):
        _import(out.getvalue(), "bad-card.png")
