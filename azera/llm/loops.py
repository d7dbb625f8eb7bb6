"""Reply hygiene for small models: the loop guard, and a speaker label copied from the prompt.

The loop guard notices when a reply starts repeating itself, so generation can stop there.

Small models fall into loops ("I'm sorry for your loss." twenty times). The rule, measured on 58 degenerate and
many good replies (issue 12): a finished sentence of at least four words that already appeared earlier in the
same reply. It caught 46 of the 58 and never fired on a good reply. Code blocks are not checked (code repeats
lines legitimately).
"""

from __future__ import annotations

import re

MIN_WORDS = 4
_SENTENCE = re.compile(r"[^.!?\n]+[.!?\n]+")
_FENCE = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_WORD = re.compile(r"[\w']+")


def _masked(text: str) -> str:
    """``text`` with fenced code replaced by spaces (same length, so positions still match)."""
    return _FENCE.sub(lambda match: " " * len(match.group(0)), text)


def repeat_start(text: str) -> int | None:
    """Where the first repeated sentence (≥ 4 words, finished) begins, or None when nothing repeats.

    Sentences are compared by their words, ignoring case, punctuation and spacing.
    """
    seen: set[tuple[str, ...]] = set()
    for match in _SENTENCE.finditer(_masked(text)):
        words = tuple(word.lower() for word in _WORD.findall(match.group(0)))
        if len(words) < MIN_WORDS:
            continue
        if words in seen:
            return match.start() + (len(match.group(0)) - len(match.group(0).lstrip()))
        seen.add(words)
    return None


def cut_at_repeat(text: str) -> tuple[str, bool]:
    """The reply up to its first repeated sentence, and whether anything was cut."""
    start = repeat_start(text)
    if start is None:
        return text, False
    return text[:start].rstrip(), True


def without_speaker_label(text: str, names: tuple[str, ...]) -> str:
    """``text`` without a leading ``Azera:`` (or another of ``names``) that a small model copied from the prompt."""
    stripped = text.lstrip()
    for name in names:
        for label in (f"{name}:", f"**{name}:**", f"**{name}**:"):
            if name and stripped.startswith(label):
                return stripped[len(label) :].lstrip()
    return text


# Phrases a persona never says about itself. Small instruct models are trained to say them ("As an AI language
# model, I don't have preferences") and no prompt wording stopped Qwen2.5-Coder-1.5B reliably (2 breaks in 24
# replies over three seeds with the best wording), so llama.cpp is kept from writing their last word.
BANNED_PHRASES = (
    "As an AI",
    "as an AI",
    "As an artificial",
    "as an artificial",
    "As a digital",
    "As a virtual",
    "As a language model",
    "As an assistant",
    "AI language model",
    "I'm an AI",
    "I am an AI",
    "I'm just an AI",
    "I am just an AI",
    "I'm a computer program",
    "I am a computer program",
    "I'm just a computer",
    "I am just a computer",
    "I'm only a computer",
    "I'm a language model",
    "I am a language model",
    "I'm just a language model",
    "I'm an artificial intelligence",
    "I am an artificial intelligence",
    "don't have feelings",
    "don't have emotions",
    "don't have personal feelings",
    "don't have personal preferences",
    "don't have personal opinions",
    "do not have feelings",
    "do not have personal preferences",
)


class PhraseBan:
    """A llama.cpp logits processor: when the last tokens start a banned phrase, its next token is forbidden.

    Each phrase is tokenized with and without a leading space (how it appears mid-sentence and at the start).
    """

    def __init__(self, tokenize, phrases: tuple[str, ...] = BANNED_PHRASES) -> None:
        self.rules: dict[tuple[int, ...], set[int]] = {}
        for phrase in phrases:
            for variant in (phrase, " " + phrase):
                tokens = tuple(tokenize(variant))
                if len(tokens) >= 2:
                    self.rules.setdefault(tokens[:-1], set()).add(tokens[-1])
        self.longest = max((len(prefix) for prefix in self.rules), default=0)

    def __call__(self, input_ids, scores):
        """Forbid what would finish a banned phrase (``input_ids``: every token so far; ``scores``: logits)."""
        tail = tuple(int(token) for token in input_ids[-self.longest :]) if self.longest else ()
        for size in range(1, len(tail) + 1):
            for token in self.rules.get(tail[-size:], ()):
                scores[token] = -float("inf")
        return scores
