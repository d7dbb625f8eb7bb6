"""What recall hands the prompt: the fused scores, the chosen memories and the numbered block."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from azera.db.engine import session_scope
from azera.memory.context import in_conversation, made_at, read_rows
from azera.memory.indexing import speakers_of
from azera.memory.records import SearchScope

# Score fusion: cosine similarity plus bm25 relative to the best word match, plus a bonus for memories from
# the time the question names. On LoCoMo this beat reciprocal rank fusion (which only sees ranks) by 3 points.
SOURCE_WEIGHTS = {"semantic": 0.5, "lexical": 0.5, "chats": 0.1}
DATE_BONUS = 0.2
DEDUP_PREFIX = 100
SNIPPET_CHARS = 400


@dataclasses.dataclass
class RecalledMemory:
    """A memory chosen for the prompt, with why it was chosen."""

    id: str
    text: str
    kind: str
    created_at: str
    score: float
    sources: dict[str, float]  # each search's own score (semantic: cosine, lexical: bm25)
    speaker: str = ""
    # What the conversation stage added: ``answer`` (a share of the question it answers), ``chat`` (a share
    # of its chat's best), ``turn`` (length, "?", saying when); ``semantic`` for a reply no search found.
    context: dict[str, float] = dataclasses.field(default_factory=dict)


def fuse(
    scores: dict[str, dict[str, float]],
    *,
    weights: dict[str, float] = SOURCE_WEIGHTS,
    dated: dict[str, float] | None = None,
    window: tuple[float, float] | None = None,
) -> list[tuple[str, float]]:
    """One score per memory: the weighted sum of each source's score, bm25-like scores divided by the best.

    ``scores``: source → memory id → the source's own score (cosine for ``semantic``). With a ``window``
    (epoch seconds) the memories ``dated`` inside it get ``DATE_BONUS``.
    """
    fused: dict[str, float] = {}
    for source, found in scores.items():
        if not found:
            continue
        scale = 1.0 if source == "semantic" else max(max(found.values()), 1e-9)
        for memory_id, score in found.items():
            fused[memory_id] = fused.get(memory_id, 0.0) + weights.get(source, 1.0) * score / scale
    if window is not None and dated:
        for memory_id in fused:
            fused[memory_id] += date_bonus(dated.get(memory_id, -1.0), window)
    return sorted(fused.items(), key=lambda item: item[1], reverse=True)


def date_bonus(moment: float, window: tuple[float, float] | None) -> float:
    """``DATE_BONUS`` for a memory made (epoch seconds) inside the time the question names, else 0."""
    return DATE_BONUS if window is not None and window[0] <= moment < window[1] else 0.0


def memories_block(recalled: list[RecalledMemory], *, you: str = "") -> str:
    """The numbered block injected into the system prompt, saying whose words each line are (``you``: the persona).

    Lines read ``[date] Protag said: "…"`` rather than ``Protag: …``: small models copy a ``Name:`` prefix
    into their own reply (measured with Qwen2.5-1.5B: 4 of 9 replies began "Azera:" or "Protag:").
    """
    if not recalled:
        return ""
    lines = ["## Relevant memories", "From earlier conversations and your own writing, most relevant first:"]
    for n, memory in enumerate(recalled, start=1):
        if memory.speaker:
            who = "you" if you and memory.speaker == you else memory.speaker
            lines.append(f'{n}. [{memory.created_at}] {who} said: "{memory.text}"')
        else:
            lines.append(f"{n}. [{memory.created_at}] ({memory.kind}) {memory.text}")
    return "\n".join(lines)


def assemble(
    scores: dict[str, dict[str, float]],
    scope: SearchScope,
    limit: int,
    window: tuple[float, float] | None,
    *,
    lookup: Callable[[list[str]], dict[str, float]] | None,
    when: bool = False,
) -> list[RecalledMemory]:
    """Fuse, judge with the conversation around (unless ``lookup`` is None), then keep the best ``limit``.

    ``when``: the question asks for a time (``dates.asks_when``). The candidates' rows are read from SQL
    once (a few hundred at most) and serve the conversation stage and the result (their dates only when
    the question names a time, and for the chosen); a row gone from SQL or of another persona is dropped
    (defensively: every source searched inside ``scope``).
    """
    candidates = list({i for found in scores.values() for i in found})
    if not candidates:
        return []
    with session_scope() as session:
        rows = read_rows(session, candidates)
        dated = made_at(session, candidates) if window is not None else {}
        ranked = fuse(scores, dated=dated, window=window)
        added: dict[str, dict[str, float]] = {}
        if lookup is not None:
            ranked, added = in_conversation(
                session,
                ranked,
                rows,
                scope=scope,
                lookup=lookup,
                semantic_weight=SOURCE_WEIGHTS["semantic"],
                bonus=functools.partial(date_bonus, window=window),
                when=when,
            )
        seen: set[str] = set()
        chosen: list[tuple[Any, float]] = []
        for memory_id, score in ranked:
            row = rows.get(memory_id)
            if row is None or row.persona_id != scope.persona_id:
                continue
            key = " ".join(row.text.split())[:DEDUP_PREFIX].lower()
            if key not in seen:
                seen.add(key)
                chosen.append((row, score))
                if len(chosen) == limit:
                    break
        speakers = speakers_of(session, [row for row, _ in chosen]) if chosen else {}
        # the chosen's dates: read with every candidate's when the question names a time (a joined reply's too)
        missing = [row.id for row, _ in chosen if row.id not in dated]
        made = {**dated, **(made_at(session, missing) if missing else {})}
    recalled = []
    for row, score in chosen:
        sources = {name: found[row.id] for name, found in scores.items() if row.id in found}
        text = row.text if len(row.text) <= SNIPPET_CHARS else row.text[: SNIPPET_CHARS - 1] + "…"
        recalled.append(
            RecalledMemory(
                row.id,
                text,
                row.kind,
                f"{datetime.fromtimestamp(made[row.id], UTC):%Y-%m-%d}",
                round(score, 5),
                sources,
                speakers[row.id],
                {name: round(value, 4) for name, value in added.get(row.id, {}).items() if value},
            )
        )
    return recalled
