"""Split ``<think>…</think>`` reasoning from the visible reply, also while it streams."""

from __future__ import annotations

import dataclasses

OPEN, CLOSE = "<think>", "</think>"


@dataclasses.dataclass
class SplitText:
    """A reply divided into its thinking and its visible content."""

    thinking: str
    content: str


def split_thinking(raw: str) -> SplitText:
    """Separate every ``<think>`` block (an unclosed one counts as still thinking)."""
    thinking: list[str] = []
    content: list[str] = []
    rest = raw
    while True:
        start = rest.find(OPEN)
        if start < 0:
            content.append(rest)
            break
        content.append(rest[:start])
        rest = rest[start + len(OPEN) :]
        end = rest.find(CLOSE)
        if end < 0:
            thinking.append(rest)
            break
        thinking.append(rest[:end])
        rest = rest[end + len(CLOSE) :]
    return SplitText(
        thinking="\n".join(part.strip() for part in thinking if part.strip()), content="".join(content).strip()
    )
