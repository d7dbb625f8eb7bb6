"""Voice in the browser: a reply read aloud by Piper, and push-to-talk from Chromium's fake microphone."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, new_chat, open_chat_page
from tests.test_chat_import import _jsonl

pytestmark = pytest.mark.browser
SPOKEN = "Please remind me to water the tomatoes tomorrow morning."


def _imported_chat(app_url: str, app_data: Path) -> str:
    """A chat with Azera whose last reply has three sentences (a SillyTavern file through the API)."""
    token = (app_data / "cli-token").read_text().strip()
    lines = [
        {"user_name": "You", "character_name": "Azera", "create_date": "2026-11-24@10h00m00s", "chat_metadata": {}},
        {"name": "You", "is_user": True, "send_date": "2026-11-24T10:00:00Z", "mes": "How was the harbour?"},
        {
            "name": "Azera",
            "is_user": False,
            "send_date": "2026-11-24T10:01:00Z",
            "mes": "The harbour was quiet tonight. Seven ships came in before the fog. **Nobody** sailed after nine.",
        },
    ]
    made = httpx.post(
        app_url + "/api/chats/import",
        params={"persona": "azera", "filename": "harbour.jsonl"},
        content=_jsonl(*lines),
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert made.status_code == 201, made.text
    return made.json()["id"]


def test_a_reply_is_read_aloud_in_the_voice_picked_for_its_persona(page: Page, app_url: str, app_data: Path) -> None:
    page.goto(app_url + "/personas")
    page.get_by_text("📐 Azera").click()
    page.click("#edit-persona")
    page.click("#persona-voice")
    page.get_by_role("option", name="Joe (en-US, Piper)").click()
    expect(page.locator("#persona-editor")).to_contain_text('voice: "piper:en_US-joe-medium@1"')
    page.click("#save-persona")
    expect(page.get_by_text("Saved Azera")).to_be_visible()

    chat_id = _imported_chat(app_url, app_data)
    open_chat_page(page, app_url)
    page.goto(f"{app_url}/chat/{chat_id}")
    expect(page.locator(".assistant-message .message-text").last).to_contain_text("Seven ships")
    page.locator(".assistant-message .speak-message").last.click()
    expect(page.locator("#voice-player")).to_be_visible()
    expect(page.locator("#voice-status")).to_contain_text("piper:en_US-joe-medium@1")
    audio = page.locator("#voice-audio")
    # The page plays real audio: data arrived (readyState ≥ 2), it has a length, and time moves on.
    page.wait_for_function(
        "() => { const a = document.getElementById('voice-audio');"
        " return a.readyState >= 2 && a.duration > 0.5 && isFinite(a.duration) && a.currentTime > 0; }",
        timeout=30_000,
    )
    # sentence by sentence: the first part ends and the player moves on to the next one
    expect(audio).to_have_attribute("data-played", "1", timeout=30_000)
    expect(audio).to_have_attribute("data-part", "1")
    assert "/api/tts/messages/" in audio.get_attribute("src")


@pytest.fixture(scope="module")
def microphone_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the fake microphone says: Piper speaking, padded with a little silence."""
    from azera.voice import speech
    from azera.voice.engines import VoiceChoice

    path = tmp_path_factory.mktemp("mic") / "spoken.wav"
    path.write_bytes(speech.speak(VoiceChoice("piper", "en_US-joe-medium"), SPOKEN))
    return path


def test_push_to_talk_puts_what_was_said_in_the_composer(
    browser, app_url: str, owner_cookie: str, microphone_wav
) -> None:
    args = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={microphone_wav}"]  # fmt: skip
    with_microphone = browser.browser_type.launch(executable_path=CHROMIUM, args=args)  # the suite's Playwright
    try:
        context = with_microphone.new_context(viewport={"width": 1400, "height": 850}, permissions=["microphone"])
        context.add_cookies([{"name": "azera_session", "value": owner_cookie, "url": app_url}])
        page = context.new_page()
        page.set_default_timeout(20_000)
        new_chat(page, app_url)
        page.fill("#composer", "Note:")
        page.locator("#mic").hover()
        page.mouse.down()
        expect(page.locator("#mic")).to_have_attribute("data-recording", "1")
        page.wait_for_timeout(4_500)  # the fake microphone plays the file while the button is held
        page.mouse.up()
        heard = re.compile(r"^Note: .*(tomato|water|remind)", re.IGNORECASE)  # what Piper said, as Whisper heard it
        expect(page.locator("#composer")).to_have_value(heard, timeout=60_000)
        assert page.locator("#mic-status").inner_text() == ""
        page.screenshot(path=str(ARTIFACTS / "test_push_to_talk.png"))
    finally:
        with_microphone.close()


def test_a_refused_microphone_is_explained_under_the_button(page: Page, app_url: str) -> None:
    new_chat(page, app_url)  # this browser has no microphone permission (and no fake device)
    page.locator("#mic").hover()
    page.mouse.down()
    page.wait_for_timeout(500)
    page.mouse.up()
    expect(page.locator("#mic-status")).to_have_text(re.compile("Microphone permission denied|No microphone"))
    expect(page.locator("#mic-status")).to_have_attribute("data-error", "1")
    expect(page.locator("#composer")).to_be_editable()  # the chat goes on


def test_settings_lists_engines_and_keeps_a_voice_sample(page: Page, app_url: str, microphone_wav: Path) -> None:
    page.goto(app_url + "/settings")
    expect(page.locator(".voice-engine").first).to_contain_text("Piper")
    expect(page.locator("#stt-state")).to_contain_text("tiny.en")
    expect(page.locator("#cloning-needs")).to_be_visible()  # no XTTS server here: the page says what cloning needs
    page.locator("#voice-sample-upload input[type=file]").set_input_files(str(microphone_wav))
    sample = page.locator(".voice-sample")
    expect(sample).to_have_count(1)
    expect(sample).to_contain_text("spoken")
    page.set_input_files("#voice-sample-upload input[type=file]", files=[
        {"name": "fake.wav", "mimeType": "audio/wav", "buffer": b"MZ this is a program, not audio"}
    ])  # fmt: skip
    expect(page.get_by_text("not an audio file")).to_be_visible()
    sample.get_by_role("button", name="Delete").click()
    expect(sample).to_have_count(0)
