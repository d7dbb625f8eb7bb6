"""``python -m azera bench memory``: long-term recall on a conversation dataset, hybrid vs single sources."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from azera.bench import _scratch_settings

MODES: dict[str, dict] = {
    "hybrid": {},
    "hybrid_seed_cut_0.45": {"min_similarity": 0.45},
    "lexical_only": {"sources": ("lexical",)},
    "semantic_only": {"sources": ("semantic",), "min_similarity": 0.0},
    "semantic_only_seed_cut_0.45": {"sources": ("semantic",), "min_similarity": 0.45},
}


class DatasetError(ValueError):
    """The dataset file does not follow the expected format; the message says where."""


def load_dataset(path: Path) -> dict:
    """Read and check a dataset: conversations → sessions → turns, and questions with evidence turn ids."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DatasetError(f"{path}: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("conversations"), list):
        raise DatasetError(f"{path}: expected an object with 'conversations' and 'questions' lists")
    turn_ids: set[str] = set()
    for c, conversation in enumerate(data["conversations"]):
        for s, session in enumerate(conversation.get("sessions", [])):
            where = f"conversations[{c}].sessions[{s}]"
            try:
                datetime.fromisoformat(str(session["time"]).replace("Z", "+00:00"))
                turn_ids.update(str(turn["id"]) for turn in session["turns"] if str(turn.get("text", "")).strip())
            except (KeyError, TypeError, ValueError) as error:
                raise DatasetError(
                    f"{path}: {where} needs 'time' (ISO-8601) and 'turns' with id/speaker/text"
                ) from error
    for q, question in enumerate(data.get("questions", [])):
        if not question.get("question") or not question.get("evidence"):
            raise DatasetError(f"{path}: questions[{q}] needs 'question' and 'evidence'")
        missing = set(map(str, question["evidence"])) - turn_ids
        if missing:
            raise DatasetError(f"{path}: questions[{q}] names unknown turns {sorted(missing)[:3]}")
    return data


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:40] or "c"


def _load_into_azera(data: dict) -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
    """Personas, chats, messages and memories from the dataset; returns turn→memory, conversation→persona maps."""
    from azera.db.engine import session_scope
    from azera.db.models import Chat, ChatMessage, Memory, Persona

    turn_memory: dict[str, str] = {}
    persona_of: dict[str, str] = {}
    memories_of: dict[str, set[str]] = {}
    with session_scope() as session:
        for conversation in data["conversations"]:
            persona_id = f"conv-{_slug(str(conversation['id']))}"
            persona_of[str(conversation["id"])] = persona_id
            memories_of[persona_id] = set()
            session.add(Persona(id=persona_id, name=persona_id, kind="ai", body=""))
            session.flush()
            for session_data in conversation["sessions"]:
                start = datetime.fromisoformat(str(session_data["time"]).replace("Z", "+00:00")).astimezone(UTC)
                chat = Chat(
                    title=str(session_data.get("id", "session")), ai_persona_id=persona_id, user_persona_id="protag"
                )
                session.add(chat)
                parent = None
                for n, turn in enumerate(session_data["turns"]):
                    text = str(turn.get("text", "")).strip()
                    if not text:
                        continue
                    at = start + timedelta(seconds=n)
                    role = "user" if str(turn.get("speaker", "user")).lower() in ("user", "human") else "assistant"
                    message = ChatMessage(chat_id=chat.id, parent_id=parent, role=role, content=text, created_at=at)
                    memory = Memory(
                        text=text,
                        persona_id=persona_id,
                        chat_id=chat.id,
                        message_id=message.id,
                        kind="conversation",
                        source=role,
                        created_at=at,
                    )
                    session.add_all([message, memory])
                    parent = message.id
                    turn_memory[str(turn["id"])] = memory.id
                    memories_of[persona_id].add(memory.id)
    return turn_memory, persona_of, memories_of


def bench_memory(dataset: Path, *, k: int = 10) -> dict[str, object]:
    """Recall@k (any / all evidence), MRR and cross-conversation leaks for each retrieval mode."""
    data = load_dataset(dataset)
    _scratch_settings()
    from azera.memory.registry import get_memory_service
    from azera.services.startup import prepare

    prepare()
    turn_memory, persona_of, memories_of = _load_into_azera(data)
    service = get_memory_service()
    started = time.perf_counter()
    indexed = service.reindex()
    index_seconds = time.perf_counter() - started
    results: dict[str, dict[str, float]] = {}
    for mode, options in MODES.items():
        any_hits = all_hits = leaks = empty = 0
        reciprocal = 0.0
        for question in data["questions"]:
            persona_id = persona_of[str(question["conversation"])]
            recalled = service.retrieve(
                str(question["question"]), persona_id=persona_id, chat_id="bench-new-chat", limit=k, **options
            )
            ids = [memory.id for memory in recalled]
            evidence = {turn_memory[str(turn)] for turn in question["evidence"]}
            ranks = [rank for rank, memory_id in enumerate(ids, start=1) if memory_id in evidence]
            any_hits += bool(ranks)
            all_hits += evidence <= set(ids)
            reciprocal += 1 / ranks[0] if ranks else 0.0
            leaks += sum(memory_id not in memories_of[persona_id] for memory_id in ids)
            empty += not ids
        count = max(len(data["questions"]), 1)
        results[mode] = {
            f"recall_any@{k}": round(any_hits / count, 3),
            f"recall_all@{k}": round(all_hits / count, 3),
            "mrr": round(reciprocal / count, 3),
            "cross_conversation_results": leaks,
            "questions_with_nothing": empty,
        }
    return {
        "dataset": str(dataset),
        "conversations": len(data["conversations"]),
        "memories": indexed,
        "questions": len(data["questions"]),
        "k": k,
        "index_seconds": round(index_seconds, 2),
        "modes": results,
    }
