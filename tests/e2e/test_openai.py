"""The official ``openai`` client against the running app and its real model: a persona that remembers."""

import json
import sqlite3
import time
from pathlib import Path

import httpx
import openai
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, new_chat

pytestmark = pytest.mark.browser


def _token(app_data: Path) -> str:
    return (app_data / "cli-token").read_text().strip()  # an API token the running app keeps for local tools


def _replies(app_data: Path, chat_id: str) -> list[tuple[str, str, str]]:
    with sqlite3.connect(f"file:{app_data / 'azera.db'}?mode=ro", uri=True, timeout=10) as db:
        sql = "SELECT content, status, recalled FROM chatmessage WHERE chat_id = ? AND role = 'assistant'"
        return db.execute(sql + " ORDER BY created_at", (chat_id,)).fetchall()


def test_an_openai_client_talks_to_a_persona_that_remembers(page: Page, app_url: str, app_data: Path) -> None:
    client = openai.OpenAI(base_url=app_url + "/v1", api_key=_token(app_data), max_retries=0, timeout=180)
    ids = [model.id for model in client.models.list()]
    assert "azera" in ids and any(i.startswith("raw/") for i in ids), ids  # (other tests add and delete personas)
    with pytest.raises(openai.AuthenticationError, match="not valid"):
        openai.OpenAI(base_url=app_url + "/v1", api_key="not-a-token", max_retries=0).models.list()

    # A fact told in the browser, in one chat...
    new_chat(page, app_url)
    page.fill("#composer", "Remember this: my sister Ingrid lives in Trondheim, by the fjord.")
    page.press("#composer", "Enter")
    expect(page.locator(".assistant-message .regenerate").last).to_be_enabled(timeout=90_000)
    headers = {"authorization": f"Bearer {_token(app_data)}"}
    deadline = time.monotonic() + 60
    while httpx.get(app_url + "/api/memories/index", headers=headers).json()["waiting"] and time.monotonic() < deadline:
        time.sleep(0.5)

    # ... is recalled when an OpenAI client asks, in a conversation of its own.
    question = "Which city does my sister Ingrid live in?"
    reply = client.chat.completions.create(
        model="azera", messages=[{"role": "user", "content": question}], temperature=0, max_tokens=60
    )
    answer = reply.choices[0].message.content
    chat_id = reply.model_extra["azera_chat_id"]
    assert answer and reply.usage.prompt_tokens > 100 and reply.usage.completion_tokens > 0
    content, status, recalled = _replies(app_data, chat_id)[0]
    assert content == answer and status == "complete"
    assert any("Trondheim" in memory["text"] for memory in json.loads(recalled)), recalled

    # Streamed, the conversation goes on in the same chat (the client sends its history back).
    stream = client.chat.completions.create(
        model="azera",
        messages=[
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
            {"role": "user", "content": "And what is the city known for?"},
        ],
        stream=True,
        max_tokens=60,
    )
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    saved = _replies(app_data, chat_id)
    assert len(saved) == 2 and saved[1][0] == streamed.strip() and streamed

    # The owner sees the exchange in the UI like any other chat.
    page.goto(f"{app_url}/chat/{chat_id}")
    expect(page.locator(".user-message").first).to_contain_text("Ingrid", timeout=30_000)
    expect(page.locator(".assistant-message .message-text").last).to_contain_text(streamed.strip()[:30])
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "openai-client.json").write_text(
        json.dumps({"question": question, "answer": answer, "names_the_city": "Trondheim" in answer, "next": streamed})
    )
