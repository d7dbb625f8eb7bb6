"""Knowledge base: uploads checked, chunked (~500 tokens, 50 overlap), indexed, listed, deleted."""

import pytest
from sqlmodel import select

from azera.db.engine import session_scope
from azera.db.models import Memory
from azera.errors import ServiceError
from azera.memory import documents
from azera.runtime import runtime
from tests.pdf_maker import make_pdf

LONG_TEXT = "\n\n".join(
    f"Chapter {n}. The lighthouse keeper of Vardø wrote about storms, seabirds and the ferry schedule. " * 12
    for n in range(1, 9)
)


def test_text_and_pdf_are_extracted() -> None:
    assert documents.extract_text("notes.md", "# Title\nBody ✓".encode()) == "# Title\nBody ✓"
    pdf = make_pdf(["The recipe needs 300 g of rye flour.", "Bake for 50 minutes."])
    assert "rye flour" in documents.extract_text("recipe.pdf", pdf)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("photo.png", b"\x89PNG", "only .txt, .md and .pdf"),
        ("blob.txt", b"abc\x00\x01\x02", "looks binary"),
        ("latin.txt", "café".encode("latin-1"), "not UTF-8"),
        ("fake.pdf", b"hello, not a pdf", "not a PDF"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", "damaged PDF|no extractable text"),
        ("huge.txt", b"a" * (documents.MAX_BYTES + 1), "the limit is 10 MB"),
    ],
)
def test_bad_uploads_are_refused_with_a_reason(name: str, data: bytes, message: str) -> None:
    with pytest.raises(ServiceError, match=message):
        documents.extract_text(name, data)


@pytest.mark.parametrize("name", ["../../etc/passwd.txt", "a/b.txt", "..", ""])
def test_path_traversal_is_refused(name: str) -> None:
    with pytest.raises(ServiceError):
        documents.safe_name(name)


def test_chunks_are_about_500_tokens_with_overlap() -> None:
    count = documents.minilm_token_counter()
    chunks = documents.chunk_text(LONG_TEXT, count)
    assert len(chunks) >= 3
    assert all(count(chunk) <= 500 for chunk in chunks)
    assert max(count(chunk) for chunk in chunks) > 350
    assert chunks[0][-40:] in LONG_TEXT and any(chunks[0][-30:] in later for later in chunks[1:2])  # overlap


def test_add_recall_list_and_delete_a_document(prepared, monkeypatch: pytest.MonkeyPatch) -> None:
    from azera.config import get_settings

    monkeypatch.setenv("AZERA_MEMORY_MIN_AGE_SECONDS", "0")  # recall the document right away
    get_settings.cache_clear()
    service = runtime().memory()
    seen: list[tuple[int, int]] = []
    count = documents.add_document(
        service,
        persona_id="areza",
        filename="vardo.md",
        data=LONG_TEXT.encode(),
        progress=lambda d, t: seen.append((d, t)),
        batch=2,
    )
    assert seen[-1] == (count, count) and len(seen) > 1
    with session_scope() as session:
        assert [(d.name, d.chunks) for d in documents.list_documents(session, "areza")] == [("vardo.md", count)]
        assert documents.list_documents(session, "azera") == []
    recalled = service.retrieve("Who wrote about seabirds in Vardø?", persona_id="areza", chat_id="x")
    assert recalled and recalled[0].kind == "document"
    assert service.retrieve("seabirds Vardø", persona_id="azera", chat_id="x") == []  # persona isolation
    with pytest.raises(ServiceError, match="already in this persona's knowledge base"):
        documents.add_document(service, persona_id="areza", filename="vardo.md", data=b"again")
    assert documents.delete_document(service, persona_id="areza", name="vardo.md") == count
    assert service.retrieve("seabirds Vardø", persona_id="areza", chat_id="x") == []
    assert service.lexical.count("memories") == 0 and service.semantic.count() == 0


def test_a_failed_upload_leaves_nothing_behind(prepared) -> None:
    service = runtime().memory()
    lexical, service.lexical = service.lexical, None  # the index is down
    with pytest.raises(ServiceError, match="nothing was kept"):
        documents.add_document(service, persona_id="azera", filename="notes.txt", data=LONG_TEXT.encode())
    service.lexical = lexical
    with session_scope() as session:
        assert session.exec(select(Memory).where(Memory.kind == "document")).all() == []


def test_find_memories_filters(prepared) -> None:
    from datetime import timedelta

    from azera.db.models import utcnow
    from azera.memory.service import MemoryService

    with session_scope() as session:
        MemoryService.record(
            session,
            text="Old dream of whales",
            persona_id="azera",
            kind="dream",
            created_at=utcnow() - timedelta(days=10),
        )
        MemoryService.record(session, text="Fresh fact about whales", persona_id="areza", tier="archive")
        assert [m.text for m in documents.find_memories(session, text="WHALES")] == [
            "Fresh fact about whales",
            "Old dream of whales",
        ]
        assert [m.kind for m in documents.find_memories(session, persona_id="azera")] == ["dream"]
        assert [m.tier for m in documents.find_memories(session, tier="archive")] == ["archive"]
        since = f"{utcnow() - timedelta(days=1):%Y-%m-%d}"
        assert [m.text for m in documents.find_memories(session, since=since)] == ["Fresh fact about whales"]
        with pytest.raises(ServiceError, match="YYYY-MM-DD"):
            documents.find_memories(session, since="last tuesday")
