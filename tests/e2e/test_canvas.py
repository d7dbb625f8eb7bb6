"""The Canvas page in a real browser, drawing with the tiny random-weight pipeline (AZERA_IMAGE_MODEL)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, owner_headers

pytestmark = [pytest.mark.browser]
pytest.importorskip("diffusers", reason="the image extra (requirements-images.txt) is not installed")


def _draw(page: Page, prompt: str, *, steps: int, seen: str) -> None:
    page.fill("#canvas-prompt", prompt)
    for field, value in (("width", "64"), ("height", "64"), ("steps", str(steps)), ("seed", "42")):
        page.fill(f"#canvas-{field}", value)
    page.click("#generate")
    expect(page.locator("#job-state")).to_have_text("done", timeout=120_000)
    # the page was told of every step, in order, and the bar is full
    expect(page.locator("#steps-seen")).to_have_attribute("data-steps", seen)
    expect(page.locator("#generation-step")).to_have_text(f"step {seen[-1]} / {seen[-1]}")
    expect(page.locator("#last-seed")).to_have_text("42")


def _shown_inline_in_a_reply(page: Page, app_url: str, app_data: Path, image_id: str) -> None:
    """A reply holding a picture (as the chat's drawing path leaves it) shows the picture inline."""
    token = (app_data / "cli-token").read_text().strip()
    lines = [
        {"user_name": "You", "character_name": "Azera", "create_date": "2026-11-24@10h00m00s", "chat_metadata": {}},
        {"name": "You", "is_user": True, "send_date": "2026-11-24T10:00:00Z", "mes": "Draw me the lighthouse."},
        {"name": "Azera", "is_user": False, "send_date": "2026-11-24T10:01:00Z",
         "mes": f"Here it is.\n\n![a lighthouse at dusk](/api/images/{image_id})"},
    ]  # fmt: skip
    made = httpx.post(
        app_url + "/api/chats/import",
        params={"persona": "azera", "filename": "drawn.jsonl"},
        content=b"\n".join(json.dumps(line).encode() for line in lines),
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert made.status_code == 201, made.text
    page.goto(f"{app_url}/chat/{made.json()['id']}")
    picture = page.locator(".assistant-message img")
    expect(picture).to_have_attribute("src", f"/api/images/{image_id}")
    page.wait_for_function("() => document.querySelector('.assistant-message img').naturalWidth === 64")


def test_draw_then_img2img_download_and_delete(
    page: Page, app_url: str, app_data: Path, owner_cookie: str, tmp_path: Path
) -> None:
    page.goto(app_url + "/canvas")
    expect(page.locator("#generate")).to_be_enabled()
    expect(page.locator("#no-backend")).to_have_count(0)
    cards = page.locator(".gallery-card")
    before = cards.count()
    _draw(page, "a lighthouse at dusk", steps=4, seen="1,2,3,4")
    expect(cards).to_have_count(before + 1)
    expect(cards.first).to_contain_text("a lighthouse at dusk")

    with page.expect_download() as download:
        cards.first.locator(".download-image").click()
    picture = Image.open(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert picture.size == (64, 64) and "Seed: 42" in picture.text["parameters"]

    reference = tmp_path / "red.png"
    Image.new("RGB", (64, 64), (220, 20, 20)).save(reference)
    page.locator("#canvas-reference input[type=file]").set_input_files(str(reference))
    expect(page.locator("#reference-thumb")).to_be_visible()
    page.fill("#canvas-strength", "0.5")
    _draw(page, "a lighthouse at dusk", steps=4, seen="1,2")  # strength 0.5: half the steps, from the reference
    expect(cards).to_have_count(before + 2)
    page.screenshot(path=str(ARTIFACTS / "canvas.png"))

    newest = cards.first.locator("img").get_attribute("src").rsplit("/", 1)[1]
    _shown_inline_in_a_reply(page, app_url, app_data, newest)
    page.goto(app_url + "/canvas")
    cards.first.locator(".delete-image").click()
    page.click("#confirm-delete-image")
    expect(cards).to_have_count(before + 1)
    gone = httpx.get(f"{app_url}/api/images/{newest}", headers=owner_headers(owner_cookie))
    assert gone.status_code == 404
