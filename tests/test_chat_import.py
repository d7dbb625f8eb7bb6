"""SillyTavern chats (.jsonl) into an Azera chat: messages with their dates, swipes as branches, recalled."""

import json

import pytest

from azera.cli import main
from azera.db.engine import session_scope
from azera.errors import ServiceError
from azera.memory.documents import find_memories
from azera.services import chats
from azera.services import messages as svc
from azera.services.chat_import import import_sillytavern_chat

HEADER = {"user_name": "You", "character_name": "Mira", "create_date": "2024-03-01@10h05m12s", "chat_metadata": {}}
LINES = [
    {"name": "Mira", "is_user": False, "send_date": "March 1, 2024 10:05am", "mes": "Ahoy! Early for a sailor."},
    {"name": "You", "is_user": True, "send_date": "March 1, 2024 10:06am", "mes": "My sister Ingrid sails too."},
    {
        "name": "Mira",
        "is_user": False,
        "send_date": "2024-03-01T10:07:00Z",
        "mes": "Then she knows the fjords.",
        "swipes": ["Does she race?", "Then she knows the fjords.", "Tell me about her boat."],
        "swipe_id": 1,
    },
    {"name": "System", "is_system": True, "mes": "[Mira is typing]"},
    {"name": "You", "is_user": True, "send_date": 1709287680000, "mes": "She lives in Trondheim."},
]


def _jsonl(*items: dict) -> bytes:
    return "\n".join(json.dumps(item) for item in items).encode()


def test_a_sillytavern_chat_arrives_with_dates_branches_and_memories(prepared) -> None:
    with session_scope() as session:
        chat, count = import_sillytavern_chat(session, "mira.jsonl", _jsonl(HEADER, *LINES), persona_id="azera")
        chat_id = chat.id
    assert count == 6  # 4 messages, one of them with 3 swipes; the system note left out
    with session_scope() as session:
        chat = chats.get_chat(session, chat_id)
        branch = svc.active_branch(session, chat)
        assert chat.title == "Mira (imported)" and chat.ai_persona_id == "azera"
        assert [(m.role, m.content) for m in branch] == [
            ("assistant", "Ahoy! Early for a sailor."),
            ("user", "My sister Ingrid sails too."),
            ("assistant", "Then she knows the fjords."),  # the swipe that was shown
            ("user", "She lives in Trondheim."),
        ]
        assert [len(svc.siblings(session, m)) for m in branch] == [1, 1, 3, 1]  # swipes are sibling branches
        assert branch[1].created_at.replace(tzinfo=None).isoformat() == "2024-03-01T10:06:00"
        assert branch[3].created_at.replace(tzinfo=None).isoformat() == "2024-03-01T10:08:00"
        texts = {m.text for m in find_memories(session, persona_id="azera", kind="conversation")}
    assert "She lives in Trondheim." in texts and "Does she race?" not in texts  # the active branch remembered


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_jsonl(HEADER, LINES[0]) + b"\n{broken", r"broken\.jsonl, line 3: not JSON"),
        (_jsonl(HEADER, {**LINES[0], "mes": "x" * 20_000}), r"line 2: 'mes' is not a text"),
        (_jsonl(HEADER), r"holds no messages"),
        (b"", r"is empty"),
        (_jsonl(HEADER, {**LINES[2], "swipes": "not a list"}), r"line 2: 'swipes'"),
    ],
)
def test_a_broken_chat_file_names_the_line_and_imports_nothing(prepared, data: bytes, message: str) -> None:
    with pytest.raises(ServiceError, match=message), session_scope() as session:
        import_sillytavern_chat(session, "broken.jsonl", data, persona_id="azera")
    with session_scope() as session:
        assert chats.list_chats(session) == []


def test_the_import_chat_command(prepared, tmp_path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "mira.jsonl"
    path.write_bytes(_jsonl(HEADER, *LINES))
    assert main(["personas", "import-chat", "areza", str(path)]) == 0
    assert "imported 6 messages" in capsys.readouterr().out
    assert main(["personas", "import-chat", "nobody", str(path)]) == 2 and "nobody" in capsys.readouterr().err
