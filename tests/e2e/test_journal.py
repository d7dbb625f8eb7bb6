"""The inner life in a real browser: bars move, a reflection appears on the Journal page, journal mode."""

import re
import struct
import zlib

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import click_until_written, new_chat

pytestmark = pytest.mark.browser
REPLY_TIMEOUT = 60_000


def _png() -> bytes:
    """A real 8×8 violet PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x7c\x3a\xed" * 8 for _ in range(8))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _energy(page: Page) -> int:
    return int(page.locator("#energy-value").inner_text().rstrip("%"))


def test_chat_moves_the_bars_and_a_reflection_appears_on_the_journal_page(page: Page, app_url: str) -> None:
    new_chat(page, app_url)
    expect(page.locator("#energy-value")).to_have_text(re.compile(r"\d+%"))
    before = _energy(page)
    page.fill("#composer", "Today I repaired my grandmother's sailing boat, the Marigold.")
    page.press("#composer", "Enter")
    expect(page.locator(".assistant-message .regenerate").last).to_be_enabled(timeout=REPLY_TIMEOUT)
    expect(page.locator("#energy-value")).to_have_text(f"{before - 3}%", timeout=60_000)

    page.goto(app_url + "/journal")
    expect(page.locator("#reflect-now")).to_be_enabled()
    cards = page.locator(".journal-card")
    click_until_written(page, "#reflect-now", cards)
    first = cards.first
    first.locator("summary").click()
    expect(first.locator(".journal-insights li").first).to_be_visible()
    expect(first).to_contain_text("Reflection, ")
    page.fill("#journal-search", "zzqxqzz-not-in-any-entry")
    expect(cards).to_have_count(0)


def test_journal_mode_keeps_drafts_through_a_reload_and_done_makes_an_article(page: Page, app_url: str) -> None:
    new_chat(page, app_url)
    page.click("#journal-start")
    expect(page.locator("#journal-banner")).to_be_visible()
    drafts = page.locator(".journal-draft")
    lines = ("Sanded the hull of the Marigold this morning.", "Filled the keel crack with epoxy, zephyrquill.")
    for count, line in enumerate(lines, 1):
        page.fill("#composer", line)
        page.press("#composer", "Enter")
        expect(drafts).to_have_count(count)  # each one is confirmed with a ✓ before the next
        expect(page.locator("#composer")).to_have_value("")
    expect(drafts.locator(".draft-check")).to_have_count(2)
    page.set_input_files(
        "#journal-image input[type=file]", files=[{"name": "keel.png", "mimeType": "image/png", "buffer": _png()}]
    )
    expect(drafts).to_have_count(3)
    image = drafts.nth(2).locator("img")
    expect(image).to_have_attribute("alt", "keel.png")
    page.wait_for_function("img => img.complete && img.naturalWidth === 8", arg=image.element_handle())
    expect(page.locator(".assistant-message")).to_have_count(0)  # nobody answers in journal mode

    page.reload()
    expect(page.locator(".journal-draft")).to_have_count(3, timeout=20_000)  # kept on the server
    page.click("#journal-done")
    expect(page.locator("#journal-banner")).to_have_count(0, timeout=REPLY_TIMEOUT)
    expect(page.locator(".journal-draft")).to_have_count(0)

    page.goto(app_url + "/journal")
    page.fill("#journal-search", "zephyrquill")
    card = page.locator(".journal-card")
    expect(card).to_have_count(1)
    card.locator("summary").click()
    expect(card).to_contain_text("Sanded the hull of the Marigold")
    expect(card).to_contain_text("journal mode")
    expect(card.locator("img")).to_have_attribute("alt", "keel.png")
    page.wait_for_function("img => img.complete && img.naturalWidth === 8", arg=card.locator("img").element_handle())
    expect(card.locator("summary")).not_to_contain_text("**")  # a clean title, not the first draft's markup


def test_cancelling_journal_mode_discards_the_drafts(page: Page, app_url: str) -> None:
    new_chat(page, app_url)
    page.click("#journal-start")
    page.fill("#composer", "This should vanish, qqvanishqq.")
    page.press("#composer", "Enter")
    expect(page.locator(".journal-draft")).to_have_count(1)
    page.click("#journal-cancel")
    page.click("#confirm-journal-cancel")
    expect(page.locator("#journal-banner")).to_have_count(0)
    expect(page.locator(".journal-draft")).to_have_count(0)
    expect(page.locator("#journal-start")).to_be_visible()
    page.goto(app_url + "/journal")
    page.fill("#journal-search", "qqvanishqq")
    expect(page.locator(".journal-card")).to_have_count(0)
