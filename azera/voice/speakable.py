"""What a voice reads aloud: a reply without code, thinking or markdown symbols, in sentences.

A reply is spoken sentence by sentence so that the first one plays while the rest are synthesized;
sentences are kept whole up to ``MAX_SENTENCE_CHARS`` and very short ones are merged with the next so
each part is worth a request.
"""

from __future__ import annotations

import re
import unicodedata

from azera.errors import ServiceError, TooLongError
from azera.llm.thinking import split_thinking

MAX_TEXT_CHARS = 20_000  # about 25 minutes of speech; longer text is refused, not cut silently
MAX_SENTENCE_CHARS = 400
MIN_PART_CHARS = 24

FENCED = re.compile(r"(```|~~~).*?(\1|$)", re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
URL = re.compile(r"https?://\S+")
HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.MULTILINE)
QUOTE = re.compile(r"^\s{0,3}>\s?", re.MULTILINE)
BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.MULTILINE)
RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$", re.MULTILINE)
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.MULTILINE)
EMPHASIS = re.compile(r"(\*{1,3}|_{1,3}|~~)(?=\S)(.+?)(?<=\S)\1")
SYMBOLS = re.compile(r"[*_#|<>`~^\\]")
SPACES = re.compile(r"[ \t]+")
SPACE_BEFORE_MARK = re.compile(r"\s+([,.;:!?])")
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+|\n{2,}|\n(?=\S)")
ABBREVIATIONS = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|St|Prof|vs|etc|e\.g|i\.e|No)\.$", re.IGNORECASE)


def _speakable_char(char: str) -> bool:
    """Letters, digits, punctuation and spaces are read; emoji and other symbols are not."""
    category = unicodedata.category(char)
    return not (category.startswith("S") and char not in "$€£%&+=") and category not in {"Cc", "Cf", "Co", "Cs"}


def speakable(text: str) -> str:
    """The part of a reply a voice should read: no thinking, code blocks, markdown symbols or emoji."""
    visible = split_thinking(text).content
    visible = FENCED.sub(" ", visible)
    visible = INLINE_CODE.sub(" ", visible)
    visible = IMAGE.sub(r"\1", visible)
    visible = LINK.sub(r"\1", visible)
    visible = URL.sub(" ", visible)
    visible = HTML_TAG.sub(" ", visible)
    for pattern in (RULE, TABLE_RULE, HEADING, QUOTE, BULLET):
        visible = pattern.sub("", visible)
    previous = None
    while previous != visible:  # nested emphasis: ***bold italic***, **a _b_ c**
        previous, visible = visible, EMPHASIS.sub(r"\2", visible)
    visible = SYMBOLS.sub(" ", visible)
    visible = "".join(char if char == "\n" or _speakable_char(char) else " " for char in visible)
    lines = [SPACE_BEFORE_MARK.sub(r"\1", SPACES.sub(" ", line)).strip() for line in visible.splitlines()]
    return "\n".join(lines).strip()


def _split_long(sentence: str) -> list[str]:
    """A sentence over the limit, cut at commas, then spaces."""
    parts: list[str] = []
    rest = sentence
    while len(rest) > MAX_SENTENCE_CHARS:
        window = rest[:MAX_SENTENCE_CHARS]
        cut = max(window.rfind(", "), window.rfind("; "), window.rfind(": "))
        if cut < MAX_SENTENCE_CHARS // 3:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = MAX_SENTENCE_CHARS - 1
        parts.append(rest[: cut + 1].strip())
        rest = rest[cut + 1 :].strip()
    if rest:
        parts.append(rest)
    return parts


def sentences(text: str) -> list[str]:
    """A reply as the parts it is spoken in (already made speakable), in order; [] when nothing is readable."""
    clean = speakable(text)
    if not any(char.isalnum() for char in clean):
        return []
    pieces: list[str] = []
    start = 0
    for match in SENTENCE_END.finditer(clean):
        piece = clean[start : match.start()].strip()
        if piece and ABBREVIATIONS.search(piece) and "\n" not in match.group(0):
            continue  # "Dr. Smith" is one sentence
        pieces.append(piece)
        start = match.end()
    pieces.append(clean[start:].strip())
    merged: list[str] = []
    for piece in (part for raw in pieces if raw for part in _split_long(raw.replace("\n", " "))):
        if not any(char.isalnum() for char in piece):
            continue
        if piece[-1].isalnum():  # a heading or a list item: a pause after it, as after a sentence
            piece += "."
        if merged and len(merged[-1]) < MIN_PART_CHARS and len(merged[-1]) + len(piece) < MAX_SENTENCE_CHARS:
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return merged


def checked_text(text: object) -> str:
    """Text from a client to synthesize: a string with something readable in it, at most ``MAX_TEXT_CHARS``."""
    if not isinstance(text, str):
        raise ServiceError("The text to speak must be a string")
    if len(text) > MAX_TEXT_CHARS:
        raise TooLongError(f"The text is {len(text):,} characters; at most {MAX_TEXT_CHARS:,} are spoken at once")
    if not sentences(text):
        raise ServiceError("There is nothing to read aloud in this text (only code, symbols or emoji)")
    return text
