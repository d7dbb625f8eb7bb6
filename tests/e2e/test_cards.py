"""Character cards in the browser: import a V2 PNG card on the Personas page, export it back as a V3 card."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.test_cards import _png, _v2

pytestmark = pytest.mark.browser


def test_import_a_card_then_export_it(page: Page, app_url: str, tmp_path: Path) -> None:
    card = tmp_path / "captain-mira.png"
    card.write_bytes(_png({"chara": _v2()}))
    page.goto(app_url + "/personas")
    expect(page.locator("#new-persona")).to_be_visible()
    page.locator("#card-upload input[type=file]").set_input_files(str(card))
    expect(page.get_by_text("Captain Mira").first).to_be_visible(timeout=30_000)
    expect(page.locator("#persona-profile")).to_contain_text("A retired lighthouse keeper", timeout=30_000)
    expect(page.locator("#persona-profile")).to_contain_text("Calm as a sleeping cat")
    avatar = page.locator(".persona-item img")
    expect(avatar).to_have_count(1)  # the card's picture is its avatar (the seeded personas have none)
    page.wait_for_function("() => document.querySelector('.persona-item img').naturalWidth === 64")  # not broken

    with page.expect_download() as download:
        page.click("#export-card")
    exported = Path(download.value.path()).read_bytes()
    chunks = Image.open(io.BytesIO(exported)).text
    v3 = json.loads(base64.b64decode(chunks["ccv3"]))
    assert v3["spec"] == "chara_card_v3" and v3["data"]["name"] == "Captain Mira"
    assert v3["data"]["scenario"] == _v2()["data"]["scenario"] and "chara" in chunks
