"""Talking to a persona in the browser on the embedded llama.cpp model."""

import re

import pytest
from playwright.sync_api import Page, expect

from azera.bench.quality import PERSONA_BREAKS, is_loop
from azera.llm.loops import repeat_start
from tests.e2e.conftest import new_chat

pytestmark = pytest.mark.browser
REPLY_TIMEOUT = 60_000


def _new_chat(page: Page, app_url: str) -> None:
    new_chat(page, app_url)


def _wait_for_reply(page: Page) -> None:
    """The reply exists and is finished (regenerate is only enabled once nothing is streaming)."""
    expect(page.locator(".assistant-message .regenerate").last).to_be_enabled(timeout=REPLY_TIMEOUT)


def _send(page: Page, text: str) -> None:
    page.fill("#composer", text)
    page.press("#composer", "Enter")


def _energy(page: Page) -> int:
    return int(page.locator("#energy-value").inner_text().rstrip("%"))


def test_send_stream_regenerate_switch_branches_and_reload(page: Page, app_url: str) -> None:
    _new_chat(page, app_url)
    expect(page.locator("#mood-label")).not_to_be_empty()
    energy_before = _energy(page)
    _send(page, "Write two sentences about lighthouses.")
    expect(page.locator(".user-message")).to_contain_text("lighthouses")
    expect(page.locator("#composer")).to_have_value("")
    reply = page.locator(".assistant-message .message-text").last
    # Tokens arrive while the reply is still being written (the Stop button is up).
    expect(page.locator("#stop")).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(reply).not_to_be_empty(timeout=REPLY_TIMEOUT)
    expect(page.locator("#send")).to_be_visible(timeout=REPLY_TIMEOUT)
    first_reply = reply.inner_text()
    assert len(first_reply.split()) > 3
    # each exchange costs energy, once the mood call after the reply is done (a few seconds on the 1.5 B model)
    expect(page.locator("#energy-value")).to_have_text(f"{energy_before - 3}%", timeout=REPLY_TIMEOUT)

    page.locator(".assistant-message .regenerate").last.click()
    expect(page.locator(".assistant-message .branch-position")).to_have_text("2/2", timeout=REPLY_TIMEOUT)
    expect(page.locator("#send")).to_be_visible(timeout=REPLY_TIMEOUT)  # the regenerated reply is finished
    page.locator(".assistant-message .branch-previous").click()
    expect(page.locator(".assistant-message .branch-position")).to_have_text("1/2")
    expect(reply).to_have_text(first_reply)

    page.reload()
    expect(page.locator(".user-message")).to_contain_text("lighthouses")
    expect(page.locator(".assistant-message .branch-position")).to_have_text("1/2")
    expect(page.locator(".assistant-message .message-text")).to_have_text(first_reply)


def test_edit_starts_a_new_branch(page: Page, app_url: str) -> None:
    _new_chat(page, app_url)
    _send(page, "My cat is called Miso.")
    _wait_for_reply(page)
    page.locator(".user-message .edit-message").click()
    page.fill("#edit-message", "My dog is called Pepper.")
    page.click("#send-edit")
    expect(page.locator(".user-message .message-text")).to_have_text("My dog is called Pepper.")
    expect(page.locator(".user-message .branch-position")).to_have_text("2/2")
    expect(page.locator("#send")).to_be_visible(timeout=REPLY_TIMEOUT)
    page.locator(".user-message .branch-previous").click()
    expect(page.locator(".user-message .message-text")).to_have_text("My cat is called Miso.")
    expect(page.locator(".assistant-message")).to_have_count(1)


def test_stop_keeps_the_partial_reply(page: Page, app_url: str) -> None:
    _new_chat(page, app_url)
    _send(page, "Tell me a very long story about a dragon and a wizard, with many chapters.")
    expect(page.locator("#stop")).to_be_visible(timeout=REPLY_TIMEOUT)
    # a few words first: "Azera:" being written is not the reply yet (the speaker-label hygiene removes it)
    words = re.compile(r"\w+\W+\w+\W+\w+")
    expect(page.locator(".assistant-message .message-text").last).to_have_text(words, timeout=REPLY_TIMEOUT)
    page.click("#stop")
    expect(page.locator("#send")).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(page.locator(".assistant-message .status-badge")).to_have_text("stopped")
    page.reload()
    expect(page.locator(".assistant-message .status-badge")).to_have_text("stopped")
    expect(page.locator(".assistant-message .message-text")).not_to_be_empty()


def test_empty_and_oversized_messages_are_refused_without_losing_text(page: Page, app_url: str) -> None:
    _new_chat(page, app_url)
    page.fill("#composer", "   ")
    page.press("#composer", "Enter")
    expect(page.get_by_text("The message is empty")).to_be_visible()
    expect(page.locator(".user-message")).to_have_count(0)


def test_models_page_lists_the_default_and_the_small_model(page: Page, app_url: str) -> None:
    page.goto(app_url + "/models")
    rows = page.locator(".model-row")
    expect(rows.filter(has_text="qwen2.5-coder-1.5b-instruct")).to_contain_text("default")
    expect(rows.filter(has_text="smollm2-135m-instruct")).to_be_visible()
    expect(page.get_by_text("Packaged models install from the package registry")).to_be_visible()


def test_first_greeting_gets_a_reply_that_does_not_loop(page: Page, app_url: str) -> None:
    """The message that got "I'm sorry for your loss." twenty times from the old default."""
    _new_chat(page, app_url)
    _send(page, "Hi Azera! My sister Ingrid just moved to Trondheim and I miss her. Any idea how to stay close?")
    _wait_for_reply(page)
    reply = page.locator(".assistant-message").last
    text = reply.locator(".message-text").inner_text()
    assert len(text.split()) >= 8, text
    assert repeat_start(text) is None and not is_loop(text), text
    expect(reply.locator(".status-badge")).to_have_count(0)  # not cut, stopped or failed
    assert not PERSONA_BREAKS.search(text), text


def test_advanced_sampling_is_saved_per_chat(page: Page, app_url: str) -> None:
    _new_chat(page, app_url)
    page.click("#sampling-open")
    expect(page.locator("#sampling-top_k")).to_have_value("20")  # Qwen's family default
    page.fill("#sampling-top_k", "25")
    page.fill("#sampling-max_tokens", "9999")
    page.click("#sampling-save")
    expect(page.get_by_text("Max reply tokens must be between")).to_be_visible()
    page.fill("#sampling-max_tokens", "300")
    page.click("#sampling-save")
    expect(page.get_by_text("this chat (persona: 20)")).to_be_visible()
    page.reload()
    page.click("#sampling-open")
    expect(page.locator("#sampling-top_k")).to_have_value("25")
    expect(page.locator("#sampling-max_tokens")).to_have_value("300")


def test_thinking_is_collapsed_and_hidden_when_turned_off(page: Page, app_url: str, app_data) -> None:
    import sqlite3
    import uuid

    _new_chat(page, app_url)
    chat_id = page.url.rsplit("/chat/", 1)[1]
    user_id, reply_id = uuid.uuid4().hex, uuid.uuid4().hex
    with sqlite3.connect(app_data / "azera.db") as db:
        now = "2026-11-23 10:00:00.000000"
        insert = (
            "INSERT INTO chatmessage (id, chat_id, parent_id, branch, role, content, thinking, model, status,"
            " created_at) VALUES (?, ?, ?, 0, ?, ?, ?, 'm', 'complete', ?)"
        )
        db.execute(insert, (user_id, chat_id, None, "user", "Why is the sky blue?", "", now))
        db.execute(insert, (reply_id, chat_id, user_id, "assistant", "Rayleigh scattering.", "Light scatters.", now))
        db.execute("UPDATE chat SET active_leaf_id = ? WHERE id = ?", (reply_id, chat_id))
    page.reload()
    block = page.locator(".assistant-message .thinking-block")
    expect(block).to_be_visible()
    expect(block).not_to_have_attribute("open", "")
    expect(block.locator("summary")).to_have_text("thinking…")
    expect(page.locator(".assistant-message .message-text")).to_have_text("Rayleigh scattering.")
    block.locator("summary").click()
    expect(block).to_contain_text("Light scatters.")

    page.goto(app_url + "/settings")
    page.click("#show-thinking")
    expect(page.locator("#show-thinking")).to_have_attribute("data-state", "unchecked")
    page.goto(app_url + f"/chat/{chat_id}")
    expect(page.locator(".assistant-message .message-text")).to_have_text("Rayleigh scattering.")
    expect(page.locator(".thinking-block")).to_have_count(0)
    page.goto(app_url + "/settings")
    page.click("#show-thinking")
    expect(page.locator("#show-thinking")).to_have_attribute("data-state", "checked")


def test_a_fact_told_in_one_chat_is_recalled_in_another(page: Page, app_url: str) -> None:
    _new_chat(page, app_url)
    _send(page, "Remember this: my neighbour Oskar keeps three beehives on his roof.")
    _wait_for_reply(page)
    page.wait_for_timeout(1500)  # indexing runs in the background after the reply
    _new_chat(page, app_url)
    _send(page, "What does Oskar keep on his roof?")
    _wait_for_reply(page)
    recalled = page.locator(".assistant-message .recalled-block")
    expect(recalled).to_be_visible(timeout=REPLY_TIMEOUT)
    recalled.locator("summary").click()
    expect(recalled.locator(".recalled-item").first).to_contain_text("Oskar keeps three beehives")
    expect(recalled.locator(".recalled-item").first).to_contain_text("fused")
