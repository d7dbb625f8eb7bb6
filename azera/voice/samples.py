"""Voice samples for cloning: uploaded, checked by content, stored as 16-bit mono WAV at 22.05 kHz.

A sample is ``<data>/media/voice-samples/<name>.wav`` (exported and backed up with the other media) and a
row in ``voicesample``. A persona speaks with it when its voice is ``xtts:<name>`` or ``coqui:<name>``;
that needs a cloning engine (an XTTS server or Coqui in-process).
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlmodel import Session, select

from azera.config import get_settings
from azera.db.models import VoiceSample
from azera.errors import NotFoundError, ServiceError
from azera.voice.audio import decode

MAX_BYTES = 10_000_000
MAX_SECONDS = 60.0
MIN_SECONDS = 2.0
RATE = 22_050
KINDS = frozenset({"WAV", "MP3", "OGG", "FLAC"})
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def sample_name(raw: object) -> str:
    """A sample's name from a client: lowercase letters, digits, '-' and '_' (it becomes a file name)."""
    if not isinstance(raw, str):
        raise ServiceError("A sample's name is text")
    name = re.sub(r"[^a-z0-9_-]+", "-", raw.strip().lower()).strip("-")[:64]
    if not NAME.match(name):
        raise ServiceError("Give the sample a name (letters, digits, '-' or '_')")
    return name


def sample_path(name: str) -> Path:
    """Where a sample's audio lives (the name is checked, so it never leaves the folder)."""
    if not NAME.match(name):
        raise NotFoundError(f"There is no voice sample {name!r}")
    return get_settings().voice_samples_dir / f"{name}.wav"


def list_samples(session: Session) -> list[VoiceSample]:
    """Every sample, newest first."""
    return list(session.exec(select(VoiceSample).order_by(VoiceSample.created_at.desc())))  # type: ignore[attr-defined]


def prepare_sample(data: bytes) -> tuple[bytes, float]:
    """Check and convert an upload (blocking: a worker thread): the WAV to store and its length in seconds.

    Raises:
        ServiceError: too large, not audio (by content), silent, or too short.
        TooLongError: over a minute.

    """
    if len(data) > MAX_BYTES:
        raise ServiceError(f"A voice sample is at most {MAX_BYTES // 1_000_000} MB; this one is {len(data):,} bytes")
    clip = decode(data, rate=RATE, max_seconds=MAX_SECONDS, kinds=KINDS)
    if clip.silent():
        raise ServiceError("The sample is silent: record a few seconds of someone speaking")
    if clip.seconds < MIN_SECONDS:
        raise ServiceError(f"The sample is {clip.seconds:.1f} s long; cloning needs at least {MIN_SECONDS:.0f} s")
    return clip.wav(), round(clip.seconds, 2)


def save_sample(session: Session, name: str, wav: bytes, seconds: float) -> VoiceSample:
    """Store a prepared sample under a new name."""
    name = sample_name(name)
    if session.exec(select(VoiceSample).where(VoiceSample.name == name)).first() is not None:
        raise ServiceError(f"There is already a voice sample named {name!r}: delete it first or pick another name")
    path = sample_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(wav)
    partial.replace(path)
    row = VoiceSample(name=name, seconds=seconds)
    session.add(row)
    session.flush()
    return row


def get_sample(session: Session, name: str) -> tuple[VoiceSample, Path]:
    """A sample's row and file."""
    row = session.exec(select(VoiceSample).where(VoiceSample.name == name)).first()
    path = sample_path(name)
    if row is None or not path.is_file():
        raise NotFoundError(f"There is no voice sample {name!r}")
    return row, path


def delete_sample(session: Session, name: str) -> None:
    """Remove a sample and its file (personas using it fall back to their default voice)."""
    row, path = get_sample(session, name)
    session.delete(row)
    path.unlink(missing_ok=True)
