"""``bench quality``: does the model converse? Fixed companion-style prompts through the real reply path.

Each prompt goes through ``generate_reply`` (persona prompt, memory recall, mood, sampling, loop guard) on a
scratch data folder with a seeded sampler, and the reply is scored by code, not taste: loops, empty replies,
replies cut by the token cap, facts from memory used, persona breaks ("as an AI", "I'm just a computer").
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import statistics
import time
from collections import Counter
from typing import Any

from azera.bench import scratch_settings

SEED = 1234


@dataclasses.dataclass(frozen=True)
class Prompt:
    """One test message; ``before`` are earlier user turns, ``expect`` words of which one must appear."""

    kind: str
    text: str
    before: tuple[str, ...] = ()
    expect: tuple[str, ...] = ()
    persona: str = "azera"


# What the persona has been told in earlier conversations (recalled through the memory index).
MEMORIES = (
    "My dog is called Biscuit, he's a three-year-old beagle who steals socks.",
    "I work night shifts as a nurse at the hospital in Bergen.",
    "My favourite band is Radiohead, I saw them live in 2017.",
    "My sister Ingrid just moved to Trondheim for a new job.",
    "I'm allergic to peanuts, so I have to read every label.",
    "I've been learning the cello for about eight months now.",
    "My partner Tomas and I are getting married in June.",
    "I'm growing tomatoes and basil on my balcony this summer.",
    "My grandmother taught me to bake cardamom buns every Christmas.",
    "I'm training for a half marathon in Oslo in September.",
)

PROMPTS = (
    Prompt(
        "greeting", "Hi Azera! My sister Ingrid just moved to Trondheim and I miss her. Any idea how to stay close?"
    ),
    Prompt("greeting", "Good morning! How are you today?"),
    Prompt("greeting", "Hey, it's me again. Long day."),
    Prompt("news", "Guess what, I got the job I interviewed for last week!"),
    Prompt("news", "I finally finished painting the living room. It's a deep green now."),
    Prompt("news", "My flight got cancelled and I'm stuck at the airport overnight."),
    Prompt("advice", "I keep procrastinating on my thesis. How do I get started each day?"),
    Prompt("advice", "What's a good way to say no to extra work without upsetting my boss?"),
    Prompt("advice", "I can't sleep lately. Any ideas that actually help?"),
    Prompt(
        "follow-up",
        "What should I pack for it?",
        before=("I'm going hiking in the Lofoten islands next week for five days.",),
        expect=("lofoten", "hik", "rain", "boots", "layers", "jacket", "weather"),
    ),
    Prompt(
        "follow-up",
        "Which one would you pick?",
        before=("I'm choosing between learning Spanish or Japanese this year.",),
        expect=("spanish", "japanese"),
    ),
    Prompt("memory", "What's my dog's name again?", expect=("biscuit",)),
    Prompt("memory", "Do you remember which city I work in?", expect=("bergen",)),
    Prompt("memory", "Which band did I tell you I love most?", expect=("radiohead",)),
    Prompt("memory", "Where did my sister move to?", expect=("trondheim",)),
    Prompt("memory", "Can you suggest a snack for me? Keep my allergy in mind.", expect=("peanut",)),
    Prompt("memory", "What instrument am I learning?", expect=("cello",)),
    Prompt("memory", "Who am I marrying in June?", expect=("tomas",)),
    Prompt("memory", "What race am I training for?", expect=("marathon", "oslo")),
    Prompt("memory", "What am I growing on my balcony?", expect=("tomato", "basil")),
    Prompt("memory", "What did my grandmother teach me to bake?", expect=("cardamom", "bun")),
    Prompt("role-play", "Let's play a game: you're a pirate captain and I'm a new deckhand. Give me my first order."),
    Prompt("role-play", "Describe the tavern we just walked into.", persona="areza"),
    Prompt("emotional", "I feel really lonely since I moved to this city."),
    Prompt("emotional", "My cat died this morning. I don't know what to do with myself."),
    Prompt("emotional", "I'm so nervous about my exam tomorrow."),
    Prompt("factual", "What's the capital of Australia?", expect=("canberra",)),
    Prompt("factual", "How many minutes are in a day?", expect=("1440", "1,440")),
)

# Broader than what the llama.cpp guard bans (azera.llm.loops.BANNED_PHRASES), so the guard is measured, not assumed.
PERSONA_BREAKS = re.compile(
    r"\bas an? (ai|artificial|digital|virtual|computer|language model|chatbot|machine)\b"
    r"|\bi'?m (just |only |merely )?an? (\w+ )?(ai|artificial|computer|language model|program|assistant|chatbot|bot)\b"
    r"|\bi am (just |only |merely )?an? (\w+ )?(ai|artificial|computer|language model|program|assistant|chatbot|bot)\b"
    r"|\bcomputer program\b|\blanguage model\b|\bi('m| am) not (a )?(human|real person)\b"
    r"|\bi (don'?t|do not) have (personal |any |real )?(feelings|emotions|preferences|opinions)\b",
    re.IGNORECASE,
)


def is_loop(text: str) -> bool:
    """A loop by the scorer's own rule: some 6-word run appears three times or more."""
    words = re.findall(r"[\w']+", text.lower())
    grams = Counter(tuple(words[i : i + 6]) for i in range(len(words) - 5))
    return bool(grams) and max(grams.values()) >= 3


class _Recording:
    """The real backend with a fixed seed, counting tokens and timing the first one of each call."""

    def __init__(self, backend: Any, seed: int) -> None:
        self.backend, self.seed, self.calls = backend, seed, []
        self.name = backend.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    async def stream_chat(self, model, messages, *, sampling, stop):
        call = {"tokens": 0, "start": time.perf_counter(), "first": 0.0, "end": 0.0, "cap": sampling.max_tokens}
        self.calls.append(call)
        async for piece in self.backend.stream_chat(
            model, messages, sampling=sampling.model_copy(update={"seed": self.seed}), stop=stop
        ):
            call["tokens"] += 1
            call["end"] = time.perf_counter()
            call["first"] = call["first"] or call["end"]
            yield piece


def score(prompt: Prompt, text: str, status: str, call: dict[str, float]) -> dict[str, Any]:
    """One reply's figures."""
    lowered = text.lower()
    generation = call["end"] - call["first"]
    return {
        "kind": prompt.kind,
        "prompt": prompt.text,
        "reply": text,
        "status": status,
        "loop": status == "repeated" or is_loop(text),
        "empty": not text.strip(),
        "cap_hit": call["tokens"] >= call["cap"],
        "hit": any(word in lowered for word in prompt.expect) if prompt.expect else None,
        "persona_break": bool(PERSONA_BREAKS.search(text)),
        "words": len(text.split()),
        "ttft_s": call["first"] - call["start"] if call["first"] else 0.0,
        "tokens_per_s": (call["tokens"] - 1) / generation if call["tokens"] > 1 and generation > 0 else 0.0,
    }


def _rate(rows: list[dict[str, Any]], key: str) -> float:
    return round(sum(1 for row in rows if row[key]) / len(rows), 3) if rows else 0.0


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rates over all replies; fact accuracy over the memory prompts, context over the rest that expect words."""
    memory = [row for row in rows if row["kind"] == "memory"]
    other = [row for row in rows if row["hit"] is not None and row["kind"] != "memory"]
    return {
        "replies": len(rows),
        "loop_rate": _rate(rows, "loop"),
        "empty_rate": _rate(rows, "empty"),
        "cap_hit_rate": _rate(rows, "cap_hit"),
        "memory_fact_accuracy": _rate(memory, "hit"),
        "context_accuracy": _rate(other, "hit"),
        "persona_breaks": sum(1 for row in rows if row["persona_break"]),
        "mean_reply_words": round(statistics.mean(row["words"] for row in rows), 1) if rows else 0.0,
        "ttft_s_median": round(statistics.median(row["ttft_s"] for row in rows), 3) if rows else 0.0,
        "tokens_per_s_median": round(statistics.median(row["tokens_per_s"] for row in rows), 1) if rows else 0.0,
    }


def _seed_memories(memory: Any) -> None:
    """The facts above as the user's messages in a chat two days ago, recorded and indexed as the app does."""
    from datetime import timedelta

    from azera.db import engine as db_engine
    from azera.db.models import utcnow
    from azera.services import chats
    from azera.services import messages as message_service

    with db_engine.session_scope() as session:
        chat = chats.create_chat(session, ai_persona_id="azera", title="two days ago")
        ids = []
        for n, text in enumerate(MEMORIES):
            said = message_service.add_user_message(session, chat.id, text)
            said.created_at = utcnow() - timedelta(days=2, minutes=-n)
            session.add(said)
            ids.append(
                memory.record(
                    session,
                    text=text,
                    persona_id="azera",
                    kind="conversation",
                    chat_id=chat.id,
                    message_id=said.id,
                    source="user",
                    created_at=said.created_at,
                ).id
            )
    memory.index(ids)


async def _run_model(model: str, backend: Any) -> dict[str, Any]:
    from azera.conversation.replies import generate_reply
    from azera.db import engine as db_engine
    from azera.runtime import runtime
    from azera.services import chats

    memory = runtime().memory()
    if memory is not None:
        await asyncio.to_thread(_seed_memories, memory)
    recording = _Recording(backend, SEED)
    rows = []
    for prompt in PROMPTS:
        with db_engine.session_scope() as session:
            chat = chats.create_chat(session, ai_persona_id=prompt.persona, title=f"quality {prompt.kind}")
            chats.set_chat_model(session, chat.id, model=model, temperature=None)
            chat_id = chat.id
        for text in (*prompt.before, prompt.text):
            done = None
            async for event in generate_reply(chat_id, text=text, backend=recording):
                if event.kind == "done":
                    done = event
                    break  # the mood call after "done" is not part of the reply
        assert done is not None
        rows.append(score(prompt, done.content, done.status, recording.calls[-1]))
    return {"model": model, **summarize(rows), "rows": rows}


async def bench_quality(models: list[str] | None = None) -> dict[str, Any]:
    """Run the prompt set on each model (default: every installed one), each on its own scratch data folder."""
    # Memories younger than a day are not recalled here: each prompt meets only the seeded memories (two days
    # old), as a new chat would, never the replies to the bench's earlier prompts.
    os.environ["AZERA_MEMORY_MIN_AGE_SECONDS"] = "86400"
    scratch_settings()
    from azera.runtime import runtime

    names = models or [info.name for info in await runtime().backend.list_models()]
    results = []
    for name in names:
        scratch_settings()
        from azera.services.startup import prepare

        prepare()
        results.append(await _run_model(name, runtime().backend))
    return {"seed": SEED, "prompts": len(PROMPTS), "models": results}


def format_report(result: dict[str, Any]) -> str:
    """A table per model, then any reply that looped, broke character or missed its fact."""
    keys = [key for key in result["models"][0] if key not in ("model", "rows")] if result["models"] else []
    lines = [f"{'':<24}" + "".join(f"{m['model'][:28]:>30}" for m in result["models"])]
    lines += [f"{key:<24}" + "".join(f"{m[key]!s:>30}" for m in result["models"]) for key in keys]
    for model in result["models"]:
        for row in model["rows"]:
            if row["loop"] or row["empty"] or row["persona_break"] or row["hit"] is False or row["cap_hit"]:
                flags = [k for k in ("loop", "empty", "persona_break", "cap_hit") if row[k]]
                flags += ["missed"] if row["hit"] is False else []
                lines.append(f"\n[{model['model']}] {','.join(flags)} — {row['prompt']}\n  {row['reply'][:300]}")
    return "\n".join(lines)
