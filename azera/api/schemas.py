"""What the REST API takes and answers: typed models, so ``/api/docs`` shows the real shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Health(BaseModel):
    """``GET /health``: for container health checks; nothing private."""

    status: str = Field(description='"ok", or "degraded" when the database does not answer')


class MoodChange(BaseModel):
    """Body of POST /api/status/mood."""

    persona: str = Field(default="azera", max_length=64)
    mood: str = Field(max_length=32)


class ReflectRequest(BaseModel):
    """Body of POST /api/journal/trigger."""

    persona: str = Field(default="azera", max_length=64)


class MentalStateOut(BaseModel):
    """An AI persona's mental state, and whether it is writing right now."""

    persona_id: str
    mood: str
    valence: float
    arousal: float
    energy: float
    focus: float
    last_interaction: float = Field(description="epoch seconds of the last exchange (0: never)")
    updated: float
    dreaming: bool
    reflecting: bool


class AllMentalStates(BaseModel):
    """``GET /api/status`` without a persona: every AI persona."""

    personas: list[MentalStateOut]


class DreamOut(BaseModel):
    """A dream."""

    id: str
    persona_id: str
    title: str
    content: str
    emotion: str
    themes: list[str]
    source: str
    created_at: datetime


class EntryOut(BaseModel):
    """A journal entry: a reflection, an imported entry or a compiled journal-mode article."""

    id: str
    persona_id: str
    title: str
    content: str
    mood: str
    insights: list[str]
    kind: str
    source: str
    created_at: datetime


class ImportOut(BaseModel):
    """What an archive import did."""

    imported: int
    duplicates: int
    ids: list[str]


class NewMemory(BaseModel):
    """Body of POST /api/memories."""

    text: str = Field(min_length=1, max_length=20_000)
    persona: str = Field(default="azera", max_length=64)
    kind: str = Field(default="fact", max_length=16)


class MemoryAdded(BaseModel):
    """A memory saved (and whether the indexes took it at once)."""

    id: str
    indexed: bool


class IndexState(BaseModel):
    """How far indexing has come: memories waiting, all memories, and why indexing fails ('' when it works)."""

    waiting: int
    total: int
    problem: str


class RecalledOut(BaseModel):
    """A memory recall chose, and why."""

    id: str
    text: str
    kind: str
    created_at: str
    speaker: str
    score: float
    sources: dict[str, float] = Field(description="each search's own score: semantic (cosine), lexical (bm25)")
    context: dict[str, float] = Field(
        default_factory=dict,
        description="what the conversation around it added: answer (a share of the question it answers), "
        "chat (a share of its chat's best), turn (length, question mark, saying when)",
    )
