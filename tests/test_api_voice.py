"""Voice over HTTP: synthesis streamed, a message read part by part, samples, speech to text, and the XTTS adapter."""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest
from fastapi.testclient import TestClient

from azera.api.routes import build_api
from azera.config import get_settings
from azera.db.engine import session_scope
from azera.errors import ServiceError
from azera.services import chats, messages
from azera.voice import speech
from azera.voice.audio import read_wav
from azera.voice.cloning import XttsEngine
from azera.voice.engines import VoiceChoice
from tests.test_voice import THREE, piper_wav, seconds
from tests.xtts_server import xtts_server

FIRST = "A cloned hello from the narrator."


@pytest.fixture
def client(prepared) -> Iterator[TestClient]:
    with TestClient(build_api()) as test_client:
        yield test_client


def _reply(content: str) -> str:
    """A chat with Areza holding one user message and one reply; the reply's id."""
    with session_scope() as session:
        chat = chats.create_chat(session, ai_persona_id="areza")
        asked = messages.add_user_message(session, chat.id, "Tell me about the harbour.")
        now = datetime.now(UTC)
        return messages.append_message(
            session, chat, parent_id=asked.id, role="assistant", content=content, created_at=now
        ).id


def test_voices_lists_engines_and_distinct_persona_voices(client: TestClient) -> None:
    listed = client.get("/api/tts/voices").json()
    piper = next(engine for engine in listed["engines"] if engine["name"] == "piper")
    assert piper["usable"] and not piper["cloning"]
    assert "piper:en_US-joe-medium" in {voice["spec"] for voice in listed["voices"]}
    chosen = listed["personas"]
    assert len({chosen["azera"], chosen["areza"], chosen["protag"]}) == 3
    assert "tiny.en" in listed["speech_to_text"]


def test_synthesize_streams_speech_and_refuses_bad_text(client: TestClient) -> None:
    with client.stream("POST", "/api/tts/synthesize", json={"text": THREE, "voice": "piper:en_US-joe-medium"}) as reply:
        assert reply.status_code == 200 and reply.headers["content-type"] == "audio/wav"
        chunks = list(reply.iter_bytes())
    audio = b"".join(chunks)
    pcm, rate = read_wav(audio)
    assert audio[:4] == b"RIFF" and rate == 22_050 and len(pcm) / 2 / rate > 3.0
    by_persona = client.post("/api/tts/synthesize", json={"text": "Good evening.", "persona": "protag"})
    assert by_persona.headers["x-azera-voice"].startswith("piper:")
    for body, status, reason in (
        ({"text": ""}, 400, "nothing to read"),
        ({"text": "🎉🔥👍"}, 400, "nothing to read"),
        ({"text": "word " * 10_000}, 413, "at most 20,000"),
        ({"text": "Hi there.", "voice": "piper:nobody"}, 404, "not installed"),
        ({"text": "Hi there.", "voice": "/etc/passwd"}, 400, "engine:voice@speed"),
        ({"text": "Hi there.", "persona": "nobody"}, 404, "no persona"),
        ({"text": "Привет, как у тебя дела сегодня?", "voice": "piper:en_US-joe-medium"}, 400, "Cyrillic"),
    ):
        refused = client.post("/api/tts/synthesize", json=body)
        assert refused.status_code == status and reason in refused.json()["detail"], (body, refused.text)


def test_a_message_is_read_part_by_part_in_its_personas_voice(client: TestClient) -> None:
    reply_id = _reply("Here is a map. ```\nx = 1\n``` The harbour is quiet at night. Seven ships sleep there.")
    plan = client.get(f"/api/tts/messages/{reply_id}").json()
    assert plan["voice"] == client.get("/api/tts/voices").json()["personas"]["areza"]
    assert plan["sentences"][0].startswith("Here is a map.") and "x = 1" not in " ".join(plan["sentences"])
    parts = [client.get(url) for url in plan["parts"]]
    assert all(part.status_code == 200 and part.headers["content-type"] == "audio/wav" for part in parts)
    assert all(seconds(part.content) > 0.5 for part in parts)
    assert client.get(f"/api/tts/messages/{reply_id}/parts/99").status_code == 404
    assert client.get(f"/api/tts/messages/{'0' * 32}").status_code == 404
    assert client.get("/api/tts/messages/..%2F..%2Fetc").status_code in (404, 422)
    empty = _reply("```\nonly = code\n```")
    assert "nothing to read" in client.get(f"/api/tts/messages/{empty}").json()["detail"]


def test_voice_samples_upload_list_play_delete(client: TestClient) -> None:
    made = client.post("/api/voice-samples/upload", params={"name": "My Voice"}, content=piper_wav())
    assert made.status_code == 201 and made.json()["name"] == "my-voice" and 4 < made.json()["seconds"] < 12
    assert [sample["name"] for sample in client.get("/api/voice-samples").json()] == ["my-voice"]
    played = client.get("/api/voice-samples/my-voice")
    assert played.headers["content-type"] == "audio/wav" and read_wav(played.content)[1] == 22_050
    again = client.post("/api/voice-samples/upload", params={"name": "my-voice"}, content=piper_wav())
    assert again.status_code == 400 and "already" in again.json()["detail"]
    ls = open("/bin/ls", "rb").read()  # noqa: SIM115
    for content, reason in (
        (ls, "not an audio file"),
        (np.zeros(22_050 * 5, dtype=np.int16).tobytes(), "not an audio file"),
        (_wav_of(np.zeros(22_050 * 5, dtype=np.int16)), "silent"),
        (_wav_of((np.sin(np.arange(22_050 * 70) / 9) * 8000).astype(np.int16)), "at most 60 s"),
    ):
        refused = client.post("/api/voice-samples/upload", params={"name": "bad"}, content=content)
        assert refused.status_code in (400, 413) and reason in refused.json()["detail"], refused.text
    too_big = client.post("/api/voice-samples/upload", params={"name": "big"}, content=b"RIFF" + b"\0" * 10_500_000)
    assert too_big.status_code == 413
    assert client.delete("/api/voice-samples/my-voice").status_code == 204
    assert client.get("/api/voice-samples/my-voice").status_code == 404
    assert not (get_settings().voice_samples_dir / "my-voice.wav").exists()
    assert client.get("/api/voice-samples/..%2Fazera").status_code in (404, 422)


def _wav_of(samples: np.ndarray, rate: int = 22_050) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(samples.tobytes())
    return out.getvalue()


def test_speech_to_text_over_http_raw_and_as_json(client: TestClient) -> None:
    spoken = piper_wav("Bicycle number two seven one eight is in the shed.")
    raw = client.post("/api/stt/transcribe", content=spoken, headers={"content-type": "audio/wav"}).json()
    words = sum(word in raw["text"].lower() for word in ("bicycle", "number", "seven", "shed"))
    assert words >= 3 and raw["language"] == "en" and raw["seconds"] > 1, raw  # Piper varies a little per run
    as_json = client.post("/api/stt/transcribe", json={"audio": base64.b64encode(spoken).decode()}).json()
    assert as_json["text"] == raw["text"]
    assert client.post("/api/stt/transcribe", json={"audio": "%%%"}).status_code == 400
    silent = client.post("/api/stt/transcribe", content=_wav_of(np.zeros(16_000 * 2, dtype=np.int16)))
    assert silent.status_code == 400 and "silent" in silent.json()["detail"]


def test_the_xtts_adapter_speaks_the_xtts_api_servers_protocol(client: TestClient, monkeypatch) -> None:
    assert client.post("/api/voice-samples/upload", params={"name": "narrator"}, content=piper_wav()).status_code == 201
    samples_dir = get_settings().voice_samples_dir
    with xtts_server(samples_dir) as (url, state):
        monkeypatch.setenv("AZERA_XTTS_URL", url)
        get_settings.cache_clear()
        listed = client.get("/api/tts/voices").json()
        xtts = next(engine for engine in listed["engines"] if engine["name"] == "xtts")
        assert xtts["usable"] and xtts["cloning"] and "1 speaker sample" in xtts["detail"]
        assert "xtts:narrator" in {voice["spec"] for voice in listed["voices"]}

        spoken = client.post(
            "/api/tts/synthesize", json={"text": FIRST + " And a second sentence follows it.", "voice": "xtts:narrator"}
        )
        pcm, rate = read_wav(spoken.content)
        assert spoken.status_code == 200 and rate == 24_000
        assert state.requests[0] == {"text": FIRST, "speaker_wav": "narrator", "language": "en"}
        assert len(state.requests) == 2  # one request per sentence
        sample = np.frombuffer(read_wav((samples_dir / "narrator.wav").read_bytes())[0], dtype=np.int16)
        made = np.frombuffer(pcm, dtype=np.int16)[:20_000]  # the first sentence's start: made from that sample
        assert np.corrcoef(made.astype(float), sample[:20_000].astype(float))[0, 1] > 0.99

        missing = client.post("/api/tts/synthesize", json={"text": "Hi there.", "voice": "xtts:stranger"})
        assert missing.status_code == 404
        engine = XttsEngine(url, "xx")
        with pytest.raises(ServiceError, match="refused: 400 Language code sent is either unsupported"):
            engine.synthesize("Hello.", "narrator", 1.0)
        state.garbage = True
        with pytest.raises(ServiceError, match="XTTS server answered something that is not audio"):
            speech.speak(VoiceChoice("xtts", "narrator", 1.0), "Garbage comes back from this one.")
    down = XttsEngine(url)
    assert down.state() == (False, f"The XTTS server at {url} is not answering (ConnectError)")
    with pytest.raises(ServiceError, match="not answering"):
        down.synthesize("Hello.", "narrator", 1.0)
    assert client.get("/api/tts/voices").status_code == 200  # a server that went away lists nothing
