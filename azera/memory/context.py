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

import math
from collections.abc import Callable

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

Lookup = Callable[[list[str]], dict[str, float]]


def _asks(text: str) -> bool:
    return "?" in text


def _prior(text: str, when: bool) -> float:
    words = min(len(text.split()), LENGTH_CAP)
    prior = LENGTH_BONUS * math.log1p(words) - (QUESTION_PENALTY if text.rstrip().endswith("?") else 0.0)
    return prior + (WHEN_BONUS if when and says_when(text) else 0.0)


def _replies(session: Session, questions: dict[str, str], scope: SearchScope) -> list[tuple[str, str, str, str, float]]:
    """(reply memory id, chat, text, the question's memory id, when) for the messages answering ``questions``.

    ``questions``: message id → memory id. Only replies ``scope`` allows (persona, not the current chat,
    old enough, indexed) are read: a reply joins the candidates as if a search had found it.
    """
    if not questions:
        return []
    # Two indexed look-ups (children by parent, memories by message); one join let SQLite scan memories.
    children = select(ChatMessage.id, ChatMessage.parent_id).where(col(ChatMessage.parent_id).in_(list(questions)))
    answering = {message_id: parent_id for message_id, parent_id in session.exec(children)}
    if not answering:
        return []
    # Only by message id (its index): with the scope's columns in the WHERE, SQLite walked the persona's rows.
    columns = (Memory.id, Memory.chat_id, Memory.text, Memory.message_id, Memory.created_at, Memory.persona_id)
    more = (Memory.kind, Memory.tier, Memory.indexed_at)
    before = scope.before if scope.before is not None else math.inf
    replies = []
    for memory_id, chat_id, text, message_id, created, persona_id, kind, tier, indexed_at in session.exec(
        select(*columns, *more).where(col(Memory.message_id).in_(list(answering)))
    ):
        allowed = (
            persona_id == scope.persona_id
            and indexed_at is not None
            and (not scope.exclude_chat_id or chat_id != scope.exclude_chat_id)
            and epoch(created) < before
            and (not scope.kinds or kind in scope.kinds)
            and (not scope.tiers or tier in scope.tiers)
        )
        if allowed:
            replies.append((memory_id, chat_id or "", text, questions[answering[message_id]], epoch(created)))
    return replies


def in_conversation(
    session: Session,
    fused: list[tuple[str, float]],
    *,
    scope: SearchScope,
    lookup: Lookup,
    semantic_weight: float,
    bonus: Callable[[float], float],
    when: bool = False,
) -> tuple[list[tuple[str, float]], dict[str, dict[str, float]]]:
    """Re-rank ``fused`` (memory id, fused score) with the conversation around each memory, best first.

    ``lookup(ids)`` gives the cosine of memories no search found (the replies); ``bonus(epoch)`` their
    date bonus, as ``fuse`` gave the others. ``when``: the question asks for a time (``dates.asks_when``).
    Also returns what the stage added to each memory (``answer``, ``chat``, ``turn``; ``semantic`` for a
    reply no search found), which the page shows as why a memory was recalled.
    """
    if not fused:
        return [], {}
    scores = dict(fused)
    rows = session.exec(
        select(Memory.id, Memory.chat_id, Memory.message_id, Memory.text).where(col(Memory.id).in_(list(scores)))
    )
    chat_of: dict[str, str] = {}
    text_of: dict[str, str] = {}
    questions: dict[str, str] = {}  # message id → memory id
    for memory_id, chat_id, message_id, text in rows:
        chat_of[memory_id], text_of[memory_id] = chat_id or "", text
        if message_id and _asks(text):
            questions[message_id] = memory_id
    followed = set(sorted(questions.values(), key=lambda i: scores[i], reverse=True)[:QUESTIONS_FOLLOWED])
    replies = _replies(session, questions, scope)
    parts: dict[str, dict[str, float]] = {}
    new = [reply for reply in replies if reply[0] not in scores and reply[3] in followed]
    if new:
        cosines = lookup([reply[0] for reply in new])
        for memory_id, chat_id, text, _, created in new:
            scores[memory_id] = semantic_weight * cosines.get(memory_id, 0.0) + bonus(created)
            chat_of[memory_id], text_of[memory_id] = chat_id, text
            parts[memory_id] = {"semantic": cosines.get(memory_id, 0.0)}
    base = dict(scores)
    for memory_id, _, _, question, _ in replies:
        if memory_id in scores:
            scores[memory_id] += ANSWER_SHARE * base[question]
            parts.setdefault(memory_id, {})["answer"] = ANSWER_SHARE * base[question]
    best_in_chat: dict[str, float] = {}
    for memory_id, score in scores.items():
        chat = chat_of.get(memory_id) or memory_id  # a memory from no chat is its own group
        best_in_chat[chat] = max(best_in_chat.get(chat, score), score)
    ranked = {}
    for memory_id, score in scores.items():
        added = parts.setdefault(memory_id, {})
        added["chat"] = CHAT_SHARE * best_in_chat[chat_of.get(memory_id) or memory_id]
        added["turn"] = _prior(text_of.get(memory_id, ""), when)
        ranked[memory_id] = score + added["chat"] + added["turn"]
    return sorted(ranked.items(), key=lambda item: item[1], reverse=True), parts
