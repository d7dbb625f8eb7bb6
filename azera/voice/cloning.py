"""Engines that speak in a voice cloned from a sample: an XTTS API server, or Coqui in-process.

**XTTS server** (``AZERA_XTTS_URL``, the xtts-api-server protocol SillyTavern uses): ``GET /speakers_list``
names the samples in the server's speaker folder; ``POST /tts_to_audio/`` with ``{text, speaker_wav,
language}`` answers a WAV. Start the server with its speaker folder on Azera's samples
(``-sf <data>/voice-samples``) so every sample uploaded here is a voice there.

**Coqui in-process**: only where the ``TTS`` package imports and ``AZERA_COQUI_MODEL_DIR`` holds an XTTS
model folder (config.json + weights); it then clones from the sample file directly.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import httpx
import numpy as np

from azera.errors import ServiceError
from azera.voice.audio import decode, read_wav
from azera.voice.engines import Voice

XTTS_TIMEOUT = httpx.Timeout(120.0, connect=3.0)
XTTS_RATE = 24_000


def _pcm_of(data: bytes) -> tuple[bytes, int]:
    """PCM of an engine's WAV; other encodings (float WAV, 24-bit) decoded with FFmpeg."""
    try:
        return read_wav(data)
    except ServiceError:
        try:
            clip = decode(data, rate=XTTS_RATE, max_seconds=600)
        except ServiceError as error:
            raise ServiceError(f"The XTTS server answered something that is not audio ({error})") from error
        return clip.samples.tobytes(), clip.rate


class XttsEngine:
    """A remote XTTS v2 server: clones the voice of a sample in its speaker folder."""

    name, label, cloning = "xtts", "XTTS server", True

    def __init__(self, url: str, language: str = "en") -> None:
        self.url = url.rstrip("/")
        self.language = language

    def _speakers(self) -> list[str]:
        try:
            response = httpx.get(f"{self.url}/speakers_list", timeout=httpx.Timeout(5.0, connect=3.0))
            response.raise_for_status()
            names = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ServiceError(f"The XTTS server at {self.url} is not answering ({type(error).__name__})") from error
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise ServiceError(f"The XTTS server at {self.url} answered something that is not a speaker list")
        return names

    def state(self) -> tuple[bool, str]:
        """(usable, what it is or what is missing)."""
        try:
            return True, f"{self.url}: {len(self._speakers())} speaker sample(s)"
        except ServiceError as error:
            return False, str(error)

    def voices(self) -> list[Voice]:
        """The voices it has now."""
        try:
            names = self._speakers()
        except ServiceError:
            return []
        return [Voice(self.name, name, f"{name} (cloned, XTTS)", self.language) for name in names]

    def synthesize(self, text: str, voice: str, speed: float) -> tuple[bytes, int]:
        """One sentence as 16-bit mono PCM and its sample rate."""
        if voice not in self._speakers():
            raise ServiceError(
                f"The XTTS server has no speaker {voice!r}: start it with its speaker folder on Azera's "
                "voice samples (-sf <data>/voice-samples), or upload the sample there"
            )
        body = {"text": text, "speaker_wav": voice, "language": self.language}
        try:
            response = httpx.post(f"{self.url}/tts_to_audio/", json=body, timeout=XTTS_TIMEOUT)
        except httpx.HTTPError as error:
            raise ServiceError(f"The XTTS server at {self.url} is not answering ({type(error).__name__})") from error
        if response.status_code != 200:
            try:
                detail = str(response.json().get("detail", ""))[:200]
            except ValueError:
                detail = response.text[:200]
            raise ServiceError(f"The XTTS server refused: {response.status_code} {detail}".strip())
        return _pcm_of(response.content)


class CoquiEngine:
    """Coqui XTTS in-process, from a local model folder; clones from Azera's sample files."""

    name, label, cloning = "coqui", "Coqui XTTS (in-process)", True

    def __init__(self, model_dir: Path | None, samples_dir: Path, language: str = "en") -> None:
        self.model_dir = model_dir
        self.samples_dir = samples_dir
        self.language = language
        self._model = None
        self._lock = threading.Lock()

    def state(self) -> tuple[bool, str]:
        """(usable, what it is or what is missing)."""
        if importlib.util.find_spec("TTS") is None:
            return False, "coqui-tts is not installed"
        if self.model_dir is None or not (self.model_dir / "config.json").is_file():
            return False, "AZERA_COQUI_MODEL_DIR does not name an XTTS model folder"
        return True, str(self.model_dir)

    def voices(self) -> list[Voice]:
        """The voices it has now."""
        if not self.state()[0]:
            return []
        return [
            Voice(self.name, path.stem, f"{path.stem} (cloned, Coqui)", self.language)
            for path in sorted(self.samples_dir.glob("*.wav"))
        ]

    def synthesize(self, text: str, voice: str, speed: float) -> tuple[bytes, int]:
        """One sentence as 16-bit mono PCM and its sample rate."""
        usable, why = self.state()
        if not usable:
            raise ServiceError(f"Coqui cannot speak: {why}")
        sample = self.samples_dir / f"{voice}.wav"
        if not sample.is_file():
            raise ServiceError(f"There is no voice sample {voice!r}")
        with self._lock:
            if self._model is None:
                try:
                    from TTS.api import TTS  # ty: ignore[unresolved-import]

                    self._model = TTS(model_path=str(self.model_dir), config_path=str(self.model_dir / "config.json"))
                except Exception as error:  # a broken install or model: one clear line
                    raise ServiceError(f"Coqui could not load its model: {error}") from error
            try:
                floats = self._model.tts(text=text, speaker_wav=str(sample), language=self.language, speed=speed)
            except Exception as error:
                raise ServiceError(f"Coqui failed on this sentence: {error}") from error
        samples = (np.clip(np.asarray(floats, dtype=np.float32), -1, 1) * 32767).astype(np.int16)
        return samples.tobytes(), XTTS_RATE
