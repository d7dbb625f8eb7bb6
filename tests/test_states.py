"""Reflex state handlers, called directly as the framework would (no browser)."""

import json

import pytest
from reflex.istate.data import RouterData

from azera.services.chats import list_chats
from azera.state.chats import ChatState
from azera.state.personas import PersonaState
from azera.state.preferences import PreferencesState


def _at(state, path: str) -> None:
    state.router = RouterData.from_router_data(
        {"pathname": path, "asPath": path, "headers": {"origin": "http://127.0.0.1:3000"}, "query": {}}
    )


async def _open_new_chat(state: ChatState) -> str:
    await state.load_page()
    redirect = await state.new_chat()
    chat_id = str(redirect).split("/chat/")[1].split('"')[0].split("\\")[0]
    _at(state, f"/chat/{chat_id}")
    await state.load_page()
    return chat_id


async def test_new_chat_opens_with_azera_and_protag(prepared) -> None:
    state = ChatState()
    chat_id = await _open_new_chat(state)
    assert state.chat_id == chat_id
    assert (state.ai_persona_id, state.user_persona_id, state.title) == ("azera", "protag", "New chat")
    assert [s["name"] for s in state.sections] == ["General"]
    assert state.sections[0]["chats"][0]["id"] == chat_id


async def test_header_changes_persist(prepared, session) -> None:
    state = ChatState()
    chat_id = await _open_new_chat(state)
    state.set_title_draft("Lighthouse campaign")
    await state.save_title()
    assert await state.set_ai_persona("areza") is None
    await state.toggle_tag("ideas")
    await state.toggle_tag("work")
    await state.toggle_tag("ideas")
    fresh = ChatState()
    _at(fresh, f"/chat/{chat_id}")
    await fresh.load_page()
    assert (fresh.title, fresh.ai_persona_id, fresh.tags) == ("Lighthouse campaign", "areza", ["work"])


async def test_bad_title_shows_an_error_and_keeps_the_old_one(prepared) -> None:
    state = ChatState()
    await _open_new_chat(state)
    refused = state.set_title_draft("x" * 300)  # the input allows 200; a forged event gets a toast
    assert "longer than 200" in str(refused)
    state.set_title_draft("   ")
    toast = await state.save_title()
    assert "must not be empty" in str(toast)
    assert state.title_draft == "New chat"


async def test_unknown_chat_in_url_is_reported(prepared) -> None:
    state = ChatState()
    _at(state, "/chat/doesnotexist")
    await state.load_page()
    assert state.chat_id == "" and state.missing_chat


async def test_search_and_delete(prepared, session) -> None:
    state = ChatState()
    await _open_new_chat(state)
    state.set_title_draft("Tax return")
    await state.save_title()
    await state.set_search("tax")
    assert [c["title"] for s in state.sections for c in s["chats"]] == ["Tax return"]
    await state.set_search("nothing like this")
    assert state.sections == []
    await state.delete_chat()
    assert state.chat_id == ""
    assert list_chats(session) == []


async def test_persona_editor_preview_save_and_restore(prepared) -> None:
    state = PersonaState()
    await state.load()
    await state.select("azera")
    state.start_edit()
    assert state.preview.startswith("# 📐 Azera")
    state.set_draft(state.draft.replace("name: Azera", "name: ''"))
    assert "field 'name'" in state.draft_error
    state.set_draft(state.document.replace("ISTJ", "INTJ"))
    assert state.draft_error == ""
    await state.save()
    assert "INTJ" in state.profile and not state.editing
    assert [v["number"] for v in state.versions] == [2, 1]
    await state.restore(1)
    assert "ISTJ" in state.profile


async def test_create_persona_from_template_and_delete(prepared) -> None:
    state = PersonaState()
    await state.load()
    await state.start_create()
    assert "Prime Directive" in state.draft
    state.set_draft(state.draft.replace("new-persona", "muse").replace("New Persona", "Muse"))
    await state.save()
    assert state.selected_id == "muse"
    assert "muse" in [p["id"] for p in state.personas]
    await state.delete_selected()
    assert "muse" not in [p["id"] for p in state.personas]


async def test_duplicate_persona_name_is_refused(prepared) -> None:
    state = PersonaState()
    await state.load()
    await state.start_create()
    state.set_draft(state.draft.replace("New Persona", "Areza"))
    toast = await state.save()
    assert "already used" in str(toast)
    assert state.editing


async def test_preferences_save_and_mirror_to_local_storage(prepared) -> None:
    state = PreferencesState()
    await state.load()
    assert state.send_on_enter
    await state.set_send_on_enter(False)
    await state.set_font("Serif")
    assert json.loads(state.mirror)["send_on_enter"] is False
    again = PreferencesState()
    await again.load()
    assert (again.send_on_enter, again.font) == (False, "Serif")
    assert "must be a number" in str(await again.set_font_size("abc"))
    assert again.font_size == 15


@pytest.mark.parametrize("value", ["9", "40"])
async def test_out_of_range_font_size_is_refused(prepared, value: str) -> None:
    state = PreferencesState()
    await state.load()
    toast = await state.set_font_size(value)
    assert "between 11 and 24" in str(toast)
    assert state.font_size == 15
