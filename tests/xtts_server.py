"""A local server that speaks the XTTS API server's HTTP protocol (daswer123/xtts-api-server), for adapter tests.

No XTTS weights install on the build machines. This follows that server's routes and shapes:
``GET /speakers_list`` (names of the ``.wav`` files in its speaker folder), ``GET /speakers`` (SillyTavern's
form), ``GET /languages``, ``POST /tts_to_audio/`` with ``{text, speaker_wav, language}`` answering a WAV
of 32-bit float samples at 24 kHz (what torchaudio writes), and errors as ``{"detail": …}``.
Instead of a neural voice, the "speech" is the speaker sample itself, looped to a length that grows with
the text: a test can tell whose sample a reply was made from.
"""

from __future__ import annotations

import io
import struct
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from tests.local_server import JsonHandler, serve

LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "ja": "Japanese"}
RATE = 24_000


def float_wav(samples: np.ndarray, rate: int = RATE) -> bytes:
    """A WAV of 32-bit float samples (format 3), as torchaudio saves a float tensor."""
    data = samples.astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    head = b"RIFF" + struct.pack("<I", 4 + 8 + 16 + 8 + len(data)) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
    return head + b"data" + struct.pack("<I", len(data)) + data


class XttsState:
    """The speaker folder, what was asked, and how the server misbehaves."""

    def __init__(self, speakers: Path) -> None:
        self.speakers = speakers
        self.requests: list[dict] = []
        self.garbage = False  # answer 200 with bytes that are no audio


class XttsHandler(JsonHandler):
    """The routes Azera uses."""

    state: XttsState

    def _names(self) -> list[str]:
        return sorted(path.stem for path in self.state.speakers.glob("*.wav"))

    def do_GET(self) -> None:  # noqa: N802 (http.server names)
        if self.path == "/speakers_list":
            self.send_json(200, self._names())
        elif self.path == "/speakers":
            self.send_json(200, [{"name": n, "voice_id": n, "preview_url": f"/sample/{n}.wav"} for n in self._names()])
        elif self.path == "/languages":
            self.send_json(200, {"languages": {name: code for code, name in LANGUAGES.items()}})
        else:
            self.send_json(404, {"detail": "Not Found"})

    def do_POST(self) -> None:  # noqa: N802 (http.server names)
        if self.path != "/tts_to_audio/":
            self.send_json(404, {"detail": "Not Found"})
            return
        body = self.read_json({})
        self.state.requests.append(body)
        if not isinstance(body.get("text"), str) or "language" not in body:
            self.send_json(422, {"detail": [{"loc": ["body", "text"], "msg": "Field required", "type": "missing"}]})
            return
        if body["language"].lower() not in LANGUAGES:
            self.send_json(400, {"detail": "Language code sent is either unsupported or misspelled."})
            return
        sample = self.state.speakers / f"{body.get('speaker_wav')}.wav"
        if not sample.is_file():
            self.send_json(500, {"detail": f"Error: Speaker {body.get('speaker_wav')} not found"})
            return
        if self.state.garbage:
            self.send_json(200, "surprise", content_type="audio/wav")
            return
        with wave.open(io.BytesIO(sample.read_bytes())) as source:
            pcm = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2").astype(np.float32) / 32768
        length = int(RATE * (0.5 + 0.06 * len(body["text"])))
        audio = np.resize(pcm, length)
        data = float_wav(audio)
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def xtts_server(speakers: Path) -> Iterator[tuple[str, XttsState]]:
    """Run the server on a free loopback port with ``speakers`` as its speaker folder."""
    state = XttsState(speakers)
    with serve(XttsHandler, state) as url:
        yield url, state
