"""``bench voice``: time to first audio and real-time factor of each installed engine, and of speech to text.

Each engine reads the same three-sentence reply as the page does, sentence by sentence: the time to first
audio is the first sentence's synthesis (what a listener waits after pressing play), the real-time factor
is synthesis time over audio length for the whole reply (below 1: faster than it is spoken). The model is
loaded once before timing (its load time is reported apart); medians over ``runs``; no cache is used.
Speech to text transcribes Piper's reading of the reply: its real-time factor and the share of words heard.
"""

from __future__ import annotations

import re
import statistics
import time

from azera.bench import rss_mb, scratch_settings

REPLY = (
    "The harbour was quiet tonight, and the lighthouse keeper counted seven ships before the fog. "
    "Nobody sailed after nine, so the nets stayed dry until morning. "
    "Tomorrow we can walk to the pier and see what the tide brings in."
)
VOICES = ["piper:en_US-joe-medium@1", "festival:cmu_us_slt_arctic_hts@1", "espeak:en-us@1"]


def _engine_figures(spec: str, runs: int) -> dict[str, float] | str:
    from azera.errors import ServiceError
    from azera.voice import speakable, speech
    from azera.voice.engines import VoiceChoice

    choice = VoiceChoice.parse(spec)
    engine = speech.engine(choice.engine)
    usable, why = engine.state()
    if not usable:
        return why
    parts = speakable.sentences(REPLY)
    try:
        started = time.perf_counter()
        engine.synthesize("Warming up.", choice.voice, choice.speed)
        load = time.perf_counter() - started
        firsts, factors = [], []
        for _ in range(runs):
            started = time.perf_counter()
            audio_seconds = 0.0
            for index, sentence in enumerate(parts):
                pcm, rate = engine.synthesize(sentence, choice.voice, choice.speed)
                if index == 0:
                    firsts.append(time.perf_counter() - started)
                audio_seconds += len(pcm) / 2 / rate
            factors.append((time.perf_counter() - started) / audio_seconds)
    except ServiceError as error:
        return str(error)
    return {
        "first_audio_ms": round(statistics.median(firsts) * 1000, 1),
        "real_time_factor": round(statistics.median(factors), 3),
        "audio_s": round(audio_seconds, 2),
        "load_s": round(load, 2),
    }


def _stt_figures(runs: int) -> dict[str, float] | str:
    from azera.errors import ServiceError
    from azera.voice import speech, stt
    from azera.voice.audio import decode
    from azera.voice.engines import VoiceChoice

    try:
        wav = speech.speak(VoiceChoice.parse(VOICES[0]), REPLY)
        seconds = decode(wav, rate=stt.RATE, max_seconds=600).seconds
        started = time.perf_counter()
        stt.transcribe(wav)
        load = time.perf_counter() - started
        times, heard = [], ""
        for _ in range(runs):
            started = time.perf_counter()
            heard = stt.transcribe(wav).text
            times.append(time.perf_counter() - started)
    except ServiceError as error:
        return str(error)
    words = re.findall(r"[a-z]+", REPLY.lower())
    got = set(re.findall(r"[a-z]+", heard.lower().replace("harbor", "harbour")))
    return {
        "real_time_factor": round(statistics.median(times) / seconds, 3),
        "transcribe_ms": round(statistics.median(times) * 1000, 1),
        "audio_s": round(seconds, 2),
        "words_heard": round(sum(word in got for word in words) / len(words), 3),
        "first_call_s": round(load, 2),
    }


def bench_voice(runs: int = 5) -> dict[str, object]:
    """Every installed engine's figures, then speech to text's."""
    scratch_settings("azera-bench-voice-")
    result: dict[str, object] = {"reply_sentences": 3, "runs": runs}
    for spec in VOICES:
        result[spec] = _engine_figures(spec, runs)
    result["speech_to_text"] = _stt_figures(runs)
    result["rss_mb"] = round(rss_mb(), 1)
    return result
