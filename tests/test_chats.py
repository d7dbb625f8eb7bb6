import pytest
from sqlmodel import Session, select

from azera.db.models import ChatMessage, Memory
from azera.errors import NotFoundError, ServiceError
from azera.services import chats as svc


def test_defaults_exist(session: Session) -> None:
    assert [g.name for g in svc.list_groups(session)] == ["General"]
    assert [t.name for t in svc.list_tags(session)] == ["ideas", "important", "personal", "work"]


def test_new_chat_lands_in_general_with_protag(session: Session) -> None:
    chat = svc.create_chat(session, ai_persona_id="azera")
    assert (chat.title, chat.user_persona_id) == ("New chat", "protag")
    assert chat.group_id == svc.default_group(session).id


def test_rename_and_title_limits(session: Session) -> None:
    chat = svc.create_chat(session, ai_persona_id="azera")
    assert svc.rename_chat(session, chat.id, "  Trip   planning ").title == "Trip planning"
    with pytest.raises(ServiceError, match="201 characters long; the limit is 200"):
        svc.rename_chat(session, chat.id, "x" * 201)
    with pytest.raises(ServiceError, match="must not be empty"):
        svc.rename_chat(session, chat.id, "   ")
    assert svc.get_chat(session, chat.id).title == "Trip planning"


def test_switch_personas_checks_kinds(session: Session) -> None:
    chat = svc.create_chat(session, ai_persona_id="azera")
    assert svc.set_chat_personas(session, chat.id, ai_persona_id="areza").ai_persona_id == "areza"
    with pytest.raises(ServiceError, match="not an AI persona"):
        svc.set_chat_personas(session, chat.id, ai_persona_id="protag")
    with pytest.raises(ServiceError, match="not a user persona"):
        svc.set_chat_personas(session, chat.id, user_persona_id="azera")
    with pytest.raises(NotFoundError, match="Unknown persona 'nobody'"):
        svc.create_chat(session, ai_persona_id="nobody")


def test_groups_and_tags(session: Session) -> None:
    chat = svc.create_chat(session, ai_persona_id="azera")
    work = svc.create_group(session, "Work stuff")
    svc.set_chat_group(session, chat.id, work.id)
    svc.set_chat_tags(session, chat.id, ["work", "important"])
    assert svc.chat_tags(session, [chat.id]) == {chat.id: ["important", "work"]}
    with pytest.raises(ServiceError, match="already exists"):
        svc.create_group(session, "work STUFF")
    with pytest.raises(NotFoundError, match="Unknown tag"):
        svc.set_chat_tags(session, chat.id, ["nope"])
    svc.delete_group(session, work.id)
    assert svc.get_chat(session, chat.id).group_id == svc.default_group(session).id
    with pytest.raises(ServiceError, match="cannot be deleted"):
        svc.delete_group(session, svc.default_group(session).id)
    assert svc.create_tag(session, " Travel ").name == "travel"


def test_search_matches_titles_and_messages(session: Session) -> None:
    first = svc.create_chat(session, ai_persona_id="azera", title="Garden plans")
    second = svc.create_chat(session, ai_persona_id="areza", title="Dungeon night")
    session.add(ChatMessage(chat_id=second.id, role="user", content="The dragon guards a TOMATO"))
    session.flush()
    assert [c.id for c in svc.list_chats(session, search="garden")] == [first.id]
    assert [c.id for c in svc.list_chats(session, search="tomato")] == [second.id]
    assert len(svc.list_chats(session)) == 2


def test_delete_removes_messages_tags_and_memories(session: Session) -> None:
    chat = svc.create_chat(session, ai_persona_id="azera")
    svc.set_chat_tags(session, chat.id, ["ideas"])
    session.add(ChatMessage(chat_id=chat.id, role="user", content="hello"))
    session.add(Memory(chat_id=chat.id, persona_id="azera", text="hello"))
    session.flush()
    svc.delete_chat(session, chat.id)
    session.flush()
    assert session.exec(select(ChatMessage)).all() == []
    assert session.exec(select(Memory)).all() == []
    with pytest.raises(NotFoundError):
        svc.get_chat(session, chat.id)
