import pytest

from azera.services.persona_files import PersonaFileError, parse_persona, render_persona

GOOD = """---
id: sage
name: Sage
kind: ai
emoji: "🦉"
temperature: 0.4
memory: false
---
# Sage

Wise and brief.
"""


def test_parse_reads_front_matter_and_body() -> None:
    document = parse_persona(GOOD)
    assert (document.id, document.name, document.kind, document.temperature, document.memory) == (
        "sage",
        "Sage",
        "ai",
        0.4,
        False,
    )
    assert document.body == "# Sage\n\nWise and brief."


def test_render_round_trips() -> None:
    document = parse_persona(GOOD)
    assert parse_persona(render_persona(document)) == document


def test_id_is_derived_from_name_when_missing() -> None:
    assert parse_persona("---\nname: Old Friend\n---\nhi").id == "old-friend"


def test_malformed_yaml_names_file_and_line() -> None:
    with pytest.raises(PersonaFileError, match=r"broken\.md: the YAML front matter is malformed \(line \d+\)"):
        parse_persona("---\nname: [unclosed\nkind: ai\n---\nbody", source="broken.md")


def test_missing_name_is_named() -> None:
    with pytest.raises(PersonaFileError, match=r"nameless\.md: field 'name' is missing"):
        parse_persona("---\nkind: ai\n---\nbody", source="nameless.md")


@pytest.mark.parametrize(
    ("front", "field"),
    [
        ("name: X\ntemperature: 9", "temperature"),
        ("name: X\nkind: robot", "kind"),
        ("name: X\nid: Bad Id!", "id"),
        (f"name: {'x' * 81}", "name"),
    ],
)
def test_invalid_fields_are_named(front: str, field: str) -> None:
    with pytest.raises(PersonaFileError, match=f"field '{field}'"):
        parse_persona(f"---\n{front}\n---\nbody", source="p.md")
