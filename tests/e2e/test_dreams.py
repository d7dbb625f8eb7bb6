"""The Dreams page in a real browser: dream now, see it, search it."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import click_until_written, new_chat

pytestmark = pytest.mark.browser


def test_dream_now_shows_a_dream_that_can_be_searched(page: Page, app_url: str) -> None:
    new_chat(page, app_url)  # something to dream about
    page.fill("#composer", "I walked along the old harbour wall at dusk and watched the fishing boats come in.")
    page.press("#composer", "Enter")
    expect(page.locator(".assistant-message .regenerate").last).to_be_enabled(timeout=60_000)
    page.goto(app_url + "/dreams")
    expect(page.locator("#dream-now")).to_be_enabled()
    cards = page.locator(".dream-card")
    click_until_written(page, "#dream-now", cards)
    expect(cards.first).to_be_visible()
    cards.first.locator("summary").click()
    expect(cards.first).to_contain_text("themes:")
    word = cards.first.locator("summary p").first.inner_text().split()[0]
    page.fill("#dream-search", word)
    expect(cards.first).to_be_visible()
    page.fill("#dream-search", "zzqxqzz-not-in-any-dream")
    expect(cards).to_have_count(0)


def test_a_dream_archive_is_imported_once(page: Page, app_url: str) -> None:
    archive = b"""# Old dreams

## The paper cranes
Date: 2024-02-03
Emotion: calm
Themes: letters, cranes

A train of paper cranes carried letters to my grandmother, qqcranesqq.
"""
    page.goto(app_url + "/dreams")
    expect(page.locator("#dream-now")).to_be_enabled()
    files = [{"name": "dreams.md", "mimeType": "text/markdown", "buffer": archive}]
    page.set_input_files("#dream-import input[type=file]", files=files)
    expect(page.get_by_text("Imported 1")).to_be_visible()
    page.fill("#dream-search", "qqcranesqq")
    cards = page.locator(".dream-card")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("The paper cranes")
    page.set_input_files("#dream-import input[type=file]", files=files)
    expect(page.get_by_text("Imported 0, 1 already there")).to_be_visible()
    expect(cards).to_have_count(1)
    bad = [{"name": "broken.json", "mimeType": "application/json", "buffer": b"{nope"}]
    page.set_input_files("#dream-import input[type=file]", files=bad)
    expect(page.get_by_text("not valid JSON")).to_be_visible()
