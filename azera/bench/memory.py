"""``python -m azera bench memory``: long-term recall on a conversation dataset, hybrid vs single sources."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from azera.bench import scratch_settings

# Each source alone is measured as it ranks (``context`` False) and with recall's last stage, the
# conversation around each memory (``memory.context``), which any source can be given.
MODES: dict[str, dict] = {
    "hybrid": {},
    "hybrid_without_context": {"context": False},
    "hybrid_with_chat_messages": {"sources": ("semantic", "lexical", "chats")},
    "lexical_only": {"sources": ("lexical",), "context": False},
    "lexical_with_context": {"sources": ("lexical",)},
    "semantic_only": {"sources": ("semantic",), "min_similarity": 0.0, "context": False},
    "semantic_with_context": {"sources": ("semantic",), "min_similarity": 0.0},
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


USER_SPEAKERS, AI_SPEAKERS = {"user", "human"}, {"assistant", "ai", "bot"}


def _roles(conversation: dict) -> tuple[str, str]:
    """The user's and the AI's names: 'user'/'assistant' speakers, or two people (the first to speak is the user)."""
    names = [str(t.get("speaker", "")) for s in conversation["sessions"] for t in s["turns"]]
    people = [n for n in dict.fromkeys(names) if n.lower() not in USER_SPEAKERS | AI_SPEAKERS and n]
    return (people[0] if people else ""), (people[1] if len(people) > 1 else "")


def _load_into_azera(data: dict) -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
    """Personas, chats, messages and memories from the dataset; returns turn→memory, conversation→persona maps.

    Each conversation is an AI persona with a user persona of its own: turns of 'user' (or of the first person
    to speak) are the user's messages, the rest the AI's, each under its speaker's name, as a memory says who
    said it.
    """
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
            user_name, ai_name = _roles(conversation)
            session.add(Persona(id=persona_id, name=ai_name or persona_id, kind="ai", body=""))
            session.add(Persona(id=f"{persona_id}-user", name=user_name or "Protag", kind="user", body=""))
            session.flush()
            for session_data in conversation["sessions"]:
                start = datetime.fromisoformat(str(session_data["time"]).replace("Z", "+00:00")).astimezone(UTC)
                chat = Chat(
                    title=str(session_data.get("id", "session")),
                    ai_persona_id=persona_id,
                    user_persona_id=f"{persona_id}-user",
                )
                session.add(chat)
                parent = None
                for n, turn in enumerate(session_data["turns"]):
                    text = str(turn.get("text", "")).strip()
                    if not text:
                        continue
                    at = start + timedelta(seconds=n)
                    speaker = str(turn.get("speaker", "user"))
                    role = (
                        "user"
                        if speaker.lower() in USER_SPEAKERS or (speaker and speaker == user_name)
                        else "assistant"
                    )
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


@dataclasses.dataclass
class _Score:
    """How one question went: the first evidence rank (0: none), all evidence found, foreign results."""

    rank: int
    complete: bool
    leaks: int
    empty: bool

    @classmethod
    def of(cls, ids: list[str], evidence: set[str], own: set[str]) -> _Score:
        ranks = [rank for rank, memory_id in enumerate(ids, start=1) if memory_id in evidence]
        return cls(ranks[0] if ranks else 0, evidence <= set(ids), sum(i not in own for i in ids), not ids)


def _summary(scores: list[_Score], k: int) -> dict[str, object]:
    count = max(len(scores), 1)
    return {
        "questions": len(scores),
        f"recall_any@{k}": round(sum(bool(s.rank) for s in scores) / count, 3),
        f"recall_all@{k}": round(sum(s.complete for s in scores) / count, 3),
        "mrr": round(sum(1 / s.rank for s in scores if s.rank) / count, 3),
        "cross_conversation_results": sum(s.leaks for s in scores),
        "questions_with_nothing": sum(s.empty for s in scores),
    }


def bench_memory(dataset: Path, *, k: int = 10) -> dict[str, object]:
    """Recall@k (any / all evidence), MRR and cross-conversation leaks for each retrieval mode.

    Questions with a ``category`` field are also summed up per category (``by_category``).
    """
    data = load_dataset(dataset)
    scratch_settings()
    from azera.runtime import runtime
    from azera.services.startup import prepare

    prepare()
    turn_memory, persona_of, memories_of = _load_into_azera(data)
    service = runtime().memory()
    started = time.perf_counter()
    indexed = service.reindex()
    index_seconds = time.perf_counter() - started
    results: dict[str, dict[str, object]] = {}
    for mode, options in MODES.items():
        scores: list[tuple[str, _Score]] = []
        for question in data["questions"]:
            persona_id = persona_of[str(question["conversation"])]
            recalled = service.retrieve(
                str(question["question"]), persona_id=persona_id, chat_id="bench-new-chat", limit=k, **options
            )
            ids = [memory.id for memory in recalled]
            evidence = {turn_memory[str(turn)] for turn in question["evidence"]}
            scores.append((str(question.get("category") or ""), _Score.of(ids, evidence, memories_of[persona_id])))
        results[mode] = _summary([score for _, score in scores], k)
        categories = sorted({category for category, _ in scores if category})
        if categories:
            results[mode]["by_category"] = {
                category: _summary([score for c, score in scores if c == category], k) for category in categories
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


def format_report(report: dict) -> str:
    """The report as a plain-text table: one row per mode, and per mode and category."""
    k = report["k"]
    lines = [
        f"{report['dataset']}: {report['conversations']} conversations, {report['memories']} memories, "
        f"{report['questions']} questions, indexed in {report['index_seconds']} s",
        f"{'mode':<30} {'category':<26} {'n':>4} {f'any@{k}':>7} {f'all@{k}':>7} {'MRR':>6} {'leaks':>5}",
    ]
    for mode, summary in report["modes"].items():
        rows = [("all", summary), *summary.get("by_category", {}).items()]
        for category, row in rows:
            lines.append(
                f"{mode:<30} {category:<26} {row['questions']:>4} {row[f'recall_any@{k}']:>7.3f} "
                f"{row[f'recall_all@{k}']:>7.3f} {row['mrr']:>6.3f} {row['cross_conversation_results']:>5}"
            )
    return "\n".join(lines)
