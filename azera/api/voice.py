"""Voice over HTTP: speech synthesis, voices, voice samples, speech to text.

- ``GET /api/tts/voices``: engines (with their state), voices, and each persona's voice.
- ``POST /api/tts/synthesize``: ``{text, voice | persona}`` → a WAV streamed sentence by sentence.
- ``GET /api/tts/messages/{id}`` and ``…/parts/{n}``: a chat message's sentences, each a WAV (the page's
  player plays part 0 while part 1 is synthesized).
- ``/api/voice-samples``: upload (the file as the body), list, fetch, delete.
- ``POST /api/stt/transcribe``: audio as the body (or ``{"audio": base64}`` as JSON, for the page) → text.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from fastapi import FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlmodel import select

from azera.api.chats import ID, fail, read_body
from azera.db.engine import in_db
from azera.db.models import Persona
from azera.errors import ServiceError
from azera.voice import samples, speakable, speech, stt
from azera.voice.audio import streaming_wav_header
from azera.voice.engines import VoiceChoice
from azera.voice.messages import persona_voice, spoken_message

log = logging.getLogger(__name__)
PREVIEW_TEXT = "Hello! This is how I sound when I read your conversations aloud."
WAV = {200: {"content": {"audio/wav": {}}}}
MESSAGE_ID = Path(min_length=32, max_length=32, pattern=ID)
SAMPLE_NAME = Path(min_length=1, max_length=64, pattern=samples.NAME.pattern)


class EngineOut(BaseModel):
    """A speech engine and whether it works here."""

    name: str
    label: str
    usable: bool
    detail: str
    cloning: bool


class VoiceOut(BaseModel):
    """One voice; ``spec`` is what a persona's ``voice`` names."""

    spec: str
    engine: str
    label: str
    language: str
    gender: str


class VoicesOut(BaseModel):
    """Everything a voice picker needs."""

    engines: list[EngineOut]
    voices: list[VoiceOut]
    personas: dict[str, str]
    speech_to_text: str


class SpeakRequest(BaseModel):
    """Text to speak, in a voice (``engine:voice@speed``) or a persona's voice (default: Azera's)."""

    text: str = Field(max_length=speakable.MAX_TEXT_CHARS * 3)
    voice: str = Field(default="", max_length=200)
    persona: str = Field(default="", max_length=64)


class MessageSpeech(BaseModel):
    """A message's sentences and where each one's audio is."""

    voice: str
    sentences: list[str]
    parts: list[str]


class SampleOut(BaseModel):
    """A voice sample."""

    name: str
    seconds: float
    created_at: datetime
    url: str


class TranscribeJson(BaseModel):
    """A recording sent as JSON (the page's microphone button)."""

    audio: str = Field(max_length=28_000_000)


class TranscriptOut(BaseModel):
    """What was said."""

    text: str
    seconds: float
    language: str


def _personas(session) -> dict[str, str]:
    chosen = {}
    for persona in session.exec(select(Persona).order_by(Persona.id)):
        try:
            chosen[persona.id] = speech.voice_for(persona.id, persona.voice).spec
        except ServiceError:
            chosen[persona.id] = ""
    return chosen


def _voices() -> VoicesOut:
    states = speech.engine_states()
    engines = [
        EngineOut(name=s.engine.name, label=s.engine.label, usable=s.usable, detail=s.detail, cloning=s.engine.cloning)
        for s in states
    ]
    voices = [
        VoiceOut(spec=voice.spec, engine=voice.engine, label=voice.label, language=voice.language, gender=voice.gender)
        for voice in speech.all_voices(states)
    ]
    return VoicesOut(engines=engines, voices=voices, personas={}, speech_to_text=stt.state()[1])


def _sample_out(row) -> SampleOut:
    url = f"/api/voice-samples/{row.name}"
    return SampleOut(name=row.name, seconds=row.seconds, created_at=row.created_at, url=url)


async def _choice(body: SpeakRequest) -> VoiceChoice:
    if body.voice:
        choice = VoiceChoice.parse(body.voice)
        await asyncio.to_thread(speech.find_voice, choice)
        return choice
    return await in_db(lambda session: persona_voice(session, body.persona or "azera"))


async def _speech_stream(choice: VoiceChoice, text: str) -> AsyncIterator[bytes]:
    """The first sentence synthesized (its errors become the answer's status), the rest as they come."""
    parts = speakable.sentences(text)
    first, rate = await asyncio.to_thread(speech.part_pcm, choice, parts[0])

    async def rest() -> AsyncIterator[bytes]:
        yield streaming_wav_header(rate) + first
        for sentence in parts[1:]:
            try:
                pcm, _ = await asyncio.to_thread(speech.part_pcm, choice, sentence)
            except ServiceError as error:  # the answer has started: end the audio where the engine failed
                log.warning("speech stopped after an engine error: %s", error)
                return
            yield pcm

    return rest()


def add_voice_routes(api: FastAPI) -> None:
    """Speech synthesis, voices, voice samples and speech to text."""

    @api.get("/api/tts/voices")
    async def list_voices() -> VoicesOut:
        """Engines and their state, every installed voice, each persona's voice, the speech-to-text model."""
        found = await asyncio.to_thread(_voices)
        found.personas = await in_db(_personas)
        return found

    @api.post("/api/tts/synthesize", response_class=StreamingResponse, responses=WAV)
    async def synthesize(body: SpeakRequest) -> StreamingResponse:
        """The text read aloud, streamed as WAV sentence by sentence (code, markdown and emoji skipped)."""
        try:
            speakable.checked_text(body.text)
            choice = await _choice(body)
            audio = await _speech_stream(choice, body.text)
        except ServiceError as error:
            raise fail(error) from error
        return StreamingResponse(audio, media_type="audio/wav", headers={"x-azera-voice": choice.spec})

    @api.get("/api/tts/messages/{message_id}")
    async def message_speech(message_id: str = MESSAGE_ID) -> MessageSpeech:
        """A chat message's sentences, its voice, and the URL of each sentence's audio."""
        try:
            spoken = await in_db(lambda session: spoken_message(session, message_id))
        except ServiceError as error:
            raise fail(error) from error
        return MessageSpeech(voice=spoken.choice.spec, sentences=spoken.sentences, parts=spoken.urls())

    @api.get("/api/tts/messages/{message_id}/parts/{index}", responses=WAV)
    async def message_part(message_id: str = MESSAGE_ID, index: int = Path(ge=0, le=10_000)) -> Response:
        """One sentence of a message as WAV (cached per voice and text)."""
        try:
            spoken = await in_db(lambda session: spoken_message(session, message_id))
            if index >= len(spoken.sentences):
                raise HTTPException(status_code=404, detail=f"The message has {len(spoken.sentences)} sentence(s)")
            data = await asyncio.to_thread(speech.synthesize_part, spoken.choice, spoken.sentences[index])
        except ServiceError as error:
            raise fail(error) from error
        return Response(data, media_type="audio/wav", headers={"cache-control": "private, max-age=3600"})

    @api.get("/api/tts/preview", responses=WAV)
    async def preview(voice: str = Query(min_length=3, max_length=200)) -> Response:
        """A short greeting in a voice (``engine:voice@speed``), to hear it before choosing it."""
        try:
            choice = VoiceChoice.parse(voice)
            data = await asyncio.to_thread(speech.synthesize_part, choice, PREVIEW_TEXT)
        except ServiceError as error:
            raise fail(error) from error
        return Response(data, media_type="audio/wav", headers={"cache-control": "private, max-age=3600"})

    @api.get("/api/voice-samples")
    async def list_samples() -> list[SampleOut]:
        """Every voice sample, newest first."""
        return [_sample_out(row) for row in await in_db(samples.list_samples)]

    @api.post("/api/voice-samples/upload", status_code=201)
    async def upload_sample(request: Request, name: str = Query(min_length=1, max_length=64)) -> SampleOut:
        """A recording (WAV, MP3, OGG or FLAC; at most 10 MB and 60 s) as the body becomes a voice sample."""
        data = await read_body(request, samples.MAX_BYTES, "A voice sample")
        try:
            wav, seconds = await asyncio.to_thread(samples.prepare_sample, data)
            row = await in_db(lambda session: samples.save_sample(session, name, wav, seconds))
        except ServiceError as error:
            raise fail(error) from error
        return _sample_out(row)

    @api.get("/api/voice-samples/{name}", responses=WAV)
    async def get_sample(name: str = SAMPLE_NAME) -> Response:
        """A sample's audio (16-bit mono WAV)."""
        try:
            _, path = await in_db(lambda session: samples.get_sample(session, name))
        except ServiceError as error:
            raise fail(error) from error
        return Response(await asyncio.to_thread(path.read_bytes), media_type="audio/wav")

    @api.delete("/api/voice-samples/{name}", status_code=204)
    async def delete_sample(name: str = SAMPLE_NAME) -> Response:
        """Delete a sample (a persona using it speaks with its default voice again)."""
        try:
            await in_db(lambda session: samples.delete_sample(session, name))
        except ServiceError as error:
            raise fail(error) from error
        return Response(status_code=204)

    @api.post("/api/stt/transcribe")
    async def transcribe(request: Request) -> TranscriptOut:
        """A recording (WAV, MP3, OGG, FLAC or WebM; ≤ 5 minutes) as the body, or ``{"audio": base64}``."""
        data = await read_body(request, 28_000_000, "A recording")
        if "json" in request.headers.get("content-type", ""):
            try:
                data = base64.b64decode(TranscribeJson.model_validate_json(data).audio, validate=True)
            except (ValueError, binascii.Error) as error:
                raise HTTPException(status_code=400, detail="Send {'audio': '<base64 of the recording>'}") from error
        try:
            said = await asyncio.to_thread(stt.transcribe, data)
        except ServiceError as error:
            raise fail(error) from error
        return TranscriptOut(text=said.text, seconds=said.seconds, language=said.language)
