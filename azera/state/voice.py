"""Voice on the pages: read a message aloud, voices and samples on Settings, the persona editor's voice picker.

Audio plays in the browser (``assets/voice.js``): these handlers check what the client asked for, then
hand the page a list of same-origin URLs, one per sentence, as JSON (never text pasted into a script).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import TypedDict
from urllib.parse import urlencode

import reflex as rx
from sqlmodel import Session

from azera.db.engine import in_db
from azera.errors import ServiceError
from azera.services import personas as persona_service
from azera.services.persona_files import parse_persona, render_persona
from azera.state import inputs
from azera.state.chat_rows import backend_base
from azera.voice import samples, speech, stt
from azera.voice.engines import VoiceChoice
from azera.voice.messages import spoken_message

VOICE_LINE = re.compile(r"^voice:.*$", re.MULTILINE)
CLONING_NEEDS = "Cloning needs an XTTS server (AZERA_XTTS_URL) or Coqui in-process: see README, Voice"


class EngineRow(TypedDict):
    """An engine on the Settings page."""

    name: str
    label: str
    usable: bool
    detail: str
    cloning: bool


class VoiceRow(TypedDict):
    """A voice in a picker."""

    spec: str
    label: str


class SampleRow(TypedDict):
    """A voice sample on the Settings page."""

    name: str
    seconds: str
    url: str


def play_script(urls: list[str], label: str) -> rx.event.EventSpec:
    """Tell the page's player to play these parts in order (arguments as JSON)."""
    urls = [backend_base() + url for url in urls]
    return rx.call_script(f"window.azeraVoice && window.azeraVoice.play({json.dumps(urls)}, {json.dumps(label)})")


def with_voice(document: str, spec: str) -> str:
    """A persona file with its front matter's ``voice`` set (added when missing)."""
    line = f'voice: "{spec}"'
    head, separator, body = document.partition("\n---")
    if not document.startswith("---") or not separator:
        raise ServiceError("The persona file has no front matter to set the voice in")
    head = VOICE_LINE.sub(line, head, count=1) if VOICE_LINE.search(head) else f"{head}\n{line}"
    return head + separator + body


def _engines() -> tuple[list[EngineRow], list[VoiceRow], str, bool]:
    states = speech.engine_states()
    engines = [
        EngineRow(name=s.engine.name, label=s.engine.label, usable=s.usable, detail=s.detail, cloning=s.engine.cloning)
        for s in states
    ]
    voices = [VoiceRow(spec=voice.spec, label=voice.label) for voice in speech.all_voices(states)]
    return engines, voices, stt.state()[1], bool(speech.cloning_engines(states))


class VoiceState(rx.State):
    """Speaking, voices and samples."""

    engines: list[EngineRow] = []
    voices: list[VoiceRow] = []
    samples: list[SampleRow] = []
    speech_to_text: str = ""
    can_clone: bool = False
    personas: list[VoiceRow] = []  # the AI personas a sample can be given to (spec = id, label = name)
    picked_voice: str = ""
    picked_speed: float = 1.0

    @rx.event(background=True)
    async def speak(self, message_id: str):
        """Read a chat message aloud in its persona's voice."""
        try:
            message_id = inputs.text(message_id, limit=32, what="The message")
            spoken = await in_db(lambda session: spoken_message(session, message_id))
        except ServiceError as error:
            return rx.toast.error(str(error))
        return play_script(spoken.urls(), spoken.choice.spec)

    @rx.event(background=True)
    async def preview(self, spec: str):
        """Play a short greeting in a voice."""
        try:
            choice = VoiceChoice.parse(inputs.text(spec, limit=200, what="The voice"))
            await asyncio.to_thread(speech.find_voice, choice)
        except ServiceError as error:
            return rx.toast.error(str(error))
        return play_script([f"/api/tts/preview?{urlencode({'voice': choice.spec})}"], choice.spec)

    @rx.event(background=True)
    async def load(self):
        """Engines, voices and samples for the Settings page."""
        engines, voices, heard, can_clone = await asyncio.to_thread(_engines)
        rows = await in_db(samples.list_samples)
        people = await in_db(lambda session: persona_service.list_personas(session, kind="ai"))
        async with self:
            self.personas = [VoiceRow(spec=persona.id, label=persona.name) for persona in people]
            self.engines, self.voices, self.speech_to_text, self.can_clone = engines, voices, heard, can_clone
            self.samples = [
                SampleRow(
                    name=row.name, seconds=f"{row.seconds:.1f} s", url=f"{backend_base()}/api/voice-samples/{row.name}"
                )
                for row in rows
            ]

    @rx.event
    async def upload_sample(self, files: list[rx.UploadFile]):
        """A recording becomes a voice sample named after its file."""
        try:
            filename, data = await inputs.one_upload(files, limit=samples.MAX_BYTES, what="a recording")
            name = samples.sample_name((filename or "sample").rsplit("/", 1)[-1].rsplit(".", 1)[0])
            wav, seconds = await asyncio.to_thread(samples.prepare_sample, data)
            await in_db(lambda session: samples.save_sample(session, name, wav, seconds))
        except ServiceError as error:
            return rx.toast.error(str(error))
        return [VoiceState.load, rx.toast.success(f"Voice sample '{name}' saved ({seconds:.1f} s)")]

    @rx.event
    async def delete_sample(self, name: str):
        """Delete a voice sample."""
        try:
            await in_db(lambda session: samples.delete_sample(session, inputs.text(name, limit=64, what="The sample")))
        except ServiceError as error:
            return rx.toast.error(str(error))
        return [VoiceState.load, rx.toast.info(f"Voice sample '{name}' deleted")]

    @rx.event(background=True)
    async def load_picker(self, document: str):
        """The persona editor's voice list, and the voice its draft names."""
        engines, voices, _, _ = await asyncio.to_thread(_engines)
        try:
            spec = parse_persona(inputs.text(document, limit=200_000, what="The persona file")).voice
            choice = VoiceChoice.parse(spec) if spec else None
        except ServiceError:
            choice = None
        async with self:
            self.engines, self.voices = engines, voices
            self.picked_voice = f"{choice.engine}:{choice.voice}" if choice else ""
            self.picked_speed = choice.speed if choice else 1.0

    @rx.event
    async def pick(self, spec: str):
        """Choose the edited persona's voice (written into the draft's front matter)."""
        try:
            spec = inputs.choice(spec, [voice["spec"] for voice in self.voices], what="That voice")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return await self._write(spec, None)

    @rx.event
    async def pick_speed(self, value: list[float]):
        """Set the edited persona's speaking speed."""
        raw = value[0] if isinstance(value, list) and value else value
        try:
            speed = inputs.number(raw, low=0.5, high=2.0, what="The speed")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return await self._write(self.picked_voice, round(speed, 2))

    async def _write(self, spec: str, speed: float | None):
        from azera.state.personas import PersonaState

        if not spec:
            return rx.toast.error("Pick a voice first")
        self.picked_voice = spec
        if speed is not None:
            self.picked_speed = speed
        personas = await self.get_state(PersonaState)
        try:
            personas.draft = with_voice(personas.draft, f"{spec}@{self.picked_speed:g}")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return None

    @rx.event
    async def attach_sample(self, persona_id: str, name: str):
        """A persona speaks with a cloned voice from this sample (needs an XTTS server or Coqui)."""
        from azera.state.personas import _folder as persona_folder

        try:
            persona_id = inputs.text(persona_id, limit=64, what="The persona")
            name = inputs.text(name, limit=64, what="The sample")
        except ServiceError as error:
            return rx.toast.error(str(error))
        cloning = await asyncio.to_thread(speech.cloning_engines)
        if not cloning:
            return rx.toast.error(
                "Cloning needs an XTTS server (AZERA_XTTS_URL) or Coqui in-process: see README, Voice"
            )

        def work(session: Session) -> str:
            samples.get_sample(session, name)
            document = persona_service.document_of(persona_service.get_persona(session, persona_id))
            document.voice = f"{cloning[0].name}:{name}@1"
            text = render_persona(document)
            return persona_service.save_persona(session, persona_folder(), persona_id, text, note=f"voice {name}").name

        try:
            who = await in_db(work)
        except ServiceError as error:
            return rx.toast.error(str(error))
        return rx.toast.success(f"{who} now speaks with the voice of '{name}'")
