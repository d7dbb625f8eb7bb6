"""Recall's last stage: a memory is judged with the conversation around it, not alone.

Measured on LoCoMo (real long conversations, ``bench memory``), where the fused score alone reached
recall@10 0.821:

- **An answer inherits its question's score.** Facts are told in reply to a question ("How's the puppy
  settling in?" → "The little one is doing great, learning commands"); the question holds the words the
  user asks with, the answer holds the fact. The replies to well-scored questions join the candidates
  and every reply gains ``ANSWER_SHARE`` of its question's score (0.821 → 0.837).
- **A chat's best memory lifts the rest of that chat**: what a question is about was talked about in one
  sitting, so a memory gains ``CHAT_SHARE`` of the best score in its chat (→ 0.842).
- **A question rarely holds a fact**, and a three-word turn rarely does: a turn ending in "?" loses a
  little, longer turns gain a little, up to 40 words (→ 0.848).
- **A when-question is answered by a memory that says when** ("yesterday", "last week", "in 2022"):
  ``WHEN_BONUS`` for those (``dates.says_when``).

The shares were set on the five LoCoMo development conversations as round numbers, not searched finely;
they only reorder candidates both sources already found, plus the replies to them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, col, select

from azera.db.models import ChatMessage, Memory, epoch
from azera.memory.dates import says_when
from azera.memory.records import SearchScope

ANSWER_SHARE = 0.3
CHAT_SHARE = 0.3
QUESTION_PENALTY = 0.05
LENGTH_BONUS = 0.04  # × ln(1 + words), words counted up to LENGTH_CAP
LENGTH_CAP = 40
WHEN_BONUS = 0.3
QUESTIONS_FOLLOWED = 30  # the best-scored questions whose replies join the candidates

log = logging.getLogger(__name__)
Lookup = Callable[[list[str]], dict[str, float]]
# What recall reads of every candidate, once (``recall.assemble``). Dates are left out: parsing a hundred
# datetimes cost more than the rest of the stage (``dated`` reads them when a question names a time).
COLUMNS = (Memory.id, Memory.text, Memory.kind, Memory.persona_id, Memory.chat_id, Memory.message_id)
SCOPE_COLUMNS = (Memory.tier, Memory.created_at, Memory.indexed_at)  # a reply's, to check it against the scope


def read_rows(session: Session, memory_ids: list[str]) -> dict[str, Any]:
    """Memory id → its row (``COLUMNS``); memories gone from SQL are absent."""
    return {row.id: row for row in session.exec(select(*COLUMNS).where(col(Memory.id).in_(memory_ids)))}


def made_at(session: Session, memory_ids: list[str]) -> dict[str, float]:
    """Memory id → when it was made (epoch seconds)."""
    found = session.exec(select(Memory.id, Memory.created_at).where(col(Memory.id).in_(memory_ids)))
    return {memory_id: epoch(created) for memory_id, created in found}


def _prior(text: str, when: bool) -> float:
    words = min(len(text.split()), LENGTH_CAP)
    prior = LENGTH_BONUS * math.log1p(words) - (QUESTION_PENALTY if text.rstrip().endswith("?") else 0.0)
    return prior + (WHEN_BONUS if when and says_when(text) else 0.0)


def _replies(session: Session, questions: dict[str, str], scope: SearchScope) -> list[tuple[Any, str]]:
    """(reply row, the question's memory id) for the indexed memories answering ``questions`` inside ``scope``.

    ``questions``: message id → memory id. Two indexed look-ups (children by parent, memories by message
    id): one join, or the scope's columns in the WHERE, let SQLite walk the persona's rows instead.
    """
    if not questions:
        return []
    children = select(ChatMessage.id, ChatMessage.parent_id).where(col(ChatMessage.parent_id).in_(list(questions)))
    answering = {message_id: parent_id for message_id, parent_id in session.exec(children)}
    if not answering:
        return []
    found = session.exec(select(*COLUMNS, *SCOPE_COLUMNS).where(col(Memory.message_id).in_(list(answering))))
    return [
        (row, questions[answering[row.message_id]])
        for row in found
        if row.indexed_at is not None
        and scope.allows(
            persona_id=row.persona_id,
            chat_id=row.chat_id or "",
            created_at=epoch(row.created_at),
            kind=row.kind,
            tier=row.tier,
        )
    ]


def in_conversation(
    session: Session,
    fused: list[tuple[str, float]],
    rows: dict[str, Any],
    *,
    scope: SearchScope,
    lookup: Lookup,
    semantic_weight: float,
    bonus: Callable[[float], float],
    when: bool = False,
) -> tuple[list[tuple[str, float]], dict[str, dict[str, float]]]:
    """Re-rank ``fused`` (memory id, fused score) with the conversation around each memory, best first.

    ``rows``: the candidates' rows (``read_rows``); the replies that join are added to it. ``lookup(ids)``
    gives the cosine of memories no search found (the replies); ``bonus(epoch)`` their date bonus, as
    ``fuse`` gave the others. ``when``: the question asks for a time (``dates.asks_when``).
    Also returns what the stage added to each memory (``answer``, ``chat``, ``turn``; ``semantic`` for a
    reply no search found), which the page shows as why a memory was recalled.
    """
    scores = {memory_id: score for memory_id, score in fused if memory_id in rows}
    questions = {rows[i].message_id: i for i in scores if rows[i].message_id and "?" in rows[i].text}
    followed = set(sorted(questions.values(), key=lambda i: scores[i], reverse=True)[:QUESTIONS_FOLLOWED])
    replies = _replies(session, questions, scope)
    parts: dict[str, dict[str, float]] = {}
    new = [row for row, question in replies if row.id not in scores and question in followed]
    if new:
        try:
            cosines = lookup([row.id for row in new])
        except Exception as error:  # the replies still join, by the words of their question
            log.warning("semantic look-up unavailable: %s", error)
            cosines = {}
        for row in new:
            rows[row.id] = row
            scores[row.id] = semantic_weight * cosines.get(row.id, 0.0) + bonus(epoch(row.created_at))
            parts[row.id] = {"semantic": cosines.get(row.id, 0.0)}
    base = dict(scores)
    for row, question in replies:
        if row.id in scores:
            scores[row.id] += ANSWER_SHARE * base[question]
            parts.setdefault(row.id, {})["answer"] = ANSWER_SHARE * base[question]

    def chat(memory_id: str) -> str:
        return rows[memory_id].chat_id or memory_id  # a memory from no chat is its own group

    best_in_chat: dict[str, float] = {}
    for memory_id, score in scores.items():
        best_in_chat[chat(memory_id)] = max(best_in_chat.get(chat(memory_id), score), score)
    ranked = {}
    for memory_id, score in scores.items():
        added = parts.setdefault(memory_id, {})
        added["chat"] = CHAT_SHARE * best_in_chat[chat(memory_id)]
        added["turn"] = _prior(rows[memory_id].text, when)
        ranked[memory_id] = score + added["chat"] + added["turn"]
    return sorted(ranked.items(), key=lambda item: item[1], reverse=True), parts
