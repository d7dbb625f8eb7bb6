"""Speaking: which engines and voices there are, each persona's voice, and cached synthesis.

Synthesis is per sentence (see :mod:`azera.voice.speakable`) and cached on disk by voice and text, so a
message spoken twice, or a sentence two messages share, is synthesized once. The cache keeps the newest
``CACHE_LIMIT_BYTES``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from azera.config import get_settings
from azera.errors import NotFoundError, ServiceError
from azera.voice import speakable
from azera.voice.audio import read_wav, wav_bytes
from azera.voice.cloning import CoquiEngine, XttsEngine
from azera.voice.engines import Engine, EspeakEngine, FestivalEngine, PiperEngine, Voice, VoiceChoice, check_language

log = logging.getLogger(__name__)
CACHE_LIMIT_BYTES = 300_000_000
CACHE_VERSION = "1"
PIPER_JOE = "piper:en_US-joe-medium"
FESTIVAL_SLT = "festival:cmu_us_slt_arctic_hts"
DEFAULT_VOICES = {  # persona id → the voices tried in order; the first one installed is its default
    "azera": [f"{FESTIVAL_SLT}@1.0", "espeak:en-us+f3@1.0", f"{PIPER_JOE}@1.0"],
    "areza": [f"{FESTIVAL_SLT}@1.15", "espeak:en-gb-x-rp+f4@1.05", f"{PIPER_JOE}@1.1"],
    "protag": [f"{PIPER_JOE}@1.0", "espeak:en-us@1.0"],
}
FALLBACK_VOICES = [f"{PIPER_JOE}@1.0", f"{FESTIVAL_SLT}@1.0", "espeak:en-us@1.0"]


def engines() -> tuple[Engine, ...]:
    """Every engine this configuration knows, installed or not (their ``state`` says which)."""
    settings = get_settings()
    return _engines(
        settings.resolved_voices_dir,
        settings.xtts_url,
        settings.xtts_language,
        settings.coqui_model_dir,
        settings.voice_samples_dir,
    )


@functools.cache
def _engines(
    voices_dir: Path, xtts_url: str, language: str, coqui_dir: Path | None, samples_dir: Path
) -> tuple[Engine, ...]:
    found: list[Engine] = [PiperEngine(voices_dir), FestivalEngine(), EspeakEngine()]
    if xtts_url:
        found.append(XttsEngine(xtts_url, language))
    if coqui_dir:
        found.append(CoquiEngine(coqui_dir, samples_dir, language))
    return tuple(found)


def engine(name: str) -> Engine:
    """One engine by name, or a clear error."""
    for candidate in engines():
        if candidate.name == name:
            return candidate
    known = ", ".join(candidate.name for candidate in engines())
    raise ServiceError(f"There is no voice engine {name!r} here (engines: {known})")


@dataclasses.dataclass(frozen=True)
class EngineState:
    """An engine and whether it works now (asked once: for a server, each ask is a request)."""

    engine: Engine
    usable: bool
    detail: str


def engine_states() -> list[EngineState]:
    """Every engine with its state."""
    return [EngineState(engine, *engine.state()) for engine in engines()]


def cloning_engines(states: list[EngineState] | None = None) -> list[Engine]:
    """The configured engines that clone from samples and are reachable now."""
    return [state.engine for state in states or engine_states() if state.engine.cloning and state.usable]


def all_voices(states: list[EngineState] | None = None) -> list[Voice]:
    """Every voice of every usable engine."""
    voices: list[Voice] = []
    for state in states or engine_states():
        if not state.usable:
            continue
        try:
            voices.extend(state.engine.voices())
        except ServiceError as error:  # a server that went away lists nothing
            log.info("voices of %s: %s", state.engine.name, error)
    return voices


def find_voice(choice: VoiceChoice) -> Voice:
    """The installed voice a choice names (espeak's ``+variant`` is part of the choice, not the voice)."""
    wanted = choice.voice.split("+")[0] if choice.engine == "espeak" else choice.voice
    for voice in engine(choice.engine).voices():
        if voice.id == wanted:
            return voice
    raise NotFoundError(f"The voice {choice.engine}:{choice.voice} is not installed")


def usable(spec: str) -> VoiceChoice | None:
    """The choice a spec names when its voice is installed now, else None."""
    try:
        choice = VoiceChoice.parse(spec)
        if engine(choice.engine).state()[0]:
            find_voice(choice)
            return choice
    except ServiceError:
        return None
    return None


def voice_for(persona_id: str, spec: str = "") -> VoiceChoice:
    """A persona's voice: its own (front matter) when installed, else its default, else any installed one."""
    for candidate in ([spec] if spec else []) + DEFAULT_VOICES.get(persona_id, []) + FALLBACK_VOICES:
        choice = usable(candidate)
        if choice is not None:
            return choice
    raise ServiceError("No voice engine is installed: run scripts/setup.sh (Piper), or see README, Voice")


def _cache_path(choice: VoiceChoice, sentence: str) -> Path:
    key = hashlib.sha256(f"{CACHE_VERSION}\0{choice.spec}\0{sentence}".encode()).hexdigest()
    return get_settings().data_dir / "cache" / "voice" / key[:2] / f"{key}.wav"


def _prune(folder: Path) -> None:
    """Keep the newest files of the cache within its limit."""
    files = [(path.stat(), path) for path in folder.rglob("*.wav")]
    total = sum(stat.st_size for stat, _ in files)
    for stat, path in sorted(files, key=lambda item: item[0].st_mtime):
        if total <= CACHE_LIMIT_BYTES * 0.8:
            break
        path.unlink(missing_ok=True)
        total -= stat.st_size


def synthesize_part(choice: VoiceChoice, sentence: str) -> bytes:
    """One sentence as a WAV file, from the cache or the engine (blocking: call it from a worker thread)."""
    path = _cache_path(choice, sentence)
    if path.is_file():
        os.utime(path)
        return path.read_bytes()
    voice = find_voice(choice)
    check_language(sentence, voice)
    pcm, rate = engine(choice.engine).synthesize(sentence, choice.voice, choice.speed)
    data = wav_bytes(pcm, rate)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(path)  # whole or absent: a crash never leaves half a sentence in the cache
    if int.from_bytes(hashlib.sha256(sentence.encode()).digest()[:1], "big") < 8:  # now and then
        _prune(path.parent.parent)
    return data


def part_pcm(choice: VoiceChoice, sentence: str) -> tuple[bytes, int]:
    """One sentence as 16-bit mono PCM and its rate."""
    return read_wav(synthesize_part(choice, sentence))


def stream(choice: VoiceChoice, text: str) -> Iterator[tuple[bytes, int]]:
    """A text's speech, sentence by sentence: (16-bit mono PCM, rate) as each one is ready."""
    parts = speakable.sentences(text)
    if not parts:
        raise ServiceError("There is nothing to read aloud in this text (only code, symbols or emoji)")
    find_voice(choice)
    for sentence in parts:
        yield part_pcm(choice, sentence)


def speak(choice: VoiceChoice, text: str) -> bytes:
    """A whole text as one WAV file."""
    pieces = list(stream(choice, text))
    rate = pieces[0][1]
    if any(piece_rate != rate for _, piece_rate in pieces):
        raise ServiceError("The voice changed its sample rate between sentences")
    return wav_bytes(b"".join(pcm for pcm, _ in pieces), rate)
