"""Fast-forward a persona's inner life on a scratch data folder: ten idle hours in about a minute.

A short opening conversation goes through the real reply path (real model, mood inference, energy),
then the real tick loop runs with a simulated clock, one tick per simulated second. Before each
simulated second the dreams and reflections started by the loop are awaited, so the model's real
writing time never lets the simulated clock run ahead of it.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

OPENING = [
    "Good evening! I spent the afternoon repairing my grandmother's old sailing boat.",
    "The hull had a crack near the keel, so I sanded it and filled it with epoxy.",
    "She named the boat Marigold, after the flowers she grew by the harbour.",
    "Next weekend I want to take Marigold out to the lighthouse island.",
    "I'm a bit nervous, I haven't sailed alone since I was a teenager.",
    "Thanks for listening. I'm going to rest now, talk tomorrow.",
]
SAMPLE_EVERY_SECONDS = 600


def default_start(hour: int) -> datetime:
    """Today, three hours before the journal hour (local time), so a ten-hour run crosses it."""
    today = datetime.now().astimezone().replace(minute=0, second=0, microsecond=0)
    return today.replace(hour=hour) - timedelta(hours=3)


def _redate_conversation(chat_id: str, start: datetime) -> None:
    """Date the opening conversation at the simulated start (scratch data only)."""
    from sqlmodel import col, select

    from azera.db.engine import session_scope
    from azera.db.models import ChatMessage, Memory

    with session_scope() as session:
        messages = session.exec(
            select(ChatMessage).where(ChatMessage.chat_id == chat_id).order_by(col(ChatMessage.created_at))
        ).all()
        for n, message in enumerate(messages):
            message.created_at = start.astimezone(UTC) + timedelta(seconds=30 * n)
            session.add(message)
        for memory in session.exec(select(Memory).where(Memory.chat_id == chat_id)):
            memory.created_at = start.astimezone(UTC)
            session.add(memory)


def _written(start: datetime) -> list[dict[str, Any]]:
    from sqlmodel import select

    from azera.db.engine import session_scope
    from azera.db.models import Dream, JournalEntry, epoch

    with session_scope() as session:
        rows = [("dream", d.created_at, d.title) for d in session.exec(select(Dream))]
        rows += [(f"journal ({e.source})", e.created_at, e.title) for e in session.exec(select(JournalEntry))]
    return sorted(
        (
            {"minute": round((epoch(created) - start.timestamp()) / 60), "kind": kind, "title": title}
            for kind, created, title in rows
        ),
        key=lambda row: row["minute"],
    )


async def simulate(persona_id: str, *, minutes: int, exchanges: int, start: datetime) -> dict[str, Any]:
    """Run the simulation in this process (which must already point at a scratch data folder)."""
    from azera.config import get_settings
    from azera.conversation.replies import generate_reply
    from azera.db.engine import in_db
    from azera.mind import loop
    from azera.runtime import runtime
    from azera.services import chats
    from azera.services.personas import get_persona
    from azera.services.startup import prepare

    wall = time.perf_counter()
    await asyncio.to_thread(prepare)
    await in_db(lambda session: get_persona(session, persona_id))
    clock = [start.timestamp()]
    service = runtime().mind
    service.clock = lambda: clock[0]
    await asyncio.to_thread(service.get, persona_id)  # only this persona lives in the simulation
    trajectory: list[dict[str, Any]] = []

    def sample() -> None:
        state = service.get(persona_id)
        minute = round((clock[0] - start.timestamp()) / 60)
        values = {key: round(getattr(state, key), 3) for key in ("energy", "focus", "valence", "arousal")}
        trajectory.append({"minute": minute, "mood": state.mood} | values)

    sample()
    chat = await in_db(lambda session: chats.create_chat(session, ai_persona_id=persona_id, title="simulation"))
    for line in OPENING[:exchanges]:
        async for _event in generate_reply(chat.id, text=line):
            pass
        clock[0] += 60  # a minute per exchange
    await asyncio.to_thread(_redate_conversation, chat.id, start)
    sample()
    stages = runtime().stages()

    async def fast_sleep(seconds: float) -> None:
        for stage in stages:
            await stage.wait()
        before = clock[0]
        clock[0] += seconds
        if int((clock[0] - start.timestamp()) // SAMPLE_EVERY_SECONDS) > int(
            (before - start.timestamp()) // SAMPLE_EVERY_SECONDS
        ):
            sample()

    ticks = int(start.timestamp() + minutes * 60 - clock[0])
    await loop.tick_loop(service, clock=lambda: clock[0], sleep=fast_sleep, ticks=max(0, ticks), stages=stages)
    for stage in stages:
        await stage.wait()
    events = await asyncio.to_thread(_written, start)
    return {
        "persona": persona_id,
        "start": start.isoformat(timespec="minutes"),
        "minutes": minutes,
        "exchanges": min(exchanges, len(OPENING)),
        "journal_hour": get_settings().journal_hour,
        "dreams": sum(e["kind"] == "dream" for e in events),
        "journal_entries": sum(e["kind"].startswith("journal") for e in events),
        "events": events,
        "trajectory": trajectory,
        "wall_seconds": round(time.perf_counter() - wall, 1),
    }


def run_simulation(persona_id: str, *, minutes: int, exchanges: int, start: str = "") -> dict[str, Any]:
    """Point the process at a scratch data folder and simulate (the ``mind simulate`` command)."""
    from azera.bench import scratch_settings
    from azera.config import get_settings

    os.environ.setdefault("AZERA_MAX_REPLY_TOKENS", "96")  # short replies keep the opening quick
    os.environ.setdefault("AZERA_MEMORY_MIN_AGE_SECONDS", "0")
    folder = scratch_settings("azera-simulate-")
    if start:
        hour, _, minute = start.partition(":")
        moment = datetime.now().astimezone().replace(hour=int(hour), minute=int(minute or 0), second=0, microsecond=0)
    else:
        moment = default_start(get_settings().journal_hour)
    result = asyncio.run(simulate(persona_id, minutes=minutes, exchanges=exchanges, start=moment))
    return result | {"data_dir": folder}
