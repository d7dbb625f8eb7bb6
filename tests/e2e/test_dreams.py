"""The Dreams page in a real browser: dream now, see it, search it."""

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_dream_now_shows_a_dream_that_can_be_searched(page: Page, app_url: str) -> None:
    page.goto(app_url + "/dreams")
    expect(page.locator("#dream-now")).to_be_enabled()
    cards = page.locator(".dream-card")
    for _ in range(3):  # the 135M model sometimes writes nothing usable; nothing is saved then
        before = cards.count()
        page.click("#dream-now")
        try:
            expect(cards).to_have_count(before + 1, timeout=60_000)
            break
        except AssertionError:
            continue
    expect(cards.first).to_be_visible()
    cards.first.locator("summary").click()
    expect(cards.first).to_contain_text("themes:")
    word = cards.first.locator("summary p").first.inner_text().split()[0]
    page.fill("#dream-search", word)
    expect(cards.first).to_be_visible()
    page.fill("#dream-search", "zzqxqzz-not-in-any-dream")
    expect(cards).to_have_count(0)
