"""Audio in and out: WAV writing, and decoding what users upload or record (checked by content).

Decoding and resampling use PyAV (FFmpeg's libraries, installed with faster-whisper): WAV, MP3, OGG
(Vorbis/Opus), FLAC, and WebM/Ogg from the browser's MediaRecorder. A file is judged by its first
bytes, never by its name; decoding stops as soon as it is longer than allowed.
"""

from __future__ import annotations

import dataclasses
import io
import struct
import wave

import numpy as np

from azera.errors import ServiceError, TooLongError

SAMPLE_KINDS = {  # first bytes → what the file is
    b"RIFF": "WAV",
    b"OggS": "OGG",
    b"fLaC": "FLAC",
    b"ID3": "MP3",
    b"\x1a\x45\xdf\xa3": "WebM",
}
SILENCE_RMS = 0.003  # below this (on a -1…1 scale) a recording holds no speech


@dataclasses.dataclass(frozen=True)
class Clip:
    """Decoded mono audio, 16-bit."""

    samples: np.ndarray  # int16, mono
    rate: int

    @property
    def seconds(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.rate if self.rate else 0.0

    def silent(self) -> bool:
        """True when nothing louder than a hiss is in it."""
        if not len(self.samples):
            return True
        level = np.sqrt(np.mean((self.samples.astype(np.float32) / 32768.0) ** 2))
        return bool(level < SILENCE_RMS)

    def wav(self) -> bytes:
        """The clip as a WAV file."""
        return wav_bytes(self.samples.tobytes(), self.rate)


def wav_bytes(pcm: bytes, rate: int) -> bytes:
    """16-bit mono PCM as a complete WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(pcm)
    return out.getvalue()


def streaming_wav_header(rate: int) -> bytes:
    """A WAV header for a stream of unknown length (sizes at their maximum, as streaming servers send)."""
    return (
        b"RIFF"
        + struct.pack("<I", 0xFFFFFFFF)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", 0xFFFFFFFF)
    )


def read_wav(data: bytes) -> tuple[bytes, int]:
    """PCM and sample rate of a 16-bit mono WAV, tolerating the unknown sizes of streamed ones (espeak-ng)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ServiceError("The engine did not return a WAV file")
    rate, position = 0, 12
    while position + 8 <= len(data):
        chunk, size = data[position : position + 4], struct.unpack("<I", data[position + 4 : position + 8])[0]
        body = position + 8
        if chunk == b"fmt ":
            fmt, channels, rate = struct.unpack("<HHI", data[body : body + 8])
            bits = struct.unpack("<H", data[body + 14 : body + 16])[0]
            if fmt != 1 or channels != 1 or bits != 16:
                raise ServiceError("The engine returned audio in a form Azera does not read (16-bit mono WAV)")
        elif chunk == b"data":
            streamed = size == 0 or size >= 0x7FFFFFFF  # a pipe cannot seek back to write the size
            end = len(data) if streamed else min(len(data), body + size)
            return data[body:end], rate
        position = body + size + (size & 1)
    raise ServiceError("The engine's WAV file has no audio in it")


def sniff(data: bytes) -> str:
    """What kind of audio file the bytes are, or a clear refusal."""
    for magic, kind in SAMPLE_KINDS.items():
        if data.startswith(magic):
            if kind == "WAV" and data[8:12] != b"WAVE":
                break
            return kind
    if len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0:
        return "MP3"
    raise ServiceError("This is not an audio file Azera reads (WAV, MP3, OGG, FLAC or WebM, judged by content)")


def decode(data: bytes, *, rate: int, max_seconds: float, kinds: frozenset[str] | None = None) -> Clip:
    """Decode an audio file to mono 16-bit at ``rate``, refusing other content and anything too long.

    Raises:
        ServiceError: not audio, a kind not in ``kinds``, or undecodable.
        TooLongError: longer than ``max_seconds``.

    """
    import av  # FFmpeg; imported on use (it loads a large library)

    kind = sniff(data)
    if kinds is not None and kind not in kinds:
        raise ServiceError(f"{kind} audio is not accepted here (use {', '.join(sorted(kinds))})")
    limit = int(max_seconds * rate)
    pieces: list[np.ndarray] = []
    count = 0
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise ServiceError("The file holds no audio stream")
            stream = container.streams.audio[0]
            if container.duration and container.duration / 1_000_000 > max_seconds + 1:
                raise TooLongError(
                    f"The recording is {container.duration / 1_000_000:,.0f} s long; at most {max_seconds:.0f} s"
                )
            resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    pieces.append(out.to_ndarray().reshape(-1))
                    count += pieces[-1].size
                if count > limit + rate:
                    raise TooLongError(f"The recording is longer than {max_seconds:.0f} s")
            for out in resampler.resample(None):
                pieces.append(out.to_ndarray().reshape(-1))
    except av.error.FFmpegError as error:
        raise ServiceError(f"The {kind} file could not be decoded (damaged or not really {kind})") from error
    samples = np.concatenate(pieces).astype(np.int16) if pieces else np.zeros(0, dtype=np.int16)
    if len(samples) > limit + rate // 10:
        raise TooLongError(f"The recording is {len(samples) / rate:,.1f} s long; at most {max_seconds:.0f} s")
    if not len(samples):
        raise ServiceError("The file holds no audio")
    return Clip(samples, rate)
