"""Mood inference: one short, low-temperature call after each reply, robust to small models."""

from __future__ import annotations

import logging
import re

from azera.llm.base import BackendError, ChatBackend, complete
from azera.mind.state import MOODS

log = logging.getLogger(__name__)
SYNONYMS = {
    "joyful": "happy",
    "glad": "happy",
    "cheerful": "happy",
    "delighted": "happy",
    "positive": "happy",
    "thrilled": "excited",
    "enthusiastic": "excited",
    "eager": "excited",
    "energetic": "excited",
    "satisfied": "content",
    "pleased": "content",
    "friendly": "content",
    "warm": "content",
    "relaxed": "calm",
    "peaceful": "calm",
    "neutral": "calm",
    "serene": "calm",
    "interested": "curious",
    "inquisitive": "curious",
    "intrigued": "curious",
    "playful": "curious",
    "pensive": "thoughtful",
    "reflective": "thoughtful",
    "analytical": "thoughtful",
    "informative": "thoughtful",
    "sad": "melancholy",
    "wistful": "melancholy",
    "nostalgic": "melancholy",
    "gloomy": "melancholy",
    "worried": "concerned",
    "anxious": "concerned",
    "nervous": "concerned",
    "uneasy": "concerned",
    "afraid": "concerned",
}
PROMPT = (
    "Which one word describes the mood of this message? Answer with exactly one of: "
    + ", ".join(MOODS)
    + ".\n\nMessage: {reply}\n\nMood:"
)


def label_from_text(text: str) -> str | None:
    """The first mood label (or a synonym of one) in a model's answer; None if there is none."""
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in MOODS:
            return word
        if word in SYNONYMS:
            return SYNONYMS[word]
    return None


async def infer_mood(backend: ChatBackend, model: str, reply: str) -> str | None:
    """Ask the model (temperature 0.1, at most 10 tokens); None when it fails or answers nonsense."""
    if not reply.strip():
        return None
    try:
        answer = await complete(backend, model, PROMPT.format(reply=reply[:1500]), temperature=0.1, max_tokens=10)
    except BackendError as error:
        log.warning("mood inference failed, the mood stays as it was: %s", error)
        return None
    return label_from_text(answer)
