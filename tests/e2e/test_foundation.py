"""The whole foundation in a real browser: chat, persona switch, persona edit, reload, settings."""

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import new_chat

pytestmark = pytest.mark.browser


def test_chat_persona_and_edit_survive_a_reload(page: Page, app_url: str) -> None:
    new_chat(page, app_url)
    chat_url = page.url
    link = page.locator(f".chat-link[href$='{chat_url.rsplit('/chat/', 1)[1]}']")
    expect(page.locator("#ai-persona")).to_contain_text("Azera")

    title = page.locator("#chat-title")
    title.fill("Lighthouse campaign")
    title.press("Enter")
    expect(link).to_contain_text("Lighthouse campaign")

    page.click("#ai-persona")
    page.get_by_role("option", name=re.compile("Areza")).click()
    expect(page.locator("#ai-persona")).to_contain_text("Areza")
    page.locator(".tag-badge", has_text="work").click()
    expect(link).to_contain_text("#work")

    page.goto(app_url + "/personas")
    page.locator(".persona-item", has_text="Azera").click()
    expect(page.locator("#persona-profile")).to_contain_text("The Architect")
    page.click("#edit-persona")
    editor = page.locator("#persona-editor")
    editor.fill(
        editor.input_value().replace("## Quirks & Preferences", "## Quirks & Preferences\n- Hums while compiling.")
    )
    expect(page.locator("#persona-preview")).to_contain_text("Hums while compiling.")
    page.click("#save-persona")
    expect(page.locator("#persona-profile")).to_contain_text("Hums while compiling.")

    page.goto(chat_url)
    page.reload()
    expect(title).to_have_value("Lighthouse campaign")
    expect(page.locator("#ai-persona")).to_contain_text("Areza")
    expect(link).to_contain_text("#work")

    page.goto(app_url + "/personas")
    page.reload()
    page.locator(".persona-item", has_text="Azera").click()
    expect(page.locator("#persona-profile")).to_contain_text("Hums while compiling.")
    page.click("#versions-tab")
    expect(page.locator(".version-item")).to_have_count(2)


def test_broken_persona_draft_cannot_be_saved(page: Page, app_url: str) -> None:
    page.goto(app_url + "/personas")
    expect(page.locator(".persona-item").first).to_be_visible()  # the page has its state (a click before is lost)
    page.click("#new-persona")
    editor = page.locator("#persona-editor")
    expect(editor).to_contain_text("Prime Directive")
    editor.fill("---\nname: [oops\n---\nbody")
    expect(page.locator("#persona-preview")).to_contain_text("malformed")
    expect(page.locator("#save-persona")).to_be_disabled()


def test_settings_persist_and_mirror_to_local_storage(page: Page, app_url: str) -> None:
    page.goto(app_url + "/settings")
    switch = page.locator("#send-on-enter")
    # A click before the page has its state from the server would be lost: wait for the loaded mirror.
    page.wait_for_function("() => (localStorage.getItem('azera_preferences') || '').includes('send_on_enter')")
    expect(switch).to_have_attribute("data-state", "checked")
    switch.click()
    expect(switch).to_have_attribute("data-state", "unchecked")
    page.wait_for_function(
        "() => (localStorage.getItem('azera_preferences') || '').includes('\"send_on_enter\": false')"
    )
    page.reload()
    expect(page.locator("#send-on-enter")).to_have_attribute("data-state", "unchecked")
    stored = json.loads(page.evaluate("() => localStorage.getItem('azera_preferences')"))
    assert stored["send_on_enter"] is False

    # With "Send on Enter" off, Enter adds a line and Ctrl+Enter sends.
    new_chat(page, app_url)
    composer = page.locator("#composer")
    composer.fill("first line")
    composer.press("Enter")
    composer.type("second line")
    expect(composer).to_have_value("first line\nsecond line")
    expect(page.locator(".user-message")).to_have_count(0)
    composer.press("Control+Enter")
    expect(page.locator(".user-message .message-text")).to_contain_text("second line")
    expect(page.locator("#send")).to_be_visible(timeout=60_000)

    # Put it back for the other browser tests (they send with Enter), and wait until the server has it.
    page.goto(app_url + "/settings")
    expect(page.locator("#send-on-enter")).to_have_attribute("data-state", "unchecked")  # loaded from the server
    page.click("#send-on-enter")
    expect(page.locator("#send-on-enter")).to_have_attribute("data-state", "checked")
    page.wait_for_function(
        "() => (localStorage.getItem('azera_preferences') || '').includes('\"send_on_enter\": true')"
    )
    page.reload()
    expect(page.locator("#send-on-enter")).to_have_attribute("data-state", "checked")


def test_no_page_is_a_placeholder_any_more(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/canvas")
    expect(page.locator("#generate")).to_be_visible()  # the last placeholder (Canvas) is built
    expect(page.locator("#not-built")).to_have_count(0)


def test_deleting_asks_first(page: Page, app_url: str) -> None:
    chat_id = new_chat(page, app_url)
    page.click("#delete-chat")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator(f".chat-link[href$='{chat_id}']")).to_have_count(1)
    page.click("#delete-chat")
    page.click("#confirm-delete-chat")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator(f".chat-link[href$='{chat_id}']")).to_have_count(0)

    page.goto(app_url + "/personas")
    page.locator(".persona-item", has_text="Areza").click()
    page.click("#delete-persona")
    expect(page.get_by_text("This is a built-in persona")).to_be_visible()
    page.click("#confirm-delete-persona")
    expect(page.locator(".persona-item", has_text="Areza")).to_have_count(0)
